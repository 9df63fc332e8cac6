"""FlatTaxonomyHead: the flat baseline over all labelled nodes."""
import numpy as np
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


def test_channels_and_label_table_come_from_the_shared_label_space(shipped):
    from mmhier.structures import label_codec, label_space
    head = build(datasets=['vistas_like', 'gtsdb_like'])
    tax = head.taxonomy
    union = sorted(set(label_space(tax, 'vistas_like').labelled_nodes.tolist())
                   | set(label_space(tax, 'gtsdb_like').labelled_nodes.tolist()))
    assert head.output_nodes.tolist() == union
    channel = np.full(tax.num_nodes, -1)
    channel[union] = np.arange(len(union))
    assert head.label_to_channel.tolist() == label_codec(tax).value_table(channel).tolist()
    # driveable (8) is no channel here: ignored, in both encodings
    assert head.label_to_channel[torch.tensor([8, 8 + 22, 9, 17 + 22, -1])].tolist() == \
        [-1, -1, union.index(9), union.index(17), -1]


def test_loss_refuses_samples_of_another_tree():
    from mmhier.structures import SampleTaxonomyMismatchError, sample_provenance
    from mmhier.taxonomy import Taxonomy
    head = build()
    other = Taxonomy.from_string(TAXONOMIES.joinpath('tiny_street.yaml').read_text()
                                 .replace('keep left]', 'keep left, no entry]'), 'o.yaml')
    sample = SegDataSample(metainfo=dict(img_path='z.png', **sample_provenance(other)))
    sample.gt_sem_seg = PixelData(data=torch.tensor([[[-1, 1], [1, -1]]]))
    logits = torch.zeros(1, 21, 2, 2)
    with pytest.raises(SampleTaxonomyMismatchError, match='z.png: .*o.yaml.*'
                                                          'FlatTaxonomyHead'):
        head.loss_by_feat(logits, [sample])
    sample.set_metainfo(sample_provenance(head.taxonomy))
    assert head.loss_by_feat(logits, [sample])['loss_ce'].item() == \
        pytest.approx(np.log(21))


def test_decide_and_scores_are_what_predict_gives():
    head = build().eval()
    logits = torch.randn(2, head.out_channels, 5, 7, generator=torch.Generator().manual_seed(0))
    logits[:, 3] = logits[:, 1]                                    # exact ties
    scores = head.predict_by_feat(logits, [dict(img_shape=(17, 23))])  # mmseg's resize
    nodes = head.decide(logits, (17, 23))
    assert nodes.shape == (2, 17, 23)
    assert torch.equal(nodes, head.output_nodes[scores.argmax(dim=1)])
    assert torch.equal(head.output_scores(logits, (17, 23)), scores.softmax(dim=1))


def test_decide_exports_with_the_image_size():
    head = build().eval()

    class Decide(torch.nn.Module):
        def forward(self, logits, image):
            return head.decide(logits, image.shape[-2:])

    dim = torch.export.Dim.DYNAMIC
    program = torch.export.export(Decide(), (torch.randn(2, head.out_channels, 4, 6),
                                             torch.zeros(2, 1, 9, 11)),
                                  dynamic_shapes={'logits': {0: dim, 2: dim, 3: dim},
                                                  'image': {0: dim, 2: dim, 3: dim}})
    logits = torch.randn(1, head.out_channels, 6, 5)
    nodes = program.module()(logits, torch.zeros(1, 1, 31, 26))
    assert torch.equal(nodes, head.decide(logits, (31, 26)))


def test_branch_option_is_one_hierarchical_branch():
    """With ``branch``, the flat head is the hierarchical head's shared 1x1
    convolution and one classifier branch over all flat channels."""
    from mmhier.models.heads.branch import ClassifierBranch
    torch.manual_seed(0)
    head = build(branch=dict(depth=1, width=16))
    assert not hasattr(head, 'conv_seg') and isinstance(head.branch, ClassifierBranch)
    reference = ClassifierBranch(8, 21, depth=1, width=16, norm_cfg=dict(type='BN'))
    assert [p.shape for p in head.branch.parameters()] == \
        [p.shape for p in reference.parameters()]
    head.eval()
    logits = head([torch.randn(2, 8, 5, 7)])
    assert logits.shape == (2, 21, 10, 14)  # hybrid upsampling: twice the features
    expected = head.branch(head.convs(torch.randn(1, 8, 5, 7) * 0 + 1))
    assert torch.equal(head([torch.ones(1, 8, 5, 7)]), expected)


def test_branch_head_trains():
    from mmhier.structures import sample_provenance
    head = build(branch=dict(depth=1, width=16))
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.full((1, 10, 14), 8))
    sample.set_metainfo(sample_provenance(head.taxonomy))
    losses = head.loss_by_feat(head([torch.randn(1, 8, 5, 7)]), [sample])
    losses['loss_ce'].backward()
    assert head.branch.classify.weight.grad.abs().sum() > 0


def test_node_set_datasets_are_refused_by_name():
    from mmhier.models.heads.flat_taxonomy_head import NodeSetLabelError
    from mmhier.taxonomy import TaxonomyError
    partial = str(TAXONOMIES / 'tiny_partial_labels.yaml')
    with pytest.raises(NodeSetLabelError) as info:
        MODELS.build(dict(type='FlatTaxonomyHead', taxonomy=partial, in_channels=8,
                          channels=8, num_convs=1, kernel_size=1, concat_input=False,
                          norm_cfg=dict(type='BN')))
    assert isinstance(info.value, TaxonomyError)
    message = str(info.value)
    assert ("dataset 'street_coarse' class 2 'walkable ground' -> [sidewalk, terrain]"
            in message)
    assert "class 5 'vehicle' -> [car, truck]" in message and 'HierarchicalDecodeHead' in message
    head = MODELS.build(dict(type='FlatTaxonomyHead', taxonomy=partial,
                             datasets=['street_fine'], in_channels=8, channels=8,
                             num_convs=1, kernel_size=1, concat_input=False,
                             norm_cfg=dict(type='BN')))
    assert head.out_channels == 11
    assert head.label_to_channel.shape == (2 * 19 + 1,)
