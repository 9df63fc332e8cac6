"""Which taxonomy encoded a sample and which dataset it belongs to: the checks
shared by the loss and the metric, and samples of the synthetic demo
(MultiTaxonomyDataset of all three datasets) carrying both."""
import pytest

from mmhier.structures import (SampleDatasetKeyError, SampleTaxonomyMismatchError,
                               check_sample_taxonomy, sample_dataset_key, sample_name,
                               sample_provenance)
from mmhier.taxonomy import (Taxonomy, TaxonomyMismatchError, UnknownDatasetError,
                             load_taxonomy)
from tests.conftest import TAXONOMIES

TINY = TAXONOMIES / 'tiny_street.yaml'
KEYS = ('city_like', 'vistas_like', 'gtsdb_like')


@pytest.fixture(scope='module')
def tax():
    return load_taxonomy(TINY)


@pytest.fixture(scope='module')
def other():
    """Another tree: one more leaf under 'traffic sign front'."""
    text = TINY.read_text().replace('keep right, keep left]', 'keep right, keep left, '
                                    'no entry]')
    return Taxonomy.from_string(text, source='other_street.yaml')


def test_provenance_is_the_tree_hash_and_file(tax):
    assert sample_provenance(tax) == {'taxonomy_hash': tax.tree_hash,
                                      'taxonomy_source': tax.source}


def test_sample_name():
    assert sample_name({'img_path': 'a.png', 'seg_map_path': 'a_gt.png'}) == 'a.png'
    assert sample_name({'seg_map_path': 'a_gt.png'}) == 'a_gt.png'
    assert sample_name({}) == 'a data sample'
    assert sample_name({}, 3) == 'data sample 3 of the batch'


def test_same_tree_passes_another_is_refused(tax, other):
    check_sample_taxonomy({'img_path': 'a.png'}, tax, 'X')             # unknown: passes
    check_sample_taxonomy(sample_provenance(tax), tax, 'X')
    renamed = Taxonomy.from_string(TINY.read_text().replace('name: tiny_street',
                                                            'name: renamed'), 'copy.yaml')
    check_sample_taxonomy(sample_provenance(renamed), tax, 'X')        # same tree
    with pytest.raises(SampleTaxonomyMismatchError) as info:
        check_sample_taxonomy(dict(sample_provenance(other), img_path='b.png'), tax,
                              'HierarchicalLoss')
    assert isinstance(info.value, TaxonomyMismatchError)
    message = str(info.value)
    assert message.startswith('b.png: its labels were encoded with taxonomy '
                              f'other_street.yaml (tree hash {other.tree_hash[:12]}), but '
                              f"HierarchicalLoss uses taxonomy 'tiny_street' ({tax.source}, "
                              f'tree hash {tax.tree_hash[:12]})')
    with pytest.raises(SampleTaxonomyMismatchError, match='data sample 2 of the batch: '
                                                          '.*with taxonomy another taxonomy'):
        check_sample_taxonomy({'taxonomy_hash': 'abc'}, tax, 'X', index=2)


def test_dataset_key_missing_or_unknown():
    assert sample_dataset_key({'dataset_key': 'city_like'}, KEYS, 'X') == 'city_like'
    with pytest.raises(SampleDatasetKeyError) as info:
        sample_dataset_key({'img_path': 'a.png'}, KEYS, 'HierarchicalLoss', hint='or Y')
    assert isinstance(info.value, UnknownDatasetError)
    assert str(info.value) == (
        "a.png: no dataset_key in the data sample, so HierarchicalLoss cannot tell which "
        "dataset it belongs to (known: 'city_like', 'vistas_like', 'gtsdb_like'); load it "
        'with an mmhier dataset (TaxonomySegDataset and its subclasses set dataset_key) '
        'and pack it with PackTaxonomySegInputs; or Y')
    with pytest.raises(SampleDatasetKeyError) as info:
        sample_dataset_key({'dataset_key': 'city', 'img_path': 'a.png'}, KEYS, 'Metric')
    assert str(info.value).startswith(
        "a.png: Metric knows no dataset 'city' (the sample's dataset_key; known: "
        "'city_like', 'vistas_like', 'gtsdb_like'); did you mean 'city_like'?")

    class Missing(SampleDatasetKeyError):
        pass
    with pytest.raises(Missing):
        sample_dataset_key({}, KEYS, 'X', missing_error=Missing)
    with pytest.raises(SampleDatasetKeyError, match=r"knows no dataset \['city_like'\]"):
        sample_dataset_key({'dataset_key': ['city_like']}, KEYS, 'X')


# ------------------------------------------------------------- the demo
@pytest.fixture(scope='module')
def demo_batch(tmp_path_factory):
    """One packed sample of each demo dataset, through one MultiTaxonomyDataset."""
    from mmseg.utils import register_all_modules

    import mmhier.datasets  # noqa: F401  (registers)
    from mmhier.datasets import MultiTaxonomyDataset
    from mmhier.demo import DemoDataConfig, make_demo_data
    register_all_modules(init_default_scope=True)
    root = tmp_path_factory.mktemp('demo')
    make_demo_data(root, DemoDataConfig(seed=0, num_city=2, num_vistas=2, num_gtsdb=2,
                                        num_val=1))
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                dict(type='PackTaxonomySegInputs')]
    common = dict(taxonomy=str(TINY), pipeline=pipeline)
    dataset = MultiTaxonomyDataset([
        dict(type='CityscapesTaxonomyDataset', dataset_key='city_like',
             data_root=str(root / 'city_like'), split='train', **common),
        dict(type='MapillaryVistasTaxonomyDataset', dataset_key='vistas_like',
             data_root=str(root / 'vistas_like'), split='training', **common),
        dict(type='GTSDBTaxonomyDataset', dataset_key='gtsdb_like',
             data_root=str(root / 'gtsdb_like'), split='train', **common)])
    starts = [0] + dataset.cumulative_sizes[:-1]
    return [dataset[i]['data_samples'] for i in starts]


def test_demo_samples_carry_key_and_taxonomy(demo_batch, tax):
    assert [s.metainfo['dataset_key'] for s in demo_batch] == list(KEYS)
    for sample in demo_batch:
        assert sample.metainfo['taxonomy_hash'] == tax.tree_hash
        assert sample.metainfo['taxonomy_source'] == tax.source
        check_sample_taxonomy(sample.metainfo, tax, 'X')
        assert sample_dataset_key(sample.metainfo, KEYS, 'X') == sample.metainfo[
            'dataset_key']


def test_demo_batch_trains_and_evaluates(demo_batch, tax, other):
    """The loss and the metric accept the demo's samples and refuse them for
    another tree."""
    import torch
    from mmseg.registry import METRICS, MODELS

    import mmhier.evaluation  # noqa: F401  (registers)
    import mmhier.models  # noqa: F401
    loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=tax))
    assert loss.sample_rows([s.metainfo for s in demo_batch]) == [0, 1, 2]
    metric = METRICS.build(dict(type='HierarchicalIoUMetric', taxonomy=tax))
    dicts = []
    for sample in demo_batch:
        packed = sample.clone()
        packed.pred_sem_seg = packed.gt_sem_seg.clone()
        packed.pred_sem_seg.data = loss.tables.codec.decode(packed.gt_sem_seg.data)[0]
        packed.pred_sem_seg.data = torch.where(packed.pred_sem_seg.data < 0,
                                               torch.ones_like(packed.pred_sem_seg.data),
                                               packed.pred_sem_seg.data)
        dicts.append(packed.to_dict())
    metric.process({}, dicts)
    scores = metric.evaluate(3)
    assert scores['hier/gtsdb_like/aAcc'] == 100.0
    foreign = MODELS.build(dict(type='HierarchicalLoss', taxonomy=other))
    with pytest.raises(SampleTaxonomyMismatchError, match='city_like'):
        foreign.sample_rows([s.metainfo for s in demo_batch])
    with pytest.raises(SampleTaxonomyMismatchError):
        METRICS.build(dict(type='HierarchicalIoUMetric', taxonomy=other)).process(
            {}, dicts)
