"""Weights remember their taxonomy: loading into another tree is refused."""
import pytest
import torch
from mmengine.runner.checkpoint import load_checkpoint, save_checkpoint
from mmseg.registry import MODELS

import mmhier.models  # noqa: F401
from mmhier.taxonomy import TaxonomyMismatchError
from tests.conftest import TAXONOMIES


def head(name):
    return MODELS.build(dict(type='HierarchicalDecodeHead',
                             taxonomy=str(TAXONOMIES / f'{name}.yaml'), in_channels=8,
                             channels=8, branch=dict(width=8), norm_cfg=dict(type='BN')))


def test_hash_is_stored_and_same_taxonomy_loads(tmp_path):
    a, b = head('tiny_street'), head('tiny_street')
    digest = bytes(a.state_dict()['taxonomy_tree_hash'].tolist()).hex()
    assert digest == a.taxonomy.tree_hash
    path = str(tmp_path / 'a.pth')
    save_checkpoint({'state_dict': a.state_dict()}, path)
    load_checkpoint(b, path, map_location='cpu')
    assert torch.equal(a.branches[0].classify.weight, b.branches[0].classify.weight)


def test_other_taxonomy_is_refused_with_a_clear_message(tmp_path):
    path = str(tmp_path / 'tiny.pth')
    save_checkpoint({'state_dict': head('tiny_street').state_dict()}, path)
    other = head('cityscapes_extended')
    with pytest.raises(TaxonomyMismatchError, match="taxonomy 'cityscapes_extended'"):
        load_checkpoint(other, path, map_location='cpu')
