"""HierarchicalIoUMetric on hand-built data samples of tiny_street.

Nodes (preorder): 0 root, 1 sky, 2 building, 3 vegetation, 4 sidewalk,
5 pole, 6 car, 7 person, 8 driveable, 9 road, 10 lane marking, 11 rider,
12 bicyclist, 13 motorcyclist, 14 traffic sign, 15 traffic sign back,
16 traffic sign front, 17 stop, 18 give way, 19 speed limit, 20 keep right,
21 keep left; N = 22 (box pseudo labels are node + 22).

Three samples, every pixel listed as (gt node, predicted node):

A city_like  (driveable, lane marking) ok    (driveable, sky) wrong
             (sky, sky) ok                    (rider, motorcyclist) ok
             (traffic sign, front) ok         (ignored)
B vistas_like (road, lane marking) wrong      (road, road) ok
             (lane marking, lane marking) ok  (bicyclist, rider) wrong: coarse
             (front, speed limit) ok          (back, front) wrong
C gtsdb_like (box) (stop, stop) ok            (stop, give way) wrong
             (ignored)                        (give way, give way) ok
             (give way, front) wrong          (speed limit, back) wrong
"""
import json
import math

import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from mmseg.registry import METRICS, MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules

import mmhier.models  # noqa: F401  (registers TaxonomyEncoderDecoder and heads)
from mmhier.evaluation import report
from mmhier.evaluation import (HierarchicalIoUMetric, InvalidPredictionError,
                               LabelMismatchError, MissingDatasetKeyError,
                               MissingSampleFieldError, UnknownClassError)
from mmhier.structures import (SampleDatasetKeyError, SampleTaxonomyMismatchError,
                               sample_provenance)
from mmhier.taxonomy import (Taxonomy, TaxonomyMismatchError, UnknownDatasetError,
                             UnknownNodeError, load_taxonomy)
from tests.conftest import TAXONOMIES

TINY = TAXONOMIES / 'tiny_street.yaml'
N = 22
BOX = N

GT_A = [[8, 8, 1], [11, 14, -1]]
PRED_A = [[10, 1, 1], [13, 16, 5]]
GT_B = [[9, 9, 10], [12, 16, 15]]
PRED_B = [[10, 9, 10], [11, 19, 16]]
GT_C = [[17 + BOX, 17 + BOX, -1], [18 + BOX, 18 + BOX, 19 + BOX]]
PRED_C = [[17, 18, 3], [18, 16, 15]]


def element(key, gt, pred, path='img.png'):
    """An mmseg SegDataSample as the segmentor returns it."""
    sample = SegDataSample(metainfo=dict(dataset_key=key, img_path=path))
    sample.gt_sem_seg = PixelData(data=torch.tensor(gt, dtype=torch.int64)[None])
    sample.pred_sem_seg = PixelData(data=torch.tensor(pred, dtype=torch.int64)[None])
    return sample


def sample(key, gt, pred, path='img.png'):
    """The dict mmseg's evaluator passes to ``process``."""
    return element(key, gt, pred, path).to_dict()


def all_samples():
    return [sample('city_like', GT_A, PRED_A, 'a.png'),
            sample('vistas_like', GT_B, PRED_B, 'b.png'),
            sample('gtsdb_like', GT_C, PRED_C, 'c.png')]


def evaluate(samples, **kwargs):
    metric = HierarchicalIoUMetric(taxonomy=TINY, **kwargs)
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def check(metrics, expected):
    """``expected`` keys without the metric's default ``hier/`` prefix."""
    for key, value in expected.items():
        key = key if key.startswith('hier/') else f'hier/{key}'
        if math.isnan(value):
            assert math.isnan(metrics[key]), key
        else:
            assert metrics[key] == pytest.approx(value, abs=1e-9), key


NAN = float('nan')


def test_per_dataset_in_own_label_space():
    metrics = evaluate(all_samples())
    check(metrics, {
        # A: road IoU 1/2 Acc 1/2, sky 1/2 1, rider 1 1, traffic sign 1 1
        'city_like/aAcc': 80.0, 'city_like/mIoU': 75.0, 'city_like/mPA': 87.5,
        # B: road 1/2 1/2, lane 1/2 1, bicyclist 0 0 (coarse rider is
        # "other"), back 0 0, front 1/2 1 (speed limit maps up to front)
        'vistas_like/aAcc': 50.0, 'vistas_like/mIoU': 30.0, 'vistas_like/mPA': 50.0,
        # C: stop 1/2 1/2, give way 1/3 1/2, speed limit 0 0
        'gtsdb_like/aAcc': 40.0, 'gtsdb_like/mIoU': 27.78, 'gtsdb_like/mPA': 33.33,
    })


def test_levels():
    check(evaluate(all_samples()), {
        # L1: road vs lane marking are both driveable; only (driveable, sky)
        # is wrong. driveable 4/5 4/5, sky 1/2 1, rider 1 1, traffic sign 1 1
        'level1/aAcc': 93.75, 'level1/mIoU': 82.5, 'level1/mPA': 95.0,
        # L2 (gt at level >= 2: B and C): road 1/2 1/2, lane 1/2 1,
        # bicyclist 0 0 (rider is shallower), back 0 0, front 5/7 5/6
        'level2/aAcc': round(700 / 11, 2), 'level2/mIoU': round(1200 / 35, 2),
        'level2/mPA': round(700 / 15, 2),
        # L3 (only C): front is shallower than the gt signs
        'level3/aAcc': 40.0, 'level3/mIoU': 27.78, 'level3/mPA': 33.33,
    })


def test_classifiers():
    check(evaluate(all_samples()), {
        'classifier/root/acc': 93.75, 'classifier/root/routing': 100.0,
        'classifier/root/mIoU': 82.5, 'classifier/root/mPA': 95.0,
        # only B's road / lane marking pixels are below driveable
        'classifier/driveable/acc': round(200 / 3, 2),
        'classifier/driveable/routing': 100.0,
        'classifier/driveable/mIoU': 50.0, 'classifier/driveable/mPA': 75.0,
        # (bicyclist, rider) stopped at rider: routed but wrong
        'classifier/rider/acc': 0.0, 'classifier/rider/routing': 100.0,
        'classifier/rider/mIoU': 0.0, 'classifier/rider/mPA': 0.0,
        # 7 pixels below traffic sign: back 0 0, front 5/7 5/6
        'classifier/traffic_sign/acc': round(500 / 7, 2),
        'classifier/traffic_sign/routing': 100.0,
        'classifier/traffic_sign/mIoU': round(500 / 14, 2),
        'classifier/traffic_sign/mPA': round(500 / 12, 2),
        # 5 below front; (speed limit, back) not routed; (give way, front)
        # stopped. stop 1/2 1/2, give way 1/3 1/2, speed limit nan nan
        'classifier/traffic_sign_front/acc': 50.0,
        'classifier/traffic_sign_front/routing': 80.0,
        'classifier/traffic_sign_front/mIoU': round(500 / 12, 2),
        'classifier/traffic_sign_front/mPA': 50.0,
    })


def test_classifier_counts_only_routed_pixels():
    # road -> lane (routed, wrong), road -> sky (not routed),
    # lane -> driveable (stopped at driveable, wrong), lane -> lane (ok)
    metric = HierarchicalIoUMetric(taxonomy=TINY, classifiers=['driveable', 'traffic sign'],
                                   levels=False)
    metric.process({}, [sample('vistas_like', [[9, 9, 10, 10]], [[10, 1, 8, 10]])])
    metrics = metric.evaluate(1)
    check(metrics, {'classifier/driveable/routing': 75.0,
                    'classifier/driveable/acc': round(100 / 3, 2),
                    'classifier/driveable/mIoU': round(50 / 3, 2),
                    'classifier/driveable/mPA': 25.0,
                    'classifier/traffic_sign/routing': NAN,
                    'classifier/traffic_sign/acc': NAN})
    assert not any(k.startswith(('level', 'classifier/root')) for k in metrics)


def test_box_labels_can_be_left_out():
    metrics = evaluate(all_samples(), count_box_labels=False)
    check(metrics, {'gtsdb_like/aAcc': NAN, 'gtsdb_like/mIoU': NAN,
                    'level1/aAcc': round(1000 / 11, 2), 'level1/mIoU': 82.5,
                    'level3/mIoU': NAN, 'classifier/traffic_sign_front/routing': NAN,
                    'city_like/mIoU': 75.0, 'vistas_like/mIoU': 30.0})


def test_flat_predictions_map_up_or_count_wrong():
    # A flat model predicts labelled nodes of any dataset: driveable is right
    # for city_like but no class of vistas_like (it labels road / lane).
    metrics = evaluate([sample('city_like', [[8, 14]], [[8, 14]]),
                        sample('vistas_like', [[9, 16]], [[8, 16]])],
                       levels=False, classifiers=False)
    check(metrics, {'city_like/aAcc': 100.0, 'vistas_like/aAcc': 50.0,
                    'vistas_like/mIoU': 50.0})
    assert set(metrics) == {f'hier/{k}/{m}' for k in ('city_like', 'vistas_like')
                            for m in ('aAcc', 'mIoU', 'mPA')}


def test_class_subsets(tmp_path):
    out = tmp_path / 'subset.json'
    metrics = evaluate([sample('city_like', GT_A, PRED_A)],
                       class_subsets={'city_like': ['rider', 'road']}, output_file=out)
    # road -> lane ok, road -> sky is "other" (sky not evaluated), rider ok;
    # the sky and traffic sign gt pixels are not counted.
    check(metrics, {'city_like/aAcc': round(200 / 3, 2), 'city_like/mIoU': 75.0,
                    'city_like/mPA': 75.0})
    entry = json.loads(out.read_text())['datasets']['city_like']
    assert entry['classes'] == ['road', 'rider'] and entry['class_ids'] == [8, 9]
    assert entry['columns'] == ['road', 'rider', 'other']
    assert entry['confusion_matrix'] == [[1, 0, 1], [0, 1, 0]]


def test_datasets_restrict_every_view():
    metrics = evaluate(all_samples(), datasets='vistas_like', levels=[1, 3],
                       classifiers='rider')
    assert {k.split('/')[1] for k in metrics} == {'vistas_like', 'level1', 'level3',
                                                  'classifier'}
    assert {k.split('/')[2] for k in metrics if k.startswith('hier/classifier')} == {'rider'}
    assert not any(k.startswith(('city_like', 'gtsdb_like')) for k in metrics)
    # level 1 from B alone: all six pixels right
    check(metrics, {'vistas_like/mIoU': 30.0, 'level1/aAcc': 100.0, 'level3/aAcc': NAN})


def test_padded_samples_are_dropped():
    samples = all_samples()
    metric = HierarchicalIoUMetric(taxonomy=TINY)
    metric.process({}, samples + samples[:1])  # a distributed sampler's padding
    assert len(metric.results) == 4
    key, codes, counts = metric.results[0]
    assert key == 'city_like' and codes.dtype == counts.dtype == np.int64
    assert counts.sum() == 5 and codes.size == 5
    assert metric.evaluate(3) == evaluate(samples)


def test_json_report(tmp_path):
    out = tmp_path / 'deep' / 'hierarchical_metrics.json'
    metrics = evaluate(all_samples(), output_file=str(out))
    report = json.loads(out.read_text())
    assert set(report) == {'taxonomy', 'count_box_labels', 'metrics', 'datasets',
                           'levels', 'classifiers'}
    assert report['taxonomy']['name'] == 'tiny_street'
    assert report['metrics'] == metrics
    assert list(report['datasets']) == ['city_like', 'vistas_like', 'gtsdb_like']
    city = report['datasets']['city_like']
    assert city['classes'][7] == 'road' and city['columns'][-1] == 'other'
    assert city['IoU'][0] == 50.0 and city['IoU'][1] is None  # building: nan
    assert np.asarray(city['confusion_matrix']).shape == (10, 11)
    assert city['confusion_matrix'][7][7] == 1 and city['confusion_matrix'][7][0] == 1
    assert list(report['levels']) == ['1', '2', '3']
    assert report['levels']['2']['columns'][-1] == 'shallower'
    front = report['classifiers']['traffic sign front']
    assert front['key'] == 'traffic_sign_front' and front['level'] == 3
    assert (front['num_below'], front['num_routed']) == (5, 4)
    assert front['columns'][-2:] == ['stopped here', 'not routed']
    assert front['confusion_matrix'][2] == [0, 0, 0, 0, 0, 0, 1]  # speed limit
    assert front['confusion_matrix'][1] == [0, 1, 0, 0, 0, 1, 0]  # give way


def test_logs_tables(monkeypatch):
    logged = []
    monkeypatch.setattr(report, 'print_log',
                        lambda msg, logger=None, **kw: logged.append((msg, logger)))
    evaluate(all_samples())
    assert {logger for _, logger in logged} == {'current'}
    text = '\n'.join(msg for msg, _ in logged)
    for needle in ('per class results (vistas_like):', 'summary (datasets):',
                   'summary (levels):', 'summary (classifiers):', 'lane marking',
                   'traffic sign front'):
        assert needle in text


# ----------------------------------------------------------- user mistakes
def test_unknown_dataset_key_in_sample():
    metric = HierarchicalIoUMetric(taxonomy=TINY)
    with pytest.raises(UnknownDatasetError,
                       match=r"x\.png: .*no dataset 'city'.*city_like"):
        metric.process({}, [sample('city', GT_A, PRED_A, 'x.png')])


def test_missing_dataset_key():
    data = sample('city_like', GT_A, PRED_A)
    del data['dataset_key']
    with pytest.raises(MissingSampleFieldError, match='PackTaxonomySegInputs'):
        HierarchicalIoUMetric(taxonomy=TINY).process({}, [data])
    with pytest.raises(MissingDatasetKeyError) as info:     # also an unknown dataset
        HierarchicalIoUMetric(taxonomy=TINY).process({}, [data])
    assert isinstance(info.value, SampleDatasetKeyError)
    assert isinstance(info.value, UnknownDatasetError)
    assert str(info.value).startswith(
        'img.png: no dataset_key in the data sample, so HierarchicalIoUMetric cannot tell '
        "which dataset it belongs to (known: 'city_like', 'vistas_like', 'gtsdb_like', "
        "'city_ext_like')")


def test_unknown_dataset_key_names_the_known_keys():
    with pytest.raises(SampleDatasetKeyError) as info:
        HierarchicalIoUMetric(taxonomy=TINY).process(
            {}, [sample('gtsdb', GT_A, PRED_A, 'g.png')])
    assert str(info.value).startswith(
        "g.png: HierarchicalIoUMetric knows no dataset 'gtsdb' (the sample's dataset_key; "
        "known: 'city_like', 'vistas_like', 'gtsdb_like', 'city_ext_like'); did you mean "
        "'gtsdb_like'?")


def test_sample_of_another_taxonomy_tree_is_refused():
    tax = load_taxonomy(TINY)
    other = Taxonomy.from_string(TINY.read_text().replace('keep left]', 'keep left, '
                                                          'no entry]'), 'other.yaml')
    data = sample('city_like', GT_A, PRED_A, 'a.png')
    metric = HierarchicalIoUMetric(taxonomy=TINY)
    metric.process({}, [dict(data, **sample_provenance(tax))])       # its own: fine
    with pytest.raises(SampleTaxonomyMismatchError) as info:
        metric.process({}, [dict(data, **sample_provenance(other))])
    assert isinstance(info.value, TaxonomyMismatchError)
    assert str(info.value).startswith(
        f'a.png: its labels were encoded with taxonomy other.yaml (tree hash '
        f"{other.tree_hash[:12]}), but HierarchicalIoUMetric uses taxonomy 'tiny_street' "
        f'({tax.source}, tree hash {tax.tree_hash[:12]})')
    assert len(metric.results) == 1


def test_metric_decodes_with_the_shared_label_space(monkeypatch):
    """The labelled-node check reads the dataset's LabelSpace.labelled."""
    from mmhier.structures import label_space
    metric = HierarchicalIoUMetric(taxonomy=TINY)
    stray = sample('city_like', [[9, 1]], [[9, 1]])       # road: not a city_like node
    with pytest.raises(LabelMismatchError):
        metric.process({}, [stray])
    space = label_space(metric.taxonomy, 'city_like')
    monkeypatch.setitem(vars(space), 'labelled', np.ones(N, dtype=bool))
    metric.process({}, [stray])
    assert len(metric.results) == 1


def test_gt_node_the_dataset_does_not_label():
    with pytest.raises(LabelMismatchError, match="'road'.*city_like"):
        HierarchicalIoUMetric(taxonomy=TINY).process(
            {}, [sample('city_like', [[9, 1]], [[9, 1]])])
    with pytest.raises(LabelMismatchError, match='label contract'):
        HierarchicalIoUMetric(taxonomy=TINY).process(
            {}, [sample('city_like', [[2 * N, 1]], [[9, 1]])])


def test_bad_predictions():
    metric = HierarchicalIoUMetric(taxonomy=TINY)
    with pytest.raises(InvalidPredictionError, match='shape'):
        metric.process({}, [sample('city_like', GT_A, [[1, 1]])])
    with pytest.raises(InvalidPredictionError, match='no node ids'):
        metric.process({}, [sample('city_like', [[1]], [[N]])])


def test_bad_arguments():
    with pytest.raises(UnknownClassError, match="no class 'raod'.*'road'"):
        HierarchicalIoUMetric(taxonomy=TINY, class_subsets={'city_like': ['raod']})
    with pytest.raises(UnknownClassError, match='ignored'):
        HierarchicalIoUMetric(taxonomy=TINY, class_subsets={'city_like': ['unlabeled']})
    with pytest.raises(UnknownDatasetError, match='vistas_like'):
        HierarchicalIoUMetric(taxonomy=TINY, class_subsets={'vistas': ['road']})
    with pytest.raises(UnknownDatasetError):
        HierarchicalIoUMetric(taxonomy=TINY, datasets=['gtsdb'])
    with pytest.raises(UnknownNodeError):
        HierarchicalIoUMetric(taxonomy=TINY, classifiers=['road'])
    with pytest.raises(ValueError, match='1..3'):
        HierarchicalIoUMetric(taxonomy=TINY, levels=[4])


# ------------------------------------------------------------- integration
def test_registry_and_evaluator():
    register_all_modules(init_default_scope=True)
    cfg = dict(type='HierarchicalIoUMetric', taxonomy=str(TINY), prefix='val')
    assert isinstance(METRICS.build(cfg), HierarchicalIoUMetric)
    evaluator = Evaluator([cfg])
    evaluator.process(data_samples=[element('city_like', GT_A, PRED_A),
                                    element('vistas_like', GT_B, PRED_B)])
    evaluator.process(data_samples=[element('gtsdb_like', GT_C, PRED_C)])
    metrics = evaluator.evaluate(3)
    expected = {'city_like/mIoU': 75.0, 'gtsdb_like/mPA': 33.33, 'level1/aAcc': 93.75,
                'classifier/traffic_sign_front/routing': 80.0}
    assert {k: metrics[f'val/{k}'] for k in expected} == expected
    assert HierarchicalIoUMetric(taxonomy=load_taxonomy(TINY)).taxonomy \
        is load_taxonomy(TINY)


def test_end_to_end_with_taxonomy_encoder_decoder():
    """The segmentor's outputs (node ids, gt and metainfo kept) feed the metric."""
    register_all_modules(init_default_scope=True)
    model = MODELS.build(ConfigDict(
        type='TaxonomyEncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', size=(32, 32), seg_pad_val=-1),
        backbone=dict(type='MobileNetV2', widen_factor=0.25,
                      strides=(1, 2, 2, 1, 1, 1, 1), dilations=(1, 1, 1, 2, 2, 4, 4),
                      out_indices=(1, 2, 4, 6)),
        decode_head=dict(type='HierarchicalDecodeHead', taxonomy=str(TINY),
                         in_channels=80, in_index=3, channels=8, branch=dict(width=8),
                         norm_cfg=dict(type='BN')),
        test_cfg=dict(mode='whole'))).eval()
    tax = load_taxonomy(TINY)
    lut = tax.label_to_node('vistas_like')
    gt = torch.from_numpy(lut[np.random.default_rng(0).integers(1, 14, (1, 32, 32))])
    sample = SegDataSample(metainfo=dict(img_shape=(32, 32), ori_shape=(32, 32),
                                         dataset_key='vistas_like', img_path='v.png'))
    sample.gt_sem_seg = PixelData(data=gt)
    with torch.no_grad():
        outputs = model.predict(torch.randn(1, 3, 32, 32), [sample])
    evaluator = Evaluator([dict(type='HierarchicalIoUMetric', taxonomy=str(TINY))])
    evaluator.process(data_samples=outputs)
    metrics = evaluator.evaluate(1)
    assert 0.0 <= metrics['hier/vistas_like/aAcc'] <= 100.0
    assert metrics['hier/classifier/root/routing'] == 100.0
    assert 0.0 <= metrics['hier/level2/aAcc'] <= 100.0


# ------------------------------------------------- mmseg test.py --out
def test_output_dir_writes_node_maps_per_dataset(tmp_path):
    out = tmp_path / 'preds'
    metrics = evaluate(all_samples(), output_dir=str(out), keep_results=True)
    assert metrics['hier/city_like/mIoU'] == 75.0  # scores still computed
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob('*.png'))
    assert written == ['city_like/a.png', 'gtsdb_like/c.png', 'vistas_like/b.png']
    from mmhier.structures import load_node_map
    np.testing.assert_array_equal(load_node_map(out / 'gtsdb_like' / 'c.png'), PRED_C)


def test_format_only_writes_without_gt(tmp_path):
    element_b = SegDataSample(metainfo=dict(dataset_key='vistas_like', img_path='x/b.jpg'))
    element_b.pred_sem_seg = PixelData(data=torch.tensor(PRED_B)[None])  # no gt at all
    metric = HierarchicalIoUMetric(taxonomy=TINY, output_dir=str(tmp_path),
                                   format_only=True)
    metric.process({}, [element_b.to_dict()])
    assert metric.evaluate(1) == {}
    from mmhier.structures import load_node_map
    np.testing.assert_array_equal(load_node_map(tmp_path / 'vistas_like' / 'b.png'),
                                  PRED_B)


def test_format_only_needs_output_dir():
    from mmhier.evaluation import EvaluationError
    with pytest.raises(EvaluationError, match='output_dir'):
        HierarchicalIoUMetric(taxonomy=TINY, format_only=True)
