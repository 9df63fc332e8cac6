"""Names YAML would read as something else are reported with the quoted form,
wherever a name can appear."""
import pytest

from mmhier.taxonomy import Taxonomy, TaxonomyValidationError
from mmhier.taxonomy.errors import ProblemCollector
from mmhier.taxonomy.scalars import quoted, read_id, read_name
from mmhier.taxonomy.spec import parse_spec
from mmhier.taxonomy.validation import validate_spec
from mmhier.taxonomy.yaml_io import parse_yaml

# (as written, what YAML makes of it, error (the name changes) or warning)
FORMS = [
    ('007', '7', 'error'), ('0x1F', '31', 'error'), ('0b101', '5', 'error'),
    ('1_000', '1000', 'error'), ('.5', '0.5', 'error'), ('1.0e+3', '1000.0', 'error'),
    ('.inf', 'inf', 'error'), ('1:30', '90', 'error'), ('+12', '12', 'error'),
    ('42', '42', 'warning'), ('1.5', '1.5', 'warning'),
    ('2024-01-01', '2024-01-01', 'warning'),
]
BOOLEANS = ['yes', 'no', 'on', 'off', 'true', 'False', 'NULL', 'null', '~']

# Where a name can appear: a taxonomy with the name at NAME, the node that
# must exist for the rest to be valid is 'x'.
PLACES = {
    'tree key': 'tree:\n  root:\n    x:\n    NAME:\ndatasets:\n  d:\n    annotation: '
                'pixel\n    classes: {0: x, 1: {name: other, node: "NAME"}}\n',
    'list item': 'tree:\n  root: [x, NAME]\ndatasets:\n  d:\n    annotation: pixel\n'
                 '    classes: {0: x, 1: {name: other, node: "NAME"}}\n',
    'class shorthand': 'tree:\n  root: [x, "NAME"]\ndatasets:\n  d:\n    annotation: '
                       'pixel\n    classes:\n      0: x\n      1: NAME\n',
    'class node': 'tree:\n  root: [x, "NAME"]\ndatasets:\n  d:\n    annotation: pixel\n'
                  '    classes:\n      0: x\n      1: {name: other, node: NAME}\n',
    'class name': 'tree:\n  root: [x, y]\ndatasets:\n  d:\n    annotation: pixel\n'
                  '    classes:\n      0: x\n      1: {name: NAME, node: y}\n',
    'dataset key': 'tree:\n  root: [x, y]\ndatasets:\n  NAME:\n    annotation: pixel\n'
                   '    classes: {0: x, 1: y}\n',
}
LINE = {'tree key': 5, 'list item': 3, 'class shorthand': 9, 'class node': 9,
        'class name': 9, 'dataset key': 5}


def problems_of(text):
    text = 'name: t\n' + text
    spec, problems = parse_spec(parse_yaml(text, 'f.yaml'), 'f.yaml')
    return problems + validate_spec(spec).problems


@pytest.mark.parametrize('place', PLACES)
@pytest.mark.parametrize('written, read_as, severity', FORMS)
def test_numbers_and_dates_as_names(place, written, read_as, severity):
    text = PLACES[place].replace('NAME', written)
    problems = problems_of(text)
    found = [p for p in problems if p.code == 'numeric-name']
    assert len(found) == 1, problems
    problem = found[0]
    assert problem.severity == severity and problem.line == LINE[place]
    assert f' {written} is read by YAML as ' in problem.message
    assert f'{read_as!r}' in problem.message
    assert quoted(written) in problem.hint
    others = [p for p in problems if p.is_error and p is not problem]
    assert others == []  # the name as written is used: no follow-on errors


@pytest.mark.parametrize('place', PLACES)
@pytest.mark.parametrize('written', BOOLEANS)
def test_booleans_and_null_as_names(place, written):
    problems = problems_of(PLACES[place].replace('NAME', written))
    found = [p for p in problems if p.code == 'bad-name']
    assert len(found) == 1, problems
    assert found[0].line == LINE[place] and found[0].is_error
    assert f'{written} is not a string' in found[0].message
    assert f"quote it: '{written}'" == found[0].hint


@pytest.mark.parametrize('entry', ['force: [007]', 'force: 007', 'skip: [x, yes]'])
def test_supervision_entries(entry):
    text = ('tree:\n  root: [x, "007"]\ndatasets:\n  d:\n    annotation: pixel\n'
            f'    classes: {{0: x, 1: "007"}}\n    supervision: {{{entry}}}\n')
    problems = [p for p in problems_of(text) if p.code in ('numeric-name', 'bad-name')]
    assert len(problems) == 1 and problems[0].line == 8
    assert quoted('007' if '007' in entry else 'yes') in problems[0].hint


def test_quoted_forms_are_plain_names():
    tax = Taxonomy.from_string("name: t\ntree:\n  root: ['007', 'yes', '1_000']\n"
                               "datasets:\n  d:\n    annotation: pixel\n"
                               "    classes: {0: '007', 1: 'yes', 2: '1_000'}\n")
    assert tax.nodes == ('root', '007', 'yes', '1_000') and tax.warnings == ()


def test_plain_dict_numbers_are_names_without_warning():
    tax = Taxonomy.from_dict({'name': 't', 'tree': {'root': [7, 8.5]},
                              'datasets': {'d': {'annotation': 'pixel',
                                                 'classes': {0: 7, 1: '8.5'}}}})
    assert tax.nodes == ('root', '7', '8.5') and tax.warnings == ()


@pytest.mark.parametrize('written, value, severity', [
    ('010', None, 'error'),     # octal 8, decimal 10: wrong either way
    ('07', 7, 'warning'),       # octal and decimal agree
    ('0x1F', 31, 'warning'), ('1_0', 10, 'warning'), ('12', 12, None),
])
def test_label_id_spellings(written, value, severity):
    out = ProblemCollector('f.yaml')
    raw = parse_yaml(f'k: {written}\n')['k']
    assert read_id(raw, written, 'label id', 3, out) == value
    assert [p.severity for p in out.problems] == ([severity] if severity else [])
    if severity == 'error':
        assert out.problems[0].message == 'label id 010 is read by YAML as the octal ' \
            'number 8'
        assert out.problems[0].hint == 'write 8, or 10 if you meant the decimal number'


@pytest.mark.parametrize('raw, code', [
    ('', 'empty-name'), ('  ', 'empty-name'), ('a\x00b', 'bad-name'),
    ('a\x1b[31m', 'bad-name'), ('a\ud800', 'bad-name'), ([1], 'bad-name'),
])
def test_unusable_names(raw, code):
    out = ProblemCollector('f.yaml')
    assert read_name(raw, None, 'node name', 4, out) is None
    assert [(p.code, p.line) for p in out.problems] == [(code, 4)]


def test_names_with_line_breaks_and_tabs_are_kept():
    out = ProblemCollector('f.yaml')
    assert read_name('two\nlines\tand tab', None, 'node name', 1, out) == \
        'two\nlines\tand tab'
    assert out.problems == []


def test_collection_keys_are_not_names():
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_string('name: t\ntree:\n  root:\n    ? [a, b]\n    x:\n    y:\n'
                             'datasets:\n  d:\n    annotation: pixel\n'
                             '    classes: {0: x, 1: y}\n')
    error, = info.value.errors
    assert (error.code, error.line) == ('bad-name', 4)
    assert "['a', 'b'] is a list or mapping" in error.message
