"""Trees thousands of levels deep load, validate and answer queries (no
recursion anywhere on the way); the exports that cannot nest that deep say so."""
import time

import numpy as np
import pytest

from mmhier.taxonomy import Taxonomy, TaxonomyError
from mmhier.taxonomy import export
from mmhier.taxonomy.cli import main
from mmhier.taxonomy.summary import MAX_INDENT, format_show
from tests.test_taxonomy.taxonomy_texts import caterpillar


@pytest.fixture(scope='module')
def deep_1000():
    return Taxonomy.from_string(caterpillar(1000, 'block'), 'deep_1000.yaml')


@pytest.mark.parametrize('depth, style', [(1000, 'block'), (1000, 'flow'),
                                          (5000, 'flow')])
def test_deep_trees_load_and_validate(depth, style):
    start = time.perf_counter()
    tax = Taxonomy.from_string(caterpillar(depth, style), f'deep_{depth}.yaml')
    assert time.perf_counter() - start < 10  # hang guard
    assert tax.warnings == ()
    assert (tax.num_levels, tax.num_classifiers, tax.num_leaves) == (depth, depth,
                                                                     depth + 1)
    deepest = f'n{depth}'
    assert tax.level(deepest) == depth and tax.parent(deepest) == f'n{depth - 1}'
    assert tax.path(deepest)[:3] == ('n0', 'n1', 'n2') and len(tax.path(deepest)) == \
        depth + 1
    assert tax.classifier(f'n{depth - 1}').children == (f'l{depth - 1}', deepest)
    assert tax.trained_classifiers('d')[-1] == f'n{depth - 1}'
    assert tax.supervision.all()


def test_deep_plain_dict_loads():
    depth = 5000
    tree = None
    for i in range(depth - 1, -1, -1):
        tree = {f'l{i}': None, f'n{i + 1}': tree}
    classes = {k: f'l{k}' for k in range(depth)}
    classes[depth] = f'n{depth}'
    tax = Taxonomy.from_dict({'name': 'deep', 'tree': {'n0': tree},
                              'datasets': {'d': {'annotation': 'pixel',
                                                 'encoding': 'int32',
                                                 'classes': classes}}})
    assert tax.num_levels == depth
    assert tax.tree_dict()['n0']['l0'] is None


def test_deep_tree_tables(deep_1000):
    tax = deep_1000
    targets = tax.classifier_targets
    assert targets.shape == (1000, 2001)
    # the deepest leaf is child 1 ('n<i+1>') of every classifier above it
    assert (targets[:-1, tax.index('n1000')] == 1).all()
    np.testing.assert_array_equal(tax.node_to_dataset_class('d')[tax.index('l500')], 500)


def test_deep_tree_show_keeps_lines_short(deep_1000):
    text = format_show(deep_1000)
    lines = text.splitlines()
    end = lines.index('Classifiers') - 1  # header, 2001 nodes, a blank line
    rows = lines[end - 2002:end]
    assert rows[1].startswith('n0 [2]')
    assert rows[-1].lstrip('…│ └├─').startswith('n1000')
    assert any(row.startswith('…') for row in rows)
    assert max(len(row) for row in rows) < MAX_INDENT + 40  # not 4 * 1000
    assert '1001 leaves, 1000 classifiers on 1000 levels' in text


def test_deep_tree_exports(deep_1000):
    assert export.to_dot(deep_1000).count('->') == 2000
    assert export.to_mermaid(deep_1000).count('-->') == 2000
    with pytest.raises(TaxonomyError, match='1000 levels deep, too deep for nested '
                                            'JSON') as info:
        export.to_json(deep_1000)
    assert 'deep_1000.yaml' in str(info.value)


def test_deep_tree_cli(tmp_path, capsys):
    path = tmp_path / 'deep.yaml'
    path.write_text(caterpillar(1000, 'block'))
    assert main(['validate', str(path)]) == 0
    assert main(['show', str(path)]) == 0
    assert main(['export', str(path), '-f', 'json']) == 1
    assert 'too deep for nested JSON' in capsys.readouterr().err


def test_deeply_nested_json_import_is_a_typed_error():
    with pytest.raises(TaxonomyError, match='nested too deeply'):
        export.from_json('[' * 100_000 + ']' * 100_000)
