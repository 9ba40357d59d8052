"""Magnitude N:M pruning along the reduction dimension K.

Rule: in every block of M consecutive weights along K, keep the N of largest magnitude and zero
the rest; ties are broken towards the lower position (stable).  A last block shorter than M (K
not a multiple of M) is pruned as if it were zero-padded to M: it keeps at most N weights, so the
result always compresses (``nm_format.compress`` pads K with zero weights the same way).

Convolution weights are pruned as the matrix the kernels use: ``(Cout, kh, kw, Cin)`` (HWC
order) reshaped to ``(Cout, kh·kw·Cin)``, see :func:`conv_weight_matrix`.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_type
from .nm_format import Pattern

__all__ = ["conv_weight_matrix", "ohwi_from_oihw", "prune_nm"]


def prune_nm(w: np.ndarray, pattern: Pattern) -> np.ndarray:
    """Return a copy of ``w`` (rows, K), float or integer, pruned to ``pattern`` along K.

    Magnitudes are compared exactly in ``w``'s own dtype (int64 and uint64 weights too, not
    through float64).

    Raises
    ------
    TypeError
        ``w`` is not a numpy array of a real numeric dtype (bool, complex, object are not), or
        ``pattern`` is not a :class:`Pattern`.
    ValueError
        ``w`` is not 2-D or is empty, or holds NaN or ±inf (magnitude pruning needs finite
        values, and no later step can quantize an infinite weight).
    """
    if not isinstance(w, np.ndarray):
        raise TypeError(f"weights must be a numpy array, not {type(w).__name__}")
    if not (np.issubdtype(w.dtype, np.integer) or np.issubdtype(w.dtype, np.floating)):
        raise TypeError(f"weights must be integer or float, not {w.dtype}")
    if w.ndim != 2 or 0 in w.shape:
        raise ValueError(f"weights must be a non-empty 2-D (rows, K) matrix, not shape {w.shape}")
    if np.issubdtype(w.dtype, np.floating) and not np.isfinite(w).all():
        bad = "NaN" if np.isnan(w).any() else "inf"
        r, c = (int(i) for i in np.argwhere(~np.isfinite(w))[0])
        raise ValueError(f"weights contain {bad} (first non-finite: {w[r, c]} at row {r}, "
                         f"column {c}); magnitude pruning needs finite values")
    check_type("pattern", pattern, Pattern)
    rows, k = w.shape
    m, n = pattern.m, pattern.n
    kb = -(-k // m) * m
    padded = np.zeros((rows, kb), dtype=w.dtype)
    padded[:, :k] = w
    blocks = padded.reshape(rows, -1, m)
    mag = _magnitude(blocks)
    # Rank by magnitude descending, position ascending: a stable ascending sort of the reversed
    # block puts, among equal magnitudes, the higher position first; reversing the order again
    # gives magnitude descending with ties to the lower position (and works for unsigned mag).
    order = (m - 1) - np.argsort(mag[:, :, ::-1], axis=2, kind="stable")[:, :, ::-1]
    keep = np.zeros_like(blocks, dtype=bool)
    np.put_along_axis(keep, order[:, :, :n], True, axis=2)
    out = np.where(keep, blocks, 0).reshape(rows, kb)[:, :k]
    return out.astype(w.dtype, copy=True)


def _magnitude(x: np.ndarray) -> np.ndarray:
    """Exact |x|: floats in their own dtype, integers as uint64 (|-2^63| = 2^63 fits)."""
    if np.issubdtype(x.dtype, np.floating):
        return np.abs(x)
    if np.issubdtype(x.dtype, np.unsignedinteger):
        return x.astype(np.uint64)
    v = x.astype(np.int64)
    return np.where(v < 0, ~v.view(np.uint64) + np.uint64(1), v.view(np.uint64))


def conv_weight_matrix(w_ohwi: np.ndarray) -> np.ndarray:
    """Reshape conv weights ``(Cout, kh, kw, Cin)`` to the kernel matrix ``(Cout, kh·kw·Cin)``.

    Any dtype; ``TypeError`` for a non-array, ``ValueError`` unless 4-D and non-empty.
    """
    _check_4d(w_ohwi, "(Cout, kh, kw, Cin)")
    return w_ohwi.reshape(w_ohwi.shape[0], -1).copy()


def ohwi_from_oihw(w_oihw: np.ndarray) -> np.ndarray:
    """Convert PyTorch-layout conv weights ``(Cout, Cin, kh, kw)`` to ``(Cout, kh, kw, Cin)``.

    Any dtype; ``TypeError`` for a non-array, ``ValueError`` unless 4-D and non-empty.
    """
    _check_4d(w_oihw, "(Cout, Cin, kh, kw)")
    return np.ascontiguousarray(w_oihw.transpose(0, 2, 3, 1))


def _check_4d(w: object, layout: str) -> None:
    if not isinstance(w, np.ndarray):
        raise TypeError(f"conv weights must be a numpy array, not {type(w).__name__}")
    if w.ndim != 4 or 0 in w.shape:
        raise ValueError(f"conv weights must be a non-empty 4-D {layout} array, not shape "
                         f"{w.shape}")
