"""Pseudo masks from boxes: exact shapes, overlap rule, BoxesToPseudoMask."""
from pathlib import Path

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS

import mmhier.datasets.transforms.box_pseudo_masks  # noqa: F401 (registers)
from mmhier.datasets.errors import LabelIdOutOfRangeError
from mmhier.datasets.pseudo_masks import SHAPES, rasterize_shapes, shape_mask
from mmhier.taxonomy import Taxonomy, load_taxonomy
from mmhier.taxonomy.errors import TaxonomyError

TAXONOMY = 'taxonomies/cs_vistas_gtsdb.yaml'
TINY = Path(__file__).resolve().parents[2] / 'taxonomies' / 'tiny_street.yaml'


@pytest.fixture(autouse=True, scope='module')
def mmseg_scope():
    init_default_scope('mmseg')


def pattern(*rows: str) -> np.ndarray:
    """'#' = inside, '.' = outside."""
    return np.array([[c == '#' for c in row] for row in rows])


def show(mask: np.ndarray) -> list:
    return [''.join('#' if v else '.' for v in row) for row in mask]


# ------------------------------------------------------------------ shapes
CIRCLE_7 = pattern('..###..',
                   '.#####.',
                   '#######',
                   '#######',
                   '#######',
                   '.#####.',
                   '..###..')


def test_circle_in_7x7_box():
    # inside when dx^2 + dy^2 <= 3.5^2 (offsets from the centre pixel)
    assert show(shape_mask('circle', 7, 7)) == show(CIRCLE_7)


def test_circle_in_wide_box_is_an_ellipse():
    # (dx / 4.5)^2 + (dy / 2.5)^2 <= 1
    assert show(shape_mask('circle', 9, 5)) == ['..#####..',
                                                '#########',
                                                '#########',
                                                '#########',
                                                '..#####..']


def test_triangle_points_up_with_full_base():
    assert show(shape_mask('triangle', 7, 7)) == ['...#...',   # apex
                                                  '...#...',
                                                  '..###..',
                                                  '..###..',
                                                  '.#####.',
                                                  '.#####.',
                                                  '#######']   # base


def test_inverted_triangle_points_down():
    assert show(shape_mask('inverted_triangle', 7, 7)) == ['#######',   # base on top
                                                           '.#####.',
                                                           '.#####.',
                                                           '..###..',
                                                           '..###..',
                                                           '...#...',
                                                           '...#...']  # apex


def test_diamond_touches_edge_midpoints():
    assert show(shape_mask('diamond', 7, 7)) == ['...#...',
                                                 '..###..',
                                                 '.#####.',
                                                 '#######',
                                                 '.#####.',
                                                 '..###..',
                                                 '...#...']


def test_octagon_cuts_corners_with_flat_sides():
    # |dx| + |dy| <= 6.5 * sqrt(2) = 9.19: flat top row of 7, corners cut
    octagon = shape_mask('octagon', 13, 13)
    assert show(octagon) == ['...#######...',
                             '..#########..',
                             '.###########.',
                             '#############',
                             '#############',
                             '#############',
                             '#############',
                             '#############',
                             '#############',
                             '#############',
                             '.###########.',
                             '..#########..',
                             '...#######...']
    # a circle is rounder: 5 pixels in its top row, not 7
    assert show(shape_mask('circle', 13, 13))[0] == '....#####....'


def test_box_shape_fills_the_box():
    assert shape_mask('box', 4, 3).tolist() == [[True] * 4] * 3


def test_shape_ids_and_names_agree():
    assert SHAPES == ('box', 'circle', 'triangle', 'inverted_triangle', 'diamond',
                      'octagon')
    assert shape_mask(SHAPES.index('diamond'), 7, 7).tolist() == \
        shape_mask('diamond', 7, 7).tolist()
    with pytest.raises(ValueError, match='use one of box, circle'):
        shape_mask('hexagon', 7, 7)


def test_shape_vocabulary_lives_in_the_taxonomy_layer():
    from mmhier.datasets import pseudo_masks
    from mmhier.taxonomy import class_attributes
    assert pseudo_masks.SHAPES is class_attributes.SHAPES
    assert pseudo_masks.shape_id is class_attributes.shape_id
    assert (pseudo_masks.BOX, pseudo_masks.OCTAGON) == (0, 5)


# ------------------------------------------------------------- rasterize
def test_rasterize_places_shape_in_its_window_and_ignores_the_rest():
    out = rasterize_shapes(10, 12, np.array([[2, 1, 8, 7]], np.float32), ['circle'])
    expected = np.full((10, 12), -1, np.int32)
    expected[1:8, 2:9][CIRCLE_7] = 0
    assert out.dtype == np.int32 and out.flags.c_contiguous
    assert out.tolist() == expected.tolist()
    # box corners are inside the box but outside the circle: ignored
    assert out[1, 2] == out[7, 8] == -1


@pytest.mark.parametrize('order', [(0, 1), (1, 0)])
def test_smaller_box_wins_whatever_the_line_order(order):
    big, small = [0, 0, 5, 5], [2, 2, 3, 3]
    boxes = [[big, small][i] for i in order]
    out = rasterize_shapes(6, 6, boxes, ['box', 'box'], values=[[10, 20][i] for i in order])
    expected = np.full((6, 6), 10)
    expected[2:4, 2:4] = 20
    assert out.tolist() == expected.tolist()


def test_equal_areas_later_box_wins():
    out = rasterize_shapes(2, 4, [[0, 0, 2, 1], [1, 0, 3, 1]], ['box', 'box'])
    assert out.tolist() == [[0, 1, 1, 1], [0, 1, 1, 1]]


def test_pixels_outside_the_smaller_shape_belong_to_the_larger_shape():
    # 3x3 diamond of box 1 inside the 5x5 box of box 0: the diamond's corner
    # pixels are not its own, so box 0 keeps them
    out = rasterize_shapes(5, 5, [[0, 0, 4, 4], [1, 1, 3, 3]], ['box', 'diamond'])
    assert out.tolist() == [[0, 0, 0, 0, 0],
                            [0, 0, 1, 0, 0],
                            [0, 1, 1, 1, 0],
                            [0, 0, 1, 0, 0],
                            [0, 0, 0, 0, 0]]


def test_boxes_are_clipped_to_the_image():
    out = rasterize_shapes(4, 4, [[-3, -3, 3, 3]], ['circle'])
    assert out.tolist() == np.where(CIRCLE_7[3:, 3:], 0, -1).tolist()


def test_fractional_boxes_cover_pixels_whose_centre_is_inside():
    # columns 0.1 .. 2.9 -> 1, 2; rows -0.1 .. 3.1 -> 0 .. 3
    out = rasterize_shapes(5, 4, [[0.6, 0.4, 2.4, 2.6]], ['box'])
    assert out.tolist() == [[-1, 0, 0, -1]] * 4 + [[-1, -1, -1, -1]]


def test_degenerate_and_outside_boxes_own_nothing():
    out = rasterize_shapes(3, 3, [[2, 0, 1, 2], [5, 5, 8, 8]], ['box', 'circle'])
    assert out.tolist() == [[-1] * 3] * 3
    assert rasterize_shapes(2, 2, np.zeros((0, 4)), []).tolist() == [[-1, -1]] * 2


def test_rasterize_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r'\(K, 4\)'):
        rasterize_shapes(3, 3, [[0, 0, 1]], ['box'])
    with pytest.raises(ValueError, match='hexagon'):
        rasterize_shapes(3, 3, [[0, 0, 1, 1]], ['hexagon'])
    with pytest.raises(ValueError, match='one per box'):
        rasterize_shapes(3, 3, [[0, 0, 1, 1]], ['box', 'box'])


# ------------------------------------------------------- BoxesToPseudoMask
def to_mask(boxes, labels, shape, **cfg):
    transform = TRANSFORMS.build(dict(type='BoxesToPseudoMask', **cfg))
    results = dict(img_shape=shape, ori_shape=shape,
                   gt_boxes=np.asarray(boxes, np.float32).reshape(-1, 4),
                   gt_box_labels=np.asarray(labels, np.int64),
                   taxonomy=TAXONOMY, dataset_key='gtsdb', seg_fields=[])
    return transform(results)


def test_stop_sign_box_becomes_stop_pseudo_label_inside_octagon():
    tax = load_taxonomy(TAXONOMY)
    stop = tax.index('stop') + tax.num_nodes          # 69 + 112: a box pseudo label
    assert stop == 181
    results = to_mask([[1, 1, 13, 13]], [14], (15, 15))
    expected = np.full((15, 15), -1)
    expected[1:14, 1:14][shape_mask('octagon', 13, 13)] = stop
    assert results['gt_seg_map'].dtype == np.int16   # 2N fits: the cheaper map
    assert results['gt_seg_map'].tolist() == expected.tolist()
    assert results['gt_seg_map'][1, 1] == -1           # cut corner
    assert results['seg_fields'] == ['gt_seg_map']


def test_shapes_come_from_the_taxonomy_per_class():
    tax = load_taxonomy(TAXONOMY)
    n = tax.num_nodes
    # 13 give way (inverted triangle), 12 priority road (diamond), 38 keep right (circle)
    gt = to_mask([[0, 0, 6, 6], [7, 0, 13, 6], [14, 0, 20, 6]], [13, 12, 38],
                 (7, 21))['gt_seg_map']
    give_way, priority, keep_right = (tax.index(name) + n for name in
                                      ('give way', 'priority road', 'keep right'))
    assert (gt[:, :7] == give_way).tolist() == shape_mask('inverted_triangle', 7, 7).tolist()
    assert (gt[:, 7:14] == priority).tolist() == shape_mask('diamond', 7, 7).tolist()
    assert (gt[:, 14:] == keep_right).tolist() == CIRCLE_7.tolist()
    assert set(np.unique(gt).tolist()) == {-1, give_way, priority, keep_right}


def test_box_mode_fills_whole_boxes():
    tax = load_taxonomy(TAXONOMY)
    gt = to_mask([[1, 0, 3, 1]], [14], (3, 5), shape_mode='box')['gt_seg_map']
    stop = tax.index('stop') + tax.num_nodes
    assert gt.tolist() == [[-1, stop, stop, stop, -1]] * 2 + [[-1] * 5]


def test_image_without_boxes_is_all_ignored():
    assert to_mask(np.zeros((0, 4)), [], (2, 3))['gt_seg_map'].tolist() == [[-1] * 3] * 2


def test_class_without_shape_is_named_at_construction():
    text = TINY.read_text().replace('0: {name: stop, node: stop, attributes: {shape: octagon}}',
                                    '0: {name: stop, node: stop}')
    tax = Taxonomy.from_string(text, source='no_shape.yaml')
    line = text.splitlines().index('      0: {name: stop, node: stop}') + 1
    with pytest.raises(TaxonomyError, match=rf"no_shape.yaml:{line}: dataset 'gtsdb_like' "
                                            r"class 0 'stop' has no `shape`"):
        TRANSFORMS.build(dict(type='BoxesToPseudoMask', taxonomy=tax,
                              dataset_key='gtsdb_like'))
    # box mode needs no shapes
    TRANSFORMS.build(dict(type='BoxesToPseudoMask', shape_mode='box', taxonomy=tax,
                          dataset_key='gtsdb_like'))


def test_ignored_class_draws_ignore_over_larger_boxes():
    text = TINY.read_text().replace('0: {name: stop, node: stop, attributes: {shape: octagon}}',
                                    '0: {name: stop, ignore: true}')
    tax = Taxonomy.from_string(text, source='ignored.yaml')
    transform = TRANSFORMS.build(dict(type='BoxesToPseudoMask', shape_mode='box',
                                      taxonomy=tax, dataset_key='gtsdb_like'))
    results = transform(dict(img_shape=(1, 4), gt_boxes=np.array([[0, 0, 3, 0], [1, 0, 2, 0]]),
                             gt_box_labels=np.array([2, 0])))
    limit = tax.index('speed limit') + tax.num_nodes
    assert results['gt_seg_map'].tolist() == [[limit, -1, -1, limit]]


def test_bad_inputs_raise_typed_errors():
    with pytest.raises(LabelIdOutOfRangeError, match=r'\[43\] outside 0..42'):
        to_mask([[0, 0, 1, 1]], [43], (3, 3))
    with pytest.raises(ValueError, match='right after LoadImageFromFile'):
        transform = TRANSFORMS.build(dict(type='BoxesToPseudoMask'))
        transform(dict(img_shape=(4, 4), ori_shape=(8, 8), gt_boxes=np.zeros((0, 4)),
                       gt_box_labels=np.zeros(0), taxonomy=TAXONOMY, dataset_key='gtsdb'))
    with pytest.raises(ValueError, match='dataset_key='):
        TRANSFORMS.build(dict(type='BoxesToPseudoMask'))(
            dict(img_shape=(4, 4), gt_boxes=np.zeros((0, 4)), gt_box_labels=np.zeros(0)))
    with pytest.raises(ValueError, match='shape_mode'):
        TRANSFORMS.build(dict(type='BoxesToPseudoMask', shape_mode='circle'))


def test_transform_draws_with_the_shared_label_space_tables(monkeypatch):
    """BoxesToPseudoMask takes values, shapes and dtype from the dataset's
    LabelSpace (box_labels, shape_ids), not from tables of its own."""
    from mmhier.structures import label_space
    tax = Taxonomy.from_string(TINY.read_text(), source='shared.yaml')
    space = label_space(tax, 'gtsdb_like')
    assert space.box_labels.tolist() == [39, 40, 41, 42, 43]   # stop .. keep left + 22
    assert space.box_labels.dtype == np.int16
    assert space.shape_ids().tolist() == [5, 3, 1, 1, 1]       # octagon, inv. tri., circles
    transform = TRANSFORMS.build(dict(type='BoxesToPseudoMask', taxonomy=tax,
                                      dataset_key='gtsdb_like'))
    sample = dict(img_shape=(3, 3), gt_boxes=np.array([[0, 0, 2, 2]]),
                  gt_box_labels=np.array([1]))
    # inverted triangle in a 3x3 box: rows of 3, 1 (|u| <= (1 - v) / 2), 1
    assert transform(dict(sample))['gt_seg_map'].tolist() == \
        [[40, 40, 40], [-1, 40, -1], [-1, 40, -1]]
    monkeypatch.setitem(vars(space), 'box_labels', np.array([7, 8, 9, 10, 11], np.int32))
    monkeypatch.setitem(space._shape_ids, 'shape', np.zeros(5, np.int64))   # all boxes
    out = transform(dict(sample))['gt_seg_map']
    assert out.dtype == np.int32 and out.tolist() == [[8] * 3] * 3


def test_box_label_dtype_widens_for_large_taxonomies():
    from mmhier.datasets.transforms.box_pseudo_masks import box_label_dtype
    assert box_label_dtype(112) is np.int16
    assert box_label_dtype(16384) is np.int16     # largest value 32767
    assert box_label_dtype(16385) is np.int32


def test_int16_maps_equal_int32_maps():
    boxes = [[0, 0, 9, 9], [3, 2, 14, 11], [5, 5, 6, 6]]
    shapes = ['circle', 'octagon', 'box']
    a = rasterize_shapes(16, 18, boxes, shapes, values=[300, 301, 302])
    b = rasterize_shapes(16, 18, boxes, shapes, values=[300, 301, 302], dtype=np.int16)
    assert a.dtype == np.int32 and b.dtype == np.int16
    np.testing.assert_array_equal(a, b)
