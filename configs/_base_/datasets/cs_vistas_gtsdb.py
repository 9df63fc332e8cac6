# Cityscapes + Mapillary Vistas v1.2 + GTSDB through one taxonomy, every batch
# Cityscapes : Vistas : GTSDB = 1 : 2 : 1 (the paper), crops 512x706 after an
# aspect-preserving downscale. Data roots: set the environment variables
# CITYSCAPES_ROOT, VISTAS_ROOT, GTSDB_ROOT (read when the config is parsed), or
# override a dataset's field, e.g.
# --cfg-options train_dataloader.dataset.datasets.0.data_root=/data/cityscapes
taxonomy = 'taxonomies/cs_vistas_gtsdb.yaml'
cityscapes_root = '{{$CITYSCAPES_ROOT:data/cityscapes}}'
vistas_root = '{{$VISTAS_ROOT:data/mapillary_vistas}}'
gtsdb_root = '{{$GTSDB_ROOT:data/gtsdb}}'
crop_size = (512, 706)
ignore = -1  # mmhier's ignore value (node ids may exceed 255)

downscale = dict(type='Resize', scale=(4096, 512), keep_ratio=True)  # short side 512
crop_flip = [
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75, ignore_index=ignore),
    dict(type='RandomFlip', prob=0.5),
]
pixel_train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadTaxonomyAnnotations'),
    downscale,
    *crop_flip,
    dict(type='PhotoMetricDistortion'),
    dict(type='PackTaxonomySegInputs'),
]
box_train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='BoxesToPseudoMask', shape_mode='shape'),
    downscale,
    dict(type='RandomCrop', crop_size=crop_size, ignore_index=ignore),
    dict(type='RandomFlip', prob=0.5),
    dict(type='SwapFlippedClasses'),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackTaxonomySegInputs'),
]
# Per-dataset test pipelines (the strict image loader, GTSDB at full size).
pixel_test_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    downscale,
    dict(type='LoadTaxonomyAnnotations'),  # after Resize: evaluated at full size
    dict(type='PackTaxonomySegInputs'),
]
box_test_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='BoxesToPseudoMask', shape_mode='shape'),
    dict(type='PackTaxonomySegInputs'),
]
# The test pipeline of every validation/test dataset, in MMSeg's form, so that
# MMSeg's tools can edit it: the MMSegInferencer and inference_model drop
# LoadAnnotations and replace LoadImageFromFile (mmhier datasets report a
# broken image by name). LoadAnnotations loads each dataset's labels (label
# images or GTSDB box pseudo labels) at the original size, where predictions
# are evaluated.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    downscale,
    dict(type='LoadAnnotations'),
    dict(type='PackTaxonomySegInputs'),
]
# tools/test.py --tta: short sides 256 .. 896 (the test scale is 512), each
# also flipped; the TaxonomyTTAModel (default_runtime.py) averages the scores.
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='Resize', scale=(4096, int(512 * r)), keep_ratio=True)
              for r in img_ratios],
             [dict(type='RandomFlip', prob=0., direction='horizontal'),
              dict(type='RandomFlip', prob=1., direction='horizontal')],
             [dict(type='LoadAnnotations')],
             [dict(type='PackTaxonomySegInputs')],
         ]),
]
cityscapes_train = dict(type='CityscapesTaxonomyDataset', taxonomy=taxonomy,
                        data_root=cityscapes_root, split='train',
                        pipeline=pixel_train_pipeline)
vistas_train = dict(type='MapillaryVistasTaxonomyDataset', taxonomy=taxonomy,
                    data_root=vistas_root, split='training',
                    pipeline=pixel_train_pipeline)
gtsdb_train = dict(type='GTSDBTaxonomyDataset', taxonomy=taxonomy, data_root=gtsdb_root,
                   split='train', pipeline=box_train_pipeline)
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='RatioBatchSampler', ratios=[1, 2, 1],
                       epoch_dataset='mapillary_vistas'),
    dataset=dict(type='MultiTaxonomyDataset',
                 datasets=[cityscapes_train, vistas_train, gtsdb_train]))
cityscapes_val = dict(cityscapes_train, split='val', pipeline=test_pipeline)
vistas_val = dict(vistas_train, split='validation', pipeline=test_pipeline)
gtsdb_val = dict(gtsdb_train, split='test', pipeline=test_pipeline)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='MultiTaxonomyDataset',
                 datasets=[cityscapes_val, vistas_val, gtsdb_val],
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='HierarchicalIoUMetric', taxonomy=taxonomy)
test_evaluator = val_evaluator
