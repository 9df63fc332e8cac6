"""Property tests of the GTSDB gt.txt parser.

- Any valid gt.txt, written with any accepted variation (BOM, line ends,
  spaces, blank lines, header), parses to exactly the boxes written.
- Any mutation of a valid file either parses (to boxes that pass the checks)
  or raises AnnotationError naming a line of the file; never anything else,
  and never slowly. The lenient mode only warns, except for files that are
  not text at all.
"""
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmhier.datasets.errors import AnnotationError
from mmhier.datasets.gtsdb import parse_gtsdb_annotations

NUM_CLASSES = 43
SIZES = {'00000.ppm': (800, 1360), '00001.ppm': (30, 40), '00002.ppm': (2, 2),
         '00003.ppm': (1, 2000)}
HANG_GUARD_S = 5.0
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope='module')
def gt_path(tmp_path_factory):
    return tmp_path_factory.mktemp('gt') / 'gt.txt'


@st.composite
def boxes(draw):
    """One valid line: ``(filename, [x1, y1, x2, y2], class id)``."""
    name = draw(st.sampled_from(sorted(n for n, (h, w) in SIZES.items() if h > 1)))
    height, width = SIZES[name]
    x1, x2 = sorted(draw(st.lists(st.integers(0, width - 1), min_size=2, max_size=2,
                                  unique=True)))
    y1, y2 = sorted(draw(st.lists(st.integers(0, height - 1), min_size=2, max_size=2,
                                  unique=True)))
    return name, [x1, y1, x2, y2], draw(st.integers(0, NUM_CLASSES - 1))


SPACE = st.sampled_from(['', ' ', '  ', '\t', ' \t '])


@st.composite
def valid_files(draw):
    """``(content, lines)``: a valid gt.txt in some accepted variation."""
    lines = draw(st.lists(boxes(), min_size=1, max_size=12,
                          unique_by=lambda line: (line[0], tuple(line[1]))))
    end = draw(st.sampled_from(['\n', '\r\n', '\r']))
    text = []
    if draw(st.booleans()):
        text.append('filename;leftCol;topRow;rightCol;bottomRow;ClassID')
    for name, box, label in lines:
        if draw(st.integers(0, 4)) == 0:
            text.append(draw(SPACE))                      # a blank line
        fields = [name, *map(str, box), str(label)]
        text.append(';'.join(f'{draw(SPACE)}{field}{draw(SPACE)}' for field in fields))
    content = end.join(text) + end * draw(st.integers(0, 3))
    raw = content.encode('utf-8')
    if draw(st.booleans()):
        raw = b'\xef\xbb\xbf' + raw
    return raw, lines


def expected_of(lines):
    out = {}
    for name, box, label in lines:
        boxes_, labels = out.setdefault(name, ([], []))
        boxes_.append(box)
        labels.append(label)
    return out


def parse(path, content, strict=True):
    path.write_bytes(content)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return parse_gtsdb_annotations(path, SIZES, NUM_CLASSES, strict=strict)
    finally:
        assert time.perf_counter() - start < HANG_GUARD_S


@PROPERTY_SETTINGS
@given(valid_files())
def test_valid_files_parse_to_exactly_the_boxes_written(gt_path, file):
    content, lines = file
    parsed = parse(gt_path, content)
    expected = expected_of(lines)
    assert sorted(parsed) == sorted(expected)
    for name, (boxes_, labels) in expected.items():
        assert parsed[name][0].dtype == np.float32 and parsed[name][1].dtype == np.int64
        assert parsed[name][0].tolist() == boxes_
        assert parsed[name][1].tolist() == labels


SNIPPETS = [b';', b';;', b'-', b'.', b'.5', b'1e3', b' ', b'\t', b'\r', b'\n', b'\r\n',
            b'\x00', b'\xff', b'\xc3', b'\xef\xbb\xbf', b'\xe2\x80\x8b', b'9' * 12, b'-1',
            b'43', b'0', b'abc', b'00009.ppm', b'/', b'\\', b',', b'\x1b', b'\xd9\xa1']


@st.composite
def mutations(draw):
    """A valid file with 1-5 random edits (insert, delete, replace, cut,
    duplicate a line)."""
    content, _ = draw(valid_files())
    data = bytearray(content)
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(['insert', 'delete', 'replace', 'cut', 'duplicate',
                                     'byte']))
        at = draw(st.integers(0, len(data)))
        if kind == 'insert':
            data[at:at] = draw(st.sampled_from(SNIPPETS))
        elif kind == 'delete':
            del data[at:at + draw(st.integers(1, 8))]
        elif kind == 'replace':
            data[at:at + 1] = draw(st.sampled_from(SNIPPETS))
        elif kind == 'cut':
            del data[at:]
        elif kind == 'byte':
            data[at:at] = bytes([draw(st.integers(0, 255))])
        else:
            lines = bytes(data).split(b'\n')
            pick = draw(st.integers(0, len(lines) - 1))
            lines.insert(pick, lines[pick])
            data = bytearray(b'\n'.join(lines))
    return bytes(data)


def number_of_lines(content):
    return content.count(b'\n') + content.count(b'\r') - content.count(b'\r\n') + 1


@settings(PROPERTY_SETTINGS, max_examples=300)
@given(mutations())
def test_mutations_parse_or_name_a_line(gt_path, content):
    try:
        parsed = parse(gt_path, content)
    except AnnotationError as error:
        assert 1 <= error.line <= number_of_lines(content)
        assert str(error).startswith(f'{gt_path}:{error.line}: ')
        assert all(1 <= line <= number_of_lines(content) for line, _ in error.problems)
    else:
        for name, (boxes_, labels) in parsed.items():
            height, width = SIZES[name]
            assert ((boxes_[:, 0] < boxes_[:, 2]) & (boxes_[:, 1] < boxes_[:, 3])).all()
            assert (boxes_ >= 0).all() and (boxes_[:, 2] < width).all() \
                and (boxes_[:, 3] < height).all()
            assert ((labels >= 0) & (labels < NUM_CLASSES)).all()
    try:
        parse(gt_path, content, strict=False)
    except AnnotationError as error:     # only for files that are not text at all
        assert error.line == 1 and len(error.problems) == 1
