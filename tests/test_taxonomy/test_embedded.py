"""Taxonomies embedded in checkpoints, and shipped names (load_taxonomy)."""
import os

import pytest

from mmhier.taxonomy import (Taxonomy, TaxonomyError, TaxonomyFileError,
                             TaxonomyMismatchError, load_taxonomy, shipped_taxonomy_names)
from mmhier.taxonomy.embedded import (clear_registered, register_taxonomy_records,
                                      registered_taxonomy, taxonomy_from_record,
                                      taxonomy_record)
from tests.conftest import TAXONOMIES

TINY = TAXONOMIES / 'tiny_street.yaml'


@pytest.fixture(autouse=True)
def _clean():
    clear_registered()
    yield
    clear_registered()


def test_record_keeps_the_file_text_and_hashes():
    tax = load_taxonomy(TINY)
    record = taxonomy_record(tax)
    assert record['yaml'] == TINY.read_text(encoding='utf-8')  # comments kept
    assert record['tree_hash'] == tax.tree_hash and record['name'] == 'tiny_street'
    assert record['source'] == str(TINY)
    again = taxonomy_from_record(record, 'ckpt.pth')
    assert again.content_hash == tax.content_hash
    assert again.source.startswith('ckpt.pth (embedded copy of ')


def test_record_of_a_dict_taxonomy_round_trips():
    tax = Taxonomy.from_dict(load_taxonomy(TINY).to_dict())
    assert tax.text is None
    assert taxonomy_from_record(taxonomy_record(tax), 'x').content_hash == tax.content_hash


def test_edited_record_is_refused():
    record = taxonomy_record(load_taxonomy(TINY))
    record['tree_hash'] = '0' * 64
    with pytest.raises(TaxonomyMismatchError, match='ckpt.pth.*damaged or was edited'):
        taxonomy_from_record(record, 'ckpt.pth')


def test_missing_file_falls_back_to_a_registered_copy(tmp_path):
    moved = tmp_path / 'gone' / 'tiny_street.yaml'
    record = dict(taxonomy_record(load_taxonomy(TINY)), source=str(moved))
    with pytest.raises(TaxonomyFileError):
        load_taxonomy(moved)
    register_taxonomy_records({'decode_head.taxonomy_record': record}, 'w/iter_10.pth')
    for reference in (moved, 'elsewhere/tiny_street.yaml', 'tiny_street_moved'):
        if reference == 'tiny_street_moved':
            assert registered_taxonomy(reference) is None
            continue
        tax = load_taxonomy(reference)
        assert tax.tree_hash == load_taxonomy(TINY).tree_hash
        assert 'w/iter_10.pth' in tax.source


def test_an_existing_file_wins_over_the_registered_copy(tmp_path):
    other = Taxonomy.from_file(TAXONOMIES / 'cityscapes_extended.yaml')
    record = dict(taxonomy_record(other), source=str(tmp_path / 'tiny_street.yaml'))
    register_taxonomy_records({'k': record}, 'c.pth')
    assert load_taxonomy(TINY).name == 'tiny_street'


def test_two_different_copies_of_one_name_are_ambiguous(tmp_path):
    tiny = taxonomy_record(load_taxonomy(TINY))
    other = taxonomy_record(Taxonomy.from_file(TAXONOMIES / 'cityscapes_extended.yaml'))
    register_taxonomy_records({'a': dict(tiny, source='/x/a/t.yaml')}, 'one.pth')
    register_taxonomy_records({'b': dict(other, source='/x/b/t.yaml')}, 'two.pth')
    with pytest.raises(TaxonomyError, match='one.pth, two.pth'):
        load_taxonomy(tmp_path / 't.yaml')


@pytest.mark.parametrize('reference', ['cs_vistas_gtsdb', 'cs_vistas_gtsdb.yaml',
                                       'taxonomies/cs_vistas_gtsdb.yaml'])
def test_shipped_names_resolve_from_any_directory(tmp_path, reference):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        tax = load_taxonomy(reference)
    finally:
        os.chdir(cwd)
    assert tax.name == 'cs_vistas_gtsdb'
    assert tax is load_taxonomy(TAXONOMIES / 'cs_vistas_gtsdb.yaml')  # one cache entry


def test_unknown_name_lists_the_shipped_ones():
    assert shipped_taxonomy_names() == ('cityscapes_extended', 'cs_vistas_gtsdb',
                                        'tiny_city_extended', 'tiny_partial_labels',
                                        'tiny_street')
    with pytest.raises(TaxonomyFileError, match='cs_vistas_gtsd: no such taxonomy file.*'
                       r'shipped name \(cityscapes_extended, cs_vistas_gtsdb'):
        load_taxonomy('cs_vistas_gtsd')
