"""Dense and sparse kernels: the sparse walk through xdec.lb is bit-exact with dense."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from xdecimate.sw.model.kernels import (
    conv2d_dense,
    conv2d_out_shape,
    conv2d_sparse,
    fc_dense,
    fc_sparse,
    fc_sparse_gather,
    im2col,
    pixel_chunks,
    sdotusp_b,
)
from xdecimate.sw.model.nm_format import PATTERNS, Pattern, compress, decompress
from xdecimate.sw.model.prune import prune_nm
from xdecimate.sw.model.quant import Requant, choose_requant

i8 = st.integers(-128, 127)
u8 = st.integers(0, 255)


@st.composite
def fc_cases(draw):
    pattern = draw(st.sampled_from(PATTERNS))
    rows, k, pix = draw(st.integers(1, 5)), draw(st.integers(1, 70)), draw(st.integers(1, 7))
    w = prune_nm(draw(hnp.arrays(np.int8, (rows, k), elements=i8)), pattern)
    x = draw(hnp.arrays(np.uint8, (pix, k), elements=u8))
    bias = draw(hnp.arrays(np.int32, (rows,), elements=st.integers(-(2**20), 2**20)))
    return pattern, w, x, bias, draw(st.sampled_from([1, 2, 4]))


@given(fc_cases())
def test_fc_sparse_walk_equals_dense_on_decompressed(case):
    pattern, w, x, bias, p = case
    img = compress(w, pattern)
    dense = fc_dense(x, decompress(img), bias)
    assert np.array_equal(fc_sparse(x, img, bias, p=p), dense)
    assert np.array_equal(fc_sparse_gather(x, img, bias), dense)
    rq = choose_requant(int(np.abs(dense).max()) or 1)
    assert np.array_equal(fc_sparse(x, img, bias, rq, p=p), fc_dense(x, w, bias, rq))


@st.composite
def conv_cases(draw):
    pattern = draw(st.sampled_from(PATTERNS))
    h, w_, cin, cout = (draw(st.integers(1, 6)), draw(st.integers(1, 6)),
                        draw(st.integers(1, 4)), draw(st.integers(1, 3)))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pad, stride = draw(st.integers(0, 1)), draw(st.integers(1, 2))
    if h + 2 * pad < kh or w_ + 2 * pad < kw:
        pad = max(kh, kw)
    x = draw(hnp.arrays(np.uint8, (h, w_, cin), elements=u8))
    wt = draw(hnp.arrays(np.int8, (cout, kh, kw, cin), elements=i8))
    wm = prune_nm(wt.reshape(cout, -1), pattern)
    return pattern, x, wm.reshape(wt.shape), stride, pad, draw(st.sampled_from([1, 2, 4]))


@given(conv_cases())
def test_conv_sparse_walk_equals_dense(case):
    pattern, x, w, stride, pad, p = case
    img = compress(w.reshape(w.shape[0], -1), pattern)
    dense = conv2d_dense(x, w, stride=stride, pad=pad)
    got = conv2d_sparse(x, img, w.shape[1], w.shape[2], stride=stride, pad=pad, p=p)
    assert got.shape == dense.shape == (*conv2d_out_shape(*x.shape[:2], *w.shape[1:3], stride,
                                                          pad), w.shape[0])
    assert np.array_equal(got, dense)


def test_conv_dense_against_direct_loops():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (5, 6, 3)).astype(np.uint8)
    w = rng.integers(-128, 128, (4, 3, 3, 3)).astype(np.int8)
    out = conv2d_dense(x, w, stride=2, pad=1)
    xp = np.zeros((7, 8, 3), np.int64)
    xp[1:6, 1:7] = x
    for oy in range(out.shape[0]):
        for ox in range(out.shape[1]):
            for co in range(4):
                ref = (xp[2 * oy:2 * oy + 3, 2 * ox:2 * ox + 3] * w[co]).sum()
                assert out[oy, ox, co] == ref


def test_im2col_order_is_hwc():
    x = np.arange(2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 3)
    cols = im2col(x, 2, 2)
    assert cols.tolist() == [x.reshape(-1).tolist()]


def test_sdotusp_b():
    assert sdotusp_b(10, 0xFF_00_02_01, 0x80_7F_FF_03) == 10 + 1 * 3 + 2 * -1 + 0 + 255 * -128
    assert sdotusp_b(2**31 - 1, 1, 1) == -(2**31)  # 32-bit wrap like the hardware


def test_pixel_chunks_use_supported_p():
    assert pixel_chunks(7, 4) == [(0, 4), (4, 2), (6, 1)]
    assert pixel_chunks(5, 2) == [(0, 2), (2, 2), (4, 1)]
    with pytest.raises(ValueError, match="P must be 1, 2 or 4, not 3"):
        pixel_chunks(4, 3)


def test_accumulator_overflow_is_an_error():
    w = np.full((1, 70000), -128, np.int8)
    x = np.full((1, 70000), 255, np.uint8)
    with pytest.raises(OverflowError, match="int32 accumulator overflow"):
        fc_dense(x, w)


@pytest.mark.parametrize(("call", "exc", "msg"), [
    (lambda: fc_dense(np.zeros(4, np.int8), np.zeros((2, 4), np.int8)), TypeError, "uint8"),
    (lambda: fc_dense(np.zeros(5, np.uint8), np.zeros((2, 4), np.int8)), ValueError,
     r"K = 4, not \(5,\)"),
    (lambda: fc_dense(np.zeros(4, np.uint8), np.zeros((2, 4), np.int16)), TypeError, "int8"),
    (lambda: fc_dense(np.zeros(4, np.uint8), np.zeros((2, 4), np.int8), np.zeros(3, np.int32)),
     ValueError, r"bias must be an int32 array of shape \(2,\)"),
    (lambda: conv2d_dense(np.zeros((2, 2, 3), np.uint8), np.zeros((1, 3, 3, 3), np.int8)),
     ValueError, "does not fit"),
    (lambda: conv2d_dense(np.zeros((4, 4, 2), np.uint8), np.zeros((1, 3, 3, 3), np.int8)),
     ValueError, "Cin = 3, the input has 2"),
    (lambda: conv2d_out_shape(4, 4, 3, 3, 0, 0), ValueError, "stride must be a positive"),
    (lambda: conv2d_sparse(np.zeros((4, 4, 2), np.uint8),
                           compress(np.zeros((1, 9), np.int8), Pattern(1, 4)), 3, 3),
     ValueError, "K = 9, a 3x3x2 kernel needs 18"),
    (lambda: fc_sparse(np.zeros(4, np.uint8), np.zeros((1, 4), np.int8)), TypeError,
     "expected an NMImage"),
])
def test_kernels_reject_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_requantized_output_is_uint8():
    out = fc_dense(np.full(4, 10, np.uint8), np.ones((2, 4), np.int8), rq=Requant(1, 2))
    assert out.dtype == np.uint8
    assert out.tolist() == [[10, 10]]
