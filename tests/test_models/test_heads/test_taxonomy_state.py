"""Weights carry their taxonomy: loading into another tree is refused, and the
embedded copy rebuilds the model where the taxonomy file is missing."""
import shutil

import pytest
import torch
from mmengine.runner.checkpoint import load_checkpoint, save_checkpoint
from mmseg.registry import MODELS

import mmhier.models  # noqa: F401
from mmhier.apis import register_checkpoint_taxonomies
from mmhier.models.heads.taxonomy_state import checkpoint_taxonomy_records
from mmhier.taxonomy import TaxonomyFileError, TaxonomyMismatchError, load_taxonomy
from mmhier.taxonomy.embedded import clear_registered
from tests.conftest import TAXONOMIES


def head(taxonomy, kind='HierarchicalDecodeHead'):
    extra = dict(branch=dict(width=8)) if kind == 'HierarchicalDecodeHead' else {}
    return MODELS.build(dict(type=kind, taxonomy=str(taxonomy), in_channels=8,
                             channels=8, norm_cfg=dict(type='BN'), **extra))


@pytest.mark.parametrize('kind', ['HierarchicalDecodeHead', 'FlatTaxonomyHead'])
def test_record_is_stored_and_same_taxonomy_loads(tmp_path, kind):
    a, b = head(TAXONOMIES / 'tiny_street.yaml', kind), \
        head(TAXONOMIES / 'tiny_street.yaml', kind)
    records = checkpoint_taxonomy_records(a.state_dict())
    assert list(records) == ['taxonomy_record']
    assert records['taxonomy_record']['tree_hash'] == a.taxonomy.tree_hash
    assert records['taxonomy_record']['yaml'] == a.taxonomy.text
    path = str(tmp_path / 'a.pth')
    save_checkpoint({'state_dict': a.state_dict()}, path)
    torch.load(path, weights_only=True)  # plain types only: safe to load
    load_checkpoint(b, path, map_location='cpu', strict=True)
    assert torch.equal(a.conv_seg.weight if kind == 'FlatTaxonomyHead'
                       else a.branches[0].classify.weight,
                       b.conv_seg.weight if kind == 'FlatTaxonomyHead'
                       else b.branches[0].classify.weight)


def test_other_taxonomy_is_refused_naming_both(tmp_path):
    path = str(tmp_path / 'tiny.pth')
    save_checkpoint({'state_dict': head(TAXONOMIES / 'tiny_street.yaml').state_dict()},
                    path)
    other = head(TAXONOMIES / 'cityscapes_extended.yaml')
    with pytest.raises(TaxonomyMismatchError,
                       match="trained with taxonomy 'tiny_street'.*built from taxonomy "
                             "'cityscapes_extended'"):
        load_checkpoint(other, path, map_location='cpu')


def test_checkpoints_of_earlier_versions_are_still_checked(tmp_path):
    a = head(TAXONOMIES / 'tiny_street.yaml')
    state = {k: v for k, v in a.state_dict().items() if k != 'taxonomy_record'}
    state['taxonomy_tree_hash'] = torch.tensor(list(bytes.fromhex(a.taxonomy.tree_hash)),
                                               dtype=torch.uint8)
    head(TAXONOMIES / 'tiny_street.yaml').load_state_dict(state, strict=True)
    with pytest.raises(TaxonomyMismatchError, match='cityscapes_extended'):
        head(TAXONOMIES / 'cityscapes_extended.yaml').load_state_dict(state)


def test_model_rebuilds_from_the_checkpoint_where_the_file_is_gone(tmp_path):
    moved = tmp_path / 'tiny_street.yaml'
    shutil.copy(TAXONOMIES / 'tiny_street.yaml', moved)
    trained = head(moved)
    path = str(tmp_path / 'iter_1.pth')
    save_checkpoint({'state_dict': trained.state_dict()}, path)
    moved.unlink()
    clear_registered()
    try:
        with pytest.raises(TaxonomyFileError):
            head(moved)
        [tax] = register_checkpoint_taxonomies(path)
        assert tax.tree_hash == trained.taxonomy.tree_hash
        rebuilt = head(moved)
        load_checkpoint(rebuilt, path, map_location='cpu', strict=True)
        assert rebuilt.taxonomy is load_taxonomy(moved)
        assert torch.equal(rebuilt.branches[0].classify.weight,
                           trained.branches[0].classify.weight)
    finally:
        clear_registered()


def test_same_tree_with_other_mappings_loads_and_keeps_its_own_record(tmp_path):
    """A record of the same tree but other text (here: a comment and another
    description) is accepted; the head keeps its own record."""
    text = (TAXONOMIES / 'tiny_street.yaml').read_text(encoding='utf-8')
    edited = tmp_path / 'tiny_street.yaml'
    edited.write_text('# edited copy\n' + text, encoding='utf-8')
    a, b = head(TAXONOMIES / 'tiny_street.yaml'), head(edited)
    assert a.taxonomy_record.numel() != b.taxonomy_record.numel()
    own = b.taxonomy_record.clone()
    b.load_state_dict(a.state_dict(), strict=True)
    assert torch.equal(b.taxonomy_record, own)


def test_record_survives_tracing():
    """The record is a plain uint8 buffer: tracers take the state dict."""
    module = head(TAXONOMIES / 'tiny_street.yaml').eval()
    assert all(isinstance(v, torch.Tensor) for v in module.state_dict(keep_vars=True).values())

    class RootLogits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = module

        def forward(self, x):
            return self.head.forward([x])[0]

    from mmengine.analysis import FlopAnalyzer
    flops = FlopAnalyzer(RootLogits(), (torch.randn(1, 8, 4, 4),)).total()
    assert flops > 0
