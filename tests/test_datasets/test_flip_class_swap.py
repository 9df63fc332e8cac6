"""SwapFlippedClasses: mirror classes swap after horizontal flips, from data."""
from pathlib import Path

import numpy as np
import pytest
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS

import mmhier.datasets.transforms.box_pseudo_masks  # noqa: F401 (registers)
from mmhier.datasets.errors import LabelIdOutOfRangeError
from mmhier.structures import label_space
from mmhier.taxonomy import Taxonomy, TaxonomyValidationError, load_taxonomy

TAXONOMY = 'taxonomies/cs_vistas_gtsdb.yaml'
TINY = Path(__file__).resolve().parents[2] / 'taxonomies' / 'tiny_street.yaml'


@pytest.fixture(autouse=True, scope='module')
def mmseg_scope():
    init_default_scope('mmseg')


@pytest.fixture(scope='module')
def tax():
    return load_taxonomy(TAXONOMY)


def node(tax, name, box=False):
    return tax.index(name) + (tax.num_nodes if box else 0)


def test_table_swaps_exactly_the_flip_to_pairs_in_both_encodings(tax):
    table = label_space(tax, 'gtsdb').flip_table
    n = tax.num_nodes
    assert table.shape == (2 * n + 1,) and table.dtype == np.int32
    assert table[-1] == -1 and not table.flags.writeable
    pairs = [('bend left', 'bend right'), ('go right', 'go left'),
             ('go right or straight', 'go left or straight'), ('keep right', 'keep left')]
    expected = np.arange(2 * n)
    for a, b in pairs:
        for offset in (0, n):
            expected[tax.index(a) + offset] = tax.index(b) + offset
            expected[tax.index(b) + offset] = tax.index(a) + offset
    assert table[:-1].tolist() == expected.tolist()
    assert (table[:-1] != np.arange(2 * n)).sum() == 16


def pipeline(flip, **flip_cfg):
    return Compose([dict(type='BoxesToPseudoMask'), dict(type='RandomFlip', **flip_cfg),
                    dict(type='SwapFlippedClasses')]) if flip else \
        Compose([dict(type='BoxesToPseudoMask'), dict(type='SwapFlippedClasses')])


def sample(boxes, labels, shape=(5, 12)):
    return dict(img=np.zeros(shape + (3,), np.uint8), img_shape=shape, ori_shape=shape,
                gt_boxes=np.asarray(boxes, np.float32), gt_box_labels=np.asarray(labels),
                taxonomy=TAXONOMY, dataset_key='gtsdb', seg_fields=[])


def test_horizontal_flip_mirrors_mask_and_swaps_keep_right_left(tax):
    # keep right (38, circle) at columns 0-4, stop (14, octagon, unpaired) at 7-11
    results = pipeline(True, prob=1.0)(sample([[0, 0, 4, 4], [7, 0, 11, 4]], [38, 14]))
    kl, stop = node(tax, 'keep left', True), node(tax, 'stop', True)
    o, _ = stop, -1
    assert results['flip'] and results['flip_direction'] == 'horizontal'
    # 5x5 circle: dx^2 + dy^2 <= 6.25; 5x5 octagon: |dx| + |dy| <= 3.54
    assert results['gt_seg_map'].tolist() == [
        [_, o, o, o, _, _, _, _, kl, kl, kl, _],
        [o, o, o, o, o, _, _, kl, kl, kl, kl, kl],
        [o, o, o, o, o, _, _, kl, kl, kl, kl, kl],
        [o, o, o, o, o, _, _, kl, kl, kl, kl, kl],
        [_, o, o, o, _, _, _, _, kl, kl, kl, _]]


def test_bend_left_becomes_bend_right(tax):
    results = pipeline(True, prob=1.0)(sample([[0, 0, 4, 4]], [19], shape=(5, 7)))
    br = node(tax, 'bend right', True)
    _ = -1
    # 5x5 triangle, |dx| <= (dy + 2.5) / 2: rows of 1, 1, 3, 3, 5 pixels,
    # mirrored from columns 0-4 to columns 2-6
    assert results['gt_seg_map'].tolist() == [[_, _, _, _, br, _, _],
                                              [_, _, _, _, br, _, _],
                                              [_, _, _, br, br, br, _],
                                              [_, _, _, br, br, br, _],
                                              [_, _, br, br, br, br, br]]


def test_no_swap_without_flip(tax):
    unflipped = pipeline(False)(sample([[0, 0, 4, 4]], [38]))['gt_seg_map']
    results = pipeline(True, prob=0.0)(sample([[0, 0, 4, 4]], [38]))
    assert not results['flip']
    assert results['gt_seg_map'].tolist() == unflipped.tolist()
    assert set(np.unique(unflipped).tolist()) == {-1, node(tax, 'keep right', True)}


def test_vertical_flip_mirrors_but_does_not_swap(tax):
    results = pipeline(True, prob=1.0, direction='vertical')(
        sample([[0, 0, 4, 4]], [19], shape=(5, 5)))
    bl = node(tax, 'bend left', True)
    _ = -1
    # the triangle upside down, still bend left
    assert results['gt_seg_map'].tolist() == [[bl] * 5,
                                              [_, bl, bl, bl, _], [_, bl, bl, bl, _],
                                              [_, _, bl, _, _], [_, _, bl, _, _]]


def test_per_pixel_node_labels_are_swapped_too(tax):
    kr, kl, stop = (node(tax, n) for n in ('keep right', 'keep left', 'stop'))
    gt = np.array([[kr, kl, stop, -1], [kr + tax.num_nodes, -1, 0, kl]], np.int32)
    swap = TRANSFORMS.build(dict(type='SwapFlippedClasses', taxonomy=TAXONOMY,
                                 dataset_key='gtsdb'))
    results = swap(dict(gt_seg_map=gt, flip=True, flip_direction='horizontal'))
    assert results['gt_seg_map'].dtype == np.int32
    assert results['gt_seg_map'].tolist() == [[kl, kr, stop, -1],
                                              [kl + tax.num_nodes, -1, 0, kr]]
    with pytest.raises(LabelIdOutOfRangeError, match='outside -1..223'):
        swap(dict(gt_seg_map=np.array([[255, 224]], np.int32), flip=True,
                  flip_direction='horizontal'))


def test_bad_flip_to_data_is_a_taxonomy_validation_error():
    """The transform never sees bad flip_to data: the taxonomy does not load."""
    one_way = TINY.read_text().replace('{shape: circle, flip_to: 3}', '{shape: circle}')
    line = one_way.splitlines().index(
        '      3: {name: keep right, node: keep right, attributes: {shape: circle, '
        'flip_to: 4}}') + 1
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_string(one_way, source='one_way.yaml')
    assert [(p.code, p.line) for p in info.value.errors] == [('one-way-flip', line)]
    assert f"one_way.yaml:{line}: error [one-way-flip] dataset 'gtsdb_like' class 3 " \
        "'keep right': flip_to 4 is one-way; give class 4 `flip_to: 3`" in str(info.value)


def test_transform_uses_the_shared_flip_table(monkeypatch):
    """SwapFlippedClasses reads the dataset's LabelSpace.flip_table (one
    table per taxonomy and dataset), not a copy of its own."""
    tax = Taxonomy.from_string(TINY.read_text(), source='shared.yaml')
    space = label_space(tax, 'gtsdb_like')
    swap = TRANSFORMS.build(dict(type='SwapFlippedClasses', taxonomy=tax,
                                 dataset_key='gtsdb_like'))
    gt = np.array([[20, 21, 42, 43, 17, -1]], np.int32)   # kr, kl, kr box, kl box, stop
    flipped = swap(dict(gt_seg_map=gt, flip=True, flip_direction='horizontal'))
    assert flipped['gt_seg_map'].tolist() == [[21, 20, 43, 42, 17, -1]]
    marked = np.arange(2 * 22 + 1, dtype=np.int32) + 100
    monkeypatch.setitem(vars(space), 'flip_table', marked)     # the cached table
    again = swap(dict(gt_seg_map=gt, flip=True, flip_direction='horizontal'))
    assert again['gt_seg_map'].tolist() == [[120, 121, 142, 143, 117, 144]]


def test_class_whose_partner_is_ignored_becomes_ignored():
    text = TINY.read_text().replace(
        '4: {name: keep left, node: keep left, attributes: {shape: circle, flip_to: 3}}',
        '4: {name: keep left, ignore: true, attributes: {flip_to: 3}}')
    tax = Taxonomy.from_string(text, source='ignored_partner.yaml')
    swap = TRANSFORMS.build(dict(type='SwapFlippedClasses', taxonomy=tax,
                                 dataset_key='gtsdb_like'))
    gt = np.array([[20, 42, 21, 43, -1]], np.int16)   # kr, kr box, kl (unused), kl box
    out = swap(dict(gt_seg_map=gt, flip=True, flip_direction='horizontal'))['gt_seg_map']
    assert out.dtype == np.int16
    assert out.tolist() == [[-1, -1, 21, 43, -1]]
