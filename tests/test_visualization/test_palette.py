"""The hierarchical palette: separated level-1 hues, families near their parent,
siblings at least 0.05 apart in OKLab, legible over asphalt, deterministic.

OKLab and the overlay blend are computed here independently of the palette
code (Ottosson's published coefficients written out as formulas)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mmhier.visualization.palette as vis_palette
from mmhier.taxonomy import Taxonomy
from mmhier.taxonomy import palette as tax_palette
from mmhier.visualization import (ASPHALT_GREYS, MIN_ASPHALT_DISTANCE,
                                  MIN_SIBLING_DISTANCE, OVERLAY_ALPHA,
                                  hierarchical_palette, hierarchical_palette_oklab,
                                  srgb_to_oklab)
from tests.conftest import TAXONOMIES

SHIPPED = ('tiny_street', 'cs_vistas_gtsdb', 'cityscapes_extended')


def oklab(rgb):
    """8-bit sRGB -> OKLab (Ottosson 2020), written out from the published
    coefficients."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = lin[..., 0], lin[..., 1], lin[..., 2]
    l_ = np.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b)
    m_ = np.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b)
    s_ = np.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b)
    return np.stack([0.2104542553 * l_ + 0.7936177850 * m_ - 0.0040720468 * s_,
                     1.9779984951 * l_ - 2.4285922050 * m_ + 0.4505937099 * s_,
                     0.0259040371 * l_ + 0.7827717662 * m_ - 0.8086757660 * s_], -1)


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


def sibling_minimum(tax, palette):
    """Smallest OKLab distance between two siblings or a node and its parent."""
    lab = oklab(palette)
    return min(min_pairwise(lab[np.append(c.child_indices, c.node_index)])
               for c in tax.classifiers)


def over_asphalt(palette, alpha):
    """Smallest OKLab distance between a grey of ASPHALT_GREYS and a colour
    blended over it at ``alpha`` (8-bit, rounded)."""
    worst = np.inf
    for grey in ASPHALT_GREYS:
        blended = np.rint((1 - alpha) * grey + alpha * palette.astype(np.float64))
        worst = min(worst, np.linalg.norm(oklab(blended) - oklab([grey] * 3), axis=-1).min())
    return worst


def make_taxonomy(tree):
    """A valid taxonomy of ``tree`` whose one dataset labels every leaf."""
    leaves = []

    def collect(sub):
        for name, kids in sub.items():
            collect(kids) if kids else leaves.append(name)
    collect(tree)
    return Taxonomy.from_dict({
        'name': 'random', 'tree': {'root': tree},
        'datasets': {'d': {'annotation': 'pixel', 'encoding': 'uint16',
                           'num_ids': len(leaves), 'classes': dict(enumerate(leaves))}}})


def nested(tree):
    """YAML-style nesting: empty dicts become leaves."""
    return {k: nested(v) if v else None for k, v in tree.items()}


@pytest.fixture(scope='module')
def tiny(shipped):
    return shipped('tiny_street')


def test_our_oklab_agrees_with_the_published_formulas():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (500, 3))
    np.testing.assert_allclose(srgb_to_oklab(rgb), oklab(rgb), atol=1e-9)
    np.testing.assert_allclose(oklab([255, 255, 255]), [1.0, 0.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(oklab([255, 0, 0]), [0.62796, 0.22486, 0.12585], atol=1e-4)


def test_shape_dtype_and_determinism(shipped):
    for stem in SHIPPED:
        tax = shipped(stem)
        palette = hierarchical_palette(tax)
        assert palette.shape == (tax.num_nodes, 3) and palette.dtype == np.uint8
        tax_palette._PALETTES.clear()  # recompute from scratch, not the cache
        again = hierarchical_palette(Taxonomy.from_file(TAXONOMIES / f'{stem}.yaml'))
        np.testing.assert_array_equal(palette, again)
        assert len(np.unique(palette, axis=0)) == tax.num_nodes  # no two nodes alike
        np.testing.assert_allclose(hierarchical_palette_oklab(tax), oklab(palette), atol=1e-9)
    np.testing.assert_array_equal(hierarchical_palette(shipped('tiny_street'))[0],
                                  [255, 255, 255])  # the root: white


def test_palette_is_a_fresh_copy(tiny):
    first = hierarchical_palette(tiny)
    first[:] = 0
    assert hierarchical_palette(tiny).max() > 0


def test_one_palette_everywhere():
    """The visualization module re-exports the palette living in the taxonomy
    layer (importable by datasets and models)."""
    assert vis_palette.hierarchical_palette is tax_palette.hierarchical_palette
    assert vis_palette.OVERLAY_ALPHA is tax_palette.OVERLAY_ALPHA == OVERLAY_ALPHA


@pytest.mark.parametrize('stem', SHIPPED)
def test_shipped_siblings_and_parents_are_distinguishable(shipped, stem):
    tax = shipped(stem)
    assert sibling_minimum(tax, hierarchical_palette(tax)) >= MIN_SIBLING_DISTANCE == 0.05


@pytest.mark.parametrize('stem', SHIPPED)
def test_shipped_nodes_are_all_distinguishable(shipped, stem):
    """Up to ~300 nodes every pair differs (cross-family pairs such as a lane
    marking and a sign once were 0.013 apart)."""
    palette = hierarchical_palette(shipped(stem))
    assert min_pairwise(oklab(palette[1:])) >= 0.05


@pytest.mark.parametrize('stem', SHIPPED)
@pytest.mark.parametrize('alpha', [OVERLAY_ALPHA, 0.6, 0.8, 1.0])
def test_shipped_colours_stand_out_over_asphalt(shipped, stem, alpha):
    assert OVERLAY_ALPHA == 0.5 and MIN_ASPHALT_DISTANCE == 0.05
    assert min(ASPHALT_GREYS) <= 128 <= max(ASPHALT_GREYS)
    assert over_asphalt(hierarchical_palette(shipped(stem)), alpha) >= MIN_ASPHALT_DISTANCE


@pytest.mark.parametrize('size', range(2, 51))
def test_every_family_size_up_to_50_at_level_1_and_2(size):
    """A family of ``size`` under the root and another one under a level-1
    node, next to a few other families."""
    tree = {f'top{i}': {} for i in range(size)}
    tree['top0'] = {f'kid{i}': {} for i in range(size)}
    tree['top1'] = {f'small{i}': {} for i in range(3)}
    tax = make_taxonomy(nested(tree))
    palette = hierarchical_palette(tax)
    assert sibling_minimum(tax, palette) >= 0.05
    assert over_asphalt(palette, OVERLAY_ALPHA) >= 0.05


def test_huge_families_keep_the_bound():
    tax = make_taxonomy({f'n{i}': None for i in range(250)})
    assert sibling_minimum(tax, hierarchical_palette(tax)) >= 0.05


@st.composite
def random_trees(draw):
    """Trees with sibling sets of 2..50, up to 4 levels and ~300 nodes."""
    counter = iter(range(10 ** 6))
    budget = [300]

    def family(depth):
        size = draw(st.integers(2, 50))
        budget[0] -= size
        out = {}
        for _ in range(size):
            name = f'n{next(counter)}'
            deeper = depth < 4 and budget[0] > 50 and draw(st.integers(0, 9)) == 0
            out[name] = family(depth + 1) if deeper else None
        return out
    return family(1)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_trees())
def test_random_taxonomies_keep_the_bounds(tree):
    tax = make_taxonomy(tree)
    palette = hierarchical_palette(tax)
    assert sibling_minimum(tax, palette) >= 0.05
    assert over_asphalt(palette, OVERLAY_ALPHA) >= 0.05
    assert len(np.unique(palette[1:], axis=0)) == tax.num_nodes - 1


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
