"""Bad taxonomy files and Mapillary configs: typed error, exit code, culprit.

Every case is written into ``tmp_path`` and checked three ways: the error
type :class:`~mmhier.taxonomy.Taxonomy` raises, the exit code of
``mmhier-taxonomy validate`` (in process) and that the message names the file,
the line and the name at fault. A few cases also run the installed script,
with its stdout closed as in ``mmhier-taxonomy validate bad.yaml | head -0``.
"""
import contextlib
import io
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import pytest

from mmhier.taxonomy import (Taxonomy, TaxonomyFileError, TaxonomySyntaxError,
                             TaxonomyValidationError)
from mmhier.taxonomy import yaml_io
from mmhier.taxonomy.cli import main
from mmhier.taxonomy.errors import (TaxonomyEncodingError, TaxonomyLimitError,
                                    TaxonomyUnsupportedYAMLError)
from mmhier.taxonomy.mapillary_draft import MapillaryConfigError, draft_from_mapillary

SCRIPT = Path(sys.executable).with_name('mmhier-taxonomy')
HEAD = 'name: bad\n'
TREE = 'tree:\n  root:\n    sky:\n    rider: [bicyclist, motorcyclist]\n'
DATA = ('datasets:\n  d:\n    annotation: pixel\n'
        '    classes: {0: sky, 1: bicyclist, 2: motorcyclist}\n')
LAUGHS = ''.join(f'l{i}: &l{i} [' + ', '.join([f'*l{i - 1}' if i else 'ha'] * 9) + ']\n'
                 for i in range(9))


@dataclass
class Case:
    """One bad file: its content, what loading raises, the exit code of
    ``validate``, the problem code (validation errors) and the line and
    words the message must name."""

    content: Union[str, bytes]
    error: type
    exit_code: int
    line: Optional[int]
    words: tuple[str, ...]
    code: Optional[str] = None


CASES = {
    # 1. duplicates
    'duplicate_list_child': Case(
        HEAD + TREE.replace('motorcyclist]', 'motorcyclist, bicyclist]') + DATA,
        TaxonomyValidationError, 1, 5, ("'bicyclist'", "'rider'"), 'duplicate-name'),
    'duplicate_mapping_child': Case(
        HEAD + 'tree:\n  root:\n    sky:\n    rider:\n      bicyclist:\n'
        '      motorcyclist:\n      bicyclist:\n' + DATA,
        TaxonomyValidationError, 1, 8, ("'bicyclist'", "'rider'"), 'duplicate-name'),
    'duplicate_in_mixed_list': Case(
        HEAD + 'tree:\n  root:\n    sky:\n    rider:\n      - bicyclist\n'
        '      - motorcyclist: [a, b]\n      - motorcyclist\n' + DATA,
        TaxonomyValidationError, 1, 8, ("'motorcyclist'", "'rider'"), 'duplicate-name'),
    'node_under_two_parents': Case(
        HEAD + TREE + '    ground: [road, bicyclist]\n' + DATA,
        TaxonomyValidationError, 1, 6, ("'bicyclist'", "'ground'", "'rider'"),
        'two-parents'),
    'duplicate_dataset_key': Case(
        HEAD + TREE + DATA + '  d:\n    annotation: box\n    classes: {0: sky}\n',
        TaxonomyValidationError, 1, 10, ("dataset 'd'",), 'duplicate-key'),
    'duplicate_class_id': Case(
        HEAD + TREE + DATA.replace('2: motorcyclist}', '2: motorcyclist, 0x1: x}'),
        TaxonomyValidationError, 1, 9, ('label id 0x1',), 'duplicate-id'),
    'duplicate_supervision_entry': Case(
        HEAD + TREE + DATA + '    supervision: {force: [rider, rider]}\n',
        TaxonomyValidationError, 1, 10, ("'rider'", 'supervision.force'),
        'duplicate-name'),
    'overlapping_ignore_ranges': Case(
        HEAD + TREE + DATA.replace('pixel', 'pixel\n    ignore_ids: ["3-100", "50-255"]'),
        TaxonomyValidationError, 1, 9, ('ids 50-100', 'ignore_ids'), 'duplicate-id'),
    # 2. aliases and other YAML bombs
    'alias_bomb_in_tree': Case(
        HEAD + 'tree:\n  root:\n    sky: &s [a, b]\n    rider: *s\n' + DATA,
        TaxonomyUnsupportedYAMLError, 1, 4, ('anchors (&s)',)),
    'billion_laughs_in_description': Case(
        HEAD + LAUGHS + 'description: *l8\n' + TREE + DATA,
        TaxonomyUnsupportedYAMLError, 1, 2, ('anchors (&l0)',)),
    'merge_key': Case(
        HEAD + TREE + 'datasets:\n  d:\n    <<: {annotation: pixel}\n',
        TaxonomyUnsupportedYAMLError, 1, 8, ('merge keys',)),
    'python_tag': Case(
        HEAD + TREE + DATA.replace('0: sky', '0: !!python/name:os.system sky'),
        TaxonomyUnsupportedYAMLError, 1, 9, ('python/name',)),
    'deep_flow_nesting': Case(
        HEAD + 'description: ' + '[' * 100_000 + ']' * 100_000 + '\n' + TREE + DATA,
        TaxonomyLimitError, 1, 2, ('nested',)),
    # 3. depth: a syntax error deep down still names its line
    'deep_tree_with_a_bad_line': Case(
        HEAD + 'tree:\n' + ''.join('  ' * (i + 1) + f'n{i}:\n' for i in range(1200))
        + '  ' * 1201 + 'x: [unclosed\n' + DATA,
        TaxonomySyntaxError, 1, 1204, ()),
    # 4. absurd id values
    'absurd_num_ids': Case(
        HEAD + TREE + DATA.replace('pixel', 'pixel\n    num_ids: 100000000000000'),
        TaxonomyValidationError, 1, 9, ('num_ids 100000000000000',), 'id-out-of-range'),
    'negative_num_ids': Case(
        HEAD + TREE + DATA.replace('pixel', 'pixel\n    num_ids: -1'),
        TaxonomyValidationError, 1, 9, ('num_ids',), 'bad-value'),
    'huge_ignore_range': Case(
        HEAD + TREE + DATA.replace('pixel', 'pixel\n    ignore_ids: ["3-2000000000"]'),
        TaxonomyValidationError, 1, 9, ('ignore_ids 256-2000000000',),
        'id-out-of-range'),
    # 6. control characters and bytes that are not text
    'nul_character': Case(
        HEAD + TREE.replace('sky:', 'sk\x00y:') + DATA,
        TaxonomyEncodingError, 1, 4, ('4:7', 'U+0000')),
    'escape_after_unicode': Case(
        HEAD + TREE + DATA.replace('0: sky', '0: "ñ\x1b[31m"'),
        TaxonomyEncodingError, 1, 9, ('9:20', 'U+001B')),
    'binary_garbage': Case(
        b'\x89PNG\r\n\x1a\n' + bytes(range(256)),
        TaxonomyEncodingError, 1, 1, ('byte 0x89',)),
    'latin1_file': Case(
        (HEAD + TREE.replace('sky', 'sk\xe9') + DATA).encode('latin-1'),
        TaxonomyEncodingError, 1, 4, ('byte 0xe9',)),
    # 7. names YAML converts
    'octal_looking_name': Case(
        HEAD + TREE.replace('sky:', '007:') + DATA.replace('0: sky', "0: '007'"),
        TaxonomyValidationError, 1, 4, ("'007'",), 'numeric-name'),
    'boolean_name': Case(
        HEAD + TREE.replace('sky:', 'no:') + DATA.replace('0: sky', "0: 'no'"),
        TaxonomyValidationError, 1, 4, ("'no'",), 'bad-name'),
    'numeric_mapping_target': Case(
        HEAD + TREE.replace('sky:', "'1000':") + DATA.replace(
            '0: sky', '0: {name: thousand, node: 1_000}'),
        TaxonomyValidationError, 1, 9, ("'1_000'",), 'numeric-name'),
    'impossible_date': Case(
        HEAD + TREE + DATA.replace('0: sky', '0: {name: sky, node: 2024-02-30}'),
        TaxonomySyntaxError, 1, 9, ('2024-02-30', 'a date')),
    'octal_label_id': Case(
        HEAD + TREE + DATA.replace('2: motorcyclist', '010: motorcyclist'),
        TaxonomyValidationError, 1, 9, ('010', 'octal number 8'), 'ambiguous-id'),
    # 8. untrained classifiers
    'classifier_trained_by_no_dataset': Case(
        HEAD + TREE + DATA.replace('2: motorcyclist}', '}') + '  e:\n    annotation: '
        'pixel\n    classes: {0: sky, 1: motorcyclist}\n',
        TaxonomyValidationError, 1, 5, ("'rider'", "'d' labels only 'bicyclist'",
                                        "'e' labels only 'motorcyclist'"),
        'untrained-classifier'),
    # 9. plain syntax errors and documents
    'unclosed_list': Case(
        HEAD + TREE.replace('motorcyclist]', 'motorcyclist') + DATA,
        TaxonomySyntaxError, 1, 6, ('YAML syntax error',)),
    'second_document': Case(
        HEAD + TREE + DATA + '---\nname: other\n',
        TaxonomyUnsupportedYAMLError, 1, 10, ('one YAML document',)),
    'not_a_mapping': Case(
        '- just\n- a list\n', TaxonomyValidationError, 1, 1, ('YAML mapping',),
        'not-a-mapping'),
}


def write_case(tmp_path: Path, name: str, case: Case) -> Path:
    path = tmp_path / f'{name}.yaml'
    data = case.content
    path.write_bytes(data if isinstance(data, bytes) else data.encode('utf-8'))
    return path


def run_cli(argv):
    with contextlib.redirect_stdout(io.StringIO()) as out, \
            contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize('name', CASES)
def test_bad_taxonomy_file(tmp_path, name):
    case = CASES[name]
    path = write_case(tmp_path, name, case)
    start = time.perf_counter()
    with pytest.raises(case.error) as info:
        Taxonomy.from_file(path)
    assert time.perf_counter() - start < 10  # several of these used to hang
    message = str(info.value)
    if case.code is not None:
        assert (case.code, case.line) in [(p.code, p.line) for p in info.value.errors]
    else:
        assert info.value.line == case.line
    assert f'{path}:{case.line}' in message
    for words in case.words:
        assert words in message, message

    code, out, err = run_cli(['validate', str(path)])
    assert code == case.exit_code
    assert f'{path}:{case.line}' in err and 'Traceback' not in err
    assert f'{path}: invalid' in out
    for command in (['show', str(path)], ['export', str(path), '-f', 'dot']):
        assert run_cli(command)[0] == case.exit_code


def test_file_over_the_size_limit(tmp_path, monkeypatch):
    path = tmp_path / 'large.yaml'
    path.write_text(HEAD + TREE + DATA + '# padding\n' * 1000)
    monkeypatch.setattr(yaml_io, 'MAX_FILE_BYTES', 4096)
    with pytest.raises(TaxonomyLimitError, match='larger than'):
        Taxonomy.from_file(path)
    code, _, err = run_cli(['validate', str(path)])
    assert code == 1 and f'{path}: too large' in err


@pytest.mark.parametrize('make, words', [
    (lambda t: t / 'missing.yaml', 'no such taxonomy file'),
    (lambda t: t, 'is a directory'),
])
def test_unreadable_paths_exit_2(tmp_path, make, words):
    path = make(tmp_path)
    with pytest.raises(TaxonomyFileError, match=words):
        Taxonomy.from_file(path)
    code, _, err = run_cli(['validate', str(path)])
    assert code == 2 and f'{path}: {words}' in err


@pytest.mark.parametrize('content, words', [
    ('{"labels": [{"name": "a--b", "readable": "B"},\n', 'invalid JSON'),
    ('{"labels": {"0": "x"}}', '"labels" of type dict'),
    ('{"labels": [' + '[' * 50_000 + ']' * 50_000 + ']}', 'nested too deeply'),
    ('{"labels": [{"name": "a' + '--a' * 100 + '", "readable": "A"}]}',
     'more than 32 "--" segments'),
    ('{"labels": [{"name": "x--y", "readable": 5}]}', 'has no "readable" name'),
    ('{"labels": [{"name": "x--y", "readable": "Y\\u007f"}, {"name": "x--z", '
     '"readable": "Z"}]}', 'contains the control character U+007F'),
    ('{"labels": [{"name": "x--y", "readable": "Y\\ud800"}, {"name": "x--z", '
     '"readable": "Z"}]}', 'contains the control character U+D800'),
])
def test_bad_mapillary_configs_exit_1(tmp_path, content, words):
    path = tmp_path / 'config.json'
    path.write_text(content)
    with pytest.raises(MapillaryConfigError, match=re.escape(words)) as info:
        draft_from_mapillary(path)
    assert str(path) in str(info.value)
    code, _, err = run_cli(['draft-from-mapillary', str(path)])
    assert code == 1 and words in err and 'Traceback' not in err


@pytest.mark.parametrize('name', ['duplicate_list_child', 'alias_bomb_in_tree',
                                  'nul_character', 'classifier_trained_by_no_dataset'])
def test_real_process_with_closed_pipe(tmp_path, name):
    path = write_case(tmp_path, name, CASES[name])
    run = subprocess.run(['bash', '-c', f'set -o pipefail; "{SCRIPT}" validate '
                          f'"{path}" | head -0'], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 1
    assert f'{path}:{CASES[name].line}' in run.stderr
    assert 'Traceback' not in run.stderr and 'Exception ignored' not in run.stderr


def test_real_process_exit_codes(tmp_path):
    path = write_case(tmp_path, 'binary_garbage', CASES['binary_garbage'])
    for argv, code in ((['validate', str(path)], 1),
                       (['validate', str(tmp_path / 'none.yaml')], 2),
                       (['show', str(tmp_path)], 2),
                       (['frobnicate'], 2)):
        run = subprocess.run([str(SCRIPT), *argv], capture_output=True, text=True,
                             timeout=60, env={**os.environ, 'PYTHONIOENCODING': 'ascii'})
        assert run.returncode == code, (argv, run.stderr)
        assert 'Traceback' not in run.stderr
