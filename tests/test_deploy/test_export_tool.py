"""tools/export.py: the command line end to end (ONNX with --verify, run as a
script), the exported-program format with a level of detail, and one
``error:`` line with exit status 1 for each bad input. The two exports are
the session's (``conftest.py``), shared with the API tests."""
import json

import numpy as np
import onnx
import pytest

from mmhier.taxonomy import load_taxonomy
from tests.test_deploy.conftest import LEVEL1_SIZE, TINY, load_export_tool

export = load_export_tool()


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith('error:')]


def test_onnx_with_verify_as_a_script(flat_onnx_by_script):
    out, proc = flat_onnx_by_script
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    wrote = next(line for line in lines if line.startswith('wrote '))
    assert f'wrote {out} (onnx, opset 18; input image: float32 N x 3 x H x W' in wrote
    assert "outputs: nodes, scores" in wrote and "taxonomy 'tiny_street'" in wrote
    sizes = [line for line in lines if line.startswith('  ') and 'pixels identical' in line]
    assert len(sizes) == 3
    assert '(export size, batch 2)' in sizes[0] and 'not a multiple of 8' in sizes[1]
    assert 'larger than the export size' in sizes[2]
    assert all('(100.0000 %)' in line for line in sizes)
    assert lines[-1].startswith('verify: passed')
    model = onnx.load(str(out))
    props = {p.key: p.value for p in model.metadata_props}
    assert {'mmhier.node_names', 'mmhier.palette'} <= props.keys()
    assert json.loads(props['mmhier.decision']) == 'flat'


def test_exported_program_at_level_1(level1_by_tool, level1_exported):
    out, status, printed = level1_by_tool
    assert status == 0
    assert f'metadata also in {out}.json' in printed
    sidecar = json.loads(out.with_name(out.name + '.json').read_text())
    taxonomy = load_taxonomy(TINY)
    assert sidecar['level_of_detail']['output_level'] == 1
    assert all(taxonomy.node_level[n] == 1 for n in sidecar['output_nodes'])
    assert sidecar['export_size'] == list(LEVEL1_SIZE) and sidecar['dynamic']['height'] is False
    assert level1_exported.metadata == sidecar
    nodes = level1_exported(np.zeros((1, 3, *LEVEL1_SIZE), np.float32) + 100)['nodes']
    assert nodes.shape == (1, *LEVEL1_SIZE)
    assert set(nodes.ravel()) <= set(sidecar['output_nodes'])


@pytest.mark.parametrize('case, expected', [
    ('fcn', "decode_head is 'FCNHead', not an mmhier head"),
    ('opset', '--opset 12 is not supported: the exporter writes opsets 17..23'),
    ('other_taxonomy', 'TaxonomyMismatchError: the checkpoint was trained with taxonomy '
                       "'cs_vistas_gtsdb'"),
    ('level', "--level 7: taxonomy 'tiny_street' has levels 1..3"),
    ('stop_at', "UnknownNodeError"),
    ('flat_level', '--level/--stop-at need a HierarchicalDecodeHead'),
    ('missing_checkpoint', 'does not exist'),
    ('opset_for_program', '--opset applies to --format onnx only'),
])
def test_bad_inputs_give_one_error_line(tiny, tmp_path, capsys, case, expected):
    config, checkpoint = tiny['hier']
    args = ['--out', str(tmp_path / 'x.onnx')]
    if case == 'fcn':
        config, checkpoint = tiny['fcn']
    elif case == 'opset':
        args += ['--opset', '12']
    elif case == 'other_taxonomy':
        checkpoint = tiny['other'][1]
    elif case == 'level':
        args += ['--level', '7']
    elif case == 'stop_at':
        args += ['--stop-at', 'trafic sign']
    elif case == 'flat_level':
        config, checkpoint = tiny['flat']
        args += ['--level', '1']
    elif case == 'missing_checkpoint':
        checkpoint = tmp_path / 'missing.pth'
    elif case == 'opset_for_program':
        args += ['--format', 'exported-program', '--opset', '18']
    assert export.main([str(config), str(checkpoint), *args]) == 1
    err = capsys.readouterr().err
    lines = error_lines(err)
    assert len(lines) == 1 and expected in lines[0], err[-2000:]
    assert not (tmp_path / 'x.onnx').exists()
