"""TaxonomyEncoderDecoder predicts taxonomy node ids."""
import torch
from mmengine.config import ConfigDict
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmhier.models  # noqa: F401
from tests.conftest import TAXONOMIES

TINY = str(TAXONOMIES / 'tiny_street.yaml')
BACKBONE = dict(type='MobileNetV2', widen_factor=0.25, strides=(1, 2, 2, 1, 1, 1, 1),
                dilations=(1, 1, 1, 2, 2, 4, 4), out_indices=(1, 2, 4, 6))


def build(head):
    return MODELS.build(ConfigDict(
        type='TaxonomyEncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', size=(32, 32), seg_pad_val=-1),
        backbone=BACKBONE, decode_head=head, test_cfg=dict(mode='whole')))


def predict(model):
    model.eval()
    sample = SegDataSample(metainfo=dict(img_shape=(32, 32), ori_shape=(32, 32)))
    with torch.no_grad():
        return model.predict(torch.randn(1, 3, 32, 32), [sample])[0]


def test_hierarchical_predictions_are_leaf_nodes_at_any_level(shipped):
    tax = shipped('tiny_street')
    base = dict(type='HierarchicalDecodeHead', taxonomy=TINY, in_channels=80, in_index=3,
                channels=8, branch=dict(width=8), norm_cfg=dict(type='BN'))
    pred = predict(build(base)).pred_sem_seg.data
    assert set(pred.unique().tolist()) <= set(tax.leaf_indices.tolist())
    coarse = predict(build(dict(base, output_level=1))).pred_sem_seg.data
    assert set(coarse.unique().tolist()) <= {i for i in range(tax.num_nodes)
                                             if tax.node_level[i] == 1}


def test_flat_predictions_are_labelled_nodes():
    head = dict(type='FlatTaxonomyHead', taxonomy=TINY, in_channels=80, in_index=3,
                channels=8, num_convs=1, kernel_size=1, concat_input=False,
                norm_cfg=dict(type='BN'))
    model = build(head)
    result = predict(model)
    nodes = set(model.decode_head.output_nodes.tolist())
    assert set(result.pred_sem_seg.data.unique().tolist()) <= nodes
    assert result.seg_logits.data.shape[0] == len(nodes)


def test_training_on_node_set_labels_lowers_their_partial_label_loss():
    """street_coarse labels of tiny_partial_labels: target 17 is [car, truck],
    16 [sidewalk, terrain], 18 [rider, bicycle] (N = 16 nodes)."""
    from mmengine.structures import PixelData
    from mmengine.optim import OptimWrapper
    torch.manual_seed(0)
    head = dict(type='HierarchicalDecodeHead',
                taxonomy=str(TAXONOMIES / 'tiny_partial_labels.yaml'), in_channels=80,
                in_index=3, channels=8, branch=dict(width=8), norm_cfg=dict(type='BN'))
    model = build(head)
    labels = torch.full((1, 32, 32), 17)
    labels[:, :16] = 16
    labels[:, :, :8] = 18
    labels[:, :4] = 14                                  # bus: an ordinary label
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(32, 32), ori_shape=(32, 32),
                                             pad_shape=(32, 32), dataset_key='street_coarse'))
        sample.gt_sem_seg = PixelData(data=labels.clone())
        samples.append(sample)
    images = torch.randn(2, 3, 32, 32)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=0.01))
    model.train()
    first = model.loss(images, samples)
    assert {'decode.loss_root', 'decode.loss_vehicle', 'decode.loss_human',
            'decode.loss_nature', 'decode.loss_flat'} <= set(first)
    assert all(torch.isfinite(v) for k, v in first.items() if 'loss' in k)
    for _ in range(40):
        losses = model.loss(images, samples)
        optim.update_params(sum(v for k, v in losses.items() if 'loss' in k))
    last = model.loss(images, samples)
    assert last['decode.loss_vehicle'] < 0.5 * first['decode.loss_vehicle']
    assert last['decode.loss_root'] < 0.5 * first['decode.loss_root']
