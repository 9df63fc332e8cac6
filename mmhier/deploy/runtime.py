"""Running an exported model: ONNX through onnxruntime (CPU), an exported
program through ``torch.export.load``; both with their metadata."""
from __future__ import annotations

import json
import os
from typing import Optional

import numpy as np
import torch

from mmhier.deploy.errors import ExportError
from mmhier.deploy.exporting import require
from mmhier.deploy.metadata import EXTRA_FILE, from_props


def format_of(path: str) -> str:
    """``'exported-program'`` for ``.pt2`` files, else ``'onnx'``."""
    return 'exported-program' if str(path).endswith('.pt2') else 'onnx'


class ExportedModel:
    """An exported model, loaded for inference.

    Args:
        path: The ONNX file or exported program.
        fmt: ``'onnx'`` or ``'exported-program'`` (default: from the suffix).
        threads: Intra-op threads of onnxruntime (default: its own choice).
            Its threads do not spin-wait between runs (they would take the
            CPU from whatever runs next, e.g. PyTorch in ``--verify``).

    Attributes:
        metadata: The mmhier metadata (:mod:`mmhier.deploy.metadata`).
        output_names: Names of the outputs, in order.
        runtime: What runs it, e.g. ``'onnxruntime 1.32.0'``.

    Raises:
        MissingDependencyError: onnxruntime is missing (ONNX files).
        ExportError: The runtime cannot load the file.
    """

    def __init__(self, path: str, fmt: Optional[str] = None, threads: Optional[int] = None):
        self.path = str(path)
        self.format = fmt or format_of(path)
        if self.format == 'onnx':
            ort = require('onnxruntime')
            options = ort.SessionOptions()
            if threads:
                options.intra_op_num_threads = threads
            options.add_session_config_entry('session.intra_op.allow_spinning', '0')
            try:
                self.session = ort.InferenceSession(self.path, options,
                                                    providers=['CPUExecutionProvider'])
            except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types
                raise ExportError(f'{self.path}: onnxruntime cannot load it ({exc})') from exc
            self.metadata = from_props(self.session.get_modelmeta().custom_metadata_map)
            self.output_names = [o.name for o in self.session.get_outputs()]
            self.input_name = self.session.get_inputs()[0].name
            self.runtime = f'onnxruntime {ort.__version__}'
        else:
            extra = {EXTRA_FILE: ''}
            self.program = torch.export.load(self.path, extra_files=extra)
            self.metadata = json.loads(extra[EXTRA_FILE]) if extra[EXTRA_FILE] else {}
            self.module = self.program.module()
            self.output_names = list(self.metadata.get('outputs', {}))
            self.runtime = f'torch.export program (torch {torch.__version__})'

    def __call__(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """Run on ``image``: float32 ``(N, C, H, W)`` pixel values.

        Returns:
            ``{output name: array}``.
        """
        image = np.ascontiguousarray(image, dtype=np.float32)
        if self.format == 'onnx':
            outputs = self.session.run(None, {self.input_name: image})
        else:
            with torch.no_grad():
                outputs = self.module(torch.from_numpy(image))
            outputs = [outputs] if isinstance(outputs, torch.Tensor) else list(outputs)
            outputs = [o.numpy() for o in outputs]
        return dict(zip(self.output_names, outputs))

    def __repr__(self) -> str:
        return f'ExportedModel({os.path.basename(self.path)!r}, {self.runtime})'
