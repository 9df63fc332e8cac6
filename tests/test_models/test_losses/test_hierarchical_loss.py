"""HierarchicalLoss: hand-computed values, box refinement, supervision rules,
empty classifiers and the absence of device-to-host synchronisation."""
import contextlib
import math

import pytest
import torch
from mmseg.registry import MODELS

import mmhier.models  # noqa: F401  (registers)
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
