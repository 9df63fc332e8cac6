"""A head's taxonomy travels with its weights.

Heads built from a taxonomy keep the SHA-256 of its tree as a buffer, so every
checkpoint stores it, and loading weights into a head built from a different
tree fails with a clear message instead of silently mixing up classifiers.
"""
from __future__ import annotations

import torch
from torch import nn

from mmhier.taxonomy import Taxonomy, TaxonomyMismatchError

HASH_BUFFER = 'taxonomy_tree_hash'


class TaxonomyStateMixin:
    """Mixin for ``nn.Module`` heads with a ``taxonomy`` attribute.

    Call :meth:`register_taxonomy_hash` in ``__init__``.
    """

    taxonomy: Taxonomy

    def register_taxonomy_hash(self) -> None:
        """Store the taxonomy's tree hash as a persistent uint8 buffer."""
        digest = bytes.fromhex(self.taxonomy.tree_hash)
        nn.Module.register_buffer(self, HASH_BUFFER,
                                  torch.tensor(list(digest), dtype=torch.uint8))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        key = prefix + HASH_BUFFER
        if key in state_dict:
            theirs = bytes(state_dict[key].to(torch.uint8).tolist()).hex()
            if theirs != self.taxonomy.tree_hash:
                raise TaxonomyMismatchError(
                    f'the checkpoint was trained with a taxonomy whose tree hash is '
                    f'{theirs[:12]}, but this {type(self).__name__} is built from '
                    f'taxonomy {self.taxonomy.name!r} ({self.taxonomy.source}) with tree '
                    f'hash {self.taxonomy.tree_hash[:12]}: their classifiers and output '
                    'channels differ. Build the model with the taxonomy the checkpoint '
                    'was trained with (`mmhier-taxonomy show FILE` prints a file\'s hash).')
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)
