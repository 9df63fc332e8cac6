"""MMSeg's inference API for models whose taxonomy travels in the checkpoint.

MMSeg's ``init_model(config, checkpoint)`` builds the model from the config
*before* it reads the checkpoint, so a config naming a taxonomy file that is
not on this machine fails although the checkpoint carries the taxonomy.
:func:`init_model` here registers the checkpoint's embedded taxonomies first
(:func:`register_checkpoint_taxonomies`) and then calls MMSeg's; the result
is MMSeg's model, to use with ``inference_model`` and ``show_result_pyplot``.
Call :func:`register_checkpoint_taxonomies` yourself before any other MMSeg
API that builds a model from a config (``MMSegInferencer``).
"""
from __future__ import annotations

from typing import Any, Optional

from mmhier.tool_support.checkpoints import register_checkpoint_taxonomies

__all__ = ['init_model', 'register_checkpoint_taxonomies']


def init_model(config: Any, checkpoint: Optional[str] = None, device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> Any:
    """``mmseg.apis.init_model`` that uses the checkpoint's embedded taxonomy
    where the config's taxonomy file does not exist.

    Args:
        config: Config file path or :class:`mmengine.Config`.
        checkpoint: Checkpoint file.
        device: Device of the model.
        cfg_options: Options merged into the config.

    Returns:
        The segmentor in eval mode. Its ``dataset_meta`` names and colours
        taxonomy nodes (``classes`` = node names, ``palette`` = the
        hierarchical palette), the values its predictions hold, whatever the
        checkpoint's meta says.
    """
    from mmseg.apis import init_model as mmseg_init_model

    from mmhier.tool_support import register_mmhier
    register_mmhier()
    from mmhier.models import TaxonomyEncoderDecoder
    from mmhier.taxonomy.palette import hierarchical_palette
    if checkpoint is not None:
        register_checkpoint_taxonomies(checkpoint)
    # For a checkpoint without dataset_meta MMSeg warns and falls back to
    # Cityscapes' classes; for taxonomy models they are replaced below.
    model = mmseg_init_model(config, checkpoint, device=device, cfg_options=cfg_options)
    if isinstance(model, TaxonomyEncoderDecoder):
        taxonomy = model.decode_head.taxonomy
        model.dataset_meta = {'classes': taxonomy.nodes,
                              'palette': hierarchical_palette(taxonomy).tolist()}
    return model
