# ResNet-50 output stride 8 + HierarchicalDecodeHead (Meletis & Dubbelman 2018):
# 256 shared channels, one branch per classifier of the taxonomy.
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=-1)  # mmhier's ignore value: node ids may exceed 255
model = dict(
    type='TaxonomyEncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained='open-mmlab://resnet50_v1c',
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='HierarchicalDecodeHead',
        taxonomy='taxonomies/cs_vistas_gtsdb.yaml',
        in_channels=2048,
        in_index=3,
        channels=256,
        branch=dict(depth=1, width=256, dilation=1),
        dropout_ratio=0.1,
        norm_cfg=norm_cfg,
        align_corners=False,
        decision='greedy',
        loss_decode=dict(type='HierarchicalLoss', level_weights=[1.0, 0.1, 0.1])),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
