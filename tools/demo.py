"""The embedded demo: hierarchical vs flat on three heterogeneous datasets.

One command, on a CPU:

1. writes a synthetic street-scene benchmark in the real on-disk formats of
   Cityscapes (coarse per-pixel labels), Mapillary Vistas (fine per-pixel
   labels) and GTSDB (sign boxes only), labelled through
   ``taxonomies/tiny_street.yaml`` (``tools/make_demo_data.py``);
2. trains a hierarchical model (``configs/demo/hier_tiny_street.py``) and a
   flat model over the same classes (``configs/demo/flat_tiny_street.py``)
   with the same small backbone, data and schedule (``tools/train.py``);
3. evaluates both per dataset (in each dataset's own label space), per level
   and per classifier (``tools/test.py``, ``HierarchicalIoUMetric``);
4. writes ``report.md`` with the comparison tables, prediction overlays of
   both models on validation images and the taxonomy picture.

The claim to look at is the paper's direction: the fine classes that no single
dataset labels together (lane markings, the two rider types, sign front/back,
the sign types that only GTSDB boxes name) are learnt by the hierarchical
model, while the flat model's classes compete with their own superclasses.
Seeded and reproducible; ``--quick`` runs a few iterations (for CI).

Usage:
    python tools/demo.py [--out work_dirs/demo] [--iters 1300] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

TAXONOMY = 'taxonomies/tiny_street.yaml'
MODELS = {'hier': 'configs/demo/hier_tiny_street.py',
          'flat': 'configs/demo/flat_tiny_street.py'}
_PROGRESS = re.compile(r'Iter\(train\) \[\s*\d+/\d+\]|eta: \S+|(?<!_)time: \S+|(?<!_)loss: \S+')
#: Fine classes worth a row of their own: (dataset, class name).
FINE_CLASSES = [('vistas_like', 'lane marking'), ('vistas_like', 'bicyclist'),
                ('vistas_like', 'motorcyclist'), ('vistas_like', 'traffic sign back'),
                ('vistas_like', 'traffic sign front'), ('gtsdb_like', 'stop'),
                ('gtsdb_like', 'give way'), ('gtsdb_like', 'speed limit'),
                ('gtsdb_like', 'keep right'), ('gtsdb_like', 'keep left')]


def log(message: str) -> None:
    print(f'[demo {time.strftime("%H:%M:%S")}] {message}', flush=True)


def run(command: list[str], env: dict, log_file: Path, show: str = 'Iter(') -> None:
    """Run a tool, keep its full output in ``log_file`` and echo progress lines.

    Raises:
        SystemExit: The tool failed (its last lines are printed).
    """
    with open(log_file, 'w') as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        tail: list[str] = []
        for line in process.stdout:
            out.write(line)
            tail = (tail + [line])[-30:]
            if show and show in line:
                print('   ' + _short(line), flush=True)
        if process.wait():
            sys.stdout.write(''.join(tail))
            raise SystemExit(f'demo: {" ".join(command[1:3])} failed; log: {log_file}')


def _short(line: str) -> str:
    """An mmengine progress line without the per-classifier details."""
    found = [m.group(0) for m in _PROGRESS.finditer(line)]
    return '  '.join(found) if found else line.strip()[:120]


def make_data(out: Path, seed: int, quick: bool) -> Path:
    from mmhier.demo import DemoDataConfig, make_demo_data
    data = out / 'data'
    counts = dict(num_city=12, num_vistas=16, num_gtsdb=16, num_val=4) if quick else {}
    config = DemoDataConfig(seed=seed, taxonomy=TAXONOMY, **counts)
    stamp = data / 'demo_data.json'
    if stamp.exists() and json.loads(stamp.read_text()).get('config', {}).get('seed') == seed \
            and not quick and not (data / '.quick').exists():
        log(f'data: reusing {data}')
        return data
    log(f'data: writing the synthetic benchmark to {data}')
    if data.exists():
        import shutil
        shutil.rmtree(data)
    make_demo_data(data, config, progress=None)
    if quick:
        (data / '.quick').touch()
    return data


def train_and_test(name: str, out: Path, iters: int, seed: int, env: dict) -> dict:
    """Train one model, evaluate it; returns the metric report."""
    config = MODELS[name]
    work = out / name
    work.mkdir(parents=True, exist_ok=True)
    options = [f'train_cfg.max_iters={iters}', f'param_scheduler.0.end={iters}',
               f'train_cfg.val_interval={iters + 1}',
               f'default_hooks.checkpoint.interval={iters}',
               f'default_hooks.logger.interval={max(1, min(50, iters // 10))}',
               f'randomness.seed={seed}']
    if name == 'hier':  # box pseudo labels refined after 40 % of training
        options.append(f'model.decode_head.loss_decode.refine_start_iter={iters * 2 // 5}')
    log(f'{name}: training {iters} iterations ({config})')
    start = time.time()
    run([sys.executable, 'tools/train.py', config, '--work-dir', str(work),
         '--cfg-options', *options], env, work / 'train.log')
    log(f'{name}: trained in {time.time() - start:.0f} s; evaluating')
    metrics = work / 'metrics.json'
    run([sys.executable, 'tools/test.py', config, str(work / f'iter_{iters}.pth'),
         '--work-dir', str(work / 'test'), '--cfg-options',
         f'test_evaluator.output_file={metrics}'], env, work / 'test.log', show='')
    return json.loads(metrics.read_text())


def predict_images(name: str, out: Path, iters: int, images: list[str], env: dict) -> Path:
    target = out / 'predictions' / name
    run([sys.executable, 'tools/infer.py', MODELS[name], str(out / name / f'iter_{iters}.pth'),
         *images, '--out', str(target)], env, out / name / 'infer.log', show='')
    return target


def validation_images(data: Path) -> list[str]:
    """One validation image per synthetic dataset (the first of each)."""
    patterns = ['city_like/leftImg8bit/val/*/*.png', 'vistas_like/validation/images/*.jpg',
                'gtsdb_like/FullIJCNN2013/006*.ppm']
    images = []
    for pattern in patterns:
        found = sorted(data.glob(pattern))
        if found:
            images.append(str(found[0]))
    return images


def _score(report: dict, dataset: str, cls: str) -> Optional[float]:
    entry = report['datasets'].get(dataset)
    if entry is None or cls not in entry['classes']:
        return None
    return entry['IoU'][entry['classes'].index(cls)]


def _fmt(value: Optional[float]) -> str:
    return '-' if value is None or value != value else f'{value:.1f}'


def comparison_tables(reports: dict[str, dict]) -> str:
    """Markdown tables: per dataset, per level, fine classes; hier vs flat."""
    hier, flat = reports['hier'], reports['flat']
    lines = ['| dataset (own label space) | hier mIoU | flat mIoU | hier mPA | flat mPA |',
             '|---|---|---|---|---|']
    for key in hier['datasets']:
        h, f = hier['datasets'][key], flat['datasets'].get(key, {})
        lines.append(f"| {key} | {_fmt(h['mIoU'])} | {_fmt(f.get('mIoU'))} | "
                     f"{_fmt(h['mPA'])} | {_fmt(f.get('mPA'))} |")
    lines += ['', '| level (all datasets) | hier mIoU | flat mIoU | hier mPA | flat mPA |',
              '|---|---|---|---|---|']
    for level in hier.get('levels', {}):
        h, f = hier['levels'][level], flat.get('levels', {}).get(level, {})
        lines.append(f"| L{level} | {_fmt(h['mIoU'])} | {_fmt(f.get('mIoU'))} | "
                     f"{_fmt(h['mPA'])} | {_fmt(f.get('mPA'))} |")
    lines += ['', '| fine class (dataset) | hier IoU | flat IoU |', '|---|---|---|']
    for dataset, cls in FINE_CLASSES:
        lines.append(f'| {cls} ({dataset}) | {_fmt(_score(hier, dataset, cls))} | '
                     f'{_fmt(_score(flat, dataset, cls))} |')
    return '\n'.join(lines)


def write_report(out: Path, reports: dict[str, dict], predictions: dict[str, Path],
                 seconds: float, iters: int) -> Path:
    from mmhier.taxonomy import load_taxonomy
    from mmhier.taxonomy.export import draw_png
    draw_png(load_taxonomy(TAXONOMY), out / 'taxonomy.png')
    tables = comparison_tables(reports)
    parts = [
        '# mmhier demo: hierarchical vs flat', '',
        f'Synthetic Cityscapes-like (coarse), Vistas-like (fine) and GTSDB-like '
        f'(boxes) data, {iters} iterations per model, batch 4 = 1 : 2 : 1, same '
        f'MobileNetV2 backbone. Wall time {seconds / 60:.1f} min.', '',
        tables, '', '![taxonomy](taxonomy.png)', '']
    for name, folder in predictions.items():
        parts.append(f'## {name} predictions')
        for image in sorted(folder.glob('*_overlay.png')):
            parts.append(f'![{name} {image.stem}]({image.relative_to(out).as_posix()})')
        parts.append('')
    report = out / 'report.md'
    report.write_text('\n'.join(parts))
    print('\n' + tables + '\n', flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='work_dirs/demo', help='output folder')
    parser.add_argument('--iters', type=int, default=1300, help='iterations per model')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--quick', action='store_true',
                        help='tiny data and a few iterations (a smoke test)')
    args = parser.parse_args()
    start = time.time()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    iters = 4 if args.quick else args.iters
    data = make_data(out, args.seed, args.quick)
    env = dict(os.environ, DEMO_DATA_ROOT=str(data), PYTHONUNBUFFERED='1')
    reports, predictions = {}, {}
    images = validation_images(data)
    for name in MODELS:
        reports[name] = train_and_test(name, out, iters, args.seed, env)
        predictions[name] = predict_images(name, out, iters, images, env)
    report = write_report(out, reports, predictions, time.time() - start, iters)
    log(f'done in {(time.time() - start) / 60:.1f} min: {report}')


if __name__ == '__main__':
    main()
