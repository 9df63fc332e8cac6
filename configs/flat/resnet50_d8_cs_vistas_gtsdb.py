# Flat baseline of the hierarchical model: same backbone, data and schedule, one
# softmax over the union of the three datasets' classes.
_base_ = [
    '../_base_/models/flat_r50-d8.py', '../_base_/datasets/cs_vistas_gtsdb.py',
    '../_base_/default_runtime.py', '../_base_/schedules/sgd_17_vistas_epochs.py'
]
data_preprocessor = dict(size=(512, 706))
model = dict(data_preprocessor=data_preprocessor)
# Draw with the taxonomy's nodes and colours (MMSeg's Inferencer passes only class
# names and colours to the visualizer).
visualizer = dict(taxonomy={{_base_.taxonomy}})
