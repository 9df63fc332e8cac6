"""A head's taxonomy travels with its weights.

Heads built from a taxonomy keep a taxonomy record
(:func:`~mmhier.taxonomy.embedded.taxonomy_record`: the YAML text, name,
source file and hashes) as a persistent ``uint8`` buffer ``taxonomy_record``
(UTF-8 JSON), so every state dict and checkpoint carries it. It is a plain
tensor: tracers (``get_flops.py``, ONNX export) and
``torch.load(weights_only=True)`` take it like any buffer. Loading weights
into a head built from a different tree fails with
:class:`~mmhier.taxonomy.TaxonomyMismatchError` naming both taxonomies instead
of silently mixing up classifiers; the head keeps its own record. Tools
rebuild a model from config + checkpoint where the taxonomy file is missing
(:func:`~mmhier.taxonomy.embedded.register_taxonomy_records`).

Checkpoints of earlier versions carry only the tree hash, as a buffer
``taxonomy_tree_hash``; it is still checked.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Optional

import torch
from torch import nn

from mmhier.taxonomy import Taxonomy, TaxonomyMismatchError
from mmhier.taxonomy.embedded import is_taxonomy_record, taxonomy_record

#: Buffer holding the taxonomy record.
RECORD_BUFFER = 'taxonomy_record'
#: Buffer of the tree hash in checkpoints of earlier versions.
LEGACY_HASH_BUFFER = 'taxonomy_tree_hash'


def encode_record(record: Mapping[str, Any]) -> torch.Tensor:
    """A taxonomy record as a ``uint8`` tensor of UTF-8 JSON."""
    data = json.dumps(dict(record), ensure_ascii=False, sort_keys=True).encode('utf-8')
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).clone()


def decode_record(value: Any) -> Optional[dict]:
    """The record in a ``taxonomy_record`` buffer value, ``None`` if it holds none."""
    if not isinstance(value, torch.Tensor) or value.dtype != torch.uint8 or value.dim() != 1:
        return None
    try:
        record = json.loads(bytes(value.cpu().tolist()).decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        return None
    return record if is_taxonomy_record(record) else None


def checkpoint_taxonomy_records(state_dict: Mapping[str, Any]) -> dict[str, dict]:
    """The taxonomy records of a state dict, by key.

    Args:
        state_dict: A model's (or checkpoint's) state dict.

    Returns:
        ``{key: record}`` for every ``*taxonomy_record`` buffer holding one.
    """
    records = {}
    for key, value in state_dict.items():
        if key.rsplit('.', 1)[-1] == RECORD_BUFFER:
            record = decode_record(value)
            if record is not None:
                records[key] = record
    return records


class TaxonomyStateMixin:
    """Mixin for ``nn.Module`` heads with a ``taxonomy`` attribute: call
    :meth:`register_taxonomy_record` in ``__init__``; the record is saved with
    the weights and checked on load."""

    taxonomy: Taxonomy

    def register_taxonomy_record(self) -> None:
        """Store the taxonomy record as the persistent buffer ``taxonomy_record``."""
        nn.Module.register_buffer(self, RECORD_BUFFER,
                                  encode_record(taxonomy_record(self.taxonomy)))

    def _check_tree(self, theirs: str, what: str) -> None:
        if theirs == self.taxonomy.tree_hash:
            return
        raise TaxonomyMismatchError(
            f'the checkpoint was trained with {what}, tree hash {theirs[:12]}, but this '
            f'{type(self).__name__} is built from taxonomy {self.taxonomy.name!r} '
            f'({self.taxonomy.source}), tree hash {self.taxonomy.tree_hash[:12]}: their '
            'classifiers and output channels differ. Build the model with the taxonomy '
            "the checkpoint was trained with (`mmhier-taxonomy show FILE` prints a "
            "file's hash), or remove the file so that the checkpoint's embedded copy "
            'is used.')

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        legacy = prefix + LEGACY_HASH_BUFFER
        if legacy in state_dict:
            digest = state_dict.pop(legacy)
            self._check_tree(bytes(digest.to(torch.uint8).tolist()).hex(), 'a taxonomy')
            state_dict.setdefault(prefix + RECORD_BUFFER, None)
        key = prefix + RECORD_BUFFER
        if key in state_dict:
            record = decode_record(state_dict[key])
            if record is not None:
                self._check_tree(record['tree_hash'], f"taxonomy {record.get('name')!r} "
                                 f"({record.get('source')})")
            # Same tree: the head keeps its own record (the mappings or the
            # file's text may differ; the classifier layout does not).
            state_dict[key] = getattr(self, RECORD_BUFFER)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)
