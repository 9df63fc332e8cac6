"""Label ids as ranges: validation cost follows the number of entries, not
the values of ``num_ids`` and of ``ignore_ids`` ranges."""
import random
import time

import pytest

from mmhier.taxonomy import Taxonomy, TaxonomyValidationError, validate_file
from mmhier.taxonomy.id_ranges import IdRanges, format_ids
from mmhier.taxonomy.summary import format_dataset
from tests.test_taxonomy.taxonomy_texts import line_of


def test_ranges_merge_and_print():
    ids = IdRanges([(5, 9), (0, 0), (10, 12), (7, 8), (3, 2)])  # (3, 2) is empty
    assert ids.ranges == ((0, 0), (5, 12))
    assert str(ids) == '0, 5-12' and ids.count == 9 and (ids.min, ids.max) == (0, 12)
    assert 11 in ids and 4 not in ids and 'x' not in ids
    assert list(IdRanges([(1, 3)])) == [1, 2, 3] and not IdRanges()
    assert format_ids([7, 1, 2, 3]) == '1-3, 7'


def test_set_operations_match_python_sets():
    rng = random.Random(0)
    for _ in range(500):
        a = [tuple(sorted(rng.sample(range(-3, 40), 2))) for _ in range(rng.randint(0, 5))]
        b = [tuple(sorted(rng.sample(range(-3, 40), 2))) for _ in range(rng.randint(0, 5))]
        sa = {i for x, y in a for i in range(x, y + 1)}
        sb = {i for x, y in b for i in range(x, y + 1)}
        ra, rb = IdRanges(a), IdRanges(b)
        assert set(ra.union(rb)) == sa | sb
        assert set(ra.intersection(rb)) == sa & sb
        assert set(ra.difference(rb)) == sa - sb
        assert ra.count == len(sa)


def test_operations_on_huge_ranges_are_instant():
    start = time.perf_counter()
    everything = IdRanges.span(0, 2**31 - 1)
    holes = everything.difference(IdRanges.from_ids(range(0, 2**31, 2**20)))
    assert holes.count == 2**31 - 2**11 and len(holes.ranges) == 2**11
    assert time.perf_counter() - start < 1


def dataset(lines: str) -> str:
    return ('name: t\ntree:\n  root:\n    sky:\n    road:\ndatasets:\n  d:\n'
            '    annotation: pixel\n' + lines + '    classes: {0: sky, 1: road}\n')


def test_large_legal_label_spaces_validate_in_milliseconds():
    text = dataset('    encoding: int32\n    num_ids: 2147483648\n'
                   '    ignore_ids: [2, "3-2000000000", "2000000001-2147483647"]\n')
    start = time.perf_counter()
    tax = Taxonomy.from_string(text)
    assert time.perf_counter() - start < 1  # was MemoryError / minutes
    d = tax.dataset('d')
    assert d.ignore_ids.ranges == ((2, 2147483647),) and d.num_ids == 2**31
    assert '2 mapped, 2147483646 ignored [2-2147483647]' in format_dataset(tax, 'd')
    assert tax.to_dict()['datasets']['d']['ignore_ids'] == ['2-2147483647']
    assert Taxonomy.from_dict(tax.to_dict()).content_hash == tax.content_hash


@pytest.mark.parametrize('lines, code, needle, message', [
    ('    num_ids: 99999999999999999999\n', 'id-out-of-range', 'num_ids',
     'num_ids 99999999999999999999 is more than any label encoding can hold'),
    ('    encoding: int32\n    num_ids: 2147483649\n', 'id-out-of-range', 'num_ids',
     'more than any label encoding can hold'),
    ('    num_ids: -5\n', 'bad-value', 'num_ids', 'num_ids must be a positive integer, '
     'not -5'),
    ('    num_ids: 0\n', 'bad-value', 'num_ids', 'not 0'),
    ('    num_ids: 2.5\n', 'bad-value', 'num_ids', 'not 2.5'),
    ('    num_ids: 300\n', 'id-out-of-range', 'num_ids', 'does not fit encoding uint8'),
    ('    ignore_ids: ["2-2000000000"]\n', 'id-out-of-range', 'ignore_ids',
     'ignore_ids 256-2000000000 are outside 0..255'),
    ('    ignore_ids: [-3]\n', 'id-out-of-range', 'ignore_ids', 'ignore_ids -3 are'),
    ('    ignore_ids: ["9-3"]\n', 'bad-id', 'ignore_ids', "'9-3' is neither"),
    ('    ignore_ids: ["3-' + '9' * 30 + '"]\n', 'bad-id', 'ignore_ids', 'neither'),
    ('    num_ids: 9\n    ignore_ids: ["2-5", 4, "5-8"]\n', 'duplicate-id', 'ignore_ids',
     'id 4 is listed twice in ignore_ids'),
    ('    num_ids: 20\n    ignore_ids: ["2-12", "5-15"]\n', 'duplicate-id', 'ignore_ids',
     'ids 5-12 are listed twice in ignore_ids'),
    ('    num_ids: 9\n    ignore_ids: ["1-8"]\n', 'duplicate-id', 'ignore_ids',
     "label id 1 is in ignore_ids and also listed as class 'road'"),
])
def test_bad_id_values_are_typed_errors_with_lines(tmp_path, lines, code, needle,
                                                   message):
    text = dataset(lines)
    path = tmp_path / 'ids.yaml'
    path.write_text(text)
    start = time.perf_counter()
    problems = [p for p in validate_file(path) if p.is_error]
    assert time.perf_counter() - start < 1
    matching = [p for p in problems if p.code == code and message in p.message]
    assert matching, problems
    assert matching[0].line == line_of(text, needle)
    with pytest.raises(TaxonomyValidationError, match=message.replace('.', r'\.')
                       .replace('(', r'\(').replace('[', r'\[')):
        Taxonomy.from_file(path)


def test_unmapped_ids_are_listed_as_ranges():
    text = dataset('    encoding: int32\n    num_ids: 2000000000\n    ignore_ids: [5]\n')
    with pytest.raises(TaxonomyValidationError) as info:
        Taxonomy.from_string(text)
    error, = info.value.errors
    assert error.code == 'unmapped-id'
    assert 'label ids 2-4, 6-1999999999 are neither mapped' in error.message
