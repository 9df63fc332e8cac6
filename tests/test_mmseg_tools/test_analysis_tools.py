"""MMSeg's analysis tools on mmhier configs: ``confusion_matrix.py``,
``browse_dataset.py``, ``get_flops.py`` (run as scripts)."""
from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from tests.test_mmseg_tools.conftest import output, run_mmseg_tool

#: The tiny config tested on its Cityscapes-like validation set alone: MMSeg's
#: confusion_matrix.py reads one folder of predictions in the order of the
#: test dataset, and label values below the number of classes (pixel labels;
#: box pseudo labels are node id + number of nodes).
CITY_ONLY = '''\
_base_ = [{base!r}]
test_dataloader = dict(_delete_=True, batch_size=1, num_workers=0,
                       sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset={{{{_base_.city_val}}}})
'''


@pytest.fixture(scope='module')
def city_predictions(tiny_config, checkpoint, tmp_path_factory):
    """``(config, prediction folder)``: MMSeg's test.py --out on the
    Cityscapes-like validation images."""
    root = tmp_path_factory.mktemp('city_only')
    config = root / 'city_only.py'
    config.write_text(CITY_ONLY.format(base=str(tiny_config)))
    proc = run_mmseg_tool('test.py', config, checkpoint, '--work-dir', root / 'work',
                          '--out', root / 'out', cwd=root)
    assert proc.returncode == 0, output(proc)
    return config, root / 'out' / 'city_like'


@pytest.mark.filterwarnings('ignore::PIL.Image.DecompressionBombWarning')
def test_confusion_matrix(city_predictions, tmp_path, taxonomy):
    config, predictions = city_predictions
    assert len(list(predictions.glob('*.png'))) == 2
    proc = run_mmseg_tool('analysis_tools/confusion_matrix.py', config, predictions,
                          tmp_path / 'cm', cwd=tmp_path)
    assert proc.returncode == 0, output(proc)
    picture = Image.open(tmp_path / 'cm' / 'confusion_matrix.png')
    # MMSeg draws 2 x 1.6 inches per class at 300 dpi: one class per node
    assert picture.size == (2 * taxonomy.num_nodes * 300,
                            round(2 * taxonomy.num_nodes * 0.8 * 300))


def test_browse_dataset(tiny_config, tmp_path):
    proc = run_mmseg_tool('analysis_tools/browse_dataset.py', tiny_config, '--not-show',
                          '--output-dir', tmp_path / 'browse', cwd=tmp_path)
    assert proc.returncode == 0, output(proc)
    pictures = sorted((tmp_path / 'browse').glob('*'))
    # every training image of the three datasets (2 each), drawn with its labels
    # and the hierarchy legend
    assert len(pictures) == 6, [p.name for p in pictures]
    for path in pictures:
        picture = np.asarray(Image.open(path))
        assert picture.ndim == 3 and picture.shape[1] > 256  # crop 128x256 | legend


def test_get_flops(tiny_config, tmp_path):
    from mmengine.analysis.print_helper import _format_size
    from mmengine.config import Config
    from mmseg.registry import MODELS
    proc = run_mmseg_tool('analysis_tools/get_flops.py', tiny_config, '--shape', '64', '128',
                          cwd=tmp_path)
    assert proc.returncode == 0, output(proc)
    assert re.search(r'Input shape: \(64, 128\)\nFlops: [\d.]+[KMG]\n', proc.stdout), \
        output(proc)
    model = MODELS.build(Config.fromfile(str(tiny_config)).model)
    params = _format_size(sum(p.numel() for p in model.parameters()))
    assert f'Params: {params}\n' in proc.stdout
