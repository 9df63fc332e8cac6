"""HierarchicalIoUMetric with node-set (partial) gt labels, on the shipped
tiny_partial_labels taxonomy.

Nodes: 0 root, 1 sky, 2 flat, 3 road, 4 sidewalk, 5 nature, 6 vegetation,
7 terrain, 8 human, 9 person, 10 rider, 11 vehicle, 12 car, 13 truck, 14 bus,
15 bicycle; node sets (targets): 16 [sidewalk, terrain], 17 [car, truck],
18 [rider, bicycle]. street_coarse classes: 0 sky, 1 road, 2 walkable ground
[sidewalk, terrain], 3 vegetation, 4 person, 5 vehicle [car, truck], 6 bus,
7 cyclist [rider, bicycle].

One street_coarse sample, pixels as (gt, prediction):
  ([car, truck], car) ok      ([car, truck], truck) ok   ([car, truck], bus) wrong
  ([sidewalk, terrain], terrain) ok   ([sidewalk, terrain], road) wrong
  ([rider, bicycle], bicycle) ok      ([rider, bicycle], person) wrong
  (bus, car) wrong: car is class 5      (road, road) ok
"""
import json

import numpy as np
import pytest

from mmhier.evaluation import HierarchicalIoUMetric, LabelMismatchError
from mmhier.taxonomy import load_taxonomy
from tests.conftest import TAXONOMIES
from tests.test_evaluation.test_hierarchical_metric import check, sample

PARTIAL = TAXONOMIES / 'tiny_partial_labels.yaml'
GT = [[17, 17, 17], [16, 16, 18], [18, 14, 3]]
PRED = [[12, 13, 14], [7, 3, 15], [9, 12, 3]]
NAN = float('nan')


def test_target_numbering_of_the_shipped_example():
    tax = load_taxonomy(PARTIAL)
    assert tax.num_nodes == 16 and tax.num_targets == 19
    assert tax.node_sets == (('sidewalk', 'terrain'), ('car', 'truck'), ('rider', 'bicycle'))
    assert tax.label_to_target('street_coarse').tolist()[:8] == [1, 3, 16, 6, 9, 17, 14, 18]


def test_prediction_inside_the_set_is_correct(tmp_path):
    metric = HierarchicalIoUMetric(taxonomy=PARTIAL, output_file=str(tmp_path / 'r.json'))
    metric.process({}, [sample('street_coarse', GT, PRED)])
    metrics = metric.evaluate(1)
    # IoU: road 1/2, walkable 1/2, person 0 (a false positive), vehicle
    # 2/(3+3-2), bus 0, cyclist 1/2; sky and vegetation absent
    check(metrics, {'street_coarse/aAcc': round(500 / 9, 2),
                    'street_coarse/mIoU': round(200 / 6, 2),
                    'street_coarse/mPA': round((100 + 50 + 200 / 3 + 0 + 50) / 5, 2)})
    cm = np.array(json.loads((tmp_path / 'r.json').read_text())
                  ['datasets']['street_coarse']['confusion_matrix'])
    expected = np.zeros((8, 9), dtype=int)
    expected[1, 1] = 1                          # road
    expected[2, 2] = expected[2, 1] = 1         # walkable ground: terrain ok, road
    expected[5, 5], expected[5, 6] = 2, 1       # vehicle: car, truck ok; bus
    expected[6, 5] = 1                          # bus predicted as car: class vehicle
    expected[7, 7] = expected[7, 4] = 1         # cyclist: bicycle ok, person
    np.testing.assert_array_equal(cm, expected)


def test_levels_see_a_node_set_as_its_common_ancestor():
    metric = HierarchicalIoUMetric(taxonomy=PARTIAL)
    metric.process({}, [sample('street_coarse', GT, PRED)])
    metrics = metric.evaluate(1)
    # level 1: [car, truck] -> vehicle (3 pixels, all predicted below
    # vehicle), bus, road; [sidewalk, terrain] and [rider, bicycle] have the
    # root as common ancestor and are counted at no level
    # level 2: only bus (predicted car) and road
    check(metrics, {'level1/aAcc': 100.0, 'level2/aAcc': 50.0,
                    'classifier/root/acc': 100.0, 'classifier/vehicle/acc': 0.0,
                    'classifier/nature/acc': NAN})


def test_a_node_set_the_dataset_does_not_label_is_a_mismatch():
    metric = HierarchicalIoUMetric(taxonomy=PARTIAL)
    with pytest.raises(LabelMismatchError, match=r"\[car, truck\]"):
        metric.process({}, [sample('street_fine', [[17]], [[12]], 'f.png')])
