"""Validation: valid / invalid fixture pairs, one per check.

Each fixture file states what it expects in its first lines::

    # expect: two-parents@10, cycle@7      (error codes @ line; or `valid`)
    # expect-warning: single-child-supervision@12

and the test checks that validation reports exactly those errors and
warnings, all at once.
"""
import re
from pathlib import Path

import pytest

from mmhier.taxonomy import (Taxonomy, TaxonomySyntaxError, TaxonomyValidationError,
                             validate_file)
from tests.conftest import TEST_DATA

FIXTURES = TEST_DATA / 'taxonomies'
VALID = sorted((FIXTURES / 'valid').glob('*.yaml'))
INVALID = sorted(p for p in (FIXTURES / 'invalid').glob('*.yaml')
                 if p.stem != 'syntax_error')


def _expected(path: Path, tag: str) -> list[tuple[str, int]]:
    for line in path.read_text().splitlines()[:3]:
        match = re.match(rf'# {tag}: (.*)', line)
        if match and match.group(1).strip() != 'valid':
            return sorted((code, int(num)) for code, num in
                          re.findall(r'([a-z-]+)@(\d+)', match.group(1)))
    return []


def _found(problems, errors: bool) -> list[tuple[str, int]]:
    return sorted((p.code, p.line) for p in problems if p.is_error == errors)


@pytest.mark.parametrize('path', VALID, ids=lambda p: p.stem)
def test_valid_fixture(path):
    problems = validate_file(path)
    assert _found(problems, errors=True) == []
    assert _found(problems, errors=False) == _expected(path, 'expect-warning')
    tax = Taxonomy.from_file(path)
    assert [(w.code, w.line) for w in tax.warnings] == \
        [(w.code, w.line) for w in problems if not w.is_error]


@pytest.mark.parametrize('path', INVALID, ids=lambda p: p.stem)
def test_invalid_fixture(path):
    expected = _expected(path, 'expect')
    assert expected, f'{path.name} states no expectation'
    problems = validate_file(path)
    assert _found(problems, errors=True) == expected
    assert _found(problems, errors=False) == _expected(path, 'expect-warning')
    for problem in problems:
        assert problem.source == str(path)
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_file(path)
    assert sorted((p.code, p.line) for p in info.value.errors) == expected


def test_all_problems_reported_at_once():
    path = FIXTURES / 'invalid' / 'many_problems.yaml'
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_file(path)
    message = str(info.value)
    assert message.startswith('8 error(s) in taxonomy:')
    for text in ("'second_root'", "'annotaton'", "unknown node 'gras'",
                 'label ids 2-3 are neither mapped', 'label id 1 is listed twice'):
        assert text in message
    assert f'{path}:19:' in message


def test_syntax_error_names_line_and_column():
    path = FIXTURES / 'invalid' / 'syntax_error.yaml'
    with pytest.raises(TaxonomySyntaxError) as info:
        validate_file(path)
    assert (info.value.line, info.value.column) == (4, 9)
    assert str(info.value).startswith(f'{path}:4:9: YAML syntax error')


def test_unknown_node_hint_suggests_close_name():
    problems = validate_file(FIXTURES / 'invalid' / 'unknown_node.yaml')
    hints = {p.message: p.hint for p in problems if p.code == 'unknown-node'}
    assert hints["dataset 'd': id 1 ('Road') maps to unknown node 'Road'"] == \
        "did you mean 'road'?"


def test_yaml_boolean_name_hint_says_quote_it():
    problem, = validate_file(FIXTURES / 'invalid' / 'yaml_boolean_name.yaml')
    assert 'not a string' in problem.message and 'quote' in problem.hint


def test_in_memory_dict_without_positions():
    data = {'name': 't', 'tree': {'root': {'a': None, 'b': None}},
            'datasets': {'d': {'annotation': 'pixel', 'classes': {0: 'a', 1: 'c'}}}}
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_dict(data)
    codes = sorted(p.code for p in info.value.errors)
    # 'b' is unlabelled, so the root classifier is trained by no dataset either
    assert codes == ['root-child-unlabelled', 'unknown-node', 'untrained-classifier']
    assert all(p.source == '<dict>' and p.line is None for p in info.value.errors
               if p.code == 'unknown-node')


@pytest.mark.parametrize('text, code', [
    ('[1, 2]', 'not-a-mapping'),
    ('name: x\n', 'missing-key'),
    ('name: x\ntree: []\ndatasets: {}\n', 'bad-tree'),
    ('name: x\ntree: {root: [a, b]}\ndatasets: {d: {annotation: pixel}}\n', 'no-classes'),
    ('name: x\ntree: {root: [a, b]}\ndatasets:\n  d:\n    annotation: pixel\n'
     '    encoding: uint4\n    classes: {0: a, 1: b}\n', 'bad-encoding'),
    ('name: x\ntree: {root: [a, b]}\ndatasets:\n  d:\n    annotation: pixel\n'
     '    ignore_ids: [x-y]\n    classes: {0: a, 1: b}\n', 'bad-id'),
    ('name: x\ntree: {root: {a: 3, b: }}\ndatasets: {d: {annotation: pixel, '
     'classes: {0: a, 1: b}}}\n', 'bad-children'),
])
def test_malformed_documents(text, code):
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_string(text)
    assert code in [p.code for p in info.value.errors]


# ------------------------------------------------------------ duplicates
DS = 'datasets:\n  d:\n    annotation: pixel\n    classes: {0: sky, 1: road, 2: lane}\n'


@pytest.mark.parametrize('text, code, line, words', [
    ('tree:\n  root:\n    sky:\n    ground: [road, lane, road]\n' + DS,
     'duplicate-name', 5, "node 'road' is listed 2 times under 'ground'"),
    ('tree:\n  root:\n    sky:\n    ground:\n      road:\n      lane:\n      road:\n' + DS,
     'duplicate-name', 8, "node 'road' is listed twice under 'ground'"),
    ('tree:\n  root:\n    sky:\n    ground:\n      - road\n      - lane\n'
     '      - road: [a, b]\n' + DS, 'duplicate-name', 8, "'road' is listed 2 times"),
    ('tree:\n  root:\n    sky:\n    ground:\n      - {road: , lane: , road: }\n' + DS,
     'duplicate-name', 6, "node 'road' is listed twice under 'ground'"),
    ('tree:\n  root:\n    sky:\n    ground: [road, lane]\n    more: [road, x]\n' + DS,
     'two-parents', 6, "node 'road' has 2 parents"),
    ('tree:\n  root:\n    sky:\n    ground: [road, lane]\n  root:\n' + DS,
     'duplicate-name', 6, "node 'root' is listed twice under tree"),
    ('tree:\n  root: [sky, road, lane]\n' + DS + '  d:\n    annotation: box\n'
     '    classes: {0: sky}\n', 'duplicate-key', 8, "dataset 'd' is defined twice"),
    ('tree:\n  root: [sky, road, lane]\n' + DS.replace('2: lane}', '2: lane, 1: x}'),
     'duplicate-id', 7, 'label id 1 is listed twice'),
    ('tree:\n  root: [sky, road, lane]\n' + DS.replace('2: lane}', '2: lane, 3: '
     '{name: lane, node: road}}'), 'duplicate-name', 7,
     "ids 2 and 3 are both named 'lane'"),
    ('tree:\n  root: [sky, road, lane]\n' + DS + '    supervision: {skip: [], force: '
     '[root, root]}\n', 'duplicate-name', 8, "supervision.force lists 'root' twice"),
    ('tree:\n  root: [sky, road, lane]\n' + DS.replace('0: sky', '0: {name: sky, '
     'attributes: {shape: a, shape: b}}'), 'duplicate-key', 7,
     "key 'shape' appears twice in attributes"),
    ('tree:\n  root: [sky, road, lane]\n' + DS.replace('pixel', 'pixel\n    num_ids: 9\n'
     '    ignore_ids: [3, "4-8", 8]'), 'duplicate-id', 8, 'id 8 is listed twice'),
    ('tree:\n  root: [sky, road, lane]\n' + DS.replace('pixel', 'pixel\n    annotation: '
     'box'), 'duplicate-key', 7, "key 'annotation' appears twice in dataset 'd'"),
    ('tree:\n  root: [sky, road, lane]\n' + DS + 'name: again\n', 'duplicate-key', 8,
     "key 'name' appears twice in the taxonomy"),
])
def test_duplicates_are_errors_wherever_they_appear(text, code, line, words):
    text = 'name: dup\n' + text
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_string(text, 'dup.yaml')
    found = [p for p in info.value.errors if p.code == code and words in p.message]
    assert found, info.value.errors
    assert found[0].line == line and found[0].source == 'dup.yaml'
    assert f'dup.yaml:{line}: error [{code}]' in str(info.value)


def test_five_different_problems_are_listed_at_once():
    text = ('name: five\ntree:\n  root:\n    sky:\n    007:\n    ground: [road, lane, '
            'road]\ndatasets:\n  d:\n    annotation: pixels\n    num_ids: 4\n'
            "    classes: {0: sky, 1: road, 2: lane, 3: '007', 9: sky}\n")
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_string(text, 'five.yaml')
    assert sorted((p.code, p.line) for p in info.value.errors) == [
        ('bad-annotation', 9), ('duplicate-name', 6), ('duplicate-name', 11),
        ('id-out-of-range', 11), ('numeric-name', 5)]
    assert str(info.value).startswith('5 error(s) in taxonomy:\nfive.yaml:5: error '
                                      '[numeric-name]')


# ------------------------------------------------- untrained classifiers
def test_untrained_classifier_names_the_datasets_labelling_below_it():
    problems = validate_file(FIXTURES / 'invalid' / 'untrained_classifier.yaml')
    ground, sign = [p for p in problems if p.code == 'untrained-classifier']
    assert ground.message == ("classifier 'ground' (2 outputs) is trained by no dataset: "
                              "'d' labels only 'road' below it; 'e' labels only 'lane' "
                              "below it")
    assert "supervision.force of 'd'" in ground.hint
    assert sign.message.endswith('no dataset labels anything below it')


def test_untrained_classifier_through_skip():
    text = ('name: t\ntree:\n  root:\n    sky:\n    ground: [road, lane]\ndatasets:\n'
            '  d:\n    annotation: pixel\n    classes: {0: sky, 1: road, 2: lane}\n'
            '    supervision: {skip: [ground]}\n')
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_string(text)
    error, = info.value.errors
    assert error.code == 'untrained-classifier' and error.line == 5
    assert "'d' lists it under supervision.skip" in error.message


def test_force_trains_a_classifier_from_one_child():
    tax = Taxonomy.from_file(FIXTURES / 'valid' / 'untrained_but_forced.yaml')
    assert tax.supervising_datasets('ground') == ('d',)


# ------------------------------------------------------ class attributes
def test_unknown_shape_suggests_the_close_name_and_lists_all_shapes():
    problems = validate_file(FIXTURES / 'invalid' / 'unknown_shape.yaml')
    by_line = {p.line: p for p in problems if p.code == 'unknown-shape'}
    misspelt, number, listed = by_line[19], by_line[20], by_line[21]
    assert misspelt.message == ("dataset 'boxes' class 1 'yield': unknown shape "
                                "'inverted_triangel'")
    assert misspelt.hint.startswith("did you mean 'inverted_triangle'?")
    assert 'box, circle, triangle, inverted_triangle, diamond, octagon' in misspelt.hint
    assert number.message.endswith('unknown shape 3')
    assert listed.message.endswith("unknown shape ['circle']")
    assert number.hint == ('use one of the shapes: box, circle, triangle, '
                           'inverted_triangle, diamond, octagon')


def test_flip_to_problems_name_class_partner_and_fix():
    problems = validate_file(FIXTURES / 'invalid' / 'flip_to_unknown_class.yaml')
    messages = {(p.code, p.line): p.message for p in problems if p.is_error}
    assert messages[('flip-to-unknown-class', 16)] == (
        "dataset 'd' class 0 'sky': flip_to 9 is not a class id of the dataset")
    assert messages[('flip-to-unknown-class', 18)].endswith('flip_to 4 is not a class id '
                                                            'of the dataset')
    assert messages[('flip-to-unknown-class', 19)].endswith("flip_to 'ahead' is not a "
                                                            'class id of the dataset')
    assert messages[('one-way-flip', 17)] == (
        "dataset 'd' class 1 'right': flip_to 2 is one-way; give class 2 `flip_to: 1`")
    conflict = [p for p in validate_file(FIXTURES / 'invalid' / 'flip_conflict.yaml')
                if p.code == 'flip-conflict']
    assert [p.message for p in conflict] == [
        "dataset 'd' class 4 'right arrow': maps to node 'right' like class 1, but flips "
        "to 'right' where class 1 flips to 'left'",
        "dataset 'd' class 5 'left arrow': maps to node 'left' like class 2, but flips "
        "to 'ahead' where class 2 flips to 'right'",
        "dataset 'd' class 6 'ahead arrow': maps to node 'ahead' like class 3, but flips "
        "to 'left' where class 3 flips to 'ahead'"]


def test_flip_to_an_ignored_partner_is_fine_but_must_agree_per_node():
    text = ('name: t\ntree:\n  root: [sky, right, left]\ndatasets:\n  d:\n'
            '    annotation: pixel\n    classes:\n      0: sky\n'
            '      1: {name: right, attributes: {flip_to: 3}}\n'
            '      2: left\n'
            '      3: {name: mirrored, ignore: true, attributes: {flip_to: 1}}\n')
    Taxonomy.from_string(text)          # right flips to an ignored class: valid
    shared = text + '      4: {name: right again, node: right}\n'
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_string(shared, 'shared.yaml')
    error, = info.value.errors
    assert (error.code, error.line) == ('flip-conflict', 12)
    assert "flips to 'right' where class 1 flips to ignored" in error.message


def test_attribute_problems_are_reported_with_all_other_problems(tmp_path, capsys):
    from mmhier.taxonomy.cli import main
    text = ('name: t\ntree:\n  root: [sky, right, left]\ndatasets:\n  d:\n'
            '    annotation: pixel\n    classes:\n      0: skyy\n'
            '      1: {name: right, attributes: {flip_to: 2, shape: cirlce}}\n'
            '      2: left\n')
    path = tmp_path / 'mixed.yaml'
    path.write_text(text)
    assert sorted((p.code, p.line) for p in validate_file(path) if p.is_error) == [
        ('one-way-flip', 9), ('root-child-unlabelled', 3), ('unknown-node', 8),
        ('unknown-shape', 9)]
    assert main(['validate', str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:9: error [unknown-shape] dataset 'd' class 1 'right': unknown shape " \
        "'cirlce'" in err and "did you mean 'circle'?" in err
    assert f"{path}:9: error [one-way-flip]" in err and f'{path}:8: error [unknown-node]' in err


def test_shipped_taxonomies_have_valid_attributes():
    from tests.conftest import TAXONOMIES
    for path in sorted(TAXONOMIES.glob('*.yaml')):
        codes = {p.code for p in validate_file(path)}
        assert not codes & {'unknown-shape', 'flip-to-unknown-class', 'one-way-flip',
                            'flip-conflict'}, path
