# Drop-in: MMSeg's MobileNetV2-D8 backbone (as in its mobilenet_v2 configs) with
# the hierarchical head instead of FCN/ASPP.
_base_ = ['./hier_r50-d8.py']
model = dict(
    pretrained='mmcls://mobilenet_v2',
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=1.,
        strides=(1, 2, 2, 1, 1, 1, 1),
        dilations=(1, 1, 1, 2, 2, 4, 4),
        out_indices=(1, 2, 4, 6),
        norm_cfg={{_base_.norm_cfg}}),
    decode_head=dict(in_channels=320, in_index=3))
