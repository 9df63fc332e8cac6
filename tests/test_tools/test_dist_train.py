"""Distributed training with two CPU processes (gloo), as a user starts it:
``tools/dist_train.sh`` (torchrun) and MMSeg's own ``dist_train.sh``
(``torch.distributed.launch``), on the demo config with its real data
pipeline (a small generated copy of the demo data).

A test-only hook (written next to the config, imported through
``custom_imports``) records, on every rank, the images of each batch and, at
the end, the model's weights; the tests then check the contract of
distributed training: each rank's batch holds 1 : 2 : 1 samples of the three
datasets, the ranks never see the same image in one step, the ranks end with
the same weights, and rank 0's checkpoint resumes in a two-process run.
"""
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import REPO_ROOT

DEMO_CONFIG = REPO_ROOT / 'configs' / 'demo' / 'hier_tiny_street.py'
#: Where each sample comes from, by a folder in its image path.
SET_OF_FOLDER = {'city_like': 'city', 'vistas_like': 'vistas', 'gtsdb_like': 'gtsdb'}
FIRST_ITERS, RESUMED_ITERS = 4, 6

RECORD_HOOK = '''\
import json
import os

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class RecordBatches(Hook):
    """Appends each step's image paths to rank<r>.jsonl; saves the weights
    of every rank to weights_rank<r>.pt after training."""

    def __init__(self, out_dir):
        self.out_dir = out_dir

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        paths = [s.img_path for s in data_batch['data_samples']]
        with open(os.path.join(self.out_dir, f'rank{get_rank()}.jsonl'), 'a') as f:
            f.write(json.dumps(dict(iter=runner.iter, paths=paths)) + '\\n')

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        torch.save({k: v.detach().clone() for k, v in model.state_dict().items()},
                   os.path.join(self.out_dir, f'weights_rank{get_rank()}.pt'))
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def write_config(root: Path, name: str, max_iters: int, record_dir: Path) -> Path:
    """The demo config, shortened to ``max_iters`` (a checkpoint every 2),
    with the recording hook."""
    record_dir.mkdir(parents=True, exist_ok=True)
    config = root / f'{name}.py'
    config.write_text(f'''\
_base_ = [{str(DEMO_CONFIG)!r}]
custom_imports = dict(imports=[*_base_.custom_imports.imports, 'record_batches'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='RecordBatches', out_dir={str(record_dir)!r})]
train_cfg = dict(max_iters={max_iters}, val_interval=1000)
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end={max_iters},
                        by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=5),
                     logger=dict(interval=1), visualization=dict(draw=False))
''')
    return config


def launch(script: Path, config: Path, work_dir: Path, root: Path, *extra: str):
    """``bash script config 2 --work-dir work_dir *extra`` from the repo root,
    with this interpreter first on PATH (MMSeg's script calls ``python``)."""
    env = {**os.environ, 'PORT': str(free_port()), 'DEMO_DATA_ROOT': str(root / 'data'),
           'PYTHONPATH': str(root), 'PYTHON': sys.executable,
           'PATH': f'{Path(sys.executable).parent}{os.pathsep}{os.environ.get("PATH", "")}'}
    run = subprocess.run(['bash', str(script), str(config), '2', '--work-dir', str(work_dir),
                          *extra], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return run


def read_steps(record_dir: Path) -> dict:
    """{rank: [(iter, [image paths])...]} from the hook's files."""
    steps = {}
    for rank in (0, 1):
        lines = (record_dir / f'rank{rank}.jsonl').read_text().splitlines()
        steps[rank] = [(r['iter'], r['paths']) for r in map(json.loads, lines)]
    return steps


def dataset_of(path: str) -> str:
    return next(name for folder, name in SET_OF_FOLDER.items() if f'/{folder}/' in path)


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    """Small demo data (8 / 16 / 8 training images) and the hook module."""
    root = tmp_path_factory.mktemp('dist')
    make = subprocess.run([sys.executable, 'tools/make_demo_data.py', str(root / 'data'),
                           '--num-city', '8', '--num-vistas', '16', '--num-gtsdb', '8',
                           '--num-val', '2'], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300)
    assert make.returncode == 0, make.stderr[-3000:]
    (root / 'record_batches.py').write_text(RECORD_HOOK)
    return root


@pytest.fixture(scope='module')
def mmhier_run(demo_root):
    """``tools/dist_train.sh`` for 4 iterations, then ``--resume`` to 6."""
    work = demo_root / 'work_mmhier'
    first = launch(REPO_ROOT / 'tools' / 'dist_train.sh',
                   write_config(demo_root, 'first', FIRST_ITERS, demo_root / 'rec_first'),
                   work, demo_root)
    resumed = launch(REPO_ROOT / 'tools' / 'dist_train.sh',
                     write_config(demo_root, 'resumed', RESUMED_ITERS,
                                  demo_root / 'rec_resumed'),
                     work, demo_root, '--resume')
    return work, first, resumed


def check_batches(steps: dict, iters: list) -> None:
    """1 : 2 : 1 per rank and step; no image on both ranks in one step."""
    for rank in (0, 1):
        assert [it for it, _ in steps[rank]] == iters
    for (it, paths0), (_, paths1) in zip(steps[0], steps[1]):
        for paths in (paths0, paths1):
            kinds = sorted(map(dataset_of, paths))
            assert kinds == ['city', 'gtsdb', 'vistas', 'vistas'], (it, paths)
        assert not set(paths0) & set(paths1), (it, paths0, paths1)


def check_same_weights(record_dir: Path) -> dict:
    """Every parameter equal on both ranks, to the bit; returns rank 0's."""
    w0 = torch.load(record_dir / 'weights_rank0.pt', weights_only=True)
    w1 = torch.load(record_dir / 'weights_rank1.pt', weights_only=True)
    assert w0.keys() == w1.keys()
    params = [k for k in w0 if not k.endswith(('running_mean', 'running_var',
                                               'num_batches_tracked'))]
    assert len(params) > 50
    for key in params:
        assert torch.equal(w0[key], w1[key]), key
    return w0


def test_two_cpu_processes_share_the_work(mmhier_run, demo_root):
    work, first, _ = mmhier_run
    log = first.stdout + first.stderr
    assert 'the CPU processes use gloo' in log
    assert re.search(r'world_size: 2\b|Distributed launcher: pytorch', log)
    steps = read_steps(demo_root / 'rec_first')
    check_batches(steps, list(range(FIRST_ITERS)))
    # the two ranks together cover more distinct images than one rank
    seen = {p for rank in (0, 1) for _, paths in steps[rank] for p in paths}
    assert len(seen) > 4 * FIRST_ITERS


def test_ranks_end_with_the_same_weights_and_rank0_saves_them(mmhier_run, demo_root):
    work, _, _ = mmhier_run
    weights = check_same_weights(demo_root / 'rec_first')
    saved = torch.load(work / f'iter_{FIRST_ITERS}.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    for key, value in weights.items():
        assert torch.equal(saved[key], value), key


def test_checkpoint_of_rank0_resumes_in_two_processes(mmhier_run, demo_root):
    work, _, resumed = mmhier_run
    log = resumed.stdout + resumed.stderr
    assert re.search(rf'resumed epoch: \d+, iter: {FIRST_ITERS}\b', log)
    steps = read_steps(demo_root / 'rec_resumed')
    check_batches(steps, list(range(FIRST_ITERS, RESUMED_ITERS)))
    check_same_weights(demo_root / 'rec_resumed')
    assert (work / f'iter_{RESUMED_ITERS}.pth').is_file()
    assert (work / 'last_checkpoint').read_text().strip().endswith(
        f'iter_{RESUMED_ITERS}.pth')


def test_mmseg_dist_train_script(demo_root):
    """MMSeg's own dist_train.sh (torch.distributed.launch -> MMSeg's
    train.py), which builds the runner from the config's runner_type."""
    import mmseg
    script = Path(mmseg.__file__).parent / '.mim' / 'tools' / 'dist_train.sh'
    record = demo_root / 'rec_mmseg'
    work = demo_root / 'work_mmseg'
    launch(script, write_config(demo_root, 'mmseg_first', FIRST_ITERS, record), work,
           demo_root)
    check_batches(read_steps(record), list(range(FIRST_ITERS)))
    check_same_weights(record)
    resumed_record = demo_root / 'rec_mmseg_resumed'
    run = launch(script, write_config(demo_root, 'mmseg_resumed', RESUMED_ITERS,
                                      resumed_record), work, demo_root, '--resume')
    assert re.search(rf'resumed epoch: \d+, iter: {FIRST_ITERS}\b', run.stdout + run.stderr)
    check_batches(read_steps(resumed_record), list(range(FIRST_ITERS, RESUMED_ITERS)))
    assert (work / f'iter_{RESUMED_ITERS}.pth').is_file()
