"""Swap mirror-image classes (keep right <-> keep left) after a horizontal flip."""
from __future__ import annotations

import os
from typing import Optional, Sequence, Union

from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from mmhier.datasets.errors import LabelIdOutOfRangeError
from mmhier.datasets.transforms.taxonomy_source import taxonomy_and_key
from mmhier.structures.label_space import label_space
from mmhier.taxonomy import Taxonomy, load_taxonomy


@TRANSFORMS.register_module()
class SwapFlippedClasses(BaseTransform):
    """Relabel mirror-image classes of horizontally flipped samples.

    A horizontally flipped "keep right" sign is a "keep left" sign. Put this
    transform right after mmseg's ``RandomFlip``: when ``results['flip']`` is
    true and ``results['flip_direction'] == 'horizontal'``, it remaps the
    label maps with one lookup table, the dataset's shared
    :attr:`LabelSpace.flip_table <mmhier.structures.label_space.LabelSpace.flip_table>`
    built from the taxonomy's ``flip_to`` class attributes (which the
    taxonomy validator checks: pairs are symmetric, partners are class ids
    of the dataset, classes of one node flip alike); per-pixel and box
    pseudo labels are both swapped, -1 stays -1; a class whose partner is
    ignored becomes -1.

    Vertical flips swap nothing: a vertically mirrored sign (an upside-down
    keep-right arrow) is no real sign class, and ``'diagonal'`` flips are
    180-degree rotations, not mirror images. Classes without ``flip_to`` keep
    their label, although not all are flip-safe: digits (speed limits) and
    asymmetric pictograms (bend, roundabout, trucks) become mirror images no
    real sign shows. Handling those (skipping the flip, ignoring their
    pixels) is out of scope here; do not flip such data if that matters.

    Required keys: the ``keys`` maps (encoded per
    :mod:`mmhier.structures.label_encoding`), ``flip``, ``flip_direction``;
    ``taxonomy`` and ``dataset_key`` unless given as arguments.

    Modified keys: the ``keys`` maps.

    Args:
        taxonomy: Taxonomy path or object; default: the sample's.
        dataset_key: The dataset whose ``flip_to`` attributes define the
            pairs; default: the sample's. Name the box dataset (e.g.
            ``'gtsdb'``) to swap per-pixel sign labels of another dataset that
            has no ``flip_to`` attributes of its own.
        keys: Label maps to remap.

    Raises:
        UnknownDatasetError: The taxonomy has no such dataset.
        LabelIdOutOfRangeError: A label map value outside ``-1 .. 2T - 1``.
    """

    def __init__(self, taxonomy: Optional[Union[str, os.PathLike, Taxonomy]] = None,
                 dataset_key: Optional[str] = None,
                 keys: Sequence[str] = ('gt_seg_map',)):
        self.taxonomy = None if taxonomy is None else load_taxonomy(taxonomy)
        self.dataset_key = dataset_key
        self.keys = tuple(keys)
        if self.taxonomy is not None and dataset_key is not None:
            label_space(self.taxonomy, dataset_key)  # typed error for unknown keys

    def transform(self, results: dict) -> dict:
        """Swap mirror classes in the label maps of horizontally flipped samples."""
        if not results.get('flip') or results.get('flip_direction') != 'horizontal':
            return results
        space = label_space(*taxonomy_and_key('SwapFlippedClasses', self.taxonomy,
                                              self.dataset_key, results))
        for key in self.keys:
            labels = results.get(key)
            if labels is None:
                continue
            codec = space.codec
            if not codec.in_range(labels):
                raise LabelIdOutOfRangeError(
                    f"{results.get('img_path', '<sample>')}: {key} holds values "
                    f'{labels.min()}..{labels.max()}, outside -1..{codec.num_labels - 1} '
                    f'of the encoded label maps ({codec.describe()}); encode labels '
                    'per mmhier.structures.label_encoding (BoxesToPseudoMask does)')
            results[key] = space.flip_table[labels].astype(labels.dtype, copy=False)
        return results

    def __repr__(self) -> str:
        taxonomy = None if self.taxonomy is None else self.taxonomy.source
        return (f'{self.__class__.__name__}(taxonomy={taxonomy!r}, '
                f'dataset_key={self.dataset_key!r}, keys={self.keys!r})')
