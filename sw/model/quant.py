"""Quantization: int8 weights, uint8 activations, int32 accumulators, PULP-NN-style requant.

Requantization (normative; ``docs/quantization.md``)::

    t = acc · mult + (2^(shift-1) if shift > 0 else 0)     # exact integer arithmetic
    y = clip((t >> shift) + zero_point, 0, 255)     # arithmetic shift (floor), ReLU clip

with ``acc`` the int32 accumulator (bias included), ``1 ≤ mult < 2^31``, ``0 ≤ shift ≤ 31`` and
``0 ≤ zero_point ≤ 255`` (the output zero point, default 0) per tensor.  With the default
``zero_point = 0`` this is exactly the C kernels' contract (the clip at 0 is the folded ReLU);
a non-zero output zero point (asymmetric activations, ``docs/net.md``) is the golden model's
extension, not yet implemented by the C kernels.  ``t`` must fit in int32 -- the C kernels
compute it in 32-bit registers -- so :func:`requantize` raises ``OverflowError`` naming the
accumulator that does not fit instead of wrapping.  :func:`choose_requant` picks parameters
that never overflow for a given accumulator range.  The rounding is "round half up" (towards
+inf) of ``acc·mult / 2^shift``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_int, check_type, short

__all__ = ["Requant", "choose_requant", "quantize_activations", "quantize_weights", "requantize"]

_I32 = (-(1 << 31), (1 << 31) - 1)


@dataclass(frozen=True)
class Requant:
    """Per-tensor requantization: ``y = clip(((acc·mult + rnd) >> shift) + zero_point, 0, 255)``.

    ``zero_point`` (default 0, in 0..255) is the output zero point of asymmetric activations;
    0 leaves every result -- and the C kernels' contract -- unchanged.
    """

    mult: int
    shift: int
    zero_point: int = 0

    def __post_init__(self) -> None:
        # TypeError for a non-integer (bool, float), ValueError outside the range; a numpy
        # integer becomes an int.
        object.__setattr__(self, "mult", as_int("requant mult", self.mult, 1, (1 << 31) - 1,
                                                rule="an integer in 1..2^31-1"))
        object.__setattr__(self, "shift", as_int("requant shift", self.shift, 0, 31,
                                                 rule="an integer in 0..31"))
        object.__setattr__(self, "zero_point", as_int("requant zero_point", self.zero_point,
                                                      0, 255, rule="an integer in 0..255"))

    @property
    def rounding(self) -> int:
        return (1 << (self.shift - 1)) if self.shift > 0 else 0


def requantize(acc: np.ndarray, rq: Requant) -> np.ndarray:
    """Requantize int32 accumulators to uint8 (bit-exact with the C kernels for zero_point 0).

    Any shape (an empty array gives an empty result).

    Raises
    ------
    TypeError
        ``acc`` is not an int32 array, or ``rq`` not a :class:`Requant`.
    OverflowError
        ``acc·mult + rounding`` leaves int32 for some accumulator (the first is named).
    """
    if not isinstance(acc, np.ndarray) or acc.dtype != np.int32:
        raise TypeError(f"accumulators must be an int32 numpy array, not "
                        f"{getattr(acc, 'dtype', type(acc).__name__)}")
    check_type("rq", rq, Requant)
    t = acc.astype(np.int64) * int(rq.mult) + rq.rounding
    bad = (t < _I32[0]) | (t > _I32[1])
    if bad.any():
        a = int(acc[bad].flat[0])
        raise OverflowError(f"requantization overflows int32: acc {a} · mult {rq.mult} + "
                            f"{rq.rounding} = {a * rq.mult + rq.rounding}; use a smaller mult "
                            f"(choose_requant)")
    return np.clip((t >> rq.shift) + rq.zero_point, 0, 255).astype(np.uint8)


def choose_requant(acc_max: int, *, target: int = 255, max_shift: int = 24) -> Requant:
    """Parameters mapping accumulator ``acc_max`` to about ``target`` without overflow.

    ``acc_max`` is the largest accumulator magnitude to expect (1..2^31-1), ``target`` the
    output it should map to (1..255; 255 uses the whole uint8 range), ``max_shift`` the largest
    shift to consider (0..31).  Among the shifts 0..``max_shift`` whose multiplier keeps
    ``|acc|·mult + rnd`` in int32 for every ``|acc| ≤ acc_max``, picks the one with the smallest
    scaling error ``|acc_max·mult/2^shift − target|`` (ties: the larger shift, i.e. the more
    precise scale).

    Raises ``TypeError`` for a non-integer argument and ``ValueError`` for one out of range.
    """
    acc_max = as_int("acc_max", acc_max, 1, _I32[1], rule="an accumulator magnitude in 1..2^31-1")
    target = as_int("target", target, 1, 255, rule="an output value in 1..255")
    max_shift = as_int("max_shift", max_shift, 0, 31, rule="a shift in 0..31")
    best: tuple[float, int, int] | None = None
    for shift in range(max_shift, -1, -1):
        mult = max(1, round(target * (1 << shift) / acc_max))
        rnd = (1 << (shift - 1)) if shift else 0
        if acc_max * mult + rnd > _I32[1] or mult >= (1 << 31):
            continue
        err = abs(acc_max * mult / (1 << shift) - target)
        if best is None or err < best[0]:
            best = (err, mult, shift)
    assert best is not None, "shift 0, mult 1 always fits for acc_max < 2^31"
    return Requant(mult=best[1], shift=best[2])


def quantize_weights(w: np.ndarray) -> tuple[np.ndarray, float]:
    """Symmetric per-tensor int8 quantization: ``q = clip(round_half_even(w / s), -127, 127)``.

    Returns ``(q, s)`` with ``s = max|w| / 127`` as a Python float, computed in float64 whatever
    ``w``'s float dtype.  An all-zero tensor (e.g. a fully pruned layer) gets ``s = 1.0``: every
    scale quantizes it to zeros, and 1.0 dequantizes them exactly.

    Raises
    ------
    TypeError
        ``w`` is not a float numpy array.
    ValueError
        ``w`` is empty (there is no scale to derive), holds NaN or ±inf, or is so small that
        ``max|w| / 127`` underflows to 0 (subnormal weights).
    """
    if not isinstance(w, np.ndarray) or not np.issubdtype(w.dtype, np.floating):
        raise TypeError(f"weights to quantize must be a float numpy array, not "
                        f"{getattr(w, 'dtype', type(w).__name__)}")
    if w.size == 0:
        raise ValueError(f"weights to quantize are empty (shape {w.shape}); a scale needs data")
    if not np.isfinite(w).all():
        raise ValueError("weights to quantize contain NaN or inf")
    w64 = w.astype(np.float64)
    amax = float(np.abs(w64).max())
    if amax == 0:
        return np.zeros(w.shape, dtype=np.int8), 1.0
    s = amax / 127.0
    if s == 0:
        raise ValueError(f"weights to quantize are too small: max|w| = {amax!r} gives the scale "
                         "max|w| / 127 = 0 (float64 underflow)")
    return np.clip(np.round(w64 / s), -127, 127).astype(np.int8), s


def quantize_activations(x: np.ndarray, scale: float) -> np.ndarray:
    """Unsigned (post-ReLU) activations: ``q = clip(round_half_even(x / scale), 0, 255)``.

    Computed in float64 whatever ``x``'s float dtype; any shape (empty in, empty out).

    Raises
    ------
    TypeError
        ``x`` is not a float numpy array, or ``scale`` not a real number (bool is not).
    ValueError
        ``x`` holds NaN or ±inf (saturating them would hide a broken input), or ``scale`` is
        not a finite number > 0.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"activations to quantize must be a float numpy array, not "
                        f"{getattr(x, 'dtype', type(x).__name__)}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise TypeError(f"activation scale must be a real number, not {type(scale).__name__} "
                        f"{short(scale)}")
    if not np.isfinite(scale):
        raise ValueError(f"activation scale must be a finite number, not {scale!r}")
    if not scale > 0:
        raise ValueError(f"activation scale must be > 0, not {scale!r}")
    if not np.isfinite(x).all():
        i = tuple(int(v) for v in np.argwhere(~np.isfinite(x))[0])
        raise ValueError(f"activations to quantize contain NaN or inf ({x[i]} at index {i})")
    q = np.round(x.astype(np.float64) / float(scale))
    return np.clip(q, 0, 255).astype(np.uint8)
