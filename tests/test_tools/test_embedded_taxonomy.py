"""A checkpoint is self-contained: tools/infer.py and mmhier.apis.init_model
work from config + checkpoint where the config's taxonomy file is gone; a file
on disk whose tree differs is still refused."""
import shutil

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from mmhier.taxonomy.embedded import clear_registered
from tests.conftest import TAXONOMIES
from tests.test_tools.test_train_test_tools import (SIZE, TINY, load_tool, make_city_like,
                                                    write_config)

infer = load_tool('infer')


@pytest.fixture()
def moved_taxonomy_model(tmp_path):
    """A config naming a private copy of tiny_street, a checkpoint trained with
    it, one image; the copy is deleted afterwards (as on another machine)."""
    import mmhier.models  # noqa: F401
    from mmseg.registry import MODELS
    copy = tmp_path / 'private' / 'tiny_street.yaml'
    copy.parent.mkdir()
    shutil.copy(TINY, copy)
    data = make_city_like(tmp_path / 'data', count=1)
    config = write_config(tmp_path / 'cfg.py', data, taxonomy=copy)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    checkpoint = tmp_path / 'iter_1.pth'
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, checkpoint)
    image = next((data / 'leftImg8bit' / 'train' / 'toy').glob('*.png'))
    copy.unlink()
    clear_registered()
    yield config, checkpoint, image, model, copy
    clear_registered()


def test_infer_uses_the_embedded_taxonomy(moved_taxonomy_model, tmp_path, capsys):
    config, checkpoint, image, _, _ = moved_taxonomy_model
    out = tmp_path / 'out'
    assert infer.main([str(config), str(checkpoint), str(image), '--out', str(out),
                       '--device', 'cpu']) == 0
    nodes = np.array(Image.open(out / f'{image.stem}_nodes.png'))
    assert nodes.shape == SIZE


def test_init_model_uses_the_embedded_taxonomy(moved_taxonomy_model):
    from mmseg.apis import inference_model

    from mmhier.apis import init_model
    config, checkpoint, image, trained, _ = moved_taxonomy_model
    model = init_model(str(config), str(checkpoint), device='cpu')
    assert model.decode_head.taxonomy.tree_hash == trained.decode_head.taxonomy.tree_hash
    assert str(checkpoint) in model.decode_head.taxonomy.source
    ours, theirs = model.state_dict(), trained.state_dict()
    assert ours.keys() == theirs.keys()
    for key in ours:
        if not key.endswith('taxonomy_record'):  # the record's source names the copy
            assert torch.equal(ours[key], theirs[key]), key
    from mmhier.models.heads.taxonomy_state import decode_record
    assert decode_record(ours['decode_head.taxonomy_record'])['yaml'] == \
        decode_record(theirs['decode_head.taxonomy_record'])['yaml']
    tax = model.decode_head.taxonomy
    assert model.dataset_meta['classes'] == tax.nodes  # prediction values index them
    assert len(model.dataset_meta['palette']) == tax.num_nodes
    result = inference_model(model, str(image))
    assert tuple(result.pred_sem_seg.data.shape[-2:]) == SIZE


def test_a_different_file_on_disk_is_refused(moved_taxonomy_model, tmp_path, capsys):
    config, checkpoint, image, _, copy = moved_taxonomy_model
    shutil.copy(TAXONOMIES / 'cityscapes_extended.yaml', copy)  # same path, other tree
    assert infer.main([str(config), str(checkpoint), str(image), '--out',
                       str(tmp_path / 'out'), '--device', 'cpu']) == 1
    err = capsys.readouterr().err
    assert 'TaxonomyMismatchError' in err and "'tiny_street'" in err \
        and "'cityscapes_extended'" in err


def test_test_tool_uses_the_embedded_taxonomy(moved_taxonomy_model, tmp_path):
    """tools/test.py evaluates with config + checkpoint: model, dataset and
    metric all take the checkpoint's copy of the missing taxonomy file."""
    config, checkpoint, _, _, _ = moved_taxonomy_model
    test_tool = load_tool('test')
    out = tmp_path / 'preds'
    assert test_tool.main([str(config), str(checkpoint), '--work-dir', str(tmp_path / 'w'),
                           '--out', str(out)]) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob('*.png'))
    assert len(written) == 1 and written[0].startswith('city_like/')
