"""A trained model for export: config + checkpoint, with the level of detail
chosen on the command line.

The steps of ``tools/infer.py``: the config through
:func:`~mmhier.tool_support.load_config`, the model through
:mod:`mmhier.tool_support.model` (the checkpoint checked and its embedded
taxonomy registered before the model is built, so a config whose taxonomy
file is missing still builds; the weights checked to fit and loaded; a
checkpoint of another taxonomy raises
:class:`~mmhier.taxonomy.TaxonomyMismatchError`).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from torch import nn

from mmhier.deploy.errors import ExportError, UnsupportedModelError
from mmhier.deploy.model import MMHIER_HEADS, mmhier_head


def _head_class(head_type: Any) -> Optional[type]:
    from mmseg.registry import MODELS
    return MODELS.get(head_type) if isinstance(head_type, str) else head_type


def deploy_config(config: str, cfg_options: Optional[dict] = None,
                  level: Optional[int] = None, stop_at: Optional[Sequence[str]] = None) -> Any:
    """The config prepared for export.

    The decode head must be an mmhier head; ``level`` / ``stop_at`` replace
    the head's ``output_level`` / ``output_stop_at`` (the level-of-detail
    cut of :func:`~mmhier.models.output_nodes.output_nodes`); no pretrained
    weights are loaded; inference is whole-image (``test_cfg.mode='whole'``,
    the graph has no sliding window).

    Args:
        config: Config file.
        cfg_options: ``--cfg-options``.
        level: Stop the decision at this level (1 = the root's children).
        stop_at: Stop the decision at these nodes.

    Returns:
        The :class:`mmengine.config.Config`.

    Raises:
        FileNotFoundError: The config does not exist.
        ConfigError: The config or an option is wrong.
        UnsupportedModelError: The config's decode head is not an mmhier head.
        ExportError: ``level`` / ``stop_at`` for a head without levels of detail.
    """
    from mmhier.tool_support import load_config, register_mmhier
    register_mmhier()
    cfg = load_config(config, cfg_options)
    model = cfg.get('model')
    head = model.get('decode_head') if isinstance(model, dict) else None
    if not isinstance(head, dict):
        raise UnsupportedModelError(f"{config}: needs a model with a decode_head (model=dict("
                                    "type='TaxonomyEncoderDecoder', ..., decode_head=dict("
                                    "type='HierarchicalDecodeHead', ...)))")
    head_cls = _head_class(head.get('type'))
    if not (isinstance(head_cls, type) and issubclass(head_cls, MMHIER_HEADS)):
        names = ' or '.join(h.__name__ for h in MMHIER_HEADS)
        raise UnsupportedModelError(
            f'{config}: the decode_head is {head.get("type")!r}, not an mmhier head ({names}); '
            'the exported graph ends in the taxonomy decision, which only these heads make')
    if level is not None or stop_at:
        if not issubclass(head_cls, MMHIER_HEADS[0]):
            raise ExportError(f'{config}: --level/--stop-at need a HierarchicalDecodeHead, the '
                              f'decode_head is {head.get("type")!r}')
        if level is not None:
            head.output_level = level
        if stop_at:
            head.output_stop_at = list(stop_at)
    model.pretrained = None
    model.train_cfg = None
    model.test_cfg = dict(model.get('test_cfg') or {}, mode='whole')
    for part in ('backbone', 'neck', 'decode_head', 'auxiliary_head'):
        if isinstance(model.get(part), dict):
            model[part].pop('init_cfg', None)
    return cfg


def check_level_of_detail(cfg: Any) -> None:
    """Raise :class:`ExportError` unless the head's ``output_level`` is a level
    of its taxonomy (an unknown ``output_stop_at`` node raises
    :class:`~mmhier.taxonomy.UnknownNodeError`)."""
    from mmhier.models.output_nodes import output_nodes
    from mmhier.taxonomy import load_taxonomy
    head = cfg.model.decode_head
    if head.get('output_level') is None and not head.get('output_stop_at'):
        return
    taxonomy = load_taxonomy(head.taxonomy)
    try:
        output_nodes(taxonomy, head.get('output_level'), head.get('output_stop_at'))
    except ValueError as exc:
        raise ExportError(f'--level {head.get("output_level")}: taxonomy {taxonomy.name!r} '
                          f'has levels 1..{taxonomy.num_levels}') from exc


def load_deploy_model(cfg: Any, checkpoint: Optional[str]) -> nn.Module:
    """Build the model of ``cfg`` with the weights of ``checkpoint`` on the
    CPU in eval mode (SyncBN reverted to BN), as ``tools/infer.py`` does
    (:func:`~mmhier.tool_support.read_model_checkpoint`,
    :func:`~mmhier.tool_support.build_model`), the level of detail checked
    before the model is built.

    Args:
        cfg: A config from :func:`deploy_config`.
        checkpoint: Checkpoint file (a URL is downloaded by MMEngine;
            ``None``: the initial weights).

    Returns:
        The segmentor.

    Raises:
        CheckpointNotFoundError: The checkpoint does not exist.
        CheckpointError: It cannot be read or its weights do not fit.
        TaxonomyMismatchError: It was trained with another taxonomy.
        UnsupportedModelError: The built model has no mmhier head.
        ExportError: The level of detail is not one of the taxonomy.
    """
    from mmengine.model import revert_sync_batchnorm

    from mmhier.tool_support import build_model, read_model_checkpoint
    weights = read_model_checkpoint(checkpoint)
    check_level_of_detail(cfg)
    model = build_model(cfg, checkpoint, weights, check_model=mmhier_head)
    return revert_sync_batchnorm(model).cpu().eval()
