"""An EncoderDecoder whose predictions are taxonomy node ids."""
from __future__ import annotations

from typing import Optional

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor


@MODELS.register_module()
class TaxonomyEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` for heads built from a taxonomy.

    Identical to mmseg's, except that ``pred_sem_seg`` holds **taxonomy node
    ids** (the head's ``output_nodes[channel]``) instead of channel indices,
    so hierarchical heads at any level of detail and flat heads are evaluated
    and visualised in one label space. ``seg_logits`` keeps the channel
    scores. The decode head must have an ``output_nodes`` tensor.
    """

    def postprocess_result(self, seg_logits: Tensor,
                           data_samples: OptSampleList = None) -> SampleList:
        samples = super().postprocess_result(seg_logits, data_samples)
        output_nodes: Optional[Tensor] = getattr(self.decode_head, 'output_nodes', None)
        if output_nodes is None:
            raise TypeError(f'{type(self.decode_head).__name__} has no output_nodes; '
                            'TaxonomyEncoderDecoder needs a HierarchicalDecodeHead or '
                            'FlatTaxonomyHead')
        for sample in samples:
            pred = sample.pred_sem_seg.data
            sample.pred_sem_seg.data = output_nodes.to(pred.device)[pred]
        return samples
