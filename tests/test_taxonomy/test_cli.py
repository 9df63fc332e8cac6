"""The mmhier-taxonomy command line: subcommands and exit codes."""
import json
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
    assert '22 nodes, 17 leaves, 5 classifiers on 3 levels, 3 datasets' in out
    assert '└── traffic sign [2]' in out and '    └── traffic sign front [5]  L2' in out
    assert '  4  traffic sign front  L3           5  gtsdb_like' in out
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
