"""The deployable graph: image pixels in, taxonomy node ids and scores out.

:class:`DeployableSegmentor` wraps a built segmentor whose decode head is an
mmhier head (:data:`MMHIER_HEADS`) into one module a tracer can record:

1. **preprocessing** of the config's ``data_preprocessor`` (MMSeg's
   ``SegDataPreProcessor``): channel order and ``(x - mean) / std``, so a
   runtime feeds raw pixel values (:class:`Preprocessing`);
2. backbone and neck (``extract_feat``) and the decode head's ``forward``;
3. upsampling to the input size and the decision of the head
   (``decide``: node ids; ``output_scores``: path probabilities or, for the
   flat head, softmax probabilities), which take their traceable path while a
   graph is recorded (:func:`mmhier.models.decision.exporting`).

Input ``image``: float32 ``(N, C, H, W)`` pixel values 0..255 in
``input_order`` (BGR by default: what ``cv2.imread`` and MMSeg's
``LoadImageFromFile`` give). Outputs: ``nodes`` int64 ``(N, H, W)`` taxonomy
node ids, as ``TaxonomyEncoderDecoder.predict`` gives them, and/or
``scores`` float32 ``(N, num_outputs, H, W)``, channel ``c`` the score of node
``output_nodes[c]``. No padding or resizing is done inside: the output has the
input's size (MMSeg's whole-image inference).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from mmhier.deploy.errors import ExportError, UnsupportedModelError
from mmhier.models.heads import FlatTaxonomyHead, HierarchicalDecodeHead

#: Heads whose graphs end in taxonomy node ids.
MMHIER_HEADS = (HierarchicalDecodeHead, FlatTaxonomyHead)
#: Name of the graph input.
INPUT_NAME = 'image'
#: ``--output`` choices and the graph outputs they give, in order.
OUTPUT_CHOICES = {'nodes': ('nodes',), 'scores': ('scores',), 'both': ('nodes', 'scores')}
#: Channel orders of the input image.
CHANNEL_ORDERS = ('bgr', 'rgb')


def mmhier_head(model: nn.Module) -> nn.Module:
    """The decode head of ``model`` if it is an mmhier head.

    Raises:
        UnsupportedModelError: ``model`` has no ``extract_feat`` and single
            ``decode_head``, or its head is not one of :data:`MMHIER_HEADS`.
    """
    head = getattr(model, 'decode_head', None)
    if not callable(getattr(model, 'extract_feat', None)) or head is None:
        raise UnsupportedModelError(
            f'model {type(model).__name__} has no extract_feat() and decode_head; export '
            "needs an EncoderDecoder-style segmentor (type='TaxonomyEncoderDecoder')")
    if not isinstance(head, MMHIER_HEADS):
        names = ' or '.join(h.__name__ for h in MMHIER_HEADS)
        raise UnsupportedModelError(
            f'the decode_head is {type(head).__name__}, not an mmhier head ({names}): '
            'the exported graph ends in the taxonomy decision, which only these heads '
            'make; train the model with one of them')
    return head


@dataclass(frozen=True)
class Preprocessing:
    """What the graph does to the input before the backbone (the config's
    ``data_preprocessor`` at test time, without padding).

    Attributes:
        input_order: Channel order the graph input is in (``'bgr'``/``'rgb'``).
        network_order: Channel order the backbone was trained on.
        mean: Per-channel mean subtracted (``None``: no normalisation).
        std: Per-channel standard deviation divided by.
    """

    input_order: str
    network_order: str
    mean: Optional[tuple[float, ...]]
    std: Optional[tuple[float, ...]]

    @classmethod
    def of(cls, data_preprocessor: nn.Module, input_order: str = 'bgr') -> 'Preprocessing':
        """The preprocessing of an MMSeg ``SegDataPreProcessor`` (or any
        ``ImgDataPreprocessor``-like module) for images given in
        ``input_order``; MMSeg's pipelines load BGR (``LoadImageFromFile``).

        Raises:
            ExportError: ``input_order`` is not ``'bgr'`` or ``'rgb'``.
            UnsupportedModelError: The data preprocessor does not say how it
                converts and normalises.
        """
        if input_order not in CHANNEL_ORDERS:
            raise ExportError(f'input channel order must be one of {CHANNEL_ORDERS}, '
                              f'got {input_order!r}')
        # MMEngine's ImgDataPreprocessor (and MMSeg >= 1.3's SegDataPreProcessor)
        # keep the flag in _channel_conversion, MMSeg 1.2's in channel_conversion
        conversion = getattr(data_preprocessor, '_channel_conversion',
                             getattr(data_preprocessor, 'channel_conversion', None))
        normalize = getattr(data_preprocessor, '_enable_normalize', None)
        if conversion is None or normalize is None:
            raise UnsupportedModelError(
                f'data_preprocessor {type(data_preprocessor).__name__} does not say how it '
                'converts channels and normalises (no _channel_conversion or '
                "channel_conversion, no _enable_normalize); use type='SegDataPreProcessor'")
        network = 'rgb' if conversion else 'bgr'   # the pipeline loads BGR
        mean = std = None
        if normalize:   # float32 buffers, as their shortest decimal (123.675, not 123.67500305)
            mean = tuple(float(str(v)) for v in data_preprocessor.mean.flatten().numpy())
            std = tuple(float(str(v)) for v in data_preprocessor.std.flatten().numpy())
        return cls(input_order, network, mean, std)

    @property
    def swap(self) -> bool:
        """Whether the graph reverses the channel order."""
        return self.input_order != self.network_order

    def describe(self) -> dict:
        """The preprocessing as plain data (for metadata)."""
        return {'channel_order': self.input_order, 'network_channel_order': self.network_order,
                'mean': list(self.mean) if self.mean else None,
                'std': list(self.std) if self.std else None,
                'in_graph': 'channel order, then (x - mean) / std; no resizing or padding'}


class DeployableSegmentor(nn.Module):
    """Preprocessing, backbone, neck, head, upsampling and decision in one
    traceable module (see the module docstring for inputs and outputs).

    Args:
        model: A built segmentor (``extract_feat`` + an mmhier ``decode_head``)
            in eval mode.
        outputs: Graph outputs, a subset of ``('nodes', 'scores')`` in that
            order.
        input_order: Channel order of the input image.

    Raises:
        UnsupportedModelError: See :func:`mmhier_head`, :meth:`Preprocessing.of`.
        ExportError: ``outputs`` is empty or names an unknown output.

    Shape:
        - image: ``(N, C, H, W)`` float32
        - nodes: ``(N, H, W)`` int64
        - scores: ``(N, num_outputs, H, W)`` float32
    """

    def __init__(self, model: nn.Module, outputs: Sequence[str] = ('nodes',),
                 input_order: str = 'bgr'):
        super().__init__()
        self.head = mmhier_head(model)
        outputs = tuple(outputs)
        if not outputs or any(o not in OUTPUT_CHOICES['both'] for o in outputs):
            raise ExportError(f'outputs must be some of {OUTPUT_CHOICES["both"]}, got {outputs}')
        self.outputs = tuple(o for o in OUTPUT_CHOICES['both'] if o in outputs)
        self.segmentor = model
        self.preprocessing = Preprocessing.of(model.data_preprocessor, input_order)
        channels = len(self.preprocessing.mean) if self.preprocessing.mean else 3
        self.channels = channels
        self.normalize = self.preprocessing.mean is not None
        if self.normalize:
            self.register_buffer('mean', torch.tensor(self.preprocessing.mean).view(1, -1, 1, 1),
                                 persistent=False)
            self.register_buffer('std', torch.tensor(self.preprocessing.std).view(1, -1, 1, 1),
                                 persistent=False)

    @property
    def output_nodes(self) -> Tensor:
        """``(num_outputs,)`` node id of every ``scores`` channel (the values
        ``nodes`` can take)."""
        return self.head.output_nodes

    def normalized(self, image: Tensor) -> Tensor:
        """The network input: ``image`` in the network's channel order,
        normalised (MMSeg's ``SegDataPreProcessor`` arithmetic)."""
        x = image
        if self.preprocessing.swap and x.shape[1] == 3:
            x = x.flip(1)
        if self.normalize:
            x = (x - self.mean) / self.std
        return x

    def forward(self, image: Tensor):
        """Node ids and/or scores of every pixel of ``image``.

        Returns:
            The outputs in :attr:`outputs` order: one tensor, or a tuple of two.
        """
        logits = self.head.forward(self.segmentor.extract_feat(self.normalized(image)))
        size = image.shape[-2:]
        out = []
        if 'nodes' in self.outputs:
            out.append(self.head.decide(logits, size))
        if 'scores' in self.outputs:
            out.append(self.head.output_scores(logits, size).float())
        return out[0] if len(out) == 1 else tuple(out)
