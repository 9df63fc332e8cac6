"""The YAML reader: positions, refused YAML features, limits, encodings."""
import time

import pytest

from mmhier.taxonomy import Taxonomy, TaxonomyFileError, TaxonomySyntaxError
from mmhier.taxonomy.errors import (TaxonomyEncodingError, TaxonomyLimitError,
                                    TaxonomyUnsupportedYAMLError)
from mmhier.taxonomy import yaml_io
from mmhier.taxonomy.yaml_io import (CollectionKey, MarkedDict, MarkedList, parse_yaml,
                                     read_text, read_yaml, text_position)
from tests.test_taxonomy.taxonomy_texts import VALID, line_of

BILLION_LAUGHS = 'lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n' + ''.join(
    f'lol{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, '
    f'*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n' for i in range(1, 9))


def test_positions_duplicates_and_source_texts():
    doc = parse_yaml('a: 1\nb: [x, 007, yes]\na: 2\n? [p, q]\n: 3\nc: 0x1F\n')
    assert isinstance(doc, MarkedDict) and doc.line == 1
    assert doc.key_lines == {'a': 1, 'b': 2, doc_key(doc): 4, 'c': 6}
    assert doc.duplicates == [('a', 3)]
    assert doc['b'] == ['x', 7, True] and isinstance(doc['b'], MarkedList)
    assert doc['b'].item_texts == {1: '007', 2: 'yes'}
    assert doc.value_texts == {'a': '1', doc_key(doc): '3', 'c': '0x1F'}
    assert isinstance(doc_key(doc), CollectionKey)


def doc_key(doc):
    return next(k for k in doc if isinstance(k, CollectionKey))


@pytest.mark.parametrize('text, what, needle', [
    ('name: x\ntree: &t {root: [a, b]}\n', 'anchors (&t)', 'tree:'),
    ('name: &n x\ndescription: *n\n', 'anchors (&n)', 'name:'),
    ('tree:\n  root:\n    a: &c [x, y]\n    b: *c\n', 'anchors (&c)', 'a: &c'),
    (BILLION_LAUGHS + 'description: *a8\n', 'anchors (&a0)', 'lol0'),
    ('description: *undefined\n', 'aliases (*undefined)', 'description'),
    ('datasets:\n  d:\n    <<: {annotation: pixel}\n', 'merge keys (<<)', '<<'),
    ('name: x\n---\nname: y\n', 'one YAML document', '---'),
    ('name: !!binary aGk=\n', "'tag:yaml.org,2002:binary'", 'name'),
    ('tree: !!set {a, b}\n', "'tag:yaml.org,2002:set'", 'tree'),
    ('tree: !!omap [a: 1]\n', "'tag:yaml.org,2002:omap'", 'tree'),
    ('x: !!python/object:os.system ls\n', 'python/object', 'x:'),
    ('x: !local 3\n', "'!local'", 'x:'),
    ('x: =\n', 'value', 'x:'),
])
def test_refused_yaml_features_name_the_line(text, what, needle):
    start = time.perf_counter()
    with pytest.raises(TaxonomyUnsupportedYAMLError) as info:
        parse_yaml(text, 'f.yaml')
    assert time.perf_counter() - start < 5  # billion laughs used to take minutes
    assert info.value.line == line_of(text, needle)
    assert what in str(info.value) and str(info.value).startswith('f.yaml:')
    assert isinstance(info.value, TaxonomySyntaxError)


def test_standard_tags_are_allowed():
    doc = parse_yaml("a: !!str 007\nb: !!int '12'\nc: !!map {x: 1}\nd: !!seq [1]\n")
    assert doc == {'a': '007', 'b': 12, 'c': {'x': 1}, 'd': [1]}


@pytest.mark.parametrize('text, line, column', [
    ('\x00', 1, 1),
    ('name: t\x00\n', 1, 8),
    ('name: t\ntree:\n  ro\x07ot:\n', 3, 5),
    ('é: ü\nb: x\x01\n', 2, 5),               # non-ASCII characters before it
    ('a: b\x85c: \x01\n', 2, 4),               # NEL is a line break in YAML
    ('a: 1\r\nb: 2\r\nc: \x1b[31m\r\n', 3, 4),  # CRLF
    ('a: 1\rb: 2\rc: \x0c\r', 3, 4),          # CR-only line breaks
    ('a: "\ud800"\n', 1, 5),                  # a lone surrogate
    ('a: 1\n' * 1000 + 'b: \x7f\n', 1001, 4),
])
def test_control_characters_are_located(text, line, column):
    with pytest.raises(TaxonomyEncodingError) as info:
        parse_yaml(text, 'f.yaml')
    assert (info.value.line, info.value.column) == (line, column)
    assert str(info.value).startswith(f'f.yaml:{line}:{column}: invalid character')
    assert 'U+' in str(info.value)


def test_text_position_counts_yaml_line_breaks():
    text = 'ab\r\ncd\re\x85f\u2028g'
    assert [text_position(text, i) for i in (0, 4, 7, 9, 11)] == \
        [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]


@pytest.mark.parametrize('data, line, column', [
    (b'\x89PNG\r\n\x1a\n\x00\x00', 1, 1),
    (b'name: t\ntree:\n  r\xc3\xb6ot: \xff\n', 3, 9),
    (b'a: 1\n' * 3 + b'\xe2\x82', 4, 1),  # truncated multi-byte character
])
def test_undecodable_bytes_are_located(tmp_path, data, line, column):
    path = tmp_path / 'garbage.yaml'
    path.write_bytes(data)
    with pytest.raises(TaxonomyEncodingError) as info:
        read_yaml(path)
    assert (info.value.line, info.value.column) == (line, column)
    assert str(info.value).startswith(f'{path}:{line}:{column}: invalid character')
    assert 'is not UTF-8' in str(info.value)


def test_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / 'bom.yaml'
    path.write_bytes(b'\xef\xbb\xbf' + VALID.encode())
    assert Taxonomy.from_file(path).name == 'small'


@pytest.mark.parametrize('make, message', [
    (lambda p: p, 'no such taxonomy file'),
    (lambda p: (p.mkdir(), p)[1], 'is a directory'),
    (lambda p: str(p) + '\0x', 'cannot read'),
])
def test_unreadable_paths_raise_file_errors(tmp_path, make, message):
    with pytest.raises(TaxonomyFileError, match=message):
        read_yaml(make(tmp_path / 'x.yaml'))


def test_permission_denied_is_a_file_error(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, 'Permission denied')
    monkeypatch.setattr(yaml_io, 'open', denied, raising=False)
    with pytest.raises(TaxonomyFileError, match='permission denied'):
        read_text(tmp_path / 'x.yaml', 'taxonomy file')


def test_files_over_the_size_limit_are_refused(tmp_path, monkeypatch):
    path = tmp_path / 'big.yaml'
    path.write_text(VALID + '# ' + 'x' * 2000 + '\n')
    monkeypatch.setattr(yaml_io, 'MAX_FILE_BYTES', 1000)
    with pytest.raises(TaxonomyLimitError, match='larger than 0 MiB') as info:
        read_yaml(path)
    assert str(info.value).startswith(f'{path}: too large')


def test_endless_streams_are_cut_at_the_size_limit(monkeypatch):
    monkeypatch.setattr(yaml_io, 'MAX_FILE_BYTES', 2**20)
    with pytest.raises(TaxonomyLimitError):
        read_yaml('/dev/zero')


@pytest.mark.parametrize('text', [
    '[' * 200_000 + ']' * 200_000,
    'x: ' + '[' * 1000 + 'a, ' * 400_000 + ']' * 1000,
    'x: ' + '{a: ' * 100_000 + '}' * 100_000,
])
def test_deep_flow_nesting_is_refused_quickly(text):
    start = time.perf_counter()
    with pytest.raises(TaxonomyLimitError, match='nested') as info:
        parse_yaml(text, 'f.yaml')
    assert time.perf_counter() - start < 10  # hang guard (minutes without the limit)
    assert info.value.line == 1 and info.value.column > 1000


def test_block_nesting_has_no_limit():
    text = ''.join(' ' * i + f'k{i}:\n' for i in range(3000))
    doc = parse_yaml(text)
    for i in range(3000 - 1):
        doc = doc[f'k{i}']
    assert doc == {'k2999': None}


@pytest.mark.parametrize('text, message', [
    ('a: 2024-13-45\n', "reads '2024-13-45' as a date"),
    ("a: !!int 'abc'\n", 'as an integer'),
    ('a: ' + '1' * 5000 + '\n', 'as an integer'),
])
def test_scalars_yaml_cannot_convert_are_syntax_errors(text, message):
    with pytest.raises(TaxonomySyntaxError, match=message) as info:
        parse_yaml(text, 'f.yaml')
    assert (info.value.line, info.value.column) == (1, 4)


def test_huge_hex_integers_are_refused():
    with pytest.raises(TaxonomyLimitError, match='more than 4096 bits'):
        parse_yaml('a: 0x' + 'F' * 2000 + '\n')


def test_syntax_error_in_a_long_key_explains_the_1024_limit():
    text = 'tree:\n  ' + 'k' * 2000 + ': x\n'
    with pytest.raises(TaxonomySyntaxError, match='longer than 1024 characters'):
        parse_yaml(text)
