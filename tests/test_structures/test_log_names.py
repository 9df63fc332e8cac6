"""One rule for classifier names in logs and metric keys."""
from types import SimpleNamespace

from mmhier.structures import classifier_log_names, log_name
from mmhier.taxonomy import load_taxonomy
from tests.conftest import TAXONOMIES


def test_log_name_rule():
    assert log_name('Traffic Sign (Front)') == 'traffic_sign_front'
    assert log_name('  keep--left ') == 'keep_left'
    assert log_name('Ümlaut') == 'mlaut'
    assert log_name('!!!') == 'node'


def test_collisions_get_the_classifier_index():
    tax = SimpleNamespace(classifiers=[SimpleNamespace(node='Sign', index=0),
                                       SimpleNamespace(node='sign', index=1),
                                       SimpleNamespace(node='SIGN!', index=2)])
    assert classifier_log_names(tax) == ('sign', 'sign_1', 'sign_2')


def test_shipped_taxonomy_names_are_unique_and_ordered():
    tax = load_taxonomy(TAXONOMIES / 'cs_vistas_gtsdb.yaml')
    names = classifier_log_names(tax)
    assert len(set(names)) == len(names) == len(tax.classifiers)
    assert names[0] == log_name(tax.classifiers[0].node)
