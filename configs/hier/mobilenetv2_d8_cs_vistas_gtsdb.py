# The hierarchical head on MMSeg's MobileNetV2-D8 (drop-in example).
_base_ = [
    '../_base_/models/hier_mobilenetv2-d8.py', '../_base_/datasets/cs_vistas_gtsdb.py',
    '../_base_/default_runtime.py', '../_base_/schedules/sgd_17_vistas_epochs.py'
]
data_preprocessor = dict(size=(512, 706))
model = dict(data_preprocessor=data_preprocessor)
# Draw with the taxonomy's nodes and colours (MMSeg's Inferencer passes only class
# names and colours to the visualizer).
visualizer = dict(taxonomy={{_base_.taxonomy}})
