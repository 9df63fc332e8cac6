"""What a runtime needs to name and draw an exported model's output without
mmhier: the taxonomy's node names and ids, parents and levels, the one
hierarchical palette (:func:`~mmhier.taxonomy.palette.hierarchical_palette`),
the taxonomy record (its YAML text and hashes), and what the input and
outputs are.

ONNX files carry it in ``metadata_props``, one entry per top-level key,
``mmhier.<key>`` = the value as JSON (read with onnxruntime:
``session.get_modelmeta().custom_metadata_map``; :func:`from_props`). An
exported program carries it next to it, in ``<file>.json``, and inside, as the
extra file ``mmhier.json``.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from mmhier.deploy.model import DeployableSegmentor
from mmhier.models.heads import HierarchicalDecodeHead

#: Version of the metadata layout.
METADATA_FORMAT = 1
#: Prefix of the ONNX metadata keys.
PREFIX = 'mmhier.'
#: Name of the metadata inside an exported program.
EXTRA_FILE = 'mmhier.json'

OUTPUT_DOCS = {
    'nodes': 'int64 (N, H, W): taxonomy node id of every pixel (index into node_names '
             'and palette), one of output_nodes',
    'scores': 'float32 (N, num_outputs, H, W): channel c is the score of node '
              'output_nodes[c]: its path probability (hierarchical head) or softmax '
              'probability (flat head)',
}


def deploy_metadata(wrapper: DeployableSegmentor, *, export_size: tuple[int, int],
                    dynamic: bool, min_size: Optional[tuple[int, int]] = None,
                    source: Optional[Mapping[str, Any]] = None) -> dict:
    """The metadata of an exported model.

    Args:
        wrapper: The exported module.
        export_size: ``(H, W)`` of the example input the graph was recorded with.
        dynamic: Whether batch, height and width are dynamic.
        min_size: Smallest ``(H, W)`` the graph accepts (dynamic graphs).
        source: Where the model came from (config, checkpoint, ...).

    Returns:
        Plain JSON-able data.
    """
    from mmhier.taxonomy.embedded import taxonomy_record
    from mmhier.taxonomy.palette import hierarchical_palette
    from mmhier.version import __version__
    head = wrapper.head
    taxonomy = head.taxonomy
    hierarchical = isinstance(head, HierarchicalDecodeHead)
    return {
        'format': METADATA_FORMAT,
        'mmhier_version': __version__,
        'taxonomy': {'name': taxonomy.name, 'tree_hash': taxonomy.tree_hash,
                     'content_hash': taxonomy.content_hash},
        'taxonomy_record': taxonomy_record(taxonomy),
        'node_ids': list(range(taxonomy.num_nodes)),
        'node_names': list(taxonomy.nodes),
        'node_parents': [int(p) for p in taxonomy.parent_index.tolist()],
        'node_levels': [int(v) for v in taxonomy.node_level.tolist()],
        'palette': hierarchical_palette(taxonomy).tolist(),
        'output_nodes': head.output_nodes.tolist(),
        'decision': head.decision if hierarchical else 'flat',
        'level_of_detail': {
            'output_level': getattr(head, 'output_level', None),
            'output_stop_at': list(getattr(head, 'output_stop_at', None) or []),
        },
        'input': {'name': 'image', 'dtype': 'float32', 'layout': 'NCHW',
                  'values': 'pixel values 0..255', **wrapper.preprocessing.describe(),
                  'min_size': list(min_size) if min_size else None},
        'outputs': {name: OUTPUT_DOCS[name] for name in wrapper.outputs},
        'dynamic': {'batch': dynamic, 'height': dynamic, 'width': dynamic},
        'export_size': list(export_size),
        'source': dict(source or {}),
    }


def to_props(metadata: Mapping[str, Any]) -> dict[str, str]:
    """ONNX ``metadata_props``: ``mmhier.<key>`` -> JSON of the value."""
    return {PREFIX + key: json.dumps(value, ensure_ascii=False)
            for key, value in metadata.items()}


def from_props(props: Mapping[str, str]) -> dict:
    """The metadata back from ONNX ``metadata_props`` (other keys ignored)."""
    return {key[len(PREFIX):]: json.loads(value) for key, value in props.items()
            if key.startswith(PREFIX)}


def sidecar_path(path: str) -> str:
    """The JSON file next to an exported program: ``<path>.json``."""
    return f'{path}.json'
