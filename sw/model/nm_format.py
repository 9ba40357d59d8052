"""N:M compressed weight format: the exact memory image the kernels and the hardware walk.

Layout (normative; ``docs/format.md`` describes the same thing with a worked example):

* A dense int8 weight matrix ``w[rows, K]`` (rows = output channels, K = reduction dimension) is
  padded along K with zero weights to ``k_pad``, the next multiple of ``4·M/N``, so that every row
  holds a whole number of *groups* of 4 non-zero (NZ) slots (one 32-bit weight word each).
* Each block of M consecutive weights keeps exactly N slots.  A block with fewer than N non-zero
  weights fills the remaining slots with the lowest unused positions holding value 0 (canonical
  form).  Slots of one block are in ascending position order.
* NZ ordinal ``j`` runs over the row: slot ``j`` belongs to block ``j div N``.
* One **row record** is, in order:

  1. ``nnz_row = k_pad / M · N`` value bytes (int8, NZ ordinal order; a multiple of 4, so the
     index part starts word aligned);
  2. ``groups_row = nnz_row / 4`` *index units*, one per group of 4 NZ slots, each
     ``index_unit_bytes`` wide (1 byte for M = 4: four 2-bit fields; 2 bytes for M = 8, 16: four
     4-bit fields), little endian; the field of lane ``l`` (slot ``4g + l``) is at bits
     ``[b·l, b·l + b)``;
  3. zero padding up to a multiple of 4 bytes.

* Rows follow each other at ``row_stride`` bytes; the image starts at offset 0 (word aligned).
  Values and indices of one row are interleaved in one record so that one DMA moves both.

The activation buffer a row is applied to must hold ``k_pad`` bytes; the padding bytes never
affect a result because their weights are 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from . import xdec_spec as spec

__all__ = [
    "PATTERNS",
    "NMImage",
    "Pattern",
    "compress",
    "decompress",
    "footprint",
    "is_nm",
    "padded_k",
]


@dataclass(frozen=True)
class Pattern:
    """An N:M sparsity pattern: at most ``n`` non-zeros in every block of ``m`` weights."""

    n: int
    m: int

    def __post_init__(self) -> None:
        if (self.n, self.m) not in spec.PATTERNS:
            raise ValueError(
                f"N:M pattern must be one of {[f'{n}:{m}' for n, m in spec.PATTERNS]}, "
                f"not {self.n!r}:{self.m!r}")

    @classmethod
    def parse(cls, text: str) -> Pattern:
        """Parse ``"1:8"``."""
        try:
            n, m = (int(t) for t in text.split(":"))
        except ValueError:
            raise ValueError(f"pattern must look like 'N:M', not {text!r}") from None
        return cls(n, m)

    @property
    def index_bits(self) -> int:
        """Width b of one packed index field."""
        return spec.INDEX_BITS[self.m]

    @property
    def index_unit_bytes(self) -> int:
        """Bytes of one index unit (four fields)."""
        return 4 * self.index_bits // 8

    @property
    def k_quantum(self) -> int:
        """K is padded to a multiple of this: one group of 4 NZ slots spans 4·M/N weights."""
        return 4 * self.m // self.n

    def __str__(self) -> str:
        return f"{self.n}:{self.m}"


#: Every supported pattern, in the spec table's order.
PATTERNS: tuple[Pattern, ...] = tuple(Pattern(n, m) for n, m in spec.PATTERNS)


def padded_k(k: int, pattern: Pattern) -> int:
    """K rounded up to a whole number of groups (multiple of 4·M/N); K must be ≥ 1."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"K must be a positive integer, not {k!r}")
    q = pattern.k_quantum
    return -(-int(k) // q) * q


@dataclass(frozen=True, eq=False)
class NMImage:
    """A compressed weight matrix: its byte image and the geometry needed to walk it."""

    pattern: Pattern
    rows: int
    k: int
    data: np.ndarray

    def __post_init__(self) -> None:
        if not isinstance(self.data, np.ndarray) or self.data.dtype != np.uint8:
            raise TypeError(f"image data must be a numpy uint8 array, not {type(self.data)!r}")
        if self.data.ndim != 1 or self.data.size != self.rows * self.row_stride:
            raise ValueError(f"image of {self.rows} rows needs {self.rows * self.row_stride} "
                             f"bytes, not {self.data.size!r}")

    @property
    def k_pad(self) -> int:
        return padded_k(self.k, self.pattern)

    @property
    def nnz_row(self) -> int:
        """NZ slots per row (a multiple of 4)."""
        return self.k_pad // self.pattern.m * self.pattern.n

    @property
    def groups_row(self) -> int:
        return self.nnz_row // 4

    @property
    def index_unit_bytes(self) -> int:
        return self.pattern.index_unit_bytes

    @property
    def index_bytes_row(self) -> int:
        return self.groups_row * self.index_unit_bytes

    @property
    def row_stride(self) -> int:
        return _align4(self.nnz_row + self.index_bytes_row)

    @property
    def nbytes(self) -> int:
        return self.data.size

    def row_offset(self, r: int) -> int:
        self._check_row(r)
        return r * self.row_stride

    def values_offset(self, r: int) -> int:
        return self.row_offset(r)

    def index_offset(self, r: int) -> int:
        return self.row_offset(r) + self.nnz_row

    def values(self, r: int) -> np.ndarray:
        """NZ values of row ``r`` (int8, NZ ordinal order, padding slots included)."""
        o = self.values_offset(r)
        return self.data[o:o + self.nnz_row].view(np.int8)

    def index_units(self, r: int) -> list[int]:
        """Index units of row ``r``: one integer per group of 4 NZ slots."""
        o = self.index_offset(r)
        raw = self.data[o:o + self.index_bytes_row]
        return [int.from_bytes(raw[i:i + self.index_unit_bytes].tobytes(), "little")
                for i in range(0, raw.size, self.index_unit_bytes)]

    @cached_property
    def indices(self) -> np.ndarray:
        """Position inside its block of every NZ slot, shape (rows, nnz_row)."""
        b = self.pattern.index_bits
        out = np.empty((self.rows, self.nnz_row), dtype=np.int64)
        for r in range(self.rows):
            for g, unit in enumerate(self.index_units(r)):
                for lane in range(4):
                    out[r, 4 * g + lane] = (unit >> (b * lane)) & ((1 << b) - 1)
        return out

    def columns(self) -> np.ndarray:
        """Column (position along K) of every NZ slot, shape (rows, nnz_row)."""
        j = np.arange(self.nnz_row)
        return (j // self.pattern.n) * self.pattern.m + self.indices

    def _check_row(self, r: int) -> None:
        if not isinstance(r, (int, np.integer)) or not 0 <= r < self.rows:
            raise IndexError(f"row must be in 0..{self.rows - 1}, not {r!r}")


def _align4(x: int) -> int:
    return (x + 3) & ~3


def _check_matrix(w: np.ndarray, what: str = "weights") -> None:
    if not isinstance(w, np.ndarray):
        raise TypeError(f"{what} must be a numpy array, not {type(w).__name__}")
    if w.dtype != np.int8:
        raise TypeError(f"{what} must have dtype int8, not {w.dtype}")
    if w.ndim != 2 or 0 in w.shape:
        raise ValueError(f"{what} must be a non-empty 2-D (rows, K) matrix, not shape {w.shape}")


def _blocks(w: np.ndarray, pattern: Pattern) -> np.ndarray:
    """(rows, k_pad / M, M) view of ``w`` zero-padded to k_pad."""
    rows, k = w.shape
    wp = np.zeros((rows, padded_k(k, pattern)), dtype=w.dtype)
    wp[:, :k] = w
    return wp.reshape(rows, -1, pattern.m)


def is_nm(w: np.ndarray, pattern: Pattern) -> bool:
    """True if every block of M weights along K has at most N non-zeros."""
    _check_matrix(w)
    return bool(((_blocks(w, pattern) != 0).sum(axis=2) <= pattern.n).all())


def compress(w: np.ndarray, pattern: Pattern) -> NMImage:
    """Compress an N:M-sparse int8 matrix into its memory image.

    Parameters
    ----------
    w : int8 array of shape (rows, K); every block of M weights along K (the last one zero-padded)
        must have at most N non-zeros.
    pattern : the N:M pattern.

    Raises
    ------
    TypeError
        ``w`` is not an int8 numpy array.
    ValueError
        ``w`` is not 2-D, or some block has more than N non-zeros (the first such block is named).
    """
    _check_matrix(w)
    if not isinstance(pattern, Pattern):
        raise TypeError(f"pattern must be a Pattern, not {pattern!r}")
    n, m, b = pattern.n, pattern.m, pattern.index_bits
    blocks = _blocks(w, pattern)
    nzcount = (blocks != 0).sum(axis=2)
    bad = np.argwhere(nzcount > n)
    if bad.size:
        r, blk = (int(x) for x in bad[0])
        raise ValueError(
            f"weights are not {pattern}-sparse: row {r}, block {blk} (K columns "
            f"{blk * m}..{blk * m + m - 1}) has {int(nzcount[r, blk])} non-zeros, at most {n} "
            f"allowed; prune with xdecimate.sw.model.prune.prune_nm first")
    # Canonical slot positions: non-zero positions first (by position), then the lowest unused
    # zero positions; then sort the N kept positions ascending.
    rows = w.shape[0]
    key = np.where(blocks != 0, 0, 1) * m + np.arange(m)  # non-zeros first, ties by position
    pos = np.sort(np.argsort(key, axis=2, kind="stable")[:, :, :n], axis=2)
    vals = np.take_along_axis(blocks, pos, axis=2)
    pos = pos.reshape(rows, -1)
    vals = vals.reshape(rows, -1)
    img = NMImage(pattern=pattern, rows=rows, k=w.shape[1],
                  data=np.zeros(rows * _row_stride(w.shape[1], pattern), dtype=np.uint8))
    nnz, ub = img.nnz_row, img.index_unit_bytes
    lanes = np.arange(4)
    for r in range(rows):
        o = img.row_offset(r)
        img.data[o:o + nnz] = vals[r].view(np.uint8)
        units = (pos[r].reshape(-1, 4) << (b * lanes)).sum(axis=1)
        packed = np.array([int(u).to_bytes(ub, "little") for u in units], dtype=f"S{ub}")
        img.data[o + nnz:o + nnz + img.index_bytes_row] = np.frombuffer(packed.tobytes(),
                                                                       dtype=np.uint8)
    return img


def _row_stride(k: int, pattern: Pattern) -> int:
    nnz = padded_k(k, pattern) // pattern.m * pattern.n
    return _align4(nnz + nnz // 4 * pattern.index_unit_bytes)


def decompress(img: NMImage) -> np.ndarray:
    """Exact inverse of :func:`compress`: the dense int8 matrix of shape (rows, K).

    Raises ``ValueError`` if the image is malformed: an index outside the block, two slots of a
    block at the same position, or a non-zero value in a padded column beyond K.
    """
    if not isinstance(img, NMImage):
        raise TypeError(f"expected an NMImage, not {type(img).__name__}")
    m, n = img.pattern.m, img.pattern.n
    idx = img.indices
    if (idx >= m).any():
        r, j = (int(x) for x in np.argwhere(idx >= m)[0])
        raise ValueError(f"row {r} slot {j}: index {int(idx[r, j])} is outside a block of {m}")
    if n > 1:
        blk = idx.reshape(img.rows, -1, n)
        dup = (np.diff(np.sort(blk, axis=2), axis=2) == 0).any(axis=2)
        if dup.any():
            r, b = (int(x) for x in np.argwhere(dup)[0])
            raise ValueError(f"row {r} block {b}: two slots at the same position {blk[r, b]}")
    dense = np.zeros((img.rows, img.k_pad), dtype=np.int8)
    cols = img.columns()
    for r in range(img.rows):
        dense[r, cols[r]] = img.values(r)
    if (dense[:, img.k:] != 0).any():
        raise ValueError(f"image has non-zero weights in the padding beyond K = {img.k}")
    return dense[:, :img.k].copy()


@dataclass(frozen=True)
class Footprint:
    """Memory footprint of a (rows, K) int8 layer, dense vs compressed."""

    pattern: Pattern
    rows: int
    k: int
    dense_bytes: int
    sparse_bytes: int

    @property
    def saving(self) -> float:
        """Fraction of dense bytes saved (paper: 68.75 / 81.25 / 90.625 % for 1:4 / 1:8 / 1:16)."""
        return 1.0 - self.sparse_bytes / self.dense_bytes


def footprint(rows: int, k: int, pattern: Pattern) -> Footprint:
    """Bytes of the dense int8 matrix and of its compressed image (no data needed)."""
    if not isinstance(rows, (int, np.integer)) or rows < 1:
        raise ValueError(f"rows must be a positive integer, not {rows!r}")
    return Footprint(pattern=pattern, rows=int(rows), k=int(k), dense_bytes=int(rows) * int(k),
                     sparse_bytes=int(rows) * _row_stride(k, pattern))
