"""Batch-norm statistics for a model with random weights.

A freshly initialised segmentor has running means 0 and variances 1, so its
activations - and decisions - hardly vary over an image. Parity checks and
latency measurements of untrained models (tests, ``benchmarks/``) give it the
statistics of a few images first, so that its decisions vary over an image as
a trained model's do.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import torch
from torch import nn


def calibrate_batch_norm(model: nn.Module, batches: Iterable[np.ndarray]) -> nn.Module:
    """Replace every batch norm's running statistics by their cumulative
    average over ``batches`` (through the model's ``data_preprocessor``,
    backbone and decode head, in training mode, without gradients).

    Args:
        model: A segmentor (``data_preprocessor``, ``extract_feat``,
            ``decode_head``).
        batches: Images, float pixel values 0..255 in the data
            preprocessor's input channel order
            (:func:`~mmhier.deploy.verify.sample_images`).

    Returns:
        ``model``, in eval mode.

    Shape:
        - batches[i]: ``(N, C, H, W)``
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None   # cumulative average over all batches
        model.train()
        for images in batches:
            inputs = model.data_preprocessor(dict(inputs=list(torch.as_tensor(images))),
                                             False)['inputs']
            model.decode_head.forward(model.extract_feat(inputs))
    return model.eval()
