"""Tests of the taxonomy exports: DOT, Mermaid, JSON and PNG."""
import json
import re
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from mmhier.taxonomy import Taxonomy, TaxonomyError, TaxonomyValidationError
from mmhier.taxonomy.export import (DERIVED_KEY, draw_png, from_json, node_labels,
                                    summary, to_dot, to_json, to_mermaid, tree_layout)

TAXONOMIES = Path(__file__).parents[2] / 'taxonomies'
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'

# Node names with characters that need escaping in DOT, Mermaid and matplotlib.
ODD_NAMES = r'''
name: odd "names"
tree:
  root:
    'say "hi"':
    'back\slash\':
    'cost $5 or $6 <b> #1': [plain, "two\nlines"]
datasets:
  d:
    annotation: pixel
    classes:
      0: 'say "hi"'
      1: 'back\slash\'
      2: 'cost $5 or $6 <b> #1'
      3: plain
      4: "two\nlines"
'''


@pytest.fixture(scope='module')
def tiny() -> Taxonomy:
    return Taxonomy.from_file(TAXONOMIES / 'tiny_street.yaml')


@pytest.fixture(scope='module')
def big() -> Taxonomy:
    return Taxonomy.from_file(TAXONOMIES / 'cs_vistas_gtsdb.yaml')


@pytest.fixture(scope='module')
def odd() -> Taxonomy:
    return Taxonomy.from_string(ODD_NAMES)


def edges(tax: Taxonomy) -> list[tuple[str, str]]:
    return [(c.node, child) for c in tax.classifiers for child in c.children]


# ------------------------------------------------------------------ layout
def test_layout_rows_and_columns(tiny):
    column, row = tree_layout(tiny)
    np.testing.assert_array_equal(column, tiny.node_level)
    np.testing.assert_array_equal(row[tiny.leaf_indices], np.arange(tiny.num_leaves))
    for c in tiny.classifiers:
        assert row[c.node_index] == pytest.approx(row[c.child_indices].mean())
    assert row[tiny.index('driveable')] == pytest.approx(7.5)  # road 7, lane marking 8


def test_labels_and_summary(tiny):
    labels = dict(zip(tiny.nodes, node_labels(tiny)))
    assert labels['root'] == 'root [10]'
    assert labels['traffic sign front'] == 'traffic sign front [5]'
    assert labels['stop'] == 'stop'
    assert summary(tiny) == 'tiny_street: 22 nodes, 5 classifiers, 17 leaves, 3 levels'


# --------------------------------------------------------------------- DOT
def test_dot_has_every_edge_in_order(tiny):
    dot = to_dot(tiny)
    edge_lines = [line.strip() for line in dot.splitlines() if ' -> ' in line]
    assert edge_lines == [f'"{p}" -> "{c}";' for p, c in edges(tiny)]
    assert '"driveable" -> "road";' in edge_lines
    assert len(edge_lines) == tiny.num_nodes - 1


def test_dot_graph_attributes(tiny):
    dot = to_dot(tiny)
    assert dot.startswith('digraph "tiny_street" {\n')
    assert dot.endswith('}\n')
    assert 'rankdir=LR' in dot
    assert 'label="tiny_street: 22 nodes, 5 classifiers, 17 leaves, 3 levels"' in dot


def test_dot_classifier_boxes_and_leaf_ellipses(tiny):
    dot = to_dot(tiny)
    for node, k in [('root', 10), ('driveable', 2), ('rider', 2), ('traffic sign', 2),
                    ('traffic sign front', 5)]:
        assert f'  "{node}" [label="{node} [{k}]", shape=box,' in dot
    for leaf in tiny.leaves:
        assert f'  "{leaf}" [label="{leaf}", shape=ellipse, style=filled,' in dot
    assert dot.count('shape=box') == tiny.num_classifiers


def test_pictures_use_the_one_palette(tiny):
    """dot, mermaid and png fill every node with its overlay colour."""
    from mmhier.taxonomy.export import node_fills
    from mmhier.taxonomy.palette import hierarchical_palette
    palette = hierarchical_palette(tiny)
    fills, texts = node_fills(tiny)
    assert fills == ['#%02x%02x%02x' % tuple(rgb) for rgb in palette.tolist()]
    assert fills[0] == '#ffffff' and texts[0] == '#000000'  # the white root, black text
    dot, mermaid = to_dot(tiny), to_mermaid(tiny)
    for i, node in enumerate(tiny.nodes):
        assert f'fillcolor="{fills[i]}", fontcolor="{texts[i]}"' in \
            dot.split(f'  "{node}" [label=', 1)[1].split('\n', 1)[0]
        assert f'  style n{i} fill:{fills[i]},color:{texts[i]}' in mermaid


def test_dot_is_deterministic(tiny):
    again = Taxonomy.from_file(TAXONOMIES / 'tiny_street.yaml')
    assert to_dot(again) == to_dot(tiny)


def test_dot_escapes_quotes_and_backslashes(odd):
    dot = to_dot(odd)
    assert dot.startswith('digraph "odd \\"names\\"" {')
    assert '  "root" -> "say \\"hi\\"";' in dot
    assert '  "root" -> "back\\\\slash\\\\";' in dot
    assert '  "say \\"hi\\"" [label="say \\"hi\\"", shape=ellipse,' in dot
    assert '  "two\\nlines" [label="two\\nlines", shape=ellipse,' in dot
    # Every quoted string closes: no unescaped quote inside any id or label.
    quoted = re.compile(r'"(?:[^"\\]|\\.)*"')
    for line in dot.splitlines():
        assert '"' not in quoted.sub('', line)


# ----------------------------------------------------------------- Mermaid
def test_mermaid_nodes_and_edges(tiny):
    lines = to_mermaid(tiny).splitlines()
    assert lines[0] == 'flowchart LR'
    node_line = re.compile(r'^  n(\d+)(\["[^"]*"\]:::classifierL\d+|\("[^"]*"\))$')
    nodes = [node_line.match(line) for line in lines if node_line.match(line)]
    assert [int(m.group(1)) for m in nodes] == list(range(tiny.num_nodes))
    edge_lines = [line for line in lines if '-->' in line]
    index = {name: i for i, name in enumerate(tiny.nodes)}
    assert edge_lines == [f'  n{index[p]} --> n{index[c]}' for p, c in edges(tiny)]
    assert '  n0["root [10]"]:::classifierL1' in lines
    assert '  n16["traffic sign front [5]"]:::classifierL3' in lines
    assert sum(line.startswith('  classDef classifierL') for line in lines) == 3


def test_mermaid_escapes_labels(odd):
    text = to_mermaid(odd)
    assert '("say #quot;hi#quot;")' in text
    assert '["cost $5 or $6 #lt;b#gt; #35;1 [2]"]:::classifierL2' in text
    assert '("two lines")' in text
    for line in text.splitlines()[2:]:
        assert line.count('"') in (0, 2)


# -------------------------------------------------------------------- JSON
@pytest.mark.parametrize('name', ['tiny_street', 'cs_vistas_gtsdb',
                                  'cityscapes_extended'])
def test_json_round_trip(name):
    tax = Taxonomy.from_file(TAXONOMIES / f'{name}.yaml')
    back = from_json(to_json(tax))
    assert back.content_hash == tax.content_hash
    assert back.tree_hash == tax.tree_hash
    assert back.to_dict() == tax.to_dict()


def test_json_round_trip_odd_names(odd):
    assert from_json(to_json(odd)).content_hash == odd.content_hash


def test_json_derived_section(tiny):
    data = json.loads(to_json(tiny))
    assert list(data) == ['name', 'description', 'tree', 'datasets', DERIVED_KEY]
    derived = data[DERIVED_KEY]
    assert derived['classifiers'][0] == {'node': 'root', 'level': 1,
                                         'children': list(tiny.children('root'))}
    assert [c['node'] for c in derived['classifiers']] == \
        [c.node for c in tiny.classifiers]
    assert derived['leaves'] == list(tiny.leaves)
    assert derived['levels']['root'] == 0
    assert derived['levels']['stop'] == 3
    assert derived['content_hash'] == tiny.content_hash
    assert derived['tree_hash'] == tiny.tree_hash
    assert derived['supervision'] == {
        'city_like': ['root'],
        'vistas_like': ['root', 'driveable', 'rider', 'traffic sign'],
        'gtsdb_like': ['traffic sign front'],
        'city_ext_like': ['root', 'traffic sign front']}


def test_json_class_ids_become_ints_again(tiny):
    data = json.loads(to_json(tiny))
    assert '8' in data['datasets']['city_like']['classes']
    back = from_json(to_json(tiny))
    assert [c.id for c in back.dataset('city_like').classes] == list(range(11))
    np.testing.assert_array_equal(back.label_to_node('city_like'),
                                  tiny.label_to_node('city_like'))


def test_from_dict_rejects_derived_so_from_json_drops_it(tiny):
    data = json.loads(to_json(tiny))
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_dict(data)
    assert any(p.code == 'unknown-key' for p in info.value.errors)


def test_from_json_reports_bad_json():
    with pytest.raises(TaxonomyError, match=r'<json>:1:\d+: JSON syntax error'):
        from_json('{"name": ')


# --------------------------------------------------------------------- PNG
def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which follows the 8-byte magic."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b'IHDR'
    return struct.unpack('>II', data[16:24])


def test_png_files_grow_with_leaves(tiny, big, tmp_path):
    pytest.importorskip('matplotlib')
    small_png = draw_png(tiny, tmp_path / 'tiny.png', dpi=100)
    big_png = draw_png(big, tmp_path / 'big.png', dpi=100)
    assert small_png == tmp_path / 'tiny.png' and small_png.is_file()
    small_w, small_h = png_size(small_png)
    big_w, big_h = png_size(big_png)
    assert big_h > small_h
    # 0.18 in per leaf at 100 dpi: at least 18 pixels per leaf.
    assert big_h >= 18 * big.num_leaves
    assert small_w > 200 and big_w > 200


def test_png_of_odd_names(odd, tmp_path):
    pytest.importorskip('matplotlib')
    width, height = png_size(draw_png(odd, tmp_path / 'odd.png', dpi=50))
    assert height == 150  # the minimum height of 3 in
    assert width > 0


def test_png_does_not_change_pyplot_backend(tiny, tmp_path):
    matplotlib = pytest.importorskip('matplotlib')
    before = matplotlib.rcParams['backend']
    draw_png(tiny, tmp_path / 'tiny.png', dpi=50)
    assert matplotlib.rcParams['backend'] == before


def test_png_too_large_raises(big, tmp_path):
    pytest.importorskip('matplotlib')
    with pytest.raises(TaxonomyError, match='lower dpi'):
        draw_png(big, tmp_path / 'huge.png', dpi=5000)
    assert not (tmp_path / 'huge.png').exists()


def test_png_without_matplotlib_raises(tiny, tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m.split('.')[0] == 'matplotlib']:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, 'matplotlib', None)
    with pytest.raises(TaxonomyError, match='pip install matplotlib'):
        draw_png(tiny, tmp_path / 'tiny.png')
