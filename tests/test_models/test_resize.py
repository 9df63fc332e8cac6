"""Bilinear upsampling by bands of rows: any split of the output rows gives,
bit for bit, the rows of the whole image - in fp32, fp64, bf16 and fp16, up
and down, odd and even sizes, with and without ``align_corners`` - and so does
the traceable whole-image ``upsample``."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmhier.models.resize import (BilinearRows, compute_dtype, resize, resize_rows, row_chunks,
                                  upsample)

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.too_slow])
DTYPES = (torch.float32, torch.float64, torch.bfloat16, torch.float16)


@st.composite
def cases(draw):
    """``(x, size, align_corners, edges)``: maps, output size, and the band
    edges ``0 = e0 < e1 < ... = H`` of a split of the output rows."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 9))
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    height, width = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    dtype = draw(st.sampled_from(DTYPES))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2 ** 31)))
    x = (torch.randn(n, c, h, w, generator=generator) * 4).to(dtype)
    if draw(st.booleans()):
        x = x.contiguous(memory_format=torch.channels_last)
    if draw(st.booleans()):   # one-row bands everywhere
        cuts = list(range(1, height))
    else:
        cuts = sorted(draw(st.sets(st.integers(1, max(1, height - 1)), max_size=height)))
        cuts = [k for k in cuts if k < height]
    return x, (height, width), draw(st.booleans()), [0, *cuts, height]


@PROPERTY_SETTINGS
@given(cases())
def test_any_band_split_equals_the_whole_image_bit_for_bit(case):
    x, size, align_corners, edges = case
    up = BilinearRows(x, size, align_corners)
    whole = up(0, size[0])
    bands = torch.cat([up(a, b) for a, b in zip(edges, edges[1:])], dim=2)
    assert whole.dtype == compute_dtype(x.dtype)
    assert whole.shape == (x.shape[0], x.shape[1], *size)
    assert torch.equal(bands, whole)
    start, stop = edges[-2], edges[-1]
    assert torch.equal(resize_rows(x, size, start, stop, align_corners),
                       whole[:, :, start:stop])
    assert torch.equal(resize(x, size, align_corners), whole)


@PROPERTY_SETTINGS
@given(cases())
def test_traceable_upsample_is_the_whole_image_bit_for_bit(case):
    x, size, align_corners, _ = case
    up = upsample(x, size, align_corners)
    assert up.dtype == compute_dtype(x.dtype) and up.shape == (x.shape[0], x.shape[1], *size)
    assert torch.equal(up, resize(x, size, align_corners))


@PROPERTY_SETTINGS
@given(cases())
def test_low_precision_is_upsampled_in_fp32_without_intermediate_rounding(case):
    x, size, align_corners, _ = case
    exact = resize(x.to(compute_dtype(x.dtype)), size, align_corners)
    assert torch.equal(resize(x, size, align_corners), exact)


@pytest.mark.parametrize('align_corners', [False, True])
@pytest.mark.parametrize('size', [(39, 57), (40, 56), (7, 5), (1, 1), (19, 27)])
def test_values_are_bilinear_interpolation(size, align_corners):
    x = torch.randn(2, 3, 19, 27, dtype=torch.float64)
    expected = F.interpolate(x, size=size, mode='bilinear', align_corners=align_corners)
    torch.testing.assert_close(resize(x, size, align_corners), expected,
                               rtol=0, atol=1e-12)
    torch.testing.assert_close(resize(x.float(), size, align_corners), expected.float(),
                               rtol=0, atol=1e-4)


def test_band_is_channels_last_and_differentiable():
    x = torch.randn(1, 4, 5, 6, requires_grad=True)
    band = BilinearRows(x, (10, 12))(3, 7)
    assert band.is_contiguous(memory_format=torch.channels_last)
    band.sum().backward()
    expected = torch.autograd.grad(
        F.interpolate(x, size=(10, 12), mode='bilinear')[:, :, 3:7].sum(), x)[0]
    torch.testing.assert_close(x.grad, expected)


def test_row_chunks_cover_all_rows_within_the_budget():
    assert list(row_chunks(10, 100, 350)) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert list(row_chunks(3, 100, 1)) == [(0, 1), (1, 2), (2, 3)]   # at least one row
    assert list(row_chunks(4, 100, 1 << 40)) == [(0, 4)]
