"""TensorBoard logging through configs/_base_/tensorboard.py: per-classifier
losses while training and hierarchical metrics after a validation end up as
scalars in the event file."""
from __future__ import annotations

import pytest
from mmengine.config import Config

from mmhier.structures import classifier_log_names
from tests.test_mmseg_tools.conftest import REPO, output, run_mmseg_tool

#: A tiny model on the demo data, with tensorboard.py in place of
#: default_runtime.py (as configs/_base_/tensorboard.py says).
CONFIG = '''\
_base_ = [{datasets!r}, {tensorboard!r}]
train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='TaxonomyEncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=-1, size=(128, 256)),
    backbone=dict(type='MobileNetV2', widen_factor=0.25, strides=(1, 2, 2, 1, 1, 1, 1),
                  dilations=(1, 1, 1, 2, 2, 4, 4), out_indices=(1, 6), norm_cfg=norm_cfg),
    decode_head=dict(type='HierarchicalDecodeHead', taxonomy='taxonomies/tiny_street.yaml',
                     in_channels=80, in_index=1, channels=16, branch=dict(width=16),
                     norm_cfg=norm_cfg),
    train_cfg=dict(), test_cfg=dict(mode='whole'))
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
log_processor = dict(by_epoch=False)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', interval=100, save_last=False))
'''


def test_tensorboard_base_adds_the_backend():
    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'tensorboard.py'))
    assert cfg.visualizer.type == 'TaxonomySegLocalVisualizer'
    assert [b['type'] for b in cfg.visualizer.vis_backends] == [
        'LocalVisBackend', 'TensorboardVisBackend']
    assert cfg.tta_model.type == 'TaxonomyTTAModel'       # the rest of default_runtime


def test_training_writes_classifier_scalars(demo_data, taxonomy, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    config = tmp_path / 'tiny_tensorboard.py'
    config.write_text(CONFIG.format(
        datasets=str(REPO / 'configs' / '_base_' / 'datasets' / 'demo_tiny_street.py'),
        tensorboard=str(REPO / 'configs' / '_base_' / 'tensorboard.py')))
    work = tmp_path / 'work'
    proc = run_mmseg_tool('train.py', config, '--work-dir', work, cwd=tmp_path)
    assert proc.returncode == 0, output(proc)
    events = list(work.glob('*/vis_data/events.out.tfevents.*'))
    assert len(events) == 1, list(work.rglob('*'))
    accumulator = EventAccumulator(str(events[0].parent))
    accumulator.Reload()
    tags = set(accumulator.Tags()['scalars'])
    names = classifier_log_names(taxonomy)
    assert {'loss', 'lr'} | {f'decode.loss_{n}' for n in names} <= tags, sorted(tags)
    assert {f'hier/classifier/{n}/{m}' for n in names
            for m in ('acc', 'mIoU', 'mPA', 'routing')} <= tags, sorted(tags)
    # the datasets of the validation loader (city_ext_like is evaluated by the
    # Table IV configs only)
    assert {f'hier/{key}/mIoU' for key in ('city_like', 'vistas_like', 'gtsdb_like')} <= tags
    assert 'hier/city_ext_like/mIoU' not in tags
    assert [e.step for e in accumulator.Scalars('decode.loss_root')] == [1, 2]
    assert [e.step for e in accumulator.Scalars('hier/classifier/root/acc')] == [2]


@pytest.mark.parametrize('name', ['setup.py'])
def test_tensorboard_install_extra(name):
    """``pip install "mmhier[tensorboard]"`` pulls tensorboard."""
    import ast
    tree = ast.parse((REPO / name).read_text())
    extras = next(k.value for node in ast.walk(tree) if isinstance(node, ast.Call)
                  for k in node.keywords if k.arg == 'extras_require')
    keys = [k.value for k in extras.keys]
    values = extras.values[keys.index('tensorboard')]
    assert [e.value for e in values.elts] == ['tensorboard>=2.14']
