"""Deployment: a trained mmhier model as one graph, from image pixels to
taxonomy node ids, for ONNX Runtime, TensorRT or ``torch.export`` runtimes.

:class:`DeployableSegmentor` (the graph: preprocessing, backbone, neck,
head, upsampling, decision), :mod:`.loading` (config + checkpoint),
:mod:`.exporting` (``torch.export`` with dynamic batch/height/width, ONNX
and ``.pt2`` files), :mod:`.dynamic_ops` (adaptive pooling ONNX keeps
dynamic), :mod:`.metadata` (node names, palette and taxonomy for
the runtime), :mod:`.runtime` (running an export), :mod:`.verify` (parity
with PyTorch eager), :mod:`.calibration` (batch-norm statistics for models
with random weights). ``tools/export.py`` is the command line; see
``docs/deploy.md``.

This package sits at the tools layer: it imports models and taxonomy; they
never import it. ONNX needs the ``deploy`` extra (onnx, onnxscript,
onnxruntime), imported only when used.
"""
from mmhier.deploy.calibration import calibrate_batch_norm
from mmhier.deploy.errors import (ExportError, MissingDependencyError, ParityError,
                                  UnsupportedModelError, UnsupportedOpsetError)
from mmhier.deploy.exporting import (DEFAULT_OPSET, FORMATS, SUPPORTED_OPSETS,
                                     export_program, save_exported_program, save_onnx)
from mmhier.deploy.loading import deploy_config, load_deploy_model
from mmhier.deploy.metadata import deploy_metadata, from_props, sidecar_path, to_props
from mmhier.deploy.model import (INPUT_NAME, MMHIER_HEADS, OUTPUT_CHOICES,
                                 DeployableSegmentor, Preprocessing, mmhier_head)
from mmhier.deploy.runtime import ExportedModel
from mmhier.deploy.verify import report_lines, verification_sizes, verify

__all__ = [
    'DEFAULT_OPSET', 'DeployableSegmentor', 'ExportError', 'ExportedModel', 'FORMATS',
    'INPUT_NAME', 'MMHIER_HEADS', 'MissingDependencyError', 'OUTPUT_CHOICES', 'ParityError',
    'Preprocessing', 'SUPPORTED_OPSETS', 'UnsupportedModelError', 'UnsupportedOpsetError',
    'calibrate_batch_norm', 'deploy_config', 'deploy_metadata', 'export_program', 'from_props',
    'load_deploy_model', 'mmhier_head', 'report_lines', 'save_exported_program', 'save_onnx',
    'sidecar_path', 'to_props', 'verification_sizes', 'verify'
]
