"""TaxonomySegLocalVisualizer, driven through MMSeg's own code: the registry,
SegVisualizationHook, browse_dataset.py and show_result_pyplot. Exact pixels:
ignored pixels keep the image, box pseudo labels are striped, labels and
predictions blend with the node's palette colour at alpha."""
import runpy
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import mmcv
import mmseg
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.apis import show_result_pyplot
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample
from PIL import Image

from mmhier.structures import encode_labels
from mmhier.taxonomy import TaxonomyError, TaxonomyMismatchError
from mmhier.visualization import (BOX_STRIPE_WIDTH, OVERLAY_ALPHA, LabelMapError,
                                  TaxonomySegLocalVisualizer, VisualizerConfigError,
                                  VisualizerTaxonomyMismatchError, hierarchical_palette,
                                  label_overlay, legend_image, overlay)
from mmhier.visualization.overlay import LEGEND_WIDTH
from tests.conftest import TAXONOMIES

TINY = str(TAXONOMIES / 'tiny_street.yaml')
H, W = 12, 16


def unique_name(prefix):
    return f'{prefix}-{uuid.uuid4().hex[:8]}'


def build(**cfg):
    cfg.setdefault('name', unique_name('vis'))
    return VISUALIZERS.build(dict(type='TaxonomySegLocalVisualizer', **cfg))


@pytest.fixture(scope='module')
def tiny(shipped):
    return shipped('tiny_street')


@pytest.fixture()
def scene(tiny):
    """An image, a label map with ignored pixels, per-pixel and box labels,
    and a prediction of node ids."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (H, W, 3)).astype(np.uint8)
    nodes = np.full((H, W), -1)
    nodes[:4] = tiny.index('road')
    nodes[4:8, :8] = tiny.index('sky')
    nodes[8:, 4:12] = tiny.index('stop')
    is_box = np.zeros((H, W), dtype=bool)
    is_box[8:] = True
    labels = encode_labels(nodes, is_box, tiny.num_nodes)
    pred = rng.integers(1, tiny.num_nodes, (H, W))
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.from_numpy(labels[None]))
    sample.pred_sem_seg = PixelData(data=torch.from_numpy(pred[None]))
    return SimpleNamespace(image=image, nodes=nodes, is_box=is_box, labels=labels,
                           pred=pred, sample=sample)


def blend(pixel, colour, alpha=OVERLAY_ALPHA):
    return np.rint((1 - alpha) * pixel.astype(float) + alpha * np.asarray(colour, float))


def assert_gt_panel(panel, scene, palette, alpha=OVERLAY_ALPHA):
    """Every pixel by hand: ignored -> image, per-pixel -> blend, box -> blend
    on the stripes and image between them."""
    for y in range(H):
        for x in range(W):
            node, pixel = scene.nodes[y, x], scene.image[y, x]
            striped = (x + y) // BOX_STRIPE_WIDTH % 2 == 0
            drawn = node >= 0 and (not scene.is_box[y, x] or striped)
            want = blend(pixel, palette[node], alpha) if drawn else pixel
            np.testing.assert_array_equal(panel[y, x], want, err_msg=f'gt pixel {(y, x)}')


def assert_pred_panel(panel, scene, palette, alpha=OVERLAY_ALPHA):
    want = np.rint((1 - alpha) * scene.image + alpha * palette[scene.pred].astype(float))
    np.testing.assert_array_equal(panel, want)


# ------------------------------------------------------------ registration
def test_importing_the_package_registers_the_visualizer(tmp_path, tiny):
    assert VISUALIZERS.get('TaxonomySegLocalVisualizer') is TaxonomySegLocalVisualizer
    vis = build(taxonomy=TINY, vis_backends=[dict(type='LocalVisBackend')],
                save_dir=str(tmp_path))
    assert isinstance(vis, TaxonomySegLocalVisualizer)
    assert vis.taxonomy.tree_hash == tiny.tree_hash and vis.alpha == OVERLAY_ALPHA
    assert vis.dataset_meta['classes'] == tiny.nodes
    assert vis.dataset_meta['palette'] == hierarchical_palette(tiny).tolist()


# ------------------------------------------------------------- MMSeg hook
@pytest.mark.parametrize('phase', ['test', 'val'])
def test_seg_visualization_hook_draws_gt_boxes_and_predictions(tmp_path, tiny, scene,
                                                               phase):
    image_path = tmp_path / 'street.png'
    Image.fromarray(scene.image).save(image_path)
    scene.sample.set_metainfo(dict(img_path=str(image_path)))
    vis = TaxonomySegLocalVisualizer.get_instance(
        unique_name('hook'), taxonomy=TINY, vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path / 'run'))
    hook = SegVisualizationHook(draw=True, interval=1)
    if phase == 'test':
        hook.after_test_iter(SimpleNamespace(iter=0), 0, {}, [scene.sample])
    else:
        hook.after_val_iter(SimpleNamespace(iter=0), 0, {}, [scene.sample])
    saved, = (tmp_path / 'run' / 'vis_data' / 'vis_image').glob(f'{phase}_street.png_*.png')
    picture = np.asarray(Image.open(saved).convert('RGB'))
    palette = hierarchical_palette(tiny)
    assert_gt_panel(picture[:H, :W], scene, palette)
    assert_pred_panel(picture[:H, W:2 * W], scene, palette)
    present = np.concatenate([np.unique(scene.nodes), np.unique(scene.pred)])
    legend = legend_image(tiny, present, palette, width=LEGEND_WIDTH, height=H)
    assert picture.shape == (legend.shape[0], 2 * W + LEGEND_WIDTH, 3)
    np.testing.assert_array_equal(picture[:, 2 * W:], legend)
    assert (picture[H:, :2 * W] == 255).all()  # white below the image
    np.testing.assert_array_equal(vis.get_image(), picture)


# ------------------------------------------------------ browse_dataset.py
BROWSE = Path(mmseg.__file__).parent / '.mim' / 'tools' / 'analysis_tools' / \
    'browse_dataset.py'


def write_ppm(path, pixels):
    height, width = pixels.shape[:2]
    path.write_bytes(f'P6\n{width} {height}\n255\n'.encode() + pixels.tobytes())


@pytest.mark.skipif(not BROWSE.is_file(), reason='mmseg ships no browse_dataset.py here')
def test_browse_dataset_shows_boxes_and_leaves_ignored_pixels_alone(tmp_path, monkeypatch,
                                                                  shipped):
    """A GTSDB image without signs stays the image (MMSeg painted it in the
    last palette colour); a stop sign's pseudo mask is striped in its colour.
    The visualizer takes the taxonomy from the dataset's metainfo."""
    tax = shipped('cs_vistas_gtsdb')
    folder = tmp_path / 'FullIJCNN2013'
    folder.mkdir()
    rng = np.random.default_rng(3)
    images = {name: rng.integers(0, 256, (30, 40, 3)).astype(np.uint8)
              for name in ('00000', '00001')}
    for name, pixels in images.items():
        write_ppm(folder / f'{name}.ppm', pixels)
    (folder / 'gt.txt').write_text('00000.ppm;5;4;11;10;14\n')  # 14: stop
    config = tmp_path / 'browse.py'
    config.write_text(
        "custom_imports = dict(imports=['mmhier.datasets', 'mmhier.visualization'],\n"
        "                      allow_failed_imports=False)\n"
        "default_scope = 'mmseg'\n"
        f"train_dataloader = dict(dataset=dict(type='GTSDBTaxonomyDataset',\n"
        f"    taxonomy={str(TAXONOMIES / 'cs_vistas_gtsdb.yaml')!r},\n"
        f"    data_root={str(tmp_path)!r}, split='train',\n"
        "    pipeline=[dict(type='LoadImageFromFile'), dict(type='BoxesToPseudoMask'),\n"
        "              dict(type='PackSegInputs')]))\n"
        f"visualizer = dict(type='TaxonomySegLocalVisualizer', name={unique_name('b')!r},\n"
        "                  vis_backends=[dict(type='LocalVisBackend')])\n")
    out = tmp_path / 'out'
    monkeypatch.setattr(sys, 'argv', ['browse_dataset.py', str(config), '--output-dir',
                                      str(out), '--not-show'])
    runpy.run_path(str(BROWSE), run_name='__main__')

    empty = mmcv.imread(str(out / '00001.ppm'), channel_order='rgb')
    np.testing.assert_array_equal(empty[:30, :40], images['00001'])
    stop = mmcv.imread(str(out / '00000.ppm'), channel_order='rgb')[:30, :40]
    colour = hierarchical_palette(tax)[tax.index('stop')]
    box = np.zeros((30, 40), dtype=bool)
    box[4:11, 5:12] = True
    ys, xs = np.nonzero(stop.astype(int).sum(-1) != images['00000'].astype(int).sum(-1))
    assert len(ys) > 10 and box[ys, xs].all()  # drawn pixels: only inside the box
    for y, x in zip(ys, xs):
        assert (x + y) // BOX_STRIPE_WIDTH % 2 == 0, (y, x)  # ... on the stripes
        np.testing.assert_array_equal(stop[y, x], blend(images['00000'][y, x], colour))
    np.testing.assert_array_equal(stop[~box], images['00000'][~box])


# ---------------------------------------------------- show_result_pyplot
def test_show_result_pyplot_uses_the_palette_of_the_model_meta(tmp_path, tiny, scene):
    """MMSeg's show_result_pyplot builds its own SegLocalVisualizer from
    ``model.dataset_meta``: with the taxonomy's names and palette there (what
    mmhier datasets put into metainfo, hence into checkpoints), predictions
    get mmhier's colours (MMSeg rounds the blend down)."""
    model = SimpleNamespace(dataset_meta=dict(classes=tiny.nodes,
                                              palette=hierarchical_palette(tiny).tolist()))
    result = SegDataSample()
    result.pred_sem_seg = scene.sample.pred_sem_seg
    drawn = show_result_pyplot(model, scene.image, result, opacity=OVERLAY_ALPHA,
                               show=False, with_labels=False,
                               out_file=str(tmp_path / 'shown.png'))
    colours = hierarchical_palette(tiny)[scene.pred]
    mmseg_blend = (scene.image * (1 - OVERLAY_ALPHA) + colours * OVERLAY_ALPHA).astype(
        np.uint8)
    np.testing.assert_array_equal(drawn, mmseg_blend)
    ours = overlay(scene.image, scene.pred, hierarchical_palette(tiny))
    assert np.abs(drawn.astype(int) - ours).max() <= 1


# --------------------------------------------------------- drawing, layout
def test_layout_without_legend_is_mmsegs(tiny, scene):
    vis = build(taxonomy=TINY, alpha=0.7)
    palette = hierarchical_palette(tiny)
    picture = vis.draw_sample(scene.image, scene.sample, with_labels=False)
    assert picture.shape == (H, 2 * W, 3)
    assert_gt_panel(picture[:, :W], scene, palette, alpha=0.7)
    assert_pred_panel(picture[:, W:], scene, palette, alpha=0.7)
    with_image = vis.draw_sample(scene.image, scene.sample, with_labels=False,
                                 with_image=True)
    np.testing.assert_array_equal(with_image[:, :W], scene.image)
    np.testing.assert_array_equal(with_image[:, W:], picture)
    gt_only = vis.draw_sample(scene.image, scene.sample, draw_pred=False, with_labels=False)
    np.testing.assert_array_equal(gt_only, picture[:, :W])
    np.testing.assert_array_equal(vis.draw_sample(scene.image, None), scene.image)


def test_add_datasample_writes_out_file_and_draw_sem_seg_matches(tmp_path, tiny, scene):
    vis = build(taxonomy=TINY)
    out_file = tmp_path / 'pic.png'
    vis.add_datasample('pic', scene.image, scene.sample, out_file=str(out_file),
                       with_labels=False)
    written = mmcv.imread(str(out_file), channel_order='rgb')
    np.testing.assert_array_equal(written, vis.draw_sample(scene.image, scene.sample,
                                                           with_labels=False))
    drawn = vis._draw_sem_seg(scene.image, scene.sample.gt_sem_seg, ['ignored'], [[0, 0, 0]])
    np.testing.assert_array_equal(drawn, label_overlay(scene.image, scene.labels,
                                                       hierarchical_palette(tiny)))


def test_numpy_maps_as_browse_dataset_hands_them_over(tiny, scene):
    vis = build(taxonomy=TINY)
    np.testing.assert_array_equal(
        vis.draw_sample(scene.image, scene.sample.numpy(), with_labels=False),
        vis.draw_sample(scene.image, scene.sample, with_labels=False))


def test_label_maps_that_do_not_fit(scene):
    vis = build(taxonomy=TINY)
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.zeros(1, H, W))
    with pytest.raises(LabelMapError, match=r'gt_sem_seg must hold a \(1, H, W\) integer '
                                            r'map, got float32 of shape \(12, 16\)'):
        vis.draw_sample(scene.image, sample)
    sample = SegDataSample()
    sample.pred_sem_seg = PixelData(data=torch.zeros(1, H, W - 1, dtype=torch.long))
    with pytest.raises(LabelMapError, match='pred_sem_seg is 15x12 but the image is 16x12'):
        vis.draw_sample(scene.image, sample)


# ------------------------------------------------------ taxonomy, config
def test_taxonomy_comes_from_the_dataset_metainfo(tiny, scene):
    vis = build()
    assert vis.taxonomy is None and vis.dataset_meta is None
    with pytest.raises(VisualizerConfigError, match='no taxonomy to draw with: give it '
                                                    'taxonomy=<file>'):
        vis.draw_sample(scene.image, scene.sample)
    random_palette = [[1, 2, 3]] * tiny.num_nodes  # what BaseSegDataset makes up
    vis.dataset_meta = dict(classes=tiny.nodes, palette=random_palette, taxonomy=TINY,
                            dataset_key='gtsdb_like')
    assert vis.taxonomy.tree_hash == tiny.tree_hash
    assert vis.dataset_meta['palette'] == hierarchical_palette(tiny).tolist()
    assert vis.dataset_meta['dataset_key'] == 'gtsdb_like'
    assert_gt_panel(vis.draw_sample(scene.image, scene.sample, with_labels=False)[:, :W],
                    scene, hierarchical_palette(tiny))
    vis.dataset_meta = dict(taxonomy=tiny)  # a Taxonomy object is fine too
    assert vis.taxonomy.tree_hash == tiny.tree_hash


def test_a_dataset_of_another_taxonomy_is_refused(tiny):
    vis = build(taxonomy=TINY)
    other = str(TAXONOMIES / 'cityscapes_extended.yaml')
    with pytest.raises(VisualizerTaxonomyMismatchError) as error:
        vis.dataset_meta = dict(taxonomy=other, classes=('x',))
    assert isinstance(error.value, TaxonomyMismatchError)
    assert isinstance(error.value, TaxonomyError)
    message = str(error.value)
    assert 'tiny_street.yaml (22 nodes)' in message
    assert 'cityscapes_extended.yaml (71 nodes' in message
    assert "set the visualizer's taxonomy to the dataset's file" in message
    with pytest.raises(VisualizerTaxonomyMismatchError, match="classes .3, starting "
                       r"\['road', 'sidewalk', 'car'\]. are not its 22 node names"):
        vis.dataset_meta = dict(classes=('road', 'sidewalk', 'car'))
    vis.dataset_meta = dict(classes=tiny.nodes)  # the node names: fine
    assert vis.taxonomy.tree_hash == tiny.tree_hash


@pytest.mark.parametrize('cfg, message', [
    (dict(alpha=1.5), r'alpha must be a number in \[0, 1\] .weight of the colours., got 1.5'),
    (dict(alpha='0.5'), "alpha must be a number in .*got '0.5'"),
    (dict(legend_width=10), 'legend_width must be an int of at least 38 pixels, got 10'),
    (dict(palette=[[0, 0, 0]]), 'remove palette from the visualizer config; names and '
                                'colours come from the taxonomy'),
    (dict(classes=['a'], dataset_name='cityscapes'), 'remove classes, dataset_name from'),
])
def test_bad_arguments(cfg, message):
    with pytest.raises(VisualizerConfigError, match=message):
        build(taxonomy=TINY, **cfg)


def test_set_dataset_meta_takes_a_models_meta_but_keeps_taxonomy_colours():
    """MMSeg's Inferencer calls set_dataset_meta(**model.dataset_meta)."""
    from mmhier.taxonomy import load_taxonomy
    from mmhier.visualization import VisualizerTaxonomyMismatchError, hierarchical_palette
    tax = load_taxonomy(TINY)
    vis = build()
    assert vis.taxonomy is None
    vis.set_dataset_meta(classes=list(tax.nodes), palette=[[0, 0, 0]] * tax.num_nodes,
                         taxonomy=str(TINY), dataset_key='city_like')
    assert vis.taxonomy is tax
    assert vis.dataset_meta['palette'] == hierarchical_palette(tax).tolist()
    assert vis.dataset_meta['dataset_key'] == 'city_like'
    with pytest.raises(VisualizerTaxonomyMismatchError, match='not its 22 node names'):
        vis.set_dataset_meta(classes=['a', 'b'], palette=[[0, 0, 0]] * 2)
    with pytest.raises(VisualizerConfigError, match="dataset_name='cityscapes'"):
        vis.set_dataset_meta(dataset_name='cityscapes')
    vis.set_dataset_meta()
    assert vis.dataset_meta['taxonomy'].endswith('tiny_street.yaml')


def test_missing_taxonomy_file_is_a_taxonomy_error(tmp_path):
    with pytest.raises(TaxonomyError, match='nope.yaml'):
        build(taxonomy=str(tmp_path / 'nope.yaml'))


def test_visualizer_decodes_with_the_shared_codec(monkeypatch, tiny, scene):
    from mmhier.structures import label_codec
    from mmhier.visualization import taxonomy_visualizer
    asked = []

    def recording(taxonomy):
        asked.append(taxonomy)
        return label_codec(taxonomy)
    monkeypatch.setattr(taxonomy_visualizer, 'label_codec', recording)
    vis = build(taxonomy=TINY)
    vis.draw_sample(scene.image, scene.sample, draw_pred=False)
    vis._draw_sem_seg(scene.image, scene.sample.gt_sem_seg)
    assert len(asked) == 2 and all(t is vis.taxonomy for t in asked)
