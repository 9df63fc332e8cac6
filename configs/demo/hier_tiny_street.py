# The demo's hierarchical model: Fast-SCNN (MMSeg's real-time backbone,
# designed to train from scratch; output stride 8, random init: nothing is
# downloaded) with the hierarchical head of taxonomies/tiny_street.yaml,
# trained on the three synthetic datasets.
_base_ = ['../_base_/datasets/demo_tiny_street.py', '../_base_/default_runtime.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='TaxonomyEncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=-1, size=(128, 256)),
    backbone=dict(type='FastSCNN', norm_cfg=norm_cfg, align_corners=False),
    decode_head=dict(type='HierarchicalDecodeHead', taxonomy='taxonomies/tiny_street.yaml',
                     in_channels=128, in_index=-1, channels=128,
                     branch=dict(depth=1, width=128, dilation=1), dropout_ratio=0.1,
                     norm_cfg=norm_cfg, align_corners=False,
                     # refine box pseudo labels after a warm-up
                     loss_decode=dict(type='HierarchicalLoss',
                                      level_weights=[1.0, 1.0, 1.0],
                                      refine_start_iter=600)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
max_iters = 1500
# fused: one kernel updates all parameters (benchmarks/demo_step.py measures no
# difference on 2 CPU cores; the README's runs used it)
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4, fused=True))
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=max_iters,
                        by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
log_processor = dict(by_epoch=False)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters,
                    max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=0)
# Draw with the taxonomy's nodes and colours (MMSeg's Inferencer passes only class
# names and colours to the visualizer).
visualizer = dict(taxonomy={{_base_.taxonomy}})
