"""Node sets (partial labels): parsing, the target tables, supervision.

The fixture ``valid/node_sets.yaml``::

    root                       node ids: root 0, sky 1, ground 2, sidewalk 3,
      sky                      terrain 4, vehicle 5, car 6, truck 7, bus 8,
      ground: sidewalk, terrain  person 9
      vehicle: car, truck, bus
      person

Dataset ``coarse`` maps id 0 to [car, truck] (target 10), 1 to [vehicle, bus,
person] (reduced to [vehicle, person], target 11), 2 to [truck, bus, car]
(all of vehicle, target 12), 3 to sky, 4 to [sidewalk, person] (target 13).
"""
import numpy as np
import pytest

from mmhier.taxonomy import Taxonomy, TaxonomyValidationError
from mmhier.taxonomy.diff import diff_taxonomies
from mmhier.taxonomy.node_sets import (ANY, NO_TARGET, SEVERAL, allowed_children,
                                       covers_node, format_target, label_sets,
                                       lowest_common_ancestor, reduce_node_set,
                                       redundant_members)
from mmhier.taxonomy.summary import format_dataset, format_tree
from tests.conftest import TEST_DATA

FIXTURE = TEST_DATA / 'taxonomies' / 'valid' / 'node_sets.yaml'
N = -1
S = SEVERAL


@pytest.fixture(scope='module')
def tax() -> Taxonomy:
    return Taxonomy.from_file(FIXTURE)


def test_node_set_helpers_on_the_tree(tax):
    tree = tax._tree
    assert redundant_members(tree, [5, 8, 9]) == {8: 5}
    assert reduce_node_set(tree, [9, 8, 5]) == (5, 9)
    assert allowed_children(tree, (6, 7)) == {0: {5}, 5: {6, 7}}
    assert allowed_children(tree, (3, 9)) == {0: {2, 9}, 2: {3}}
    assert lowest_common_ancestor(tree, (6, 7)) == 5
    assert lowest_common_ancestor(tree, (3, 9)) == 0
    assert lowest_common_ancestor(tree, (7,)) == 7
    assert covers_node(tree, (6, 7, 8), 5) and not covers_node(tree, (6, 7), 5)
    assert covers_node(tree, (3, 4, 5, 1, 9), 0)
    # a set allowing every child of a classifier does not train it
    assert label_sets(tree, [(6, 7, 8), (1,)]) == {0: {frozenset({5}), frozenset({1})}}
    assert format_target(('car', 'truck')) == '[car, truck]'
    assert format_target(('car',)) == 'car' and format_target(()) == '(none)'


def test_targets(tax):
    assert tax.num_nodes == 10 and tax.num_targets == 14
    assert tax.node_sets == (('car', 'truck'), ('vehicle', 'person'),
                             ('car', 'truck', 'bus'), ('sidewalk', 'person'))
    assert tax.target_members[10:] == ((6, 7), (5, 9), (6, 7, 8), (3, 9))
    assert tax.target_name(11) == '[vehicle, person]' and tax.target_name(7) == 'truck'
    assert tax.target_lca.tolist() == list(range(10)) + [5, 0, 5, 0]
    assert tax.label_to_target('coarse').tolist() == [10, 11, 12, 1, 13]
    assert tax.label_to_node('coarse').tolist() == [5, 0, 5, 1, 0]
    assert tax.labelled_targets('coarse').tolist() == \
        [False, True] + [False] * 8 + [True] * 4
    assert tax.labelled_nodes('coarse') == ('sky', 'sidewalk', 'vehicle', 'car', 'truck',
                                            'bus', 'person')
    # the fine dataset has no node sets: its targets are its nodes
    assert tax.label_to_target('fine').tolist() == [1, 3, 4, 6, 7, 8, 9]


def test_target_choices(tax):
    assert [c.node for c in tax.classifiers] == ['root', 'ground', 'vehicle']
    choices = tax.target_choices
    assert choices.shape == (3, 14)
    np.testing.assert_array_equal(choices[:, :10], tax.classifier_targets)
    assert choices[:, 10:].tolist() == [[2, S, 2, S],     # root
                                        [N, N, N, 0],     # ground
                                        [S, N, ANY, N]]   # vehicle
    assert NO_TARGET == N


def test_allowed_children_tables(tax):
    vehicle = tax.allowed_children(2)
    assert vehicle.shape == (14, 3) and not vehicle.flags.writeable
    expected = np.zeros((14, 3), dtype=bool)
    expected[6, 0] = expected[7, 1] = expected[8, 2] = True
    expected[10] = [True, True, False]
    expected[12] = True
    np.testing.assert_array_equal(vehicle, expected)
    root = tax.allowed_children(0)      # children sky, ground, vehicle, person
    assert root[11].tolist() == [False, False, True, True]
    assert root[13].tolist() == [False, True, False, True]
    assert root[10].tolist() == [False, False, True, False]
    assert root[0].tolist() == [False] * 4           # the root itself: no term


def test_node_set_cover(tax):
    cover = tax.node_set_cover
    assert cover.shape == (4, 10)
    assert [np.flatnonzero(row).tolist() for row in cover] == \
        [[6, 7], [5, 6, 7, 8, 9], [6, 7, 8], [3, 9]]


def test_dataset_class_tables(tax):
    # members of node sets belong to the set's class unless a single-node
    # class maps to them; deeper mappings win
    assert tax.node_to_dataset_class('coarse').tolist() == \
        [-1, 3, -1, 4, -1, 1, 0, 0, 2, 1]
    assert tax.target_to_dataset_class('coarse').tolist()[10:] == [0, 1, 2, 4]


def test_supervision_counts_distinct_allowed_sets(tax):
    # coarse gives root four sets ({sky}, {vehicle}, {vehicle, person},
    # {ground, person}), vehicle only {car, truck} and ground only {sidewalk}
    assert tax.trained_classifiers('coarse') == ('root',)
    assert tax.trained_classifiers('fine') == ('root', 'ground', 'vehicle')
    assert tax.supplied_children('coarse', 'vehicle') == ('car', 'truck')
    assert tax.supplied_children('coarse', 'root') == ('sky', 'ground', 'vehicle', 'person')


SETS = """
name: sets
tree: {root: {sky: , vehicle: [car, truck, bus]}}
datasets:
  d:
    annotation: pixel
    classes: {0: sky, 1: {name: a, nodes: [car, truck]}, 2: {name: b, LABEL}}
"""


@pytest.mark.parametrize('label, trains', [
    ('node: bus', True),                    # {car, truck} and {bus}: nothing common
    ('nodes: [truck, bus]', False),         # both allow truck: "always truck" is free
    ('node: car', False),                   # both allow car
])
def test_a_dataset_trains_a_classifier_when_no_child_is_always_allowed(label, trains):
    text = SETS.replace('LABEL', label)
    if trains:
        tax = Taxonomy.from_string(text)
        assert tax.trained_classifiers('d') == ('root', 'vehicle') and tax.warnings == ()
        assert tax.common_children('d', 'vehicle') == ()
        return
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_string(text)
    common = 'truck' if 'bus' in label else 'car'
    assert [p.code for p in info.value.errors] == ['untrained-classifier']
    assert f"all allowing '{common}'" in str(info.value)
    forced = Taxonomy.from_string(text.replace(
        'annotation: pixel', 'annotation: pixel\n    supervision: {force: [vehicle]}'))
    assert forced.trained_classifiers('d') == ('root', 'vehicle')
    assert forced.common_children('d', 'vehicle') == (common,)


def test_scalar_nodes_is_one_node():
    text = '''
name: scalar
tree: {root: {a: , b: }}
datasets:
  d: {annotation: pixel, classes: {0: a, 1: {name: bee, NODES: b}}}
'''
    one = Taxonomy.from_string(text.replace('NODES', 'nodes'))
    other = Taxonomy.from_string(text.replace('NODES', 'node'))
    cls = one.dataset('d').classes[1]
    assert cls.nodes == ('b',) and cls.node == 'b' and not cls.is_node_set
    assert one.num_targets == one.num_nodes == 3
    assert one.content_hash == other.content_hash


def test_to_dict_round_trips_node_sets(tax):
    again = Taxonomy.from_dict(tax.to_dict())
    assert again.dataset('coarse').classes[0].nodes == ('car', 'truck')
    assert again.content_hash == tax.content_hash
    assert again.node_sets == tax.node_sets
    changed = tax.to_dict()
    changed['datasets']['coarse']['classes'][0]['nodes'] = ['car', 'bus']
    assert Taxonomy.from_dict(changed).content_hash != tax.content_hash
    assert Taxonomy.from_dict(changed).tree_hash == tax.tree_hash


def test_diff_reports_node_set_changes(tax):
    changed = tax.to_dict()
    changed['datasets']['coarse']['classes'][0]['nodes'] = ['truck', 'car']   # same set
    changed['datasets']['coarse']['classes'][3] = {'name': 'sky', 'nodes': ['sky', 'person']}
    diff = diff_taxonomies(tax, Taxonomy.from_dict(changed))
    assert [(m.id, m.old_node, m.new_node) for m in diff.mapping_changes] == \
        [(3, 'sky', '[sky, person]')]


def test_summary_shows_node_sets(tax):
    text = format_dataset(tax, 'coarse')
    assert '5 mapped, 0 ignored' in text
    assert ('node sets (partial labels): 0 car or truck = [car, truck]; '
            '1 road user = [vehicle, bus, person]') in text
    assert 'trains: root' in text
    tree = format_tree(tax).splitlines()
    assert tree[7] == '│   ├── car       L2  3     {0}, {2}'
    assert tree[10] == '└── person        L1  6     {1}, {4}'


def test_node_set_errors_name_file_line_and_class():
    text = '''
name: bad
tree: {root: {sky: , vehicle: [car, truck]}}
datasets:
  d:
    annotation: pixel
    classes:
      0: sky
      1: {name: v, nodes: [car, trukc]}
      2: {name: w, nodes: []}
      3: car
      4: truck
'''
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_string(text, source='bad.yaml')
    message = str(info.value)
    assert "bad.yaml:9:" in message and "unknown node 'trukc'" in message
    assert "did you mean 'truck'" in message
    assert 'bad.yaml:10:' in message and 'nodes is empty' in message
    # the rejected entry (id 2) is not reported again as unmapped
    assert sorted(p.code for p in info.value.errors) == ['bad-node-set', 'unknown-node']


def test_a_set_that_reduces_to_one_node_is_that_node():
    tax = Taxonomy.from_string('''
name: reduced
tree: {root: {sky: , vehicle: [car, truck]}}
datasets:
  d:
    annotation: pixel
    classes: {0: sky, 1: car, 2: truck, 3: vehicle, 4: {name: v2, nodes: [vehicle, car]}}
''')
    vehicle = tax.index('vehicle')
    assert tax.num_targets == tax.num_nodes and tax.node_sets == ()
    assert tax.label_to_target('d').tolist() == [1, 3, 4, vehicle, vehicle]
    # evaluation: a vehicle gt (either class) is class 3, as its prediction
    assert tax.node_to_dataset_class('d')[vehicle] == 3
    assert tax.target_to_dataset_class('d')[vehicle] == 3
    assert sorted((w.code, w.line) for w in tax.warnings) == \
        [('redundant-node', 7), ('shared-node', 7)]
    assert tax.target_of([vehicle, tax.index('car')]) == vehicle
    assert tax.target_of([tax.index('car'), tax.index('truck')]) is None


def test_a_set_of_every_root_child_maps_to_the_root():
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_string('''
name: everything
tree: {root: {sky: , vehicle: [car, truck]}}
datasets:
  d:
    annotation: pixel
    classes: {0: sky, 1: car, 2: truck, 3: {name: all, nodes: [sky, vehicle]}}
''')
    assert [(p.code, p.line) for p in info.value.errors] == [('maps-to-root', 7)]
    assert 'cover every child of the root' in str(info.value)


def test_hashes_see_the_set_not_how_it_is_written(tax):
    text = FIXTURE.read_text()
    swapped = Taxonomy.from_string(text.replace('nodes: [car, truck]', 'nodes: [truck, car]'))
    assert swapped.content_hash == tax.content_hash
    assert swapped.label_hash == tax.label_hash != tax.tree_hash
    # the encoding numbers node sets in order of appearance: other order, other hash
    reordered = Taxonomy.from_string(text.replace(
        '0: {name: car or truck, nodes: [car, truck]}',
        '9: {name: car or truck, nodes: [car, truck]}').replace(
        'annotation: pixel\n    classes:\n      9',
        'annotation: pixel\n    ignore_ids: [0, 5-8]\n    classes:\n      9'))
    assert reordered.tree_hash == tax.tree_hash
    assert reordered.node_sets[-1] == ('car', 'truck')
    assert reordered.label_hash != tax.label_hash
    plain = Taxonomy.from_string('''
name: plain
tree: {root: {sky: , vehicle: [car, truck]}}
datasets: {d: {annotation: pixel, classes: {0: sky, 1: car, 2: truck}}}
''')
    assert plain.label_hash == plain.tree_hash


FLIPS = '''
name: flips
tree: {root: {sky: , sign: [left, right, stop]}}
datasets:
  d:
    annotation: pixel
    classes:
      0: sky
      1: {name: left, attributes: {flip_to: 2}}
      2: {name: right, attributes: {flip_to: 1}}
      3: stop
      4: {name: left or stop, nodes: [left, stop]}
'''


def test_a_set_with_a_mirrored_member_needs_a_mirror_class():
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_string(FLIPS, source='flips.yaml')
    assert [(p.code, p.line) for p in info.value.errors] == [('flip-node-set', 12)]
    assert 'turns nodes [left, stop] into [right, stop]' in str(info.value)
    mirrored = Taxonomy.from_string(
        FLIPS + '      5: {name: right or stop, nodes: [stop, right]}\n')
    assert mirrored.node_sets == (('left', 'stop'), ('right', 'stop'))



def test_covers_node_walks_deep_trees_without_recursion():
    from mmhier.taxonomy.tree_index import TreeIndex
    # a spine of 5000 levels, each with a leaf beside the next spine node
    edges = [(f's{i}', f's{i + 1}') for i in range(5000)] + \
        [(f's{i}', f'leaf{i}') for i in range(5000)]
    tree = TreeIndex('s0', edges)
    deep = tree.index['s5000']
    assert not covers_node(tree, [tree.index['leaf0'], deep], 0)
    assert covers_node(tree, [tree.index['leaf0'], tree.index['s1']], 0)
    assert lowest_common_ancestor(tree, [deep, tree.index['leaf4999']]) == tree.index['s4999']
