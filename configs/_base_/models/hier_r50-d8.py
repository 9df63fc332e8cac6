# Drop-in: MMSeg's own ResNet-50-D8 model (mmseg::_base_/models/fcn_r50-d8.py,
# the backbone every *_r50-d8 config of MMSeg uses) with its FCN decode head
# and auxiliary head replaced by the HierarchicalDecodeHead (Meletis &
# Dubbelman 2018): 256 shared channels, one branch per classifier of the
# taxonomy. Only the segmentor type, the label padding and the heads differ.
_base_ = ['mmseg::_base_/models/fcn_r50-d8.py']
# mmhier's ignore value: node ids may exceed 255. Set on the top-level variable
# too, since leaf configs merge it into model.data_preprocessor again.
data_preprocessor = dict(seg_pad_val=-1)
# Defined here, not taken from the base: variables inherited from an mmseg::
# base carry _scope_='mmseg', which a norm layer does not accept.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='TaxonomyEncoderDecoder',
    data_preprocessor=data_preprocessor,
    decode_head=dict(
        _delete_=True,
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
    auxiliary_head=None)
