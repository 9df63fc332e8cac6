"""Bad inputs to tools/train.py, tools/test.py and tools/infer.py: config
mistakes, ``--cfg-options`` mistakes, corrupt checkpoints and corrupt photos.

Each must end the tool with exit status 1 and one ``error:`` line on stderr
(no traceback) naming the culprit: the config file and line, the key and the
class that rejected it with a "did you mean", or the checkpoint / photo file.
The tools run in-process (``main(argv)``); two runs as scripts check what a
user really sees, with and without ``--debug``.
"""
import os
import subprocess
import sys

import pytest
import torch

from tests.test_tools.test_train_test_tools import (TOOLS, load_tool, make_city_like,
                                                    write_config)

train_tool, test_tool, infer_tool = (load_tool(n) for n in ('train', 'test', 'infer'))
TOOL_MAINS = {'train': train_tool.main, 'test': test_tool.main, 'infer': infer_tool.main}


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """Data, the tiny config's text, a checkpoint of its model, bad
    checkpoints and bad photos."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import mmhier.models  # noqa: F401  (registers)
    root = tmp_path_factory.mktemp('bad_tool_inputs')
    data = make_city_like(root / 'data', count=2)
    config = write_config(root / 'good.py', data, max_iters=2, interval=2)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    good = root / 'good.pth'
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, good)
    bad = root / 'checkpoints'
    bad.mkdir()
    (bad / 'text.pth').write_text('<html>404 Not Found</html>\n')
    (bad / 'empty.pth').write_bytes(b'')
    content = good.read_bytes()
    (bad / 'truncated.pth').write_bytes(content[:len(content) // 2])
    torch.save([1, 2, 3], bad / 'list.pth')
    torch.save({'state_dict': {'conv.weight': torch.zeros(3, 3)}}, bad / 'other_model.pth')
    (bad / 'folder.pth').mkdir()
    photos = root / 'photos'
    photos.mkdir()
    image = sorted((data / 'leftImg8bit' / 'train' / 'toy').glob('*.png'))[0]
    (photos / 'empty.png').write_bytes(b'')
    (photos / 'truncated.png').write_bytes(image.read_bytes()[:300])
    (photos / 'text.png').write_text('not an image\n')
    (photos / 'good.png').write_bytes(image.read_bytes())
    return dict(root=root, data=data, text=config.read_text(), good=good, bad=bad,
                photos=photos)


def variant(files, tmp_path, name, old='', new='', append='', base=None):
    """The tiny config with ``old`` replaced by ``new`` and ``append`` added;
    returns the file and the 1-based line of the change."""
    text = files['text'] if base is None else base
    if old:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    text += append
    path = tmp_path / f'{name}.py'
    path.write_text(text)
    marker = new or append.strip().splitlines()[0]
    line = next(i for i, t in enumerate(text.splitlines(), 1) if marker.split('\n')[0] in t)
    return path, line


def run(tool, argv, capsys):
    """Run a tool in-process; returns (exit status, the one error line)."""
    status = TOOL_MAINS[tool]([str(a) for a in argv])
    err = capsys.readouterr().err
    assert 'Traceback' not in err, err
    errors = [line for line in err.splitlines() if line.startswith('error:')]
    assert len(errors) == 1, err
    return status, errors[0]


def tool_args(tool, files, config, tmp_path, extra=()):
    if tool == 'train':
        return [config, '--work-dir', tmp_path / 'work', *extra]
    if tool == 'test':
        return [config, files['good'], '--work-dir', tmp_path / 'work', *extra]
    return [config, files['good'], files['photos'] / 'good.png', '--out', tmp_path / 'out',
            '--device', 'cpu', *extra]


# (id, tool, config change (old, new) or appended text, --cfg-options, expected
# pieces of the error line; '{line}' -> "<config>:<line>:")
CONFIG_CASES = [
    ('misspelt-model-key', 'train',
     ('taxonomy=taxonomy, in_channels=64', 'taxonmy=taxonomy, in_channels=64'), (),
     ['{line}', "'taxonmy'", 'HierarchicalDecodeHead', "did you mean 'taxonomy'?",
      'model.decode_head', "needs 'taxonomy'"]),
    ('loop-key-by-cfg-options', 'train', None, ['train_cfg.max_iter=2'],
     ['{config}:', "'max_iter'", 'IterBasedTrainLoop', "did you mean 'max_iters'",
      '--cfg-options']),
    ('misspelt-dataloader-key', 'train', ('batch_size=2', 'batch_sise=2'), (),
     ['{line}', "'batch_sise'", 'DataLoader', "did you mean 'batch_size'",
      'train_dataloader']),
    ('syntax-error', 'train', ("log_level = 'INFO'", "log_level = 'INFO"), (),
     ['{line}', 'syntax error', 'unterminated string']),
    ('unknown-type', 'train',
     ("type='HierarchicalDecodeHead'", "type='HierarchicalDecodeHed'"), (),
     ['{line}', "'HierarchicalDecodeHed'", 'registry', "did you mean "
      "'HierarchicalDecodeHead'"]),
    ('unknown-transform', 'train',
     ("dict(type='LoadTaxonomyAnnotations')", "dict(type='LoadTaxonomyAnotations')"), (),
     ['{line}', 'transform registry', "did you mean 'LoadTaxonomyAnnotations'"]),
    ('misspelt-optimizer-key', 'train', ('momentum=0.9', 'momentun=0.9'), (),
     ['{line}', 'optim_wrapper.optimizer', "'momentun'", 'SGD',
      "did you mean 'momentum'"]),
    ('rejected-value', 'train', ('channels=16, branch', "channels=16, decision='gredy', "
                                 'branch'), (),
     ['{line}', 'HierarchicalDecodeHead', "'gredy'", 'decision must be one of']),
    ('undefined-name', 'train', ('norm_cfg=norm_cfg, contract', 'norm_cfg=norm_cg, contract'),
     (), ['{line}', 'NameError', 'norm_cg']),
    ('misspelt-evaluator-key', 'test',
     ("dict(type='HierarchicalIoUMetric', taxonomy=taxonomy)",
      "dict(type='HierarchicalIoUMetric', taxonmy=taxonomy)"), (),
     ['{line}', 'test_evaluator', 'HierarchicalIoUMetric', "did you mean 'taxonomy'?"]),
    ('misspelt-model-key-infer', 'infer',
     ('in_index=0, channels=16', 'in_indx=0, channels=16'), (),
     ['{line}', "'in_indx'", 'HierarchicalDecodeHead', "did you mean 'in_index'?"]),
    ('unknown-type-by-cfg-options-infer', 'infer', None,
     ['model.backbone.type=ResNetV1cc', 'model.backbone.depth=18'],
     ['{config}:', "'ResNetV1cc'", "did you mean 'ResNetV1c'", '--cfg-options']),
    ('misspelt-norm-key', 'train',
     ("norm_cfg = dict(type='BN', requires_grad=True)",
      "norm_cfg = dict(type='BN', requires_gard=True)"), (),
     ['{line}', "'requires_gard'", 'BatchNorm2d', 'norm_cfg']),
    ('misspelt-hook-key-passed-on', 'train', ('interval=2)', 'intervl=2)'), (),
     ['{line}', 'default_hooks.checkpoint', "'intervl'", 'CheckpointHook',
      "did you mean 'interval'?"]),
    ('dict-without-type', 'infer',
     ("decode_head=dict(type='HierarchicalDecodeHead', taxonomy",
      'decode_head=dict(taxonomy'), (),
     ['{line}', 'model.decode_head', "has no 'type'"]),
    ('missing-custom-import', 'test',
     ("'mmhier.evaluation'", "'mmhier.evaluation', 'mmhier_no_such_mod'"), (),
     ['{line}', "custom_imports: cannot import 'mmhier_no_such_mod'"]),
    ('misspelt-pipeline-key-infer', 'infer',
     ("test_pipeline = [dict(type='LoadImageFromFile')",
      "test_pipeline = [dict(type='LoadImageFromFile', imdecode_backed='cv2')"), (),
     ['{line}', "'imdecode_backed'", "did you mean 'imdecode_backend'?"]),
    ('runner-rejects', 'train', None, ['optim_wrapper=None'],
     ['{config}: the runner rejected the config', 'optim_wrapper should be']),
    ('cfg-options-without-value', 'train', None, ['train_cfg.max_iters'],
     ['{config}:', "--cfg-options 'train_cfg.max_iters'", 'KEY=VALUE']),
    ('cfg-options-into-a-number', 'test', None, ['train_cfg.max_iters.step=1'],
     ['{config}:', 'train_cfg.max_iters.step', 'is 2 (int)']),
    ('cfg-options-unbalanced', 'infer', None, ['model.backbone.dilations=[1,1'],
     ['{config}:', 'unbalanced brackets']),
]


@pytest.mark.parametrize('case', CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_config_mistakes(files, tmp_path, capsys, case):
    name, tool, change, options, expected = case
    config, line = (variant(files, tmp_path, name.replace('-', '_'), *change) if change
                    else (tmp_path / f'{name.replace("-", "_")}.py', None))
    if change is None:
        config.write_text(files['text'])
    extra = ['--cfg-options', *options] if options else []
    status, error = run(tool, tool_args(tool, files, config, tmp_path, extra), capsys)
    assert status == 1
    for piece in expected:
        piece = piece.format(line=f'{config}:{line}:', config=config)
        assert piece in error, f'{piece!r} not in {error!r}'


def test_missing_base_file_and_key_in_base(files, tmp_path, capsys):
    child = tmp_path / 'child.py'
    child.write_text("_base_ = ['./nope.py']\n" + files['text'])
    status, error = run('train', [child, '--work-dir', tmp_path / 'w'], capsys)
    assert status == 1
    assert error.startswith(f'error: {child}:1: _base_ file {tmp_path / "nope.py"} does '
                            'not exist')
    # a misspelt key in a base file: the base file and its line are named
    base, line = variant(files, tmp_path, 'base', 'momentum=0.9', 'momentun=0.9')
    child = tmp_path / 'child2.py'
    child.write_text("_base_ = ['./base.py']\ntrain_cfg = dict(max_iters=1)\n")
    status, error = run('train', [child, '--work-dir', tmp_path / 'w'], capsys)
    assert status == 1
    assert f'error: {base}:{line}: ' in error and f'_base_ file of {child}' in error
    assert "did you mean 'momentum'" in error


CHECKPOINT_CASES = [
    ('text.pth', 'infer', 'is a text file'),
    ('empty.pth', 'test', 'is empty (0 bytes)'),
    ('truncated.pth', 'infer', 'truncated or damaged'),
    ('truncated.pth', 'train-load-from', 'truncated or damaged'),
    ('list.pth', 'test', 'holds a list, not a checkpoint'),
    ('other_model.pth', 'infer', 'none of its 1 weights fit the model'),
    ('other_model.pth', 'train-load-from', "no name in common: the checkpoint has "
                                           "'conv.weight'"),
    ('folder.pth', 'train-resume', 'is a folder, not a checkpoint file'),
    ('missing.pth', 'test', 'does not exist'),
    ('missing.pth', 'infer', 'does not exist'),
    ('missing.pth', 'train-resume', 'does not exist'),
    ('missing.pth', 'train-load-from', 'does not exist'),
]


@pytest.mark.parametrize('name, how, message', CHECKPOINT_CASES,
                         ids=[f'{c[1]}-{c[0]}' for c in CHECKPOINT_CASES])
def test_corrupt_checkpoints(files, tmp_path, capsys, name, how, message):
    checkpoint = files['bad'] / name
    # one config name per run: MMEngine names its logger after it (and the second)
    config = tmp_path / f'ckpt_{how.replace("-", "_")}_{name[:-4]}.py'
    config.write_text(files['text'])
    if how == 'train-resume':
        argv = [config, '--work-dir', tmp_path / 'w', '--resume', checkpoint]
    elif how == 'train-load-from':
        argv = [config, '--work-dir', tmp_path / 'w', '--cfg-options',
                f'load_from={checkpoint}']
    elif how == 'test':
        argv = [config, checkpoint, '--work-dir', tmp_path / 'w']
    else:
        argv = [config, checkpoint, files['photos'] / 'good.png', '--out', tmp_path / 'o',
                '--device', 'cpu']
    status, error = run(how.split('-')[0], argv, capsys)
    assert status == 1
    assert error.startswith(f'error: checkpoint {checkpoint}: ') and message in error, error
    assert not list((tmp_path / 'w').glob('iter_*.pth'))


def test_resume_from_weights_only_checkpoint(files, tmp_path, capsys):
    config = tmp_path / 'resume_weights.py'
    config.write_text(files['text'])
    status, error = run('train', [config, '--work-dir', tmp_path / 'w', '--resume',
                                  files['good']], capsys)
    assert status == 1
    assert f"checkpoint {files['good']}: was not saved by a training run" in error
    assert f"--cfg-options load_from={files['good']} without --resume" in error


def test_auto_resume_from_a_damaged_latest_checkpoint(files, tmp_path, capsys):
    work = tmp_path / 'work'
    work.mkdir()
    earlier, latest = work / 'iter_1.pth', work / 'iter_2.pth'
    earlier.write_bytes(files['good'].read_bytes())
    os.utime(earlier, (1e9, 1e9))
    latest.write_bytes((files['bad'] / 'truncated.pth').read_bytes())
    (work / 'last_checkpoint').write_text(str(latest))
    config = tmp_path / 'auto_resume.py'
    config.write_text(files['text'])
    status, error = run('train', [config, '--work-dir', work, '--resume'], capsys)
    assert status == 1
    assert error.startswith(f'error: checkpoint {latest}: cannot be read')
    assert error.endswith(f'to resume from the checkpoint before it: --resume {earlier}')


def test_corrupt_photos_are_skipped_and_reported(files, tmp_path, capsys):
    photos, out = files['photos'], tmp_path / 'out'
    config = tmp_path / 'photos.py'
    config.write_text(files['text'])
    bad = {'empty.png': 'empty', 'truncated.png': 'truncated', 'text.png': 'text'}
    status = infer_tool.main([str(config), str(files['good']), *(str(photos / n) for n in bad),
                              str(photos / 'good.png'), '--out', str(out), '--device', 'cpu'])
    captured = capsys.readouterr()
    assert status == 1
    assert 'Traceback' not in captured.err
    errors = [line for line in captured.err.splitlines() if line.startswith('error:')]
    assert len(errors) == 3
    for (name, reason), line in zip(bad.items(), errors):
        assert line.startswith(f'error: CorruptFileError: {photos / name}: ') and reason in line
    assert sorted(p.name for p in out.iterdir()) == ['good_nodes.png', 'good_overlay.png']
    assert '3 of 4 images skipped' in captured.out


def test_internal_bug_keeps_its_traceback(files, tmp_path, capsys, monkeypatch):
    """A TypeError inside a hook's constructor (a helper called with a wrong
    keyword no config holds) is a bug: it is raised, not turned into a line."""
    (tmp_path / 'buggy_hook.py').write_text(
        'from mmengine.hooks import Hook\nfrom mmseg.registry import HOOKS\n\n\n'
        'def helper(value):\n    return value\n\n\n@HOOKS.register_module()\n'
        'class BuggyHookForTest(Hook):\n    def __init__(self, interval=1):\n'
        '        helper(interval=interval)\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    config, _ = variant(files, tmp_path, 'buggy', append=(
        "custom_hooks = [dict(type='BuggyHookForTest', interval=2)]\n"
        "custom_imports = dict(imports=['buggy_hook'], allow_failed_imports=False)\n"))
    with pytest.raises(TypeError, match="unexpected keyword argument 'interval'"):
        train_tool.main([str(config), '--work-dir', str(tmp_path / 'w')])
    assert 'error:' not in capsys.readouterr().err


def test_debug_prints_the_traceback(files, tmp_path, capsys, monkeypatch):
    config, line = variant(files, tmp_path, 'debug_flag', 'batch_size=2', 'batch_sise=2')
    assert train_tool.main([str(config), '--work-dir', str(tmp_path / 'w'), '--debug']) == 1
    err = capsys.readouterr().err
    assert 'Traceback (most recent call last)' in err and 'DataLoader' in err
    assert err.strip().splitlines()[-1].startswith(f'error: {config}:{line}: ')
    monkeypatch.setenv('MMHIER_DEBUG', '1')
    config, _ = variant(files, tmp_path, 'debug_env', 'batch_size=1', 'batch_sise=1')
    assert test_tool.main([str(config), str(files['good']), '--work-dir',
                           str(tmp_path / 'w')]) == 1
    assert 'Traceback (most recent call last)' in capsys.readouterr().err


def script(tool, *argv, env=None):
    return subprocess.run([sys.executable, str(TOOLS / tool), *map(str, argv)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, 'PYTHONPATH': '', **(env or {})})


def test_as_scripts_one_line_and_debug(files, tmp_path):
    config, line = variant(files, tmp_path, 'script', 'taxonomy=taxonomy, in_channels=64',
                           'taxonmy=taxonomy, in_channels=64')
    proc = script('train.py', config, '--work-dir', tmp_path / 'w')
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
    errors = [e for e in proc.stderr.splitlines() if e.startswith('error:')]
    assert errors == [proc.stderr.strip().splitlines()[-1]]
    assert errors[0].startswith(f'error: {config}:{line}: model.decode_head: unknown key '
                                "'taxonmy' for HierarchicalDecodeHead - did you mean "
                                "'taxonomy'?")
    debug = script('infer.py', config, files['good'], files['photos'] / 'good.png',
                   '--out', tmp_path / 'o', '--device', 'cpu', '--debug')
    assert debug.returncode == 1
    assert 'Traceback (most recent call last)' in debug.stderr
    assert "TypeError: HierarchicalDecodeHead.__init__() missing 1 required positional " \
           "argument: 'taxonomy'" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1].startswith(f'error: {config}:{line}: ')

