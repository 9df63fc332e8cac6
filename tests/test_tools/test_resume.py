"""tools/train.py --resume after a hard kill, and the refusal to load weights
of another taxonomy (``TaxonomyMismatchError``).

The killed run is stopped at a known point: a test-only hook (written next
to the config, imported through ``custom_imports``) waits after the
checkpoint of iteration 10 until the test SIGKILLs the process. Without it
the tiny model would finish 40 iterations before the test could react.
"""
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.test_tools.test_train_test_tools import (TINY, TOOLS, make_city_like, run_tool,
                                                    train_iterations, write_config)

MAX_ITERS, INTERVAL, KILL_AFTER = 40, 5, 10

#: Parks the training loop after iteration ``at_iter`` (its checkpoint is
#: saved: CheckpointHook runs before this LOWEST-priority hook) when the
#: environment names a marker file, which it creates.
STALL_HOOK = '''\
import os
import time

from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class StallForKill(Hook):
    priority = 'LOWEST'

    def __init__(self, at_iter):
        self.at_iter = at_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        marker = os.environ.get('MMHIER_TEST_STALL_MARKER')
        if marker and runner.iter + 1 == self.at_iter:
            open(marker, 'w').close()
            time.sleep(300)
'''


def wait_for(path, proc, timeout=120.0):
    """Wait until ``path`` exists; fail if ``proc`` ends or time runs out."""
    start = time.monotonic()
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f'training ended early (exit {proc.returncode}); see the log')
        if time.monotonic() - start > timeout:
            proc.kill()
            pytest.fail(f'{path} did not appear within {timeout} s')
        time.sleep(0.05)


@pytest.fixture(scope='module')
def killed_and_resumed(tmp_path_factory):
    """Train 40 iterations (checkpoint every 5), SIGKILL after iteration 10,
    then ``--resume`` in the same work dir."""
    root = tmp_path_factory.mktemp('resume')
    (root / 'stall_hook.py').write_text(STALL_HOOK)
    data = make_city_like(root / 'data')
    config = write_config(root / 'tiny_hier.py', data, max_iters=MAX_ITERS,
                          interval=INTERVAL, extra_imports=('stall_hook',),
                          custom_hooks=(dict(type='StallForKill', at_iter=KILL_AFTER),))
    work, marker = root / 'work', root / 'stalled'
    env = {**os.environ, 'PYTHONPATH': str(root), 'MMHIER_TEST_STALL_MARKER': str(marker)}
    with open(root / 'first.log', 'w') as log:
        first = subprocess.Popen([sys.executable, str(TOOLS / 'train.py'), str(config),
                                  '--work-dir', str(work)], stdout=log,
                                 stderr=subprocess.STDOUT, cwd=root, env=env)
        try:
            wait_for(marker, first)
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
    after_kill = sorted(p.name for p in work.glob('iter_*.pth'))
    resumed = run_tool('train.py', config, '--work-dir', work, '--resume', cwd=root,
                       env={'PYTHONPATH': str(root)})
    return root, work, first, after_kill, resumed


def test_resume_continues_after_kill(killed_and_resumed):
    root, work, first, after_kill, resumed = killed_and_resumed
    assert first.returncode == -signal.SIGKILL
    first_log = (root / 'first.log').read_text()
    assert train_iterations(first_log) == list(range(1, KILL_AFTER + 1))
    assert after_kill == ['iter_10.pth', 'iter_5.pth']

    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    out = resumed.stdout
    assert re.search(rf'Auto resumed from the latest checkpoint \S*iter_{KILL_AFTER}\.pth',
                     out)
    assert f'resumed epoch: 0, iter: {KILL_AFTER}' in out
    assert train_iterations(out) == list(range(KILL_AFTER + 1, MAX_ITERS + 1))
    for it in range(INTERVAL, MAX_ITERS + 1, INTERVAL):
        assert (work / f'iter_{it}.pth').is_file()
    assert (work / 'last_checkpoint').read_text().strip().endswith(f'iter_{MAX_ITERS}.pth')


@pytest.fixture(scope='module')
def other_taxonomy_config(killed_and_resumed):
    """The same config with a taxonomy whose tree differs only by one renamed
    node (``pole`` -> ``post``): same output shapes, another tree hash."""
    root = killed_and_resumed[0]
    text = TINY.read_text().replace('name: tiny_street', 'name: tiny_street_renamed')
    text = re.sub(r'\bpole\b', 'post', text)
    taxonomy = root / 'tiny_street_renamed.yaml'
    taxonomy.write_text(text)
    return write_config(root / 'tiny_hier_renamed.py', root / 'data', max_iters=MAX_ITERS,
                        interval=INTERVAL, taxonomy=taxonomy)


@pytest.mark.parametrize('how', ['resume', 'load_from'])
def test_checkpoint_of_another_taxonomy_is_refused(killed_and_resumed,
                                                   other_taxonomy_config, how, tmp_path):
    checkpoint = killed_and_resumed[1] / f'iter_{KILL_AFTER}.pth'
    option = ['--resume', checkpoint] if how == 'resume' \
        else ['--cfg-options', f'load_from={checkpoint}']
    proc = run_tool('train.py', other_taxonomy_config, '--work-dir', tmp_path / 'work',
                    *option, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'error: TaxonomyMismatchError:' in proc.stderr
    assert "taxonomy 'tiny_street_renamed'" in proc.stderr
    assert 'tree hash' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert train_iterations(proc.stdout) == []
    assert not list((tmp_path / 'work').glob('iter_*.pth'))

