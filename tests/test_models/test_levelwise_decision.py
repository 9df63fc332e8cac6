"""The level-wise decision (one argmax or softmax per run of equally wide
classifiers, one gather or product per level) against slow per-classifier
references written from the rules' definitions: identical node ids on random
trees - bushy and deep, wide and narrow classifiers, cut at random levels of
detail - with random logits full of exact ties, at once, in bands and in the
traceable form."""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mmseg.registry import MODELS

from mmhier.models import DecisionTables, greedy_decision, output_nodes, path_decision
from mmhier.models.decision import decide_traceable
from mmhier.models.resize import resize
from mmhier.taxonomy import Taxonomy

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def random_tree(seed: int) -> Taxonomy:
    """A random taxonomy of 3..80 nodes; each inner node has 2..12 children
    (sometimes one much wider classifier), deep chains or bushy levels."""
    rng = np.random.default_rng(seed)
    size = int(rng.integers(3, 80))
    bushy = rng.random() < 0.5
    children: dict[int, list[int]] = {0: []}
    open_nodes, count = [0], 1
    while count < size:
        parent = open_nodes.pop(0 if bushy else -1) if open_nodes else \
            int(rng.integers(0, count))
        wide = rng.random() < 0.1
        k = int(rng.integers(2, 30 if wide else 6))
        for _ in range(k):
            children[parent].append(count)
            children[count] = []
            open_nodes.append(count)
            count += 1
        if not bushy:   # keep only some children open: deeper, uneven paths
            open_nodes = [n for n in open_nodes if rng.random() < 0.5] or [count - 1]

    def nest(node):
        return {f'n{c}': nest(c) for c in children[node]} if children[node] else None

    leaves = [n for n, c in children.items() if not c]
    return Taxonomy.from_dict({
        'name': f'random_{seed}', 'tree': {'n0': nest(0)},
        'datasets': {'fine': {'annotation': 'pixel', 'encoding': 'int32',
                              'classes': {i: f'n{n}' for i, n in enumerate(leaves)}}}})


def random_cut(tax: Taxonomy, rng: np.random.Generator) -> dict:
    """The leaves, a level of detail or a random set of stop nodes, as the
    head's ``output_level`` / ``output_stop_at``."""
    kind = rng.integers(0, 3)
    inner = [tax.nodes[c.node_index] for c in tax.classifiers[1:]]
    if kind == 1:
        return dict(output_level=int(rng.integers(1, tax.num_levels + 1)))
    if kind == 2 and inner:
        picked = rng.choice(inner, size=int(rng.integers(1, len(inner) + 1)), replace=False)
        return dict(output_stop_at=[str(n) for n in picked])
    return {}


def outputs_of(tax: Taxonomy, cut: dict) -> np.ndarray:
    return output_nodes(tax, cut.get('output_level'), cut.get('output_stop_at'))


def random_logits(tax: Taxonomy, rng: np.random.Generator, shape, ties: bool):
    gen = torch.Generator().manual_seed(int(rng.integers(0, 1 << 30)))
    if ties:   # small integers: exact ties at most pixels
        return [torch.randint(-1, 2, (shape[0], c.num_outputs, *shape[1:]),
                              generator=gen).float() for c in tax.classifiers]
    return [torch.randn(shape[0], c.num_outputs, *shape[1:], generator=gen)
            for c in tax.classifiers]


def reference_greedy(logits, tax: Taxonomy, outputs) -> torch.Tensor:
    """The paper's rule, one classifier at a time in preorder: pixels at a
    classifier's node (not an output node) move to its first maximal child."""
    is_output = np.zeros(tax.num_nodes, dtype=bool)
    is_output[np.asarray(outputs)] = True
    node = torch.zeros(logits[0].shape[:1] + logits[0].shape[2:], dtype=torch.long)
    for c in tax.classifiers:   # preorder: a parent moves its pixels first
        if is_output[c.node_index]:
            continue
        picked = torch.tensor(list(c.child_indices))[logits[c.index].argmax(dim=1)]
        node = torch.where(node == c.node_index, picked, node)
    return node


def reference_path(logits, tax: Taxonomy, outputs) -> torch.Tensor:
    """Most probable output node (first at ties): product of the softmax
    probabilities along each output node's path, in fp32."""
    softmax = [x.float().softmax(dim=1) for x in logits]
    probs = []
    for n in outputs:
        p = torch.ones_like(softmax[0][:, 0])
        path = [int(n)]
        while tax.parent_index[path[-1]] >= 0:
            path.append(int(tax.parent_index[path[-1]]))
        for child, parent in zip(path[:-1], path[1:]):
            c = tax.classifiers[tax.classifier_of_node[parent]]
            p = p * softmax[c.index][:, list(c.child_indices).index(child)]
        probs.append(p)
    return torch.as_tensor(np.asarray(outputs))[torch.stack(probs, dim=1).argmax(dim=1)]


@SETTINGS
@given(seed=st.integers(0, 10_000), ties=st.booleans())
def test_greedy_and_path_equal_the_per_classifier_rules(seed, ties):
    tax = random_tree(seed)
    rng = np.random.default_rng(seed)
    outputs = outputs_of(tax, random_cut(tax, rng))
    tables = DecisionTables(tax, outputs)
    logits = random_logits(tax, rng, (2, 5, 7), ties)
    greedy = greedy_decision(logits, tables)
    assert torch.equal(greedy, reference_greedy(logits, tax, outputs))
    assert set(greedy.unique().tolist()) <= set(np.asarray(outputs).tolist())
    assert torch.equal(path_decision(logits, tables), reference_path(logits, tax, outputs))


@SETTINGS
@given(seed=st.integers(0, 10_000), rule=st.sampled_from(['greedy', 'path']),
       budget=st.sampled_from([1, 5_000, 1 << 30]),
       dtype=st.sampled_from([torch.float32, torch.bfloat16]))
def test_head_decides_like_the_reference_in_any_band(seed, rule, budget, dtype):
    tax = random_tree(seed)
    rng = np.random.default_rng(seed)
    cut = random_cut(tax, rng)
    outputs = outputs_of(tax, cut)
    head = MODELS.build(dict(type='HierarchicalDecodeHead', taxonomy=tax, in_channels=4,
                             channels=4, branch=dict(width=4), decision=rule,
                             max_upsample_bytes=budget, norm_cfg=dict(type='BN'), **cut))
    logits = [x.to(dtype) for x in random_logits(tax, rng, (1, 4, 6), seed % 2 == 0)]
    up = [resize(x, (11, 13)) for x in logits]
    reference = (reference_greedy if rule == 'greedy' else reference_path)(up, tax, outputs)
    assert torch.equal(head.decide(logits, (11, 13)), reference)
    assert torch.equal(decide_traceable(logits, (11, 13), head.tables, rule), reference)


def test_a_wide_root_and_deep_chain():
    """Root with 40 children, then a chain 8 levels deep of 2-way classifiers:
    two runs of equal width, 9 levels."""
    chain = None
    for depth in range(8, 0, -1):
        chain = {f'd{depth}': chain, f'e{depth}': None}
    tree = {'root': {**{f'w{i}': None for i in range(39)}, 'deep': chain}}
    leaves = [f'w{i}' for i in range(39)] + [f'e{d}' for d in range(1, 9)] + ['d8']
    tax = Taxonomy.from_dict({'name': 'wide_deep', 'tree': tree, 'datasets': {
        'fine': {'annotation': 'pixel', 'classes': dict(enumerate(leaves))}}})
    tables = DecisionTables(tax, output_nodes(tax))
    assert [g[0] for g in tables.choice_groups] == [2, 40]
    assert tables.depth == 9
    # every pixel walks to 'deep', then right, right, ... : 'd8' at level 9
    logits = [torch.zeros(1, c.num_outputs, 1, 3) for c in tax.classifiers]
    logits[0][0, 39] = 1.0
    for x in logits[1:]:
        x[0, 0, 0, 0] = 1.0           # pixel 0 takes d.. every time
        x[0, 1, 0, 1] = 1.0           # pixel 1 takes e1 at once
    names = [tax.nodes[n] for n in greedy_decision(logits, tables)[0, 0].tolist()]
    assert names == ['d8', 'e1', 'd8']   # pixel 2: ties take the first child (d..)
    assert torch.equal(greedy_decision(logits, tables),
                       reference_greedy(logits, tax, output_nodes(tax)))


@pytest.mark.parametrize('level', [1, 2])
def test_a_cut_leaves_classifiers_below_it_out_of_the_channels(level):
    tax = random_tree(7)
    while tax.num_levels < 3:
        tax = random_tree(tax.num_nodes + 100)
    tables = DecisionTables(tax, output_nodes(tax, level=level))
    used = {c.index for c in tax.classifiers if tax.node_level[c.node_index] < level}
    assert set(tables.decision_classifiers) == used
    assert tables.num_decision_channels == sum(tax.classifiers[j].num_outputs for j in used)
