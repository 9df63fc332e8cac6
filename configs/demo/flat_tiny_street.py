# The demo's flat baseline: the same backbone, data and schedule as
# hier_tiny_street.py, one softmax over every node the datasets label (the
# paper's flat classifier). Its head is one branch of the hierarchical head:
# the same shared 1x1 convolution, adaptation block, classifier and hybrid
# upsampling, with one classifier instead of one per inner node.
_base_ = ['./hier_tiny_street.py']
model = dict(
    decode_head=dict(
        _delete_=True, type='FlatTaxonomyHead', taxonomy='taxonomies/tiny_street.yaml',
        datasets=['city_like', 'vistas_like', 'gtsdb_like'],
        in_channels=128, in_index=-1, channels=128, num_convs=1, kernel_size=1,
        concat_input=False, branch=dict(depth=1, width=128, dilation=1),
        dropout_ratio=0.1, norm_cfg={{_base_.norm_cfg}},
        align_corners=False))
# Draw with the taxonomy's nodes and colours (MMSeg's Inferencer passes only class
# names and colours to the visualizer).
visualizer = dict(taxonomy={{_base_.taxonomy}})
