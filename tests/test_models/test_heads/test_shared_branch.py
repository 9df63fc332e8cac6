"""The scalable head for large taxonomies: classifiers sharing one adaptation
(``shared_branch``), fused into one 1x1 convolution and one grouped
transposed convolution per run of equally wide classifiers. Given the same
weights it computes what separate branches compute; ``own_branches`` picks
the classifiers that keep the paper's own branch."""
import pytest
import torch
from mmseg.registry import MODELS

from mmhier.models.heads.fused_branches import FusedClassifiers
from mmhier.taxonomy import Taxonomy, UnknownNodeError

SHIPPED = 'taxonomies/cs_vistas_gtsdb.yaml'
# cs_vistas_gtsdb classifiers (preorder): 0 root (53 children), 1 Driveable
# (10), 2 Rider (3), 3 Traffic Sign (2), 4 Traffic Sign (Front) (43)
WIDTHS = [53, 10, 3, 2, 43]


def build(**kwargs):
    cfg = dict(type='HierarchicalDecodeHead', taxonomy=SHIPPED, in_channels=6, channels=8,
               branch=dict(width=8), norm_cfg=dict(type='BN'))
    return MODELS.build({**cfg, **kwargs})


def randomise(module: torch.nn.Module, seed: int) -> None:
    """Random weights, biases and BN statistics (the init leaves many zeros)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                values = torch.rand(tensor.shape, generator=generator) + 0.5 \
                    if name.endswith('running_var') else \
                    torch.randn(tensor.shape, generator=generator) * 0.3
                tensor.copy_(values)


def test_paper_configuration_keeps_one_branch_per_classifier():
    head = build()
    assert head.fused is None
    assert head.own_classifiers == [0, 1, 2, 3, 4] and head.fused_classifiers == []
    assert [b.classify.out_channels for b in head.branches] == WIDTHS
    assert not any(key.startswith('fused.') for key in head.state_dict())


@pytest.mark.parametrize('depth', [0, 1, 2])
def test_shared_form_equals_separate_branches_with_the_same_weights(depth):
    separate = build(branch=dict(width=8, depth=depth)).eval()
    shared = build(branch=dict(width=8, depth=depth), shared_branch=dict(width=8, depth=depth),
                   own_branches=dict(nodes=['Rider'])).eval()
    assert shared.own_classifiers == [2] and shared.fused_classifiers == [0, 1, 3, 4]
    randomise(separate, 0)
    adapt = separate.branches[0].adapt.state_dict()
    for branch in separate.branches:          # one adaptation for all classifiers
        branch.adapt.load_state_dict(adapt)
    shared.shared.load_state_dict(separate.shared.state_dict())
    shared.branches[0].load_state_dict(separate.branches[2].state_dict())
    shared.fused.adapt.load_state_dict(adapt)
    for position, j in enumerate(shared.fused_classifiers):
        shared.fused.load_branch(position, separate.branches[j])
    features = [torch.randn(2, 6, 5, 7, generator=torch.Generator().manual_seed(1))]
    with torch.no_grad():
        expected, got = separate.forward(features), shared.forward(features)
    assert [x.shape for x in got] == [(2, k, 10, 14) for k in WIDTHS]
    for x, y in zip(got, expected):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6)
        assert x.abs().max() > 0.1      # weights were really copied, not zero


def test_fused_runs_group_equal_widths_and_start_as_nearest_upsampling():
    fused = FusedClassifiers(4, [3, 2, 3, 5, 2, 3], depth=0, dropout_ratio=0)
    assert [(k, members) for k, members, _ in fused.runs] == [
        (2, [1, 4]), (3, [0, 2, 5]), (5, [3])]
    assert fused.first_channel == [4, 0, 7, 13, 2, 10]
    assert [up.groups for up in fused.upsample] == [2, 3, 1]
    generator = torch.Generator().manual_seed(0)
    for up in fused.upsample:   # the grouped transposed convolution it computes
        conv = torch.nn.ConvTranspose2d(up.in_channels, up.in_channels, 2, stride=2,
                                        groups=up.groups)
        with torch.no_grad():
            up.weight.copy_(torch.randn(up.weight.shape, generator=generator))
            up.bias.copy_(torch.randn(up.bias.shape, generator=generator))
            conv.load_state_dict(up.state_dict())
            x = torch.randn(2, up.in_channels, 3, 4, generator=generator)
            torch.testing.assert_close(up(x), conv(x))
        up.reset_parameters()
    x = torch.randn(1, 4, 3, 3)
    out = fused(x)
    logits = fused.classify(x)
    for i, k in enumerate([3, 2, 3, 5, 2, 3]):   # 2x nearest of classifier i's 1x1 outputs
        first = fused.first_channel[i]
        nearest = logits[:, first:first + k].repeat_interleave(2, 2).repeat_interleave(2, 3)
        torch.testing.assert_close(out[i], nearest)
    with pytest.raises(ValueError, match='classifier 3 has 5 outputs, the branch 2'):
        from mmhier.models.heads.branch import ClassifierBranch
        fused.load_branch(3, ClassifierBranch(4, 2, depth=0))


@pytest.mark.parametrize('rule, own', [
    (None, []),
    (dict(max_level=1), [0]),
    (dict(max_level=2), [0, 1, 2, 3]),
    (dict(min_outputs=40), [0, 4]),
    (dict(nodes=['Traffic Sign (Front)', 'Rider']), [2, 4]),
    (dict(nodes='Driveable', min_outputs=50), [0, 1]),
])
def test_own_branches_selects_by_name_level_and_width(rule, own):
    head = build(shared_branch=dict(width=8), own_branches=rule)
    assert head.own_classifiers == own
    assert head.fused_classifiers == sorted(set(range(5)) - set(own))
    assert [b.classify.out_channels for b in head.branches] == [WIDTHS[j] for j in own]


def test_overridden_classifiers_keep_their_branch():
    head = build(shared_branch=dict(width=8),
                 branch_overrides={'Traffic Sign': dict(dilation=2)})
    assert head.own_classifiers == [3]
    assert head.branches[0].adapt[0].spatial.conv.dilation == (2, 2)
    assert head.fused.adapt[0].spatial.conv.dilation == (1, 1)


def test_every_classifier_own_leaves_nothing_fused():
    head = build(shared_branch=dict(width=8), own_branches=dict(min_outputs=1))
    assert head.fused is None and len(head.branches) == 5


@pytest.mark.parametrize('rule, error, says', [
    (dict(level=1), ValueError, "unknown key(s) ['level']; use nodes, max_level, min_outputs"),
    (dict(max_level='1'), ValueError, "own_branches.max_level must be an integer, got '1'"),
    (dict(min_outputs=True), ValueError, 'own_branches.min_outputs must be an integer'),
    (dict(nodes=['Ryder']), UnknownNodeError, 'Ryder'),
    (dict(nodes=['Sky']), UnknownNodeError, 'Sky'),      # a leaf: no classifier
])
def test_bad_own_branches_raise_naming_the_key(rule, error, says):
    with pytest.raises(error) as info:
        build(shared_branch=dict(width=8), own_branches=rule)
    assert says in str(info.value)


def test_shared_head_trains_every_parameter_and_reloads():
    head = build(shared_branch=dict(width=8), own_branches=dict(max_level=1),
                 loss_decode=dict(type='HierarchicalLoss', unknown_dataset='train_all'))
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    tax = head.taxonomy
    samples = []
    for seed in range(2):
        leaf = torch.randint(0, tax.num_leaves, (1, 16, 20),
                             generator=torch.Generator().manual_seed(seed))
        sample = SegDataSample(metainfo=dict(dataset_key='all_leaves'))
        sample.gt_sem_seg = PixelData(data=torch.as_tensor(tax.leaf_indices.copy())[leaf])
        samples.append(sample)
    features = [torch.randn(2, 6, 8, 10)]
    losses = head.loss(features, samples, None)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    trained = {name for name, p in head.named_parameters() if p.grad is not None
               and p.grad.abs().sum() > 0}
    assert {n.split('.')[0] for n in trained} == {'shared', 'branches', 'fused'}
    assert any(n.startswith('fused.upsample.') for n in trained)
    copy = build(shared_branch=dict(width=8), own_branches=dict(max_level=1)).eval()
    copy.load_state_dict(head.state_dict())
    head.eval()
    with torch.no_grad():
        for x, y in zip(head.forward(features), copy.forward(features)):
            assert torch.equal(x, y)


def test_large_random_tree_fuses_into_one_conv_per_width():
    children, count, frontier = {'n0': []}, 1, ['n0']
    generator = torch.Generator().manual_seed(0)
    while count < 400:
        parent = frontier.pop(0)
        for _ in range(int(torch.randint(2, 9, (1,), generator=generator))):
            children[parent].append(f'n{count}')
            children[f'n{count}'] = []
            frontier.append(f'n{count}')
            count += 1

    def nest(node):
        return {c: nest(c) for c in children[node]} if children[node] else None

    leaves = [n for n, c in children.items() if not c]
    tax = Taxonomy.from_dict({'name': 'big', 'tree': {'n0': nest('n0')}, 'datasets': {
        'fine': {'annotation': 'pixel', 'encoding': 'int32',
                 'classes': dict(enumerate(leaves))}}})
    head = MODELS.build(dict(type='HierarchicalDecodeHead', taxonomy=tax, in_channels=4,
                             channels=8, shared_branch=dict(width=8),
                             norm_cfg=dict(type='BN'))).eval()
    widths = [c.num_outputs for c in tax.classifiers]
    assert len(head.branches) == 0 and len(head.fused.upsample) == len(set(widths))
    assert head.fused.classify.out_channels == sum(widths) == tax.num_nodes - 1
    with torch.no_grad():
        out = head.forward([torch.randn(1, 4, 3, 5)])
        nodes = head.decide(out, (9, 13))
    assert [x.shape[1] for x in out] == widths
    assert set(nodes.unique().tolist()) <= set(tax.leaf_indices.tolist())


def test_branch_overrides_in_the_paper_configuration():
    head = build(branch=dict(width=8, depth=1),
                 branch_overrides={'Traffic Sign (Front)': dict(dilation=3, depth=2)})
    depths = [len(b.adapt) for b in head.branches]
    assert depths == [1, 1, 1, 1, 2]
    assert head.branches[4].adapt[1].spatial.conv.dilation == (3, 3)
    assert head.branches[0].adapt[0].spatial.conv.dilation == (1, 1)
    with pytest.raises(UnknownNodeError, match='Trafic Sign'):
        build(branch_overrides={'Trafic Sign': dict(dilation=2)})
