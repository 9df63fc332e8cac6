"""HierarchicalLoss with node sets (partial labels): hand-computed values, box
refinement through allowed children, gradients against a slow per-pixel
reference, and node labels giving exactly the loss without node sets."""
import math

import networkx as nx
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmhier.models.decision import classifier_choice
from mmhier.models.losses import hierarchical_cross_entropy
from mmhier.models.tables import LossTables
from mmhier.taxonomy import Taxonomy
from tests.test_models.test_losses.test_hierarchical_loss import forbid_host_sync

LN2, LN3, LN43 = math.log(2), math.log(3), math.log(4 / 3)

PARTIAL = '''
name: partial_toy
tree:
  root:
    sky:
    vehicle:
      car: [sedan, van]
      truck:
      bus:
datasets:
  fine:
    annotation: pixel
    classes: {0: sky, 1: sedan, 2: van, 3: truck, 4: bus}
  coarse:
    annotation: pixel
    classes:
      0: sky
      1: {name: light vehicle, nodes: [car, truck]}
      2: bus
      3: {name: sky or bus, nodes: [sky, bus]}
  boxes:
    annotation: box
    classes:
      0: {name: small, nodes: [sedan, truck]}
      1: {name: not a van, nodes: [sedan, truck, bus]}
      2: bus
      3: van
'''
# nodes: 0 root, 1 sky, 2 vehicle, 3 car, 4 sedan, 5 van, 6 truck, 7 bus
# classifiers: 0 root (sky, vehicle), 1 vehicle (car, truck, bus), 2 car (sedan, van)
# node sets: 8 [car, truck], 9 [sky, bus], 10 [sedan, truck], 11 [sedan, truck, bus]
CAR_OR_TRUCK, SKY_OR_BUS, SMALL, NOT_VAN, T = 8, 9, 10, 11, 12
SKY, SEDAN, VAN, TRUCK, BUS = 1, 4, 5, 6, 7


@pytest.fixture(scope='module')
def tax():
    return Taxonomy.from_string(PARTIAL)


def build_loss(tax, **kwargs):
    return MODELS.build(dict(type='HierarchicalLoss', taxonomy=tax,
                             level_weights=[1.0, 1.0, 1.0], **kwargs))


def pixels(*columns):
    """``(1, K, 1, W)`` logits from one list of K logits per pixel."""
    return torch.tensor(columns, dtype=torch.float32).T.reshape(1, -1, 1, len(columns))


def test_the_toy_tables(tax):
    assert tax.num_targets == T
    assert tax.target_choices[:, 8:].tolist() == [[1, -3, 1, 1],     # root
                                                   [-2, 2, -2, -3],  # vehicle
                                                   [-1, -1, 0, 0]]   # car
    assert tax.trained_classifiers('coarse') == ('root', 'vehicle')
    assert tax.trained_classifiers('boxes') == ('vehicle', 'car')
    tables = LossTables(tax)
    assert tables.partial_classifiers == [False, True, False]
    assert tables.any_classifiers == [True, True, False]


def test_hand_computed_partial_label_terms(tax):
    """coarse pixels: [car, truck], [sky, bus], bus."""
    loss = build_loss(tax)
    labels = torch.tensor([[[CAR_OR_TRUCK, SKY_OR_BUS, BUS]]])
    root = pixels([0, LN3], [5, 0], [LN3, 0])        # p(vehicle) 3/4, -, 1/4
    vehicle = pixels([0, 0, LN2], [0, 0, LN2], [LN2, 0, 0])
    car = pixels([3, 0], [0, 3], [1, 2])             # coarse does not train car
    out = loss([root, vehicle, car], labels, torch.tensor([1]))
    # root: [sky, bus] allows both children: no term
    assert out['loss_root'].item() == pytest.approx((LN43 + math.log(4)) / 2)
    # vehicle: -log(p(car) + p(truck)) = -log(1/2); bus 1/2; bus 1/4
    assert out['loss_vehicle'].item() == pytest.approx((LN2 + LN2 + math.log(4)) / 3)
    assert out['loss_car'].item() == 0.0
    assert out['acc_root'].item() == pytest.approx(50.0)
    # picks bus (not allowed), bus (right), car (wrong)
    assert out['acc_vehicle'].item() == pytest.approx(100 / 3)


def test_box_refinement_uses_allowed_children(tax):
    """Box pixels p, q of [sedan, truck] and r, s of [sedan, truck, bus]."""
    labels = torch.tensor([[[SMALL + T, SMALL + T, NOT_VAN + T, NOT_VAN + T]]])
    root = pixels([0, 1], [0, 1], [0, 1], [1, 0])   # vehicle x3, then sky
    vehicle = pixels([LN2, 0, 0], [0, 0, LN2], [0, 0, LN2], [0, 0, 0])
    car = pixels([LN3, 0], [0, 5], [0, LN3], [0, 7])
    rows = torch.tensor([2])
    refined = build_loss(tax)([root, vehicle, car], labels, rows)
    # vehicle: p picks car (allowed), q bus: -log(3/4), -log(1/2); r, s: all
    # children allowed, no term
    assert refined['loss_vehicle'].item() == pytest.approx((LN43 + LN2) / 2)
    # car: p kept (root vehicle, vehicle car in the set); q dropped (vehicle
    # picked bus, outside [car, truck]); r kept (any vehicle decision agrees
    # with [sedan, truck, bus]); s dropped (root picked sky)
    assert refined['loss_car'].item() == pytest.approx((LN43 + math.log(4)) / 2)
    assert refined['loss_root'].item() == 0.0       # boxes do not train root
    unrefined = build_loss(tax, refine_boxes=False)([root, vehicle, car], labels, rows)
    assert unrefined['loss_vehicle'].item() == pytest.approx((LN43 + LN2) / 2)
    assert unrefined['loss_car'].item() == pytest.approx(
        (LN43 + math.log1p(math.exp(5)) + math.log(4) + math.log1p(math.exp(7))) / 4)


def test_partial_label_nll_gathers_only_the_allowed_children():
    from mmhier.models.losses.functional import partial_label_nll
    logits = torch.randn(2, 4, 3, 3)
    log_probs = logits.log_softmax(dim=1)
    target = torch.randint(0, 4, (2, 3, 3))
    # one valid entry (padding after it): exactly the cross-entropy
    index = torch.stack([target, torch.zeros_like(target)], dim=1)
    valid = torch.stack([torch.ones_like(target), torch.zeros_like(target)], dim=1).bool()
    torch.testing.assert_close(partial_label_nll(log_probs, index, valid),
                               F.cross_entropy(logits, target, reduction='none'))
    # children 1 and 3 allowed: -log(p1 + p3)
    index = torch.tensor([1, 3]).view(1, 2, 1, 1).expand(2, 2, 3, 3)
    probs = logits.softmax(dim=1)
    torch.testing.assert_close(partial_label_nll(log_probs, index, torch.ones_like(index).bool()),
                               -(probs[:, 1] + probs[:, 3]).log())
    every = torch.arange(4).view(1, 4, 1, 1).expand(2, 4, 3, 3)
    torch.testing.assert_close(partial_label_nll(log_probs, every, torch.ones_like(every).bool()),
                               torch.zeros(2, 3, 3), atol=1e-6, rtol=0)


def test_allowed_children_tables_of_the_loss(tax):
    tables = LossTables(tax)
    assert tables.allowed_widths == [0, 2, 0] and tables.allowed_offsets == [-1, 0, -1]
    index = tables.allowed_index.view(T + 1, 2)
    # vehicle (car 0, truck 1, bus 2): [car, truck] and [sedan, truck] allow 0, 1
    assert index[[CAR_OR_TRUCK, SMALL]].tolist() == [[0, 1], [0, 1]]
    # one child: bus for [sky, bus] and for bus; padding -1; no child: 0
    assert index[[SKY_OR_BUS, BUS, TRUCK, SKY, T]].tolist() == \
        [[2, -1], [2, -1], [1, -1], [0, -1], [0, -1]]


# ------------------------------------------------------- slow reference
def reference_loss(tax: Taxonomy, logits, labels, rows, refine=True):
    """The issue's rule, pixel by pixel, on the networkx graph.

    For classifier j (node n) and a pixel whose target has members S: the
    allowed children are those whose subtree holds a member of S; none
    (n on no member's path) or all: no term; one: cross-entropy; several:
    -log(sum p). Box pixels count only where every ancestor classifier's
    decision is allowed (or all its children are).
    """
    graph, names = tax.graph, tax.nodes
    keys = tax.dataset_keys
    num_targets = tax.num_targets
    members = [tuple(names[m] for m in ms) for ms in tax.target_members]

    def allowed(node, target):
        kids = tax.children(node)
        ok = [i for i, c in enumerate(kids)
              if any(m == c or m in nx.descendants(graph, c) for m in members[target])]
        return ok

    terms = {(j, kind): [] for j in range(tax.num_classifiers) for kind in 'PB'}
    for n in range(labels.shape[0]):
        key = keys[int(rows[n])]
        for y in range(labels.shape[1]):
            for x in range(labels.shape[2]):
                label = int(labels[n, y, x])
                if label < 0:
                    continue
                box, target = label >= num_targets, label % num_targets
                for c in tax.classifiers:
                    ok = allowed(c.node, target)
                    if not ok or len(ok) == c.num_outputs:
                        continue
                    if c.node not in tax.trained_classifiers(key):
                        continue
                    if box and refine:
                        agree = True
                        for a in tax.ancestors(c.node):
                            ja = tax.classifier(a).index
                            picked = int(logits[ja][n, :, y, x].argmax())
                            a_ok = allowed(a, target)
                            agree &= picked in a_ok or len(a_ok) == len(tax.children(a))
                        if not agree:
                            continue
                    log_p = logits[c.index][n, :, y, x].float().log_softmax(0)
                    terms[c.index, 'B' if box else 'P'].append(-log_p[ok].logsumexp(0))
    out = []
    for j in range(tax.num_classifiers):
        total = torch.zeros(())
        for kind in 'PB':
            if terms[j, kind]:
                total = total + torch.stack(terms[j, kind]).mean()
        out.append(total)
    return torch.stack(out)


def random_batch(tax, seed, size=(3, 4, 5)):
    generator = torch.Generator().manual_seed(seed)
    n, h, w = size
    rows = torch.arange(n) % len(tax.dataset_keys)
    labels = torch.empty(size, dtype=torch.long)
    for i in range(n):
        key = tax.dataset_keys[int(rows[i])]
        table = torch.tensor(tax.label_to_target(key))
        ids = torch.randint(0, len(table), (h, w), generator=generator)
        target = table[ids]
        box = tax.dataset(key).annotation == 'box'
        labels[i] = torch.where(target >= 0, target + box * tax.num_targets, -1)
    labels[0, 0, 0] = -1
    logits = [torch.randn(n, c.num_outputs, h, w, generator=generator).requires_grad_()
              for c in tax.classifiers]
    return logits, labels, rows


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('refine', [True, False])
def test_loss_and_gradients_match_the_slow_reference(tax, seed, refine):
    tables = LossTables(tax)
    logits, labels, rows = random_batch(tax, seed)
    fast = hierarchical_cross_entropy(logits, labels, rows, tables, refine).loss
    slow_logits = [x.detach().clone().requires_grad_() for x in logits]
    slow = reference_loss(tax, slow_logits, labels, rows, refine)
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-6)
    assert (fast > 0).all()              # every classifier has pixels here
    fast.sum().backward()
    slow.sum().backward()
    for a, b in zip(logits, slow_logits):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-7)


def test_the_reference_agrees_on_the_taxonomy_without_node_sets(toy):
    tables = LossTables(toy)
    logits, labels, rows = random_batch(toy, 5)
    fast = hierarchical_cross_entropy(logits, labels, rows, tables).loss
    torch.testing.assert_close(fast, reference_loss(toy, logits, labels, rows))


# --------------------------------------- node labels: today's loss, exactly
def node_label_loss(tax, logits, labels, rows, refine=True):
    """The loss before node sets: cross-entropy of the path child, box pixels
    kept where every ancestor's decision follows the pixel's path."""
    tables = LossTables(tax)
    node, is_box = tables.codec.decode(labels)
    node = torch.where(node < 0, tax.num_targets, node)
    path_table = torch.full((tax.num_classifiers, tax.num_targets + 1), -1)
    path_table[:, :tax.num_nodes] = torch.tensor(tax.classifier_targets)
    trains = tables.trains[rows]
    out, follows, agree = [], [], []
    for j, x in enumerate(logits):
        path = path_table[j][node]
        follows.append(classifier_choice(x) == path)
        parent = tables.parent_list[j]
        agree.append(agree[parent] & follows[parent] if parent >= 0
                     else torch.ones_like(is_box))
        valid = (path >= 0) & trains[:, j].view(-1, 1, 1)
        p1, p2 = valid & ~is_box, valid & is_box & (agree[j] if refine else True)
        nll = F.cross_entropy(x, torch.where(p1 | p2, path, -1), ignore_index=-1,
                              reduction='none')
        out.append((nll * p1).sum() / p1.sum().clamp(min=1)
                   + (nll * p2).sum() / p2.sum().clamp(min=1))
    return torch.stack(out)


def test_toy_without_node_sets_is_bitwise_the_node_label_loss(toy):
    tables = LossTables(toy)
    assert tables.partial_classifiers == [False] * 3 and not any(tables.any_classifiers)
    logits, labels, rows = random_batch(toy, 7)
    fast = hierarchical_cross_entropy(logits, labels, rows, tables).loss
    assert torch.equal(fast, node_label_loss(toy, logits, labels, rows))


def test_node_labels_in_a_taxonomy_with_node_sets_keep_their_loss(tax):
    tables = LossTables(tax)
    logits, labels, rows = random_batch(tax, 11)
    node_only = torch.where(labels % T < tax.num_nodes, labels, -1)
    node_only[0, 1, :] = torch.tensor([SKY, SEDAN, VAN, TRUCK, BUS])
    node_only[2, 1, :] = torch.tensor([SEDAN, VAN, TRUCK, BUS, VAN]) + T
    fast = hierarchical_cross_entropy(logits, node_only, rows, tables).loss
    expected = node_label_loss(tax, logits, node_only, rows)
    torch.testing.assert_close(fast, expected, rtol=1e-6, atol=0)
    assert (expected > 0).all()


def test_partial_labels_have_no_host_synchronisation(tax):
    loss = build_loss(tax)
    logits, labels, rows = random_batch(tax, 3)
    with forbid_host_sync():
        out = loss(logits, labels, rows)
        sum(v for k, v in out.items() if k.startswith('loss_')).backward()
    assert all(torch.isfinite(x.grad).all() for x in logits)
