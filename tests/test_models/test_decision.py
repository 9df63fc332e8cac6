"""Greedy and path decisions, levels of detail, chunked deciding, the
one tie rule (the first maximal logit) of ``classifier_choice``, and the
traceable path (``decide_traceable``) exports record."""
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmhier.models import (DecisionTables, classifier_choice, greedy_decision, output_nodes,
                           path_decision, path_log_probs, path_probabilities)
from mmhier.models.decision import decide_traceable, exporting
from mmhier.models.resize import resize
from mmhier.taxonomy import UnknownNodeError


def one_hot_logits(choices, sizes):
    """Logits (1, K, 1, P) whose argmax per pixel is ``choices[j][p]``."""
    out = []
    for picks, k in zip(choices, sizes):
        x = torch.zeros(1, k, 1, len(picks))
        x[0, picks, 0, torch.arange(len(picks))] = 1.0
        out.append(x)
    return out


def test_greedy_decision_tiny(shipped):
    tax = shipped('tiny_street')
    tables = DecisionTables(tax, output_nodes(tax))
    sizes = [c.num_outputs for c in tax.classifiers]   # [10, 2, 2, 2, 5]
    # 5 pixels. root picks: sky(0), driveable(7), rider(8), traffic sign(9) x2
    # driveable picks lane marking(1); rider picks bicyclist(0)
    # traffic sign picks front(1) for pixel 3, back(0) for pixel 4
    # traffic sign front picks keep left(4) for pixel 3 (two levels below root)
    choices = [[0, 7, 8, 9, 9], [0, 1, 0, 0, 0], [1, 1, 0, 1, 1], [0, 0, 0, 1, 0],
               [0, 0, 0, 4, 2]]
    nodes = greedy_decision(one_hot_logits(choices, sizes), tables)
    assert [tax.nodes[i] for i in nodes[0, 0].tolist()] == [
        'sky', 'lane marking', 'bicyclist', 'keep left', 'traffic sign back']


def test_each_classifier_decides_only_on_its_parents_pixels(shipped):
    tax = shipped('tiny_street')
    tables = DecisionTables(tax, output_nodes(tax))
    sizes = [c.num_outputs for c in tax.classifiers]
    # Lower classifiers are confident but the root says 'sky': they are ignored.
    choices = [[0], [1], [1], [1], [3]]
    nodes = greedy_decision(one_hot_logits(choices, sizes), tables)
    assert tax.nodes[nodes.item()] == 'sky'


def test_level_of_detail(shipped):
    tax = shipped('tiny_street')
    sizes = [c.num_outputs for c in tax.classifiers]
    choices = [[0, 7, 9, 9], [0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 4, 2]]
    logits = one_hot_logits(choices, sizes)
    level1 = output_nodes(tax, level=1)
    assert [tax.nodes[i] for i in level1][-3:] == ['driveable', 'rider', 'traffic sign']
    nodes = greedy_decision(logits, DecisionTables(tax, level1))
    assert [tax.nodes[i] for i in nodes[0, 0].tolist()] == [
        'sky', 'driveable', 'traffic sign', 'traffic sign']
    cut = output_nodes(tax, stop_at=['traffic sign front'])
    nodes = greedy_decision(logits, DecisionTables(tax, cut))
    assert [tax.nodes[i] for i in nodes[0, 0].tolist()] == [
        'sky', 'lane marking', 'traffic sign front', 'traffic sign back']


def test_output_nodes_cuts(shipped):
    tax = shipped('tiny_street')
    assert output_nodes(tax).tolist() == tax.leaf_indices.tolist()
    level2 = [tax.nodes[i] for i in output_nodes(tax, level=2)]
    assert 'traffic sign front' in level2 and 'stop' not in level2 and 'sky' in level2
    assert len(level2) == 7 + 2 + 2 + 2
    # nested stop nodes: the topmost wins
    cut = [tax.nodes[i] for i in output_nodes(tax, stop_at=['traffic sign',
                                                            'traffic sign front'])]
    assert 'traffic sign' in cut and 'traffic sign front' not in cut
    with pytest.raises(ValueError):
        output_nodes(tax, level=4)
    with pytest.raises(UnknownNodeError):
        output_nodes(tax, stop_at=['trafic sign'])


def test_path_probabilities_hand_computed(toy):
    tables = DecisionTables(toy, output_nodes(toy))   # outputs: sky, back, stop, yield
    ln3 = math.log(3)
    logits = [torch.tensor([0.0, ln3]).view(1, 2, 1, 1),      # root: sky 1/4, sign 3/4
              torch.tensor([0.0, 0.0]).view(1, 2, 1, 1),      # sign: back 1/2, front 1/2
              torch.tensor([ln3, 0.0]).view(1, 2, 1, 1)]      # front: stop 3/4, yield 1/4
    probs = path_log_probs(logits, tables).exp().flatten().tolist()
    assert probs == pytest.approx([1 / 4, 3 / 8, 9 / 32, 3 / 32])
    assert sum(probs) == pytest.approx(1.0)
    assert toy.nodes[path_decision(logits, tables).item()] == 'back'
    # greedy: root -> sign, then the sign tie goes to its first child, back
    assert toy.nodes[greedy_decision(logits, tables).item()] == 'back'


def test_greedy_and_path_rules_can_differ(toy):
    tables = DecisionTables(toy, output_nodes(toy))
    logits = [torch.tensor([0.0, 0.1]).view(1, 2, 1, 1),      # sign slightly ahead
              torch.tensor([0.0, 0.1]).view(1, 2, 1, 1),
              torch.tensor([0.0, 0.0]).view(1, 2, 1, 1)]
    assert toy.nodes[greedy_decision(logits, tables).item()] == 'stop'
    assert toy.nodes[path_decision(logits, tables).item()] == 'sky'


def test_decision_tables_shapes(shipped):
    tax = shipped('cs_vistas_gtsdb')
    tables = DecisionTables(tax, output_nodes(tax))
    sizes = [c.num_outputs for c in tax.classifiers]
    # slots: classifiers by number of children, then preorder
    assert tables.decision_classifiers == sorted(range(len(sizes)),
                                                 key=lambda j: (sizes[j], j))
    assert [sizes[j] for j in tables.decision_classifiers] == sorted(sizes)
    assert tables.slot_child_node.shape == (len(sizes), max(sizes))
    assert tables.path_index.shape == (tax.num_levels, tax.num_leaves)
    stop = list(tax.leaves).index('stop')
    channel_names = [tax.nodes[n] for j in tables.decision_classifiers
                     for n in tax.classifiers[j].child_indices]
    assert [channel_names[t] for t in tables.path_index[:, stop].tolist()] == [
        'Traffic Sign', 'Traffic Sign (Front)', 'stop']
    sky = list(tax.leaves).index('Sky')   # a level-1 leaf: padded below
    assert tables.path_index[1:, sky].tolist() == [sum(sizes)] * (tax.num_levels - 1)
    np.testing.assert_array_equal(tables.output_nodes.numpy(), tax.leaf_indices)
    # runs of equal width, covering every slot and channel once
    groups = tables.choice_groups
    assert [g[0] for g in groups] == sorted(set(sizes))
    assert [(g[1], g[3]) for g in groups[1:]] == [(g[2], g[4]) for g in groups[:-1]]
    assert (groups[0][1], groups[0][3]) == (0, 0)
    assert (groups[-1][2], groups[-1][4]) == (len(sizes), sum(sizes))
    front = tax.classifier('Traffic Sign (Front)')
    slot = tables.node_slot[front.node_index].item()
    assert tables.decision_classifiers[slot] == front.index
    assert tables.slot_child_node[slot, :front.num_outputs].tolist() == list(
        front.child_indices)
    assert (tables.node_slot[tax.leaf_indices] == -1).all()


@pytest.mark.parametrize('rule', ['greedy', 'path'])
def test_decide_in_bands_equals_deciding_at_once(rule):
    from mmseg.registry import MODELS
    head = MODELS.build(dict(type='HierarchicalDecodeHead',
                             taxonomy='taxonomies/tiny_street.yaml', in_channels=8,
                             channels=8, branch=dict(width=8), decision=rule,
                             norm_cfg=dict(type='BN')))
    generator = torch.Generator().manual_seed(0)
    # any logits, also in bf16: both paths compute every pixel alike
    logits = [torch.randn(2, b.classify.out_channels, 9, 13, generator=generator)
              .to(torch.bfloat16) for b in head.branches]
    head.max_upsample_bytes = 1 << 40
    at_once = head.decide(logits, (36, 52))
    head.max_upsample_bytes = 1       # one row per band
    in_bands = head.decide(logits, (36, 52))
    assert torch.equal(at_once, in_bands)
    assert set(in_bands.unique().tolist()) <= set(head.output_nodes.tolist())


CHOICE_SETTINGS = settings(max_examples=200, deadline=None, derandomize=True,
                           suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tied_logits(draw):
    """Logits with many exact ties: values from a few levels (or all zero),
    in any dtype and memory format, NaN-free."""
    k = draw(st.sampled_from([1, 2, 3, 5, 53, 255, 256, 257, 300]))
    n, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 6)), draw(st.integers(1, 7))
    levels = draw(st.integers(1, 4))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2 ** 31)))
    x = torch.randint(0, levels, (n, k, h, w), generator=generator).float() - 1.5
    x = x.to(draw(st.sampled_from([torch.float32, torch.float64, torch.bfloat16,
                                   torch.float16])))
    layout = draw(st.sampled_from(['nchw', 'channels_last', 'strided']))
    if layout == 'channels_last':
        x = x.contiguous(memory_format=torch.channels_last)
    elif layout == 'strided':
        x = x.repeat(1, 1, 1, 2)[..., ::2]
    return x


@CHOICE_SETTINGS
@given(tied_logits())
def test_classifier_choice_is_the_first_maximal_logit(logits):
    assert torch.equal(classifier_choice(logits), logits.argmax(dim=1))


@pytest.mark.parametrize('k', [2, 5, 10])
def test_two_way_ties_at_every_position_pick_the_first(k):
    pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
    logits = torch.zeros(1, k, 1, len(pairs))
    for p, (a, b) in enumerate(pairs):
        logits[0, a, 0, p] = logits[0, b, 0, p] = 1.0
    assert classifier_choice(logits)[0, 0].tolist() == [a for a, _ in pairs]


def test_classifier_choice_all_zero_nan_and_large_inputs():
    assert classifier_choice(torch.zeros(2, 7, 3, 4)).eq(0).all()
    x = torch.tensor([[0.0, 5.0, float('nan'), 5.0], [1.0, 2.0, 3.0, 3.0]]).T.reshape(1, 4, 1, 2)
    for layout in (torch.contiguous_format, torch.channels_last):
        choice = classifier_choice(x.contiguous(memory_format=layout))
        assert 0 <= choice[0, 0, 0] < 4 and choice[0, 0, 1] == 2   # NaN: some valid position
    # larger than one chunk of the reduction, with ties across chunk borders
    x = torch.randint(0, 3, (1, 53, 150, 160)).float()
    assert torch.equal(classifier_choice(x), x.argmax(dim=1))
    logits = torch.randn(1, 3, 2, 2, requires_grad=True)
    assert torch.equal(classifier_choice(logits), logits.argmax(dim=1))


def test_greedy_ties_take_the_first_child_at_every_level(toy):
    # nodes: sky, sign; sign: back, front; front: stop, yield
    tables = DecisionTables(toy, output_nodes(toy))
    zeros = [torch.zeros(1, 2, 1, 1) for _ in range(3)]
    assert toy.nodes[greedy_decision(zeros, tables).item()] == 'sky'
    sign_then_tie = [torch.tensor([0.0, 1.0]).view(1, 2, 1, 1), zeros[1], zeros[2]]
    assert toy.nodes[greedy_decision(sign_then_tie, tables).item()] == 'back'
    front_then_tie = [sign_then_tie[0], torch.tensor([0.0, 1.0]).view(1, 2, 1, 1), zeros[2]]
    assert toy.nodes[greedy_decision(front_then_tie, tables).item()] == 'stop'


def test_path_ties_take_the_first_output(toy):
    tables = DecisionTables(toy, output_nodes(toy))   # outputs: sky, back, stop, yield
    ln3 = math.log(3)
    logits = [torch.tensor([0.0, ln3]).view(1, 2, 1, 1),   # sky 1/4, sign 3/4
              torch.tensor([0.0, 0.0]).view(1, 2, 1, 1),   # back 3/8, front 3/8
              torch.tensor([0.0, 0.0]).view(1, 2, 1, 1)]   # stop 3/16, yield 3/16
    probs = path_probabilities(logits, tables).flatten().tolist()
    assert probs == pytest.approx([1 / 4, 3 / 8, 3 / 16, 3 / 16])
    assert toy.nodes[path_decision(logits, tables).item()] == 'back'


# ------------------------------------------------------------- traceable path
@pytest.mark.parametrize('rule', ['greedy', 'path'])
@pytest.mark.parametrize('level', [None, 1])
def test_traceable_decision_is_the_banded_one(shipped, rule, level):
    tax = shipped('cs_vistas_gtsdb')
    tables = DecisionTables(tax, output_nodes(tax, level=level))
    generator = torch.Generator().manual_seed(3)
    logits = [torch.randint(-2, 3, (2, c.num_outputs, 5, 7), generator=generator).float()
              for c in tax.classifiers]   # many exact ties
    up = [resize(x, (19, 30)) for x in logits]
    expected = (greedy_decision if rule == 'greedy' else path_decision)(up, tables)
    assert torch.equal(decide_traceable(logits, (19, 30), tables, rule), expected)
    with pytest.raises(ValueError, match='rule must be one of'):
        decide_traceable(logits, (19, 30), tables, 'vote')


def test_exporting_is_true_only_while_a_graph_is_recorded():
    seen = []

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen.append(exporting())
            return classifier_choice(x)

    x = torch.zeros(1, 3, 2, 2)
    x[0, 1] = 1.0
    Probe()(x)
    program = torch.export.export(Probe(), (x,))
    torch.jit.trace(Probe(), (x,))
    assert seen[:3] == [False, True, True]   # eager, torch.export, torch.jit.trace
    # the recorded choice is a plain argmax: the same first maximum
    assert torch.equal(program.module()(x), x.argmax(dim=1))
    assert 'argmax' in str(program.graph)
