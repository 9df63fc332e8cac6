# The flat baseline of the Table IV analogue: flat_tiny_street.py's head over
# the nodes the Cityscapes-like and GTSDB-like sets label, with the data of
# hier_city_gtsdb.py.
_base_ = ['./hier_city_gtsdb.py']
model = dict(
    decode_head=dict(
        _delete_=True, type='FlatTaxonomyHead', taxonomy={{_base_.taxonomy}},
        datasets=['city_like', 'gtsdb_like'],
        in_channels=128, in_index=-1, channels=128, num_convs=1, kernel_size=1,
        concat_input=False, branch=dict(depth=1, width=128, dilation=1),
        dropout_ratio=0.1, norm_cfg={{_base_.norm_cfg}},
        align_corners=False))
