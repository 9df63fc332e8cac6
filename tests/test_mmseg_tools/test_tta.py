"""Test-time augmentation: scores merged over augmentations, node ids once.

MMSeg's ``SegTTAModel`` returns output-channel indices, which a taxonomy
metric would score as node ids; ``TaxonomyTTAModel`` averages the
``seg_logits`` of ``TaxonomyEncoderDecoder`` (scores whose argmax is the
decision, mapped back to the original image) and maps the argmax to node
ids once.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.structures import PixelData
from mmseg.apis import init_model
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample

import mmhier.datasets  # noqa: F401
import mmhier.models  # noqa: F401
from mmhier.models.segmentors import (TaxonomyTTAModel, mirror_channels,
                                      mirror_nodes)
from mmhier.taxonomy.errors import TaxonomyError
from tests.test_mmseg_tools.conftest import TINY_STREET

FLIP_TTA = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='RandomFlip', prob=0., direction='horizontal'),
         dict(type='RandomFlip', prob=1., direction='horizontal')],
        [dict(type='LoadAnnotations')],
        [dict(type='PackTaxonomySegInputs')]])]


@pytest.fixture(scope='module', params=['greedy', 'path'])
def model(request, tiny_config, checkpoint):
    """The trained tiny model with either decision rule."""
    return init_model(str(tiny_config), str(checkpoint), device='cpu',
                      cfg_options={'model.decode_head.decision': request.param})


@pytest.fixture(scope='module')
def greedy_model(tiny_config, checkpoint):
    """The trained tiny model as configured (greedy rule)."""
    return init_model(str(tiny_config), str(checkpoint), device='cpu')


#: One test image of each dataset (city_like, vistas_like, gtsdb_like).
ONE_PER_DATASET = (0, 2, 4)


@pytest.fixture(scope='module')
def cfg(tiny_config):
    return Config.fromfile(str(tiny_config))


def _dataset(cfg, pipeline):
    return DATASETS.build(dict(cfg.test_dataloader.dataset, pipeline=pipeline))


def _by_name_swap(taxonomy, output_names) -> list[int]:
    """Channel permutation of a flip, written out: keep right <-> keep left."""
    names = list(output_names)
    perm = list(range(len(names)))
    right, left = names.index('keep right'), names.index('keep left')
    perm[right], perm[left] = left, right
    return perm


def test_mirror_nodes_of_tiny_street(taxonomy):
    mirror = mirror_nodes(taxonomy)
    right, left = taxonomy.index('keep right'), taxonomy.index('keep left')
    expected = np.arange(taxonomy.num_nodes)
    expected[[right, left]] = [left, right]
    assert mirror.tolist() == expected.tolist()


def test_mirror_channels_follow_the_output_nodes(taxonomy):
    leaves = taxonomy.leaf_indices
    names = [taxonomy.nodes[i] for i in leaves]
    assert mirror_channels(taxonomy, leaves).tolist() == _by_name_swap(taxonomy, names)
    # a coarse cut without the signs' leaves: nothing to swap
    coarse = np.array([i for i in leaves if taxonomy.nodes[i] not in
                       ('stop', 'give way', 'speed limit', 'keep right', 'keep left')]
                      + [taxonomy.index('traffic sign front')])
    assert mirror_channels(taxonomy, coarse).tolist() == list(range(len(coarse)))


def _with_flip_to(taxonomy, key: str, flips: dict):
    """``taxonomy`` whose dataset ``key`` has these ``{class id: flip_to}``
    (``None``: no flip_to), without writing a file."""
    import dataclasses
    spec = taxonomy.dataset(key)
    classes = []
    for cls in spec.classes:
        attributes = dict(cls.attributes)
        if cls.id in flips:
            attributes.pop('flip_to', None)
            if flips[cls.id] is not None:
                attributes['flip_to'] = flips[cls.id]
        classes.append(dataclasses.replace(cls, attributes=attributes))
    taxonomy._datasets = {**taxonomy._datasets,
                          key: dataclasses.replace(spec, classes=tuple(classes))}
    return taxonomy


def test_datasets_flipping_a_node_differently_are_named():
    """Each dataset's pairs are valid (sky <-> building, sky <-> vegetation),
    but a model cannot flip its sky channel two ways."""
    from mmhier.taxonomy import Taxonomy
    taxonomy = _with_flip_to(Taxonomy.from_file(TINY_STREET), 'vistas_like',
                             {1: 2, 2: 1})
    taxonomy = _with_flip_to(taxonomy, 'city_like', {1: 3, 3: 1})
    with pytest.raises(TaxonomyError) as info:
        mirror_nodes(taxonomy)
    message = str(info.value)
    assert message == (f"{TINY_STREET}: node 'sky' flips to 'building' in dataset "
                       "'vistas_like' but to 'vegetation' in dataset 'city_like'; a model "
                       'predicts nodes, so every dataset must flip a node to the same node: '
                       "align the datasets' flip_to pairs")


def test_flipped_scores_are_mapped_back(greedy_model, taxonomy):
    """postprocess_result flips back spatially and swaps mirror channels."""
    model = greedy_model
    head = model.decode_head
    names = head.output_names
    right, left = names.index('keep right'), names.index('keep left')
    scores = torch.zeros(1, head.out_channels, 2, 3)
    scores[0, right, :, 2] = 1.0        # keep right on the right column of the flip
    scores[0, 0, :, :2] = 1.0           # channel 0 (sky) elsewhere
    meta = dict(img_shape=(2, 3), ori_shape=(2, 3), pad_shape=(2, 3),
                padding_size=[0, 0, 0, 0], flip=True, flip_direction='horizontal')
    sample = model.postprocess_result(scores, [SegDataSample(metainfo=meta)])[0]
    nodes = sample.pred_sem_seg.data[0]
    # in the image, the sign is on the left column and is a keep left sign
    assert nodes[:, 0].tolist() == [taxonomy.index('keep left')] * 2
    assert nodes[:, 1:].unique().tolist() == [taxonomy.index('sky')]
    assert sample.seg_logits.data[left, :, 0].tolist() == [1.0, 1.0]
    assert sample.seg_logits.data[right].sum() == 0
    # not flipped: as it is
    meta['flip'] = False
    sample = model.postprocess_result(scores, [SegDataSample(metainfo=meta)])[0]
    assert sample.pred_sem_seg.data[0, :, 2].tolist() == [taxonomy.index('keep right')] * 2


def test_flip_tta_equals_the_average_by_hand(model, cfg, taxonomy):
    tta = MODELS.build(dict(type='TaxonomyTTAModel', module=model)).eval()
    dataset = _dataset(cfg, FLIP_TTA)
    head = model.decode_head
    perm = _by_name_swap(taxonomy, head.output_names)
    for idx in ONE_PER_DATASET:
        sample = dataset[idx]
        with torch.no_grad():
            merged = tta.test_step(pseudo_collate([sample]))[0]
            hand = []
            for flip in (False, True):
                image = sample['inputs'][0]
                image = image.flip(-1) if flip else image
                data = model.data_preprocessor(dict(inputs=[image], data_samples=[
                    sample['data_samples'][0]]), False)
                metas = [s.metainfo for s in data['data_samples']]
                scores = model.encode_decode(data['inputs'], metas)[0]
                hand.append(scores.flip(-1)[perm] if flip else scores)
        average = (hand[0] + hand[1]) / 2
        expected = head.output_nodes[average.argmax(dim=0)]
        assert torch.equal(merged.pred_sem_seg.data[0], expected), idx
        torch.testing.assert_close(merged.seg_logits.data, average)
        assert torch.equal(merged.gt_sem_seg.data, sample['data_samples'][0].gt_sem_seg.data)
        assert merged.metainfo['dataset_key'] == sample['data_samples'][0].dataset_key


def test_shipped_tta_gives_output_node_ids(greedy_model, cfg, taxonomy):
    """With the config's tta_pipeline (3 scales x 2 flips) every predicted
    value is the node id of the argmax output channel, never a channel index
    (channel c < 7 is node c + 1 here: a channel index is never right)."""
    tta = MODELS.build(dict(cfg.tta_model, module=greedy_model)).eval()
    assert isinstance(tta, TaxonomyTTAModel)
    output_nodes = greedy_model.decode_head.output_nodes
    assert output_nodes[:7].tolist() == list(range(1, 8))
    dataset = _dataset(cfg, cfg.tta_pipeline)
    assert [dataset[i]['data_samples'][0].dataset_key for i in ONE_PER_DATASET] == [
        'city_like', 'vistas_like', 'gtsdb_like']
    for idx in ONE_PER_DATASET:
        sample = dataset[idx]
        assert len(sample['inputs']) == 6
        with torch.no_grad():
            merged = tta.test_step(pseudo_collate([sample]))[0]
        pred = merged.pred_sem_seg.data[0]
        assert pred.shape == sample['data_samples'][0].gt_sem_seg.data.shape[1:]
        assert torch.equal(pred, output_nodes[merged.seg_logits.data.argmax(dim=0)])
        assert set(pred.unique().tolist()) <= set(output_nodes.tolist())
        assert taxonomy.index('root') not in pred.unique().tolist()


def test_shapes_of_augmentations_must_agree(greedy_model):
    tta = TaxonomyTTAModel(greedy_model)
    samples = []
    for shape in ((17, 4, 5), (17, 4, 6)):
        sample = SegDataSample(metainfo=dict(img_path='x.png'))
        sample.seg_logits = PixelData(data=torch.zeros(shape))
        samples.append(sample)
    with pytest.raises(ValueError, match=r'x.png: the test-time augmentations gave scores '
                                         r'of shapes \[\(17, 4, 5\), \(17, 4, 6\)\]'):
        tta.merge_preds([samples])


def test_needs_a_node_id_segmentor():
    plain = dict(type='EncoderDecoder',
                 backbone=dict(type='MobileNetV2', widen_factor=0.25, out_indices=(6,)),
                 decode_head=dict(type='FCNHead', in_channels=80, channels=8,
                                  num_classes=3))
    with pytest.raises(TypeError, match="got EncoderDecoder; for other segmentors use "
                                        "tta_model = dict\\(type='SegTTAModel'\\)"):
        MODELS.build(dict(type='TaxonomyTTAModel', module=plain))
