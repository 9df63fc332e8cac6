# Table II: Cityscapes + GTSDB trained flat (one softmax over both datasets'
# classes, batch 2 : 2), evaluated with the paper's protocol: predictions are
# mapped up the taxonomy into each dataset's own label space.
_base_ = [
    '../_base_/models/flat_r50-d8.py', '../_base_/datasets/cs_vistas_gtsdb.py',
    '../_base_/default_runtime.py', '../_base_/schedules/sgd_17_vistas_epochs.py'
]
data_preprocessor = dict(size=(512, 706))
model = dict(data_preprocessor=data_preprocessor,
             decode_head=dict(datasets=['cityscapes', 'gtsdb']))
train_dataloader = dict(
    batch_sampler=dict(ratios=[2, 2], epoch_dataset='cityscapes'),
    dataset=dict(datasets=[{{_base_.cityscapes_train}}, {{_base_.gtsdb_train}}]))
val_dataloader = dict(
    dataset=dict(datasets=[{{_base_.cityscapes_val}}, {{_base_.gtsdb_val}}]))
test_dataloader = val_dataloader
val_evaluator = dict(datasets=['cityscapes', 'gtsdb'])
test_evaluator = val_evaluator
# Draw with the taxonomy's nodes and colours (MMSeg's Inferencer passes only class
# names and colours to the visualizer).
visualizer = dict(taxonomy={{_base_.taxonomy}})
