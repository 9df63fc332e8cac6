"""LoadTaxonomyAnnotations: decoding, one-lookup mapping, encoding, errors."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS
from PIL import Image

import mmhier.datasets.transforms.loading as loading
from mmhier.datasets.errors import (CorruptFileError, DatasetError, LabelFormatError,
                                    LabelIdOutOfRangeError, LabelSizeError,
                                    MissingDataError)
from mmhier.structures import label_space
from mmhier.taxonomy import Taxonomy, load_taxonomy

FIXTURES = Path(__file__).resolve().parents[1] / 'data' / 'fixtures'
CITY_GT = FIXTURES / 'cityscapes' / 'gtFine' / 'val' / 'frankfurt'
TAXONOMY = 'taxonomies/cs_vistas_gtsdb.yaml'


@pytest.fixture(autouse=True, scope='module')
def mmseg_scope():
    init_default_scope('mmseg')


def load(path, key='cityscapes', taxonomy=TAXONOMY, **results):
    transform = TRANSFORMS.build(dict(type='LoadTaxonomyAnnotations',
                                      taxonomy=taxonomy, dataset_key=key))
    return transform(dict(seg_map_path=str(path), seg_fields=[], **results))


def write_png(path, array, palette=None):
    image = Image.fromarray(array)
    if palette is not None:
        image.putpalette(palette)
    image.save(path)
    return path


def test_maps_real_label_ids_with_one_lookup():
    results = load(CITY_GT / 'frankfurt_000000_000294_gtFine_labelIds.png')
    gt = results['gt_seg_map']
    tax = load_taxonomy(TAXONOMY)
    assert gt.dtype == np.int32 and gt.shape == (128, 256)
    assert results['seg_fields'] == ['gt_seg_map']
    raw = np.array(Image.open(CITY_GT / 'frankfurt_000000_000294_gtFine_labelIds.png'))
    assert gt[raw == 7].tolist() == [tax.index('Driveable')] * 9740      # road
    assert gt[raw == 26].tolist() == [tax.index('Car')] * 1802
    assert gt[raw == 3].tolist() == [-1] * 764                          # out of roi


def test_box_dataset_labels_are_offset_by_num_nodes(tmp_path):
    # GTSDB is a box dataset: its labels are pseudo labels, node + N.
    tax = load_taxonomy(TAXONOMY)
    raw = np.array([[14, 13], [0, 38]], dtype=np.uint8)   # stop, give way, 20, keep right
    gt = load(write_png(tmp_path / 'boxes.png', raw), key='gtsdb')['gt_seg_map']
    n = tax.num_nodes
    assert gt.tolist() == [[tax.index('stop') + n, tax.index('give way') + n],
                           [tax.index('speed limit 20') + n, tax.index('keep right') + n]]


def test_palette_png_gives_indices_not_colours(tmp_path):
    raw = np.array([[24, 65], [17, 0]], dtype=np.uint8)
    palette = [255 - (i % 256) for i in range(768)]       # colour != index
    path = write_png(tmp_path / 'label.png', raw, palette)
    assert Image.open(path).mode == 'P'
    tax = load_taxonomy(TAXONOMY)
    gt = load(path, key='mapillary_vistas')['gt_seg_map']
    assert gt.tolist() == [[tax.index('Lane Marking - General'), -1],
                           [tax.index('Building'), tax.index('Bird')]]


def test_16bit_png_stays_16bit():
    # The real instanceIds PNG is 16-bit (Pillow mode I;16): car instances are
    # 26000 + k, which uint8 decoding would wrap.
    path = CITY_GT / 'frankfurt_000000_000294_gtFine_instanceIds.png'
    ids = loading.read_label_ids(str(path))
    assert ids.dtype == np.uint16
    values, counts = np.unique(ids, return_counts=True)
    assert dict(zip(values.tolist(), counts.tolist()))[26001] == 224
    assert values.max() == 26002


def big_taxonomy(num_groups=20, leaves_per_group=16):
    """root -> g<i> -> g<i>l<j>: 1 + 20 + 320 = 341 nodes.

    Dataset ``big`` (uint16 ids): ids 0 and 321-999 ignored, id k in 1..320
    -> leaf k - 1, id 1000 -> group g19. Leaf (g, l) has node index 2 + 17 g + l.
    """
    tree = {f'g{g}': [f'g{g}l{j}' for j in range(leaves_per_group)]
            for g in range(num_groups)}
    classes = {0: {'name': 'void', 'ignore': True}, 1000: {'name': 'g19', 'node': 'g19'}}
    classes.update({k: f'g{(k - 1) // leaves_per_group}l{(k - 1) % leaves_per_group}'
                    for k in range(1, num_groups * leaves_per_group + 1)})
    return Taxonomy.from_dict({'name': 'big', 'tree': {'root': tree},
                               'datasets': {'big': {'annotation': 'pixel',
                                                    'encoding': 'uint16',
                                                    'num_ids': 1001,
                                                    'ignore_ids': ['321-999'],
                                                    'classes': classes}}})


def test_node_ids_above_255_survive_the_pipeline(tmp_path):
    tax = big_taxonomy()
    assert tax.num_nodes == 341
    # hand-computed node indices: id 320 -> g19l15 = 2 + 17*19 + 15 = 340,
    # id 300 -> g18l11 = 2 + 306 + 11 = 319, id 1000 -> g19 = 1 + 17*19 = 324
    assert [tax.index(n) for n in ('g19l15', 'g18l11', 'g19')] == [340, 319, 324]
    label = np.zeros((30, 40), dtype=np.uint16)   # quadrants: TL, TR, BL, BR
    label[:15, :20], label[:15, 20:], label[15:, :20], label[15:, 20:] = 320, 300, 1000, 0
    write_png(tmp_path / 'label.png', label)
    assert Image.open(tmp_path / 'label.png').mode == 'I;16'
    Image.fromarray(np.full((30, 40, 3), 90, np.uint8)).save(tmp_path / 'img.png')
    pipeline = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadTaxonomyAnnotations', taxonomy=tax, dataset_key='big'),
        dict(type='Resize', scale=(80, 60), keep_ratio=True),       # x2, nearest
        dict(type='RandomCrop', crop_size=(40, 60)),               # spans the centre
        dict(type='RandomFlip', prob=1.0),
        dict(type='PackSegInputs')])
    for seed in range(3):
        np.random.seed(seed)
        out = pipeline(dict(img_path=str(tmp_path / 'img.png'),
                            seg_map_path=str(tmp_path / 'label.png'), seg_fields=[]))
        gt = out['data_samples'].gt_sem_seg.data
        assert gt.dtype == torch.int64
        assert gt.shape == (1, 40, 60)
        assert sorted(gt.unique().tolist()) == [-1, 319, 324, 340]
        # flipped: top-left shows the top-right quadrant, bottom-right the bottom-left
        assert gt[0, 0, 0] == 319 and gt[0, -1, -1] == 324
        assert gt[0, 0, -1] == 340 and gt[0, -1, 0] == -1


def test_lookup_table_is_the_shared_label_space_table(monkeypatch):
    """The transform maps ids with the dataset's LabelSpace.id_to_label (one
    table per taxonomy and dataset key, shared by every user)."""
    transform = TRANSFORMS.build(dict(type='LoadTaxonomyAnnotations'))
    tax = load_taxonomy(TAXONOMY)
    table = label_space(tax, 'cityscapes').id_to_label
    assert table is label_space(tax.source, 'cityscapes').id_to_label
    assert table.dtype == np.int32 and not table.flags.writeable
    assert table[20] == tax.index('Traffic Sign') and table[0] == -1
    path = CITY_GT / 'frankfurt_000000_000294_gtFine_labelIds.png'
    raw = np.asarray(Image.open(path))
    out = transform(dict(seg_map_path=str(path), seg_fields=[], taxonomy=tax.source,
                         dataset_key='cityscapes'))
    assert out['gt_seg_map'].tolist() == table[raw].tolist()
    marked = (np.arange(table.size) + 1000).astype(np.int32)
    monkeypatch.setitem(vars(label_space(tax, 'cityscapes')), 'id_to_label', marked)
    out = transform(dict(seg_map_path=str(path), seg_fields=[], taxonomy=tax,
                         dataset_key='cityscapes'))
    assert out['gt_seg_map'].tolist() == (raw.astype(np.int64) + 1000).tolist()
    trainids = CITY_GT / 'frankfurt_000000_000294_gtFine_labelTrainIds.png'
    out = transform(dict(seg_map_path=str(trainids), seg_fields=[], taxonomy=tax,
                         dataset_key='cityscapes_trainids'))
    assert out['gt_seg_map'].tolist() == \
        label_space(tax, 'cityscapes_trainids').id_to_label[
            np.asarray(Image.open(trainids))].tolist()


def test_missing_label_file(tmp_path):
    path = tmp_path / 'nope_gtFine_labelIds.png'
    with pytest.raises(MissingDataError, match='nope_gtFine_labelIds.png: label file not '):
        load(path)


def test_out_of_range_id_names_file_ids_and_dataset(tmp_path):
    raw = np.full((4, 4), 7, dtype=np.uint8)
    raw[0, 0], raw[1, 1] = 40, 34
    path = write_png(tmp_path / 'bad_gtFine_labelIds.png', raw)
    with pytest.raises(LabelIdOutOfRangeError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message and 'label ids 34, 40 are outside' in message
    assert "dataset 'cityscapes' (ids 0..33" in message


def test_16bit_ids_beyond_a_uint8_dataset_are_out_of_range(tmp_path):
    # labelTrainIds has 256 ids: an 8-bit file cannot leave it, a 16-bit one can
    path = write_png(tmp_path / 'train.png', np.array([[0, 256]], dtype=np.uint16))
    with pytest.raises(LabelIdOutOfRangeError,
                       match="256 are outside dataset 'cityscapes_trainids'"):
        load(path, key='cityscapes_trainids')


@pytest.mark.parametrize('content', [
    b'\x89PNG\r\n\x1a\n' + b'\x00garbage' * 8,                       # bad chunks
    (CITY_GT / 'frankfurt_000000_000294_gtFine_labelIds.png').read_bytes()[:300],  # truncated
    b''])
def test_corrupt_label_file(tmp_path, content):
    path = tmp_path / 'corrupt.png'
    path.write_bytes(content)
    with pytest.raises(CorruptFileError, match='corrupt.png: cannot decode the label image'):
        load(path)


def test_colour_label_image_is_rejected(tmp_path):
    path = write_png(tmp_path / 'x_gtFine_color.png', np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(CorruptFileError, match=r'shape \(4, 4, 3\); expected one channel'):
        load(path)


def test_label_size_must_match_image(tmp_path):
    path = write_png(tmp_path / 'small.png', np.full((10, 20), 7, np.uint8))
    with pytest.raises(DatasetError, match=r'small.png: label image is 20x10 \(WxH\) but '
                                           r'its image a.jpg is 256x128'):
        load(path, img_path='a.jpg', ori_shape=(128, 256), img_shape=(128, 256))


def test_needs_taxonomy_and_key():
    transform = TRANSFORMS.build(dict(type='LoadTaxonomyAnnotations'))
    with pytest.raises(ValueError, match='needs a taxonomy and a dataset key'):
        transform(dict(seg_map_path='x.png', seg_fields=[]))


def test_reduce_zero_label_is_refused():
    with pytest.raises(ValueError, match=r'mark id 0 as \{ignore: true\}'):
        load(CITY_GT / 'frankfurt_000000_000294_gtFine_labelIds.png', reduce_zero_label=True)


# ------------------------------------------------- label files of the wrong kind
def test_truncated_label_png_is_reported_even_if_pillow_would_fill_it(tmp_path, monkeypatch):
    from PIL import ImageFile
    monkeypatch.setattr(ImageFile, 'LOAD_TRUNCATED_IMAGES', True)
    content = (CITY_GT / 'frankfurt_000000_000294_gtFine_labelIds.png').read_bytes()
    path = tmp_path / 'half_gtFine_labelIds.png'
    path.write_bytes(content[:len(content) // 2])
    assert np.asarray(Image.open(path)).shape == (128, 256)      # Pillow alone: no error
    with pytest.raises(CorruptFileError, match=r'half_gtFine_labelIds.png: cannot decode the '
                                               r'label image: the file is truncated'):
        load(path)


@pytest.mark.parametrize('mode,channels', [('RGB', 3), ('RGBA', 4), ('LA', 2)])
def test_multi_channel_labels_name_the_mode(tmp_path, mode, channels):
    path = tmp_path / 'colour.png'
    Image.new(mode, (6, 4)).save(path)
    with pytest.raises(LabelFormatError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f'{path}: label image has shape (4, 6, {channels}); expected '
                              'one channel')
    assert f'Pillow mode {mode}' in message and 'palette PNGs' in message


def test_rgb_copy_of_a_vistas_palette_label(tmp_path):
    # The real Vistas label converted to RGB (colours instead of palette indices)
    label = FIXTURES / 'mapillary' / 'validation' / 'v1.2' / 'labels' / \
        '__CRyFzoDOXn6unQ6a3DnQ.png'
    assert Image.open(label).mode == 'P'
    path = tmp_path / 'rgb.png'
    Image.open(label).convert('RGB').save(path)
    with pytest.raises(LabelFormatError, match='rgb.png: .*Mapillary Vistas v1.2/labels'):
        load(path, key='mapillary_vistas')
    assert load(label, key='mapillary_vistas')['gt_seg_map'].shape == (100, 100)


def test_jpeg_label_is_refused(tmp_path):
    path = tmp_path / 'label.jpg'
    Image.fromarray(np.full((8, 8), 7, np.uint8)).save(path, quality=100)
    with pytest.raises(LabelFormatError, match='label.jpg: label image is a JPEG'):
        load(path)


def test_float_label_is_refused(tmp_path):
    path = tmp_path / 'label.tif'
    Image.fromarray(np.full((3, 3), 7.0, np.float32)).save(path)
    with pytest.raises(LabelFormatError, match=r'label.tif: label image holds float32 values '
                                               r'\(Pillow mode F\)'):
        load(path)


def test_16bit_label_for_an_8bit_dataset_is_refused_even_in_range(tmp_path):
    path = write_png(tmp_path / 'x_gtFine_labelIds.png', np.full((4, 4), 7, np.uint16))
    assert Image.open(path).mode == 'I;16'
    with pytest.raises(LabelFormatError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: label image is 16-bit but dataset 'cityscapes'")
    assert 'encoding uint8' in message and 'instanceIds' in message


def test_8bit_label_for_a_16bit_dataset_is_fine(tmp_path):
    tax = big_taxonomy()
    path = write_png(tmp_path / 'l.png', np.array([[1, 0]], np.uint8))
    assert load(path, key='big', taxonomy=tax)['gt_seg_map'].tolist() == \
        [[tax.index('g0l0'), -1]]


def test_label_size_mismatch_is_a_label_size_error(tmp_path):
    path = write_png(tmp_path / 'small.png', np.full((10, 20), 7, np.uint8))
    with pytest.raises(LabelSizeError, match='small.png: label image is 20x10'):
        load(path, img_path='a.jpg', ori_shape=(128, 256))


@pytest.mark.parametrize('content,says', [
    (b'GIF89a', 'cannot decode the label image'),
    (b'id,class\n1,road\n', 'it is text, not an image'),
    (b'version https://git-lfs.github.com/spec/v1\n', 'Git LFS pointer')])
def test_undecodable_label_files(tmp_path, content, says):
    path = tmp_path / 'l.png'
    path.write_bytes(content)
    with pytest.raises(CorruptFileError, match=f'^{path}: ') as info:
        load(path)
    assert says in str(info.value)


def test_label_path_is_a_folder(tmp_path):
    with pytest.raises(MissingDataError, match=f'{tmp_path}: is a folder, not a file'):
        load(tmp_path)


def test_node_set_classes_load_as_their_targets(tmp_path):
    """tiny_partial_labels street_coarse: id 2 -> [sidewalk, terrain] (target
    16), 5 -> [car, truck] (17), 7 -> [rider, bicycle] (18), 6 -> bus (14)."""
    raw = np.array([[2, 5, 7], [6, 255, 0]], dtype=np.uint8)
    path = write_png(tmp_path / 'coarse.png', raw)
    gt = load(path, 'street_coarse', 'taxonomies/tiny_partial_labels.yaml')['gt_seg_map']
    assert gt.tolist() == [[16, 17, 18], [14, -1, 1]]
