"""--verify: sizes, parity counting and the explanation of differences."""
import numpy as np
import pytest
import torch

from mmhier.deploy import ExportedModel, report_lines, verification_sizes, verify
from mmhier.deploy.verify import (TIE_FACTOR, Differences, SizeResult, eager_outputs,
                                  explain_differences, sample_images)
from mmhier.models.resize import resize
from tests.test_deploy.conftest import SIZE


def test_sizes_include_an_odd_and_a_larger_one():
    sizes = verification_sizes((40, 56), dynamic=True)
    assert [s for s, _ in sizes][0] == (40, 56)
    (odd, odd_note), (large, large_note) = sizes[1:]
    assert odd_note == 'not a multiple of 8' and odd[0] % 8 and odd[1] % 8
    assert large_note == 'larger than the export size' and large[0] > 40 and large[1] > 56
    assert verification_sizes((40, 56), dynamic=False) == [((40, 56), 'export size')]


def test_onnx_export_passes_verification(hier_wrapper, hier_onnx):
    exported = ExportedModel(str(hier_onnx))
    results = verify(hier_wrapper, exported, verification_sizes(SIZE, True), batch=2)
    assert [r.batch for r in results] == [2, 1, 1]
    assert results[0].pixels == 2 * SIZE[0] * SIZE[1]
    assert all(r.passed and r.identical_share == 1.0 for r in results)
    assert all(r.score_diff is not None and r.score_diff < 1e-4 for r in results)
    lines = report_lines(results, exported.runtime)
    assert lines[0].startswith('verify: onnxruntime ')
    assert lines[-1].startswith('verify: passed')
    assert '(100.0000 %)' in lines[2] and 'not a multiple of 8' in lines[2]


def test_margin_of_a_difference_is_the_eager_logit_gap(hier_wrapper):
    """Pretend the export picked another root child at two pixels: the margin
    is the gap of the root classifier's upsampled logits there, measured
    against the float32 rounding of those logits (fp32 vs fp64 model)."""
    images = sample_images((21, 27), 1, seed=7)
    nodes, _, network_input = eager_outputs(hier_wrapper, images)
    head = hier_wrapper.head
    taxonomy = head.taxonomy
    root_children = taxonomy.classifiers[0].child_indices
    where = np.array([[0, 3, 4], [0, 17, 20]])
    eager = nodes[0, where[:, 1], where[:, 2]]
    level1 = taxonomy.ancestor_at_level[1][eager]
    # another root child, and its first output node below it
    other = np.array([root_children[0] if a != root_children[0] else root_children[1]
                      for a in level1])
    outputs = head.output_nodes.numpy()
    exported = np.array([outputs[taxonomy.ancestor_at_level[1][outputs] == o][0]
                         for o in other])
    why = explain_differences(hier_wrapper, network_input, (21, 27), where, eager, exported)
    with torch.no_grad():
        logits = head.forward(hier_wrapper.segmentor.extract_feat(network_input))
    root = resize(logits[0], (21, 27))[0]
    position = {int(c): i for i, c in enumerate(root_children)}
    for k, (_, y, x) in enumerate(where):
        values = root[:, y, x].double()
        gap = values[position[int(level1[k])]] - values[position[int(other[k])]]
        assert why.margin[k] == pytest.approx(float(gap))
        assert why.margin[k] > 0
    # float32 rounding of logits of magnitude ~1: tiny, but not zero
    scale = float(root.abs().max())
    assert (why.rounding > 0).all() and (why.rounding < 1e-4 * scale).all()
    assert not why.near_tie.any()      # real gaps, far above rounding
    assert (why.ratio > 1000).all()
    assert why.fp64_differing == 0     # float32 decides these 567 pixels like float64


def test_near_ties_are_margins_within_the_rounding():
    why = Differences(margin=np.array([0.0, 3e-6, 5e-6, 1e-3]),
                      rounding=np.array([1e-6, 1e-6, 1e-6, 1e-6]))
    assert why.near_tie.tolist() == [True, True, False, False]   # TIE_FACTOR = 4
    assert TIE_FACTOR == 4.0
    np.testing.assert_allclose(why.ratio, [0.0, 3.0, 5.0, 1000.0])


def test_report_counts_near_ties_and_fails_otherwise():
    tie = SizeResult((8, 8), 'export size', 1, pixels=1_000_000, differing=3, ties=3,
                     rounding=2e-6, max_tie_ratio=1.5, worst_ratio=1.5)
    assert tie.passed
    text = '\n'.join(report_lines([tie], 'rt'))
    assert '3 differ, 3 of them near-ties (eager margin between the two candidates <= 1.50 x' \
        in text and 'max |fp32 - fp64| = 2.0e-06' in text
    assert 'verify: passed' in text
    tie.fp64_differing = 5
    assert 'eager float32 itself decides 5 pixels differently from float64' in \
        '\n'.join(report_lines([tie], 'rt'))
    bad = SizeResult((8, 8), 'export size', 1, pixels=1_000_000, differing=3, ties=2,
                     rounding=2e-6, max_tie_ratio=1.5, worst_ratio=300.0)
    assert not bad.passed
    text = '\n'.join(report_lines([bad], 'rt'))
    assert '1 NOT near-ties (margin up to 300.0 x the rounding)' in text
    assert 'verify: FAILED' in text
    many = SizeResult((8, 8), 'export size', 1, pixels=1000, differing=1, ties=1)
    assert not many.passed          # 99.9 % < 99.99 %
    many = SizeResult((8, 8), 'export size', 1, pixels=1000, differing=1, ties=1)
    assert not many.passed          # 99.9 % < 99.99 %, although a near-tie
