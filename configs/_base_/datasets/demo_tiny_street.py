# The synthetic demo benchmark (tools/make_demo_data.py) through
# taxonomies/tiny_street.yaml: a coarse Cityscapes-like set, a fine
# Vistas-like set and a box-only GTSDB-like set, batch 4 = 1 : 2 : 1.
# Data root: DEMO_DATA_ROOT (default work_dirs/demo/data).
taxonomy = 'taxonomies/tiny_street.yaml'
demo_root = '{{$DEMO_DATA_ROOT:work_dirs/demo/data}}'
crop_size = (128, 256)
ignore = -1
pixel_train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadTaxonomyAnnotations'),
    dict(type='RandomResize', scale=(256, 128), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75, ignore_index=ignore),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackTaxonomySegInputs'),
]
box_train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='BoxesToPseudoMask', shape_mode='shape'),
    dict(type='RandomResize', scale=(340, 200), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, ignore_index=ignore),
    dict(type='RandomFlip', prob=0.5),
    dict(type='SwapFlippedClasses'),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackTaxonomySegInputs'),
]
# Per-dataset test pipelines (the strict image loader).
pixel_test_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadTaxonomyAnnotations'),
    dict(type='PackTaxonomySegInputs'),
]
box_test_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='BoxesToPseudoMask', shape_mode='shape'),
    dict(type='PackTaxonomySegInputs'),
]
# The test pipeline of the validation/test datasets in MMSeg's form (the
# MMSegInferencer and inference_model use it, without LoadAnnotations):
# LoadAnnotations loads each dataset's labels, label images or box pseudo
# labels.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackTaxonomySegInputs'),
]
# tools/test.py --tta: three scales, each also flipped.
img_ratios = [0.75, 1.0, 1.25]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in img_ratios],
             [dict(type='RandomFlip', prob=0., direction='horizontal'),
              dict(type='RandomFlip', prob=1., direction='horizontal')],
             [dict(type='LoadAnnotations')],
             [dict(type='PackTaxonomySegInputs')],
         ]),
]
city_train = dict(type='CityscapesTaxonomyDataset', taxonomy=taxonomy,
                  dataset_key='city_like', data_root=demo_root + '/city_like',
                  split='train', pipeline=pixel_train_pipeline)
vistas_train = dict(type='MapillaryVistasTaxonomyDataset', taxonomy=taxonomy,
                    dataset_key='vistas_like', data_root=demo_root + '/vistas_like',
                    split='training', pipeline=pixel_train_pipeline)
gtsdb_train = dict(type='GTSDBTaxonomyDataset', taxonomy=taxonomy, dataset_key='gtsdb_like',
                   data_root=demo_root + '/gtsdb_like', split='train',
                   pipeline=box_train_pipeline)
city_val = dict(city_train, split='val', pipeline=test_pipeline)
vistas_val = dict(vistas_train, split='validation', pipeline=test_pipeline)
gtsdb_val = dict(gtsdb_train, split='test', pipeline=test_pipeline)
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='RatioBatchSampler', ratios=[1, 2, 1],
                       epoch_dataset='vistas_like'),
    dataset=dict(type='MultiTaxonomyDataset', datasets=[city_train, vistas_train,
                                                        gtsdb_train]))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='MultiTaxonomyDataset', datasets=[city_val, vistas_val, gtsdb_val],
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='HierarchicalIoUMetric', taxonomy=taxonomy)
test_evaluator = val_evaluator
