"""FlatTaxonomyHead: the flat baseline over all labelled nodes."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmhier.models  # noqa: F401
from tests.conftest import TAXONOMIES

TINY = str(TAXONOMIES / 'tiny_street.yaml')


def build(**kwargs):
    return MODELS.build(dict(type='FlatTaxonomyHead', taxonomy=TINY, in_channels=8,
                             channels=8, num_convs=1, kernel_size=1, concat_input=False,
                             norm_cfg=dict(type='BN'), **kwargs))


def test_output_space_is_every_labelled_node(shipped):
    head = build()
    tax = shipped('tiny_street')
    names = [tax.nodes[i] for i in head.output_nodes.tolist()]
    assert len(names) == 21 and head.out_channels == 21
    assert names[7:10] == ['driveable', 'road', 'lane marking']
    assert 'root' not in names


def test_labels_map_to_channels_for_pixels_and_boxes():
    head = build()
    n = head.taxonomy.num_nodes
    labels = torch.tensor([[[-1, 8, 9], [10, 17 + n, 21 + n]]])   # ignore, driveable, ...
    channels = head.label_to_channel[labels]
    assert channels.tolist() == [[[-1, 7, 8], [9, 16, 20]]]


def test_loss_ignores_ignored_pixels():
    head = build(loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True))
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.tensor([[[-1, 1], [1, -1]]]))
    logits = torch.zeros(1, 21, 2, 2, requires_grad=True)
    losses = head.loss_by_feat(logits, [sample])
    assert losses['loss_ce'].item() == pytest.approx(torch.log(torch.tensor(21.)).item())
    losses['loss_ce'].backward()
    assert logits.grad[0, :, 0, 0].abs().sum() == 0


def test_num_classes_must_not_be_given():
    with pytest.raises(TypeError, match='derives num_classes'):
        MODELS.build(dict(type='FlatTaxonomyHead', taxonomy=TINY, in_channels=8,
                          channels=8, num_classes=3))
