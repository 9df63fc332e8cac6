"""Segment images with a trained taxonomy model and draw the hierarchy.

::

    python tools/infer.py CONFIG CHECKPOINT IMAGE [IMAGE ...] --out DIR
                          [--level N] [--device cpu|cuda:0] [--alpha 0.5]
                          [--legend-width 240] [--cfg-options KEY=VALUE ...]

For every image ``DIR/<stem>_overlay.png`` shows the prediction blended over
the image (colours from the tree: :func:`hierarchical_palette`) with a legend
on the right listing the predicted nodes and their ancestors as an indented
tree; ``DIR/<stem>_nodes.png`` holds the predicted taxonomy node ids (16-bit
PNG). ``--level N`` predicts down to level N only (the hierarchical head's
``output_level``, on top of any ``output_stop_at`` in the config; e.g.
``--level 1``: the root's children). The model must be
a ``TaxonomyEncoderDecoder`` (predictions are node ids).

CHECKPOINT is checked before it is loaded (missing, empty, truncated or
damaged, a pickle of something else, weights of another model). An image
that cannot be read (empty, truncated, not an image) is reported in one
``error:`` line naming it and skipped; the other images are still written,
and the exit status is 1.

Exit status: 0 all images written; 1 a user error, printed as one line on
stderr per problem (``error: <config>[:<line>]: ...`` for config mistakes,
``error: checkpoint <file>: ...``, ``error: <type>: <message>`` for images,
taxonomy errors and missing files), or some images skipped; 2 bad usage.
``--debug`` (or ``MMHIER_DEBUG=1``) also prints the traceback.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
from pathlib import Path
from typing import Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script without installing mmhier
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402
from mmengine.config import Config  # noqa: E402
from PIL import Image  # noqa: E402

from mmhier.tool_support import (add_cfg_options_argument,  # noqa: E402
                                 add_debug_argument, build_model, error_line, load_config,
                                 read_model_checkpoint, register_mmhier, run_tool,
                                 save_node_map)

#: Pipeline steps that read or make labels; inference has none.
ANNOTATION_TRANSFORMS = ('LoadAnnotations', 'LoadTaxonomyAnnotations',
                         'BoxesToPseudoMask', 'SwapFlippedClasses')
#: Narrowest legend panel drawn.
MIN_LEGEND_WIDTH = 40


class InferenceError(ValueError):
    """The command line does not fit the config, model or images."""


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    import torch
    parser = argparse.ArgumentParser(
        description='Segment images with a taxonomy model; write overlays with a '
        'hierarchy legend and 16-bit node-id maps')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('images', nargs='+', metavar='IMAGE', help='input images')
    parser.add_argument('--out', required=True, help='output folder (created)')
    parser.add_argument('--level', type=int, default=None,
                        help='predict down to this level only (1 = root\'s children)')
    parser.add_argument('--device', default='cuda:0' if torch.cuda.is_available()
                        else 'cpu', help='device (default: cuda:0 if available, else cpu)')
    parser.add_argument('--alpha', type=float, default=0.5,
                        help='weight of the prediction colours in the overlay (0..1)')
    parser.add_argument('--legend-width', type=int, default=240,
                        help='width of the legend panel in pixels')
    add_cfg_options_argument(parser)
    add_debug_argument(parser)
    return parser.parse_args(argv)


def check_inputs(args: argparse.Namespace) -> list[str]:
    """Output stems of the images, after checking files and options.

    Raises:
        FileNotFoundError: The config or an image does not exist (a missing
            checkpoint: :class:`CheckpointNotFoundError`, from
            :func:`~mmhier.tool_support.read_model_checkpoint`).
        InferenceError: ``--alpha`` outside ``[0, 1]``, ``--level`` below 1,
            ``--legend-width`` below :data:`MIN_LEGEND_WIDTH`, or two images
            share a file stem (their outputs would collide).
    """
    for path in (args.config, *args.images):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path!r} does not exist')
    if not 0.0 <= args.alpha <= 1.0:
        raise InferenceError(f'--alpha must be in [0, 1], got {args.alpha}')
    if args.level is not None and args.level < 1:
        raise InferenceError(f'--level must be >= 1, got {args.level}')
    if args.legend_width < MIN_LEGEND_WIDTH:
        raise InferenceError(f'--legend-width must be >= {MIN_LEGEND_WIDTH}, got '
                             f'{args.legend_width}')
    stems = [osp.splitext(osp.basename(p))[0] for p in args.images]
    seen: dict[str, str] = {}
    for stem, path in zip(stems, args.images):
        if stem in seen:
            raise InferenceError(f'{seen[stem]!r} and {path!r} would both write '
                                 f'{stem}_overlay.png; rename one or run them separately')
        seen[stem] = path
    return stems


def find_pipeline(dataset: Optional[dict]) -> Optional[list]:
    """The pipeline of a dataset config, or of the first dataset a wrapper
    (``MultiTaxonomyDataset``, ``ConcatDataset``, ``RepeatDataset``) holds."""
    if not isinstance(dataset, dict):
        return None
    if dataset.get('pipeline'):
        return dataset['pipeline']
    inner = dataset.get('datasets') or [dataset.get('dataset')]
    return find_pipeline(inner[0])


def inference_config(args: argparse.Namespace) -> Config:
    """The config prepared for inference: options merged, level of detail
    set, no pretrained weights, annotation steps removed from the pipeline
    (``test_pipeline``, else that of the (first) test dataset).

    Raises:
        ConfigError: The config or an option is wrong.
        InferenceError: ``--level`` with a head that has no levels of detail, or
            a config without a model or test pipeline.
    """
    from mmhier.models import HierarchicalDecodeHead
    from mmseg.registry import MODELS
    cfg = load_config(args.config, args.cfg_options)
    model = cfg.get('model')
    if not isinstance(model, dict) or not isinstance(model.get('decode_head'), dict):
        raise InferenceError(f'{args.config}: needs a model with a decode_head '
                             "(model=dict(type='TaxonomyEncoderDecoder', ..., "
                             'decode_head=dict(...)))')
    if args.level is not None:
        head = model.decode_head
        head_type = head.get('type')
        head_cls = MODELS.get(head_type) if isinstance(head_type, str) else head_type
        if head_cls is not None and not (isinstance(head_cls, type)
                                         and issubclass(head_cls, HierarchicalDecodeHead)):
            raise InferenceError(f'--level needs a HierarchicalDecodeHead, the config\'s '
                                 f'decode_head is {head_type!r}')
        head.output_level = args.level
    model.pretrained = None
    for part in ('backbone', 'neck', 'decode_head', 'auxiliary_head'):
        if isinstance(model.get(part), dict):
            model[part].pop('init_cfg', None)
    pipeline = cfg.get('test_pipeline')
    if pipeline is None and cfg.get('test_dataloader') is not None:
        pipeline = find_pipeline(cfg.test_dataloader.get('dataset'))
    if not pipeline:
        raise InferenceError(f'{args.config}: needs a test_pipeline (e.g. '
                             "[dict(type='LoadImageFromFile'), dict(type='Resize', ...), "
                             "dict(type='PackSegInputs')])")
    cfg.test_pipeline = [t for t in pipeline if t.get('type') not in ANNOTATION_TRANSFORMS]
    return cfg


def check_level(level: Optional[int], taxonomy) -> None:
    """Raise :class:`InferenceError` unless ``level`` is ``None`` or a level of
    ``taxonomy`` (a :class:`~mmhier.taxonomy.Taxonomy`)."""
    if level is not None and not 1 <= level <= taxonomy.num_levels:
        raise InferenceError(f'--level {level}: taxonomy {taxonomy.name!r} has levels '
                             f'1..{taxonomy.num_levels}')


def check_taxonomy_model(model: object) -> None:
    """Raise :class:`InferenceError` unless ``model`` predicts taxonomy node
    ids (a ``TaxonomyEncoderDecoder``)."""
    from mmhier.models import TaxonomyEncoderDecoder
    if not isinstance(model, TaxonomyEncoderDecoder):
        raise InferenceError(f'model type {type(model).__name__} does not predict '
                             'taxonomy node ids; use TaxonomyEncoderDecoder')


def run(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """Segment the images and write the outputs.

    An image that cannot be read is reported (one ``error:`` line on
    stderr) and skipped.

    Returns:
        The written files (two per image) and the skipped images.
    """
    register_mmhier()
    from mmseg.apis import inference_model

    from mmhier.datasets import read_image
    from mmhier.datasets.errors import DatasetError
    from mmhier.taxonomy import load_taxonomy
    from mmhier.visualization import hierarchical_palette, render_prediction

    stems = check_inputs(args)
    cfg = inference_config(args)
    # Read the checkpoint before building: where the config's taxonomy file is
    # missing, the copy embedded in the checkpoint is used.
    weights = read_model_checkpoint(args.checkpoint)
    taxonomy_file = cfg.model.decode_head.get('taxonomy')
    if args.level is not None and taxonomy_file is not None:
        check_level(args.level, load_taxonomy(taxonomy_file))
    model = build_model(cfg, args.checkpoint, weights, args.device,
                        check_model=check_taxonomy_model)
    taxonomy = model.decode_head.taxonomy
    palette = hierarchical_palette(taxonomy)
    os.makedirs(args.out, exist_ok=True)
    written, skipped = [], []
    for path, stem in zip(args.images, stems):
        try:
            image = read_image(path, channel_order='bgr')  # as LoadImageFromFile
        except DatasetError as exc:
            print(error_line(exc), file=sys.stderr)
            skipped.append(path)
            continue
        result = inference_model(model, image)
        nodes = result.pred_sem_seg.data.squeeze(0).cpu().numpy()
        image = np.ascontiguousarray(image[..., ::-1])
        panel = render_prediction(image, nodes, taxonomy, palette, alpha=args.alpha,
                                  legend_width=args.legend_width)
        overlay_path = osp.join(args.out, f'{stem}_overlay.png')
        nodes_path = osp.join(args.out, f'{stem}_nodes.png')
        Image.fromarray(panel).save(overlay_path)
        save_node_map(nodes_path, nodes)
        names = ', '.join(taxonomy.nodes[n] for n in np.unique(nodes).tolist())
        print(f'{path}: wrote {overlay_path} ({panel.shape[1]}x{panel.shape[0]}) and '
              f'{nodes_path} (16-bit node ids; {names})')
        written += [overlay_path, nodes_path]
    if skipped:
        print(f'{len(skipped)} of {len(args.images)} images skipped (see the errors '
              'above)')
    return written, skipped


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run inference; returns the exit status (1 if images were skipped)."""
    args = parse_args(argv)
    return run_tool(lambda: 1 if run(args)[1] else 0, config=args.config,
                    cfg_options=args.cfg_options, debug=args.debug,
                    extra=(InferenceError,))


if __name__ == '__main__':
    sys.exit(main())
