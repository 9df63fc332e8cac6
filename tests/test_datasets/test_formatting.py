"""PackTaxonomySegInputs: dataset key and the encoding taxonomy in the metainfo."""
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS

import mmhier.datasets.transforms  # noqa: F401 (registers)
from mmhier.datasets.transforms.formatting import DEFAULT_META_KEYS
from mmhier.taxonomy import TaxonomyFileError, load_taxonomy
from tests.conftest import TAXONOMIES

TINY = TAXONOMIES / 'tiny_street.yaml'


@pytest.fixture(autouse=True, scope='module')
def mmseg_scope():
    init_default_scope('mmseg')


def results(**extra):
    return dict(img=np.zeros((2, 3, 3), np.uint8), img_shape=(2, 3), ori_shape=(2, 3),
                gt_seg_map=np.full((2, 3), -1, np.int32), seg_fields=['gt_seg_map'],
                img_path='a.png', **extra)


@pytest.mark.parametrize('given', ['object', 'path'])
def test_packs_dataset_key_and_the_taxonomy_hash(given):
    tax = load_taxonomy(TINY)
    pack = TRANSFORMS.build(dict(type='PackTaxonomySegInputs'))
    out = pack(results(taxonomy=tax if given == 'object' else str(TINY),
                       dataset_key='gtsdb_like', annotation='box'))
    meta = out['data_samples'].metainfo
    assert meta['dataset_key'] == 'gtsdb_like' and meta['annotation'] == 'box'
    assert meta['taxonomy_hash'] == tax.tree_hash
    assert meta['taxonomy_source'] == tax.source
    assert 'taxonomy' not in meta                 # the object stays out of the sample
    assert {'dataset_key', 'taxonomy_hash', 'taxonomy_source'} <= set(DEFAULT_META_KEYS)


def test_sample_without_taxonomy_gets_no_hash():
    meta = TRANSFORMS.build(dict(type='PackTaxonomySegInputs'))(
        results(dataset_key='city_like'))['data_samples'].metainfo
    assert meta['dataset_key'] == 'city_like'
    assert 'taxonomy_hash' not in meta and 'taxonomy_source' not in meta


def test_custom_meta_keys_choose_what_is_packed():
    pack = TRANSFORMS.build(dict(type='PackTaxonomySegInputs',
                                 meta_keys=('img_path', 'dataset_key')))
    meta = pack(results(taxonomy=str(TINY), dataset_key='city_like'))['data_samples'].metainfo
    assert set(meta) == {'img_path', 'dataset_key'}


def test_missing_taxonomy_file_is_a_typed_error(tmp_path):
    with pytest.raises(TaxonomyFileError, match='no such taxonomy file'):
        TRANSFORMS.build(dict(type='PackTaxonomySegInputs'))(
            results(taxonomy=str(tmp_path / 'gone.yaml'), dataset_key='city_like'))
