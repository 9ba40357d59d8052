"""Quantization and PULP-NN-style requantization."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from xdecimate.sw.model.quant import (
    Requant,
    choose_requant,
    quantize_activations,
    quantize_weights,
    requantize,
)


def test_requant_rounds_half_up_and_clips():
    rq = Requant(mult=1, shift=1)
    acc = np.array([-3, -1, 0, 1, 2, 3, 5, 600], np.int32)
    # (acc + 1) >> 1 : -1, 0, 0, 1, 1, 2, 3, 300 -> clip
    assert requantize(acc, rq).tolist() == [0, 0, 0, 1, 1, 2, 3, 255]
    assert requantize(np.array([7], np.int32), Requant(3, 0)).tolist() == [21]


@given(acc=st.integers(-(2**20), 2**20), mult=st.integers(1, 2**10), shift=st.integers(0, 20))
def test_requant_equals_exact_rounding(acc, mult, shift):
    y = int(requantize(np.array([acc], np.int32), Requant(mult, shift))[0])
    exact = (acc * mult + (1 << shift) // 2) // (1 << shift)  # floor((x + half) / 2^s)
    assert y == min(max(exact, 0), 255)


def test_requant_overflow_is_an_error():
    with pytest.raises(OverflowError, match="acc 70000 · mult 40000"):
        requantize(np.array([1, 70000], np.int32), Requant(40000, 4))


@given(acc_max=st.integers(1, 2**31 - 1))
def test_choose_requant_never_overflows(acc_max):
    rq = choose_requant(acc_max)
    acc = np.array([-acc_max, acc_max], np.int32)
    y = requantize(acc, rq)
    assert y[0] == 0
    if acc_max <= 2**23:  # enough multiplier bits left for a precise scale
        assert 250 <= y[1] <= 255
    else:  # huge accumulators leave a 1..2-bit multiplier: within a factor 1.5 of the target
        assert 170 <= y[1] <= 255


@pytest.mark.parametrize(("kw", "msg"), [({"mult": 0, "shift": 0}, "mult must be"),
                                         ({"mult": 2**31, "shift": 0}, "mult must be"),
                                         ({"mult": 1, "shift": 32}, "shift must be"),
                                         ({"mult": 1, "shift": -1}, "shift must be")])
def test_requant_validation(kw, msg):
    with pytest.raises(ValueError, match=msg):
        Requant(**kw)


def test_requantize_needs_int32():
    with pytest.raises(TypeError, match="int32 numpy array, not int64"):
        requantize(np.array([1]), Requant(1, 0))


def test_quantize_weights_and_activations():
    q, s = quantize_weights(np.array([0.5, -1.0, 0.25]))
    assert q.dtype == np.int8
    assert q.tolist() == [64, -127, 32]
    assert s == pytest.approx(1 / 127)
    assert quantize_activations(np.array([-1.0, 0.5, 1.5, 999.0]), 0.5).tolist() == [0, 1, 3, 255]
    with pytest.raises(ValueError, match="NaN or inf"):
        quantize_weights(np.array([np.inf]))
    with pytest.raises(ValueError, match="scale must be > 0, not 0"):
        quantize_activations(np.array([1.0]), 0)
    with pytest.raises(TypeError, match="float numpy array"):
        quantize_weights(np.array([1, 2], np.int8))
