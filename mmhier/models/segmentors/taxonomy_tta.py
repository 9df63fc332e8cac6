"""Test-time augmentation for segmentors whose predictions are node ids."""
from __future__ import annotations

from typing import List

from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import SampleList


@MODELS.register_module()
class TaxonomyTTAModel(SegTTAModel):
    """``SegTTAModel`` for :class:`TaxonomyEncoderDecoder`.

    MMSeg's ``SegTTAModel`` soft-maxes each augmentation's ``seg_logits``,
    averages them and takes the argmax: a channel index, which it returns as
    the prediction. A taxonomy segmentor's predictions are node ids and its
    ``seg_logits`` are scores over the head's output nodes (one-hot
    decisions for the greedy rule, path probabilities for the path rule),
    already mapped back to the original image (flips undone, mirror classes
    swapped, resized). This model averages those scores over the
    augmentations, takes the argmax channel and maps it to node ids once
    (``module.channels_to_nodes``); with the greedy rule the average is a
    vote of the augmentations' decisions.

    The merged sample has the first augmentation's meta information and
    ground truth (labels are loaded at the original size, the same for every
    augmentation), ``seg_logits`` = the averaged scores and ``pred_sem_seg`` =
    node ids.

    Config (MMSeg's ``tools/test.py --tta`` wraps ``model`` in it)::

        tta_model = dict(type='TaxonomyTTAModel')

    Args:
        module: The segmentor (config or module); it must map channels to
            node ids (``channels_to_nodes``, as ``TaxonomyEncoderDecoder``).
        data_preprocessor: See :class:`~mmengine.model.BaseTTAModel`.

    Raises:
        TypeError: ``module`` cannot map channels to node ids.
    """

    def __init__(self, module, data_preprocessor=None):
        super().__init__(module, data_preprocessor)
        if not callable(getattr(self.module, 'channels_to_nodes', None)):
            raise TypeError(f'TaxonomyTTAModel needs a segmentor whose predictions are '
                            f'node ids (TaxonomyEncoderDecoder), got '
                            f'{type(self.module).__name__}; for other segmentors use '
                            "tta_model = dict(type='SegTTAModel')")

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """Average every image's augmentation scores; node ids of the argmax.

        Args:
            data_samples_list: Per image, the predictions of its
                augmentations.

        Returns:
            One sample per image.

        Raises:
            ValueError: The augmentations' scores of an image differ in shape
                (a segmentor that does not resize them to the original size).
        """
        merged = []
        for samples in data_samples_list:
            shapes = [tuple(s.seg_logits.data.shape) for s in samples]
            if len(set(shapes)) != 1:
                raise ValueError(
                    f"{samples[0].metainfo.get('img_path', 'an image')}: the test-time "
                    f'augmentations gave scores of shapes {shapes}; each must be at the '
                    'original image size (ori_shape)')
            scores = samples[0].seg_logits.data.clone()
            for sample in samples[1:]:
                scores += sample.seg_logits.data
            scores /= len(samples)
            nodes = self.module.channels_to_nodes(scores.argmax(dim=0, keepdim=True))
            result = SegDataSample(metainfo=samples[0].metainfo)
            result.seg_logits = PixelData(data=scores)
            result.pred_sem_seg = PixelData(data=nodes)
            if 'gt_sem_seg' in samples[0]:
                result.gt_sem_seg = samples[0].gt_sem_seg
            merged.append(result)
        return merged
