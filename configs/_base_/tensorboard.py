# The default runtime with TensorBoard logging: losses (loss, loss_<classifier>
# of the HierarchicalLoss, ...), learning rate and validation metrics
# (hier/<dataset>/mIoU, hier/classifier/<name>/acc, ...) are also written as
# TensorBoard scalars to <work_dir>/<timestamp>/vis_data/.
# Needs the tensorboard package: pip install "mmhier[tensorboard]".
#
# Use it in place of default_runtime.py in a config's _base_ list, e.g.
#   _base_ = ['../_base_/models/hier_r50-d8.py',
#             '../_base_/datasets/cs_vistas_gtsdb.py',
#             '../_base_/tensorboard.py',
#             '../_base_/schedules/sgd_17_vistas_epochs.py']
# (MMEngine refuses two bases that set the same keys). A config that inherits
# default_runtime.py through another base sets the backends itself:
#   visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),
#                                   dict(type='TensorboardVisBackend')])
_base_ = ['./default_runtime.py']
vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(vis_backends=vis_backends)
