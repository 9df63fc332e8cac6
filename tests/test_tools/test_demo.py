"""The README's demo command end to end, shortened (--quick: tiny data, a few
iterations): data in the three formats, two trained models, their metrics,
prediction overlays and the report."""
import json
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_quick_demo(tmp_path):
    out = tmp_path / 'demo'
    run = subprocess.run([sys.executable, 'tools/demo.py', '--quick', '--out', str(out)],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for set_dir in ('city_like/gtFine/train', 'vistas_like/training/v1.2/labels',
                    'gtsdb_like/FullIJCNN2013/gt.txt'):
        assert (out / 'data' / set_dir).exists()
    for name in ('hier', 'flat'):
        metrics = json.loads((out / name / 'metrics.json').read_text())
        assert set(metrics['datasets']) == {'city_like', 'vistas_like', 'gtsdb_like'}
        assert {'1', '2', '3'} <= set(metrics['levels'])
        overlays = sorted((out / 'predictions' / name).glob('*_overlay.png'))
        assert len(overlays) == 3
    report = (out / 'report.md').read_text()
    assert '| dataset (own label space) | hier mIoU | flat mIoU |' in report
    assert '| lane marking (vistas_like) |' in report
    assert (out / 'taxonomy.png').read_bytes()[:4] == b'\x89PNG'
