# Table IV (flat): Cityscapes Extended - the Cityscapes classes with traffic
# sign split into the 43 GTSDB classes (taxonomies/cityscapes_extended.yaml, two
# levels), trained on Cityscapes + GTSDB, batch 2 : 2.
_base_ = [
    '../_base_/models/flat_r50-d8.py', '../_base_/datasets/cityscapes_extended.py',
    '../_base_/default_runtime.py', '../_base_/schedules/sgd_17_vistas_epochs.py'
]
data_preprocessor = dict(size=(512, 706))
model = dict(data_preprocessor=data_preprocessor,
             decode_head=dict(taxonomy={{_base_.taxonomy}}))
# Draw with the taxonomy's nodes and colours (MMSeg's Inferencer passes only class
# names and colours to the visualizer).
visualizer = dict(taxonomy={{_base_.taxonomy}})
