"""``test.py`` of MMSeg and of mmhier on an mmhier config: ``--out``,
``--show-dir`` and ``--tta`` work in both, with the same options and meaning.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.test_mmseg_tools.conftest import (MMSEG_TOOLS, REPO, output, run_mmhier_tool,
                                             run_mmseg_tool)

TOOLS = {'mmseg': run_mmseg_tool, 'mmhier': run_mmhier_tool}
#: test images of the tiny demo data: (dataset key, image stem)
EXPECTED = {('city_like', 'renderdorf_000000_000019_leftImg8bit'),
            ('city_like', 'valhausen_000000_000019_leftImg8bit'),
            ('vistas_like', 'val_00000'), ('vistas_like', 'val_00001'),
            ('gtsdb_like', '00600'), ('gtsdb_like', '00601')}


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mmhier_test = _load(REPO / 'tools' / 'test.py', 'mmhier_tool_test_for_mmseg_tools')


@pytest.fixture(scope='module')
def output_nodes(taxonomy):
    """Node ids of the demo model's output channels (the leaves)."""
    return set(taxonomy.leaf_indices.tolist())


def _node_maps(out: Path) -> dict:
    maps = {(p.parent.name, p.stem): np.asarray(Image.open(p)) for p in out.glob('*/*.png')}
    assert set(maps) == EXPECTED
    return maps


@pytest.mark.parametrize('tool', sorted(TOOLS))
def test_out_and_show_dir(tool, tiny_config, checkpoint, output_nodes, tmp_path):
    out, shown = tmp_path / 'out', tmp_path / 'shown'
    # interval=1: MMSeg 1.2's hook draws one test batch in `interval` (50 by
    # default), MMSeg 1.4's every test batch
    proc = TOOLS[tool]('test.py', tiny_config, checkpoint, '--work-dir', tmp_path / 'work',
                       '--out', out, '--show-dir', shown, '--cfg-options',
                       'default_hooks.visualization.interval=1', cwd=tmp_path)
    assert proc.returncode == 0, output(proc)
    assert re.search(r'hier/city_like/mIoU: \d', proc.stdout), output(proc)
    maps = _node_maps(out)
    for (key, stem), nodes in maps.items():
        assert nodes.dtype == np.uint16
        assert set(np.unique(nodes).tolist()) <= output_nodes, (key, stem)
    assert maps['city_like', 'valhausen_000000_000019_leftImg8bit'].shape == (32, 64)
    pictures = sorted(p.name for p in (shown / 'vis_data' / 'vis_image').glob('*.png'))
    assert len(pictures) == 6 and all(p.startswith('test_') for p in pictures)
    picture = np.asarray(Image.open(shown / 'vis_data' / 'vis_image' / pictures[0]))
    assert picture.ndim == 3 and picture.shape[1] > 2 * 64  # gt | prediction | legend


@pytest.mark.parametrize('tool', sorted(TOOLS))
def test_tta_out_are_output_node_ids(tool, tiny_config, checkpoint, output_nodes, tmp_path):
    out = tmp_path / 'out'
    proc = TOOLS[tool]('test.py', tiny_config, checkpoint, '--work-dir', tmp_path / 'work',
                       '--tta', '--out', out, cwd=tmp_path)
    assert proc.returncode == 0, output(proc)
    assert re.search(r'hier/gtsdb_like/mIoU: \d', proc.stdout), output(proc)
    for (key, stem), nodes in _node_maps(out).items():
        values = set(np.unique(nodes).tolist())
        assert values <= output_nodes, (key, stem, values - output_nodes)
        assert 0 not in values  # the root: what a channel index 0 would be


def _error_line(err: str) -> str:
    """The tool's one ``error:`` line (loggers of earlier in-process runs may
    have written to stderr too)."""
    lines = [line for line in err.splitlines() if line.startswith('error: ')]
    assert len(lines) == 1, err
    return lines[0]


def _mmseg_parse(argv: list) -> dict:
    module = _load(MMSEG_TOOLS / 'test.py', 'mmseg_tool_test_parser')
    saved = sys.argv
    sys.argv = ['test.py', *argv]
    try:
        return vars(module.parse_args())
    finally:
        sys.argv = saved


@pytest.mark.parametrize('argv', [
    ['c.py', 'k.pth'],
    ['c.py', 'k.pth', '--work-dir', 'w', '--out', 'o', '--show', '--show-dir', 's',
     '--wait-time', '0.5', '--launcher', 'pytorch', '--tta', '--local-rank', '3',
     '--cfg-options', 'a.b=1', 'c=[1,2]'],
    ['c.py', 'k.pth', '--local_rank', '2', '--launcher', 'slurm'],
])
def test_every_mmseg_option_means_the_same(argv, monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '0')
    theirs = _mmseg_parse(argv)
    ours = vars(mmhier_test.parse_args(argv))
    assert ours.pop('debug') is False
    ours['cfg_options'] = dict(ours['cfg_options']) if ours['cfg_options'] else None
    theirs['cfg_options'] = dict(theirs['cfg_options']) if theirs['cfg_options'] else None
    assert ours == theirs


def test_show_dir_needs_the_visualization_hook(tiny_config, checkpoint, tmp_path, capsys):
    config = tmp_path / 'no_hook.py'
    config.write_text(f'_base_ = [{str(tiny_config)!r}]\n'
                      'default_hooks = dict(visualization=None)\n')
    assert mmhier_test.main([str(config), str(checkpoint), '--show-dir',
                             str(tmp_path / 's')]) == 1
    err = _error_line(capsys.readouterr().err)
    assert err.startswith(f'error: {config}:2: --show / --show-dir need a visualization '
                          "hook: add visualization=dict(type='SegVisualizationHook')")


def test_tta_refuses_mmseg_tta_model(tiny_config, checkpoint, tmp_path, capsys):
    assert mmhier_test.main([str(tiny_config), str(checkpoint), '--tta', '--cfg-options',
                             "tta_model.type=SegTTAModel"]) == 1
    err = _error_line(capsys.readouterr().err)
    assert "tta_model type 'SegTTAModel' does not map the scores of TaxonomyEncoderDecoder " \
        'to node ids' in err
    assert "set tta_model = dict(type='TaxonomyTTAModel')" in err
    assert str(REPO / 'configs' / '_base_' / 'default_runtime.py') in err


def test_tta_needs_tta_pipeline(tiny_config, checkpoint, tmp_path, capsys):
    config = tmp_path / 'no_tta.py'
    config.write_text(f'_base_ = [{str(tiny_config)!r}]\ntta_pipeline = None\n')
    assert mmhier_test.main([str(config), str(checkpoint), '--tta']) == 1
    err = _error_line(capsys.readouterr().err)
    assert err.startswith(f'error: {config}: --tta needs tta_pipeline in the config')
