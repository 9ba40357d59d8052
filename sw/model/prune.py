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

from .nm_format import Pattern

__all__ = ["conv_weight_matrix", "ohwi_from_oihw", "prune_nm"]


def prune_nm(w: np.ndarray, pattern: Pattern) -> np.ndarray:
    """Return a copy of ``w`` (rows, K), float or integer, pruned to ``pattern`` along K.

    Raises
    ------
    TypeError
        ``w`` is not a numpy array of a real numeric dtype.
    ValueError
        ``w`` is not 2-D or is empty, or holds NaN.
    """
    if not isinstance(w, np.ndarray):
        raise TypeError(f"weights must be a numpy array, not {type(w).__name__}")
    if not (np.issubdtype(w.dtype, np.integer) or np.issubdtype(w.dtype, np.floating)):
        raise TypeError(f"weights must be integer or float, not {w.dtype}")
    if w.ndim != 2 or 0 in w.shape:
        raise ValueError(f"weights must be a non-empty 2-D (rows, K) matrix, not shape {w.shape}")
    if np.issubdtype(w.dtype, np.floating) and np.isnan(w).any():
        raise ValueError("weights contain NaN; magnitude pruning needs real values")
    if not isinstance(pattern, Pattern):
        raise TypeError(f"pattern must be a Pattern, not {pattern!r}")
    rows, k = w.shape
    m, n = pattern.m, pattern.n
    kb = -(-k // m) * m
    padded = np.zeros((rows, kb), dtype=w.dtype)
    padded[:, :k] = w
    blocks = padded.reshape(rows, -1, m)
    mag = np.abs(blocks.astype(np.float64))
    # Rank by magnitude descending, position ascending (stable sort on -mag).
    order = np.argsort(-mag, axis=2, kind="stable")
    keep = np.zeros_like(blocks, dtype=bool)
    np.put_along_axis(keep, order[:, :, :n], True, axis=2)
    out = np.where(keep, blocks, 0).reshape(rows, kb)[:, :k]
    return out.astype(w.dtype, copy=True)


def conv_weight_matrix(w_ohwi: np.ndarray) -> np.ndarray:
    """Reshape conv weights ``(Cout, kh, kw, Cin)`` to the kernel matrix ``(Cout, kh·kw·Cin)``."""
    if not isinstance(w_ohwi, np.ndarray) or w_ohwi.ndim != 4:
        raise ValueError("conv weights must be a 4-D (Cout, kh, kw, Cin) array, not "
                         f"{getattr(w_ohwi, 'shape', type(w_ohwi).__name__)!r}")
    return w_ohwi.reshape(w_ohwi.shape[0], -1).copy()


def ohwi_from_oihw(w_oihw: np.ndarray) -> np.ndarray:
    """Convert PyTorch-layout conv weights ``(Cout, Cin, kh, kw)`` to ``(Cout, kh, kw, Cin)``."""
    if not isinstance(w_oihw, np.ndarray) or w_oihw.ndim != 4:
        raise ValueError("conv weights must be a 4-D (Cout, Cin, kh, kw) array, not "
                         f"{getattr(w_oihw, 'shape', type(w_oihw).__name__)!r}")
    return np.ascontiguousarray(w_oihw.transpose(0, 2, 3, 1))
