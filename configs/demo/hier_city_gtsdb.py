# The demo's Table IV analogue (the paper's Cityscapes Extended setting): the
# model of hier_tiny_street.py trained on the Cityscapes-like and GTSDB-like
# sets only (batch 4 = 3 : 1, GTSDB's share of the three-set batch), with the
# two-level tree of taxonomies/tiny_city_extended.yaml, tested on the city_like
# validation images at both levels of detail: city_like (signs as one class)
# and city_ext_like (sign fronts by type).
_base_ = ['./hier_tiny_street.py']
taxonomy = 'taxonomies/tiny_city_extended.yaml'
city_train = dict(_base_.city_train, taxonomy=taxonomy)
gtsdb_train = dict(_base_.gtsdb_train, taxonomy=taxonomy)
city_val = dict(_base_.city_val, taxonomy=taxonomy)
city_ext_val = dict(_base_.city_ext_val, taxonomy=taxonomy)
# 700 iterations (the demo's compute budget: two pairs of models in 15 minutes on
# 2 CPU cores); refinement after 40 %, as in hier_tiny_street.py
max_iters = 700
model = dict(decode_head=dict(taxonomy=taxonomy,
                              loss_decode=dict(level_weights=[1.0, 1.0],
                                               refine_start_iter=280)))
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=max_iters,
                        by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(checkpoint=dict(interval=max_iters))
train_dataloader = dict(
    # epochs of 60 passes over the 60 Cityscapes-like images (1,200 steps; see
    # the base config)
    batch_sampler=dict(type='RatioBatchSampler', ratios=[3, 1], epoch_dataset='city_like',
                       passes_per_epoch=60),
    dataset=dict(type='MultiTaxonomyDataset', datasets=[city_train, gtsdb_train]))
val_dataloader = dict(
    dataset=dict(type='MultiTaxonomyDataset', datasets=[city_val, city_ext_val]))
test_dataloader = val_dataloader
val_evaluator = dict(type='HierarchicalIoUMetric', taxonomy=taxonomy)
test_evaluator = val_evaluator
visualizer = dict(taxonomy=taxonomy)
