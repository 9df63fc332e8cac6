"""Online refinement of box labels at exact ties: the loss trains a box pixel
below classifier ``j`` exactly where the greedy decision passes through
``j``'s node - both take a classifier's pick from ``classifier_choice``, the
first maximal logit.

Which pixels a classifier is trained on is read from the gradient: for finite
logits a counted pixel always gets a non-zero gradient, an uncounted one
exactly zero."""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mmseg.registry import MODELS

from mmhier.models import DecisionTables, LossTables, greedy_decision, output_nodes
from mmhier.models.losses import hierarchical_cross_entropy
from mmhier.structures import IGNORE_INDEX, encode_labels
from mmhier.taxonomy import Taxonomy

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.too_slow])

# Every root child is a classifier, so a box pixel's path can sit at every
# position of the root's child list; `deep` adds a third level.
FOUR_WAY = '''
name: four_way
tree:
  root:
    a: [a0, a1]
    b: [b0, b1]
    c:
      c0:
      deep: [x, y]
      c2:
    d: [d0, d1]
datasets:
  boxes:
    annotation: box
    classes: {0: a0, 1: a1, 2: b0, 3: b1, 4: c0, 5: x, 6: y, 7: c2, 8: d0, 9: d1}
  pixels:
    annotation: pixel
    classes: {0: a0, 1: a1, 2: b0, 3: b1, 4: c0, 5: x, 6: y, 7: c2, 8: d0, 9: d1}
'''


@pytest.fixture(scope='module')
def four_way():
    return Taxonomy.from_string(FOUR_WAY)


def trained_pixels(logits, labels, dataset_index, tables):
    """Per classifier, the ``(N, H, W)`` pixels its loss counts, from the
    gradient; also the ``correct`` counts."""
    logits = [x.detach().clone().requires_grad_() for x in logits]
    result = hierarchical_cross_entropy(logits, labels, dataset_index, tables)
    result.loss.sum().backward()
    return [x.grad.ne(0).any(dim=1) for x in logits], result


def box_labels(taxonomy, names):
    node = torch.tensor([[[taxonomy.index(n) for n in names]]])   # (1, 1, P)
    return encode_labels(node, torch.ones(1, 1, 1, dtype=torch.long), taxonomy.num_nodes)


def test_all_zero_logits_train_no_box_pixel_the_greedy_decision_misses(shipped):
    """The reported case: with all-zero logits the head decides 'sky' (the
    root's first child), so no box pixel of 'traffic sign front' is kept."""
    tax = shipped('tiny_street')
    head = MODELS.build(dict(type='HierarchicalDecodeHead', taxonomy=tax, in_channels=4,
                             channels=4, branch=dict(width=4), norm_cfg=dict(type='BN')))
    zeros = [torch.zeros(1, c.num_outputs, 4, 5) for c in tax.classifiers]
    assert set(head.decide(zeros, (4, 5)).unique().tolist()) == {tax.index('sky')}
    labels = encode_labels(torch.full((1, 4, 5), tax.index('stop')),
                           torch.ones(1, 1, 1, dtype=torch.long), tax.num_nodes)
    tables = LossTables(tax)
    gtsdb = torch.tensor([tax.dataset_keys.index('gtsdb_like')])
    trained, result = trained_pixels(zeros, labels, gtsdb, tables)
    front = tax.classifier('traffic sign front').index
    assert result.counted.tolist() == [0] * tax.num_classifiers
    assert result.loss[front].item() == 0.0 and not trained[front].any()


def test_two_way_ties_at_every_position_of_the_root(four_way):
    """Root children a, b, c, d (positions 0-3). A box pixel of child p with
    a two-way root tie between p and q is kept for p's classifier iff p < q."""
    tables = LossTables(four_way)
    leaf_of = {'a': 'a0', 'b': 'b1', 'c': 'c2', 'd': 'd0'}
    children = list(leaf_of)
    cases = [(p, q) for p in range(4) for q in range(4) if p != q]
    root = torch.zeros(1, 4, 1, len(cases))
    for pixel, (p, q) in enumerate(cases):
        root[0, [p, q], 0, pixel] = 1.0
    logits = [root] + [torch.zeros(1, c.num_outputs, 1, len(cases))
                       for c in four_way.classifiers[1:]]
    labels = box_labels(four_way, [leaf_of[children[p]] for p, _ in cases])
    trained, _ = trained_pixels(logits, labels, torch.tensor([0]), tables)
    for pixel, (p, q) in enumerate(cases):
        j = four_way.classifier(children[p]).index
        assert bool(trained[j][0, 0, pixel]) == (p < q), (children[p], children[q])


@pytest.mark.parametrize('root_partner', [None, 'a', 'd'])
@pytest.mark.parametrize('c_partner', [None, 'c0', 'c2'])
def test_ties_at_two_ancestor_levels(four_way, root_partner, c_partner):
    """'deep' (under c, position 1 of c0, deep, c2) is reached iff neither the
    root's tie partner precedes c nor c's tie partner precedes deep."""
    tables = LossTables(four_way)
    logits = [torch.zeros(1, c.num_outputs, 1, 1) for c in four_way.classifiers]
    root, c = four_way.classifier('root'), four_way.classifier('c')
    root_kids = [four_way.nodes[i] for i in root.child_indices]
    c_kids = [four_way.nodes[i] for i in c.child_indices]
    logits[root.index][0, root_kids.index('c')] = 1.0
    logits[c.index][0, c_kids.index('deep')] = 1.0
    if root_partner:
        logits[root.index][0, root_kids.index(root_partner)] = 1.0
    if c_partner:
        logits[c.index][0, c_kids.index(c_partner)] = 1.0
    trained, _ = trained_pixels(logits, box_labels(four_way, ['x']), torch.tensor([0]),
                                tables)
    reached = root_partner != 'a' and c_partner != 'c0'
    assert bool(trained[four_way.classifier('deep').index].any()) == reached
    assert bool(trained[c.index].any()) == (root_partner != 'a')
    assert bool(trained[root.index].any())   # nothing above the root to agree


@st.composite
def batches(draw, taxonomy):
    """Logits with many exact ties (a few levels, or all zero), labels at any
    node (or ignored), box or per-pixel samples of known or unknown datasets."""
    n, h, w = draw(st.integers(1, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2 ** 31)))
    levels = draw(st.integers(1, 3))
    logits = [torch.randint(0, levels, (n, c.num_outputs, h, w), generator=generator).float()
              for c in taxonomy.classifiers]
    node = torch.randint(IGNORE_INDEX, taxonomy.num_nodes, (n, h, w), generator=generator)
    is_box = torch.tensor(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    labels = encode_labels(node, is_box.long().view(n, 1, 1), taxonomy.num_nodes)
    dataset = torch.tensor(draw(st.lists(st.integers(0, len(taxonomy.dataset_keys)),
                                         min_size=n, max_size=n)))
    return logits, node, is_box, labels, dataset


TABLES = {}


def tables_of(taxonomy):
    """Loss tables, a head deciding down to the leaves, the decision tables
    and the ancestry as tensors."""
    if taxonomy.name not in TABLES:
        supervision = np.concatenate([taxonomy.supervision,   # + unknown datasets
                                      np.ones((1, taxonomy.num_classifiers), dtype=bool)])
        head = MODELS.build(dict(type='HierarchicalDecodeHead', taxonomy=taxonomy,
                                 in_channels=4, channels=4, branch=dict(width=4),
                                 norm_cfg=dict(type='BN')))
        TABLES[taxonomy.name] = (
            LossTables(taxonomy), head, DecisionTables(taxonomy, output_nodes(taxonomy)),
            torch.tensor(taxonomy.ancestor_at_level), torch.tensor(taxonomy.node_level),
            torch.tensor(supervision))
    return TABLES[taxonomy.name]


def check_refinement(taxonomy, batch):
    logits, node, is_box, labels, dataset = batch
    loss_tables, head, decision_tables, anc, level, supervision = tables_of(taxonomy)
    trained, result = trained_pixels(logits, labels, dataset, loss_tables)
    # independently: the head's greedy decision (leaves) and the taxonomy's ancestry
    decided = head.decide(logits, logits[0].shape[-2:])
    assert torch.equal(decided, greedy_decision(logits, decision_tables))
    labelled = node >= 0
    safe = node.clamp(min=0)
    for c in taxonomy.classifiers:
        k = int(taxonomy.node_level[c.node_index])
        below = labelled & (level[safe] > k) & (anc[k][safe] == c.node_index)
        reached = anc[k][decided] == c.node_index               # decision passes c's node
        trains = supervision[dataset, c.index].view(-1, 1, 1)
        box = is_box.view(-1, 1, 1)
        expected = below & trains & (~box | reached)   # the root is always reached
        assert torch.equal(trained[c.index], expected), c.node
        assert result.counted[c.index].item() == int(expected.sum())
        # accuracy: the classifier's own pick (argmax) is the label's path child
        picked = torch.tensor(c.child_indices)[logits[c.index].argmax(dim=1)]
        right = picked == anc[k + 1][safe]
        assert result.correct[c.index].item() == int((expected & right).sum()), c.node


@PROPERTY_SETTINGS
@given(st.data())
def test_refined_pixels_are_where_the_greedy_decision_passes_tiny_street(shipped, data):
    tax = shipped('tiny_street')
    check_refinement(tax, data.draw(batches(tax)))


@PROPERTY_SETTINGS
@given(st.data())
def test_refined_pixels_are_where_the_greedy_decision_passes_four_way(four_way, data):
    check_refinement(four_way, data.draw(batches(four_way)))
