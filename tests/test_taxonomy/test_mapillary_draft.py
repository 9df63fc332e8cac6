"""Tests of drafting a taxonomy from a Mapillary Vistas ``config.json``."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mmhier.taxonomy import IGNORE, Taxonomy, TaxonomyError, TaxonomyFileError
from mmhier.taxonomy.mapillary_draft import (MapillaryConfigError, draft_from_mapillary,
                                             draft_tree_from_labels, render_draft,
                                             yaml_scalar)

CONFIG = Path(__file__).resolve().parents[1] / 'data' / 'mapillary' / 'config.json'
KEY = 'mapillary_vistas'

#: The tree drafted from CONFIG. `construction` (only child `flat`), `nature`
#: (only child Sky) and `object--support` (only child Pole) are collapsed.
EXPECTED_TREE = {'root': {
    'animal': {'Bird': None, 'Ground Animal': None},
    'flat': {'Crosswalk - Plain': None, 'Road': None, 'Sidewalk': None},
    'human': {'Person': None, 'rider': {'Bicyclist': None, 'Motorcyclist': None}},
    'marking': {'Lane Marking - Crosswalk': None, 'Lane Marking - General': None},
    'Sky': None,
    'object': {'Pole': None,
               'traffic sign': {'Traffic Sign (Back)': None,
                                'Traffic Sign (Front)': None}},
    'void': {'Car Mount': None, 'Ego Vehicle': None},
}}

#: Node of every label id of CONFIG (None: ignored).
EXPECTED_NODES = ['Bird', 'Ground Animal', 'Crosswalk - Plain', 'Road', 'Sidewalk',
                  'Person', 'Bicyclist', 'Motorcyclist', 'Lane Marking - Crosswalk',
                  'Lane Marking - General', 'Sky', 'Pole', 'Traffic Sign (Back)',
                  'Traffic Sign (Front)', 'Car Mount', 'Ego Vehicle', None]


def labels(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    """Label entries in the Vistas format from ``(name, readable)`` pairs."""
    return [{'name': name, 'readable': readable, 'color': [0, 0, 0],
             'instances': False, 'evaluate': True} for name, readable in pairs]


def write_config(path: Path, entries: Any) -> Path:
    path.write_text(json.dumps({'labels': entries}, indent=4), encoding='utf-8')
    return path


def load(entries: list[dict[str, Any]]) -> Taxonomy:
    """Draft from in-memory labels and load the draft."""
    return Taxonomy.from_string(render_draft(draft_tree_from_labels(entries), 'x.json'))


def node_names(tax: Taxonomy, key: str = KEY) -> list:
    return [tax.nodes[i] if i != IGNORE else None for i in tax.label_to_node(key)]


@pytest.fixture(scope='module')
def text() -> str:
    return draft_from_mapillary(CONFIG)


@pytest.fixture(scope='module')
def tax(text: str) -> Taxonomy:
    return Taxonomy.from_string(text, 'draft.yaml')


# ------------------------------------------------------------ the fixture
def test_fixture_is_vistas_format():
    data = json.loads(CONFIG.read_text(encoding='utf-8'))
    assert len(data['labels']) == 17
    for entry in data['labels']:
        assert set(entry) == {'name', 'readable', 'color', 'instances', 'evaluate'}


def test_draft_loads_without_problems(tax: Taxonomy):
    assert tax.name == KEY
    assert tax.warnings == ()
    assert tax.dataset_keys == (KEY,)


def test_exact_tree(tax: Taxonomy):
    assert tax.tree_dict() == EXPECTED_TREE
    assert tax.path('Bicyclist') == ('root', 'human', 'rider', 'Bicyclist')
    assert tax.path('Traffic Sign (Front)') == ('root', 'object', 'traffic sign',
                                                'Traffic Sign (Front)')


def test_single_child_chains_are_collapsed(tax: Taxonomy):
    assert tax.parent('Pole') == 'object'           # object--support collapsed
    assert tax.parent('Sky') == 'root'              # nature collapsed
    assert tax.parent('flat') == 'root'             # construction collapsed
    for name in ('support', 'nature', 'construction'):
        assert name not in tax
    assert all(c.num_outputs >= 2 for c in tax.classifiers)


def test_exact_label_to_node(tax: Taxonomy):
    assert node_names(tax) == EXPECTED_NODES
    assert tax.label_to_node(KEY)[16] == IGNORE


def test_dataset_entry(tax: Taxonomy):
    dataset = tax.dataset(KEY)
    assert (dataset.annotation, dataset.encoding, dataset.num_ids) == ('pixel', 'uint8',
                                                                       17)
    assert [c.id for c in dataset.classes] == list(range(17))
    unlabeled = dataset.classes[16]
    assert (unlabeled.name, unlabeled.ignored) == ('Unlabeled', True)
    assert 'Unlabeled' not in tax


def test_text_layout(text: str):
    head = text.splitlines()[:3]
    assert head[0].startswith('# DRAFT taxonomy')
    assert str(CONFIG) in head[1]
    assert '17 labels' in head[2]
    assert 'superclasses' in text.split('\nname:')[0]
    # one comment per inner node naming its Mapillary path
    assert re.search(r'^ {6}rider: +# human--rider$', text, re.M)
    assert re.search(r'^ {6}traffic sign: +# object--traffic-sign$', text, re.M)
    assert re.search(r'^ {4}flat: +# construction--flat; replaces construction', text,
                     re.M)
    # leaves have a null value; shorthand classes where node == readable name
    assert re.search(r'^ {8}Bicyclist:$', text, re.M)
    assert re.search(r'^ {6}3: Road +# construction--flat--road$', text, re.M)
    assert re.search(r'^ {6}16: \{name: Unlabeled, ignore: true\}', text, re.M)
    assert text.endswith('\n')


def test_dataset_key_and_name():
    out = draft_from_mapillary(str(CONFIG), dataset_key='vistas', name='my draft')
    tax = Taxonomy.from_string(out)
    assert (tax.name, tax.dataset_keys) == ('my draft', ('vistas',))
    with pytest.raises(TaxonomyError, match='dataset key'):
        draft_from_mapillary(CONFIG, dataset_key='')


# ------------------------------------------------------------ tree logic
def test_inner_node_name_clashes_use_longer_paths():
    tax = load(labels(('human--person', 'Person'),
                      ('human--rider--bicyclist', 'Bicyclist'),
                      ('human--rider--motorcyclist', 'Motorcyclist'),
                      ('object--rider--a', 'A'), ('object--rider--b', 'B'),
                      ('object--pole', 'Pole')))
    assert tax.path('Bicyclist') == ('root', 'human', 'human/rider', 'Bicyclist')
    assert tax.path('A') == ('root', 'object', 'object/rider', 'A')


def test_clash_with_readable_name_is_exact_and_case_sensitive():
    tree = draft_tree_from_labels(labels(
        ('human--rider--bicyclist', 'Bicyclist'), ('human--rider--motorcyclist',
                                                   'Motorcyclist'),
        ('human--person', 'Person'), ('misc--a', 'rider'), ('misc--b', 'Flat'),
        ('construction--flat--road', 'Road'), ('construction--flat--sidewalk',
                                               'Sidewalk'),
        ('construction--wall', 'Wall')))
    names = {node.mapillary_path: node.name for node, _ in tree.nodes()}
    assert names['human--rider'] == 'human/rider'       # 'rider' is a readable name
    assert names['construction--flat'] == 'flat'        # 'Flat' differs in case


def test_top_level_clash_gets_a_counter():
    tax = load(labels(('flat--a', 'A'), ('flat--b', 'B'), ('other--flat', 'flat'),
                      ('other--x', 'X')))
    assert tax.parent('A') == 'flat (2)'
    assert tax.parent('flat') == 'other'


def test_label_that_is_a_path_prefix_is_an_inner_node():
    entries = labels(('object--traffic-sign', 'Traffic Sign'),
                     ('object--traffic-sign--back', 'Back'),
                     ('object--traffic-sign--front', 'Front'),
                     ('object--pole', 'Pole'), ('nature--sky', 'Sky'))
    tax = load(entries)
    assert tax.children('Traffic Sign') == ('Back', 'Front')
    assert tax.parent('Traffic Sign') == 'object'
    assert node_names(tax) == ['Traffic Sign', 'Back', 'Front', 'Pole', 'Sky']


def test_collapse_applies_repeatedly_and_moves_labels_down():
    entries = labels(('a--b', 'B'), ('a--b--c--d', 'D'), ('a--e', 'E'), ('z--y', 'Y'))
    tax = load(entries)
    assert tax.path('D') == ('root', 'a', 'D')       # a--b and a--b--c collapsed
    assert node_names(tax) == ['D', 'D', 'E', 'Y']   # B's node took D's place
    assert [w.code for w in tax.warnings] == ['shared-node']
    note = draft_tree_from_labels(entries).labels[0].note
    assert 'a--b had no other child' in note


def test_root_with_single_child_takes_its_children():
    tax = load(labels(('object--a', 'A'), ('object--b', 'B'), ('void--unlabeled', 'U')))
    assert tax.tree_dict() == {'root': {'A': None, 'B': None}}
    # a label of the merged child would map to the root: it is ignored instead
    tax = load(labels(('object', 'Object'), ('object--a', 'A'), ('object--b', 'B')))
    assert node_names(tax) == [None, 'A', 'B']


def test_unlabeled_labels_are_ignored_and_not_in_tree():
    tree = draft_tree_from_labels(labels(('void--unlabeled', 'Unlabeled'),
                                         ('nature--sky', 'Sky'), ('nature--water', 'W'),
                                         ('unlabeled', 'Nothing')))
    assert [(lb.id, lb.node) for lb in tree.labels] == [(0, None), (1, 'Sky'),
                                                        (2, 'W'), (3, None)]
    assert [n.name for n, _ in tree.nodes()] == ['root', 'Sky', 'W']


def test_many_labels_use_uint16(tmp_path: Path):
    entries = labels(*[(f'group{i % 2}--c{i}', f'Class {i}') for i in range(300)])
    tax = Taxonomy.from_string(draft_from_mapillary(write_config(tmp_path / 'c.json',
                                                                 entries)))
    dataset = tax.dataset(KEY)
    assert (dataset.encoding, dataset.num_ids) == ('uint16', 300)


# ------------------------------------------------------------ quoting
TRICKY = ['yes', 'No', 'null', '~', 'on', 'true', '007', '1.5', '2024-01-01', 'a: b',
          'trailing:', '#1 sign', 'a #b', 'a, b', '[x]', '{y}', '"quoted"', "it's",
          ' padded ', '- dash', '&anchor', '*alias', '!tag', '%pct', '@at', '`tick',
          '?q', '|pipe', '>gt', 'tab\there', 'new\nline', 'Ünïcode – dash']


def test_tricky_names_round_trip(tmp_path: Path):
    entries = labels(*[(f'g{i % 2}--n{i}', name) for i, name in enumerate(TRICKY)],
                     ('off--a', 'Off A'), ('off--b', 'Off B'))
    tax = Taxonomy.from_string(draft_from_mapillary(write_config(tmp_path / 'q.json',
                                                                 entries)))
    assert [c.name for c in tax.dataset(KEY).classes] == [e['readable'] for e in entries]
    assert node_names(tax) == [e['readable'] for e in entries]
    assert tax.parent('Off A') == 'off'            # an inner node named like a bool
    out = draft_from_mapillary(tmp_path / 'q.json')
    assert re.search(r'^ {4}"off": +# off$', out, re.M)
    assert '"a #b"' in out                         # a comment never swallows a name


@pytest.mark.parametrize('name', TRICKY)
def test_yaml_scalar_reads_back(name: str):
    assert yaml.safe_load(f'{yaml_scalar(name)}: x') == {name: 'x'}
    assert yaml.safe_load(f'k: {{name: {yaml_scalar(name)}, node: y}}') == \
        {'k': {'name': name, 'node': 'y'}}


def test_yaml_scalar_keeps_readable_names_plain():
    for name in ('Road', 'Traffic Sign (Front)', 'Crosswalk - Plain',
                 'Lane Marking - General', "it's", 'Ünïcode – dash'):
        assert yaml_scalar(name) == name
    assert yaml_scalar('yes') == '"yes"'
    assert yaml_scalar('') == '""'


# ------------------------------------------------------------ errors
def test_missing_file(tmp_path: Path):
    missing = tmp_path / 'nope' / 'config.json'
    with pytest.raises(TaxonomyFileError, match=re.escape(str(missing))):
        draft_from_mapillary(missing)


def test_broken_json_names_line_and_column(tmp_path: Path):
    path = tmp_path / 'broken.json'
    path.write_text('{\n  "labels": [\n    {"name": "a--b" "readable": "B"}\n  ]\n}\n',
                    encoding='utf-8')
    with pytest.raises(MapillaryConfigError) as info:  # the content is at fault
        draft_from_mapillary(path)
    assert f'{path}:3:' in str(info.value)
    assert 'invalid JSON' in str(info.value)


@pytest.mark.parametrize('content, found', [
    ({'classes': []}, 'without "labels"'),
    ({'labels': {'0': 'x'}}, 'of type dict'),
    ([1, 2], 'a JSON list'),
])
def test_no_labels_list(tmp_path: Path, content: Any, found: str):
    path = tmp_path / 'config.json'
    path.write_text(json.dumps(content), encoding='utf-8')
    with pytest.raises(MapillaryConfigError, match=found) as info:
        draft_from_mapillary(path)
    assert isinstance(info.value, TaxonomyError)
    assert str(path) in str(info.value)


def test_duplicate_readable_names_name_both_indices(tmp_path: Path):
    entries = labels(('nature--sky', 'Sky'), ('construction--flat--road', 'Road'),
                     ('nature--vegetation', 'Vegetation'),
                     ('construction--flat--lane', 'Road'))
    with pytest.raises(TaxonomyError) as info:
        draft_from_mapillary(write_config(tmp_path / 'dup.json', entries))
    message = str(info.value)
    assert "labels 1 and 3 both have readable name 'Road'" in message
    assert 'hint:' in message


def test_all_label_problems_reported_at_once(tmp_path: Path):
    entries = labels(('nature--sky', 'Sky'), ('nature--water', 'Sky'),
                     ('object--pole', 'Pole'))
    entries += [{'readable': 'Pole'}, 'not an object',
                {'name': 'object----x', 'readable': 'X'}, {'name': 'object--y'}]
    with pytest.raises(MapillaryConfigError) as info:
        draft_from_mapillary(write_config(tmp_path / 'bad.json', entries))
    message = str(info.value)
    assert '6 problem(s)' in message
    for part in ("labels 0 and 1 both have readable name 'Sky'",
                 "labels 2 and 3 both have readable name 'Pole'",
                 'label 3 has no "name"', 'label 4: expected a JSON object',
                 "label 5: name 'object----x' has an empty path segment",
                 "label 6 ('object--y') has no \"readable\""):
        assert part in message


@pytest.mark.parametrize('entries, match', [
    ([], '"labels" is empty'),
    (labels(('nature--sky', 'Sky'), ('void--unlabeled', 'Unlabeled')),
     'at least two classes'),
    (labels(('a--b', 'B'), ('a--b--c', 'C')), 'single chain'),
    (labels(('a--b', 'root'), ('a--c', 'C')), "readable name 'root'"),
])
def test_unusable_label_sets(entries: list, match: str):
    with pytest.raises(MapillaryConfigError, match=match):
        draft_tree_from_labels(entries)


def test_labels_must_be_a_list():
    with pytest.raises(MapillaryConfigError, match='must be a list'):
        draft_tree_from_labels({'name': 'a'})  # type: ignore[arg-type]
