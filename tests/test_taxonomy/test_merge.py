"""``mmhier-taxonomy merge``: the three official label lists and a 25-line
relations file give the shipped cs_vistas_gtsdb tree and every dataset
mapping (node names up to renaming: the GTSDB list names its signs its own
way); the label-list formats; relations a tree cannot express."""
import json
from pathlib import Path

import pytest

from mmhier.taxonomy import Taxonomy
from mmhier.taxonomy.cli import main
from mmhier.taxonomy.merge import MergeError, merge_label_spaces, read_label_list

ROOT = Path(__file__).resolve().parents[2]
LISTS = ROOT / 'tests' / 'data' / 'label_lists'
RELATIONS = LISTS / 'cs_vistas_gtsdb_relations.yaml'


def positions(tax: Taxonomy, node: str) -> tuple:
    """A node's place: the child positions from the root down."""
    out = []
    while tax.parent(node) is not None:
        out.append(tax.children(tax.parent(node)).index(node))
        node = tax.parent(node)
    return tuple(reversed(out))


@pytest.fixture(scope='module')
def merged():
    return Taxonomy.from_string(merge_label_spaces(RELATIONS))


def test_relations_file_is_short():
    lines = [line for line in RELATIONS.read_text().splitlines()
             if line.strip() and not line.strip().startswith('#')]
    assert len(lines) <= 40


def test_merge_reproduces_the_shipped_tree_and_mappings(merged):
    shipped = Taxonomy.from_file(ROOT / 'taxonomies' / 'cs_vistas_gtsdb.yaml')
    assert [c.num_outputs for c in merged.classifiers] == [53, 10, 3, 2, 43]
    place = {positions(shipped, n): n for n in shipped.nodes}
    assert {positions(merged, n) for n in merged.nodes} == set(place)
    renamed = {n: place[positions(merged, n)] for n in merged.nodes
               if place[positions(merged, n)] != n}
    # only GTSDB's signs are named otherwise ('Speed limit (20km/h)' vs 'speed limit 20')
    assert len(renamed) == 43
    assert set(renamed.values()) == set(shipped.children('Traffic Sign (Front)'))
    for key in ('cityscapes', 'mapillary_vistas', 'gtsdb'):
        ours, theirs = merged.dataset(key), shipped.dataset(key)
        assert ours.num_ids == theirs.num_ids and ours.annotation == theirs.annotation
        mine = {c.id: c.node and positions(merged, c.node) for c in ours.classes}
        want = {c.id: c.node and positions(shipped, c.node) for c in theirs.classes}
        assert mine == want, key
        assert set(ours.skip) == set(theirs.skip)
    assert not merged.warnings


def test_cli_writes_a_valid_file(tmp_path, capsys):
    out = tmp_path / 'merged.yaml'
    assert main(['merge', str(RELATIONS), '-o', str(out), '--name', 'mine']) == 0
    assert Taxonomy.from_file(out).name == 'mine'
    assert main(['validate', '--strict', str(out)]) == 0


def test_label_list_formats(tmp_path):
    (tmp_path / 'labels.py').write_text(
        "labels = [\n"
        "    Label('unlabeled', 0, 255, 'void', 0, False, True, (0, 0, 0)),\n"
        "    Label('road', 7, 0, 'flat', 1, False, False, (128, 64, 128)),\n"
        "    Label('license plate', -1, -1, 'vehicle', 7, False, True, (0, 0, 142)),\n"
        "]\n")
    assert read_label_list(tmp_path / 'labels.py', 'cs').classes == {0: 'unlabeled', 7: 'road'}
    (tmp_path / 'config.json').write_text(json.dumps({'labels': [
        {'name': 'animal--bird', 'readable': 'Bird'}, {'name': 'construction--road'}]}))
    assert read_label_list(tmp_path / 'config.json', 'v').classes == {
        0: 'Bird', 1: 'construction--road'}
    (tmp_path / 'list.yaml').write_text(
        'annotation: box\nencoding: int32\nclasses: {0: stop, 1: {name: junk, ignore: true}}\n')
    listed = read_label_list(tmp_path / 'list.yaml', 'g')
    assert (listed.classes, listed.ignored, listed.annotation, listed.encoding) == (
        {0: 'stop', 1: 'junk'}, {1}, 'box', 'int32')
    vistas = read_label_list(LISTS / 'mapillary_vistas_v1.2.csv', 'v')
    assert vistas.classes[50] == 'Traffic Sign (Front)' and len(vistas.classes) == 66
    cityscapes = read_label_list(LISTS / 'cityscapes.csv', 'c')
    assert len(cityscapes.classes) == 34 and -1 not in cityscapes.classes


def write_case(tmp_path, relations: str) -> Path:
    (tmp_path / 'a.yaml').write_text('classes: {0: road, 1: sky, 2: car, 3: truck}\n')
    (tmp_path / 'b.yaml').write_text(
        'classes: {0: asphalt, 1: marking, 2: sky, 3: vehicle, 4: lorry}\n')
    path = tmp_path / 'relations.yaml'
    path.write_text('datasets: {a: {labels: a.yaml}, b: {labels: b.yaml}}\n' + relations)
    return path


def test_superclass_named_after_the_coarse_class_and_same(tmp_path):
    path = write_case(tmp_path, 'within:\n  - [b.asphalt, a.road]\n  - [b.marking, a.road]\n'
                                'same:\n  - [a.truck, b.lorry]\n')
    path.write_text(path.read_text().replace('b: {labels: b.yaml}',
                                             'b: {labels: b.yaml, encoding: uint16}'))
    tax = Taxonomy.from_string(merge_label_spaces(path))
    assert tax.dataset('b').encoding == 'uint16'
    assert tax.children('road') == ('asphalt', 'marking')
    assert tax.children(tax.root) == ('road', 'sky', 'car', 'truck', 'vehicle')
    assert {c.id: c.node for c in tax.dataset('b').classes} == {
        0: 'asphalt', 1: 'marking', 2: 'sky', 3: 'vehicle', 4: 'truck'}
    assert tax.dataset('a').skip == ()


def test_classes_named_alike_but_not_one_concept_get_a_dataset_suffix(tmp_path):
    """a.road covers b's road surface classes, one of them called Road: two
    different nodes, so the later dataset's gets its dataset's name."""
    path = write_case(tmp_path, 'within:\n  - {classes: [b.asphalt, b.marking], in: a.road}\n')
    (tmp_path / 'b.yaml').write_text(
        'classes: {0: asphalt, 1: marking, 2: sky, 3: vehicle, 4: lorry, 5: Road}\n')
    path.write_text(path.read_text().replace('[b.asphalt, b.marking]',
                                             '[b.asphalt, b.marking, b.Road]'))
    tax = Taxonomy.from_string(merge_label_spaces(path))
    assert tax.children('road') == ('asphalt', 'marking', 'Road (b)')
    assert {c.id: c.node for c in tax.dataset('a').classes}[0] == 'road'


@pytest.mark.parametrize('relations, line, says', [
    ('within:\n  - [b.asphalt, a.road]\n  - [b.marking, a.road]\n  - [b.asphalt, a.car]\n',
     5, 'b.asphalt is within two classes, a.road (line 3) and a.car'),
    ('within:\n  - [a.car, b.vehicle]\n  - [b.lorry, b.vehicle]\n  - [b.vehicle, a.car]\n',
     3, 'the within relations form a cycle'),
    ('within:\n  - [b.lorry, a.truck]\n', 3, 'a.truck covers only b.lorry'),
    ('within:\n  - [b.tarmac, a.road]\n', 3, "no class(es) named 'tarmac'"),
    ('within:\n  - [c.x, a.road]\n', 3, "unknown dataset 'c'"),
    ('same:\n  - [a.road]\n', 3, 'needs two or more classes'),
    ('within:\n  - {in: a.road}\n', 3, 'is not `[FINE, COARSE]`'),
])
def test_relations_a_tree_cannot_express(tmp_path, relations, line, says):
    path = write_case(tmp_path, relations)
    with pytest.raises(MergeError) as info:
        merge_label_spaces(path)
    message = str(info.value)
    assert message.startswith(f'{path}:{line}: ') and says in message


def test_cli_reports_one_error_line(tmp_path, capsys):
    path = write_case(tmp_path, 'within:\n  - [b.lorry, a.truck]\n')
    assert main(['merge', str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count('\n') <= 2 and 'declare the two `same`' in err
    assert main(['merge', str(tmp_path / 'nothing.yaml')]) == 2
