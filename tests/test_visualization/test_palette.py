"""The hierarchical palette: separated level-1 hues, families near their parent,
distinct siblings; and its use in overlays and hierarchy legends."""
import numpy as np
import pytest

from mmhier.taxonomy import Taxonomy
from mmhier.visualization import (hierarchical_palette, legend_image, legend_rows, overlay,
                                  render_prediction, srgb_to_oklab)
from tests.conftest import TAXONOMIES

SHIPPED = ('tiny_street', 'cs_vistas_gtsdb', 'cityscapes_extended')


def cielab(rgb):
    """8-bit sRGB -> CIE L*a*b* (D65), written independently of the palette code."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124564, 0.3575761, 0.1804375],
                             [0.2126729, 0.7151522, 0.0721750],
                             [0.0193339, 0.1191920, 0.9503041]]).T
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]),
                     200 * (f[:, 1] - f[:, 2])], axis=1)


def min_pairwise(colours):
    d = np.linalg.norm(colours[:, None] - colours[None], axis=-1)
    return d[~np.eye(len(colours), dtype=bool)].min()


@pytest.fixture(scope='module')
def tiny(shipped):
    return shipped('tiny_street')


def test_shape_dtype_and_determinism(shipped):
    for stem in SHIPPED:
        tax = shipped(stem)
        palette = hierarchical_palette(tax)
        assert palette.shape == (tax.num_nodes, 3) and palette.dtype == np.uint8
        again = hierarchical_palette(Taxonomy.from_file(TAXONOMIES / f'{stem}.yaml'))
        np.testing.assert_array_equal(palette, again)
        assert len(np.unique(palette, axis=0)) == tax.num_nodes  # no two nodes alike
    np.testing.assert_array_equal(hierarchical_palette(shipped('tiny_street'))[0],
                                  [128, 128, 128])  # the root: neutral grey


def test_level1_hues_are_well_separated(shipped):
    for stem, at_least in (('tiny_street', 0.07), ('cs_vistas_gtsdb', 0.05),
                           ('cityscapes_extended', 0.05)):
        tax = shipped(stem)
        top = tax.classifiers[0].child_indices
        lab = srgb_to_oklab(hierarchical_palette(tax)[top])
        assert min_pairwise(lab) >= at_least, stem
    lab = srgb_to_oklab(hierarchical_palette(shipped('tiny_street'))[
        shipped('tiny_street').classifiers[0].child_indices])
    hues = np.sort(np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360)
    gaps = np.diff(np.append(hues, hues[0] + 360))
    assert gaps.min() > 30 and gaps.max() < 42  # 10 hues about evenly spread


def test_siblings_are_distinct(tiny, shipped):
    lab = srgb_to_oklab(hierarchical_palette(tiny))
    for c in tiny.classifiers:
        assert min_pairwise(lab[c.child_indices]) >= 0.035, c.node
    for stem in ('cs_vistas_gtsdb', 'cityscapes_extended'):  # families of up to 43
        tax = shipped(stem)
        lab = srgb_to_oklab(hierarchical_palette(tax))
        for c in tax.classifiers:
            assert min_pairwise(lab[c.child_indices]) >= 0.015, (stem, c.node)


@pytest.mark.parametrize('space', [srgb_to_oklab, cielab], ids=['oklab', 'cielab'])
def test_families_stay_near_their_parent(tiny, space):
    """Every node below level 1 is closer to its parent, and to its level-1
    ancestor, than to any other level-1 colour."""
    colours = space(hierarchical_palette(tiny))
    top = tiny.classifiers[0].child_indices.tolist()
    family = tiny.ancestor_at_level[1]
    checked = 0
    for node in range(tiny.num_nodes):
        if tiny.node_level[node] < 2:
            continue
        others = colours[[q for q in top if q != family[node]]]
        nearest_other = np.linalg.norm(others - colours[node], axis=1).min()
        to_parent = np.linalg.norm(colours[node] - colours[tiny.parent_index[node]])
        to_family = np.linalg.norm(colours[node] - colours[family[node]])
        assert to_parent < nearest_other and to_family < nearest_other, tiny.nodes[node]
        checked += 1
    assert checked == 11


def test_children_vary_lightness_around_the_parent(tiny):
    lab = srgb_to_oklab(hierarchical_palette(tiny))
    for c in tiny.classifiers[1:]:
        lightness = lab[c.child_indices, 0]
        parent = lab[c.node_index, 0]
        assert lightness.min() < parent < lightness.max(), c.node
    # a family below a darker-than-ring parent spreads around a darker centre
    front = tiny.classifier('traffic sign front')
    assert lab[front.child_indices, 0].mean() < lab[front.node_index, 0]


# ----------------------------------------------------------- overlay, legend
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
