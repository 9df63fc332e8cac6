"""ONNX Runtime (CPU) against PyTorch eager (CPU): latency of the deployed
graph, side by side, and its parity at the same time.

Models (random weights, ``pretrained=None``; batch-norm statistics of a few
synthetic images, so that decisions vary over an image as a trained model's
do):

- ``demo``: ``configs/demo/hier_tiny_street.py`` (the demo's model and
  taxonomy);
- ``r50``: ``configs/hier/resnet50_d8_cs_vistas_gtsdb.py`` (the paper's
  ResNet-50-D8 with the 108-class hierarchical head).

Each model is exported as ``tools/export.py CONFIG CKPT --dynamic`` does it
(output: node ids) and timed at ``--size`` (default 512x1024), batch 1, best
of ``--repeat`` after a warm-up:

- ``eager``: the same computation in PyTorch eager (``DeployableSegmentor``:
  preprocessing, backbone, head, the head's banded ``decide``);
- ``predict``: what MMSeg users run, the config's ``data_preprocessor`` and
  ``model.predict`` (adds the one-hot scores and MMSeg's post-processing);
- ``onnxruntime``: the exported ONNX file (CPU execution provider).

Both runtimes use ``--threads`` threads (default: torch's). Ratios are
onnxruntime / eager (< 1: onnxruntime faster). Parity: ``--verify``'s check
(:func:`mmhier.deploy.verify`) at the export size, a size not a multiple of 8
and a larger one.

Usage:
    python benchmarks/export_speed.py [--models demo r50] [--size 512 1024]
                                      [--repeat 3] [--threads N] [--no-parity]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import torch
from timing import best_time

from mmhier.deploy import (DeployableSegmentor, ExportedModel, calibrate_batch_norm,
                           deploy_config, deploy_metadata, export_program, load_deploy_model,
                           report_lines, save_onnx, verification_sizes, verify)
from mmhier.deploy.verify import sample_images

CONFIGS = {'demo': 'configs/demo/hier_tiny_street.py',
           'r50': 'configs/hier/resnet50_d8_cs_vistas_gtsdb.py'}


def random_model(config: str, size: tuple[int, int]) -> torch.nn.Module:
    """The config's model with random weights and batch-norm statistics of
    four synthetic images at ``size`` (two, and the same flipped)."""
    torch.manual_seed(0)
    model = load_deploy_model(deploy_config(config), None)
    images = sample_images(size, 2, seed=100)
    return calibrate_batch_norm(model, [images, images[..., ::-1].copy()])


def measure(name: str, size: tuple[int, int], image: np.ndarray, args, tmp: str) -> dict:
    """Export one model, time it both ways and print its parity."""
    model = random_model(CONFIGS[name], size)
    wrapper = DeployableSegmentor(model, ('nodes',))
    start = time.perf_counter()
    program = export_program(wrapper, size, dynamic=True)
    path = os.path.join(tmp, f'{name}.onnx')
    save_onnx(program, path, wrapper.outputs, 18,
              deploy_metadata(wrapper, export_size=size, dynamic=True))
    export_s = time.perf_counter() - start
    exported = ExportedModel(path, threads=args.threads)
    tensor = torch.from_numpy(image)

    def eager() -> torch.Tensor:
        with torch.no_grad():
            return wrapper(tensor)

    def predict() -> list:
        with torch.no_grad():
            data = model.data_preprocessor(dict(inputs=[tensor[0]]), False)
            return model.predict(data['inputs'])

    same = np.array_equal(exported(image)['nodes'], eager().numpy())
    print(f'{name}: {CONFIGS[name]}, {len(wrapper.output_nodes)} output nodes, exported in '
          f'{export_s:.0f} s; node ids at {size[0]}x{size[1]} '
          f'{"identical" if same else "DIFFER"}', flush=True)
    times = {'eager': best_time(eager, args.repeat),
             'predict': best_time(predict, args.repeat),
             'onnxruntime': best_time(lambda: exported(image), args.repeat)}
    if not args.no_parity:
        results = verify(wrapper, exported, verification_sizes(size, True))
        for line in report_lines(results, exported.runtime):
            print(line, flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', choices=tuple(CONFIGS), default=list(CONFIGS))
    parser.add_argument('--size', type=int, nargs=2, default=(512, 1024), metavar=('H', 'W'))
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--no-parity', action='store_true', help='timings only')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size = tuple(args.size)
    image = sample_images(size, 1, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        rows = {name: measure(name, size, image, args, tmp) for name in args.models}
    print(f'\nCPU, {args.threads} thread(s), batch 1, {size[0]}x{size[1]}, best of '
          f'{args.repeat}; torch {torch.__version__}')
    print(f'{"model":<6} {"eager [ms]":>11} {"predict [ms]":>13} {"onnxruntime [ms]":>17} '
          f'{"ort/eager":>10} {"ort/predict":>12}')
    for name, times in rows.items():
        print(f'{name:<6} {times["eager"] * 1e3:>11.1f} {times["predict"] * 1e3:>13.1f} '
              f'{times["onnxruntime"] * 1e3:>17.1f} '
              f'{times["onnxruntime"] / times["eager"]:>10.2f} '
              f'{times["onnxruntime"] / times["predict"]:>12.2f}')


if __name__ == '__main__':
    main()
