# Drop-in: MMSeg's own SegFormer MiT-B0 model (mmseg::_base_/models/
# segformer_mit-b0.py) with the ImageNet-pretrained backbone of its segformer
# configs, and the HierarchicalDecodeHead instead of the SegformerHead, fed by
# all four stages resized and concatenated. Only the segmentor type, the label
# padding and the decode head differ.
_base_ = ['mmseg::_base_/models/segformer_mit-b0.py']
# mmhier's ignore value: node ids may exceed 255 (top-level variable too, see
# hier_r50-d8.py).
data_preprocessor = dict(seg_pad_val=-1)
# Defined here, not taken from the base: variables inherited from an mmseg::
# base carry _scope_='mmseg', which a norm layer does not accept.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='TaxonomyEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/'
            'segformer/mit_b0_20220624-7e0fe6dd.pth')),
    decode_head=dict(
        _delete_=True,
        type='HierarchicalDecodeHead',
        taxonomy='taxonomies/cs_vistas_gtsdb.yaml',
        in_channels=[32, 64, 160, 256],
        in_index=[0, 1, 2, 3],
        input_transform='resize_concat',
        channels=256,
        branch=dict(depth=1, width=256, dilation=1),
        dropout_ratio=0.1,
        norm_cfg=norm_cfg,
        align_corners=False,
        decision='greedy',
        loss_decode=dict(type='HierarchicalLoss', level_weights=[1.0, 0.1, 0.1])))
