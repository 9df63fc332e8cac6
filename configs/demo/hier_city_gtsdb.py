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
model = dict(decode_head=dict(taxonomy=taxonomy, loss_decode=dict(level_weights=[1.0, 1.0])))
train_dataloader = dict(
    batch_sampler=dict(type='RatioBatchSampler', ratios=[3, 1], epoch_dataset='city_like'),
    dataset=dict(type='MultiTaxonomyDataset', datasets=[city_train, gtsdb_train]))
val_dataloader = dict(
    dataset=dict(type='MultiTaxonomyDataset', datasets=[city_val, city_ext_val]))
test_dataloader = val_dataloader
val_evaluator = dict(type='HierarchicalIoUMetric', taxonomy=taxonomy)
test_evaluator = val_evaluator
visualizer = dict(taxonomy=taxonomy)
