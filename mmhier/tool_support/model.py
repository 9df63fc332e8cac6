"""A tool's model: the segmentor of a config with the weights of a
checkpoint, in the order every tool needs them.

1. :func:`read_model_checkpoint`: the checkpoint is checked
   (:func:`~mmhier.tool_support.checkpoints.check_checkpoint`) and its
   embedded taxonomies registered *before* the model is built, so a config
   whose taxonomy file is missing on this machine still builds (a file that
   exists but differs is refused when the weights load);
2. :func:`build_model`: the model is built through mmseg's registry, checked
   by the tool (the model type it needs), and the weights are checked to fit
   and loaded (``module.`` prefixes of DDP checkpoints stripped; a checkpoint
   of another taxonomy raises :class:`~mmhier.taxonomy.TaxonomyMismatchError`).

``tools/infer.py`` and ``tools/export.py`` (:mod:`mmhier.deploy.loading`) use
both; what MMSeg's ``init_model`` does, with mmhier's checks.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

from mmhier.tool_support.checkpoints import (check_checkpoint, check_fits_model,
                                             register_checkpoint_taxonomies,
                                             state_dict_of, strip_module)

if TYPE_CHECKING:   # torch is imported when a model is built, not with the tools' CLI
    from torch import nn


def read_model_checkpoint(checkpoint: Optional[str]) -> Optional[dict]:
    """Read and check a tool's CHECKPOINT argument and register its embedded
    taxonomies (call before the model is built).

    Args:
        checkpoint: Checkpoint file; ``None`` or a URL: nothing is read.

    Returns:
        The loaded checkpoint, or ``None`` if nothing was read.

    Raises:
        CheckpointNotFoundError: The checkpoint does not exist.
        CheckpointError: It cannot be read.
        TaxonomyError: An embedded taxonomy is invalid.
    """
    weights = check_checkpoint(checkpoint, purpose='CHECKPOINT argument')
    if weights is not None:
        register_checkpoint_taxonomies(weights, origin=checkpoint)
    return weights


def build_model(cfg: Any, checkpoint: Optional[str], weights: Optional[Mapping] = None,
                device: str = 'cpu',
                check_model: Optional[Callable[[nn.Module], None]] = None) -> nn.Module:
    """The segmentor of ``cfg`` with the weights of ``checkpoint``, in eval
    mode on ``device``, with the config in ``model.cfg`` (as
    ``mmseg.apis.init_model``; class names and colours come from the
    taxonomy, so the checkpoint's ``dataset_meta`` is not needed).

    Args:
        cfg: The :class:`mmengine.config.Config` (``train_cfg`` is dropped).
        checkpoint: Checkpoint file (a URL is downloaded by MMEngine;
            ``None``: the initial weights).
        weights: ``checkpoint`` as :func:`read_model_checkpoint` read it
            (read here if not given).
        device: Device of the model.
        check_model: Called with the built model before any weight is
            loaded; raises if the tool cannot use it.

    Returns:
        The segmentor.

    Raises:
        CheckpointNotFoundError: The checkpoint does not exist.
        CheckpointError: It cannot be read or its weights do not fit.
        TaxonomyMismatchError: It was trained with another taxonomy.
    """
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint, load_state_dict
    from mmseg.registry import MODELS

    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cfg.model.train_cfg = None
    model = MODELS.build(cfg.model)
    if check_model is not None:
        check_model(model)
    if checkpoint is not None:
        if weights is None:
            weights = check_checkpoint(checkpoint, purpose='CHECKPOINT argument')
        if weights is None:   # a URL: MMEngine downloads it
            load_checkpoint(model, checkpoint, map_location='cpu')
        else:
            check_fits_model(checkpoint, weights, model)
            load_state_dict(model, {strip_module(k): v
                                    for k, v in state_dict_of(weights).items()})
    model.cfg = cfg   # inference_model reads cfg.test_pipeline
    return model.to(device).eval()
