"""read_image, the structural checks of image_format, read_image_size."""
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from mmhier.datasets import CorruptFileError, MissingDataError, read_image
from mmhier.datasets.image_format import find_problem, parse_netpbm_header, sniff_format
from mmhier.datasets.image_io import read_image_size

FIXTURES = Path(__file__).resolve().parents[1] / 'data' / 'fixtures'
CITY_IMG = (FIXTURES / 'cityscapes' / 'leftImg8bit' / 'val' / 'frankfurt' /
            'frankfurt_000000_000294_leftImg8bit.png')
VISTAS_IMG = FIXTURES / 'mapillary' / 'validation' / 'images' / '__CRyFzoDOXn6unQ6a3DnQ.jpg'
FORMATS = {'png': 'PNG', 'jpg': 'JPEG', 'ppm': 'PPM'}


def noise(height=48, width=64, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def encode(array, fmt, **options):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.fixture
def truncated_images_allowed():
    """Pillow set up to fill in truncated files, as some code bases do globally."""
    old = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    yield
    ImageFile.LOAD_TRUNCATED_IMAGES = old


# ------------------------------------------------------------- read_image
@pytest.mark.parametrize('ext', FORMATS)
def test_reads_rgb_uint8(tmp_path, ext):
    array = noise()
    path = tmp_path / f'a.{ext}'
    path.write_bytes(encode(array, FORMATS[ext], **({'quality': 100} if ext == 'jpg' else {})))
    rgb = read_image(str(path))
    assert rgb.shape == (48, 64, 3) and rgb.dtype == np.uint8
    if ext != 'jpg':
        assert np.array_equal(rgb, array)
        assert np.array_equal(read_image(str(path), 'bgr'), array[:, :, ::-1])
    else:   # lossy: compare with Pillow's decode of the same file
        assert np.abs(rgb.astype(int) - np.asarray(Image.open(path))).mean() < 2


def test_reads_real_fixtures_and_grey_and_16bit(tmp_path):
    assert read_image(str(CITY_IMG)).shape == (128, 256, 3)
    assert read_image(str(VISTAS_IMG)).shape == (100, 100, 3)
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    Image.fromarray(grey).save(tmp_path / 'grey.png')
    rgb = read_image(str(tmp_path / 'grey.png'))
    assert rgb.shape == (3, 4, 3) and np.array_equal(rgb[:, :, 1], grey)
    Image.fromarray(np.full((3, 4), 0x1234, np.uint16)).save(tmp_path / 'deep.png')
    deep = read_image(str(tmp_path / 'deep.png'))
    assert deep.dtype == np.uint8 and deep.shape == (3, 4, 3) and deep.max() == 0x12


@pytest.mark.parametrize('ext', FORMATS)
@pytest.mark.parametrize('cut', [0.5, 0.9])
def test_truncated_files_are_reported_even_if_pillow_would_fill_them(
        tmp_path, ext, cut, truncated_images_allowed):
    content = encode(noise(), FORMATS[ext])
    path = tmp_path / f'cut.{ext}'
    path.write_bytes(content[:int(len(content) * cut)])
    # what a decoder alone would do: Pillow hands back a complete-looking image
    assert np.asarray(Image.open(path)).shape == (48, 64, 3)
    with pytest.raises(CorruptFileError) as info:
        read_image(str(path))
    message = str(info.value)
    assert message.startswith(f'{path}: cannot decode the image: the file is truncated')
    assert 'Restore the file' in message


@pytest.mark.parametrize('content,says', [
    (b'', 'the file is empty (0 bytes)'),
    (b'<!DOCTYPE html><html>Not Found</html>', 'it is text, not an image'),
    (b'version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n',
     'Git LFS pointer'),
    (bytes(range(256)) * 4, 'no image decoder recognises it'),
    (b'\x89PNG\r\n\x1a\n' + b'\x00garbage' * 8, 'truncated'),
    (b'\xff\xd8\xff\xe0\x00\x10JFIF', 'truncated'),
    (b'P6\n40 30\n255\n' + b'\x00' * 100, 'promises 40x30 pixels (3600 bytes'),
])
def test_broken_content_names_the_file_and_the_problem(tmp_path, content, says):
    path = tmp_path / 'photo.jpg'
    path.write_bytes(content)
    with pytest.raises(CorruptFileError, match=f'^{path}: cannot decode the image') as info:
        read_image(str(path))
    assert says in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(MissingDataError, match=f'{tmp_path}/nope.png: image file not found'):
        read_image(str(tmp_path / 'nope.png'))
    with pytest.raises(MissingDataError, match='is a folder, not a file'):
        read_image(str(tmp_path))


def test_bad_channel_order_is_a_value_error():
    with pytest.raises(ValueError, match="'rgb' or 'bgr'"):
        read_image(str(CITY_IMG), channel_order='RGBA')


# ------------------------------------------------------ structural checks
def test_complete_files_pass_at_every_format():
    for fmt, options in [('PNG', {}), ('JPEG', {}), ('JPEG', {'progressive': True}),
                         ('PPM', {})]:
        assert find_problem(encode(noise(), fmt, **options)) is None
    assert find_problem(CITY_IMG.read_bytes()) is None
    assert find_problem(VISTAS_IMG.read_bytes()) is None


@pytest.mark.parametrize('fmt', ['PNG', 'JPEG', 'PPM'])
def test_every_cut_is_found(fmt):
    content = encode(noise(16, 24), fmt)
    # cuts shorter than the signature are not recognised as the format at all
    start = {'PNG': 8, 'JPEG': 2, 'PPM': 2}[fmt]
    missed = [k for k in range(start, len(content)) if find_problem(content[:k]) is None]
    assert missed == []


def test_jpeg_thumbnail_end_marker_and_trailing_bytes():
    photo = encode(noise(), 'JPEG')
    thumb = encode(noise(8, 8, seed=1), 'JPEG')            # has its own FFD9
    app1 = b'\xff\xe1' + (len(thumb) + 8).to_bytes(2, 'big') + b'Exif\x00\x00' + thumb
    with_thumb = photo[:2] + app1 + photo[2:]
    assert find_problem(with_thumb) is None
    assert find_problem(with_thumb + b'\x00' * 64) is None          # bytes after EOI
    assert 'truncated' in find_problem(with_thumb[:len(with_thumb) - 200])
    assert 'truncated' in find_problem(with_thumb[:len(app1) + 10])  # inside the thumbnail


def test_netpbm_header_and_sniffing():
    header = parse_netpbm_header(b'P6\n# comment\n40 # w\n30\n255\n' + b'\x00' * 3600)
    assert header == (b'P6', 40, 30, 255, 27)   # raster after '255\n'
    assert header.raster_bytes() == 3600
    assert parse_netpbm_header(b'P5 4 2 65535 ').raster_bytes() == 16
    assert parse_netpbm_header(b'P4 9 2 ').raster_bytes() == 4
    assert parse_netpbm_header(b'P6\n0 30\n255\n') is None
    assert parse_netpbm_header(b'P9\n1 1\n255\n') is None
    assert [sniff_format(encode(noise(), f)) for f in ('PNG', 'JPEG', 'PPM')] == \
        ['PNG', 'JPEG', 'PPM']
    assert sniff_format(b'00000.ppm;1;2;3;4;5\n') is None


# ------------------------------------------------------- read_image_size
def test_image_size_from_headers(tmp_path):
    (tmp_path / 'a.ppm').write_bytes(b'P6\n1360 800\n255\n')    # header only
    assert read_image_size(tmp_path / 'a.ppm') == (800, 1360)
    assert read_image_size(CITY_IMG) == (128, 256)
    assert read_image_size(VISTAS_IMG) == (100, 100)
    (tmp_path / 'empty.png').write_bytes(b'')
    with pytest.raises(CorruptFileError, match='empty.png: cannot read the image size: '
                                               'the file is empty'):
        read_image_size(tmp_path / 'empty.png')
    (tmp_path / 'text.png').write_bytes(b'hello')
    with pytest.raises(CorruptFileError, match='text.png: .*it is text'):
        read_image_size(tmp_path / 'text.png')
    with pytest.raises(MissingDataError, match='nope.png'):
        read_image_size(tmp_path / 'nope.png')
