"""Samplers for training on several datasets at once.

Importing this package registers them into ``mmseg.registry.DATA_SAMPLERS``.
"""
from mmhier.datasets.samplers.ratio_batch_sampler import (RatioBatchSampler,
                                                          SamplerConfigError)

__all__ = ['RatioBatchSampler', 'SamplerConfigError']
