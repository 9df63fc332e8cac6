# Cityscapes + GTSDB through taxonomies/cityscapes_extended.yaml (Table IV):
# batch 2 : 2, epoch = Cityscapes; pipelines as in cs_vistas_gtsdb.py.
_base_ = ['./cs_vistas_gtsdb.py']
taxonomy = 'taxonomies/cityscapes_extended.yaml'
cityscapes_train = dict(type='CityscapesTaxonomyDataset', taxonomy=taxonomy,
                        data_root={{_base_.cityscapes_root}}, split='train',
                        pipeline={{_base_.pixel_train_pipeline}})
gtsdb_train = dict(type='GTSDBTaxonomyDataset', taxonomy=taxonomy,
                   data_root={{_base_.gtsdb_root}}, split='train',
                   pipeline={{_base_.box_train_pipeline}})
cityscapes_val = dict(type='CityscapesTaxonomyDataset', taxonomy=taxonomy,
                      data_root={{_base_.cityscapes_root}}, split='val',
                      pipeline={{_base_.test_pipeline}})
gtsdb_val = dict(type='GTSDBTaxonomyDataset', taxonomy=taxonomy,
                 data_root={{_base_.gtsdb_root}}, split='test',
                 pipeline={{_base_.test_pipeline}})
train_dataloader = dict(
    batch_sampler=dict(ratios=[2, 2], epoch_dataset='cityscapes'),
    dataset=dict(datasets=[cityscapes_train, gtsdb_train]))
val_dataloader = dict(dataset=dict(datasets=[cityscapes_val, gtsdb_val]))
test_dataloader = val_dataloader
val_evaluator = dict(type='HierarchicalIoUMetric', taxonomy=taxonomy)
test_evaluator = val_evaluator
