"""GTSDB: gt.txt parsing and checks, PPM headers, the 600/300 split, pipeline."""
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import mmhier.datasets.gtsdb as gtsdb
import mmhier.datasets.transforms.box_pseudo_masks  # noqa: F401 (registers)
import mmhier.datasets.transforms.flip_class_swap  # noqa: F401 (registers)
from mmhier.datasets.errors import AnnotationError, CorruptFileError, MissingDataError
from mmhier.datasets.pseudo_masks import shape_mask
from mmhier.taxonomy import load_taxonomy

TAXONOMY = 'taxonomies/cs_vistas_gtsdb.yaml'
EXAMPLE = ('00000.ppm;774;411;815;446;11\n'
           '00001.ppm;983;388;1024;432;40\n'
           '00001.ppm;386;494;442;552;38\n'
           '00001.ppm;973;335;1031;390;13\n')
FULL_SIZE = {'00000.ppm': (800, 1360), '00001.ppm': (800, 1360)}


@pytest.fixture(autouse=True, scope='module')
def mmseg_scope():
    init_default_scope('mmseg')


def write_ppm(path, height=30, width=40, header=None):
    pixels = np.arange(height * width * 3, dtype=np.uint32).astype(np.uint8)
    path.write_bytes((header or f'P6\n{width} {height}\n255\n').encode() + pixels.tobytes())
    return path


def write_gt(tmp_path, text):
    path = tmp_path / 'gt.txt'
    path.write_text(text)
    return path


# ------------------------------------------------------------ PPM header
def test_ppm_size_is_read_from_the_header_only(tmp_path):
    # no pixel data at all: the size must come from the header alone
    (tmp_path / 'a.ppm').write_bytes(b'P6\n# made by hand\n1360 # width\n800\n255\n')
    assert gtsdb.read_ppm_size(tmp_path / 'a.ppm') == (800, 1360)
    assert gtsdb.read_ppm_size(write_ppm(tmp_path / 'b.ppm', 30, 40)) == (30, 40)


def test_ppm_size_errors(tmp_path):
    (tmp_path / 'x.ppm').write_bytes(b'\x89PNG\r\n\x1a\n')
    with pytest.raises(CorruptFileError, match='x.ppm: not a PPM'):
        gtsdb.read_ppm_size(tmp_path / 'x.ppm')
    with pytest.raises(MissingDataError, match='nope.ppm'):
        gtsdb.read_ppm_size(tmp_path / 'nope.ppm')


# -------------------------------------------------------------- gt.txt
def test_parses_the_documented_example_lines(tmp_path):
    parsed = gtsdb.parse_gtsdb_annotations(write_gt(tmp_path, EXAMPLE), FULL_SIZE, 43)
    assert sorted(parsed) == ['00000.ppm', '00001.ppm']
    boxes, labels = parsed['00000.ppm']
    assert boxes.dtype == np.float32 and labels.dtype == np.int64
    assert boxes.tolist() == [[774, 411, 815, 446]] and labels.tolist() == [11]
    boxes, labels = parsed['00001.ppm']
    assert boxes.tolist() == [[983, 388, 1024, 432], [386, 494, 442, 552],
                              [973, 335, 1031, 390]]
    assert labels.tolist() == [40, 38, 13]


def test_empty_lines_crlf_and_spaces_are_fine(tmp_path):
    text = '\r\n00000.ppm ; 774;411;815;446; 11\r\n\r\n   \n'
    parsed = gtsdb.parse_gtsdb_annotations(write_gt(tmp_path, text), FULL_SIZE, 43)
    assert parsed['00000.ppm'][0].tolist() == [[774, 411, 815, 446]]


def test_sizes_come_from_the_image_folder(tmp_path):
    write_ppm(tmp_path / '00000.ppm', 30, 40)
    gt = write_gt(tmp_path, '00000.ppm;0;0;39;29;14\n')
    assert gtsdb.parse_gtsdb_annotations(gt, tmp_path, 43)['00000.ppm'][0].tolist() == \
        [[0, 0, 39, 29]]
    gt = write_gt(tmp_path, '00000.ppm;0;0;40;29;14\n')  # one column too wide
    with pytest.raises(AnnotationError, match='outside the 40x30 image'):
        gtsdb.parse_gtsdb_annotations(gt, tmp_path, 43)


BAD_LINES = [
    ('00000.ppm;774;411;815;446', '5 field', 'filename;leftCol;topRow'),
    ('00000.ppm;774;411;815;446;11;3', '7 field', 'e.g. 00000.ppm'),
    ('00000.ppm;774;x;815;446;11', "topRow 'x' is not an integer", ''),
    ('00000.ppm;774;411;815;446;11.0', "ClassID '11.0' is not an integer", ''),
    ('00000.ppm;774;411;8_15;446;11', "rightCol '8_15' is not an integer", ''),
    ('00000.ppm;774;411;1360;446;11', 'outside the 1360x800 image', 'fix or remove'),
    ('00000.ppm;-1;411;815;446;11', 'outside the 1360x800 image', 'columns 0..1359'),
    ('00000.ppm;774;411;815;800;11', 'outside the 1360x800 image', 'rows 0..799'),
    ('00000.ppm;774;411;774;446;11', 'zero or negative area', 'swapped'),
    ('00000.ppm;815;411;774;446;11', 'zero or negative area', 'rightCol must exceed'),
    ('00000.ppm;774;446;815;411;11', 'zero or negative area', 'bottomRow must exceed'),
    ('00000.ppm;774;411;815;446;43', 'unknown ClassID 43', 'ids 0..42'),
    ('00000.ppm;774;411;815;446;-1', 'unknown ClassID -1', 'add the class'),
    ('00042.ppm;774;411;815;446;11', "image '00042.ppm' does not exist", 'restore'),
]


@pytest.mark.parametrize('line,reason,hint', BAD_LINES)
def test_every_bad_line_raises_naming_file_and_line(tmp_path, line, reason, hint):
    gt = write_gt(tmp_path, f'00000.ppm;774;411;815;446;11\n\n{line}\n')
    with pytest.raises(AnnotationError) as info:
        gtsdb.parse_gtsdb_annotations(gt, FULL_SIZE, 43)
    assert info.value.path == str(gt) and info.value.line == 3
    assert str(info.value).startswith(f'{gt}:3: ')
    assert reason in info.value.reason and hint in info.value.reason


def test_binary_garbage_names_its_line(tmp_path):
    gt = tmp_path / 'gt.txt'
    gt.write_bytes(EXAMPLE.encode() + b'00002.ppm;\xff\xfe;1;2;3\n')
    with pytest.raises(AnnotationError, match=r'gt.txt:5: not ASCII/UTF-8 text'):
        gtsdb.parse_gtsdb_annotations(gt, FULL_SIZE, 43)


def test_lenient_mode_warns_and_skips_only_bad_lines(tmp_path):
    text = EXAMPLE + '00000.ppm;1;2;3\n00001.ppm;10;10;20;20;99\n00000.ppm;1;1;5;5;14\n'
    gt = write_gt(tmp_path, text)
    with pytest.warns(UserWarning) as record:
        parsed = gtsdb.parse_gtsdb_annotations(gt, FULL_SIZE, 43, strict=False)
    messages = [str(w.message) for w in record]
    assert len(messages) == 2
    assert messages[0].startswith(f'{gt}:5: 4 field(s)') and 'line skipped' in messages[0]
    assert messages[1].startswith(f'{gt}:6: unknown ClassID 99')
    assert parsed['00000.ppm'][0].tolist() == [[774, 411, 815, 446], [1, 1, 5, 5]]
    assert parsed['00000.ppm'][1].tolist() == [11, 14]
    assert parsed['00001.ppm'][1].tolist() == [40, 38, 13]


def test_missing_annotation_file(tmp_path):
    with pytest.raises(MissingDataError, match='gt.txt: GTSDB annotation file not found'):
        gtsdb.parse_gtsdb_annotations(tmp_path / 'gt.txt', FULL_SIZE, 43)


# -------------------------------------------------------------- dataset
@pytest.fixture
def gtsdb_root(tmp_path):
    """FullIJCNN2013 with 00000 (stop), 00001 (no sign), 00599 (two signs),
    00600 (keep right) and a class folder of crops that must be ignored."""
    folder = tmp_path / 'FullIJCNN2013'
    (folder / '14').mkdir(parents=True)
    for name in ('00000', '00001', '00599', '00600'):
        write_ppm(folder / f'{name}.ppm')
    write_ppm(folder / '14' / '00000.ppm', 8, 8)
    (folder / 'gt.txt').write_text('00000.ppm;5;4;11;10;14\n'
                                   '00599.ppm;0;0;9;9;12\n'
                                   '00599.ppm;20;5;26;11;13\n'
                                   '00600.ppm;30;20;36;26;38\n')
    return tmp_path


def build(root, **cfg):
    return DATASETS.build(dict(type='GTSDBTaxonomyDataset', data_root=str(root), **cfg))


def names(dataset):
    return [dataset.get_data_info(i)['img_path'].rsplit('/', 1)[1]
            for i in range(len(dataset))]


def test_standard_split_by_image_number(gtsdb_root):
    assert names(build(gtsdb_root, split='train')) == ['00000.ppm', '00001.ppm', '00599.ppm']
    assert names(build(gtsdb_root, split='test')) == ['00600.ppm']
    assert len(build(gtsdb_root, split='all')) == 4
    with pytest.raises(ValueError, match='train, test, all'):
        build(gtsdb_root, split='val')


def test_data_info_carries_boxes_and_taxonomy(gtsdb_root):
    dataset = build(gtsdb_root, split='train')
    info = dataset.get_data_info(2)
    assert info['img_path'] == str(gtsdb_root / 'FullIJCNN2013' / '00599.ppm')
    assert info['gt_boxes'].dtype == np.float32
    assert info['gt_boxes'].tolist() == [[0, 0, 9, 9], [20, 5, 26, 11]]
    assert info['gt_box_labels'].tolist() == [12, 13]
    assert info['dataset_key'] == 'gtsdb'
    assert load_taxonomy(info['taxonomy']).source.endswith('cs_vistas_gtsdb.yaml')
    assert 'seg_map_path' not in info
    empty = dataset.get_data_info(1)
    assert empty['gt_boxes'].shape == (0, 4) and empty['gt_box_labels'].shape == (0,)
    assert dataset.metainfo['annotation'] == 'box'


PIPELINE = [dict(type='LoadImageFromFile'), dict(type='BoxesToPseudoMask'),
            dict(type='RandomFlip', prob=0.0), dict(type='SwapFlippedClasses'),
            dict(type='PackSegInputs')]


def test_pipeline_turns_boxes_into_encoded_pseudo_masks(gtsdb_root):
    tax = load_taxonomy(TAXONOMY)
    n = tax.num_nodes
    dataset = build(gtsdb_root, split='train', pipeline=PIPELINE)
    sample = dataset[0]
    gt = sample['data_samples'].gt_sem_seg.data
    assert tuple(sample['inputs'].shape) == (3, 30, 40) and tuple(gt.shape) == (1, 30, 40)
    expected = np.full((30, 40), -1)
    expected[4:11, 5:12][shape_mask('octagon', 7, 7)] = tax.index('stop') + n
    assert gt[0].numpy().tolist() == expected.tolist()
    # image without a sign: all ignore
    assert dataset[1]['data_samples'].gt_sem_seg.data.unique().tolist() == [-1]
    gt = dataset[2]['data_samples'].gt_sem_seg.data[0].numpy()
    expected = np.full((30, 40), -1)
    expected[0:10, 0:10][shape_mask('diamond', 10, 10)] = tax.index('priority road') + n
    expected[5:12, 20:27][shape_mask('inverted_triangle', 7, 7)] = tax.index('give way') + n
    assert gt.tolist() == expected.tolist()


def test_dataset_strictness(gtsdb_root):
    gt = gtsdb_root / 'FullIJCNN2013' / 'gt.txt'
    gt.write_text(gt.read_text() + '00001.ppm;1;1;50;5;3\n')
    with pytest.raises(AnnotationError, match=r'gt.txt:5: box \(1, 1, 50, 5\) lies outside'):
        build(gtsdb_root, split='train')
    with pytest.warns(UserWarning, match='gt.txt:5: '):
        dataset = build(gtsdb_root, split='train', strict=False)
    assert dataset.get_data_info(1)['gt_boxes'].shape == (0, 4)


def test_missing_folder_or_annotations(tmp_path, gtsdb_root):
    with pytest.raises(MissingDataError, match='image folder not found'):
        build(tmp_path / 'nowhere')
    (gtsdb_root / 'FullIJCNN2013' / 'gt.txt').unlink()
    with pytest.raises(MissingDataError, match='annotation file not found'):
        build(gtsdb_root)


# ---------------------------------------------------- gt.txt: the whole class
ONE = '00000.ppm;774;411;815;446;11'


def write_gt_bytes(tmp_path, content):
    path = tmp_path / 'gt.txt'
    path.write_bytes(content)
    return path


@pytest.mark.parametrize('content', [
    b'\xef\xbb\xbf' + EXAMPLE.encode(),                          # UTF-8 byte-order mark
    EXAMPLE.replace('\n', '\r\n').encode(),                      # Windows
    EXAMPLE.replace('\n', '\r').encode(),                        # old Mac
    EXAMPLE.encode() + b'\n\n  \n\t\n',                          # trailing blank lines
    EXAMPLE.rstrip('\n').encode(),                               # no final newline
    b'filename;leftCol;topRow;rightCol;bottomRow;ClassID\n' + EXAMPLE.encode(),  # header
    EXAMPLE.replace(';', ' ; ').encode(),                        # spaces
    EXAMPLE.encode() + b'\xef\xbb\xbf' + ONE.encode() + b'\n',  # cat'ed file with a BOM
], ids=['bom', 'crlf', 'cr', 'blank-tail', 'no-final-newline', 'header', 'spaces',
        'bom-mid-file'])
def test_acceptable_variants_parse_to_the_same_boxes(tmp_path, content, recwarn):
    parsed = gtsdb.parse_gtsdb_annotations(write_gt_bytes(tmp_path, content), FULL_SIZE, 43)
    assert parsed['00000.ppm'][0].tolist() == [[774, 411, 815, 446]]
    assert parsed['00000.ppm'][1].tolist() == [11]
    assert parsed['00001.ppm'][1].tolist() == [40, 38, 13]


def test_exact_repeat_is_dropped_with_a_warning(tmp_path):
    gt = write_gt(tmp_path, EXAMPLE + ONE + '\n')
    with pytest.warns(UserWarning, match=r'gt.txt:5: repeats line 1; the repeat is ignored'):
        parsed = gtsdb.parse_gtsdb_annotations(gt, FULL_SIZE, 43)
    assert parsed['00000.ppm'][1].tolist() == [11]


def test_same_box_with_two_classes_is_an_error(tmp_path):
    gt = write_gt(tmp_path, EXAMPLE + '00000.ppm;774;411;815;446;12\n')
    with pytest.raises(AnnotationError, match=r'gt.txt:5: box \[774, 411, 815, 446\] of '
                                              r"'00000.ppm' has ClassID 12 here but 11 on "
                                              r'line 1'):
        gtsdb.parse_gtsdb_annotations(gt, FULL_SIZE, 43)


MORE_BAD_LINES = [
    ('00000.ppm;774;411;815;446;11;', '7 field', 'remove the ";" at the end'),
    ('00000.ppm,774,411,815,446,11', '1 field', 'not "," or tabs'),
    ('00000.ppm;774;411;815.5;446;11', "rightCol '815.5' is not an integer",
     'without a fractional part'),
    ('00000.ppm;7.74e2;411;815;446;11', "leftCol '7.74e2' is not an integer", 'fractional'),
    ('00000.ppm;;411;815;446;11', 'leftCol is empty', 'expected 6 fields'),
    ('00000.ppm;+774;411;815;446;11', "leftCol '+774' is not an integer", ''),
    ('00000.ppm;774;411;815;446;1' + '0' * 30, 'ClassID', 'more than 9 digits'),
    (';774;411;815;446;11', 'the filename is empty', ''),
    ('imgs/00000.ppm;774;411;815;446;11', 'has a folder part', 'bare file name'),
    ('00000.ppm;774;411;815;446;\u0661', 'is not an integer', ''),   # Arabic-Indic 1
    ('00000.ppm;774;4\x0011;815;446;11', 'control character U+0000 at column 16', ''),
    ('00000.ppm;0;0;1360;800;11', 'outside the 1360x800 image', ''),
    ('00000.ppm;-5;-5;10;10;11', 'outside the 1360x800 image', ''),
    ('00000.PPM;774;411;815;446;11', "image '00000.PPM' does not exist", ''),
]


@pytest.mark.parametrize('line,reason,hint', MORE_BAD_LINES)
def test_more_bad_lines(tmp_path, line, reason, hint):
    gt = write_gt(tmp_path, f'{ONE}\n{line}\n')
    with pytest.raises(AnnotationError) as info:
        gtsdb.parse_gtsdb_annotations(gt, FULL_SIZE, 43)
    assert info.value.line == 2 and str(info.value).startswith(f'{gt}:2: ')
    assert reason in info.value.reason and hint in info.value.reason


def test_all_bad_lines_are_reported_at_once(tmp_path):
    lines = [ONE, '00000.ppm;1;2;3', ONE.replace('11', '99'), ONE, 'x;y'] + \
        [f'00000.ppm;{i};0;0;0;1' for i in range(30)]
    gt = write_gt(tmp_path, '\n'.join(lines) + '\n')
    with pytest.warns(UserWarning, match='repeats line 1'):
        with pytest.raises(AnnotationError) as info:
            gtsdb.parse_gtsdb_annotations(gt, FULL_SIZE, 43)
    error = info.value
    assert error.line == 2 and [n for n, _ in error.problems][:3] == [2, 3, 5]
    assert len(error.problems) == 33
    message = str(error).splitlines()
    assert message[0].startswith(f'{gt}:2: 4 field(s)')
    assert message[1] == f'32 more problem(s) in {gt}:'
    assert message[2].startswith(f'  {gt}:3: unknown ClassID 99')
    assert message[3].startswith(f'  {gt}:5: 2 field(s)')
    assert message[-1] == '  ... and 12 more'
    # the error survives pickling (data loader workers)
    import pickle
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.problems == error.problems


@pytest.mark.parametrize('content,reason', [
    (b'', 'holds no boxes (the file is empty'),
    (b'\n\n  \r\n', 'holds no boxes'),
    (b'filename;leftCol;topRow;rightCol;bottomRow;ClassID\n', 'holds no boxes'),
    (EXAMPLE.encode('utf-16'), 'the file is UTF-16 text; save gt.txt as UTF-8'),
    (b'\x89PNG\r\n\x1a\n' + b'\x00' * 64, 'the file is a PNG image, not the gt.txt'),
    (b'P6\n40 30\n255\n' + b'\x80' * 3600, 'the file is a PPM image'),
    (b'PK\x03\x04' + b'\x00' * 64, 'the file is a ZIP archive'),
    (bytes(range(256)) * 8, 'the file holds binary data'),
])
def test_files_that_are_not_gt_txt(tmp_path, content, reason):
    gt = write_gt_bytes(tmp_path, content)
    with pytest.raises(AnnotationError) as info:
        gtsdb.parse_gtsdb_annotations(gt, FULL_SIZE, 43)
    assert info.value.line == 1 and reason in info.value.reason


def test_empty_file_only_warns_when_lenient(tmp_path):
    with pytest.warns(UserWarning, match='gt.txt:1: holds no boxes'):
        assert gtsdb.parse_gtsdb_annotations(write_gt(tmp_path, ''), FULL_SIZE, 43,
                                             strict=False) == {}


def test_binary_file_raises_even_when_lenient(tmp_path):
    gt = write_gt_bytes(tmp_path, b'\x00\x01\x02' * 100)
    with pytest.raises(AnnotationError, match='gt.txt:1: the file holds binary data'):
        gtsdb.parse_gtsdb_annotations(gt, FULL_SIZE, 43, strict=False)


def test_annotation_path_is_a_folder(tmp_path):
    (tmp_path / 'gt.txt').mkdir()
    with pytest.raises(MissingDataError, match='gt.txt: is a folder, not a file'):
        gtsdb.parse_gtsdb_annotations(tmp_path / 'gt.txt', FULL_SIZE, 43)


def test_sizes_of_non_ppm_images_come_from_their_headers(tmp_path):
    from PIL import Image
    Image.new('RGB', (40, 30)).save(tmp_path / '00000.png')
    gt = write_gt(tmp_path, '00000.png;0;0;39;29;14\n00000.png;0;0;40;29;14\n')
    with pytest.raises(AnnotationError, match=r'gt.txt:2: box \(0, 0, 40, 29\) lies outside '
                                              'the 40x30 image'):
        gtsdb.parse_gtsdb_annotations(gt, tmp_path, 43)


def test_unreadable_referenced_image_names_image_and_line(tmp_path):
    (tmp_path / '00000.ppm').write_bytes(b'')
    gt = write_gt(tmp_path, '\n00000.ppm;0;0;9;9;14\n')
    with pytest.raises(CorruptFileError) as info:
        gtsdb.parse_gtsdb_annotations(gt, tmp_path, 43)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / '00000.ppm'}: cannot read the image size")
    assert message.endswith(f'(image of {gt}:2)')
    with pytest.warns(UserWarning, match='gt.txt:2: .*00000.ppm: cannot read the image size'):
        assert gtsdb.parse_gtsdb_annotations(gt, tmp_path, 43, strict=False) == {}


def test_boxes_of_images_with_another_suffix_are_reported(gtsdb_root):
    from PIL import Image
    folder = gtsdb_root / 'FullIJCNN2013'
    Image.new('RGB', (40, 30)).save(folder / '00002.png')
    gt = folder / 'gt.txt'
    gt.write_text(gt.read_text() + '00002.png;1;1;9;9;14\n')
    with pytest.warns(UserWarning, match=r'gt.txt: boxes of 1 image\(s\) that are not \*.ppm '
                                         r'files are ignored \(00002.png\)'):
        dataset = build(gtsdb_root, split='all')
    assert len(dataset) == 4
