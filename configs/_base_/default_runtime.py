# Runtime shared by mmhier configs (as mmseg's default_runtime, plus mmhier).
custom_imports = dict(
    imports=['mmhier.models', 'mmhier.datasets', 'mmhier.evaluation',
             'mmhier.visualization', 'mmhier.engine'],
    allow_failed_imports=False)
default_scope = 'mmseg'
# MMEngine's runner, which also trains distributed on machines without GPUs
# (torchrun / dist_train.sh with CPU processes: gloo instead of nccl).
runner_type = 'CPUDistributedRunner'
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
# Labels and predictions are taxonomy node ids: drawn with the taxonomy's
# hierarchical palette (ignored pixels transparent, box pseudo labels striped,
# hierarchy legend). The taxonomy comes from the dataset's metainfo. Used by
# the SegVisualizationHook (test.py --show / --show-dir) and browse_dataset.py.
# TensorBoard: put ../_base_/tensorboard.py in _base_ instead of this file.
visualizer = dict(type='TaxonomySegLocalVisualizer', vis_backends=vis_backends,
                  name='visualizer')
log_processor = dict(by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
# test.py --tta: average the augmentations' scores, then map to node ids once
# (MMSeg's SegTTAModel would return output-channel indices).
tta_model = dict(type='TaxonomyTTAModel')
