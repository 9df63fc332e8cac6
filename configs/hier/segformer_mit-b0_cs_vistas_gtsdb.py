# The hierarchical head on SegFormer's MiT-B0 (drop-in example), with
# SegFormer's AdamW schedule instead of the paper's SGD.
_base_ = [
    '../_base_/models/hier_mit-b0.py', '../_base_/datasets/cs_vistas_gtsdb.py',
    '../_base_/default_runtime.py', '../_base_/schedules/sgd_17_vistas_epochs.py'
]
data_preprocessor = dict(size=(512, 706))
model = dict(data_preprocessor=data_preprocessor)
optimizer = dict(_delete_=True, type='AdamW', lr=0.00006, betas=(0.9, 0.999),
                 weight_decay=0.01)
optim_wrapper = dict(
    optimizer=optimizer,
    paramwise_cfg=dict(custom_keys=dict(pos_block=dict(decay_mult=0.),
                                        norm=dict(decay_mult=0.),
                                        head=dict(lr_mult=10.))))
# Draw with the taxonomy's nodes and colours (MMSeg's Inferencer passes only class
# names and colours to the visualizer).
visualizer = dict(taxonomy={{_base_.taxonomy}})
