"""The hierarchical palette, for pictures (re-exported).

The palette lives in :mod:`mmhier.taxonomy.palette` (numpy only), so that
datasets, models and tools can use the same colours without importing this
package; its colour-space helpers live in :mod:`mmhier.taxonomy.oklab`.
"""
from mmhier.taxonomy.oklab import (gamut_map, mix_srgb8, oklab_to_linear_rgb,
                                   oklab_to_srgb8, srgb_to_oklab)
from mmhier.taxonomy.palette import (ASPHALT_GREYS, MIN_ASPHALT_DISTANCE,
                                     MIN_SIBLING_DISTANCE, OVERLAY_ALPHA, ROOT_COLOUR,
                                     asphalt_distance, hierarchical_palette,
                                     hierarchical_palette_oklab, level1_colours)

__all__ = [
    'ASPHALT_GREYS', 'MIN_ASPHALT_DISTANCE', 'MIN_SIBLING_DISTANCE', 'OVERLAY_ALPHA',
    'ROOT_COLOUR', 'asphalt_distance', 'gamut_map', 'hierarchical_palette',
    'hierarchical_palette_oklab', 'level1_colours', 'mix_srgb8', 'oklab_to_linear_rgb',
    'oklab_to_srgb8', 'srgb_to_oklab'
]
