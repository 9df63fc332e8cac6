"""The head drops into existing MMSeg configs on any backbone: a training step
and inference (whole and sliding window) with ResNetV1c-D8, MobileNetV2 and
MiT (SegFormer), each taken from mmseg's own shipped config with only
``decode_head`` swapped."""
import copy
from pathlib import Path

import mmseg
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmhier.models  # noqa: F401  (registers)
from tests.conftest import REPO_ROOT

TINY = str(REPO_ROOT / 'taxonomies' / 'tiny_street.yaml')
MMSEG_CONFIGS = Path(mmseg.__file__).parent / '.mim' / 'configs'


def mmseg_model(config: str) -> dict:
    """The ``model`` of a config shipped inside the mmseg package."""
    return Config.fromfile(str(MMSEG_CONFIGS / config)).model.to_dict()


def _bn(cfg):
    """SyncBN needs a process group; tests run single-process on CPU."""
    if isinstance(cfg, dict):
        return {k: (dict(type='BN', requires_grad=True) if k == 'norm_cfg' and v
                    and v.get('type') == 'SyncBN' else _bn(v)) for k, v in cfg.items()}
    if isinstance(cfg, list):
        return [_bn(v) for v in cfg]
    return cfg


def hier_head(in_channels, in_index, **extra):
    return dict(type='HierarchicalDecodeHead', taxonomy=TINY, in_channels=in_channels,
                in_index=in_index, channels=32, branch=dict(width=32),
                norm_cfg=dict(type='BN', requires_grad=True), **extra)


def r18_d8():
    cfg = mmseg_model('_base_/models/fcn_r50-d8.py')
    cfg['backbone'].update(depth=18)
    cfg['decode_head'] = hier_head(512, 3)
    return cfg


def mobilenet_v2():
    cfg = mmseg_model(
        'mobilenet_v2/mobilenet-v2-d8_fcn_4xb2-80k_cityscapes-512x1024.py')
    cfg['backbone'].update(widen_factor=0.5)
    cfg['decode_head'] = hier_head(160, 3)
    return cfg


def mit():
    cfg = mmseg_model('_base_/models/segformer_mit-b0.py')
    cfg['backbone'].update(embed_dims=8, num_layers=[1, 1, 1, 1])  # widths 8,16,40,64
    cfg['decode_head'] = hier_head([8, 16, 40, 64], [0, 1, 2, 3],
                                   input_transform='resize_concat')
    return cfg


def build(cfg):
    cfg = _bn(copy.deepcopy(cfg))
    cfg.pop('auxiliary_head', None)
    cfg['pretrained'] = None
    cfg['backbone'].pop('init_cfg', None)
    cfg['data_preprocessor'].update(seg_pad_val=-1, size=(64, 64))
    torch.manual_seed(0)
    return MODELS.build(ConfigDict(cfg))


def batch(model, training=True):
    torch.manual_seed(1)
    samples = []
    for key, offset in (('city_like', 0), ('vistas_like', 0), ('gtsdb_like', 22)):
        sample = SegDataSample(metainfo=dict(dataset_key=key, img_shape=(64, 64),
                                             ori_shape=(64, 64), pad_shape=(64, 64)))
        labels = torch.randint(1, 22, (1, 64, 64)) + offset
        sample.gt_sem_seg = PixelData(data=labels)
        samples.append(sample)
    images = [torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8) for _ in samples]
    return model.data_preprocessor(dict(inputs=images, data_samples=samples), training)


@pytest.mark.parametrize('make', [r18_d8, mobilenet_v2, mit])
def test_train_step_and_inference(make):
    model = build(make())
    data = batch(model)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert {'decode.loss_root', 'decode.acc_traffic_sign_front'} <= set(losses)
    total, _ = model.parse_losses(losses)
    total.backward()
    head = model.decode_head
    assert all(p.grad is not None for p in head.branches[0].parameters())
    model.eval()
    with torch.no_grad():
        whole = model.predict(data['inputs'], data['data_samples'])
        model.test_cfg = ConfigDict(mode='slide', crop_size=(48, 48), stride=(32, 32))
        slide = model.predict(data['inputs'], data['data_samples'])
    for results in (whole, slide):
        pred = results[0].pred_sem_seg.data
        assert pred.shape == (1, 64, 64)
        assert 0 <= int(pred.min()) and int(pred.max()) < head.out_channels
        assert results[0].seg_logits.data.shape == (head.out_channels, 64, 64)


def test_loss_decreases_on_a_fixed_batch():
    model = build(mobilenet_v2())
    data = batch(model)
    for sample in data['data_samples']:   # learnable labels: sky above road/marking
        labels = torch.full((1, 64, 64), 1)
        labels[:, 32:, :32], labels[:, 32:, 32:] = 9, 10
        sample.gt_sem_seg = PixelData(data=labels)
        sample.set_metainfo(dict(dataset_key='vistas_like'))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    values = []
    for _ in range(5):
        total, _ = model.parse_losses(model.loss(data['inputs'], data['data_samples']))
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        values.append(total.item())
    assert values[-1] < values[0] * 0.8, values


def test_shipped_base_config_builds():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/_base_/models/hier_r50-d8.py'))
    model = build(cfg.model.to_dict())
    head = model.decode_head
    assert [b.classify.out_channels for b in head.branches] == \
        [c.num_outputs for c in head.taxonomy.classifiers]
    assert head.out_channels == head.taxonomy.num_leaves
    assert head.loss_decode.tables.weights.tolist() == pytest.approx([1, .1, .1, .1, .1])
