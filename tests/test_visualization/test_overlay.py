"""Overlays of node maps and label maps (the label-map contract: boxes as
stripes, ignored pixels untouched) and hierarchy legends."""
import numpy as np
import pytest

from mmhier.structures import encode_labels
from mmhier.visualization import (BOX_STRIPE_WIDTH, OVERLAY_ALPHA, box_stripes,
                                  hierarchical_palette, label_overlay, legend_image,
                                  legend_rows, overlay, render_prediction)


@pytest.fixture(scope='module')
def tiny(shipped):
    return shipped('tiny_street')


def test_overlay_blends_valid_pixels_only():
    palette = np.array([[0, 0, 0], [200, 100, 0]], dtype=np.uint8)
    image = np.full((2, 3, 3), 100, dtype=np.uint8)
    nodes = np.array([[1, 1, -1], [0, 7, 1]])
    out = overlay(image, nodes, palette, alpha=0.25)
    np.testing.assert_array_equal(out[0, 0], [125, 100, 75])
    np.testing.assert_array_equal(out[1, 0], [75, 75, 75])
    np.testing.assert_array_equal(out[0, 2], [100, 100, 100])  # -1: not coloured
    np.testing.assert_array_equal(out[1, 1], [100, 100, 100])  # beyond the palette
    with pytest.raises(ValueError, match='alpha'):
        overlay(image, nodes, palette, alpha=1.5)
    with pytest.raises(ValueError, match='3x2 but the node map is 2x2'):
        overlay(image, nodes[:, :2], palette)
    with pytest.raises(ValueError, match='integer'):
        overlay(image, nodes.astype(float), palette)


def test_legend_rows_are_present_nodes_and_ancestors_in_preorder(tiny):
    present = [tiny.index(n) for n in ('stop', 'sky', 'road')] + [-1]
    assert [tiny.nodes[i] for i in legend_rows(tiny, present)] == [
        'sky', 'driveable', 'road', 'traffic sign', 'traffic sign front', 'stop']
    assert legend_rows(tiny, []) == []


def test_legend_image_size_and_swatches(tiny):
    palette = hierarchical_palette(tiny)
    present = [tiny.index('stop'), tiny.index('sky')]
    legend = legend_image(tiny, present, palette, width=200, height=300)
    assert legend.shape == (300, 200, 3) and legend.dtype == np.uint8
    colours = {tuple(c) for c in legend.reshape(-1, 3).tolist()}
    for name in ('sky', 'traffic sign', 'traffic sign front', 'stop'):
        assert tuple(palette[tiny.index(name)].tolist()) in colours, name
    assert tuple(palette[tiny.index('car')].tolist()) not in colours
    tall = legend_image(tiny, tiny.leaf_indices, palette, width=200, height=10)
    assert tall.shape[0] > 300  # grows to fit 22 rows
    long_name = legend_image(tiny, present, palette, width=60)
    assert long_name.shape[1] == 60
    with pytest.raises(ValueError, match='too small'):
        legend_image(tiny, present, palette, width=20)


def test_render_prediction_puts_the_legend_right_of_the_image(tiny):
    image = np.zeros((40, 50, 3), dtype=np.uint8)
    nodes = np.full((40, 50), tiny.index('road'))
    panel = render_prediction(image, nodes, tiny, alpha=1.0, legend_width=120)
    assert panel.shape[1] == 50 + 120 and panel.shape[0] >= 40
    np.testing.assert_array_equal(panel[0, 0], hierarchical_palette(tiny)[tiny.index('road')])


def test_default_alpha_is_the_palette_alpha():
    palette = np.array([[0, 0, 0], [200, 100, 0]], dtype=np.uint8)
    image = np.full((1, 1, 3), 100, dtype=np.uint8)
    np.testing.assert_array_equal(overlay(image, np.array([[1]]), palette)[0, 0],
                                  [150, 100, 50])  # 0.5 * 100 + 0.5 * colour
    assert OVERLAY_ALPHA == 0.5


def test_box_stripes_are_diagonal_bands():
    assert BOX_STRIPE_WIDTH == 3
    stripes = box_stripes((2, 8))
    np.testing.assert_array_equal(stripes.astype(int), [[1, 1, 1, 0, 0, 0, 1, 1],
                                                        [1, 1, 0, 0, 0, 1, 1, 1]])


def test_label_overlay_follows_the_label_map_contract():
    """Per-pixel labels blend everywhere, box labels on the stripes only,
    ignored pixels and values outside the contract keep the image."""
    palette = np.array([[0, 0, 0], [200, 100, 0], [0, 60, 240]], dtype=np.uint8)
    n = len(palette)
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (6, 9, 3)).astype(np.uint8)
    nodes = np.array([[1] * 9, [2] * 9, [1] * 9, [2] * 9, [-1] * 9, [0] * 9])
    is_box = np.zeros((6, 9), dtype=bool)
    is_box[2:4] = True
    labels = encode_labels(nodes, is_box, n)
    labels[5, 7:] = [2 * n, -7]  # outside the contract
    out = label_overlay(image, labels, palette, alpha=0.25)

    def blend(pixel, colour):
        return np.rint(0.75 * pixel.astype(float) + 0.25 * np.asarray(colour, float))
    for y in range(6):
        for x in range(9):
            node = nodes[y, x]
            drawn = node >= 0 and not (y == 5 and x >= 7) and (
                not is_box[y, x] or (x + y) // BOX_STRIPE_WIDTH % 2 == 0)
            want = blend(image[y, x], palette[node]) if drawn else image[y, x]
            np.testing.assert_array_equal(out[y, x], want, err_msg=f'pixel {(y, x)}')
    assert (out[2:4] != image[2:4]).any(axis=-1).sum() == 7  # on stripes: 7 of 18
    np.testing.assert_array_equal(out[4], image[4])


def test_label_overlay_rejects_what_is_no_label_map():
    palette = np.zeros((3, 3), dtype=np.uint8)
    image = np.zeros((2, 3, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match='2-D integer label map, got float64'):
        label_overlay(image, np.zeros((2, 3)), palette)
    with pytest.raises(ValueError, match='image is 3x2 but the label map is 2x2'):
        label_overlay(image, np.zeros((2, 2), dtype=int), palette)
    with pytest.raises(ValueError, match='alpha must be in'):
        label_overlay(image, np.zeros((2, 3), dtype=int), palette, alpha=-0.1)


def test_label_overlay_draws_node_maps_like_overlay(tiny):
    palette = hierarchical_palette(tiny)
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (5, 7, 3)).astype(np.uint8)
    nodes = rng.integers(-1, tiny.num_nodes, (5, 7))
    np.testing.assert_array_equal(label_overlay(image, nodes, palette),
                                  overlay(image, nodes, palette))


def test_label_overlay_decodes_with_the_taxonomy_codec(tiny):
    from mmhier.structures import label_codec
    codec = label_codec(tiny)
    palette = hierarchical_palette(tiny)
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (5, 7, 3)).astype(np.uint8)
    labels = rng.integers(-1, 2 * tiny.num_nodes, (5, 7))
    np.testing.assert_array_equal(label_overlay(image, labels, palette, codec=codec),
                                  label_overlay(image, labels, palette))
    with pytest.raises(ValueError, match="palette has 3 colours but taxonomy 'tiny_street' "
                                         'has 22 nodes'):
        label_overlay(image, labels, palette[:3], codec=codec)


def test_node_set_labels_are_drawn_as_their_common_ancestor(shipped):
    """tiny_partial_labels: N = 16, T = 19; 17 is [car, truck] (common
    ancestor vehicle, node 11), 16 [sidewalk, terrain] (root, node 0)."""
    from mmhier.structures import label_codec
    from mmhier.visualization import label_map_nodes
    tax = shipped('tiny_partial_labels')
    codec = label_codec(tax)
    labels = np.array([[17, 17 + 19, 16, 12], [12 + 19, -1, 38, -5]])
    nodes, is_box = label_map_nodes(labels, codec)
    assert nodes.tolist() == [[11, 11, 0, 12], [12, -1, -1, -1]]
    assert is_box.tolist() == [[False, True, False, False], [True, False, False, False]]
    palette = hierarchical_palette(tax)
    image = np.full((2, 4, 3), 90, dtype=np.uint8)
    out = label_overlay(image, labels, palette, alpha=1.0, codec=codec)
    np.testing.assert_array_equal(out[0, 0], palette[11])     # [car, truck]: vehicle
    np.testing.assert_array_equal(out[0, 2], palette[0])
    np.testing.assert_array_equal(out[1, 1:], image[1, 1:])   # ignored, outside
