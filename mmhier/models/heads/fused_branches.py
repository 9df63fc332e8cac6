"""Classifiers that share one adaptation sub-network, fused into a few
convolutions: the head's scalable form for large taxonomies.

With one :class:`~mmhier.models.heads.branch.ClassifierBranch` per classifier
the head's cost grows with the number of classifiers (hundreds in a merged
universal taxonomy). :class:`FusedClassifiers` computes, for any number of
classifiers, exactly what that many branches compute when they share the
adaptation weights:

- one adaptation (bottleneck blocks) and one dropout on the shared features,
- all 1x1 classifiers as one convolution (their outputs concatenated),
- every classifier's 2x2 stride-2 transposed convolution (which mixes only
  that classifier's own outputs) as one batched product per run of equally
  wide classifiers (:class:`RunUpsample`).
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from mmhier.models.heads.branch import BottleneckBlock, ClassifierBranch


class RunUpsample(nn.Module):
    """The 2x2 stride-2 transposed convolutions of ``groups`` classifiers with
    ``k`` outputs each, as one batched product: the grouped
    ``nn.ConvTranspose2d(groups * k, groups * k, 2, stride=2, groups=groups)``
    with its parameters (same names and shapes), computed with ``einsum``
    (several times faster on CPU than the grouped transposed convolution for
    many small groups).

    Args:
        groups: Number of classifiers.
        k: Outputs of each classifier.

    Shape:
        - input: ``(N, groups * k, h, w)``, classifier by classifier
        - output: ``(N, groups * k, 2h, 2w)``
    """

    def __init__(self, groups: int, k: int):
        super().__init__()
        self.groups, self.k = groups, k
        self.weight = nn.Parameter(torch.empty(groups * k, k, 2, 2))
        self.bias = nn.Parameter(torch.empty(groups * k))
        self.reset_parameters()

    @property
    def in_channels(self) -> int:
        return self.groups * self.k

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """2x nearest upsampling of every channel (identity), zero bias."""
        self.weight.zero_()
        channels = torch.arange(self.in_channels)
        self.weight[channels, channels % self.k] = 1.0
        self.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        n, _, h, w = x.shape
        weight = self.weight.view(self.groups, self.k, self.k, 2, 2)
        y = torch.einsum('ngiyx,gioab->ngoyaxb', x.view(n, self.groups, self.k, h, w), weight)
        return (y.reshape(n, self.in_channels, 2 * h, 2 * w)
                + self.bias.view(1, -1, 1, 1))

    def extra_repr(self) -> str:
        return f'groups={self.groups}, k={self.k}'


class FusedClassifiers(nn.Module):
    """Classifier branches with one shared adaptation, as fused convolutions.

    The output channels of the fused 1x1 convolution are laid out in runs of
    equally wide classifiers (by number of outputs, then position), so each
    run's transposed convolution reads one contiguous block of channels.

    Args:
        in_channels: Width of the shared features.
        num_outputs: Number of children of each fused classifier, in the
            head's classifier order.
        depth: Number of shared bottleneck blocks (0: none).
        width: Width of the blocks.
        dilation: Dilation of the blocks' 3x3 convolutions.
        dropout_ratio: Dropout before the classifiers.
        conv_cfg: Convolution config.
        norm_cfg: Normalisation config.
        act_cfg: Activation config.

    Shape:
        - input: ``(N, in_channels, h, w)``
        - output[i]: ``(N, num_outputs[i], 2h, 2w)``
    """

    def __init__(self, in_channels: int, num_outputs: Sequence[int], depth: int = 1,
                 width: int = 256, dilation: int = 1, dropout_ratio: float = 0.1,
                 conv_cfg: Optional[dict] = None, norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None):
        super().__init__()
        self.num_outputs = [int(k) for k in num_outputs]
        blocks = [BottleneckBlock(in_channels if i == 0 else width, width, dilation,
                                  conv_cfg, norm_cfg, act_cfg) for i in range(depth)]
        self.adapt = nn.Sequential(*blocks)
        self.dropout = nn.Dropout2d(dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        order = sorted(range(len(self.num_outputs)), key=lambda i: (self.num_outputs[i], i))
        #: Runs of equally wide classifiers: ``(K, positions, first channel)``.
        self.runs: list[tuple[int, list[int], int]] = []
        #: First output channel of every classifier (in classifier order).
        self.first_channel = [0] * len(order)
        channel = 0
        for i in order:
            k = self.num_outputs[i]
            if not self.runs or self.runs[-1][0] != k:
                self.runs.append((k, [], channel))
            self.runs[-1][1].append(i)
            self.first_channel[i] = channel
            channel += k
        self.classify = nn.Conv2d(width if depth else in_channels, channel, 1)
        self.upsample = nn.ModuleList(RunUpsample(len(members), k)
                                      for k, members, _ in self.runs)
        self.init_weights()

    def init_weights(self) -> None:
        """As :meth:`ClassifierBranch.init_weights`: classifiers ~ N(0, 0.01),
        transposed convolutions start as 2x nearest upsampling, zero biases."""
        nn.init.normal_(self.classify.weight, 0, 0.01)
        nn.init.zeros_(self.classify.bias)
        for up in self.upsample:
            up.reset_parameters()

    def forward(self, x: Tensor) -> list[Tensor]:
        logits = self.classify(self.dropout(self.adapt(x)))
        out: list[Optional[Tensor]] = [None] * len(self.num_outputs)
        for (k, members, first), up in zip(self.runs, self.upsample):
            run = up(logits[:, first:first + k * len(members)])
            for i, part in zip(members, run.split(k, dim=1)):
                out[i] = part
        return out

    @torch.no_grad()
    def load_branch(self, position: int, branch: ClassifierBranch) -> None:
        """Copy a separate branch's classifier and transposed convolution
        into classifier ``position`` (the adaptation is shared: copy it with
        ``adapt.load_state_dict``).

        Raises:
            ValueError: The branch has another number of outputs.
        """
        k = self.num_outputs[position]
        if branch.classify.out_channels != k:
            raise ValueError(f'classifier {position} has {k} outputs, the branch '
                             f'{branch.classify.out_channels}')
        first = self.first_channel[position]
        self.classify.weight[first:first + k] = branch.classify.weight
        self.classify.bias[first:first + k] = branch.classify.bias
        run = next(r for r, (_, members, _) in enumerate(self.runs) if position in members)
        offset = first - self.runs[run][2]
        up = self.upsample[run]
        up.weight[offset:offset + k] = branch.upsample.weight
        up.bias[offset:offset + k] = branch.upsample.bias

    def extra_repr(self) -> str:
        return (f'classifiers={len(self.num_outputs)}, runs='
                f'{[(k, len(members)) for k, members, _ in self.runs]}')
