# The synthetic demo benchmark (tools/make_demo_data.py) through
# taxonomies/tiny_street.yaml: a coarse Cityscapes-like set, a fine
# Vistas-like set and a box-only GTSDB-like set, batch 4 = 1 : 2 : 1.
# Per-pixel images are trained near their size (128 px high, like the
# paper's downscaled 512 px crops at 1/4); GTSDB-like images (400x680, signs
# 14-64 px) at their own size, so that a sign spans as many stride-8 feature
# cells as in the paper (10-82 px signs in 512 px crops): 2 to 8.
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
    dict(type='RandomResize', scale=(680, 400), ratio_range=(0.75, 1.25), keep_ratio=True),
    # a sign in the crop 4 times out of 5 (a plain crop of a 400x680 image
    # shows one about 1 time in 5)
    dict(type='BoxAwareRandomCrop', crop_size=crop_size, box_prob=0.8, ignore_index=ignore),
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
# The paper's Cityscapes Extended (Table IV): the city_like validation images
# with sign fronts labelled by type.
city_ext_val = dict(city_val, dataset_key='city_ext_like', data_root=demo_root + '/city_ext_like')
vistas_val = dict(vistas_train, split='validation', pipeline=test_pipeline)
gtsdb_val = dict(gtsdb_train, split='test', pipeline=test_pipeline)
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    # epochs of 20 passes over the 120 Vistas-like images (1,200 steps):
    # IterBasedTrainLoop sleeps 2 s at every epoch transition
    batch_sampler=dict(type='RatioBatchSampler', ratios=[1, 2, 1],
                       epoch_dataset='vistas_like', passes_per_epoch=20),
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
