"""tools/infer.py: overlays with a hierarchy legend and 16-bit node maps, at
the full level of detail and cut at level 1."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from mmhier.taxonomy import load_taxonomy
from mmhier.visualization import hierarchical_palette, legend_image, overlay
from tests.test_tools.test_train_test_tools import (SIZE, TINY, load_tool, make_city_like,
                                                    run_tool, write_config)

infer = load_tool('infer')
LEGEND_WIDTH = 240


@pytest.fixture(scope='module')
def model_files(tmp_path_factory):
    """Config, a checkpoint of a freshly initialised model and two images."""
    import mmhier.models  # noqa: F401  (registers)
    from mmseg.registry import MODELS
    root = tmp_path_factory.mktemp('infer')
    data = make_city_like(root / 'data', count=2)
    config = write_config(root / 'tiny_hier.py', data)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    checkpoint = root / 'init.pth'
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, checkpoint)
    images = sorted((data / 'leftImg8bit' / 'train' / 'toy').glob('*.png'))
    return root, config, checkpoint, images


def read_rgb(path):
    return np.array(Image.open(path).convert('RGB'))


def test_writes_overlay_with_legend_and_node_map(model_files, tmp_path):
    root, config, checkpoint, images = model_files
    proc = run_tool('infer.py', config, checkpoint, *images, '--out', tmp_path / 'out',
                    '--device', 'cpu', cwd=root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    tax = load_taxonomy(TINY)
    height, width = SIZE
    for image in images:
        panel = read_rgb(tmp_path / 'out' / f'{image.stem}_overlay.png')
        nodes_png = Image.open(tmp_path / 'out' / f'{image.stem}_nodes.png')
        assert nodes_png.mode.startswith('I')  # 16-bit greyscale
        nodes = np.array(nodes_png)
        assert nodes.shape == SIZE
        assert set(np.unique(nodes).tolist()) <= set(tax.leaf_indices.tolist())
        assert panel.shape[1] == width + LEGEND_WIDTH
        legend = legend_image(tax, np.unique(nodes), hierarchical_palette(tax),
                              width=LEGEND_WIDTH, height=height)
        assert panel.shape[0] == max(height, legend.shape[0])
        assert f'wrote {tmp_path / "out" / f"{image.stem}_overlay.png"}' in proc.stdout


def test_level_1_cut(model_files, tmp_path, capsys):
    root, config, checkpoint, images = model_files
    out = tmp_path / 'out'
    assert infer.main([str(config), str(checkpoint), str(images[0]), '--out', str(out),
                       '--device', 'cpu', '--level', '1', '--alpha', '0.7']) == 0
    tax = load_taxonomy(TINY)
    nodes = np.array(Image.open(out / f'{images[0].stem}_nodes.png')).astype(np.int64)
    assert (tax.node_level[nodes] == 1).all()
    palette = hierarchical_palette(tax)
    image = read_rgb(images[0])
    panel = read_rgb(out / f'{images[0].stem}_overlay.png')
    height, width = SIZE
    np.testing.assert_array_equal(panel[:height, :width],
                                  overlay(image, nodes, palette, alpha=0.7))
    legend = legend_image(tax, np.unique(nodes), palette, width=LEGEND_WIDTH,
                          height=height)
    np.testing.assert_array_equal(panel[:, width:], legend)
    assert '(16-bit node ids; ' in capsys.readouterr().out


@pytest.mark.parametrize('extra, message', [
    (['--level', '4'], "--level 4: taxonomy 'tiny_street' has levels 1..3"),
    (['--level', '0'], '--level must be >= 1'),
    (['--alpha', '1.5'], '--alpha must be in [0, 1]'),
    (['--level', '1', '--cfg-options', 'model.decode_head.type=FlatTaxonomyHead'],
     "--level needs a HierarchicalDecodeHead, the config's decode_head is "
     "'FlatTaxonomyHead'"),
    (['--cfg-options', 'model.type=EncoderDecoder'],
     'model type EncoderDecoder does not predict taxonomy node ids'),
])
def test_user_errors(model_files, tmp_path, capsys, extra, message):
    _, config, checkpoint, images = model_files
    assert infer.main([str(config), str(checkpoint), str(images[0]), '--out',
                       str(tmp_path), '--device', 'cpu', *extra]) == 1
    assert message in capsys.readouterr().err


def test_input_errors(model_files, tmp_path, capsys):
    _, config, checkpoint, images = model_files
    twin = tmp_path / 'twin'
    twin.mkdir()
    (twin / images[0].name).write_bytes(images[0].read_bytes())
    args = [str(config), str(checkpoint), '--out', str(tmp_path / 'out')]
    assert infer.main(args + [str(images[0]), str(twin / images[0].name)]) == 1
    assert 'would both write' in capsys.readouterr().err
    assert infer.main(args + [str(tmp_path / 'missing.png')]) == 1
    assert "error: FileNotFoundError: '" in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()


def test_checkpoint_of_another_taxonomy(model_files, tmp_path, capsys):
    root, _, checkpoint, images = model_files
    renamed = tmp_path / 'renamed.yaml'
    renamed.write_text(TINY.read_text().replace('name: tiny_street', 'name: renamed')
                       .replace('building', 'house'))
    config = write_config(tmp_path / 'renamed.py', root / 'data', taxonomy=renamed)
    assert infer.main([str(config), str(checkpoint), str(images[0]), '--out',
                       str(tmp_path / 'out'), '--device', 'cpu']) == 1
    err = capsys.readouterr().err
    assert "error: TaxonomyMismatchError:" in err and "taxonomy 'renamed'" in err
