"""mmhier: label hierarchies and hierarchical heads for MMSegmentation.

Importing :mod:`mmhier` or :mod:`mmhier.taxonomy` is light: it needs neither
torch nor mmseg. The MMSegmentation parts (heads, losses, datasets, metrics)
live in their own subpackages and register themselves into ``mmseg.registry``
when imported, e.g. through a config's ``custom_imports``.
"""
from mmhier.version import __version__

__all__ = ['__version__']
