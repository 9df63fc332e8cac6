"""Carry a trained model to a grown taxonomy: state-dict surgery for
:class:`~mmhier.models.heads.HierarchicalDecodeHead` checkpoints.

The old taxonomy is the one embedded in the checkpoint (the head's
``taxonomy_record``); :func:`~mmhier.taxonomy.diff.diff_taxonomies` says which
classifier of the new tree continues which old one and which old output
channel each new output channel continues. Then:

- everything outside the head's branches (backbone, neck, the head's shared
  layer, auxiliary heads) is copied;
- a classifier whose children are unchanged gets its old branch whole;
- a classifier whose children changed keeps its adaptation, and the
  classifier rows and transposed-convolution entries of its carried
  children; new outputs start as a fresh head would (classifier weights
  ~ N(0, 0.01), zero bias, nearest upsampling);
- a new classifier gets a fresh branch shaped like the root's (kaiming
  convolutions, unit norms, fresh classifier);
- removed classifiers are dropped; the new taxonomy's record is stored.

Heads with one branch per classifier (the paper's layout) are supported;
a checkpoint of a head with ``shared_branch`` is refused with an explanation.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import torch

from mmhier.models.heads.taxonomy_state import RECORD_BUFFER, decode_record, encode_record
from mmhier.taxonomy import Taxonomy, TaxonomyError
from mmhier.taxonomy.diff import TaxonomyDiff, diff_taxonomies
from mmhier.taxonomy.embedded import taxonomy_from_record, taxonomy_record


class MigrationError(TaxonomyError):
    """A checkpoint cannot be carried to the new taxonomy (no mmhier head,
    several heads, or a head layout migration does not handle)."""


@dataclass
class Migration:
    """The migrated state dict and what happened to every classifier.

    Attributes:
        state_dict: The new state dict.
        diff: The taxonomy diff it follows.
        copied: New classifier names whose branch was copied whole.
        adapted: ``{name: (carried outputs, new outputs)}`` for changed
            classifiers.
        fresh: New classifiers (fresh branches).
        dropped: Old classifiers without a place in the new tree.
    """

    state_dict: dict
    diff: TaxonomyDiff
    copied: list[str] = field(default_factory=list)
    adapted: dict[str, tuple[int, int]] = field(default_factory=dict)
    fresh: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def format_text(self) -> str:
        """What was carried, for the tool's report."""
        lines = [f'copied whole ({len(self.copied)}): {", ".join(self.copied) or "-"}',
                 f'adapted ({len(self.adapted)}): ' + (', '.join(
                     f'{name} ({carried} of {total} outputs carried)'
                     for name, (carried, total) in self.adapted.items()) or '-'),
                 f'new branches ({len(self.fresh)}): {", ".join(self.fresh) or "-"}',
                 f'dropped ({len(self.dropped)}): {", ".join(self.dropped) or "-"}']
        return '\n'.join(lines)


def _head_prefix(state_dict: Mapping[str, Any]) -> str:
    heads = [key[:-len(RECORD_BUFFER)] for key in state_dict
             if key.rsplit('.', 1)[-1] == RECORD_BUFFER
             and decode_record(state_dict[key]) is not None]
    if len(heads) != 1:
        raise MigrationError(
            f'the checkpoint holds {len(heads)} mmhier heads with an embedded taxonomy '
            f'({", ".join(h.rstrip(".") for h in heads) or "none"}); migration needs '
            'exactly one (a HierarchicalDecodeHead trained with mmhier)')
    return heads[0]


def _fresh_like(value: torch.Tensor, key: str, generator: torch.Generator) -> torch.Tensor:
    """A freshly initialised tensor for a new branch's parameter or buffer,
    as the head's own initialisation would make it."""
    name = key.rsplit('.', 1)[-1]
    if 'classify' in key:
        return torch.randn(value.shape, generator=generator) * 0.01 if name == 'weight' \
            else torch.zeros_like(value)
    if 'upsample' in key:
        return _nearest(value.shape[0]) if name == 'weight' else torch.zeros_like(value)
    if name == 'weight' and value.dim() == 4:        # conv: kaiming normal, fan out
        fan_out = value.shape[0] * value.shape[2] * value.shape[3]
        return torch.randn(value.shape, generator=generator) * math.sqrt(2.0 / fan_out)
    if name in ('weight', 'running_var'):            # norms
        return torch.ones_like(value)
    return torch.zeros_like(value)                   # biases, means, batch counts


def _nearest(k: int) -> torch.Tensor:
    weight = torch.zeros(k, k, 2, 2)
    weight[torch.arange(k), torch.arange(k)] = 1.0
    return weight


def migrate_state_dict(state_dict: Mapping[str, Any], new: Taxonomy,
                       seed: int = 0) -> Migration:
    """Carry a HierarchicalDecodeHead state dict to the taxonomy ``new``.

    Args:
        state_dict: The trained model's state dict (with its head's embedded
            taxonomy record).
        new: The grown taxonomy.
        seed: Seed of the new outputs' and branches' initialisation.

    Returns:
        The new state dict and a report (see the module docstring).

    Raises:
        MigrationError: No or several mmhier heads, or a head with fused
            (``shared_branch``) classifiers.
    """
    prefix = _head_prefix(state_dict)
    old = taxonomy_from_record(decode_record(state_dict[prefix + RECORD_BUFFER]),
                               origin='the checkpoint')
    if any(key.startswith(prefix + 'fused.') for key in state_dict):
        raise MigrationError(
            'the checkpoint is of a head with shared_branch (fused classifiers); '
            'migration carries heads with one branch per classifier - train that layout '
            '(shared_branch=None) to grow its taxonomy later')
    diff = diff_taxonomies(old, new)
    to_new = dict(diff.renamed)
    old_of = {to_new.get(c.node, c.node): c for c in old.classifiers}
    changes = {c.node: c for c in diff.classifiers_changed}
    branch = re.compile(re.escape(prefix) + r'branches\.(\d+)\.(.*)')
    out: dict = {}
    old_branches: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in state_dict.items():
        match = branch.fullmatch(key)
        if match:
            old_branches.setdefault(int(match[1]), {})[match[2]] = value
        elif key != prefix + RECORD_BUFFER:
            out[key] = value
    if sorted(old_branches) != list(range(old.num_classifiers)):
        raise MigrationError(
            f'the checkpoint\'s head {prefix.rstrip(".") or "(top level)"} has '
            f'{len(old_branches)} classifier branches for the {old.num_classifiers} '
            f'classifiers of its taxonomy {old.name!r}: not a HierarchicalDecodeHead '
            'with one branch per classifier (a FlatTaxonomyHead has none); migration '
            'carries those heads only')
    out[prefix + RECORD_BUFFER] = encode_record(taxonomy_record(new))
    generator = torch.Generator().manual_seed(seed)
    template = old_branches[0]
    result = Migration(out, diff)
    for c in new.classifiers:
        target = f'{prefix}branches.{c.index}.'
        source = old_of.get(c.node)
        if source is None:                                   # a new classifier
            for name, value in template.items():
                shape = value.shape
                if name.startswith(('classify.', 'upsample.')):   # K outputs
                    shape = (c.num_outputs, *value.shape[1:])
                if name == 'upsample.weight':
                    shape = (c.num_outputs, c.num_outputs, *value.shape[2:])
                out[target + name] = _fresh_like(torch.empty(shape, dtype=value.dtype),
                                                 name, generator).to(value.dtype)
            result.fresh.append(c.node)
            continue
        weights = old_branches[source.index]
        change = changes.get(c.node)
        if change is None:
            for name, value in weights.items():
                out[target + name] = value
            result.copied.append(c.node)
            continue
        carried = [(new_k, old_k) for new_k, old_k in enumerate(change.channel_map)
                   if old_k is not None]
        new_k = torch.tensor([a for a, _ in carried], dtype=torch.long)
        old_k = torch.tensor([b for _, b in carried], dtype=torch.long)
        for name, value in weights.items():
            if name.startswith('classify.'):
                shape = (c.num_outputs, *value.shape[1:])
                fresh = _fresh_like(torch.empty(shape, dtype=value.dtype), name, generator)
                fresh[new_k] = value[old_k]
            elif name == 'upsample.weight':
                fresh = _nearest(c.num_outputs).to(value.dtype)
                fresh[new_k.view(-1, 1), new_k.view(1, -1)] = \
                    value[old_k.view(-1, 1), old_k.view(1, -1)]
            elif name == 'upsample.bias':
                fresh = torch.zeros(c.num_outputs, dtype=value.dtype)
                fresh[new_k] = value[old_k]
            else:                                            # the adaptation
                fresh = value
            out[target + name] = fresh
        result.adapted[c.node] = (len(carried), c.num_outputs)
    result.dropped = list(diff.classifiers_removed)
    return result
