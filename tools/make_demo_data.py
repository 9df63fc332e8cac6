#!/usr/bin/env python
"""Generate the synthetic three-dataset street benchmark (the demo data).

Writes, under ``OUT_DIR``, a Cityscapes-like, a Mapillary-Vistas-like and a
GTSDB-like dataset in their real on-disk formats, labelled per a taxonomy
(default ``taxonomies/tiny_street.yaml``), plus ``demo_data.json`` with
counts, seed, sizes and class frequencies::

    python tools/make_demo_data.py data/demo
    python tools/make_demo_data.py data/demo --seed 1 --num-city 60 --num-vistas 120 \\
        --num-gtsdb 120 --num-val 20 --size 128x256 --previews 3

``--size HxW`` is the Cityscapes-like image size (2:1 by default); the
Vistas-like images are 1.5-1.75 times as high with aspect ratios 4:3 to 16:9;
``--gtsdb-size HxW`` sets the GTSDB-like size (default 200x340, GTSDB's
1360x800 scaled by 1/4). See :mod:`mmhier.demo.demo_data`.

The same arguments give byte-identical files. Existing generated folders are
not overwritten unless ``--overwrite`` is given (then they are replaced, so
that no stale images from a larger earlier run remain).

Exit status: 0 done, 1 the taxonomy cannot label the scenes (or is invalid),
2 bad usage.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from typing import Optional, Sequence

from mmhier.demo.demo_data import (PREVIEW_DIR, SUMMARY_FILE, DemoDataConfig,
                                                 make_demo_data)
from mmhier.demo.labels import SyntheticDataError
from mmhier.taxonomy import TaxonomyError


def _size(text: str) -> tuple[int, int]:
    """``'128x256'`` -> ``(128, 256)`` (height, width)."""
    parts = text.lower().split('x')
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f'expected HEIGHTxWIDTH, e.g. 128x256, got {text!r}')
    height, width = (int(p) for p in parts)
    if height < 32 or width < 32:
        raise argparse.ArgumentTypeError(f'size must be at least 32x32, got {text!r}')
    return height, width


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'must be an integer, got {text!r}') from None
    if value < 0:
        raise argparse.ArgumentTypeError(f'must be >= 0, got {value}')
    return value


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    defaults = DemoDataConfig()
    parser = argparse.ArgumentParser(
        prog='make_demo_data.py',
        description='Generate the synthetic Cityscapes-/Vistas-/GTSDB-like street '
                    'benchmark in the real on-disk formats.')
    parser.add_argument('out_dir', metavar='OUT_DIR', help='output folder')
    parser.add_argument('--seed', type=int, default=defaults.seed, help='random seed (0)')
    parser.add_argument('--num-city', type=_count, default=defaults.num_city,
                        help=f'Cityscapes-like training images ({defaults.num_city})')
    parser.add_argument('--num-vistas', type=_count, default=defaults.num_vistas,
                        help=f'Vistas-like training images ({defaults.num_vistas})')
    parser.add_argument('--num-gtsdb', type=_count, default=defaults.num_gtsdb,
                        help=f'GTSDB-like training images ({defaults.num_gtsdb}, <= 600)')
    parser.add_argument('--num-val', type=_count, default=defaults.num_val,
                        help=f'validation / test images of each set ({defaults.num_val})')
    parser.add_argument('--size', type=_size, default=defaults.city_size, metavar='HxW',
                        help='Cityscapes-like image size, height x width (128x256)')
    parser.add_argument('--gtsdb-size', type=_size, default=defaults.gtsdb_size,
                        metavar='HxW', help='GTSDB-like image size (200x340)')
    parser.add_argument('--taxonomy', default=defaults.taxonomy,
                        help=f'taxonomy giving the label ids ({defaults.taxonomy})')
    parser.add_argument('--previews', type=_count, default=0, metavar='K',
                        help='write K image|label previews per set to OUT_DIR/previews')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace previously generated folders in OUT_DIR')
    return parser.parse_args(argv)


def _print_summary(summary: dict, out_dir: str) -> None:
    print(f'\nwrote {os.path.join(out_dir, SUMMARY_FILE)} (seed {summary["seed"]})')
    for key, info in summary['sets'].items():
        for split, stats in info['splits'].items():
            if 'images_of' in stats:
                print(f'  {key:12s} {split:10s} {stats["images"]:4d} images  '
                      f'(the {stats["images_of"]} images, labelled by {key})')
                continue
            sizes = ', '.join(f'{s} ({n})' for s, n in stats['sizes_hxw'].items())
            print(f'  {key:12s} {split:10s} {stats["images"]:4d} images  HxW {sizes}')
            if 'boxes' in stats:
                boxes = ', '.join(f'{k} {v}' for k, v in stats['boxes'].items())
                print(f'  {"":12s} {"":10s} boxes: {boxes}; '
                      f'{stats["images_without_signs"]} images without signs')
            else:
                top = sorted(stats['class_fraction'].items(), key=lambda kv: -kv[1])
                print(f'  {"":12s} {"":10s} pixels: ' +
                      ', '.join(f'{k} {v:.1%}' for k, v in top))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the tool; returns the exit status."""
    args = parse_args(argv)
    config = DemoDataConfig(seed=args.seed, num_city=args.num_city, num_vistas=args.num_vistas,
                            num_gtsdb=args.num_gtsdb, num_val=args.num_val,
                            city_size=args.size, gtsdb_size=args.gtsdb_size,
                            taxonomy=args.taxonomy, previews=args.previews)
    out_dir = args.out_dir
    generated = [config.city_key, config.vistas_key, config.gtsdb_key, PREVIEW_DIR,
                 SUMMARY_FILE]
    existing = [name for name in generated if os.path.exists(os.path.join(out_dir, name))]
    if existing and not args.overwrite:
        print(f'error: {out_dir} already holds {", ".join(existing)}; pass --overwrite to '
              'replace them or choose another OUT_DIR', file=sys.stderr)
        return 2
    try:
        config.check()
    except SyntheticDataError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    try:
        start = time.perf_counter()
        for name in existing:
            path = os.path.join(out_dir, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)

        def progress(line: str) -> None:
            print(f'[{time.perf_counter() - start:6.1f} s] {line}', flush=True)

        summary = make_demo_data(out_dir, config, progress)
    except (SyntheticDataError, TaxonomyError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    _print_summary(summary, out_dir)
    print(f'done in {time.perf_counter() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
