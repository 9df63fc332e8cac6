# Drop-in: MMSeg's MobileNetV2-D8. MMSeg has no _base_ model for it; its
# mobilenet_v2 configs take the ResNet-D8 FCN model and swap the backbone, and
# so does this file, on top of hier_r50-d8.py (MMSeg's fcn_r50-d8 model with
# the hierarchical head). The backbone dict is the one of
# mmseg::mobilenet_v2/mobilenet-v2-d8_fcn_4xb2-80k_cityscapes-512x1024.py.
_base_ = ['./hier_r50-d8.py']
# Defined here, not taken from the base: variables inherited from an mmseg::
# base (here through hier_r50-d8.py) carry _scope_='mmseg', which a norm layer
# does not accept.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    pretrained='mmcls://mobilenet_v2',
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=1.,
        strides=(1, 2, 2, 1, 1, 1, 1),
        dilations=(1, 1, 1, 2, 2, 4, 4),
        out_indices=(1, 2, 4, 6),
        norm_cfg=norm_cfg),
    decode_head=dict(in_channels=320, in_index=3))
