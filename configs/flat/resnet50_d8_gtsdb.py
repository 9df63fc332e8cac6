# Table II flat baseline: GTSDB alone (box pseudo labels), flat over its own classes.
_base_ = [
    '../_base_/models/flat_r50-d8.py', '../_base_/datasets/cs_vistas_gtsdb.py',
    '../_base_/default_runtime.py', '../_base_/schedules/sgd_17_vistas_epochs.py'
]
data_preprocessor = dict(size=(512, 706))
model = dict(data_preprocessor=data_preprocessor,
             decode_head=dict(datasets=['gtsdb']))
train_dataloader = dict(
    _delete_=True, batch_size=4, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True), dataset={{_base_.gtsdb_train}})
val_dataloader = dict(
    _delete_=True, batch_size=1, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False), dataset={{_base_.gtsdb_val}})
test_dataloader = val_dataloader
val_evaluator = dict(datasets=['gtsdb'])
test_evaluator = val_evaluator
# Draw with the taxonomy's nodes and colours (MMSeg's Inferencer passes only class
# names and colours to the visualizer).
visualizer = dict(taxonomy={{_base_.taxonomy}})
