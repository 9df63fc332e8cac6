# ResNet-50 output stride 8 + a flat classifier over taxonomy nodes: the same
# 256-wide shared 1x1 features as the hierarchical head, then one softmax over
# the union of the datasets' classes (the paper's flat baseline), on MMSeg's
# ResNet-50-D8 model (through hier_r50-d8.py).
_base_ = ['./hier_r50-d8.py']
# Defined here, not taken from the base: variables inherited from an mmseg::
# base (here through hier_r50-d8.py) carry _scope_='mmseg', which a norm layer
# does not accept.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='FlatTaxonomyHead',
        taxonomy='taxonomies/cs_vistas_gtsdb.yaml',
        in_channels=2048,
        in_index=3,
        channels=256,
        num_convs=1,
        kernel_size=1,
        concat_input=False,
        dropout_ratio=0.1,
        norm_cfg=norm_cfg,
        align_corners=False))
