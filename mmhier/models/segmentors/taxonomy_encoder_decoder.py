"""An EncoderDecoder whose predictions are taxonomy node ids."""
from __future__ import annotations

from typing import Optional

import torch
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor

from mmhier.models.segmentors.flip_mirror import mirror_channels


@MODELS.register_module()
class TaxonomyEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` for heads built from a taxonomy.

    Identical to mmseg's, except that

    * ``pred_sem_seg`` holds **taxonomy node ids** (the head's
      ``output_nodes[channel]``) instead of channel indices, so hierarchical
      heads at any level of detail and flat heads are evaluated and
      visualised in one label space; ``seg_logits`` keeps the channel scores
      (whose argmax is the decision), at the original image size;
    * a horizontally flipped test image's scores are flipped back (as in
      mmseg) *and* their mirror-image channels are swapped (keep left on the
      flipped image is keep right on the image; see
      :mod:`~mmhier.models.segmentors.flip_mirror`), so predictions of a
      flipped image are in the image's label space too.

    The decode head must have ``output_nodes`` and ``taxonomy``
    (``HierarchicalDecodeHead``, ``FlatTaxonomyHead``). Test-time
    augmentation: :class:`~mmhier.models.segmentors.TaxonomyTTAModel`.
    """

    def channels_to_nodes(self, channels: Tensor) -> Tensor:
        """Node ids of output channel indices.

        Args:
            channels: Channel indices (any shape, integer).

        Returns:
            Node ids, same shape and device.

        Raises:
            TypeError: The decode head has no ``output_nodes``.
        """
        return self._output_nodes().to(channels.device)[channels]

    def _output_nodes(self) -> Tensor:
        output_nodes: Optional[Tensor] = getattr(self.decode_head, 'output_nodes', None)
        if output_nodes is None:
            raise TypeError(f'{type(self.decode_head).__name__} has no output_nodes; '
                            'TaxonomyEncoderDecoder needs a HierarchicalDecodeHead or '
                            'FlatTaxonomyHead')
        return output_nodes

    def flip_channels(self) -> Tensor:
        """``(num_outputs,)`` channel permutation of a horizontal flip
        (:func:`~mmhier.models.segmentors.flip_mirror.mirror_channels`),
        computed once."""
        cached = getattr(self, '_flip_channels', None)
        if cached is None:
            output_nodes = self._output_nodes()
            cached = torch.as_tensor(mirror_channels(
                self.decode_head.taxonomy, output_nodes.cpu().numpy()), dtype=torch.long)
            self._flip_channels = cached
        return cached

    def postprocess_result(self, seg_logits: Tensor,
                           data_samples: OptSampleList = None) -> SampleList:
        """mmseg's results (padding removed, flips undone, resized to the
        original size), mirror channels of horizontal flips swapped back, and
        ``pred_sem_seg`` as node ids.

        Shape:
            seg_logits: ``(N, num_outputs, H, W)``.
        """
        samples = super().postprocess_result(seg_logits, data_samples)
        output_nodes = self._output_nodes()
        for sample in samples:
            pred = sample.pred_sem_seg.data
            meta = sample.metainfo
            if meta.get('flip') and meta.get('flip_direction') == 'horizontal':
                swap = self.flip_channels()
                if not torch.equal(swap, torch.arange(len(swap))):
                    scores = sample.seg_logits.data[swap.to(pred.device)]
                    sample.seg_logits.data = scores
                    pred = scores.argmax(dim=0, keepdim=True)
            sample.pred_sem_seg.data = output_nodes.to(pred.device)[pred]
        return samples
