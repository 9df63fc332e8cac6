"""torch.load(weights_only=True) of what MMEngine checkpoints hold, with and
without mmhier's allow-list (upstream MMEngine 0.10.7 loads that way on
torch >= 2.6)."""
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from mmhier.engine import allow_checkpoint_globals, checkpoint_safe_globals
from mmhier.engine.checkpoint_globals import history_buffer_statistic


@pytest.fixture
def no_safe_globals():
    """An empty allow-list for the test; the process's list afterwards."""
    saved = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    yield
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(saved)


def message_hub_checkpoint(path):
    """A checkpoint as MMEngine's CheckpointHook writes it: weights plus the
    message hub's state (HistoryBuffers of numpy values) and numpy meta."""
    hub = MessageHub('ckpt_test')
    for value in (0.5, np.float64(0.25), np.float32(0.125)):
        hub.update_scalar('train/loss', value)
    hub.update_info('iter', 4)
    torch.save(dict(state_dict=dict(w=torch.ones(2)), message_hub=hub.state_dict(),
                    meta=dict(seed=np.int64(7), hist=np.arange(3, dtype=np.uint8))), path)


def test_mmengine_checkpoint_needs_the_list(tmp_path, no_safe_globals):
    message_hub_checkpoint(tmp_path / 'c.pth')
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        torch.load(tmp_path / 'c.pth', weights_only=True)


def test_mmengine_checkpoint_loads_weights_only_with_the_list(tmp_path, no_safe_globals):
    message_hub_checkpoint(tmp_path / 'c.pth')
    allow_checkpoint_globals()
    ckpt = torch.load(tmp_path / 'c.pth', weights_only=True)
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx((0.5 + 0.25 + 0.125) / 3)
    assert ckpt['message_hub']['runtime_info']['iter'] == 4
    assert ckpt['meta']['seed'] == 7 and ckpt['meta']['seed'].dtype == np.int64
    np.testing.assert_array_equal(ckpt['meta']['hist'], [0, 1, 2])
    assert ckpt['meta']['hist'].dtype == np.uint8


def test_idempotent_and_names_both_numpy_layouts(no_safe_globals):
    allow_checkpoint_globals()
    allow_checkpoint_globals()
    listed = torch.serialization.get_safe_globals()
    assert len(listed) == len(checkpoint_safe_globals())
    names = {entry[1] for entry in listed if isinstance(entry, tuple)}
    assert names == {'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct',
                     'numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar',
                     'builtins.getattr'}
    assert getattr not in listed


def test_getattr_only_reaches_history_buffer_statistics():
    assert history_buffer_statistic(HistoryBuffer, 'mean') is HistoryBuffer.mean
    for owner, name in ((HistoryBuffer, '__init__'), (HistoryBuffer.mean, '__globals__'),
                        (np, 'load'), (HistoryBuffer, 0)):
        with pytest.raises(pickle.UnpicklingError, match='only the statistics methods'):
            history_buffer_statistic(owner, name)


def test_fresh_process_loads_a_checkpoint_weights_only(tmp_path):
    """In a new process no HistoryBuffer exists yet when the checkpoint is
    loaded (as in tools/test.py), and MMEngine registers its statistics
    methods only when the first buffer is created."""
    message_hub_checkpoint(tmp_path / 'c.pth')
    code = ('import sys, torch, mmhier.engine\n'
            'c = torch.load(sys.argv[1], weights_only=True)\n'
            "print(c['message_hub']['log_scalars']['train/loss'].current())")
    out = subprocess.run([sys.executable, '-c', code, str(tmp_path / 'c.pth')],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == '0.125'


class Sneaky:
    """Pickles as getattr(HistoryBuffer.mean, '__globals__')."""

    def __reduce__(self):
        return getattr, (HistoryBuffer.mean, '__globals__')


def test_checkpoint_reaching_for_globals_is_refused(tmp_path, no_safe_globals):
    allow_checkpoint_globals()
    torch.save(dict(x=Sneaky()), tmp_path / 'sneaky.pth')
    with pytest.raises(pickle.UnpicklingError, match='only the statistics methods'):
        torch.load(tmp_path / 'sneaky.pth', weights_only=True)


def test_code_outside_the_list_is_still_refused(tmp_path, no_safe_globals):
    allow_checkpoint_globals()
    torch.save(dict(bad=np.random.default_rng(0)), tmp_path / 'rng.pth')
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / 'rng.pth', weights_only=True)
