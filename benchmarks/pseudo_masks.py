"""Cost of GTSDB pseudo masks relative to decoding the image.

Generates a GTSDB-like street image (1360x800: sky, buildings, road, sensor
noise) with K traffic signs of 16-128 px drawn in it, encodes it as PPM (the
GTSDB format), PNG and JPEG, and times, best of ``--repeat`` runs in this one
process:

- ``decode``: ``mmcv.imfrombytes`` of the encoded bytes (what
  ``LoadImageFromFile`` does after reading the file),
- ``mask``:   ``BoxesToPseudoMask`` on the sample (rasterising every sign's
  shape into a new int32 label map and encoding node + num_nodes), warm:
  the shape masks of the boxes' sizes are cached, as from the second epoch on,
- ``cold``:   the same with the shape-mask cache cleared before every run
  (first epoch),
- ``box``:    ``BoxesToPseudoMask(shape_mode='box')``,
- ``fill``:   allocating the 1360x800 int32 map of -1 alone (the floor).

Prints the times and the ratio mask / PPM decode per K; the target is a ratio
of at most 0.1 (pseudo masks add at most a tenth of the image decoding cost).
The ``fill`` column is the part no rasterisation can save.

Usage:
    python benchmarks/pseudo_masks.py [--boxes 1 2 4 6] [--repeat 50] [--save DIR]
"""
from __future__ import annotations

import argparse
import os
import time
from typing import Callable

import cv2
import mmcv
import numpy as np

from mmhier.datasets import pseudo_masks
from mmhier.datasets.transforms.box_pseudo_masks import BoxesToPseudoMask, box_label_dtype
from mmhier.taxonomy import load_taxonomy

HEIGHT, WIDTH = 800, 1360
TAXONOMY = 'taxonomies/cs_vistas_gtsdb.yaml'
#: GTSDB classes drawn: (class id, BGR colour) of a few common signs.
SIGNS = ((1, (40, 40, 200)), (13, (230, 230, 230)), (14, (30, 30, 190)),
         (12, (40, 200, 230)), (38, (180, 90, 20)), (18, (235, 235, 235)))


def street_image(rng: np.random.Generator) -> np.ndarray:
    """A smooth street-like background with sensor noise.

    Shape:
        ``(800, 1360, 3)`` uint8 BGR.
    """
    rows = np.linspace(0.0, 1.0, HEIGHT, dtype=np.float32)[:, None, None]
    sky = np.array([230, 190, 150], np.float32) * (1 - rows) + \
        np.array([200, 200, 190], np.float32) * rows
    image = np.broadcast_to(sky, (HEIGHT, WIDTH, 3)).copy()
    image[int(HEIGHT * 0.6):] = (90, 90, 95)                         # road
    for _ in range(8):                                                # buildings
        x0, w = int(rng.integers(0, WIDTH - 200)), int(rng.integers(80, 300))
        top = int(rng.integers(80, 350))
        image[top:int(HEIGHT * 0.6), x0:x0 + w] = rng.integers(60, 200, 3)
    image += rng.normal(0.0, 6.0, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def place_signs(rng: np.random.Generator, image: np.ndarray, count: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``count`` signs of 16-128 px into ``image``; return their boxes.

    Returns:
        boxes ``(K, 4)`` float32 inclusive ``x1, y1, x2, y2``, labels
        ``(K,)`` int64 GTSDB class ids.
    """
    tax = load_taxonomy(TAXONOMY)
    shapes = {c.id: c.attributes['shape'] for c in tax.dataset('gtsdb').classes}
    boxes, labels = [], []
    for k in range(count):
        label, colour = SIGNS[k % len(SIGNS)]
        w = int(rng.integers(16, 129))
        h = int(np.clip(round(w * rng.uniform(0.9, 1.1)), 16, 128))
        x1, y1 = int(rng.integers(0, WIDTH - w)), int(rng.integers(150, 650 - h))
        box = [x1, y1, x1 + w - 1, y1 + h - 1]
        mask = pseudo_masks.shape_mask(shapes[label], w, h)
        image[y1:y1 + h, x1:x1 + w][mask] = colour
        boxes.append(box)
        labels.append(label)
    return np.asarray(boxes, np.float32), np.asarray(labels, np.int64)


def best_of(run: Callable[[], object], repeat: int,
            before: Callable[[], object] = lambda: None) -> float:
    """Best wall time of ``run`` in milliseconds (``before`` is not timed)."""
    best = float('inf')
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--boxes', type=int, nargs='+', default=[1, 2, 4, 6])
    parser.add_argument('--repeat', type=int, default=50)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--save', help='folder to write the generated images to')
    args = parser.parse_args()

    shaped = BoxesToPseudoMask(taxonomy=TAXONOMY, dataset_key='gtsdb')
    dtype = box_label_dtype(load_taxonomy(TAXONOMY).num_nodes)  # the map's type
    boxed = BoxesToPseudoMask(shape_mode='box', taxonomy=TAXONOMY, dataset_key='gtsdb')
    print(f'image {WIDTH}x{HEIGHT}, best of {args.repeat}, times in ms; '
          'ratio = mask / PPM decode (target <= 0.10)')
    print(f"{'boxes':>5} {'PPM':>7} {'PNG':>7} {'JPEG':>7} {'mask':>7} {'cold':>7} "
          f"{'box':>7} {'fill':>7} {'ratio':>6} {'cold':>6} {'fill':>6}")
    for count in args.boxes:
        rng = np.random.default_rng(args.seed + count)
        image = street_image(rng)
        boxes, labels = place_signs(rng, image, count)
        encoded = {ext: cv2.imencode(ext, image, params)[1].tobytes() for ext, params in
                   (('.ppm', []), ('.png', []), ('.jpg', [cv2.IMWRITE_JPEG_QUALITY, 95]))}
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            for ext, data in encoded.items():
                with open(os.path.join(args.save, f'gtsdb_like_{count}{ext}'), 'wb') as f:
                    f.write(data)
        decode = {ext: best_of(lambda data=data: mmcv.imfrombytes(data), args.repeat)
                  for ext, data in encoded.items()}
        assert mmcv.imfrombytes(encoded['.ppm']).shape == (HEIGHT, WIDTH, 3)
        sample = dict(img_shape=(HEIGHT, WIDTH), ori_shape=(HEIGHT, WIDTH),
                      gt_boxes=boxes, gt_box_labels=labels)
        warm = best_of(lambda: shaped.transform(dict(sample)), args.repeat)
        cold = best_of(lambda: shaped.transform(dict(sample)), args.repeat,
                       before=pseudo_masks.clear_shape_cache)
        box = best_of(lambda: boxed.transform(dict(sample)), args.repeat)
        fill = best_of(lambda: pseudo_masks.ignore_map(HEIGHT, WIDTH, dtype), args.repeat)
        ppm = decode['.ppm']
        print(f'{count:>5} {ppm:7.3f} {decode[".png"]:7.3f} {decode[".jpg"]:7.3f} '
              f'{warm:7.3f} {cold:7.3f} {box:7.3f} {fill:7.3f} {warm / ppm:6.3f} '
              f'{cold / ppm:6.3f} {fill / ppm:6.3f}')


if __name__ == '__main__':
    main()
