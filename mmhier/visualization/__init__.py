"""Pictures of taxonomy labels and predictions: overlays of node and label
maps on images, legends that show the hierarchy, and MMSeg's visualizer for
them (``TaxonomySegLocalVisualizer``, registered in ``mmseg.registry.VISUALIZERS``
on import, so importing this package needs mmseg).

The colours are the taxonomy's hierarchical palette
(:mod:`mmhier.taxonomy.palette`, re-exported here), the one palette of mmhier.
"""
from mmhier.visualization.errors import (LabelMapError, VisualizationError,
                                         VisualizerConfigError,
                                         VisualizerTaxonomyMismatchError)
from mmhier.visualization.overlay import (BOX_STRIPE_WIDTH, box_stripes, colorize,
                                          label_map_nodes, label_overlay, legend_image, legend_rows,
                                          overlay, render_prediction)
from mmhier.visualization.palette import (ASPHALT_GREYS, MIN_ASPHALT_DISTANCE,
                                          MIN_SIBLING_DISTANCE, OVERLAY_ALPHA,
                                          asphalt_distance, hierarchical_palette,
                                          hierarchical_palette_oklab, srgb_to_oklab)
from mmhier.visualization.taxonomy_visualizer import TaxonomySegLocalVisualizer

__all__ = [
    'ASPHALT_GREYS', 'BOX_STRIPE_WIDTH', 'LabelMapError', 'MIN_ASPHALT_DISTANCE',
    'MIN_SIBLING_DISTANCE', 'OVERLAY_ALPHA', 'TaxonomySegLocalVisualizer',
    'VisualizationError', 'VisualizerConfigError', 'VisualizerTaxonomyMismatchError',
    'asphalt_distance', 'box_stripes', 'colorize', 'hierarchical_palette',
    'hierarchical_palette_oklab', 'label_map_nodes', 'label_overlay', 'legend_image', 'legend_rows',
    'overlay', 'render_prediction', 'srgb_to_oklab'
]
