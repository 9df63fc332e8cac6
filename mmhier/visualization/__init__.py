"""Colours and pictures of taxonomy predictions: a palette derived from the
tree, overlays of node maps on images, and legends that show the hierarchy.

Needs numpy and matplotlib (Agg, no display), not torch or mmseg.
"""
from mmhier.visualization.overlay import (colorize, legend_image, legend_rows, overlay,
                                          render_prediction)
from mmhier.visualization.palette import (hierarchical_palette,
                                          hierarchical_palette_oklab, srgb_to_oklab)

__all__ = [
    'colorize', 'hierarchical_palette', 'hierarchical_palette_oklab', 'legend_image',
    'legend_rows', 'overlay', 'render_prediction', 'srgb_to_oklab'
]
