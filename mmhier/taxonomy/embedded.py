"""Taxonomies that travel inside checkpoints.

A model's head stores a *taxonomy record* with its weights (see
``mmhier.models.heads.taxonomy_state``): the taxonomy's YAML text, its name,
the file it was read from and its hashes. A checkpoint is then usable where
the taxonomy file is not: on another machine, after the checkout moved, from
an installed wheel.

Before a tool builds a model from a config, it registers the records of the
checkpoint it is going to load (:func:`register_taxonomy_records`). When
:func:`~mmhier.taxonomy.load_taxonomy` then finds no file for a reference
such as ``'taxonomies/tiny_street.yaml'``, it takes the registered copy whose
source has the same path or file name. A file that *does* exist always wins;
if its tree differs from the checkpoint's, loading the weights fails with
:class:`~mmhier.taxonomy.TaxonomyMismatchError` as before.
"""
from __future__ import annotations

import os
from typing import Any, Mapping, Optional

from mmhier.taxonomy.errors import TaxonomyError, TaxonomyMismatchError
from mmhier.taxonomy.taxonomy import Taxonomy

#: Version of the record layout.
RECORD_FORMAT = 1

#: Registered copies: ``(record source, origin, taxonomy)``.
_REGISTERED: list[tuple[str, str, Taxonomy]] = []


def taxonomy_text(taxonomy: Taxonomy) -> str:
    """The YAML text of a taxonomy: the file's own text (comments kept) when
    it was read from text, else its :meth:`~Taxonomy.to_dict` as YAML."""
    text = getattr(taxonomy, 'text', None)
    if text:
        return text
    import yaml
    return yaml.safe_dump(taxonomy.to_dict(), sort_keys=False, allow_unicode=True)


def taxonomy_record(taxonomy: Taxonomy) -> dict[str, Any]:
    """What a checkpoint stores about its taxonomy (plain strings and ints,
    loadable with ``torch.load(weights_only=True)``)."""
    return {'format': RECORD_FORMAT, 'name': taxonomy.name, 'source': taxonomy.source,
            'tree_hash': taxonomy.tree_hash, 'content_hash': taxonomy.content_hash,
            'yaml': taxonomy_text(taxonomy)}


def is_taxonomy_record(value: Any) -> bool:
    """Whether ``value`` looks like a :func:`taxonomy_record`."""
    return isinstance(value, Mapping) and isinstance(value.get('yaml'), str) \
        and isinstance(value.get('tree_hash'), str)


def taxonomy_from_record(record: Mapping[str, Any], origin: str) -> Taxonomy:
    """Rebuild the taxonomy of a record.

    Args:
        record: A :func:`taxonomy_record`.
        origin: Where the record comes from (a checkpoint path), for messages.

    Raises:
        TaxonomyError: The embedded text is invalid or does not give the
            recorded tree.
    """
    source = f"{origin} (embedded copy of {record.get('source', '?')})"
    taxonomy = Taxonomy.from_string(record['yaml'], source)
    if taxonomy.tree_hash != record['tree_hash']:
        raise TaxonomyMismatchError(
            f'{origin}: the embedded taxonomy {record.get("name")!r} gives tree hash '
            f'{taxonomy.tree_hash[:12]}, but the checkpoint records '
            f'{record["tree_hash"][:12]}; the checkpoint is damaged or was edited')
    return taxonomy


def register_taxonomy_records(records: Mapping[str, Mapping[str, Any]],
                              origin: str) -> list[Taxonomy]:
    """Make the taxonomies of a checkpoint available to
    :func:`~mmhier.taxonomy.load_taxonomy` for references whose file is missing.

    Args:
        records: Taxonomy records by where they were found (state-dict key).
        origin: The checkpoint, for messages.

    Returns:
        The registered taxonomies.
    """
    registered = []
    for record in records.values():
        taxonomy = taxonomy_from_record(record, origin)
        source = str(record.get('source', ''))
        _REGISTERED[:] = [r for r in _REGISTERED if r[0] != source]
        _REGISTERED.append((source, origin, taxonomy))
        registered.append(taxonomy)
    return registered


def registered_taxonomy(reference: str) -> Optional[Taxonomy]:
    """The registered copy for a reference whose file does not exist.

    A copy matches when its recorded source is the reference's absolute path,
    or ends with the reference (``taxonomies/x.yaml``), or has the same file
    name (``x.yaml``) or stem (a shipped name ``x``).

    Raises:
        TaxonomyError: Copies of different trees match the reference.
    """
    reference = os.fspath(reference)
    wanted = os.path.abspath(reference)
    name = os.path.basename(reference)
    stem = os.path.splitext(name)[0]
    tiers: list[list[tuple[str, str, Taxonomy]]] = [[], [], []]
    for entry in _REGISTERED:
        source = entry[0]
        if source == wanted or source.endswith(os.sep + reference.lstrip('./')):
            tiers[0].append(entry)
        elif os.path.basename(source) == name:
            tiers[1].append(entry)
        elif os.path.splitext(os.path.basename(source))[0] == stem:
            tiers[2].append(entry)
    for matches in tiers:
        trees = {t.tree_hash for _, _, t in matches}
        if len(trees) > 1:
            raise TaxonomyError(
                f'{reference}: no such file, and the checkpoints carry several '
                f"different taxonomies of that name ({', '.join(o for _, o, _ in matches)}); "
                'give the taxonomy file explicitly')
        if matches:
            return matches[-1][2]
    return None


def clear_registered() -> None:
    """Forget every registered copy (tests)."""
    _REGISTERED.clear()
