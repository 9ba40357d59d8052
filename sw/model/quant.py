"""Quantization: int8 weights, uint8 activations, int32 accumulators, PULP-NN-style requant.

Requantization (normative; ``docs/quantization.md``)::

    t = acc · mult + (2^(shift-1) if shift > 0 else 0)     # exact integer arithmetic
    y = clip(t >> shift, 0, 255)                           # arithmetic shift (floor), ReLU clip

with ``acc`` the int32 accumulator (bias included), ``1 ≤ mult < 2^31`` and ``0 ≤ shift ≤ 31``
per tensor.  ``t`` must fit in int32 -- the C kernels compute it in 32-bit registers -- so
:func:`requantize` raises ``OverflowError`` naming the accumulator that does not fit instead of
wrapping.  :func:`choose_requant` picks parameters that never overflow for a given accumulator
range.  The rounding is "round half up" (towards +inf) of ``acc·mult / 2^shift``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Requant", "choose_requant", "quantize_activations", "quantize_weights", "requantize"]

_I32 = (-(1 << 31), (1 << 31) - 1)


@dataclass(frozen=True)
class Requant:
    """Per-tensor requantization parameters: ``y = clip((acc·mult + rnd) >> shift, 0, 255)``."""

    mult: int
    shift: int

    def __post_init__(self) -> None:
        if not isinstance(self.mult, (int, np.integer)) or not 1 <= self.mult < (1 << 31):
            raise ValueError(f"requant mult must be an integer in 1..2^31-1, not {self.mult!r}")
        if not isinstance(self.shift, (int, np.integer)) or not 0 <= self.shift <= 31:
            raise ValueError(f"requant shift must be an integer in 0..31, not {self.shift!r}")

    @property
    def rounding(self) -> int:
        return (1 << (self.shift - 1)) if self.shift > 0 else 0


def requantize(acc: np.ndarray, rq: Requant) -> np.ndarray:
    """Requantize int32 accumulators to uint8 (bit-exact with the C kernels).

    Raises
    ------
    TypeError
        ``acc`` is not an int32 array.
    OverflowError
        ``acc·mult + rounding`` leaves int32 for some accumulator (the first is named).
    """
    if not isinstance(acc, np.ndarray) or acc.dtype != np.int32:
        raise TypeError(f"accumulators must be an int32 numpy array, not "
                        f"{getattr(acc, 'dtype', type(acc).__name__)}")
    t = acc.astype(np.int64) * int(rq.mult) + rq.rounding
    bad = (t < _I32[0]) | (t > _I32[1])
    if bad.any():
        a = int(acc[bad].flat[0])
        raise OverflowError(f"requantization overflows int32: acc {a} · mult {rq.mult} + "
                            f"{rq.rounding} = {a * rq.mult + rq.rounding}; use a smaller mult "
                            f"(choose_requant)")
    return np.clip(t >> rq.shift, 0, 255).astype(np.uint8)


def choose_requant(acc_max: int, *, target: int = 255, max_shift: int = 24) -> Requant:
    """Parameters mapping accumulator ``acc_max`` (> 0) to about ``target`` without overflow.

    Among the shifts 0..``max_shift`` whose multiplier keeps ``|acc|·mult + rnd`` in int32 for
    every ``|acc| ≤ acc_max``, picks the one with the smallest scaling error
    ``|acc_max·mult/2^shift − target|`` (ties: the larger shift, i.e. the more precise scale).
    """
    if not isinstance(acc_max, (int, np.integer)) or acc_max < 1:
        raise ValueError(f"acc_max must be a positive integer, not {acc_max!r}")
    if not 1 <= target <= 255:
        raise ValueError(f"target must be in 1..255, not {target!r}")
    best: tuple[float, int, int] | None = None
    for shift in range(max_shift, -1, -1):
        mult = max(1, round(target * (1 << shift) / int(acc_max)))
        rnd = (1 << (shift - 1)) if shift else 0
        if int(acc_max) * mult + rnd > _I32[1] or mult >= (1 << 31):
            continue
        err = abs(int(acc_max) * mult / (1 << shift) - target)
        if best is None or err < best[0]:
            best = (err, mult, shift)
    if best is None:
        raise ValueError(f"no requantization maps acc_max {acc_max!r} to {target} within int32")
    return Requant(mult=best[1], shift=best[2])


def quantize_weights(w: np.ndarray) -> tuple[np.ndarray, float]:
    """Symmetric per-tensor int8 quantization: ``q = clip(round_half_even(w / s), -127, 127)``.

    Returns ``(q, s)`` with ``s = max|w| / 127`` (``s = 1`` for an all-zero tensor).
    """
    if not isinstance(w, np.ndarray) or not np.issubdtype(w.dtype, np.floating):
        raise TypeError(f"weights to quantize must be a float numpy array, not "
                        f"{getattr(w, 'dtype', type(w).__name__)}")
    if not np.isfinite(w).all():
        raise ValueError("weights to quantize contain NaN or inf")
    amax = float(np.abs(w).max()) if w.size else 0.0
    s = amax / 127.0 if amax > 0 else 1.0
    return np.clip(np.round(w / s), -127, 127).astype(np.int8), s


def quantize_activations(x: np.ndarray, scale: float) -> np.ndarray:
    """Unsigned (post-ReLU) activations: ``q = clip(round_half_even(x / scale), 0, 255)``."""
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"activations to quantize must be a float numpy array, not "
                        f"{getattr(x, 'dtype', type(x).__name__)}")
    if not scale > 0:
        raise ValueError(f"activation scale must be > 0, not {scale!r}")
    return np.clip(np.round(x / scale), 0, 255).astype(np.uint8)
