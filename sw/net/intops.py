"""Integer-only arithmetic of the non-MAC ops: rescaling, residual add, I-BERT softmax, GELU,
layer norm, and the integer square root.

What it is for: the exact integer formulas of ``docs/net.md`` in one place -- the parameter
choice (done once, at quantization time, from float scales) and the evaluation (integers only).
Softmax, GELU and layer norm follow I-BERT (S. Kim, A. Gholami, Z. Yao, M. W. Mahoney,
K. Keutzer, "I-BERT: Integer-only BERT Quantization", ICML 2021): i-exp (second-order polynomial
of ``exp`` on ``(-ln2, 0]`` after a shift by ``z·ln2``), i-erf / i-GELU (second-order polynomial
of ``erf`` with clipping) and an integer square root by Newton's iteration for layer norm.

Widths: every value the core computes at run time stays in int32 (softmax's final division is
unsigned 32-bit); the functions raise ``OverflowError`` rather than return a value the core
could not hold.  GELU is a function of one uint8 code, so it is evaluated here (Python integers)
into a 256-entry table that the core looks up.

May import: numpy, the standard library and :mod:`xdecimate.sw.model`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..model.quant import Requant

__all__ = [
    "AddParams",
    "LNParams",
    "SoftmaxParams",
    "add_int",
    "add_params",
    "gelu_lut",
    "isqrt_newton",
    "layernorm_int",
    "layernorm_params",
    "requant_for",
    "rescale_int",
    "rescale_params",
    "softmax_int",
    "softmax_params",
]

_I32 = (1 << 31) - 1

# I-BERT polynomial constants.
EXP_A, EXP_B, EXP_C = 0.3585, 1.353, 0.344      # exp(p) ≈ a(p + b)^2 + c on (-ln2, 0]
ERF_A, ERF_B = -0.2888, -1.769                  # erf(x) ≈ sgn(x)[a(min(|x|, -b) + b)^2 + 1]


def requant_for(ratio: float, acc_lim: int, zero_point: int = 0, *, max_shift: int = 31
                ) -> Requant:
    """The :class:`Requant` approximating ``y = acc·ratio + zero_point`` for ``|acc| ≤ acc_lim``.

    Picks the largest shift (≤ ``max_shift``) with ``mult = round(ratio·2^shift)`` in
    1..2^31−1 and ``acc_lim·mult + 2^(shift−1) + zero_point·2^shift < 2^31``: the C kernels
    compute ``acc·mult + rnd`` in one int32 register, and the deployment adds the output zero
    point there (``rnd = 2^(shift−1) + zero_point·2^shift``, ``docs/net.md``).

    Raises ``ValueError`` if ``ratio`` is not a finite number > 0 or so small that no shift
    gives a multiplier ≥ 1 under the overflow bound.
    """
    if not (math.isfinite(ratio) and ratio > 0):
        raise ValueError(f"requant ratio must be a finite number > 0, not {ratio!r}")
    acc_lim = max(1, int(acc_lim))
    for shift in range(max_shift, -1, -1):
        mult = round(ratio * (1 << shift))
        rnd = (1 << (shift - 1)) if shift else 0
        if 1 <= mult < (1 << 31) and acc_lim * mult + rnd + (zero_point << shift) <= _I32:
            return Requant(mult, shift, zero_point)
    raise ValueError(f"requant ratio {ratio:.3g} cannot be represented for accumulators up to "
                     f"{acc_lim}: mult = round(ratio·2^shift) is 0 or overflows for every shift")


@dataclass(frozen=True)
class AddParams:
    """``y = clip(((ma·(a−za) + mb·(b−zb) + 2^(shift−1)) >> shift) + zy, 0, 255)``."""

    ma: int
    mb: int
    shift: int


def add_params(sa: float, sb: float, sy: float) -> AddParams:
    """Multipliers ``ma ≈ sa/sy·2^shift``, ``mb ≈ sb/sy·2^shift``, the largest shift ≤ 30
    such that ``255·(ma + mb) + 2^(shift−1)`` fits int32 (``|a − za| ≤ 255``)."""
    for shift in range(30, -1, -1):
        ma, mb = round(sa / sy * (1 << shift)), round(sb / sy * (1 << shift))
        if 255 * (ma + mb) + (1 << shift >> 1) <= _I32 and ma >= 1 and mb >= 1:
            return AddParams(ma, mb, shift)
    raise ValueError(f"add scales {sa:.3g}, {sb:.3g} -> {sy:.3g} cannot be represented")


def rescale_params(sx: float, sy: float) -> AddParams:
    """One-operand :class:`AddParams` (``mb = 0``) mapping scale ``sx`` to ``sy``."""
    for shift in range(30, -1, -1):
        ma = round(sx / sy * (1 << shift))
        if ma >= 1 and 255 * ma + (1 << shift >> 1) <= _I32:
            return AddParams(ma, 0, shift)
    raise ValueError(f"rescale {sx:.3g} -> {sy:.3g} cannot be represented")


def add_int(a: np.ndarray, za: int, b: np.ndarray, zb: int, p: AddParams, zy: int
            ) -> np.ndarray:
    """Residual add of two uint8 tensors (see :class:`AddParams`); int32 arithmetic."""
    t = (p.ma * (a.astype(np.int64) - za) + p.mb * (b.astype(np.int64) - zb)
         + ((1 << p.shift) >> 1))
    _check32(t, "add")
    return np.clip((t >> p.shift) + zy, 0, 255).astype(np.uint8)


def rescale_int(x: np.ndarray, zx: int, p: AddParams, zy: int) -> np.ndarray:
    """One-operand form of :func:`add_int` (``mb`` unused): requantize codes to new QParams."""
    t = p.ma * (x.astype(np.int64) - zx) + ((1 << p.shift) >> 1)
    _check32(t, "rescale")
    return np.clip((t >> p.shift) + zy, 0, 255).astype(np.uint8)


def _check32(t: np.ndarray, what: str) -> None:
    if t.size and (int(t.max()) > _I32 or int(t.min()) < -_I32 - 1):
        raise OverflowError(f"{what}: an intermediate value leaves int32 "
                            f"({int(t.max())} / {int(t.min())})")


def isqrt_newton(n: np.ndarray) -> np.ndarray:
    """``floor(sqrt(n))`` element-wise by Newton's iteration (I-BERT, Algorithm 4).

    ``x0 = 2^ceil(bits(n)/2)``, ``x ← (x + n div x) div 2`` while it decreases; exact for
    every integer 0 ≤ n < 2^31 (``ValueError`` outside).  Integers only.
    """
    n = np.asarray(n, dtype=np.int64)
    if n.size and (int(n.min()) < 0 or int(n.max()) > _I32):
        raise ValueError("isqrt_newton takes integers in 0..2^31-1")
    bits = np.zeros(n.shape, np.int64)
    v = n.copy()
    while v.any():
        bits += v > 0
        v >>= 1
    x = np.left_shift(np.int64(1), (bits + 1) // 2)
    while True:
        y = (x + n // np.maximum(x, 1)) // 2
        done = y >= x
        if done.all():
            return np.where(n == 0, 0, x)
        x = np.where(done, x, y)


@dataclass(frozen=True)
class SoftmaxParams:
    """i-exp constants for input scale ``s`` pre-shifted by ``k`` (scale ``S' = s/2^k``).

    ``q_ln2 = floor(ln2/S')``, ``q_b = floor(b/S')``, ``q_c = floor(c/(a·S'^2))``; outputs
    have scale ``1/r``.
    """

    k: int
    q_ln2: int
    q_b: int
    q_c: int
    r: int


def softmax_params(s_in: float, length: int, r: int = 256) -> SoftmaxParams:
    """Choose the pre-shift ``k`` (largest in −24..24) such that ``e(0) = q_b² + q_c``, the
    largest i-exp value, is < 2^23 and ``length·e(0) < 2^31`` (the row sum fits int32, and
    ``e·r + sum/2`` fits uint32 for ``r ≤ 256``)."""
    if not 1 <= r <= 256:
        raise ValueError(f"softmax output scale must be 1/r with r in 1..256, not 1/{r}")
    cap = min((1 << 23) - 1, _I32 // max(1, length))
    for k in range(24, -25, -1):
        s = s_in / 2.0 ** k
        q_ln2, q_b = math.floor(math.log(2) / s), math.floor(EXP_B / s)
        q_c = math.floor(EXP_C / (EXP_A * s * s))
        if q_ln2 >= 1 and q_b * q_b + q_c <= cap:
            return SoftmaxParams(k, q_ln2, q_b, q_c, r)
    raise ValueError(f"no softmax pre-shift fits input scale {s_in!r} and length {length}")


def iexp(q: np.ndarray, p: SoftmaxParams) -> np.ndarray:
    """I-BERT i-exp of ``q ≤ 0`` (scale ``S'``): ``z = (−q) div q_ln2``,
    ``q_p = q + z·q_ln2``, ``e = ((q_p + q_b)^2 + q_c) >> z`` (scale ``a·S'^2``)."""
    z = (-q) // p.q_ln2
    qp = q + z * p.q_ln2
    e = (qp + p.q_b) ** 2 + p.q_c
    return e >> np.minimum(z, 31)


def iexp_table(p: SoftmaxParams) -> np.ndarray:
    """``t[d] = iexp(q(−d))`` for the 256 code differences ``d = max(x) − x`` (uint32): what
    :func:`softmax_int` computes per element, as the deployed program looks it up."""
    d = -np.arange(256, dtype=np.int64)
    q = d << p.k if p.k >= 0 else d >> -p.k
    return iexp(q, p).astype(np.uint32)


def softmax_int(x: np.ndarray, p: SoftmaxParams) -> np.ndarray:
    """Integer softmax of uint8 codes on the last axis; output codes with scale ``1/r``.

    ``d = x − max(x)`` (the zero point cancels), ``q = d·2^k`` (``d >> −k`` for k < 0),
    ``e = iexp(q)``, ``y = min((e·r + sum(e) div 2) div sum(e), 255)`` -- round half up of
    ``r·e/sum``, one unsigned 32-bit division per element.
    """
    d = x.astype(np.int64) - x.max(axis=-1, keepdims=True).astype(np.int64)
    q = d << p.k if p.k >= 0 else d >> -p.k
    e = iexp(q, p)
    s = e.sum(axis=-1, keepdims=True)
    if int(s.max()) > _I32:
        raise OverflowError(f"softmax: the row sum {int(s.max())} leaves int32")
    y = (e * p.r + s // 2) // s
    return np.minimum(y, 255).astype(np.uint8)


def gelu_lut(s_in: float, z_in: int, s_out: float, z_out: int, *, erf_bits: int = 10
             ) -> np.ndarray:
    """The 256-entry table of I-BERT i-GELU from input QParams to output QParams.

    For each code ``x``: ``q = (x − z_in)·2^k`` with scale ``S = s_in/2^k``, ``k ≥ 0`` the
    least making the erf input scale ``Se = S/√2 ≤ 2^−erf_bits``; i-erf:
    ``q_b = floor(b/Se)``, ``q_c = floor(1/(a·Se²))``,
    ``L = sgn(q)·((min(|q|, −q_b) + q_b)² + q_c)`` (scale ``S_L = a·Se²``);
    ``q_1 = floor(1/S_L)``; ``g = q·(L + q_1)`` (scale ``S·S_L/2``); then
    ``y = clip(((g·m + 2^39) >> 40) + z_out, 0, 255)`` with ``m = round(S·S_L/(2·s_out)·2^40)``.
    Python integers (exact); the constants come from the float scales, as in I-BERT.
    """
    k = max(0, math.ceil(math.log2(s_in / math.sqrt(2) * 2.0 ** erf_bits)))
    s = s_in / 2.0 ** k
    se = s / math.sqrt(2)
    q_b = math.floor(ERF_B / se)
    q_c = math.floor(1 / (ERF_A * se * se))
    s_l = ERF_A * se * se
    q_1 = math.floor(1 / s_l)
    m = round(s * s_l / (2 * s_out) * 2.0 ** 40)
    out = np.empty(256, np.uint8)
    for code in range(256):
        q = (code - z_in) << k
        aq = min(abs(q), -q_b)
        sgn = (q > 0) - (q < 0)
        el = sgn * ((aq + q_b) ** 2 + q_c)
        g = q * (el + q_1)
        out[code] = min(255, max(0, ((g * m + (1 << 39)) >> 40) + z_out))
    return out


@dataclass(frozen=True)
class LNParams:
    """Integer layer norm: ``f`` fraction bits of the mean, ``eps_int``, per-channel ``g``,
    ``b`` (int32, output zero point folded into ``b``) and ``shift``."""

    f: int
    eps_int: int
    g: np.ndarray
    b: np.ndarray
    shift: int


_LN_N = 14  # normalized values n carry 14 fraction bits: |n| ≤ 2^15


def layernorm_params(d: int, s_in: float, gamma: np.ndarray, beta: np.ndarray, eps: float,
                     s_out: float, z_out: int) -> LNParams:
    """Choose the integer constants of :func:`layernorm_int` (see its formula).

    ``f`` is the largest in 0..8 with ``d·(255·2^f)² < 2^31`` (the variance fits int32);
    ``g_c = round(γ_c·√d/(2^14·s_out)·2^shift)``, ``b_c = round((β_c/s_out + z_out)·2^shift)``
    with the largest shift ≤ 24 keeping ``2^15·|g| + |b| + 2^(shift−1)`` in int32.
    """
    f = 0
    while f < 8 and d * (255 << (f + 1)) ** 2 <= _I32:
        f += 1
    if d * (255 << f) ** 2 > _I32:
        raise ValueError(f"layer norm over {d} channels: the variance cannot fit int32")
    eps_int = min(round(eps * d * 4 ** f / (s_in * s_in)), _I32 - d * (255 << f) ** 2)
    for shift in range(24, -1, -1):
        g = np.round(gamma * math.sqrt(d) / (2 ** _LN_N * s_out) * 2.0 ** shift)
        b = np.round((beta / s_out + z_out) * 2.0 ** shift)
        if (1 << 15) * np.abs(g).max() + np.abs(b).max() + (1 << shift >> 1) <= _I32:
            return LNParams(f, int(eps_int), g.astype(np.int32), b.astype(np.int32), shift)
    raise ValueError("layer norm gamma/beta cannot be represented in int32")


def layernorm_int(x: np.ndarray, p: LNParams) -> np.ndarray:
    """Integer layer norm of uint8 codes on the last axis (``D`` channels); int32 values.

    ``μ = (Σx·2^f + D div 2) div D``; ``y = x·2^f − μ``; ``var = Σy² + eps_int``;
    ``σ = max(1, isqrt_newton(var))``; ``n = (y·(2^29 div σ) + 2^14) >> 15`` (≈ ``y/σ·2^14``,
    ``|n| ≤ 2^15``); ``out = clip((n·g_c + b_c + 2^(shift−1)) >> shift, 0, 255)``.
    """
    d = x.shape[-1]
    xi = x.astype(np.int64)
    mu = ((xi.sum(axis=-1, keepdims=True) << p.f) + d // 2) // d
    y = (xi << p.f) - mu
    var = (y * y).sum(axis=-1, keepdims=True) + p.eps_int
    _check32(var, "layer norm variance")
    sigma = np.maximum(1, isqrt_newton(var))
    prod = y * ((1 << 29) // sigma)
    _check32(prod, "layer norm y·factor")
    n = (prod + (1 << 14)) >> 15
    t = n * p.g.astype(np.int64) + p.b.astype(np.int64) + ((1 << p.shift) >> 1)
    _check32(t, "layer norm affine")
    return np.clip(t >> p.shift, 0, 255).astype(np.uint8)
