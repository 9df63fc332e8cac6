# The paper's schedule: SGD momentum 0.9, lr 0.01 halved three times, L2 decay
# 1.7e-4, 17 epochs of Mapillary Vistas (the RatioBatchSampler's epoch dataset).
# The paper does not give the halving points; we halve after 1/2, 3/4 and 7/8
# of training.
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1.7e-4)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
max_epochs = 17
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[9, 13, 15], gamma=0.5)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
