"""A head's taxonomy travels with its weights.

Heads built from a taxonomy store a taxonomy record
(:func:`~mmhier.taxonomy.embedded.taxonomy_record`: the YAML text, name,
source file and hashes) as the module's *extra state*, so every state dict and
checkpoint carries ``<head prefix>._extra_state``. Loading weights into a head
built from a different tree fails with
:class:`~mmhier.taxonomy.TaxonomyMismatchError` naming both taxonomies
instead of silently mixing up classifiers, and tools can rebuild a model from
config + checkpoint where the taxonomy file is missing
(:func:`~mmhier.taxonomy.embedded.register_taxonomy_records`).

Checkpoints of earlier versions carry only the tree hash, as a uint8 buffer
``taxonomy_tree_hash``; it is still checked.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from mmhier.taxonomy import Taxonomy, TaxonomyMismatchError
from mmhier.taxonomy.embedded import is_taxonomy_record, taxonomy_record

#: State-dict key suffix of the extra state torch stores.
EXTRA_STATE = '_extra_state'
#: Buffer of the tree hash in checkpoints of earlier versions.
LEGACY_HASH_BUFFER = 'taxonomy_tree_hash'


def checkpoint_taxonomy_records(state_dict: Mapping[str, Any]) -> dict[str, dict]:
    """The taxonomy records of a state dict, by key.

    Args:
        state_dict: A model's (or checkpoint's) state dict.

    Returns:
        ``{key: record}`` for every ``*._extra_state`` entry holding a record.
    """
    records = {}
    for key, value in state_dict.items():
        if key.endswith(EXTRA_STATE) and isinstance(value, Mapping) \
                and is_taxonomy_record(value.get('taxonomy')):
            records[key] = dict(value['taxonomy'])
    return records


class TaxonomyStateMixin:
    """Mixin for ``nn.Module`` heads with a ``taxonomy`` attribute: the taxonomy
    record is saved with the weights and checked on load."""

    taxonomy: Taxonomy

    def get_extra_state(self) -> dict[str, Any]:
        """``{'taxonomy': record}``, saved in the state dict."""
        return {'taxonomy': taxonomy_record(self.taxonomy)}

    def set_extra_state(self, state: Any) -> None:
        """Check the saved taxonomy's tree against this head's.

        Raises:
            TaxonomyMismatchError: The trees differ.
        """
        record = state.get('taxonomy') if isinstance(state, Mapping) else None
        if is_taxonomy_record(record):
            self._check_tree(record['tree_hash'],
                             f"taxonomy {record.get('name')!r} ({record.get('source')})")

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
            self._check_tree(bytes(digest.to(torch.uint8).tolist()).hex(),
                             'a taxonomy')
            if prefix + EXTRA_STATE not in state_dict:  # nothing else to check
                state_dict[prefix + EXTRA_STATE] = None
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)
