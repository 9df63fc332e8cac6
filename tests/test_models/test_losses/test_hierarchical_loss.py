"""HierarchicalLoss: hand-computed values, box refinement, supervision rules,
empty classifiers and the absence of device-to-host synchronisation."""
import contextlib
import math

import pytest
import torch
from mmseg.registry import MODELS

import mmhier.models  # noqa: F401  (registers)
import mmhier.models.losses
from mmhier.models.losses import hierarchical_cross_entropy
from mmhier.models.tables import LossTables

LN2, LN3 = math.log(2), math.log(3)
N = 7  # toy nodes: 0 root, 1 sky, 2 sign, 3 back, 4 front, 5 stop, 6 yield


def toy_batch():
    """Sample 0 from `fine` (per pixel), sample 1 from `boxes` (pseudo labels)."""
    labels = torch.tensor([[[1, 3], [4, -1]],                    # sky, back, front
                           [[5 + N, 6 + N], [5 + N, -1]]])       # stop, yield, stop (box)
    root = torch.zeros(2, 2, 2, 2)
    root[0, :, 0, 0] = torch.tensor([LN3, 0.0])   # sky pixel: right, p = 3/4
    root[0, :, 0, 1] = torch.tensor([LN3, 0.0])   # back pixel: wrong, p(sign) = 1/4
    root[0, :, 1, 0] = torch.tensor([0.0, LN3])   # front pixel: right, p = 3/4
    root[1, :, 0, 0] = torch.tensor([0.0, 1.0])   # -> sign (agrees)
    root[1, :, 0, 1] = torch.tensor([1.0, 0.0])   # -> sky (disagrees)
    root[1, :, 1, 0] = torch.tensor([0.0, 1.0])   # -> sign (agrees)
    sign = torch.zeros(2, 2, 2, 2)
    sign[0, :, 0, 1] = torch.tensor([0.0, LN3])   # back pixel: wrong, p(back) = 1/4
    sign[0, :, 1, 0] = torch.tensor([0.0, LN3])   # front pixel: right, p = 3/4
    sign[1, :, 0, 0] = torch.tensor([0.0, 1.0])   # -> front (agrees)
    sign[1, :, 1, 0] = torch.tensor([1.0, 0.0])   # -> back (disagrees)
    front = torch.zeros(2, 2, 2, 2)
    front[1, :, 0, 0] = torch.tensor([LN3, 0.0])  # counted: stop, p = 3/4
    front[1, :, 0, 1] = torch.tensor([5.0, 0.0])  # would cost a lot if counted
    front[1, :, 1, 0] = torch.tensor([0.0, 7.0])
    logits = [x.requires_grad_() for x in (root, sign, front)]
    return logits, labels, torch.tensor([0, 1])


def test_hand_computed_value(toy):
    loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy))
    logits, labels, dataset = toy_batch()
    out = loss(logits, labels, dataset)
    ln43, ln4 = math.log(4 / 3), math.log(4)
    # root: P1 = sky, back, front of sample 0; boxes do not train root
    assert out['loss_root'].item() == pytest.approx((2 * ln43 + ln4) / 3)
    # sign (lambda 0.1): P1 = back (ln 4), front (ln 4/3)
    assert out['loss_sign'].item() == pytest.approx(0.1 * (ln4 + ln43) / 2)
    # front (lambda 0.1): P2 = only the box pixel whose ancestors agree
    assert out['loss_front'].item() == pytest.approx(0.1 * ln43)
    total = sum(v for k, v in out.items() if k.startswith('loss_'))
    assert total.item() == pytest.approx((2 * ln43 + ln4) / 3 + 0.05 * (ln4 + ln43)
                                         + 0.1 * ln43)
    assert out['acc_root'].item() == pytest.approx(200 / 3)
    assert out['acc_sign'].item() == pytest.approx(50.0)
    assert out['acc_front'].item() == pytest.approx(100.0)


def test_without_refinement_every_box_pixel_counts(toy):
    loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy, refine_boxes=False))
    logits, labels, dataset = toy_batch()
    expected = (math.log(4 / 3) + math.log1p(math.exp(5)) + math.log1p(math.exp(7))) / 3
    assert loss(logits, labels, dataset)['loss_front'].item() == pytest.approx(0.1 * expected)


def test_mixed_p1_and_p2_are_averaged_separately(toy):
    # One per-pixel label of `front` children does not exist in `fine`, so
    # use an unknown dataset row (trains all): P1 stop pixel + P2 yield pixel.
    tables = LossTables(toy)
    labels = torch.tensor([[[5, 6 + N, 6 + N]]])          # stop (pixel), yield x2 (box)
    root = torch.tensor([0.0, 1.0]).view(1, 2, 1, 1).expand(1, 2, 1, 3)
    sign = torch.tensor([0.0, 1.0]).view(1, 2, 1, 1).expand(1, 2, 1, 3)
    front = torch.tensor([[[[0.0, 0.0, LN3]], [[LN3, 0.0, 0.0]]]])  # (1, 2, 1, 3)
    result = hierarchical_cross_entropy([root, sign, front], labels,
                                        torch.tensor([len(tables.dataset_keys)]), tables)
    p1 = math.log(4)                                  # stop with p = 1/4
    p2 = (LN2 + math.log(4)) / 2                      # yield: 1/2, then 1/4
    assert result.loss[2].item() == pytest.approx(p1 + p2)
    assert result.counted.tolist()[2] == 3


def test_gradients_reach_only_supervised_classifiers(toy):
    loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy))
    logits, labels, dataset = toy_batch()
    out = loss(logits, labels, dataset)
    sum(v for k, v in out.items() if k.startswith('loss_')).backward()
    root, sign, front = (x.grad for x in logits)
    assert root[0].abs().sum() > 0 and sign[0].abs().sum() > 0
    assert root[1].abs().sum() == 0      # boxes do not train root ...
    assert sign[1].abs().sum() == 0      # ... nor sign
    assert front[0].abs().sum() == 0     # fine labels nothing below front
    assert front[1, :, 0, 0].abs().sum() > 0
    assert front[1, :, 0, 1].abs().sum() == 0 and front[1, :, 1, 0].abs().sum() == 0
    assert sign[0, :, 0, 0].abs().sum() == 0   # a sky pixel does not train sign


def test_classifier_without_pixels_is_exactly_zero(toy):
    loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy))
    logits = [torch.randn(1, k, 3, 3, requires_grad=True) for k in (2, 2, 2)]
    labels = torch.full((1, 3, 3), -1)
    out = loss(logits, labels, torch.tensor([0]))
    assert all(out[f'loss_{n}'].item() == 0.0 for n in ('root', 'sign', 'front'))
    sum(v for k, v in out.items() if k.startswith('loss_')).backward()
    assert all(torch.isfinite(x.grad).all() and x.grad.abs().sum() == 0 for x in logits)


def test_weights_per_level_and_node(toy):
    loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy,
                             level_weights=[2.0, 0.5], node_weights={'front': 3.0}))
    assert loss.tables.weights.tolist() == [2.0, 0.5, 3.0]


def test_unknown_dataset_key_raises(toy):
    from mmhier.taxonomy import UnknownDatasetError
    with pytest.raises(UnknownDatasetError):
        MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy, dataset_keys=['nope']))


@contextlib.contextmanager
def forbid_host_sync():
    """Make every known device-to-host synchronising call raise."""
    def fail(name):
        def raiser(*args, **kwargs):
            raise AssertionError(f'{name} synchronises the device with the host')
        return raiser
    getitem = torch.Tensor.__getitem__

    def checked_getitem(self, index):
        parts = index if isinstance(index, tuple) else (index,)
        if any(isinstance(p, torch.Tensor) and p.dtype == torch.bool for p in parts):
            raise AssertionError('boolean-mask indexing synchronises')
        return getitem(self, index)
    patches = {(torch.Tensor, 'item'): fail('.item()'),
               (torch.Tensor, 'nonzero'): fail('.nonzero()'),
               (torch.Tensor, 'tolist'): fail('.tolist()'),
               (torch.Tensor, 'unique'): fail('.unique()'),
               (torch.Tensor, '__bool__'): fail('bool(tensor)'),
               (torch, 'nonzero'): fail('torch.nonzero'),
               (torch, 'unique'): fail('torch.unique'),
               (torch.Tensor, '__getitem__'): checked_getitem}
    saved = {key: getattr(*key) for key in patches}
    try:
        for (owner, name), value in patches.items():
            setattr(owner, name, value)
        yield
    finally:
        for (owner, name), value in saved.items():
            setattr(owner, name, value)


def test_loss_has_no_host_synchronisation(toy):
    loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy))
    logits, labels, dataset = toy_batch()
    with forbid_host_sync():
        out = loss(logits, labels, dataset)
        total = sum(v for k, v in out.items() if k.startswith('loss_'))
        total.backward()
    with pytest.raises(AssertionError), forbid_host_sync():
        torch.ones(2).item()   # the guard itself works


def test_refinement_starts_at_the_configured_iteration(toy):
    from mmengine.logging import MessageHub
    loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy, refine_start_iter=100))
    logits, labels, dataset = toy_batch()
    hub = MessageHub.get_instance('test_refine_start')
    unrefined = (math.log(4 / 3) + math.log1p(math.exp(5)) + math.log1p(math.exp(7))) / 3
    hub.update_info('iter', 99)
    assert loss(logits, labels, dataset)['loss_front'].item() == pytest.approx(0.1 * unrefined)
    hub.update_info('iter', 100)
    assert loss(logits, labels, dataset)['loss_front'].item() == \
        pytest.approx(0.1 * math.log(4 / 3))


# ------------------------------------------ shared label space, sample checks
def test_loss_uses_the_shared_label_space_and_log_names(toy):
    from mmhier.structures import classifier_log_names, label_codec, label_space
    loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy))
    assert loss.tables.codec is label_codec(toy)
    assert loss.tables.trains.tolist() == [
        label_space(toy, 'fine').supervision.tolist(),
        label_space(toy, 'boxes').supervision.tolist(), [True, True, True]]
    assert loss.log_names == classifier_log_names(toy) == ('root', 'sign', 'front')
    assert not hasattr(mmhier.models.losses, 'classifier_slugs')


def test_colliding_classifier_names_get_the_structures_log_names():
    from mmhier.structures import classifier_log_names
    from mmhier.taxonomy import Taxonomy
    tax = Taxonomy.from_string(
        'name: t\ntree:\n  root:\n    Sign:\n      a:\n      sign!: [b, c]\n    d:\n'
        'datasets:\n  p:\n    annotation: pixel\n    classes: {0: a, 1: b, 2: c, 3: d}\n')
    loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=tax))
    logits = [torch.zeros(1, c.num_outputs, 1, 1) for c in tax.classifiers]
    out = loss(logits, torch.tensor([[[1]]]), torch.tensor([0]))
    assert classifier_log_names(tax) == ('root', 'sign', 'sign_2')
    assert sorted(out) == ['acc_root', 'acc_sign', 'acc_sign_2', 'loss_root', 'loss_sign',
                           'loss_sign_2']


def meta(key='fine', path='x.png', **extra):
    return dict(dataset_key=key, img_path=path, **extra)


def test_unknown_or_missing_dataset_key_is_refused_by_default(toy):
    from mmhier.structures import SampleDatasetKeyError
    from mmhier.taxonomy import UnknownDatasetError
    loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy))
    assert loss.sample_rows([meta('fine'), meta('boxes')]) == [0, 1]
    assert loss.fallback_row is None
    with pytest.raises(SampleDatasetKeyError) as info:
        loss.sample_rows([meta('fine'), meta('fien', 'b.png')])
    assert isinstance(info.value, UnknownDatasetError)
    message = str(info.value)
    assert message.startswith("b.png: HierarchicalLoss knows no dataset 'fien' (the "
                              "sample's dataset_key; known: 'fine', 'boxes'); did you "
                              "mean 'fine'?")
    assert "default_dataset='<key>'" in message and "unknown_dataset='train_all'" in message
    with pytest.raises(SampleDatasetKeyError, match='c.png: no dataset_key in the data '
                                                    'sample'):
        loss.sample_rows([{'img_path': 'c.png'}])
    with pytest.raises(SampleDatasetKeyError, match='data sample 1 of the batch: no '
                                                    'dataset_key'):
        loss.dataset_index(['fine', None])
    # a dataset of the taxonomy that the loss was not given is unknown to it
    only_fine = MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy,
                                  dataset_keys=['fine']))
    with pytest.raises(SampleDatasetKeyError, match=r"knows no dataset 'boxes' .*known: "
                                                    r"'fine'\)"):
        only_fine.dataset_index(['boxes'])


def test_train_all_restores_training_every_reached_classifier(toy):
    loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy,
                             unknown_dataset='train_all'))
    assert loss.dataset_index(['boxes', None, 'nope']) == [1, 2, 2]
    assert loss.tables.trains[2].tolist() == [True, True, True]
    # the P1 stop pixel and two P2 yield pixels of test_mixed_p1_and_p2_...
    labels = torch.tensor([[[5, 6 + N, 6 + N]]])
    root = torch.tensor([0.0, 1.0]).view(1, 2, 1, 1).expand(1, 2, 1, 3)
    front = torch.tensor([[[[0.0, 0.0, LN3]], [[LN3, 0.0, 0.0]]]])
    rows = torch.tensor(loss.dataset_index([None]))
    out = loss([root, root, front], labels, rows)
    assert out['loss_front'].item() == pytest.approx(
        0.1 * (math.log(4) + (LN2 + math.log(4)) / 2))


def test_default_dataset_applies_that_datasets_rules(toy):
    loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy,
                             default_dataset='boxes'))
    assert loss.fallback_row == 2
    assert loss.dataset_index(['fine', 'unknown', None]) == [0, 2, 2]
    assert loss.tables.trains[2].tolist() == loss.tables.trains[1].tolist() == \
        [False, False, True]
    logits, labels, _ = toy_batch()
    by_default = loss(logits, labels, torch.tensor(loss.dataset_index(['fine', None])))
    by_key = loss(logits, labels, torch.tensor([0, 1]))
    assert {k: v.item() for k, v in by_default.items()} == \
        {k: v.item() for k, v in by_key.items()}


def test_bad_default_configs(toy):
    from mmhier.taxonomy import UnknownDatasetError
    with pytest.raises(ValueError, match="unknown_dataset='ignore'.*'error', 'train_all'"):
        MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy, unknown_dataset='ignore'))
    with pytest.raises(ValueError, match='give one of them'):
        MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy, default_dataset='fine',
                          unknown_dataset='train_all'))
    with pytest.raises(UnknownDatasetError, match="no dataset 'fin'; did you mean 'fine'"):
        MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy, default_dataset='fin'))


def test_sample_of_another_tree_is_refused_even_with_a_default(toy):
    from mmhier.structures import SampleTaxonomyMismatchError, sample_provenance
    from mmhier.taxonomy import Taxonomy
    from tests.test_models.conftest import TOY
    other = Taxonomy.from_string(TOY.replace('yield]', 'yield, end]'), 'other.yaml')
    same_tree = Taxonomy.from_string(TOY.replace('name: loss_toy', 'name: renamed'),
                                     'renamed.yaml')
    for config in ({}, dict(unknown_dataset='train_all'), dict(default_dataset='fine')):
        loss = MODELS.build(dict(type='HierarchicalLoss', taxonomy=toy, **config))
        assert loss.sample_rows([meta(**sample_provenance(same_tree))]) == [0]
        with pytest.raises(SampleTaxonomyMismatchError) as info:
            loss.sample_rows([meta(), meta(path='y.png', **sample_provenance(other))])
        assert str(info.value).startswith(
            'y.png: its labels were encoded with taxonomy other.yaml (tree hash '
            f"{other.tree_hash[:12]}), but HierarchicalLoss uses taxonomy 'loss_toy' "
            f'(<string>, tree hash {toy.tree_hash[:12]})')


def head_samples(toy, metas):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for info in metas:
        sample = SegDataSample(metainfo=info)
        sample.gt_sem_seg = PixelData(data=torch.tensor([[[1, 3], [5 + N, -1]]]))
        samples.append(sample)
    return samples


def test_head_loss_by_feat_checks_every_sample(toy):
    from mmhier.structures import (SampleDatasetKeyError, SampleTaxonomyMismatchError,
                                   sample_provenance)
    from mmhier.taxonomy import Taxonomy
    from tests.test_models.conftest import TOY
    head = MODELS.build(dict(type='HierarchicalDecodeHead', taxonomy=toy, in_channels=4,
                             channels=4, branch=dict(width=4), norm_cfg=dict(type='BN')))
    logits = [torch.zeros(2, c.num_outputs, 1, 1, requires_grad=True)
              for c in toy.classifiers]
    good = dict(meta('fine', 'a.png'), **sample_provenance(toy))
    out = head.loss_by_feat(logits, head_samples(toy, [good, meta('boxes', 'b.png')]))
    assert sorted(out) == ['acc_front', 'acc_root', 'acc_sign', 'loss_front',
                           'loss_root', 'loss_sign']
    with pytest.raises(SampleDatasetKeyError, match="b.png: HierarchicalLoss knows no "
                                                    "dataset 'gtsdb'"):
        head.loss_by_feat(logits, head_samples(toy, [good, meta('gtsdb', 'b.png')]))
    other = Taxonomy.from_string(TOY.replace('yield]', 'yield, end]'), 'other.yaml')
    with pytest.raises(SampleTaxonomyMismatchError, match='b.png: .*other.yaml'):
        head.loss_by_feat(logits, head_samples(
            toy, [good, dict(meta('boxes', 'b.png'), **sample_provenance(other))]))
    tolerant = MODELS.build(dict(
        type='HierarchicalDecodeHead', taxonomy=toy, in_channels=4, channels=4,
        branch=dict(width=4), norm_cfg=dict(type='BN'),
        loss_decode=dict(type='HierarchicalLoss', unknown_dataset='train_all')))
    tolerant.loss_by_feat(logits, head_samples(toy, [good, {'img_path': 'c.png'}]))


def test_checked_head_loss_has_no_host_synchronisation(toy):
    """The key and hash checks read Python metainfo: loss_by_feat stays free
    of device-to-host synchronisation."""
    from mmhier.structures import sample_provenance
    head = MODELS.build(dict(type='HierarchicalDecodeHead', taxonomy=toy, in_channels=4,
                             channels=4, branch=dict(width=4), norm_cfg=dict(type='BN')))
    logits = [torch.randn(2, c.num_outputs, 1, 1, requires_grad=True)
              for c in toy.classifiers]
    samples = head_samples(toy, [dict(meta('fine'), **sample_provenance(toy)),
                                 dict(meta('boxes'), **sample_provenance(toy))])
    with forbid_host_sync():
        out = head.loss_by_feat(logits, samples)
        sum(v for k, v in out.items() if k.startswith('loss_')).backward()
    assert all(x.grad is not None for x in logits)
