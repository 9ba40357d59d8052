"""Magnitude N:M pruning."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from xdecimate.sw.model.nm_format import PATTERNS, Pattern, is_nm
from xdecimate.sw.model.prune import conv_weight_matrix, ohwi_from_oihw, prune_nm


def test_keeps_largest_magnitude_ties_to_lower_position():
    w = np.array([[1.0, -4.0, 3.0, 4.0, 0.5, 0.5, 0.5, 0.5]])
    assert prune_nm(w, Pattern(1, 4)).tolist() == [[0, -4.0, 0, 0, 0.5, 0, 0, 0]]
    assert prune_nm(w, Pattern(2, 4)).tolist() == [[0, -4.0, 0, 4.0, 0.5, 0.5, 0, 0]]


def test_short_last_block_is_pruned_as_zero_padded():
    w = np.array([[0, 0, 0, 0, 0, 0, 0, 0, 3, -5, 1]], np.int8)  # K = 11, last block has 3
    out = prune_nm(w, Pattern(1, 8))
    assert out.tolist() == [[0] * 9 + [-5, 0]]
    assert out.dtype == np.int8


@given(pattern=st.sampled_from(PATTERNS),
       w=hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, max_side=40),
                    elements=st.floats(-100, 100, width=32)))
def test_result_is_nm_and_keeps_the_top_n(pattern, w):
    out = prune_nm(w, pattern)
    assert out.shape == w.shape
    assert out.dtype == w.dtype
    assert is_nm(np.sign(out).astype(np.int8), pattern)
    kept = out != 0
    assert np.array_equal(out[kept], w[kept])
    # no dropped weight is strictly larger in magnitude than a kept one of the same block
    k = w.shape[1]
    for b0 in range(0, k, pattern.m):
        blk_w, blk_o = np.abs(w[:, b0:b0 + pattern.m]), out[:, b0:b0 + pattern.m]
        for r in range(w.shape[0]):
            dropped = blk_w[r][(blk_o[r] == 0) & (blk_w[r] > 0)]
            kept_m = blk_w[r][blk_o[r] != 0]
            if dropped.size and kept_m.size:
                assert dropped.max() <= kept_m.min()


def test_conv_weight_matrix_is_hwc_order():
    w = np.arange(2 * 3 * 3 * 4).reshape(2, 3, 3, 4)
    m = conv_weight_matrix(w)
    assert m.shape == (2, 36)
    assert m[1, 4 * 3 + 4 * 1 + 2] == w[1, 1, 1, 2]
    oihw = np.arange(2 * 4 * 3 * 3).reshape(2, 4, 3, 3)
    assert ohwi_from_oihw(oihw)[1, 2, 0, 3] == oihw[1, 3, 2, 0]


@pytest.mark.parametrize(("w", "exc", "msg"), [
    (np.zeros(8), ValueError, r"2-D \(rows, K\)"),
    (np.array([["a"]]), TypeError, "integer or float, not <U1"),
    (np.array([[np.nan, 1.0]]), ValueError, "NaN"),
    ([[1, 2]], TypeError, "numpy array, not list"),
])
def test_prune_rejects_bad_input(w, exc, msg):
    with pytest.raises(exc, match=msg):
        prune_nm(w, Pattern(1, 4))


def test_conv_reshapes_reject_wrong_rank():
    with pytest.raises(ValueError, match="4-D"):
        conv_weight_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="4-D"):
        ohwi_from_oihw(np.zeros((2, 3, 3)))
