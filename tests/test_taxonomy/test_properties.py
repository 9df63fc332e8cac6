"""Property-based tests of the taxonomy loader.

- Random valid taxonomies (random shape, depth and names, with datasets)
  load without errors and keep their structure.
- Random damage to valid files (byte flips, deleted or repeated lines,
  changed indentation, control characters, random unicode, truncation)
  gives either a taxonomy or a typed error that names the file and, where
  the content is at fault, the line - never another exception or a hang.
"""
import contextlib
import io
import time

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmhier.taxonomy import (Taxonomy, TaxonomyError, TaxonomySyntaxError,
                             TaxonomyValidationError)
from mmhier.taxonomy import export
from mmhier.taxonomy.cli import main
from mmhier.taxonomy.summary import format_show
from tests.conftest import TAXONOMIES, TEST_DATA

#: Per-example hang guard in seconds (a damaged file used to take minutes).
HANG_GUARD = 5.0
SETTINGS = dict(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])

# Names: any printable text (YAML quoting is the dumper's job), including
# words YAML would read as numbers, booleans or null.
NAME_CHARS = st.characters(blacklist_categories=('Cs', 'Cc'))
TRICKY = st.sampled_from(['007', 'yes', 'no', 'null', '~', '1_000', '.5', '0x1F',
                          '2024-01-01', 'a: b', '- x', '#c', '[x]', '{y}', '*z', '&w',
                          '!t', '? q', "it's", '"q"', 'é', '中文', ' padded '])
NAMES = st.one_of(TRICKY, st.text(NAME_CHARS, min_size=1, max_size=12)).filter(
    lambda s: s.strip() != '')


@st.composite
def random_taxonomies(draw):
    """A valid taxonomy document and its tree as (names, parents)."""
    size = draw(st.integers(3, 30))
    locality = draw(st.integers(1, size))  # small: deep chains, large: bushy
    parents = [-1] + [draw(st.integers(max(0, i - locality), i - 1))
                      for i in range(1, size)]
    counts = [parents.count(i) for i in range(size)]
    for node in range(size):  # a classifier needs two children: add a leaf
        if counts[node] == 1:
            parents.append(node)
            counts.append(0)
    names = draw(st.lists(NAMES, min_size=len(parents), max_size=len(parents),
                          unique_by=lambda s: s.strip().casefold()))
    children = {i: [c for c, p in enumerate(parents) if p == i] for i in range(len(names))}

    def subtree(node):
        kids = children[node]
        if not kids:
            return None
        if all(not children[k] for k in kids) and draw(st.booleans()):
            return [names[k] for k in kids]  # list form
        return {names[k]: subtree(k) for k in kids}

    leaves = [i for i in range(len(names)) if not children[i]]
    fine = {i: names[leaf] for i, leaf in enumerate(leaves)}
    datasets = {'fine': {'annotation': 'pixel', 'encoding': 'uint16', 'classes': fine}}
    inner = [i for i in range(1, len(names)) if children[i]]
    if inner and draw(st.booleans()):
        picked = draw(st.lists(st.sampled_from(inner), min_size=1, unique=True))
        datasets['coarse'] = {
            'annotation': 'pixel', 'ignore_ids': [0, f'{len(picked) + 1}-255'],
            'num_ids': 256,
            'classes': {i + 1: {'name': f'c{i}', 'node': names[n]}
                        for i, n in enumerate(picked)}}
    if draw(st.booleans()):
        boxed = draw(st.lists(st.sampled_from(leaves), min_size=1, unique=True))
        datasets['boxes'] = {'annotation': 'box',
                             'classes': {i: {'name': f'b{i}', 'node': names[n]}
                                         for i, n in enumerate(boxed)}}
    doc = {'name': draw(NAMES), 'tree': {names[0]: subtree(0)}, 'datasets': datasets}
    return doc, names, parents


def preorder(parents):
    out, stack = [], [0]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed([c for c, p in enumerate(parents) if p == node]))
    return out


@settings(max_examples=60, **SETTINGS)
@given(random_taxonomies(), st.sampled_from([False, True, None]))
def test_random_valid_taxonomies_load(case, flow):
    doc, names, parents = case
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True,
                          default_flow_style=flow)
    tax = Taxonomy.from_string(text, 'random.yaml')
    assert not any(w.code in ('numeric-name', 'ambiguous-id') for w in tax.warnings)
    order = preorder(parents)
    assert tax.nodes == tuple(names[i] for i in order)
    position = {node: k for k, node in enumerate(order)}
    assert tax.parent_index.tolist() == [-1] + [position[parents[i]] for i in order[1:]]
    assert tax.supervision[0].all()  # `fine` labels every leaf: trains everything
    assert Taxonomy.from_dict(tax.to_dict()).content_hash == tax.content_hash
    assert export.from_json(export.to_json(tax)).tree_hash == tax.tree_hash
    assert format_show(tax).startswith(f'Taxonomy {tax.name!r}')


# ------------------------------------------------------------- damage
SEEDS = [(TAXONOMIES / name).read_bytes() for name in
         ('tiny_street.yaml', 'cityscapes_extended.yaml')] + [
    path.read_bytes() for path in sorted((TEST_DATA / 'taxonomies').glob('*/*.yaml'))]
CONTROL = st.sampled_from(['\x00', '\x01', '\x07', '\x08', '\x0b', '\x0c', '\x1b',
                           '\x7f', '\x85', '\u2028', '\ufeff', '\t', '\r'])
YAML_BITS = st.sampled_from(['&a ', '*a', '!!binary ', '<<: ', '---\n', '? ', ': ',
                             '- ', '[', ']', '{', '}', '"', "'", '#', '|', '>', '~',
                             '007', 'yes', '\n  ', '\n'])
INSERTS = st.one_of(CONTROL, YAML_BITS, st.text(min_size=1, max_size=4))
OPS = st.one_of(
    st.tuples(st.just('flip'), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(st.just('delete'), st.floats(0, 1)),
    st.tuples(st.just('repeat'), st.floats(0, 1)),
    st.tuples(st.just('indent'), st.floats(0, 1), st.integers(-3, 3)),
    st.tuples(st.just('insert'), st.floats(0, 1), INSERTS),
    st.tuples(st.just('truncate'), st.floats(0, 1)),
)


def damage(data: bytes, ops) -> bytes:
    for op, where, *arg in ops:
        lines = data.split(b'\n')
        line = min(int(where * len(lines)), len(lines) - 1)
        at = min(int(where * len(data)), max(len(data) - 1, 0))
        if op == 'flip' and data:
            data = data[:at] + bytes([arg[0]]) + data[at + 1:]
        elif op == 'delete':
            data = b'\n'.join(lines[:line] + lines[line + 1:])
        elif op == 'repeat':
            data = b'\n'.join(lines[:line + 1] + lines[line:])
        elif op == 'indent':
            shift = arg[0]
            lines[line] = b' ' * shift + lines[line] if shift > 0 else lines[line][-shift:]
            data = b'\n'.join(lines)
        elif op == 'insert':
            data = data[:at] + arg[0].encode('utf-8', 'surrogatepass') + data[at:]
        elif op == 'truncate':
            data = data[:at]
    return data


@settings(max_examples=250, **SETTINGS)
@given(st.sampled_from(SEEDS), st.lists(OPS, min_size=1, max_size=4))
def test_damaged_files_give_a_taxonomy_or_a_located_error(tmp_path, seed, ops):
    path = tmp_path / 'damaged.yaml'
    path.write_bytes(damage(seed, ops))
    start = time.perf_counter()
    try:
        tax = Taxonomy.from_file(path)
    except TaxonomyValidationError as exc:
        tax = None
        assert exc.errors
        for problem in exc.errors:
            assert problem.source == str(path)
            assert isinstance(problem.line, int) and problem.line >= 1, problem
        assert str(exc).count(f'{path}:') >= len(exc.errors)
    except TaxonomySyntaxError as exc:
        tax = None
        assert exc.source == str(path) and exc.line >= 1 and exc.column >= 0
        assert str(exc).startswith(f'{path}:{exc.line}')
    assert time.perf_counter() - start < HANG_GUARD
    with contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()) as err:
        assert main(['validate', str(path)]) == (0 if tax is not None else 1)
        if tax is not None:
            assert main(['show', str(path)]) == 0
            for fmt in ('dot', 'mermaid', 'json'):
                assert main(['export', str(path), '-f', fmt]) == 0
    assert 'Traceback' not in err.getvalue()


@settings(max_examples=80, **SETTINGS)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | NAMES,
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(NAMES | st.integers(), inner, max_size=3),
                    max_leaves=25))
def test_arbitrary_documents_give_a_taxonomy_or_a_validation_error(data):
    try:
        Taxonomy.from_dict(data if not isinstance(data, dict) else
                           {'name': 'x', **data})
    except TaxonomyError as exc:
        assert isinstance(exc, TaxonomyValidationError)
        assert exc.errors
