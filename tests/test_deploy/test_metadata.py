"""Metadata of an exported model: everything a runtime needs to name and draw
the node ids without mmhier, in ONNX metadata_props."""
import json

import onnx

from mmhier.deploy import ExportedModel, from_props, to_props
from mmhier.taxonomy import Taxonomy
from mmhier.taxonomy.palette import hierarchical_palette
from tests.test_deploy.conftest import SIZE


def test_onnx_metadata_names_and_colours_the_nodes(hier_wrapper, hier_onnx):
    props = {p.key: p.value for p in onnx.load(str(hier_onnx)).metadata_props}
    assert all(key.startswith('mmhier.') for key in props)
    meta = from_props(props)
    assert ExportedModel(str(hier_onnx)).metadata == meta   # as onnxruntime reads it
    taxonomy = hier_wrapper.head.taxonomy
    assert meta['node_names'] == list(taxonomy.nodes)
    assert meta['node_ids'] == list(range(taxonomy.num_nodes))
    assert meta['node_parents'] == taxonomy.parent_index.tolist()
    assert meta['node_levels'] == taxonomy.node_level.tolist()
    assert meta['palette'] == hierarchical_palette(taxonomy).tolist()
    assert meta['output_nodes'] == hier_wrapper.output_nodes.tolist()
    assert meta['decision'] == 'greedy'
    assert meta['taxonomy']['tree_hash'] == taxonomy.tree_hash
    rebuilt = Taxonomy.from_string(meta['taxonomy_record']['yaml'])
    assert rebuilt.tree_hash == taxonomy.tree_hash and rebuilt.nodes == taxonomy.nodes
    assert meta['input']['channel_order'] == 'bgr'
    assert meta['input']['network_channel_order'] == 'rgb'
    assert meta['input']['mean'] == [123.675, 116.28, 103.53]
    assert list(meta['outputs']) == ['nodes', 'scores']
    assert meta['dynamic'] == {'batch': True, 'height': True, 'width': True}
    assert meta['export_size'] == list(SIZE)
    assert meta['level_of_detail'] == {'output_level': None, 'output_stop_at': []}
    assert meta['source'] == {'config': 'hier.py'}
    assert props['mmhier.node_names'] == json.dumps(list(taxonomy.nodes), ensure_ascii=False)


def test_props_round_trip_and_ignore_other_keys():
    meta = {'node_names': ['root', 'Straße'], 'palette': [[1, 2, 3], [4, 5, 6]]}
    props = to_props(meta)
    assert props == {'mmhier.node_names': '["root", "Straße"]',
                     'mmhier.palette': '[[1, 2, 3], [4, 5, 6]]'}
    assert from_props({**props, 'producer': 'x'}) == meta
