"""The embedded demo: hierarchical vs flat on three heterogeneous datasets.

One command, on a CPU (about 15 minutes on 2 cores):

1. writes a synthetic street-scene benchmark in the real on-disk formats of
   Cityscapes (coarse per-pixel labels), Mapillary Vistas (fine per-pixel
   labels) and GTSDB (sign boxes only), labelled through
   ``taxonomies/tiny_street.yaml`` (``tools/make_demo_data.py``);
2. trains a hierarchical model (``configs/demo/hier_tiny_street.py``) and the
   paper's flat baseline (``configs/demo/flat_tiny_street.py``: one softmax
   over every labelled class) with the same backbone, data, batches, schedule
   and seed (``tools/train.py``), and evaluates both per dataset in its own
   label space, per level and per class (``tools/test.py``) - the paper's
   Tables II/III;
3. does the same in the paper's Cityscapes Extended setting (Table IV):
   Cityscapes-like + GTSDB-like training only
   (``configs/demo/{hier,flat}_city_gtsdb.py``), evaluated on the
   Cityscapes-like validation images at level 1 (signs as one class) and
   level 2 (sign fronts by type);
4. writes ``report.md``: the tables, per-class IoU, prediction overlays of
   both models, the taxonomy picture and a plain-words summary.

``--seeds N`` repeats everything for seeds ``S .. S+N-1`` (data and training)
and reports mean and standard deviation per row; ``--iters`` (the three-dataset
pair), ``--extended-iters`` (the Table IV pair) and ``--device cuda`` run the
same experiment at a larger scale. ``--quick`` runs
a few iterations on tiny data (the CI smoke test).

Usage:
    python tools/demo.py [--out work_dirs/demo] [--iters 1500]
                         [--extended-iters 700] [--seeds 1] [--seed 0]
                         [--device cpu|cuda] [--no-extended] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

TAXONOMY = 'taxonomies/tiny_street.yaml'
#: name -> (config, experiment); 'main' = three datasets, 'extended' = Table IV.
MODELS = {'hier': ('configs/demo/hier_tiny_street.py', 'main'),
          'flat': ('configs/demo/flat_tiny_street.py', 'main'),
          'hier_city_gtsdb': ('configs/demo/hier_city_gtsdb.py', 'extended'),
          'flat_city_gtsdb': ('configs/demo/flat_city_gtsdb.py', 'extended')}
MAIN_DATASETS = ('city_like', 'vistas_like', 'gtsdb_like')
#: Table IV rows: dataset key -> level label.
EXTENDED_LEVELS = {'city_like': 'L1: city_like (signs as one class)',
                   'city_ext_like': 'L2: city_ext_like (sign fronts by type)'}
_PROGRESS = re.compile(r'Iter\(train\) \[\s*\d+/\d+\]|eta: \S+|(?<!_)time: \S+|(?<!_)loss: \S+')


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


def make_data(folder: Path, seed: int, quick: bool) -> Path:
    """Write (or reuse) the synthetic benchmark of one seed."""
    from mmhier.demo import DemoDataConfig, make_demo_data
    counts = dict(num_city=12, num_vistas=16, num_gtsdb=16, num_val=4) if quick else {}
    config = DemoDataConfig(seed=seed, taxonomy=TAXONOMY, **counts)
    stamp = folder / 'demo_data.json'
    if stamp.exists() and json.loads(stamp.read_text()).get('config') == \
            json.loads(json.dumps(_asdict(config))):
        log(f'data: reusing {folder}')
        return folder
    log(f'data: writing the synthetic benchmark (seed {seed}) to {folder}')
    if folder.exists():
        shutil.rmtree(folder)
    make_demo_data(folder, config, progress=None)
    return folder


def _asdict(config) -> dict:
    from dataclasses import asdict
    return asdict(config)


def train_and_test(name: str, work: Path, iters: int, seed: int, env: dict) -> dict:
    """Train one model, evaluate it; returns the metric report."""
    config = MODELS[name][0]
    work.mkdir(parents=True, exist_ok=True)
    options = [f'train_cfg.max_iters={iters}', f'param_scheduler.0.end={iters}',
               f'train_cfg.val_interval={iters + 1}',
               f'default_hooks.checkpoint.interval={iters}',
               f'default_hooks.logger.interval={max(1, min(100, iters // 10))}',
               f'randomness.seed={seed}']
    if name.startswith('hier'):  # box pseudo labels refined after 40 % of training
        options.append(f'model.decode_head.loss_decode.refine_start_iter={iters * 2 // 5}')
    log(f'{name}: training {iters} iterations, seed {seed} ({config})')
    start = time.time()
    run([sys.executable, 'tools/train.py', config, '--work-dir', str(work),
         '--cfg-options', *options], env, work / 'train.log')
    log(f'{name}: trained in {time.time() - start:.0f} s; evaluating')
    metrics = work / 'metrics.json'
    run([sys.executable, 'tools/test.py', config, str(work / f'iter_{iters}.pth'),
         '--work-dir', str(work / 'test'), '--cfg-options',
         f'test_evaluator.output_file={metrics}'], env, work / 'test.log', show='')
    return json.loads(metrics.read_text())


def predict_images(name: str, checkpoint: Path, images: list[str], target: Path,
                   env: dict) -> Path:
    """Prediction overlays of one model on the given images."""
    target.mkdir(parents=True, exist_ok=True)
    run([sys.executable, 'tools/infer.py', MODELS[name][0], str(checkpoint), *images,
         '--out', str(target)], env, target / 'infer.log', show='')
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


def compose_predictions(pictures: dict[str, Path], target: Path, height: int = 200) -> Path:
    """One picture: a row per validation image, the models' overlays side by
    side at one scale per row (the tallest overlay of the row scaled to
    ``height`` pixels, so the images match whatever their legends' lengths),
    the model names above."""
    from PIL import Image, ImageDraw
    names = list(pictures)
    stems = sorted(p.name for p in pictures[names[0]].glob('*_overlay.png'))
    rows = []
    for stem in stems:
        tiles = [Image.open(pictures[name] / stem).convert('RGB') for name in names]
        scale = height / max(tile.height for tile in tiles)
        rows.append([tile.resize((round(tile.width * scale), round(tile.height * scale)))
                     for tile in tiles])
    label = 18
    widths = [max(row[k].width for row in rows) for k in range(len(names))]
    canvas = Image.new('RGB', (sum(widths) + 4 * (len(names) - 1),
                               label + len(rows) * (height + 4)), 'white')
    draw = ImageDraw.Draw(canvas)
    for k, name in enumerate(names):
        x = sum(widths[:k]) + 4 * k
        draw.text((x + 4, 3), name, fill='black')
        for r, row in enumerate(rows):
            canvas.paste(row[k], (x, label + r * (height + 4)))
    canvas.save(target)
    return target


def box_only_classes() -> list[str]:
    """Class rows (``'<dataset>: <class>'``) of the classes that only box
    annotations teach: box classes whose nodes no per-pixel training set
    labels."""
    from mmhier.structures import label_space
    from mmhier.taxonomy import load_taxonomy
    taxonomy = load_taxonomy(TAXONOMY)
    pixel = set()
    for key in MAIN_DATASETS:
        if taxonomy.dataset(key).annotation == 'pixel':
            pixel |= set(label_space(taxonomy, key).labelled_nodes.tolist())
    rows = []
    for key in MAIN_DATASETS:
        spec = taxonomy.dataset(key)
        if spec.annotation == 'box':
            rows += [f'{key}: {c.name}' for c in spec.classes
                     if not c.ignored
                     and not {taxonomy.index(n) for n in c.nodes} <= pixel]
    return rows


def device_env(device: str) -> dict:
    """The tools' environment for ``--device``.

    Raises:
        SystemExit: ``cuda`` without a CUDA device.
    """
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    if device == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''
    else:
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('error: --device cuda: no CUDA device is visible to torch; '
                             'use --device cpu')
    return env


def write_report(out: Path, reports: dict[int, dict[str, dict]], pictures: dict[str, Path],
                 seconds: float, args: argparse.Namespace, command: str) -> Path:
    """``report.md`` (and ``summary.json``): tables, summary, pictures."""
    from mmhier.demo.comparison import compare, markdown_table, score_rows, what_it_shows
    from mmhier.taxonomy import load_taxonomy
    from mmhier.taxonomy.export import draw_png
    seeds = sorted(reports)
    draw_png(load_taxonomy(TAXONOMY), out / 'taxonomy.png')
    main = compare([score_rows(reports[s]['hier'], MAIN_DATASETS) for s in seeds],
                   [score_rows(reports[s]['flat'], MAIN_DATASETS) for s in seeds])
    box_only = box_only_classes()
    shows = ['', what_it_shows(main, box_only, len(seeds)), '']
    extended = None
    if all('hier_city_gtsdb' in reports[s] for s in seeds):
        extended = compare(
            [score_rows(reports[s]['hier_city_gtsdb'], list(EXTENDED_LEVELS)) for s in seeds],
            [score_rows(reports[s]['flat_city_gtsdb'], list(EXTENDED_LEVELS)) for s in seeds])
        shows += [what_it_shows([c for c in extended if c.row[0] == 'dataset'], [],
                                len(seeds), 'In the Table IV analogue', EXTENDED_LEVELS), '']
    parts = [
        '# mmhier demo: hierarchical vs flat', '',
        f'Command: `{command}`  ', f'Wall time: {seconds / 60:.1f} min; seeds '
        f'{", ".join(map(str, seeds))}; {iterations_text(args)}, batch 4; '
        f'Fast-SCNN from scratch, device {args.device}.', '',
        'Synthetic Cityscapes-like (coarse per-pixel), Vistas-like (fine per-pixel) and '
        'GTSDB-like (sign boxes only) data; each dataset evaluated in its own label '
        'space (predictions mapped up the tree), IoU / PA in %. Δ = hier - flat'
        + (' (mean ± standard deviation over seeds; * = the difference exceeds the '
           'spread: same sign in every seed, mean larger than its standard deviation)'
           if len(seeds) > 1 else '') + '.', '',
        '## What it shows', *shows,
        '## Datasets (Tables II/III analogue)', '',
        markdown_table(main, 'dataset', 'dataset (own label space)'), '',
        '## Levels (all datasets)', '', markdown_table(main, 'level', 'level'), '',
        '## Per-class IoU', '', markdown_table(main, 'class', 'dataset: class'), '']
    if extended is not None:
        parts += ['## Cityscapes Extended setting (Table IV analogue)', '',
                  'Trained on city_like + gtsdb_like only (two-level tree '
                  '`taxonomies/tiny_city_extended.yaml`); the city_like validation images '
                  'at level 1 and with sign fronts labelled by type (level 2).', '',
                  markdown_table(extended, 'dataset', 'level (label space)', EXTENDED_LEVELS),
                  '', markdown_table([c for c in extended
                                      if c.row[1].startswith('city_ext_like')],
                                     'class', 'city_ext_like: class'), '']
    parts += ['## Pictures', '',
              f'Predictions on the first validation image of each set (seed {seeds[0]}; '
              f'{", ".join(pictures)} side by side):', '']
    if pictures:
        compose_predictions(pictures, out / 'predictions.png')
        parts += ['![predictions](predictions.png)', '']
    parts += ['The taxonomy:', '', '![taxonomy](taxonomy.png)', '']
    report = out / 'report.md'
    report.write_text('\n'.join(parts))
    (out / 'summary.json').write_text(json.dumps(
        {'command': command, 'seconds': seconds, 'seeds': seeds, 'iters': args.iters,
         'extended_iters': None if args.no_extended else args.extended_iters,
         'reports': {str(s): reports[s] for s in seeds}}, indent=1, default=str))
    print('\n' + '\n'.join(parts[parts.index('## What it shows'):
                                 parts.index('## Pictures')]), flush=True)
    return report


def iterations_text(args: argparse.Namespace) -> str:
    """The training length of the report's header."""
    text = f'{args.iters} iterations per three-dataset model'
    if not args.no_extended:
        text += f', {args.extended_iters} per Table IV model'
    return text


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='work_dirs/demo', help='output folder')
    parser.add_argument('--iters', type=int, default=1500,
                        help='iterations of the three-dataset models (hier, flat)')
    parser.add_argument('--extended-iters', type=int, default=700,
                        help='iterations of the Table IV models (city_like + gtsdb_like)')
    parser.add_argument('--seed', type=int, default=0, help='first seed')
    parser.add_argument('--seeds', type=int, default=1,
                        help='number of seeds (data and training), mean ± std per row')
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    parser.add_argument('--no-extended', action='store_true',
                        help='skip the Cityscapes Extended (Table IV) models')
    parser.add_argument('--quick', action='store_true',
                        help='tiny data and a few iterations (a smoke test)')
    args = parser.parse_args(argv)
    if min(args.iters, args.extended_iters, args.seeds) < 1:
        parser.error('--iters, --extended-iters and --seeds must be at least 1')
    if args.quick:
        args.iters = args.extended_iters = 4
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    command = 'python tools/demo.py ' + ' '.join(sys.argv[1:] if argv is None else argv)
    start = time.time()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = device_env(args.device)
    names = [n for n, (_, experiment) in MODELS.items()
             if experiment == 'main' or not args.no_extended]
    reports: dict[int, dict[str, dict]] = {}
    pictures: dict[str, Path] = {}
    for seed in range(args.seed, args.seed + args.seeds):
        folder = out / f'seed{seed}'
        data = make_data(folder / 'data', seed, args.quick)
        seed_env = dict(env, DEMO_DATA_ROOT=str(data))
        reports[seed] = {}
        for name in names:
            iters = args.iters if MODELS[name][1] == 'main' else args.extended_iters
            reports[seed][name] = train_and_test(name, folder / name, iters, seed, seed_env)
        if seed == args.seed:
            images = validation_images(data)
            for name in ('hier', 'flat'):
                pictures[name] = predict_images(
                    name, folder / name / f'iter_{args.iters}.pth', images,
                    out / 'predictions' / name, seed_env)
    report = write_report(out, reports, pictures, time.time() - start, args, command)
    log(f'done in {(time.time() - start) / 60:.1f} min: {report}')


if __name__ == '__main__':
    main()
