"""Synthetic demo data: determinism, real readers, label spaces, alignment, CLI."""
import importlib.util
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from mmseg.registry import DATASETS
from mmseg.utils import register_all_modules
from PIL import Image

import mmhier.datasets  # noqa: F401  (registers datasets and transforms)
from mmhier.datasets import parse_gtsdb_annotations
from mmhier.datasets.pseudo_masks import shape_mask
from mmhier.demo import (PART, DemoDataConfig, SyntheticDataError,
                                       largest_remainder, make_demo_data,
                                       part_label_table, plan_gtsdb_signs, sample_scene,
                                       sign_box_classes, sign_glyph)
from mmhier.demo.camera import Billboard, Camera
from mmhier.demo.canvas import Canvas
from mmhier.demo.layout import CITY_STYLE
from mmhier.demo.objects import Rider
from mmhier.demo.signs import SIGN_SHAPES
from mmhier.taxonomy import Taxonomy, load_taxonomy

REPO = Path(__file__).resolve().parents[2]
TAXONOMY = 'taxonomies/tiny_street.yaml'
SMALL = DemoDataConfig(seed=0, num_city=4, num_vistas=4, num_gtsdb=10, num_val=3)
PIXEL_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadTaxonomyAnnotations'),
                  dict(type='PackTaxonomySegInputs')]
BOX_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='BoxesToPseudoMask'),
                dict(type='PackTaxonomySegInputs')]


@pytest.fixture(scope='module', autouse=True)
def mmseg_scope():
    register_all_modules(init_default_scope=True)


@pytest.fixture(scope='module')
def tax() -> Taxonomy:
    return load_taxonomy(TAXONOMY)


@pytest.fixture(scope='module')
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('demo')
    make_demo_data(out, SMALL)
    return out


def build(type_, data_root, split, key, pipeline=PIXEL_PIPELINE):
    return DATASETS.build(dict(type=type_, data_root=str(data_root), split=split,
                               taxonomy=TAXONOMY, dataset_key=key, pipeline=pipeline))


def samples(dataset):
    """``(bgr image (H, W, 3), encoded label map (H, W))`` of every sample."""
    for i in range(len(dataset)):
        packed = dataset[i]
        image = packed['inputs'].permute(1, 2, 0).numpy()
        yield image, packed['data_samples'].gt_sem_seg.data[0].numpy()


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*'))
            if p.is_file()}


# ------------------------------------------------------------ determinism
def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path):
    config = DemoDataConfig(seed=3, num_city=2, num_vistas=2, num_gtsdb=3, num_val=1)
    make_demo_data(tmp_path / 'a', config)
    make_demo_data(tmp_path / 'b', config)
    first, second = files(tmp_path / 'a'), files(tmp_path / 'b')
    # city and vistas pairs, city_ext val pair, ppm, gt.txt, json
    assert len(first) == 2 * 3 + 2 * 3 + 2 + 4 + 1 + 1
    assert first == second
    make_demo_data(tmp_path / 'c', DemoDataConfig(seed=4, num_city=2, num_vistas=2,
                                                  num_gtsdb=3, num_val=1))
    other = files(tmp_path / 'c')
    assert other.keys() == first.keys()
    images = [k for k in first if k.endswith(('.png', '.jpg', '.ppm'))]
    assert all(other[k] != first[k] for k in images)


def test_an_image_does_not_depend_on_the_set_size(tmp_path):
    make_demo_data(tmp_path / 'small', DemoDataConfig(num_city=1, num_vistas=0,
                                                      num_gtsdb=0, num_val=0))
    make_demo_data(tmp_path / 'large', DemoDataConfig(num_city=3, num_vistas=0,
                                                      num_gtsdb=0, num_val=0))
    name = 'city_like/leftImg8bit/train/synthberg/synthberg_000000_000019_leftImg8bit.png'
    assert (tmp_path / 'small' / name).read_bytes() == (tmp_path / 'large' / name).read_bytes()


# ------------------------------------------------------ Cityscapes-like
def test_city_like_reads_through_the_cityscapes_dataset_and_is_coarse(demo, tax):
    train = build('CityscapesTaxonomyDataset', demo / 'city_like', 'train', 'city_like')
    val = build('CityscapesTaxonomyDataset', demo / 'city_like', 'val', 'city_like')
    assert len(train) == 4 and len(val) == 3
    cities = {Path(train.get_data_info(i)['img_path']).parent.name for i in range(4)}
    assert cities == {'synthberg', 'pixelstadt'}
    seen = set()
    for image, label in samples(train):
        assert image.shape == (128, 256, 3) and label.shape == (128, 256)
        # the unlabeled border is ignored, everything inside is labelled
        assert (label[0] == -1).all() and (label[:, -1] == -1).all()
        assert (label[2:-2, 2:-2] >= 0).all()
        seen |= set(np.unique(label).tolist())
    coarse = {tax.index(n) for n in ('driveable', 'rider', 'traffic sign')}
    fine = {tax.index(n) for n in ('road', 'lane marking', 'bicyclist', 'motorcyclist',
                                   'traffic sign back', 'traffic sign front', 'stop',
                                   'give way', 'speed limit', 'keep right', 'keep left')}
    assert coarse <= seen and not (fine & seen)
    raw = Image.open(train.get_data_info(0)['seg_map_path'])
    assert raw.mode == 'L' and raw.size == (256, 128)


def test_city_like_lane_markings_and_riders_get_the_coarse_ids(tax):
    table = part_label_table(tax, 'city_like')
    by_name = {c.name: c.id for c in tax.dataset('city_like').classes}
    assert table[PART['lane marking']] == table[PART['road']] == by_name['road']
    assert table[PART['bicyclist']] == table[PART['motorcyclist']] == by_name['rider']
    assert {int(table[PART[p]]) for p in ('traffic sign back', 'stop', 'keep left')} == \
        {by_name['traffic sign']}
    assert table[PART['unlabeled']] == by_name['unlabeled']


def test_city_ext_like_relabels_the_city_val_images_with_sign_types(demo, tax):
    city = build('CityscapesTaxonomyDataset', demo / 'city_like', 'val', 'city_like')
    ext = build('CityscapesTaxonomyDataset', demo / 'city_ext_like', 'val', 'city_ext_like')
    assert len(ext) == len(city) == 3
    sign, types = tax.index('traffic sign'), {tax.index(n) for n in SIGN_SHAPES}
    seen = set()
    for (image, coarse), (ext_image, fine) in zip(samples(city), samples(ext)):
        assert np.array_equal(image, ext_image)
        # outside signs the labels agree; sign fronts get their type, backs
        # (no type) are unlabeled
        signs = coarse == sign
        assert np.array_equal(fine[~signs], coarse[~signs])
        assert set(np.unique(fine[signs]).tolist()) <= types | {-1}
        seen |= set(np.unique(fine[signs]).tolist())
    assert seen & types and -1 in seen
    assert tax.dataset('city_ext_like').annotation == 'pixel'


# --------------------------------------------------------- Vistas-like
def test_vistas_like_reads_through_the_vistas_dataset_and_is_fine(demo, tax):
    train = build('MapillaryVistasTaxonomyDataset', demo / 'vistas_like', 'training',
                  'vistas_like')
    val = build('MapillaryVistasTaxonomyDataset', demo / 'vistas_like', 'validation',
                'vistas_like')
    assert len(train) == 4 and len(val) == 3
    seen, shapes = set(), set()
    for dataset in (train, val):
        for image, label in samples(dataset):
            shapes.add(image.shape[:2])
            seen |= set(np.unique(label).tolist())
    fine = {tax.index(n) for n in ('road', 'lane marking', 'bicyclist', 'motorcyclist',
                                   'traffic sign back', 'traffic sign front')}
    never = {tax.index(n) for n in ('driveable', 'rider', 'traffic sign', 'stop', 'give way',
                                    'speed limit', 'keep right', 'keep left')}
    assert fine <= seen and not (never & seen)
    assert len({round(w / h, 2) for h, w in shapes}) >= 2  # varied aspect ratios
    assert all(h > 128 for h, w in shapes)                  # larger than city-like
    label = Image.open(train.get_data_info(0)['seg_map_path'])
    assert label.mode == 'P'
    palette = np.asarray(label.getpalette()[:3 * 14]).reshape(14, 3)
    assert len({tuple(c) for c in palette}) == 14            # one colour per id


def test_vistas_like_label_ids_follow_the_taxonomy_not_the_code(tax):
    """Permuting the taxonomy's Vistas-like ids permutes the written labels."""
    data = yaml.safe_load((REPO / TAXONOMY).read_text())
    classes = data['datasets']['vistas_like']['classes']
    data['datasets']['vistas_like']['classes'] = {
        (14 - k if k else 0): v for k, v in classes.items()}
    permuted = Taxonomy.from_dict(data, source='permuted')
    original = part_label_table(tax, 'vistas_like')
    moved = part_label_table(permuted, 'vistas_like')
    np.testing.assert_array_equal(moved, np.where(original > 0, 14 - original, 0))
    assert moved[PART['lane marking']] == 14 - 9


# ---------------------------------------------------------- GTSDB-like
def test_gtsdb_like_gt_txt_parses_and_splits_by_number(demo, tax):
    folder = demo / 'gtsdb_like' / 'FullIJCNN2013'
    names = sorted(p.name for p in folder.glob('*.ppm'))
    assert names == [f'{n:05d}.ppm' for n in [*range(10), 600, 601, 602]]
    parsed = parse_gtsdb_annotations(folder / 'gt.txt', folder,
                                     tax.dataset('gtsdb_like').num_ids)
    assert 0 < len(parsed) < len(names)                    # some images have no sign
    labels = Counter(int(c) for _, (_, cls) in parsed.items() for c in cls)
    train_labels = Counter(int(c) for name, (_, cls) in parsed.items()
                           if int(name[:5]) < 600 for c in cls)
    ids = {c.name: c.id for c in tax.dataset('gtsdb_like').classes}
    # 13 train signs at shares 45/25/15/10/5 %: exact largest-remainder quotas
    assert train_labels == {ids['speed limit']: 6, ids['give way']: 3, ids['stop']: 2,
                            ids['keep right']: 1, ids['keep left']: 1}
    assert set(labels) <= set(ids.values())
    for boxes, _ in parsed.values():
        widths = boxes[:, 2] - boxes[:, 0] + 1
        assert (widths >= 12).all()
    train = build('GTSDBTaxonomyDataset', demo / 'gtsdb_like', 'train', 'gtsdb_like',
                  BOX_PIPELINE)
    test = build('GTSDBTaxonomyDataset', demo / 'gtsdb_like', 'test', 'gtsdb_like',
                 BOX_PIPELINE)
    assert len(train) == 10 and len(test) == 3


def test_gtsdb_like_pseudo_masks_land_on_the_sign_colours(demo, tax):
    dataset = build('GTSDBTaxonomyDataset', demo / 'gtsdb_like', 'train', 'gtsdb_like',
                    BOX_PIPELINE)
    offset = tax.num_nodes
    colours = {name: [] for name in SIGN_SHAPES}
    for image, label in samples(dataset):
        assert image.shape == (*SMALL.gtsdb_size, 3)
        b, g, r = (image[..., k].astype(np.int64) for k in range(3))
        for name in SIGN_SHAPES:
            inside = label == tax.index(name) + offset
            if inside.any():
                colours[name].append((b[inside], g[inside], r[inside]))
    fractions = {}
    for name, parts in colours.items():
        b, g, r = (np.concatenate([p[k] for p in parts]) for k in range(3))
        red = (r > g + 60) & (r > b + 60)
        blue = (b > r + 50) & (b > g + 30)
        white = (r > 150) & (g > 150) & (b > 150)
        fractions[name] = dict(red=red.mean(), blue=blue.mean(), white=white.mean())
    print(fractions)
    assert fractions['stop']['red'] > 0.6
    assert fractions['give way']['red'] > 0.4 and fractions['give way']['white'] > 0.2
    # small speed limits (down to 8 px) are mostly red ring and dark digits
    assert fractions['speed limit']['red'] > 0.25 and fractions['speed limit']['white'] > 0.2
    for name in ('keep right', 'keep left'):
        assert fractions[name]['blue'] > 0.5 and fractions[name]['red'] < 0.05


# ------------------------------------------------------ image / label
def test_label_maps_align_with_the_images(demo, tax):
    dataset = build('MapillaryVistasTaxonomyDataset', demo / 'vistas_like', 'training',
                    'vistas_like')
    pixels: dict[str, list] = {n: [] for n in ('sky', 'vegetation', 'road', 'lane marking',
                                               'building')}
    for image, label in samples(dataset):
        for name in pixels:
            pixels[name].append(image[label == tax.index(name)].astype(np.float64))
    mean = {n: np.concatenate(v).mean(axis=0)[::-1] for n, v in pixels.items()}  # RGB
    print({n: m.round(1).tolist() for n, m in mean.items()})
    sky, vegetation, road, marking = mean['sky'], mean['vegetation'], mean['road'], \
        mean['lane marking']
    assert sky[2] > sky[0] + 15                             # sky is bluish
    assert vegetation[1] > vegetation[0] + 15 and vegetation[1] > vegetation[2] + 15
    assert road.mean() < 110 and np.ptp(road) < 15          # dark grey road
    assert marking.mean() > road.mean() + 60                # bright markings


def test_sign_glyphs_have_the_pseudo_mask_shapes(tax):
    shapes = {c.name: c.attributes['shape'] for c in tax.dataset('gtsdb_like').classes}
    for kind, shape in shapes.items():
        for width, height in ((7, 7), (16, 14), (33, 33)):
            glyph = sign_glyph(kind, width, height)
            np.testing.assert_array_equal(glyph.mask, shape_mask(shape, width, height))
    right, left = sign_glyph('keep right', 31, 31), sign_glyph('keep left', 31, 31)
    np.testing.assert_array_equal(left.colours, right.colours[:, ::-1])
    white = right.mask & (right.colours.min(axis=2) > 200)
    rows, cols = np.nonzero(white & (np.hypot(*np.mgrid[-15:16, -15:16]) < 13))
    assert rows.mean() > 15 and cols.mean() > 15            # arrow tip down-right
    stop = sign_glyph('stop', 40, 40)
    assert (stop.colours[stop.mask] == (196, 24, 32)).all(axis=1).mean() > 0.65


def test_bicyclists_and_motorcyclists_look_different():
    camera = Camera(height=120, width=160, focal=150.0, horizon=40.0, centre=80.0,
                    elevation=1.5)
    board = Billboard(camera, 0.0, 5.0)
    fills, wheel_inside = {}, {}
    for kind, rear_wheel in (('bicyclist', -0.55), ('motorcyclist', -0.72)):
        canvas = Canvas(120, 160, np.random.default_rng(0))
        Rider(x=0.0, z=5.0, kind=kind, facing=1, vehicle=(200.0, 30.0, 30.0),
              jacket=(60.0, 60.0, 60.0), helmet=(20.0, 20.0, 20.0),
              skin=(200.0, 150.0, 110.0)).draw(canvas, camera)
        rows, cols = np.nonzero(canvas.parts == PART[kind])
        box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        fills[kind] = len(rows) / box
        col, row = board.pt(rear_wheel, 0.33 - 0.2)  # between hub and tyre
        wheel_inside[kind] = canvas.parts[round(row), round(col)] == PART[kind]
    assert fills['bicyclist'] < 0.3 < fills['motorcyclist']     # thin frame vs bulky body
    assert not wheel_inside['bicyclist'] and wheel_inside['motorcyclist']  # open / solid


# ---------------------------------------------------------------- plans
def test_gtsdb_sign_plan_is_imbalanced_exactly():
    assert largest_remainder([0.45, 0.25, 0.15, 0.10, 0.05], 20) == [9, 5, 3, 2, 1]
    freqs = DemoDataConfig().sign_frequencies
    plan = plan_gtsdb_signs(np.random.default_rng(0), 120, freqs, (0.15, 0.45, 0.28, 0.12))
    assert Counter(len(p) for p in plan) == {0: 18, 1: 54, 2: 34, 3: 14}
    kinds = Counter(k for p in plan for k in p)
    total = sum(kinds.values())
    assert total == 54 + 68 + 42
    assert [kinds[k] for k in freqs] == largest_remainder(list(freqs.values()), total)
    assert kinds['speed limit'] > kinds['give way'] > kinds['stop'] > kinds['keep right'] \
        > kinds['keep left'] > 0


# --------------------------------------------------------------- errors
def test_bad_settings_and_taxonomies_raise_typed_errors(tax):
    with pytest.raises(SyntheticDataError, match='num_gtsdb = 601 exceeds the 600'):
        DemoDataConfig(num_gtsdb=601).check()
    with pytest.raises(SyntheticDataError, match='city_size must be at least 32x32'):
        DemoDataConfig(city_size=(16, 32)).check()
    with pytest.raises(ValueError, match='cannot require'):
        sample_scene(np.random.default_rng(0), 64, 128, CITY_STYLE, ['unicorn'])
    data = yaml.safe_load((REPO / TAXONOMY).read_text())
    data['datasets']['gtsdb_like']['classes'][0]['attributes']['shape'] = 'circle'
    with pytest.raises(SyntheticDataError, match="draws 'stop' signs as 'octagon'"):
        sign_box_classes(Taxonomy.from_dict(data, source='bad'), 'gtsdb_like')
    data = yaml.safe_load((REPO / TAXONOMY).read_text())
    data['datasets']['city_like']['classes'][0] = {'name': 'void', 'node': 'sky'}
    with pytest.raises(SyntheticDataError, match='no ignored class'):
        part_label_table(Taxonomy.from_dict(data, source='no-ignore'), 'city_like')


# ------------------------------------------------------------------ CLI
def load_tool():
    spec = importlib.util.spec_from_file_location('make_demo_data',
                                                  REPO / 'tools' / 'make_demo_data.py')
    module = importlib.util.module_from_spec(spec)
    sys.modules['make_demo_data'] = module
    spec.loader.exec_module(module)
    return module


def test_cli_writes_summary_and_refuses_to_overwrite(tmp_path, capsys):
    tool = load_tool()
    args = [str(tmp_path), '--num-city', '1', '--num-vistas', '1', '--num-gtsdb', '2',
            '--num-val', '1', '--size', '64x128', '--seed', '7', '--previews', '1']
    assert tool.main(args) == 0
    out = capsys.readouterr().out
    assert 'city_like' in out and 'done in' in out
    import json
    summary = json.loads((tmp_path / 'demo_data.json').read_text())
    assert summary['seed'] == 7
    city = summary['sets']['city_like']['splits']
    assert city['train']['images'] == 1 and city['train']['sizes_hxw'] == {'64x128': 1}
    assert sum(city['train']['class_pixels'].values()) == 64 * 128
    gtsdb = summary['sets']['gtsdb_like']['splits']
    assert gtsdb['train']['numbers'] == [0, 1] and gtsdb['test']['numbers'] == [600, 600]
    assert sorted(p.name for p in (tmp_path / 'previews').iterdir()) == \
        ['city_like_00.png', 'gtsdb_like_00.png', 'vistas_like_00.png']
    assert tool.main(args) == 2
    assert 'pass --overwrite' in capsys.readouterr().err
    assert tool.main(args + ['--overwrite']) == 0
    assert tool.main([str(tmp_path / 'x'), '--num-gtsdb', '700']) == 2
    with pytest.raises(SystemExit):
        tool.main([str(tmp_path / 'y'), '--size', '128by256'])


def test_dataset_palette_is_the_one_hierarchical_palette():
    """Label colours of the demo data are the nodes' overlay colours."""
    from mmhier.demo import dataset_palette
    from mmhier.taxonomy import load_taxonomy
    from mmhier.taxonomy.palette import hierarchical_palette
    tax = load_taxonomy('tiny_street')
    node_colours = hierarchical_palette(tax)
    for key in tax.dataset_keys:
        palette = dataset_palette(tax, key)
        assert len({tuple(c) for c in palette.tolist()}) == len(palette)  # all distinct
        first = {}
        for cls in tax.dataset(key).classes:
            if cls.ignored:
                assert palette[cls.id].tolist() == [0, 0, 0]
            elif first.setdefault(cls.node, cls.id) == cls.id:
                np.testing.assert_array_equal(palette[cls.id],
                                              node_colours[tax.index(cls.node)])
