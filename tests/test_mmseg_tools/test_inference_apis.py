"""MMSeg's inference APIs with a shipped mmhier config and an mmhier
checkpoint: ``init_model`` + ``inference_model`` + ``show_result_pyplot``
and the ``MMSegInferencer``."""
from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest
import torch
from mmseg.apis import MMSegInferencer, inference_model, init_model, show_result_pyplot
from PIL import Image

import mmhier.datasets  # noqa: F401
import mmhier.models  # noqa: F401
import mmhier.visualization  # noqa: F401
from mmhier.taxonomy.palette import hierarchical_palette
from tests.test_mmseg_tools.conftest import DEMO_CONFIG


@pytest.fixture(scope='module')
def images(demo_data) -> list:
    """One test image of each synthetic dataset."""
    return [str(next((demo_data / sub).rglob(pattern))) for sub, pattern in (
        ('city_like/leftImg8bit/val', '*.png'), ('vistas_like/validation/images', '*.jpg'),
        ('gtsdb_like', '006*.ppm'))]


@pytest.fixture(scope='module')
def model(demo_data, checkpoint):
    """``init_model`` of the shipped demo config (data root from the
    environment) with the trained checkpoint."""
    return init_model(str(DEMO_CONFIG), str(checkpoint), device='cpu')


def _image(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert('RGB'))


def test_init_model_takes_node_names_and_palette(model, taxonomy):
    assert type(model).__name__ == 'TaxonomyEncoderDecoder'
    assert tuple(model.dataset_meta['classes']) == taxonomy.nodes
    assert model.dataset_meta['palette'] == hierarchical_palette(taxonomy).tolist()


def test_inference_model_gives_node_ids(model, images, taxonomy):
    leaves = set(taxonomy.leaf_indices.tolist())
    results = [inference_model(model, path) for path in images]
    for path, result in zip(images, results):
        pred = result.pred_sem_seg.data[0]
        assert tuple(pred.shape) == _image(path).shape[:2]
        assert set(pred.unique().tolist()) <= leaves
        channels = result.seg_logits.data.argmax(dim=0)
        assert torch.equal(pred, model.decode_head.output_nodes[channels])
    # a loaded (BGR) array gives the same prediction as its file (MMSeg then
    # keeps LoadImageFromNDArray in model.cfg.test_pipeline: restored after)
    pipeline = copy.deepcopy(model.cfg.test_pipeline)
    bgr = _image(images[0])[..., ::-1].copy()
    try:
        from_array = inference_model(model, bgr)
    finally:
        model.cfg.test_pipeline = pipeline
    assert torch.equal(from_array.pred_sem_seg.data, results[0].pred_sem_seg.data)


def test_show_result_pyplot_paints_node_colours(model, images, taxonomy, tmp_path):
    result = inference_model(model, images[0])
    out_file = tmp_path / 'shown.png'
    drawn = show_result_pyplot(model, images[0], result, opacity=1.0, show=False,
                               with_labels=False, out_file=str(out_file))
    pred = result.pred_sem_seg.data[0].numpy()
    palette = hierarchical_palette(taxonomy)
    assert drawn.shape == (*pred.shape, 3)
    assert np.array_equal(drawn, palette[pred])          # node id -> its colour
    assert out_file.is_file()


def make_inferencer(checkpoint) -> MMSegInferencer:
    """The demo config's inferencer on the CPU (without the progress bar
    where MMSeg has the option: 1.2 has not)."""
    quiet = {}
    if 'show_progress' in inspect.signature(MMSegInferencer.__init__).parameters:
        quiet['show_progress'] = False
    return MMSegInferencer(str(DEMO_CONFIG), str(checkpoint), device='cpu', **quiet)


def test_inferencer_predicts_node_ids(demo_data, checkpoint, model, images, taxonomy):
    inferencer = make_inferencer(checkpoint)
    results = inferencer(images)
    leaves = set(taxonomy.leaf_indices.tolist())
    expected = [inference_model(model, path) for path in images]
    for pred, result in zip(results['predictions'], expected):
        assert set(np.unique(pred).tolist()) <= leaves
        assert np.array_equal(pred, result.pred_sem_seg.data[0].numpy())
    samples = inferencer(images[1], return_datasamples=True)
    assert torch.equal(samples.pred_sem_seg.data, expected[1].pred_sem_seg.data)


def test_inferencer_draws_and_saves_predictions(demo_data, checkpoint, images, tmp_path):
    """``out_dir`` saves the drawn picture (``vis/``: the prediction in the
    taxonomy's colours with the hierarchy legend on the right) and the
    prediction (``pred/``, 8-bit PNGs: node ids up to 255)."""
    from mmhier.taxonomy import load_taxonomy
    from mmhier.visualization import OVERLAY_ALPHA, hierarchical_palette, overlay
    from mmhier.visualization.overlay import LEGEND_WIDTH
    inferencer = make_inferencer(checkpoint)
    results = inferencer(images[0], out_dir=str(tmp_path), return_vis=True,
                         opacity=OVERLAY_ALPHA)
    image = _image(images[0])
    height, width = image.shape[:2]
    drawn = results['visualization']
    assert drawn.shape[1] == width + LEGEND_WIDTH and drawn.shape[0] >= height
    palette = hierarchical_palette(load_taxonomy('taxonomies/tiny_street.yaml'))
    expected = overlay(image, results['predictions'], palette, alpha=OVERLAY_ALPHA)
    assert np.abs(drawn[:height, :width].astype(int) - expected).max() <= 1
    [saved] = (tmp_path / 'vis').iterdir()
    assert np.array_equal(np.asarray(Image.open(saved).convert('RGB')), drawn)
    written = sorted((tmp_path / 'pred').glob('*_pred.png'))
    assert np.array_equal(np.asarray(Image.open(written[0])), results['predictions'])
