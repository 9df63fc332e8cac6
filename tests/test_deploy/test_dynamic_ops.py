"""Adaptive pooling in a dynamic ONNX graph: the exporter would fix its
kernel to the example size; the any-size replacement pools PyTorch's bins at
every size."""
import numpy as np
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmhier.deploy.dynamic_ops import (AdaptiveAvgPool2dAnySize, dynamic_size_pooling,
                                       fixed_size_ops)


class Pyramid(nn.Module):
    """PSPNet-style pooling: pool to a grid, upsample back, concatenate."""

    def __init__(self):
        super().__init__()
        self.pools = nn.ModuleList([nn.AdaptiveAvgPool2d(s) for s in (1, 2, 3, 6)])

    def forward(self, x):
        size = x.shape[-2:]
        return torch.cat([x] + [F.interpolate(p(x), size=size, mode='bilinear')
                                for p in self.pools], dim=1)


@pytest.mark.parametrize('grid', [2, 3, 6, (3, 5), (None, 4)])
@pytest.mark.parametrize('size', [(6, 6), (7, 11), (13, 5), (2, 3)])
def test_any_size_pooling_is_pytorchs(grid, size):
    x = torch.randn(2, 3, *size)
    expected = nn.AdaptiveAvgPool2d(grid)(x)
    torch.testing.assert_close(AdaptiveAvgPool2dAnySize(grid)(x), expected,
                               rtol=1e-5, atol=1e-6)


def test_dynamic_onnx_graph_pools_right_at_every_size(tmp_path):
    model = Pyramid().eval()
    dim = torch.export.Dim.DYNAMIC
    with dynamic_size_pooling(model) as swapped:
        assert swapped == 3                         # the global pool is kept
        program = torch.export.export(model, (torch.randn(2, 3, 12, 12),),
                                      dynamic_shapes={'x': {0: dim, 2: dim, 3: dim}})
    assert [type(p) for p in model.pools] == [nn.AdaptiveAvgPool2d] * 4   # restored
    assert fixed_size_ops(program) == []
    path = str(tmp_path / 'pyramid.onnx')
    torch.onnx.export(program, (torch.randn(2, 3, 12, 12),), dynamo=True,
                      verbose=False).save(path)
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    for size in [(12, 12), (17, 23), (31, 9)]:
        x = torch.randn(1, 3, *size)
        out = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
        np.testing.assert_allclose(out, model(x).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_what_is_left_is_reported():
    class Functional(nn.Module):
        def forward(self, x):
            return F.adaptive_avg_pool2d(x, 2) + F.adaptive_avg_pool2d(x, 1)

    program = torch.export.export(Functional(), (torch.randn(2, 3, 8, 8),))
    found = fixed_size_ops(program)
    assert found == ['adaptive_avg_pool2d to (2, 2) (in the model)']
    assert fixed_size_ops(torch.export.export(Pyramid().pools[0], (torch.randn(1, 3, 4, 4),))) \
        == []
