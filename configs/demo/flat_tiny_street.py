# The demo's flat baseline: the same backbone, data and schedule as
# hier_tiny_street.py, one softmax over every node the datasets label.
_base_ = ['./hier_tiny_street.py']
model = dict(
    decode_head=dict(
        _delete_=True, type='FlatTaxonomyHead', taxonomy='taxonomies/tiny_street.yaml',
        in_channels=160, in_index=3, channels=64, num_convs=1, kernel_size=1,
        concat_input=False, dropout_ratio=0.1, norm_cfg={{_base_.norm_cfg}},
        align_corners=False))
# Draw with the taxonomy's nodes and colours (MMSeg's Inferencer passes only class
# names and colours to the visualizer).
visualizer = dict(taxonomy={{_base_.taxonomy}})
