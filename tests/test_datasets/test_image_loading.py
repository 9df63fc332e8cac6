"""LoadCheckedImageFromFile (a drop-in for LoadImageFromFile) and the typed
errors datasets give for a plain LoadImageFromFile."""
import pickle
from pathlib import Path

import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, TRANSFORMS
from PIL import Image

from mmhier.datasets import CorruptFileError, MissingDataError
from mmhier.datasets.transforms.image_loading import DiagnosedImageLoader

FIXTURES = Path(__file__).resolve().parents[1] / 'data' / 'fixtures'
CITY_ROOT = FIXTURES / 'cityscapes'
CITY_IMG = (CITY_ROOT / 'leftImg8bit' / 'val' / 'frankfurt' /
            'frankfurt_000000_000294_leftImg8bit.png')
VISTAS_IMG = FIXTURES / 'mapillary' / 'validation' / 'images' / '__CRyFzoDOXn6unQ6a3DnQ.jpg'


@pytest.fixture(autouse=True, scope='module')
def mmseg_scope():
    init_default_scope('mmseg')


def build(**cfg):
    return TRANSFORMS.build(dict(type='LoadCheckedImageFromFile', **cfg))


@pytest.mark.parametrize('cfg', [
    {}, dict(to_float32=True), dict(color_type='grayscale'), dict(color_type='unchanged'),
    dict(imdecode_backend='pillow'), dict(imdecode_backend='pillow', color_type='grayscale'),
    dict(backend_args=dict(backend='local'))])
@pytest.mark.parametrize('path', [CITY_IMG, VISTAS_IMG], ids=['png', 'jpg'])
def test_same_results_as_load_image_from_file(cfg, path):
    checked = build(**cfg)
    assert isinstance(checked, LoadImageFromFile)
    plain = TRANSFORMS.build(dict(type='LoadImageFromFile', **cfg))
    got = checked(dict(img_path=str(path)))
    expected = plain(dict(img_path=str(path)))
    assert sorted(got) == sorted(expected) == ['img', 'img_path', 'img_shape', 'ori_shape']
    assert got['img'].dtype == expected['img'].dtype
    assert np.array_equal(got['img'], expected['img'])
    assert got['img_shape'] == expected['img_shape'] == got['ori_shape']


def test_bad_options_fail_at_construction():
    with pytest.raises(ValueError, match="imdecode_backend must be one of .*got 'pil'"):
        build(imdecode_backend='pil')
    with pytest.raises(ValueError, match="color_type must be one of .*got 'rgb'"):
        build(color_type='rgb')


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
@pytest.mark.parametrize('content,error,says', [
    (None, MissingDataError, 'image file not found'),
    (b'', CorruptFileError, 'the file is empty (0 bytes)'),
    (CITY_IMG.read_bytes()[:3000], CorruptFileError, 'the file is truncated'),
    (b'not an image at all', CorruptFileError, 'it is text, not an image')])
def test_broken_files_raise_typed_errors(tmp_path, backend, content, error, says):
    path = tmp_path / 'x_leftImg8bit.png'
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error) as info:
        build(imdecode_backend=backend)(dict(img_path=str(path)))
    assert str(info.value).startswith(f'{path}: ') and says in str(info.value)


def test_ignore_empty_skips_with_a_warning(tmp_path):
    (tmp_path / 'a.png').write_bytes(b'')
    with pytest.warns(UserWarning, match=r'a.png: cannot decode the image: the file is empty '
                                         r'.*\(ignore_empty=True: sample skipped\)'):
        assert build(ignore_empty=True)(dict(img_path=str(tmp_path / 'a.png'))) is None


# ------------------------------------------------------ plain loaders in datasets
def city_dataset(root, loader='LoadImageFromFile', **loader_cfg):
    return DATASETS.build(dict(
        type='CityscapesTaxonomyDataset', data_root=str(root), split='val',
        pipeline=[dict(type=loader, **loader_cfg), dict(type='LoadTaxonomyAnnotations'),
                  dict(type='PackTaxonomySegInputs')]))


@pytest.fixture
def city_copy(tmp_path):
    """The Cityscapes fixture, copied so that files can be broken."""
    for src in CITY_ROOT.rglob('*.png'):
        dst = tmp_path / src.relative_to(CITY_ROOT)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
    return tmp_path


def test_plain_loader_is_wrapped_but_unchanged(city_copy):
    dataset = city_dataset(city_copy)
    loader = dataset.pipeline.transforms[0]
    assert isinstance(loader, DiagnosedImageLoader)
    assert repr(loader) == repr(loader.loader) and loader.color_type == 'color'
    assert type(city_dataset(city_copy, 'LoadCheckedImageFromFile').pipeline.transforms[0]) \
        .__name__ == 'LoadCheckedImageFromFile'
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, 128, 256)
    assert isinstance(pickle.loads(pickle.dumps(loader)), DiagnosedImageLoader)


@pytest.mark.parametrize('loader', ['LoadImageFromFile', 'LoadCheckedImageFromFile'])
@pytest.mark.parametrize('content,error,says', [
    (b'', CorruptFileError, 'the file is empty'),
    (b'\x89PNG\r\n\x1a\n\x00\x00', CorruptFileError, 'the file is truncated'),
    (b'<html>', CorruptFileError, 'it is text, not an image'),
    (None, MissingDataError, 'image file not found')])
def test_dataset_names_the_broken_image(city_copy, loader, content, error, says):
    dataset = city_dataset(city_copy, loader)
    path = Path(dataset.get_data_info(0)['img_path'])
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)
    with pytest.raises(error) as info:
        dataset[0]
    assert str(info.value).startswith(f'{path}: ') and says in str(info.value)


def test_unrelated_loader_errors_pass_through(city_copy):
    dataset = city_dataset(city_copy)

    def broken(results):
        raise KeyError('something else')
    dataset.pipeline.transforms[0].loader.transform = broken
    with pytest.raises(KeyError, match='something else'):
        dataset[0]


def test_grey_image_loads_as_colour(tmp_path):
    Image.fromarray(np.full((5, 6), 7, np.uint8)).save(tmp_path / 'g.png')
    out = build()(dict(img_path=str(tmp_path / 'g.png')))
    assert out['img'].shape == (5, 6, 3) and out['img_shape'] == (5, 6)
