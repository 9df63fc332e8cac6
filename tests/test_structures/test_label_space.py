"""LabelCodec and LabelSpace: hand-computed tables of tiny_street, caching.

Nodes (preorder): 0 root, 1 sky, 2 building, 3 vegetation, 4 sidewalk,
5 pole, 6 car, 7 person, 8 driveable, 9 road, 10 lane marking, 11 rider,
12 bicyclist, 13 motorcyclist, 14 traffic sign, 15 traffic sign back,
16 traffic sign front, 17 stop, 18 give way, 19 speed limit, 20 keep right,
21 keep left; N = 22. Classifiers: 0 root, 1 driveable, 2 rider,
3 traffic sign, 4 traffic sign front.
"""
import numpy as np
import pytest
import torch

from mmhier.structures import (IGNORE_INDEX, LabelCodec, LabelSpace, MissingShapeError,
                               label_codec, label_space)
from mmhier.taxonomy import Taxonomy, TaxonomyError, UnknownDatasetError, load_taxonomy
from tests.conftest import TAXONOMIES

TINY = TAXONOMIES / 'tiny_street.yaml'
N = 22


@pytest.fixture(scope='module')
def tax():
    return load_taxonomy(TINY)


# ------------------------------------------------------------------ codec
def test_codec_encodes_and_decodes_numpy_and_torch(tax):
    codec = label_codec(tax)
    assert isinstance(codec, LabelCodec)
    assert (codec.num_nodes, codec.num_labels, codec.ignore_index) == (N, 2 * N, -1)
    assert codec.tree_hash == tax.tree_hash and codec.box_dtype is np.int16
    nodes = np.array([-1, 0, 9, 21])
    assert codec.encode(nodes, False).tolist() == [-1, 0, 9, 21]
    assert codec.encode(nodes, True).tolist() == [-1, 22, 31, 43]
    assert codec.encode(nodes, np.array([1, 0, 1, 1])).tolist() == [-1, 0, 31, 43]
    node, is_box = codec.decode(torch.tensor([-1, 0, 21, 22, 43]))
    assert node.tolist() == [-1, 0, 21, 0, 21]
    assert is_box.tolist() == [False, False, False, True, True]


def test_codec_range_check(tax):
    codec = label_codec(tax)
    assert codec.in_range(np.array([[-1, 0, 43]]))
    assert codec.in_range(np.zeros((0, 3), np.int64)) and codec.in_range(torch.zeros(0))
    assert not codec.in_range(np.array([44])) and not codec.in_range(np.array([-2]))
    assert not codec.in_range(torch.tensor([[0, 255]]))
    assert codec.describe() == ("-1 ignored, node ids 0..21, box pseudo labels 22..43 "
                                "(N = 22 nodes of taxonomy 'tiny_street')")


def test_codec_lookup_tables(tax):
    codec = label_codec(tax)
    swap = np.arange(N)
    swap[[20, 21]] = [21, 20]
    swap[5] = -1                                   # pole becomes ignored
    table = codec.remap_table(swap)
    assert table.shape == (2 * N + 1,) and table.dtype == np.int32
    assert not table.flags.writeable
    labels = np.array([[20, 42, 5, 27, -1, 1]])
    assert table[labels].tolist() == [[21, 43, -1, -1, -1, 1]]
    channel = np.full(N, -1)
    channel[[9, 10]] = [0, 1]
    values = codec.value_table(channel)
    assert values.dtype == np.int64 and values.shape == (2 * N + 1,)
    assert values[np.array([9, 31, 10, 32, 1, -1])].tolist() == [0, 0, 1, 1, -1, -1]
    assert codec.value_table(channel, ignored=7)[-1] == 7
    assert torch.tensor(values)[torch.tensor([-1, 31])].tolist() == [-1, 0]


# ----------------------------------------------------------- label spaces
def test_city_like_tables(tax):
    space = label_space(tax, 'city_like')
    assert isinstance(space, LabelSpace)
    assert (space.dataset_key, space.annotation, space.is_box, space.num_ids,
            space.encoding, space.source) == ('city_like', 'pixel', False, 11, 'uint8',
                                              tax.source)
    assert space.id_to_label.tolist() == [-1, 1, 2, 3, 4, 5, 6, 7, 8, 11, 14]
    assert space.id_to_label.dtype == np.int32
    assert space.box_labels.tolist() == [-1, 23, 24, 25, 26, 27, 28, 29, 30, 33, 36]
    assert space.box_labels.dtype == np.int16
    assert space.node_to_class.tolist() == [-1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 9, 9, 9,
                                            10, 10, 10, 10, 10, 10, 10, 10]
    assert space.labelled_nodes.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 11, 14]
    assert np.flatnonzero(space.labelled).tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 11, 14]
    assert space.supervision.tolist() == [True, False, False, False, False]
    assert space.flip_nodes.tolist() == list(range(N))
    assert space.flip_table.tolist() == list(range(2 * N)) + [-1]
    assert space.shape_ids('box').tolist() == [0] * 11


def test_vistas_like_tables(tax):
    space = label_space(tax, 'vistas_like')
    assert space.id_to_label.tolist() == [-1, 1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 13, 15, 16]
    # driveable, rider and traffic sign are not labelled, nor anything above them
    assert space.node_to_class.tolist() == [-1, 1, 2, 3, 4, 5, 6, 7, -1, 8, 9, -1, 10,
                                            11, -1, 12, 13, 13, 13, 13, 13, 13]
    assert space.labelled_nodes.tolist() == [1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 13, 15, 16]
    assert space.supervision.tolist() == [True, True, True, True, False]


def test_gtsdb_like_tables(tax):
    space = label_space(tax, 'gtsdb_like')
    assert space.is_box
    assert space.id_to_label.tolist() == [39, 40, 41, 42, 43]      # node + 22
    assert space.box_labels.tolist() == [39, 40, 41, 42, 43]
    # octagon, inverted triangle, circle x3
    assert space.shape_ids().tolist() == [5, 3, 1, 1, 1]
    assert space.shape_ids('box').tolist() == [0, 0, 0, 0, 0]
    expected = list(range(N))
    expected[20], expected[21] = 21, 20
    assert space.flip_nodes.tolist() == expected
    table = space.flip_table
    assert table.dtype == np.int32 and table.shape == (2 * N + 1,)
    assert table[[20, 21, 42, 43, 17, 39, 44]].tolist() == [21, 20, 43, 42, 17, 39, -1]
    assert (table[:-1] != np.arange(2 * N)).sum() == 4
    assert space.node_to_class.tolist() == [-1] * 17 + [0, 1, 2, 3, 4]
    assert space.labelled_nodes.tolist() == [17, 18, 19, 20, 21]
    assert space.supervision.tolist() == [False, False, False, False, True]


def test_every_table_is_read_only(tax):
    space = label_space(tax, 'gtsdb_like')
    for table in (space.id_to_node, space.id_to_label, space.box_labels,
                  space.shape_ids(), space.shape_ids('box'), space.flip_nodes,
                  space.flip_table, space.node_to_class, space.labelled_nodes,
                  space.labelled, space.supervision):
        assert not table.flags.writeable
        with pytest.raises(ValueError):
            table[0] = 1


def test_encode_decode_through_the_space(tax):
    space = label_space(tax, 'gtsdb_like')
    assert space.encode(np.array([17, -1]), True).tolist() == [39, -1]
    node, is_box = space.decode(np.array([39, 17, -1]))
    assert node.tolist() == [17, 17, -1] and is_box.tolist() == [True, False, False]


def test_missing_shapes_are_listed_with_file_and_line(tax):
    with pytest.raises(MissingShapeError) as info:
        label_space(tax, 'city_like').shape_ids('shape')
    message = str(info.value)
    assert isinstance(info.value, TaxonomyError)
    line = TINY.read_text().splitlines().index('      1: sky') + 1     # city_like's
    assert f"{tax.source}:{line}: dataset 'city_like' class 1 'sky' has no `shape` " \
        'attribute' in message
    assert message.count('has no `shape`') == 10             # id 0 is ignored
    assert "BoxesToPseudoMask(shape_mode='box')" in message
    with pytest.raises(ValueError, match="shape mode must be one of shape, box, got 'x'"):
        label_space(tax, 'gtsdb_like').shape_ids('x')


def test_partner_ignored_and_shared_nodes():
    text = TINY.read_text().replace(
        '4: {name: keep left, node: keep left, attributes: {shape: circle, flip_to: 3}}',
        '4: {name: keep left, ignore: true, attributes: {flip_to: 3}}')
    space = label_space(Taxonomy.from_string(text, source='ignored.yaml'), 'gtsdb_like')
    assert space.flip_nodes[20] == -1 and space.flip_nodes[21] == 21
    assert space.flip_table[[20, 42, 21, 43]].tolist() == [-1, -1, 21, 43]
    assert space.id_to_label.tolist() == [39, 40, 41, 42, -1]
    assert space.shape_ids().tolist() == [5, 3, 1, 1, 0]          # ignored: a box of -1


# ---------------------------------------------------------------- caching
def test_one_object_per_taxonomy_and_key(tax):
    space = label_space(tax, 'city_like')
    assert label_space(tax, 'city_like') is space
    assert label_space(str(TINY), 'city_like') is space           # same loaded taxonomy
    assert label_space(tax, 'city_like').id_to_label is space.id_to_label
    assert space.codec is label_codec(tax) is label_codec(TINY)
    assert label_space(tax, 'vistas_like') is not space
    other = Taxonomy.from_file(TINY)                              # another object
    assert label_space(other, 'city_like') is not space
    assert label_codec(other) is not label_codec(tax)
    assert label_space(other, 'city_like').id_to_label.tolist() == \
        space.id_to_label.tolist()


def test_unknown_dataset_key(tax):
    with pytest.raises(UnknownDatasetError, match="no dataset 'city'; did you mean "
                                                  "'city_like'"):
        label_space(tax, 'city')
    with pytest.raises(UnknownDatasetError):
        label_space(tax, None)


def test_no_torch_needed():
    """The label space is numpy only: importable without torch."""
    import subprocess
    import sys
    from tests.conftest import REPO_ROOT
    code = ('import sys\n'
            'class Block:\n'
            '    def find_spec(self, name, path=None, target=None):\n'
            "        if name.split('.')[0] in {'torch', 'mmseg', 'mmcv', 'mmengine'}:\n"
            "            raise ImportError(name)\n"
            'sys.meta_path.insert(0, Block())\n'
            'from mmhier.structures import label_space\n'
            "s = label_space('taxonomies/tiny_street.yaml', 'gtsdb_like')\n"
            'print(s.flip_table[20], s.box_labels.dtype)\n')
    run = subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ['21', 'int16']
    assert IGNORE_INDEX == -1


# ------------------------------------------------------------- node sets
def test_node_set_targets_through_codec_and_space():
    """tiny_partial_labels: N = 16 nodes, node sets 16 [sidewalk, terrain],
    17 [car, truck], 18 [rider, bicycle]; T = 19."""
    tax = load_taxonomy(TAXONOMIES / 'tiny_partial_labels.yaml')
    codec = label_codec(tax)
    assert (codec.num_nodes, codec.num_targets, codec.num_labels) == (16, 19, 38)
    assert codec.in_range(np.array([-1, 37])) and not codec.in_range(np.array([38]))
    assert 'node sets 16..18' in codec.describe()
    assert 'box pseudo labels 19..37' in codec.describe()
    targets, is_box = codec.decode(np.array([16, 18, 35, 37, 15, -1]))
    assert targets.tolist() == [16, 18, 16, 18, 15, -1]
    assert is_box.tolist() == [False, False, True, True, False, False]
    # node sets are drawn as their deepest common ancestor (root for sets
    # across branches, vehicle for [car, truck])
    assert codec.display_nodes[[17, 36, 16, 12, 31, -1]].tolist() == [11, 11, 0, 12, 12, -1]
    with pytest.raises(ValueError, match=r'one entry per target, shape \(19,\), got \(16,\)'):
        codec.value_table(np.zeros(16, dtype=np.int64))
    with pytest.raises(ValueError, match=r'shape \(19,\)'):
        codec.remap_table(np.arange(16))
    space = label_space(tax, 'street_coarse')
    assert space.id_to_target[:8].tolist() == [1, 3, 16, 6, 9, 17, 14, 18]
    assert space.id_to_node[:8].tolist() == [1, 3, 0, 6, 9, 11, 14, 0]
    assert space.id_to_label[[2, 5, 7, 8, 255]].tolist() == [16, 17, 18, -1, -1]
    assert space.box_labels[[2, 5, 6]].tolist() == [35, 36, 33]
    assert np.flatnonzero(space.labelled).tolist() == [1, 3, 6, 9, 14, 16, 17, 18]
    assert space.target_to_class[16:].tolist() == [2, 5, 7]
    # a flip keeps node sets (no flip_to pairs here: every target stays)
    assert space.flip_table[:38].tolist() == list(range(38))


def test_a_flip_maps_a_node_set_to_its_mirror_set():
    from tests.test_taxonomy.test_node_sets import FLIPS
    tax = Taxonomy.from_string(FLIPS + '      5: {name: right or stop, nodes: [stop, right]}\n')
    # nodes: 0 root, 1 sky, 2 sign, 3 left, 4 right, 5 stop; sets 6 [left, stop],
    # 7 [right, stop]; T = 8
    table = label_space(tax, 'd').flip_table
    assert table[[3, 4, 5, 6, 7]].tolist() == [4, 3, 5, 7, 6]
    assert table[[6 + 8, 7 + 8, -1]].tolist() == [7 + 8, 6 + 8, -1]   # box labels alike


def test_samples_carry_the_label_hash():
    from mmhier.structures import SampleTaxonomyMismatchError, sample_provenance
    from mmhier.structures.sample_checks import check_sample_taxonomy
    partial = load_taxonomy(TAXONOMIES / 'tiny_partial_labels.yaml')
    data = partial.to_dict()
    data['datasets']['street_coarse']['classes'][5] = {'name': 'vehicle', 'node': 'vehicle'}
    fewer = Taxonomy.from_dict(data, 'fewer.yaml')          # same tree, one set less
    assert fewer.tree_hash == partial.tree_hash != partial.label_hash != fewer.label_hash
    assert label_codec(partial).label_hash == partial.label_hash
    assert sample_provenance(partial)['taxonomy_hash'] == partial.label_hash
    check_sample_taxonomy(sample_provenance(partial), partial, 'X')
    with pytest.raises(SampleTaxonomyMismatchError,
                       match=r'another tree or other node sets \(2 here\)'):
        check_sample_taxonomy(dict(sample_provenance(partial), img_path='a.png'), fewer,
                              'HierarchicalLoss')


def test_a_set_whose_member_flips_to_an_ignored_class_is_ignored_when_flipped():
    from tests.test_taxonomy.test_node_sets import FLIPS
    tax = Taxonomy.from_string(FLIPS.replace(
        '2: {name: right, attributes: {flip_to: 1}}',
        '2: {name: right, ignore: true, attributes: {flip_to: 1}}')
        + '  other: {annotation: pixel, classes: {0: sky, 1: left, 2: right, 3: stop}}\n')
    # nodes 3 left, 4 right, 5 stop; set 6 [left, stop]
    table = label_space(tax, 'd').flip_table
    assert table[[3, 5, 6]].tolist() == [-1, 5, -1]   # left -> ignored, so is its set
