"""The README's demo command end to end, shortened (--quick: tiny data, a few
iterations) and with two seeds: data in the three formats, the four trained
models (three-dataset and Cityscapes Extended setting, hier and flat), their
metrics, prediction overlays and the report with spreads."""
import json
import re
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_quick_demo_with_two_seeds(tmp_path):
    out = tmp_path / 'demo'
    run = subprocess.run([sys.executable, 'tools/demo.py', '--quick', '--seeds', '2',
                          '--out', str(out)],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for seed in (0, 1):
        data = out / f'seed{seed}' / 'data'
        for set_dir in ('city_like/gtFine/train', 'vistas_like/training/v1.2/labels',
                        'gtsdb_like/FullIJCNN2013/gt.txt', 'city_ext_like/gtFine/val'):
            assert (data / set_dir).exists()
        assert json.loads((data / 'demo_data.json').read_text())['seed'] == seed
        for name in ('hier', 'flat'):
            metrics = json.loads((out / f'seed{seed}' / name / 'metrics.json').read_text())
            assert set(metrics['datasets']) == {'city_like', 'vistas_like', 'gtsdb_like'}
            assert {'1', '2', '3'} <= set(metrics['levels'])
        for name in ('hier_city_gtsdb', 'flat_city_gtsdb'):
            metrics = json.loads((out / f'seed{seed}' / name / 'metrics.json').read_text())
            assert set(metrics['datasets']) == {'city_like', 'city_ext_like'}
    for name in ('hier', 'flat'):
        assert len(sorted((out / 'predictions' / name).glob('*_overlay.png'))) == 3
    report = (out / 'report.md').read_text()
    assert 'Command: `python tools/demo.py --quick --seeds 2' in report
    assert '| dataset (own label space) | hier mIoU | flat mIoU | Δ mIoU |' in report
    assert '| L2: city_ext_like (sign fronts by type) |' in report
    assert '| vistas_like: lane marking |' in report
    # two seeds: mean ± standard deviation in every filled cell of the tables
    row = next(line for line in report.splitlines() if line.startswith('| city_like |'))
    assert len(re.findall(r'\d+\.\d ± \d+\.\d', row)) >= 4, row
    assert 'Over 2 seeds, the hierarchical model is ahead on' in report
    assert 'sign types that only the box annotations teach' in report
    for picture in ('taxonomy.png', 'predictions.png'):
        assert (out / picture).read_bytes()[:4] == b'\x89PNG'
    assert '![predictions](predictions.png)' in report
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['seeds'] == [0, 1] and set(summary['reports']['1']) == {
        'hier', 'flat', 'hier_city_gtsdb', 'flat_city_gtsdb'}
