"""tools/train.py and tools/test.py end to end on a tiny generated Cityscapes-like
dataset (``city_like`` of taxonomies/tiny_street.yaml), plus their option
handling and tools/dist_train.sh's command line.

The helpers here (:func:`make_city_like`, :func:`write_config`, :func:`run_tool`)
are shared with test_resume.py and test_infer.py.
"""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools'
TINY = REPO / 'taxonomies' / 'tiny_street.yaml'
SIZE = (32, 64)  # (H, W) of the generated images

#: A tiny but complete training config; filled in by :func:`write_config`.
CONFIG = '''\
custom_imports = dict(imports=['mmhier.models', 'mmhier.datasets',
                               'mmhier.evaluation'{extra_imports}],
                      allow_failed_imports=False)
default_scope = 'mmseg'
taxonomy = {taxonomy!r}
data_root = {data_root!r}
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='TaxonomyEncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=-1, size={size!r}),
    backbone=dict(type='ResNetV1c', depth=18, base_channels=8, stem_channels=8,
                  num_stages=4, out_indices=(3, ), dilations=(1, 1, 2, 4),
                  strides=(1, 2, 1, 1), norm_cfg=norm_cfg, contract_dilation=True),
    decode_head=dict(type='HierarchicalDecodeHead', taxonomy=taxonomy, in_channels=64,
                     in_index=0, channels=16, branch=dict(width=16), norm_cfg=norm_cfg,
                     align_corners=False),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadTaxonomyAnnotations'),
            dict(type='PackTaxonomySegInputs')]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackTaxonomySegInputs')]
dataset = dict(type='CityscapesTaxonomyDataset', data_root=data_root, split='train',
               taxonomy=taxonomy, dataset_key='city_like', pipeline=pipeline)
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dataset)
test_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                       sampler=dict(type='DefaultSampler', shuffle=False), dataset=dataset)
test_evaluator = dict(type='HierarchicalIoUMetric', taxonomy=taxonomy)
train_cfg = dict(type='IterBasedTrainLoop', max_iters={max_iters})
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0,
                        end={max_iters}, by_epoch=False)]
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval={interval}),
    sampler_seed=dict(type='DistSamplerSeedHook'))
custom_hooks = {custom_hooks!r}
log_processor = dict(by_epoch=False)
log_level = 'INFO'
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='nccl'),
               mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
randomness = dict(seed=0)
'''

#: BGR-ish colour of each city_like label id, so that images relate to labels.
ID_COLOURS = np.random.default_rng(0).integers(0, 256, size=(11, 3), dtype=np.uint8)


def make_city_like(root: Path, count: int = 6, split: str = 'train') -> Path:
    """Write ``count`` images with labelIds in the Cityscapes layout.

    Labels are horizontal bands of ids 0..10 (0 = unlabeled), shifted per image;
    images are the ids' colours plus noise.

    Returns:
        ``root`` (the dataset's ``data_root``).
    """
    rng = np.random.default_rng(1)
    height, width = SIZE
    for i in range(count):
        name = f'toy_000000_{i:06d}'
        rows = (np.arange(height)[:, None] * 11 // height + i) % 11
        labels = np.broadcast_to(rows, (height, width)).astype(np.uint8).copy()
        labels[:, : width // 4] = (labels[:, : width // 4] + 3) % 11
        image = ID_COLOURS[labels].astype(np.int16) + rng.integers(-20, 21, (height, width, 3))
        for folder, suffix, data in (('leftImg8bit', '_leftImg8bit.png', image),
                                     ('gtFine', '_gtFine_labelIds.png', labels)):
            out = root / folder / split / 'toy'
            out.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.clip(data, 0, 255).astype(np.uint8)).save(
                out / f'{name}{suffix}')
    return root


def write_config(path: Path, data_root: Path, max_iters: int = 6, interval: int = 3,
                 taxonomy: Path = TINY, extra_imports: tuple = (),
                 custom_hooks: tuple = ()) -> Path:
    """Write the tiny config to ``path`` and return it."""
    path.write_text(CONFIG.format(
        taxonomy=str(taxonomy), data_root=str(data_root), size=SIZE,
        max_iters=max_iters, interval=interval, custom_hooks=list(custom_hooks),
        extra_imports=''.join(f', {m!r}' for m in extra_imports)))
    return path


def run_tool(tool: str, *args, cwd: Path = REPO, env: dict = None,
             timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``tools/<tool>`` as a script with the test interpreter."""
    return subprocess.run([sys.executable, str(TOOLS / tool), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, 'PYTHONPATH': '', **(env or {})})


def load_tool(name: str):
    """Import ``tools/<name>.py`` as a module (for in-process tests)."""
    spec = importlib.util.spec_from_file_location(f'mmhier_tool_{name}',
                                                  TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train_iterations(log: str) -> list[int]:
    """The iteration numbers of the training log lines ``Iter(train) [ k/N]``."""
    return [int(k) for k in re.findall(r'Iter\(train\) \[\s*(\d+)/\d+\]', log)]


train_tool = load_tool('train')
test_tool = load_tool('test')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A 6-iteration training run (checkpoints every 3 iterations), started
    from another directory than the repository."""
    root = tmp_path_factory.mktemp('train_tools')
    data = make_city_like(root / 'data')
    config = write_config(root / 'tiny_hier.py', data)
    proc = run_tool('train.py', config, '--work-dir', root / 'work', cwd=root)
    return root, config, proc


def test_train_writes_checkpoints(trained):
    root, _, proc = trained
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    work = root / 'work'
    assert (work / 'iter_3.pth').is_file() and (work / 'iter_6.pth').is_file()
    assert (work / 'last_checkpoint').read_text().strip().endswith('iter_6.pth')
    assert train_iterations(proc.stdout) == [1, 2, 3, 4, 5, 6]
    assert 'loss' in proc.stdout


def test_test_tool_prints_metrics_and_saves_node_maps(trained):
    root, config, _ = trained
    out = root / 'preds'
    proc = run_tool('test.py', config, root / 'work' / 'iter_6.pth', '--work-dir',
                    root / 'test_work', '--out', out, cwd=root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'Load checkpoint from' in proc.stdout
    assert re.search(r'Iter\(test\) \[6/6\].*city_like/mIoU: \d', proc.stdout)
    # the metric's output_dir (as MMSeg's --out): one folder per dataset key
    maps = sorted(out.glob('*/*.png'))
    assert [p.relative_to(out).as_posix() for p in maps] == [
        f'city_like/toy_000000_{i:06d}_leftImg8bit.png' for i in range(6)]
    nodes = np.array(Image.open(maps[0]))
    assert nodes.shape == SIZE
    from mmhier.taxonomy import load_taxonomy
    tax = load_taxonomy(TINY)
    assert set(np.unique(nodes).tolist()) <= set(tax.leaf_indices.tolist())


def test_build_config_defaults_and_resume(tmp_path):
    config = write_config(tmp_path / 'tiny_hier.py', tmp_path / 'data')
    cfg = train_tool.build_config(train_tool.parse_args([str(config)]))
    assert cfg.work_dir == os.path.join('./work_dirs', 'tiny_hier')
    assert not cfg.get('resume') and cfg.get('load_from') is None
    assert cfg.launcher == 'none' and cfg.default_scope == 'mmseg'

    cfg = train_tool.build_config(train_tool.parse_args(
        [str(config), '--resume', '--work-dir', str(tmp_path / 'w'),
         '--cfg-options', 'train_cfg.max_iters=9', 'work_dir=ignored']))
    assert cfg.resume is True and cfg.load_from is None
    assert cfg.work_dir == str(tmp_path / 'w') and cfg.train_cfg.max_iters == 9

    checkpoint = tmp_path / 'iter_3.pth'
    checkpoint.write_bytes(b'')
    cfg = train_tool.build_config(train_tool.parse_args(
        [str(config), '--resume', str(checkpoint)]))
    assert cfg.resume is True and cfg.load_from == str(checkpoint)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        train_tool.build_config(train_tool.parse_args(
            [str(config), '--resume', str(tmp_path / 'missing.pth')]))


def test_amp_option(tmp_path):
    config = write_config(tmp_path / 'tiny_hier.py', tmp_path / 'data')
    cfg = train_tool.build_config(train_tool.parse_args([str(config), '--amp']))
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    args = train_tool.parse_args([str(config), '--amp', '--cfg-options',
                                  'optim_wrapper.type=ApexOptimWrapper'])
    with pytest.raises(train_tool.ConfigError, match='ApexOptimWrapper'):
        train_tool.build_config(args)


def test_user_errors_exit_1_without_traceback(tmp_path, capsys):
    assert train_tool.main([str(tmp_path / 'nope.py')]) == 1
    assert "error: FileNotFoundError: config file" in capsys.readouterr().err
    config = write_config(tmp_path / 'tiny_hier.py', tmp_path / 'data')
    assert test_tool.main([str(config), str(tmp_path / 'nope.pth')]) == 1
    assert f"error: checkpoint {tmp_path / 'nope.pth'}: does not exist" in \
        capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        train_tool.main([str(config), '--launcher', 'nonsense'])
    assert info.value.code == 2


def test_missing_data_is_a_clear_error(tmp_path):
    config = write_config(tmp_path / 'tiny_hier.py', tmp_path / 'no_such_data')
    proc = run_tool('train.py', config, '--work-dir', tmp_path / 'work', cwd=tmp_path)
    assert proc.returncode == 1
    assert 'error: MissingDataError: Cityscapes data_root' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_dist_train_sh_calls_torchrun(tmp_path):
    fake = tmp_path / 'python'
    fake.write_text('#!/usr/bin/env bash\necho "PYTHONPATH=$PYTHONPATH"\n'
                    'printf "%s\\n" "$@"\n')
    fake.chmod(0o755)
    proc = subprocess.run(
        ['bash', str(TOOLS / 'dist_train.sh'), 'cfg.py', '4', '--amp', '--work-dir', 'w'],
        capture_output=True, text=True,
        env={**os.environ, 'PYTHON': str(fake), 'NNODES': '2', 'NODE_RANK': '1',
             'PORT': '29999', 'MASTER_ADDR': '10.0.0.1', 'PYTHONPATH': ''})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert Path(lines[0].split('=', 1)[1]).resolve() == REPO
    assert lines[1:] == ['-m', 'torch.distributed.run', '--nnodes=2', '--node_rank=1',
                         '--master_addr=10.0.0.1', '--master_port=29999',
                         '--nproc_per_node=4', str(TOOLS / 'train.py'), 'cfg.py',
                         '--launcher', 'pytorch', '--amp', '--work-dir', 'w']
    usage = subprocess.run(['bash', str(TOOLS / 'dist_train.sh'), 'cfg.py'],
                           capture_output=True, text=True)
    assert usage.returncode == 2 and 'usage:' in usage.stderr
