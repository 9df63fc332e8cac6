"""Synthetic street scenes in the formats of Cityscapes, Mapillary Vistas and GTSDB.

A small, seeded benchmark for the hierarchical method: the same kind of scene
labelled coarsely (Cityscapes-like), finely (Vistas-like) and with sign-type
boxes only (GTSDB-like), with every label id taken from a taxonomy.

Modules, from pixels up:

- :mod:`.canvas`: painting colour and part label through the same masks.
- :mod:`.camera`: the pinhole street camera.
- :mod:`.signs`: the five sign glyphs (front and back).
- :mod:`.objects`: trees, lamps, sign posts, cars, people, riders.
- :mod:`.scene`: the scene model and :func:`render_scene`.
- :mod:`.layout`: random scenes (:func:`sample_scene`, the three styles).
- :mod:`.labels`: parts -> dataset label ids, palettes.
- :mod:`.writers`: the three on-disk formats.
- :mod:`.demo_data`: :func:`make_demo_data`, the whole benchmark
  (``tools/make_demo_data.py`` is its command line).
"""
from mmhier.demo.demo_data import (DemoDataConfig, largest_remainder,
                                                 make_demo_data, plan_gtsdb_signs)
from mmhier.demo.camera import Camera
from mmhier.demo.canvas import Canvas
from mmhier.demo.labels import (PART, PARTS, SyntheticDataError, colourise,
                                              dataset_palette, part_label_table,
                                              sign_box_classes)
from mmhier.demo.layout import (CITY_STYLE, GTSDB_STYLE, VISTAS_STYLE,
                                              SceneStyle, sample_scene)
from mmhier.demo.objects import SignInstance
from mmhier.demo.scene import Rendering, Scene, render_scene
from mmhier.demo.signs import SIGN_SHAPES, SIGN_TYPES, sign_glyph
from mmhier.demo.writers import (CityscapesWriter, GTSDBWriter, VistasWriter,
                                               write_palette_png, write_ppm)

__all__ = [
    'CITY_STYLE', 'Camera', 'Canvas', 'CityscapesWriter', 'DemoDataConfig', 'GTSDBWriter',
    'GTSDB_STYLE', 'PART', 'PARTS', 'Rendering', 'SIGN_SHAPES', 'SIGN_TYPES', 'Scene',
    'SceneStyle', 'SignInstance', 'SyntheticDataError', 'VISTAS_STYLE', 'VistasWriter',
    'colourise', 'dataset_palette', 'largest_remainder', 'make_demo_data',
    'part_label_table', 'plan_gtsdb_signs', 'render_scene', 'sample_scene',
    'sign_box_classes', 'sign_glyph', 'write_palette_png', 'write_ppm'
]
