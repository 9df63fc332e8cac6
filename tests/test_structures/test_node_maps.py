"""Node maps as 16-bit PNGs."""
import numpy as np
import pytest

from mmhier.structures import MAX_PNG_ID, NodeMapRangeError, load_node_map, save_node_map


def test_round_trip_keeps_ids_above_255(tmp_path):
    ids = np.array([[0, 255, 256], [1000, MAX_PNG_ID, 7]])
    path = tmp_path / 'a' / 'b' / 'map.png'  # parent folders are created
    save_node_map(path, ids)
    back = load_node_map(path)
    assert back.dtype == np.int64
    np.testing.assert_array_equal(back, ids)


@pytest.mark.parametrize('bad', [-1, MAX_PNG_ID + 1])
def test_ids_outside_16_bit_are_refused(tmp_path, bad):
    with pytest.raises(NodeMapRangeError, match=r'map\.png.*0\.\.65535'):
        save_node_map(tmp_path / 'map.png', np.array([[0, bad]]))
    assert not (tmp_path / 'map.png').exists()
