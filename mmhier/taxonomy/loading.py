"""Finding and loading taxonomies: paths, shipped names, embedded copies.

:func:`load_taxonomy` is what heads, losses, datasets, transforms and metrics
call with the ``taxonomy=`` of a config: a path, a shipped name or a loaded
:class:`~mmhier.taxonomy.Taxonomy`. Files are loaded once per process; where
no file exists, a copy registered from a checkpoint
(:mod:`mmhier.taxonomy.embedded`) is used.
"""
from __future__ import annotations

import os
from typing import Union

from mmhier.taxonomy.embedded import registered_taxonomy
from mmhier.taxonomy.errors import TaxonomyFileError
from mmhier.taxonomy.taxonomy import Taxonomy

_LOADED: dict[tuple[str, int, int], Taxonomy] = {}


def _candidate_paths(reference: str) -> list[str]:
    """Where a taxonomy reference may be, in order (see :func:`resolve_taxonomy_path`)."""
    from mmhier.resources import shipped_taxonomy_dir
    candidates = [os.path.abspath(reference)]
    if os.path.isabs(reference):
        return candidates
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    candidates.append(os.path.join(checkout, reference))
    shipped = shipped_taxonomy_dir()
    parts = reference.replace(os.sep, '/').split('/')
    if len(parts) == 2 and parts[0] == 'taxonomies':  # 'taxonomies/<file>'
        candidates.append(os.path.join(shipped, parts[1]))
    elif len(parts) == 1:  # '<file>.yaml' or a shipped name
        name = parts[0] if parts[0].endswith(('.yaml', '.yml')) else parts[0] + '.yaml'
        candidates.append(os.path.join(shipped, name))
    return list(dict.fromkeys(candidates))


def shipped_taxonomy_names() -> tuple[str, ...]:
    """Names of the taxonomies shipped with mmhier (``load_taxonomy(name)``)."""
    from mmhier.resources import shipped_taxonomy_dir
    folder = shipped_taxonomy_dir()
    if not os.path.isdir(folder):
        return ()
    return tuple(sorted(os.path.splitext(f)[0] for f in os.listdir(folder)
                        if f.endswith('.yaml')))


def resolve_taxonomy_path(path: Union[str, os.PathLike]) -> str:
    """Find a taxonomy file.

    Looked at, in order: the path as given (relative to the working
    directory); relative to the mmhier checkout (so configs can say
    ``'taxonomies/cs_vistas_gtsdb.yaml'`` from any directory); the shipped
    taxonomies (``mmhier.resources.shipped_taxonomy_dir()``) for
    ``'taxonomies/<file>'``, ``'<file>.yaml'`` and a bare shipped name such
    as ``'cs_vistas_gtsdb'`` (this works from an installed wheel too).

    Raises:
        TaxonomyFileError: No location has the file.
    """
    reference = os.fspath(path)
    candidates = _candidate_paths(reference)
    for candidate in candidates:
        if os.path.isfile(candidate):
            return os.path.realpath(candidate)  # one cache entry per file
    names = ', '.join(shipped_taxonomy_names()) or 'none found'
    raise TaxonomyFileError(f'{reference}: no such taxonomy file (looked at '
                            f"{' and '.join(candidates)}); give a path to a taxonomy "
                            f'YAML file or a shipped name ({names})')


def load_taxonomy(taxonomy: Union[str, os.PathLike, Taxonomy]) -> Taxonomy:
    """A taxonomy from a path or shipped name, loaded once per process;
    instances pass through.

    Heads, losses, datasets and transforms all name their taxonomy by path;
    they share one :class:`Taxonomy` (and its cached tables) as long as the
    file is unchanged. Where no file is found (:func:`resolve_taxonomy_path`),
    a copy embedded in a checkpoint that a tool registered is used
    (:mod:`mmhier.taxonomy.embedded`).

    Args:
        taxonomy: A YAML path, a shipped name (``'cs_vistas_gtsdb'``) or a
            :class:`Taxonomy`.

    Raises:
        TaxonomyError: The file is missing (and no embedded copy matches) or
            invalid.
    """
    if isinstance(taxonomy, Taxonomy):
        return taxonomy
    try:
        path = resolve_taxonomy_path(taxonomy)
    except TaxonomyFileError:
        embedded = registered_taxonomy(os.fspath(taxonomy))
        if embedded is None:
            raise
        return embedded
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _LOADED:
        _LOADED[key] = Taxonomy.from_file(path)
    return _LOADED[key]
