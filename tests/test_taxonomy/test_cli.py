"""The mmhier-taxonomy command line: subcommands and exit codes."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmhier.taxonomy.cli import main
from tests.conftest import TAXONOMIES, TEST_DATA

TINY = str(TAXONOMIES / 'tiny_street.yaml')
INVALID = TEST_DATA / 'taxonomies' / 'invalid'
VALID = TEST_DATA / 'taxonomies' / 'valid'


def test_validate_exit_codes(capsys):
    assert main(['validate', TINY, str(TAXONOMIES / 'cs_vistas_gtsdb.yaml')]) == 0
    assert 'valid (0 error(s), 0 warning(s))' in capsys.readouterr().out
    assert main(['validate', str(VALID / 'single_child_warning.yaml')]) == 0
    assert 'single-child-supervision' in capsys.readouterr().err
    assert main(['validate', '--strict', str(VALID / 'single_child_warning.yaml')]) == 1
    assert main(['validate', str(INVALID / 'two_parents.yaml')]) == 1
    err = capsys.readouterr().err
    assert "two_parents.yaml:10: error [two-parents] node 'grass'" in err
    assert main(['validate', str(INVALID / 'syntax_error.yaml')]) == 1
    assert 'syntax_error.yaml:4:9: YAML syntax error' in capsys.readouterr().err
    assert main(['validate', 'no/such/file.yaml']) == 2
    assert 'no such taxonomy file' in capsys.readouterr().err
    # the worst status wins across files; every file is still reported
    assert main(['validate', TINY, str(INVALID / 'cycle.yaml'), 'missing.yaml']) == 2
    out = capsys.readouterr().out
    assert 'tiny_street.yaml: valid' in out and 'cycle.yaml: invalid (3 error(s)' in out


def test_bad_usage_exits_2(capsys):
    for argv in ([], ['frobnicate'], ['validate'], ['export', TINY],
                 ['export', TINY, '--format', 'svg']):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2, argv
    capsys.readouterr()


def test_show(capsys):
    assert main(['show', TINY]) == 0
    out = capsys.readouterr().out
    assert "Taxonomy 'tiny_street'" in out
    assert '22 nodes, 17 leaves, 5 classifiers on 3 levels, 4 datasets' in out
    assert '└── traffic sign [2]' in out and '    └── traffic sign front [5]  L2' in out
    assert '  4  traffic sign front  L3           5  gtsdb_like, city_ext_like' in out
    assert 'gtsdb_like: box annotations, 5 ids (uint8): 5 mapped, 0 ignored' in out
    assert '  trains: traffic sign front' in out
    assert main(['show', str(INVALID / 'cycle.yaml')]) == 1
    assert 'cycle in the tree' in capsys.readouterr().err


def test_export_formats(tmp_path, capsys):
    assert main(['export', TINY, '--format', 'json']) == 0
    data = json.loads(capsys.readouterr().out)
    assert data['derived']['classifiers'][4]['node'] == 'traffic sign front'
    out = tmp_path / 'tiny.dot'
    assert main(['export', TINY, '-f', 'dot', '-o', str(out)]) == 0
    assert '"driveable" -> "road"' in out.read_text()
    assert main(['export', TINY, '-f', 'mermaid']) == 0
    assert capsys.readouterr().out.startswith('flowchart LR')
    png = tmp_path / 'tiny.png'
    assert main(['export', TINY, '-f', 'png', '-o', str(png)]) == 0
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert main(['export', TINY, '-f', 'dot', '-o', str(tmp_path / 'no' / 'dir.dot')]) == 2


def test_draft_from_mapillary(tmp_path, capsys):
    config = TEST_DATA / 'mapillary' / 'config.json'
    out = tmp_path / 'draft.yaml'
    assert main(['draft-from-mapillary', str(config), '-o', str(out)]) == 0
    assert main(['validate', str(out)]) == 0
    assert main(['draft-from-mapillary', str(tmp_path / 'missing.json')]) == 2
    capsys.readouterr()


def test_console_script_is_installed():
    script = Path(sys.executable).with_name('mmhier-taxonomy')
    assert script.exists(), 'install the package: pip install -e .'
    run = subprocess.run([str(script), 'validate', TINY], capture_output=True, text=True)
    assert run.returncode == 0 and 'valid' in run.stdout


# ------------------------------------------------------------ exit codes
SCRIPT = Path(sys.executable).with_name('mmhier-taxonomy')
MAPILLARY = TEST_DATA / 'mapillary' / 'config.json'


def test_help_documents_exit_codes(capsys):
    from mmhier.taxonomy import cli
    for argv in (['--help'], ['validate', '--help'], ['draft-from-mapillary', '-h']):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert 'exit codes:' in out and '  1  the content is at fault' in out
        assert '  2  a path or the usage is at fault' in out
    for text in ('**1**: the content is at fault', '**2**: a path or the usage'):
        assert text in cli.__doc__


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode('utf-8'))
    return str(path)


@pytest.mark.parametrize('make_argv, code, words', [
    (lambda t: ['validate', str(INVALID / 'cycle.yaml')], 1, 'cycle in the tree'),
    (lambda t: ['validate', str(INVALID / 'syntax_error.yaml')], 1, 'YAML syntax error'),
    (lambda t: ['validate', write(t, 'g.yaml', b'\x89PNG\r\n\x1a\n\0\0\xff')], 1,
     'g.yaml:1:1: invalid character'),
    (lambda t: ['validate', write(t, 'a.yaml', 'a: &x [1]\nb: *x\n')], 1, 'anchors'),
    (lambda t: ['show', write(t, 'n.yaml', 'name: t\x00\n')], 1, 'n.yaml:1:8'),
    (lambda t: ['export', str(INVALID / 'cycle.yaml'), '-f', 'dot'], 1, 'cycle'),
    (lambda t: ['draft-from-mapillary', write(t, 'c.json', '{"labels": [\n')], 1,
     'c.json:2:1: invalid JSON'),
    (lambda t: ['draft-from-mapillary', write(t, 'c.json', '{"classes": []}')], 1,
     'without "labels"'),
    (lambda t: ['draft-from-mapillary', write(t, 'c.json', '[' * 100_000)], 1,
     'nested too deeply'),
    (lambda t: ['draft-from-mapillary', write(t, 'c.json', b'{"labels": \xff}')], 1,
     'c.json:1:12: invalid character'),
    (lambda t: ['validate', str(t / 'missing.yaml')], 2, 'no such taxonomy file'),
    (lambda t: ['validate', str(t)], 2, 'is a directory, not a taxonomy file'),
    (lambda t: ['show', str(t)], 2, 'is a directory'),
    (lambda t: ['draft-from-mapillary', str(t)], 2, 'is a directory'),
    (lambda t: ['draft-from-mapillary', str(t / 'none.json')], 2, 'no such'),
    (lambda t: ['export', TINY, '-f', 'dot', '-o', str(t)], 2, 'cannot write'),
    (lambda t: ['export', TINY, '-f', 'dot', '-o', str(t / 'no' / 'x.dot')], 2,
     'cannot write'),
    (lambda t: ['export', TINY, '-f', 'png', '-o', str(t / 'no' / 'x.png')], 2,
     'cannot write'),
    (lambda t: ['export', TINY, '-f', 'dot', '-o', str(t / 'a\0b')], 2, 'NUL'),
    (lambda t: ['draft-from-mapillary', str(MAPILLARY), '-o', str(t)], 2,
     'cannot write'),
])
def test_exit_codes(tmp_path, capsys, make_argv, code, words):
    assert main(make_argv(tmp_path)) == code
    err = capsys.readouterr().err
    assert words in err
    assert 'Traceback' not in err


def test_permission_denied_exits_2(tmp_path, capsys, monkeypatch):
    from mmhier.taxonomy import yaml_io

    def denied(*args, **kwargs):
        raise PermissionError(13, 'Permission denied')
    monkeypatch.setattr(yaml_io, 'open', denied, raising=False)
    assert main(['validate', TINY]) == 2
    assert main(['draft-from-mapillary', str(MAPILLARY)]) == 2
    assert capsys.readouterr().err.count('permission denied') == 2


def test_bad_usage_values_exit_2(capsys):
    for argv in (['draft-from-mapillary', str(MAPILLARY), '--dataset', ''],
                 ['draft-from-mapillary', str(MAPILLARY), '--name', '  '],
                 ['validate', '--strict']):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2, argv
    assert 'must not be empty' in capsys.readouterr().err


class _ClosedPipe:
    """A stdout whose reader has gone away (``... | head -0``)."""

    encoding = 'utf-8'

    def __init__(self):
        self.read_end, self.write_end = os.pipe()

    def write(self, text):
        raise BrokenPipeError(32, 'Broken pipe')

    def flush(self):
        raise BrokenPipeError(32, 'Broken pipe')

    def fileno(self):
        return self.write_end


@pytest.mark.parametrize('argv, code', [
    (['validate', str(INVALID / 'cycle.yaml')], 1),
    (['validate', TINY, str(INVALID / 'cycle.yaml'), 'missing.yaml'], 2),
    (['validate', TINY], 0),
    (['show', TINY], 0),
    (['show', str(INVALID / 'cycle.yaml')], 1),
    (['export', TINY, '-f', 'json'], 0),
    (['draft-from-mapillary', str(MAPILLARY)], 0),
])
def test_closed_stdout_keeps_the_exit_code(monkeypatch, argv, code):
    for stream in ('stdout', 'stderr'):
        pipe = _ClosedPipe()
        monkeypatch.setattr(sys, stream, pipe)
        assert main(argv) == code
        monkeypatch.undo()
        os.close(pipe.read_end)
        os.close(pipe.write_end)


def test_unwritable_stdout(monkeypatch, capsys):
    class Full(_ClosedPipe):
        def write(self, text):
            raise OSError(28, 'No space left on device')
    full = Full()
    monkeypatch.setattr(sys, 'stdout', full)
    assert main(['export', TINY, '-f', 'dot']) == 2       # the output is the product
    assert main(['validate', str(INVALID / 'cycle.yaml')]) == 1  # the code is
    assert main(['validate', TINY]) == 0
    monkeypatch.undo()
    assert capsys.readouterr().err.count('No space left on device') == 3
    os.close(full.read_end)
    os.close(full.write_end)


def run_with_closed_stdout(argv):
    """Runs the installed script with stdout a pipe whose reader is closed."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([str(SCRIPT), *argv], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)


@pytest.mark.parametrize('argv, code', [
    (['validate', str(INVALID / 'two_parents.yaml')], 1),
    (['validate', TINY], 0),
    (['show', str(TAXONOMIES / 'cs_vistas_gtsdb.yaml')], 0),
    (['validate', 'missing.yaml'], 2),
])
def test_closed_pipe_in_a_real_process(argv, code):
    run = run_with_closed_stdout(argv)
    assert run.returncode == code, run.stderr
    assert 'Traceback' not in run.stderr and 'Exception ignored' not in run.stderr


def test_pipefail_pipeline_reports_the_validation_status():
    bad = INVALID / 'two_parents.yaml'
    for target, code in ((bad, 1), (TAXONOMIES / 'tiny_street.yaml', 0)):
        run = subprocess.run(['bash', '-c', f'set -o pipefail; "{SCRIPT}" validate '
                              f'"{target}" | head -0'], capture_output=True, text=True,
                             timeout=60)
        assert run.returncode == code, run.stderr
