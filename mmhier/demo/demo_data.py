"""The synthetic three-dataset benchmark: one generator, three label spaces.

:func:`make_demo_data` renders street scenes and writes them as three
datasets in their real on-disk formats, labelled per a taxonomy (default
``taxonomies/tiny_street.yaml``)::

    OUT_DIR/city_like/     Cityscapes layout, per-pixel, coarse labels
    OUT_DIR/vistas_like/   Mapillary Vistas layout, per-pixel, fine labels
    OUT_DIR/gtsdb_like/    GTSDB layout, boxes of sign fronts only
    OUT_DIR/demo_data.json counts, seed, sizes, class frequencies
    OUT_DIR/previews/      image | colourised label, if asked for

The folder names are the taxonomy's dataset keys. Label ids come from the
taxonomy (:func:`~mmhier.demo.labels.part_label_table`): the
Cityscapes-like set labels lane markings as road (-> ``driveable``), both
rider kinds as ``rider`` and sign fronts and backs as ``traffic sign``; the
Vistas-like set labels lane marking, bicyclist / motorcyclist and sign back /
front, but not the sign type; the GTSDB-like set gives sign types, as boxes
only. So the finest classes are learnable only from the datasets together.

Every image is drawn from its own generator, seeded by ``(seed, set, split,
index)``: an image does not depend on how many others are made, and the same
configuration gives byte-identical files. GTSDB-like sign types follow
imbalanced frequencies exactly (largest-remainder quotas, shuffled per
split). In the per-pixel sets, image ``i`` contains a rider of kind
``i mod 2`` and a sign back, so every fine class occurs in any set of two or
more images.
"""
from __future__ import annotations

import json
import os
import os.path as osp
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
from PIL import Image

from mmhier.datasets.gtsdb import GTSDB_SPLITS
from mmhier.datasets.pseudo_masks import rasterize_shapes
from mmhier.demo.labels import (SyntheticDataError, colourise,
                                              dataset_palette, part_label_table,
                                              sign_box_classes)
from mmhier.demo.layout import (CITY_STYLE, GTSDB_STYLE, RIDER_KINDS,
                                              VISTAS_STYLE, sample_scene)
from mmhier.demo.scene import render_scene
from mmhier.demo.signs import SIGN_SHAPES, SIGN_TYPES
from mmhier.demo.writers import CityscapesWriter, GTSDBWriter, VistasWriter
from mmhier.taxonomy import Taxonomy, load_taxonomy

Size = tuple[int, int]
Progress = Callable[[str], None]

#: Fake cities of the Cityscapes-like splits.
CITIES: dict[str, tuple[str, ...]] = {'train': ('synthberg', 'pixelstadt'),
                                      'val': ('renderdorf', 'valhausen')}
#: Heights (relative to the Cityscapes-like height) and aspect ratios of the
#: Vistas-like images.
VISTAS_HEIGHTS = (1.5, 1.75)
VISTAS_ASPECTS = (4 / 3, 3 / 2, 16 / 9)
#: Seed keys: one generator per (seed, set, split, index).
_SET_CODES = {'city': 0, 'vistas': 1, 'gtsdb': 2}
_SPLIT_CODES = {'train': 0, 'val': 1}
SUMMARY_FILE = 'demo_data.json'
PREVIEW_DIR = 'previews'


@dataclass(frozen=True)
class DemoDataConfig:
    """What :func:`make_demo_data` generates.

    Args:
        seed: Seed of everything.
        num_city: Cityscapes-like training images.
        num_vistas: Vistas-like training images.
        num_gtsdb: GTSDB-like training images (numbers from 00000).
        num_val: Validation images of each set (GTSDB: test images from 00600).
        city_size: ``(height, width)`` of the Cityscapes-like images; the
            Vistas-like images are 1.5-1.75 times as high, 4:3 to 16:9.
        gtsdb_size: ``(height, width)`` of the GTSDB-like images.
        taxonomy: Taxonomy file giving the label ids.
        city_key: Taxonomy dataset key of the Cityscapes-like set.
        vistas_key: Key of the Vistas-like set.
        gtsdb_key: Key of the GTSDB-like set.
        city_ext_key: Key of the Cityscapes-Extended-like evaluation set (the
            Cityscapes-like validation images, labelled by that dataset of the
            taxonomy: sign fronts by type); not written when the taxonomy has
            no such dataset.
        sign_frequencies: Sign type -> share of the GTSDB-like boxes.
        signs_per_image: Shares of GTSDB-like images with 0, 1, 2, ... signs.
        previews: Side-by-side previews written per set (first training images).
    """

    seed: int = 0
    num_city: int = 60
    num_vistas: int = 120
    num_gtsdb: int = 120
    num_val: int = 50
    city_size: Size = (128, 256)
    gtsdb_size: Size = (400, 680)
    taxonomy: str = 'taxonomies/tiny_street.yaml'
    city_key: str = 'city_like'
    vistas_key: str = 'vistas_like'
    gtsdb_key: str = 'gtsdb_like'
    city_ext_key: str = 'city_ext_like'
    sign_frequencies: dict[str, float] = field(default_factory=lambda: {
        'speed limit': 0.45, 'give way': 0.25, 'stop': 0.15, 'keep right': 0.10,
        'keep left': 0.05})
    signs_per_image: tuple[float, ...] = (0.15, 0.45, 0.28, 0.12)
    previews: int = 0

    def check(self) -> None:
        """Raise :class:`SyntheticDataError` for impossible settings."""
        problems = []
        for name in ('num_city', 'num_vistas', 'num_gtsdb', 'num_val', 'previews'):
            if getattr(self, name) < 0:
                problems.append(f'{name} must be >= 0, got {getattr(self, name)}')
        for name, count, split in (('num_gtsdb', self.num_gtsdb, 'train'),
                                   ('num_val', self.num_val, 'test')):
            capacity = len(GTSDB_SPLITS[split])
            if count > capacity:
                problems.append(f'{name} = {count} exceeds the {capacity} image numbers '
                                f'of the GTSDB {split} split')
        for name, (height, width) in (('city_size', self.city_size),
                                      ('gtsdb_size', self.gtsdb_size)):
            if height < 32 or width < 32:
                problems.append(f'{name} must be at least 32x32, got {height}x{width}')
        unknown = sorted(set(self.sign_frequencies) - set(SIGN_TYPES))
        if unknown or not self.sign_frequencies or \
                min(self.sign_frequencies.values()) < 0 or sum(self.sign_frequencies.values()) <= 0:
            problems.append(f'sign_frequencies must give non-negative shares of '
                            f'{", ".join(SIGN_TYPES)}, got {self.sign_frequencies}')
        if not self.signs_per_image or min(self.signs_per_image) < 0 or \
                sum(self.signs_per_image) <= 0:
            problems.append(f'signs_per_image must be non-negative shares, got '
                            f'{self.signs_per_image}')
        if problems:
            raise SyntheticDataError('bad demo data settings:\n  ' + '\n  '.join(problems))


def largest_remainder(shares: Sequence[float], total: int) -> list[int]:
    """Split ``total`` into integers proportional to ``shares`` (Hamilton's
    method: floors, then the largest remainders get one more; ties to the
    earlier share).

    Example:
        >>> largest_remainder([0.45, 0.25, 0.15, 0.10, 0.05], 20)
        [9, 5, 3, 2, 1]
    """
    weights = np.asarray(shares, dtype=np.float64)
    exact = weights / weights.sum() * total
    counts = np.floor(exact).astype(np.int64)
    order = sorted(range(len(weights)), key=lambda k: (-(exact[k] - counts[k]), k))
    for k in order[:total - int(counts.sum())]:
        counts[k] += 1
    return counts.tolist()


def plan_gtsdb_signs(rng: np.random.Generator, num_images: int,
                     frequencies: dict[str, float],
                     signs_per_image: Sequence[float]) -> list[tuple[str, ...]]:
    """The sign types of every image of a GTSDB-like split.

    Image sign counts and sign types both follow their shares exactly
    (:func:`largest_remainder`), shuffled.

    Returns:
        One tuple of sign types per image (empty: an image without signs).
    """
    counts = [n for n, quota in enumerate(largest_remainder(signs_per_image, num_images))
              for _ in range(quota)]
    rng.shuffle(counts)
    kinds = list(frequencies)
    types = [kind for kind, quota in zip(kinds, largest_remainder(
        [frequencies[k] for k in kinds], int(sum(counts)))) for _ in range(quota)]
    rng.shuffle(types)
    plan, start = [], 0
    for n in counts:
        plan.append(tuple(types[start:start + n]))
        start += n
    return plan


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng([seed, *key])


def _vistas_size(rng: np.random.Generator, city_size: Size) -> Size:
    height = round(city_size[0] * VISTAS_HEIGHTS[int(rng.integers(len(VISTAS_HEIGHTS)))])
    width = round(height * VISTAS_ASPECTS[int(rng.integers(len(VISTAS_ASPECTS)))] / 2) * 2
    return height, width


def _coverage(index: int) -> tuple[str, ...]:
    """What image ``index`` of a per-pixel set must show."""
    return (RIDER_KINDS[index % len(RIDER_KINDS)], 'traffic sign back',
            SIGN_TYPES[index % len(SIGN_TYPES)])


def _class_names(taxonomy: Taxonomy, key: str) -> list[str]:
    spec = taxonomy.dataset(key)
    names = {c.id: c.name for c in spec.classes}
    return [names.get(i, f'id {i}') for i in range(spec.num_ids)]


def _frequencies(names: list[str], counts: np.ndarray) -> dict[str, Any]:
    total = max(int(counts.sum()), 1)
    return {'class_pixels': {n: int(c) for n, c in zip(names, counts)},
            'class_fraction': {n: round(int(c) / total, 6) for n, c in zip(names, counts)}}


def _save_preview(out_dir: str, name: str, image: np.ndarray, colours: np.ndarray) -> str:
    gap = np.full((image.shape[0], 4, 3), 255, dtype=np.uint8)
    path = osp.join(out_dir, PREVIEW_DIR, f'{name}.png')
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(np.concatenate([image, gap, colours], axis=1)).save(path)
    return path


def _pixel_set(out_dir: str, config: DemoDataConfig, taxonomy: Taxonomy, kind: str,
               progress: Progress) -> dict[str, Any]:
    """Write the Cityscapes-like (``kind='city'``) or Vistas-like set."""
    key = config.city_key if kind == 'city' else config.vistas_key
    table = part_label_table(taxonomy, key)
    palette = dataset_palette(taxonomy, key)
    names = _class_names(taxonomy, key)
    root = osp.join(out_dir, key)
    style = CITY_STYLE if kind == 'city' else VISTAS_STYLE
    splits = {'train': config.num_city if kind == 'city' else config.num_vistas,
              'val': config.num_val}
    extended = kind == 'city' and config.city_ext_key in taxonomy.dataset_keys
    if extended:  # the same validation images, labelled by the extended set
        ext_table = part_label_table(taxonomy, config.city_ext_key)
        ext_writer = CityscapesWriter(osp.join(out_dir, config.city_ext_key), 'val')
    summary: dict[str, Any] = {}
    for split, count in splits.items():
        folder = split if kind == 'city' else {'train': 'training', 'val': 'validation'}[split]
        writer = CityscapesWriter(root, folder) if kind == 'city' \
            else VistasWriter(root, folder, palette)
        pixels = np.zeros(len(names), dtype=np.int64)
        sizes: Counter = Counter()
        for index in range(count):
            rng = _rng(config.seed, _SET_CODES[kind], _SPLIT_CODES[split], index)
            height, width = config.city_size if kind == 'city' \
                else _vistas_size(rng, config.city_size)
            rendering = render_scene(sample_scene(rng, height, width, style, _coverage(index)))
            ids = table[rendering.parts]
            if kind == 'city':
                cities = CITIES[split]
                writer.write(cities[index % len(cities)], index // len(cities), 19,
                             rendering.image, ids)
                if extended and split == 'val':
                    ext_writer.write(cities[index % len(cities)], index // len(cities), 19,
                                     rendering.image, ext_table[rendering.parts])
            else:
                writer.write(f'{split}_{index:05d}', rendering.image, ids)
            pixels += np.bincount(ids.ravel(), minlength=len(names))[:len(names)]
            sizes[f'{height}x{width}'] += 1
            if split == 'train' and index < config.previews:
                _save_preview(out_dir, f'{key}_{index:02d}', rendering.image,
                              colourise(ids, palette))
        progress(f'{key} {folder}: {count} images')
        summary[folder] = {'images': count, 'sizes_hxw': dict(sorted(sizes.items())),
                           **_frequencies(names, pixels)}
    return summary


def _gtsdb_set(out_dir: str, config: DemoDataConfig, taxonomy: Taxonomy,
               progress: Progress) -> dict[str, Any]:
    """Write the GTSDB-like set (both splits into one folder and gt.txt)."""
    key = config.gtsdb_key
    classes = sign_box_classes(taxonomy, key)
    names = _class_names(taxonomy, key)
    palette = dataset_palette(taxonomy, key)
    height, width = config.gtsdb_size
    writer = GTSDBWriter(osp.join(out_dir, key))
    summary: dict[str, Any] = {}
    for split, gtsdb_split, count in (('train', 'train', config.num_gtsdb),
                                      ('val', 'test', config.num_val)):
        plan_rng = _rng(config.seed, _SET_CODES['gtsdb'], _SPLIT_CODES[split])
        frequencies = {k: v for k, v in config.sign_frequencies.items() if k in classes}
        if not frequencies:
            raise SyntheticDataError(f'dataset {key!r} of {taxonomy.source} labels none of '
                                     f'the sign types {", ".join(config.sign_frequencies)}')
        plan = plan_gtsdb_signs(plan_rng, count, frequencies, config.signs_per_image)
        first = GTSDB_SPLITS[gtsdb_split].start
        boxes_per_class = np.zeros(len(names), dtype=np.int64)
        widths, empty = [], 0
        for index, kinds in enumerate(plan):
            rng = _rng(config.seed, _SET_CODES['gtsdb'], _SPLIT_CODES[split], index)
            rendering = render_scene(sample_scene(rng, height, width, GTSDB_STYLE, kinds))
            boxes = []
            for sign in rendering.signs:
                if not (sign.front and sign.kind in classes):
                    continue
                if not sign.inside(height, width):
                    raise SyntheticDataError(
                        f'a {sign.kind!r} sign does not fit into the {width}x{height} '
                        'GTSDB-like image; use a larger gtsdb_size')
                boxes.append((*sign.box, classes[sign.kind]))
                boxes_per_class[classes[sign.kind]] += 1
                widths.append(sign.box[2] - sign.box[0] + 1)
            empty += not boxes
            writer.write(first + index, rendering.image, boxes)
            if split == 'train' and index < config.previews:
                ids = rasterize_shapes(height, width, [b[:4] for b in boxes],
                                       [SIGN_SHAPES[names[b[4]]] if names[b[4]] in SIGN_SHAPES
                                        else 'box' for b in boxes],
                                       values=[b[4] for b in boxes])
                _save_preview(out_dir, f'{key}_{index:02d}', rendering.image,
                              colourise(ids, palette))
        progress(f'{key} {gtsdb_split}: {count} images, {int(boxes_per_class.sum())} boxes')
        total = max(int(boxes_per_class.sum()), 1)
        summary[gtsdb_split] = {
            'images': count,
            'numbers': [first, first + count - 1] if count else [],
            'sizes_hxw': {f'{height}x{width}': count} if count else {},
            'images_without_signs': empty,
            'box_width_px': [min(widths), int(np.median(widths)), max(widths)]
            if widths else [],
            'boxes': {n: int(c) for n, c in zip(names, boxes_per_class)},
            'box_fraction': {n: round(int(c) / total, 6) for n, c in zip(names, boxes_per_class)}}
    writer.close()
    return summary


def make_demo_data(out_dir: Union[str, os.PathLike],
                   config: Optional[DemoDataConfig] = None,
                   progress: Optional[Progress] = None) -> dict[str, Any]:
    """Generate the three synthetic datasets and ``demo_data.json``.

    Args:
        out_dir: Output folder (created). Existing files of the same names are
            overwritten; other files are left alone.
        config: What to generate; default :class:`DemoDataConfig()`.
        progress: Called with a line of text after each split.

    Returns:
        The summary written to ``OUT_DIR/demo_data.json``.

    Raises:
        SyntheticDataError: Bad settings, or a taxonomy that cannot label the
            scenes (missing nodes, no ignore class, sign shapes that differ
            from the glyphs).
        TaxonomyError: The taxonomy is missing or invalid, or lacks a
            dataset key.
    """
    config = config or DemoDataConfig()
    config.check()
    progress = progress or (lambda line: None)
    out_dir = os.fspath(out_dir)
    taxonomy = load_taxonomy(config.taxonomy)
    for key, annotation in ((config.city_key, 'pixel'), (config.vistas_key, 'pixel'),
                            (config.gtsdb_key, 'box')):
        if taxonomy.dataset(key).annotation != annotation:
            raise SyntheticDataError(f'dataset {key!r} of {taxonomy.source} must have '
                                     f'annotation {annotation!r}')
    os.makedirs(out_dir, exist_ok=True)
    sets = {
        config.city_key: {'format': 'cityscapes', 'dataset': dict(
            type='CityscapesTaxonomyDataset', data_root=config.city_key,
            dataset_key=config.city_key, splits=['train', 'val']),
            'splits': _pixel_set(out_dir, config, taxonomy, 'city', progress)},
        config.vistas_key: {'format': 'mapillary_vistas', 'dataset': dict(
            type='MapillaryVistasTaxonomyDataset', data_root=config.vistas_key,
            dataset_key=config.vistas_key, splits=['training', 'validation']),
            'splits': _pixel_set(out_dir, config, taxonomy, 'vistas', progress)},
        config.gtsdb_key: {'format': 'gtsdb', 'dataset': dict(
            type='GTSDBTaxonomyDataset', data_root=config.gtsdb_key,
            dataset_key=config.gtsdb_key, splits=['train', 'test']),
            'splits': _gtsdb_set(out_dir, config, taxonomy, progress)},
    }
    if config.city_ext_key in taxonomy.dataset_keys:
        sets[config.city_ext_key] = {'format': 'cityscapes', 'dataset': dict(
            type='CityscapesTaxonomyDataset', data_root=config.city_ext_key,
            dataset_key=config.city_ext_key, splits=['val']),
            'splits': {'val': {'images': config.num_val,
                               'images_of': f'{config.city_key} val'}}}
    summary = {'generator': 'mmhier.demo', 'seed': config.seed,
               'taxonomy': config.taxonomy, 'config': asdict(config), 'sets': sets}
    with open(osp.join(out_dir, SUMMARY_FILE), 'w', encoding='utf-8') as f:
        json.dump(summary, f, indent=2)
        f.write('\n')
    return summary
