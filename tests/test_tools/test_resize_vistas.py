"""tools/resize_vistas.py on a tiny generated Vistas tree and the real sample."""
import filecmp
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'resize_vistas.py'
VISTAS = REPO / 'tests' / 'data' / 'fixtures' / 'mapillary'
_spec = importlib.util.spec_from_file_location('resize_vistas', TOOL)
resize_vistas = importlib.util.module_from_spec(_spec)
sys.modules['resize_vistas'] = resize_vistas     # dataclasses and worker pickling look it up
_spec.loader.exec_module(resize_vistas)

PALETTE = [(7 * i) % 256 for i in range(768)]        # colour != index


def quadrant_label(width, height, ids=(2, 13, 24, 65)):
    """Four blocks of ids, split at even coordinates (exact under x2 nearest)."""
    label = np.empty((height, width), np.uint8)
    h, w = height // 2, width // 2
    label[:h, :w], label[:h, w:], label[h:, :w], label[h:, w:] = ids
    return label


def make_tree(root):
    """training/{images,v1.2/labels}: big (300x200) and small (80x60), plus
    validation/ with one big file and a config.json."""
    for split, key, size in [('training', 'big', (300, 200)), ('training', 'small', (80, 60)),
                             ('validation', 'val', (300, 200))]:
        (root / split / 'images').mkdir(parents=True, exist_ok=True)
        (root / split / 'v1.2' / 'labels').mkdir(parents=True, exist_ok=True)
        w, h = size
        x, y = np.meshgrid(np.arange(w) % 256, np.arange(h) % 256)
        photo = np.stack([x, y, np.full((h, w), 128)], axis=-1).astype(np.uint8)
        Image.fromarray(photo).save(root / split / 'images' / f'{key}.jpg', quality=90)
        label = Image.fromarray(quadrant_label(w, h))
        label.putpalette(PALETTE)
        label.save(root / split / 'v1.2' / 'labels' / f'{key}.png')
    (root / 'config.json').write_text('{"labels": []}')


def run(*argv):
    return resize_vistas.main([str(a) for a in argv])


def test_target_size():
    assert resize_vistas.target_size((4000, 3000), max_side=2048) == (2048, 1536)
    assert resize_vistas.target_size((3000, 4000), max_side=2048) == (1536, 2048)
    assert resize_vistas.target_size((4000, 3000), short_side=1024) == (1365, 1024)
    assert resize_vistas.target_size((1000, 500), max_side=2048) == (1000, 500)
    assert resize_vistas.target_size((5000, 2), max_side=100) == (100, 1)


def test_resizes_mirrors_and_keeps_palette(tmp_path, capsys):
    src, dst = tmp_path / 'src', tmp_path / 'dst'
    make_tree(src)
    assert run(src, dst, '--max-side', 150) == 0
    assert 'done: 4 resized, 3 copied, 0 skipped, 0 failed' in capsys.readouterr().out
    assert sorted(str(p.relative_to(dst)) for p in dst.rglob('*') if p.is_file()) == [
        'config.json', 'training/images/big.jpg', 'training/images/small.jpg',
        'training/v1.2/labels/big.png', 'training/v1.2/labels/small.png',
        'validation/images/val.jpg', 'validation/v1.2/labels/val.png']
    photo = Image.open(dst / 'training' / 'images' / 'big.jpg')
    assert photo.format == 'JPEG' and photo.size == (150, 100)
    label = Image.open(dst / 'training' / 'v1.2' / 'labels' / 'big.png')
    assert label.format == 'PNG' and label.mode == 'P' and label.size == (150, 100)
    assert label.getpalette() == PALETTE
    values = np.array(label)
    assert set(np.unique(values).tolist()) == {2, 13, 24, 65}
    # x2 nearest: exactly every second pixel of the source
    np.testing.assert_array_equal(values, quadrant_label(300, 200)[::2, ::2])
    # small enough already: copied byte for byte
    for rel in ('training/images/small.jpg', 'training/v1.2/labels/small.png', 'config.json'):
        assert filecmp.cmp(src / rel, dst / rel, shallow=False)


def test_second_run_skips_everything(tmp_path, capsys):
    src, dst = tmp_path / 'src', tmp_path / 'dst'
    make_tree(src)
    assert run(src, dst) == 0                                # default --max-side 2048
    stamps = {p: p.stat().st_mtime_ns for p in dst.rglob('*') if p.is_file()}
    capsys.readouterr()
    assert run(src, dst) == 0
    assert 'done: 0 resized, 0 copied, 7 skipped, 0 failed' in capsys.readouterr().out
    assert stamps == {p: p.stat().st_mtime_ns for p in dst.rglob('*') if p.is_file()}
    assert not list(dst.rglob('*.tmp*'))


def test_changed_size_option_redoes_outputs(tmp_path, capsys):
    src, dst = tmp_path / 'src', tmp_path / 'dst'
    make_tree(src)
    assert run(src, dst, '--max-side', 150) == 0
    capsys.readouterr()
    assert run(src, dst, '--short-side', 50) == 0
    # 300x200 -> short side 50: 75x50; 80x60 -> 67x50 (80 * 50 / 60 = 66.7)
    assert 'done: 6 resized, 0 copied, 1 skipped' in capsys.readouterr().out
    assert Image.open(dst / 'training' / 'images' / 'big.jpg').size == (75, 50)
    small = Image.open(dst / 'training' / 'v1.2' / 'labels' / 'small.png')
    assert small.size == (67, 50) and small.mode == 'P' and small.getpalette() == PALETTE
    assert set(np.unique(np.array(small)).tolist()) == {2, 13, 24, 65}


def test_workers_give_the_same_files(tmp_path):
    src = tmp_path / 'src'
    make_tree(src)
    assert run(src, tmp_path / 'one', '--max-side', 120) == 0
    assert run(src, tmp_path / 'two', '--max-side', 120, '--workers', 2) == 0
    for path in (tmp_path / 'one').rglob('*'):
        if path.is_file():
            assert filecmp.cmp(path, tmp_path / 'two' / path.relative_to(tmp_path / 'one'),
                               shallow=False)


def test_corrupt_files_are_reported_and_the_rest_done(tmp_path, capsys):
    src, dst = tmp_path / 'src', tmp_path / 'dst'
    make_tree(src)
    images = src / 'training' / 'images'
    (images / 'broken.jpg').write_bytes(b'\xff\xd8\xff not a jpeg')
    (images / 'empty.jpg').write_bytes(b'')
    # small enough to be copied unchanged, but cut in half: still reported
    small = (images / 'small.jpg').read_bytes()
    (images / 'half.jpg').write_bytes(small[:len(small) // 2])
    labels = src / 'training' / 'v1.2' / 'labels'
    (labels / 'cut.png').write_bytes((labels / 'big.png').read_bytes()[:200])
    assert run(src, dst, '--max-side', 150) == 1
    out = capsys.readouterr()
    assert '4 resized, 3 copied, 0 skipped, 4 failed' in out.out
    errors = [line for line in out.err.splitlines() if line.startswith('error:')]
    assert len(errors) == 4 and 'Traceback' not in out.err
    for name, reason in [('training/images/broken.jpg', 'cannot decode the photo'),
                         ('training/images/empty.jpg', 'empty'),
                         ('training/images/half.jpg', 'truncated'),
                         ('training/v1.2/labels/cut.png', 'truncated')]:
        line, = [e for e in errors if f'{src / name}:' in e]
        assert reason in line, line
        assert not (dst / name).exists()
    assert Image.open(dst / 'training' / 'images' / 'big.jpg').size == (150, 100)


def test_bad_usage(tmp_path, capsys):
    assert run(tmp_path / 'missing', tmp_path / 'out') == 2
    (tmp_path / 'src').mkdir()
    assert run(tmp_path / 'src', tmp_path / 'src' / 'resized') == 2
    assert 'must not contain each other' in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:        # argparse: exclusive options
        run(tmp_path / 'src', tmp_path / 'out', '--max-side', 10, '--short-side', 10)
    assert info.value.code == 2


def test_resized_real_sample_loads_through_the_dataset(tmp_path):
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    import mmhier.datasets.mapillary  # noqa: F401
    import mmhier.datasets.transforms.loading  # noqa: F401
    from mmhier.taxonomy import load_taxonomy

    init_default_scope('mmseg')
    assert run(VISTAS, tmp_path / 'small', '--max-side', 64) == 0
    ds = DATASETS.build(dict(
        type='MapillaryVistasTaxonomyDataset', data_root=str(tmp_path / 'small'),
        split='validation', pipeline=[dict(type='LoadImageFromFile'),
                                      dict(type='LoadTaxonomyAnnotations'),
                                      dict(type='PackSegInputs')]))
    sample = ds[0]
    gt = sample['data_samples'].gt_sem_seg.data
    assert gt.shape == (1, 64, 64) and sample['inputs'].shape == (3, 64, 64)
    tax = load_taxonomy('taxonomies/cs_vistas_gtsdb.yaml')
    assert set(gt.unique().tolist()) <= {tax.index(n) for n in ('Building', 'Street Light',
                                                                  'Pole')}


def test_runs_as_a_script(tmp_path):
    src = tmp_path / 'src'
    make_tree(src)
    proc = subprocess.run([sys.executable, str(TOOL), str(src), str(tmp_path / 'dst'),
                           '--max-side', '100'], capture_output=True, text=True,
                          env={**os.environ, 'PYTHONPATH': ''})
    assert proc.returncode == 0, proc.stderr
    assert '[7/7] 100.0%' in proc.stderr and 'done: 4 resized, 3 copied' in proc.stdout
    assert 'note: 1 JSON file(s) copied unchanged' in proc.stdout
