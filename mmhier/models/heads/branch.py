"""One classifier branch of the hierarchical head (Meletis & Dubbelman 2018):
an adaptation sub-network, a 1x1 classifier and hybrid upsampling."""
from __future__ import annotations

from typing import Optional

import torch
from mmcv.cnn import ConvModule
from torch import Tensor, nn


class BottleneckBlock(nn.Module):
    """A ResNet bottleneck block (1x1 reduce, 3x3 dilated, 1x1 expand, residual).

    Args:
        in_channels: Input width.
        width: Output width; the inner width is ``width // 4``.
        dilation: Dilation of the 3x3 convolution (its field of view).
        conv_cfg: Convolution config.
        norm_cfg: Normalisation config.
        act_cfg: Activation config.
    """

    def __init__(self, in_channels: int, width: int, dilation: int = 1,
                 conv_cfg: Optional[dict] = None, norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None):
        super().__init__()
        act_cfg = act_cfg or dict(type='ReLU')
        inner = max(1, width // 4)
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        self.reduce = ConvModule(in_channels, inner, 1, act_cfg=act_cfg, **common)
        self.spatial = ConvModule(inner, inner, 3, padding=dilation, dilation=dilation,
                                  act_cfg=act_cfg, **common)
        self.expand = ConvModule(inner, width, 1, act_cfg=None, **common)
        self.shortcut = nn.Identity() if in_channels == width else \
            ConvModule(in_channels, width, 1, act_cfg=None, **common)
        self.activate = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.activate(self.expand(self.spatial(self.reduce(x))) + self.shortcut(x))


class ClassifierBranch(nn.Module):
    """Adaptation blocks, dropout, a 1x1 classifier and a learnable 2x2
    stride-2 transposed convolution (the first half of hybrid upsampling;
    the bilinear half happens where logits meet labels or outputs).

    Args:
        in_channels: Width of the shared features.
        num_outputs: Number of children of the classifier's node.
        depth: Number of bottleneck blocks (0: none).
        width: Width of the blocks.
        dilation: Dilation of the blocks' 3x3 convolutions.
        dropout_ratio: Dropout before the classifier.
        conv_cfg: Convolution config.
        norm_cfg: Normalisation config.
        act_cfg: Activation config.

    Shape:
        - input: ``(N, in_channels, h, w)``
        - output: ``(N, num_outputs, 2h, 2w)``
    """

    def __init__(self, in_channels: int, num_outputs: int, depth: int = 1,
                 width: int = 256, dilation: int = 1, dropout_ratio: float = 0.1,
                 conv_cfg: Optional[dict] = None, norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None):
        super().__init__()
        blocks = []
        for i in range(depth):
            blocks.append(BottleneckBlock(in_channels if i == 0 else width, width,
                                          dilation, conv_cfg, norm_cfg, act_cfg))
        self.adapt = nn.Sequential(*blocks)
        self.dropout = nn.Dropout2d(dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        self.classify = nn.Conv2d(width if depth else in_channels, num_outputs, 1)
        self.upsample = nn.ConvTranspose2d(num_outputs, num_outputs, 2, stride=2)
        self.init_weights()

    def init_weights(self) -> None:
        """Classifier ~ N(0, 0.01); transposed conv starts as 2x nearest
        upsampling (identity per channel), zero bias."""
        nn.init.normal_(self.classify.weight, 0, 0.01)
        nn.init.zeros_(self.classify.bias)
        with torch.no_grad():
            self.upsample.weight.zero_()
            channels = torch.arange(self.upsample.in_channels)
            self.upsample.weight[channels, channels] = 1.0
            self.upsample.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        return self.upsample(self.classify(self.dropout(self.adapt(x))))
