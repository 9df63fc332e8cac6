"""CPUDistributedRunner's process group on a machine without GPUs (the
two-process training runs are in tests/test_tools/test_dist_train.py)."""
import socket

import pytest
import torch

from mmhier.engine import CPUDistributedError, CPUDistributedRunner, init_cpu_process_group


def launcher_env(monkeypatch, **drop):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    env = dict(RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    for name, value in env.items():
        if name in drop:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


@pytest.fixture
def group_cleanup():
    yield
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


@pytest.mark.parametrize('backend', ['nccl', 'gloo'])
def test_joins_gloo_group(monkeypatch, group_cleanup, backend):
    launcher_env(monkeypatch)
    assert init_cpu_process_group('pytorch', dict(backend=backend, timeout=60)) == 'gloo'
    assert torch.distributed.get_backend() == 'gloo'
    assert torch.distributed.get_world_size() == 1


@pytest.mark.parametrize('launcher', ['slurm', 'mpi'])
def test_other_launchers_are_refused_with_the_way_to_start(launcher):
    with pytest.raises(CPUDistributedError, match=rf'--launcher {launcher}: .*dist_train\.sh'):
        init_cpu_process_group(launcher, dict(backend='nccl'))


def test_missing_launcher_environment_is_named(monkeypatch):
    launcher_env(monkeypatch, RANK=None, MASTER_PORT=None)
    with pytest.raises(CPUDistributedError, match='lacks RANK, MASTER_PORT; start'):
        init_cpu_process_group('pytorch', dict(backend='gloo'))


def test_gpu_only_backend_is_refused(monkeypatch):
    launcher_env(monkeypatch)
    with pytest.raises(CPUDistributedError, match="backend='hccl' does not run on CPU"):
        init_cpu_process_group('pytorch', dict(backend='hccl'))


def test_registered_in_mmseg_runners():
    from mmseg.registry import RUNNERS
    assert RUNNERS.get('CPUDistributedRunner') is CPUDistributedRunner
