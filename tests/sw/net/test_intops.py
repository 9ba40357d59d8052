"""Integer softmax / GELU / layer norm (I-BERT) against float, and the integer helpers."""

import math

import numpy as np
import pytest
from xdecimate.sw.net import intops

RNG = np.random.default_rng(1)
_ERF = np.vectorize(math.erf)


def test_isqrt_newton_is_exact():
    n = np.concatenate([np.arange(0, 70000), RNG.integers(0, 2**31 - 1, 20000),
                        [2**31 - 1, 2**30, 2**30 - 1]])
    assert (intops.isqrt_newton(n) == [math.isqrt(int(v)) for v in n]).all()
    with pytest.raises(ValueError, match=r"0\.\.2"):
        intops.isqrt_newton(np.array([-1]))


@pytest.mark.parametrize("s_in", [0.001, 0.02, 0.1, 0.3])
@pytest.mark.parametrize("length", [8, 197])
def test_softmax_error_bound(s_in, length):
    """Measured: max |p_int - p_float| ≤ 0.0039 (the 1/256 output step: 1.0 saturates at
    255/256); the bound checked is 1/256 + 1e-4."""
    p = intops.softmax_params(s_in, length)
    x = RNG.integers(0, 256, (300, length)).astype(np.uint8)
    x[0] = 0  # a flat row
    x[1, 0] = 255
    x[1, 1:] = 0  # one-hot row
    y = intops.softmax_int(x, p).astype(np.float64) / p.r
    xf = s_in * x.astype(np.float64)
    e = np.exp(xf - xf.max(axis=-1, keepdims=True))
    ref = e / e.sum(axis=-1, keepdims=True)
    assert np.abs(y - ref).max() <= 1 / 256 + 1e-4
    # the int32 contract: every value the core computes fits
    assert p.q_b**2 + p.q_c < 2**23
    assert length * (p.q_b**2 + p.q_c) < 2**31


def test_igelu_polynomial_error():
    """I-BERT's i-GELU polynomial itself (float): max |i-GELU(x) - GELU(x)| = 0.0182 on
    [-10, 10] (at x ≈ -2.35)."""
    x = np.linspace(-10, 10, 20001)
    u = x / math.sqrt(2)
    erf_l = np.sign(u) * (intops.ERF_A * (np.minimum(np.abs(u), -intops.ERF_B)
                                          + intops.ERF_B) ** 2 + 1)
    err = np.abs(x / 2 * (1 + erf_l) - x * 0.5 * (1 + _ERF(u)))
    assert 0.017 < err.max() < 0.0183


@pytest.mark.parametrize(("s_in", "z_in"),
                         [(0.02, 100), (0.05, 128), (0.1, 60), (0.004, 200), (0.03, 10)])
def test_gelu_error_bound(s_in, z_in):
    """Every one of the 256 codes, output range fitted to GELU's range on the codes.
    Bound: |i-GELU - GELU| ≤ 0.019 + s_out/2 (polynomial 0.0182 + output rounding + integer
    floors); measured 0.011 .. 0.047 (the last with s_out = 0.077)."""
    xs = s_in * (np.arange(256) - z_in)
    g = xs * 0.5 * (1 + _ERF(xs / math.sqrt(2)))
    s_out = (g.max() - g.min()) / 255
    z_out = round(-g.min() / s_out)
    lut = intops.gelu_lut(s_in, z_in, s_out, z_out)
    err = np.abs(s_out * (lut.astype(np.float64) - z_out) - g).max()
    assert err <= 0.019 + s_out / 2


@pytest.mark.parametrize("d", [16, 64, 384])
def test_layernorm_error_bound(d):
    """Measured ≤ 1 output step against round(LN(x)/s_out) (float LN of the same codes)."""
    gamma, beta = RNG.normal(1, 0.3, d), RNG.normal(0, 0.3, d)
    s_in, z_in = 0.05, 120
    x = RNG.integers(0, 256, (200, d)).astype(np.uint8)
    x[0] = 7  # a constant row: variance 0, eps keeps it finite
    xf = s_in * (x.astype(np.float64) - z_in)
    mu, var = xf.mean(-1, keepdims=True), xf.var(-1, keepdims=True)
    ref = (xf - mu) / np.sqrt(var + 1e-5) * gamma + beta
    s_out = (ref.max() - ref.min()) / 255
    z_out = round(-ref.min() / s_out)
    p = intops.layernorm_params(d, s_in, gamma, beta, 1e-5, s_out, z_out)
    y = intops.layernorm_int(x, p)
    ideal = np.clip(np.round(ref / s_out) + z_out, 0, 255)
    assert np.abs(y.astype(np.int64) - ideal).max() <= 1


def test_add_int_matches_float_within_one_step():
    a = RNG.integers(0, 256, 5000).astype(np.uint8)
    b = RNG.integers(0, 256, 5000).astype(np.uint8)
    sa, za, sb, zb, sy, zy = 0.03, 10, 0.07, 200, 0.09, 100
    p = intops.add_params(sa, sb, sy)
    y = intops.add_int(a, za, b, zb, p, zy)
    ideal = np.clip(np.round((sa * (a.astype(int) - za) + sb * (b.astype(int) - zb)) / sy) + zy,
                    0, 255)
    assert np.abs(y.astype(int) - ideal).max() <= 1
    assert 255 * (p.ma + p.mb) + (1 << p.shift >> 1) < 2**31


def test_requant_for_respects_int32_and_rejects_tiny_ratios():
    rq = intops.requant_for(1e-4, 10**7, 7)
    assert 10**7 * rq.mult + (1 << rq.shift >> 1) + (7 << rq.shift) < 2**31
    assert rq.zero_point == 7
    # the output zero point shares the int32 register (rnd = 2^(s-1) + zp·2^s): a large zero
    # point lowers the shift where acc_lim·mult alone would allow it
    lim = 2**30 - 100  # 2·lim + 1 fits int32, 2·lim + 1 + 255·2 does not
    assert intops.requant_for(1.0, lim, 0, max_shift=1).shift == 1
    assert intops.requant_for(1.0, lim, 255, max_shift=1).shift == 0
    assert abs(rq.mult / 2**rq.shift - 1e-4) / 1e-4 < 0.01
    with pytest.raises(ValueError, match="cannot be represented"):
        intops.requant_for(1e-12, 2**30)
    with pytest.raises(ValueError, match="finite number > 0"):
        intops.requant_for(-1.0, 10)
