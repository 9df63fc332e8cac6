"""Export a trained taxonomy model as one graph: image pixels in, taxonomy
node ids (and/or scores) out, for ONNX Runtime, TensorRT or torch.export.

::

    python tools/export.py CONFIG CHECKPOINT --out FILE
                           [--format onnx|exported-program] [--dynamic]
                           [--shape H W] [--output nodes|scores|both]
                           [--level N] [--stop-at NODE [NODE ...]]
                           [--opset N] [--input-order bgr|rgb]
                           [--verify] [--verify-image IMAGE]
                           [--cfg-options KEY=VALUE ...] [--debug]

The graph holds the config's data preprocessing (channel order, mean/std),
backbone, neck, decode head, the bilinear upsampling to the input size and
the head's decision (:class:`mmhier.deploy.DeployableSegmentor`):

- input ``image``: float32 ``(N, 3, H, W)``, pixel values 0..255, BGR as
  ``cv2.imread`` / MMSeg's ``LoadImageFromFile`` load them (``--input-order
  rgb`` for RGB images);
- output ``nodes``: int64 ``(N, H, W)`` taxonomy node ids, as
  ``TaxonomyEncoderDecoder.predict`` gives them; ``scores``: float32
  ``(N, num_outputs, H, W)``, path probabilities of the output nodes
  (softmax probabilities for ``FlatTaxonomyHead``).

``--dynamic`` makes batch, height and width dynamic (the output always has
the input's size); without it the graph is fixed to ``--shape`` (default:
the config's ``data_preprocessor.size``, else 512 1024) and batch 1.
``--level N`` / ``--stop-at NODE ...`` set the level of detail
(``HierarchicalDecodeHead``'s ``output_level`` / ``output_stop_at``,
replacing the config's). The taxonomy's node names, parents, levels and
palette, the taxonomy record and the input/output description are stored in
the ONNX ``metadata_props`` (``mmhier.*``, JSON values) or, for an exported
program (``.pt2``), inside it and in ``FILE.json``.

``--verify`` runs the exported model (onnxruntime, or the loaded program)
and PyTorch eager (the config's data preprocessor + ``model.predict``) on
the export size and, for dynamic graphs, on a size that is not a multiple of
8 and one larger than the export size (batch 2 at the first), and reports the
share of identical node ids and the eager margin at every difference; it
fails unless every size has >= 99.99 % identical pixels and every difference
is a near-tie.

Exit status: 0 written (and verified); 1 a user error, printed as one line
on stderr (``error: <config>[:<line>]: ...`` for config mistakes, ``error:
checkpoint <file>: ...``, a model without an mmhier head, an unsupported
opset, a checkpoint of another taxonomy, a missing ``deploy`` extra), or a
failed verification; 2 bad usage. ``--debug`` (or ``MMHIER_DEBUG=1``) also
prints the traceback.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script without installing mmhier
    sys.path.insert(0, str(REPO_ROOT))

from mmhier.deploy.errors import ExportError, ParityError  # noqa: E402
from mmhier.deploy.exporting import DEFAULT_OPSET, FORMATS  # noqa: E402
from mmhier.deploy.model import CHANNEL_ORDERS, OUTPUT_CHOICES  # noqa: E402
from mmhier.tool_support import (add_cfg_options_argument, add_debug_argument,  # noqa: E402
                                 run_tool)

#: Export size when neither --shape nor the config's data_preprocessor.size gives one.
FALLBACK_SHAPE = (512, 1024)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description='Export a taxonomy model (preprocessing, backbone, head, upsampling and '
        'decision) to ONNX or a torch.export program')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', required=True, help='output file (.onnx, or .pt2 for '
                        '--format exported-program)')
    parser.add_argument('--format', choices=FORMATS, default='onnx',
                        help='onnx (default) or exported-program (torch.export, .pt2)')
    parser.add_argument('--dynamic', action='store_true',
                        help='dynamic batch, height and width')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='export (example) size; default: the config\'s '
                        'data_preprocessor.size, else 512 1024')
    parser.add_argument('--output', choices=tuple(OUTPUT_CHOICES), default='nodes',
                        help='graph outputs: node ids (default), scores, or both')
    parser.add_argument('--level', type=int, default=None,
                        help='predict down to this level only (1 = the root\'s children)')
    parser.add_argument('--stop-at', nargs='+', metavar='NODE', default=None,
                        help='stop the decision at these nodes')
    parser.add_argument('--opset', type=int, default=None,
                        help=f'ONNX opset (default {DEFAULT_OPSET})')
    parser.add_argument('--input-order', choices=CHANNEL_ORDERS, default='bgr',
                        help='channel order of the input images (default bgr, as cv2 and '
                        'MMSeg load them)')
    parser.add_argument('--verify', action='store_true',
                        help='compare the export with PyTorch eager on several sizes')
    parser.add_argument('--verify-image', default=None, metavar='IMAGE',
                        help='image for --verify (default: synthetic scenes)')
    add_cfg_options_argument(parser)
    add_debug_argument(parser)
    return parser.parse_args(argv)


def check_inputs(args: argparse.Namespace) -> None:
    """Check files and options before anything is built.

    Raises:
        FileNotFoundError: The config or the verification image is missing.
        ExportError: ``--opset`` with an exported program, a size below 1,
            ``--level`` below 1.
        UnsupportedOpsetError: ``--opset`` outside the supported range.
    """
    from mmhier.deploy.exporting import check_opset
    for path in (args.config, args.verify_image):
        if path is not None and not osp.isfile(path):
            raise FileNotFoundError(f'{path!r} does not exist')
    if args.format == 'exported-program' and args.opset is not None:
        raise ExportError('--opset applies to --format onnx only')
    if args.format == 'onnx':
        check_opset(DEFAULT_OPSET if args.opset is None else args.opset)
    if args.shape is not None and min(args.shape) < 1:
        raise ExportError(f'--shape must be positive, got {args.shape[0]} {args.shape[1]}')
    if args.level is not None and args.level < 1:
        raise ExportError(f'--level must be >= 1, got {args.level}')


def export_shape(args: argparse.Namespace, cfg) -> tuple[int, int]:
    """``--shape``, else the config's ``data_preprocessor.size``, else
    :data:`FALLBACK_SHAPE`."""
    if args.shape is not None:
        return tuple(args.shape)
    size = (cfg.model.get('data_preprocessor') or {}).get('size')
    return tuple(int(s) for s in size) if size else FALLBACK_SHAPE


def run(args: argparse.Namespace) -> int:
    """Export (and verify); returns the exit status."""
    check_inputs(args)
    from mmhier.deploy import (DeployableSegmentor, ExportedModel, deploy_config,
                               deploy_metadata, export_program, load_deploy_model,
                               report_lines, save_exported_program, save_onnx,
                               verification_sizes, verify)
    from mmhier.deploy.exporting import input_size_range

    cfg = deploy_config(args.config, args.cfg_options, args.level, args.stop_at)
    model = load_deploy_model(cfg, args.checkpoint)
    wrapper = DeployableSegmentor(model, OUTPUT_CHOICES[args.output], args.input_order)
    size = export_shape(args, cfg)
    start = time.perf_counter()
    program = export_program(wrapper, size, args.dynamic, args.format)
    ranges = input_size_range(program)
    min_size = (ranges['height'][0], ranges['width'][0])
    metadata = deploy_metadata(wrapper, export_size=size, dynamic=args.dynamic,
                               min_size=min_size if args.dynamic else None,
                               source={'config': args.config,
                                       'checkpoint': osp.basename(args.checkpoint)})
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    extra = ''
    if args.format == 'onnx':
        opset = DEFAULT_OPSET if args.opset is None else args.opset
        save_onnx(program, args.out, wrapper.outputs, opset, metadata)
        extra = f', opset {opset}'
    else:
        extra = f', metadata also in {save_exported_program(program, args.out, metadata)}'
    head = wrapper.head
    shape = (f'N x 3 x H x W, H >= {min_size[0]}, W >= {min_size[1]}' if args.dynamic
             else f'1 x 3 x {size[0]} x {size[1]}')
    print(f'wrote {args.out} ({args.format}{extra}; input image: float32 {shape}, '
          f'{wrapper.preprocessing.input_order.upper()} 0..255; outputs: '
          f'{", ".join(wrapper.outputs)}; {len(head.output_nodes)} output nodes of taxonomy '
          f'{head.taxonomy.name!r}; {time.perf_counter() - start:.1f} s)')
    if not args.verify:
        return 0
    image = None
    if args.verify_image is not None:
        from mmhier.datasets import read_image
        image = read_image(args.verify_image, channel_order=args.input_order)
    exported = ExportedModel(args.out, args.format)
    results = verify(wrapper, exported, verification_sizes(size, args.dynamic),
                     batch=2 if args.dynamic else 1, image=image)
    for line in report_lines(results, exported.runtime):
        print(line)
    failed = [r for r in results if not r.passed]
    if failed:
        raise ParityError(f'{args.out}: verification failed at '
                          f'{", ".join(f"{r.size[0]}x{r.size[1]}" for r in failed)} '
                          '(see the report above)')
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the export; returns the exit status."""
    args = parse_args(argv)
    return run_tool(lambda: run(args), config=args.config, cfg_options=args.cfg_options,
                    debug=args.debug)


if __name__ == '__main__':
    sys.exit(main())
