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

Only canonical images exist: :class:`NMImage` checks, once, when it is built, that its bytes are
exactly what :func:`compress` writes for some matrix (padding bytes 0, every index inside its
block, the slots of a block at distinct ascending positions, zero weights in the columns beyond
K, filler slots at the lowest free positions), raises ``ValueError`` naming the row and the rule
otherwise, and keeps a read-only copy of the bytes.  So ``compress(decompress(img), pattern)``
reproduces every image byte for byte, and no kernel ever walks a malformed one.

The activation buffer a row is applied to must hold ``k_pad`` bytes; the padding bytes never
affect a result because their weights are 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from . import xdec_spec as spec
from ._checks import as_int, check_type

__all__ = [
    "PATTERNS",
    "NMImage",
    "Pattern",
    "check_image",
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
        n, m = as_int("N:M pattern N", self.n), as_int("N:M pattern M", self.m)
        if (n, m) not in spec.PATTERNS:
            raise ValueError(
                f"N:M pattern must be one of {[f'{n}:{m}' for n, m in spec.PATTERNS]}, "
                f"not {n!r}:{m!r}")
        object.__setattr__(self, "n", n)  # a numpy integer becomes an int
        object.__setattr__(self, "m", m)

    @classmethod
    def parse(cls, text: str) -> Pattern:
        """Parse ``"1:8"`` (``TypeError`` for a non-str, ``ValueError`` for anything else)."""
        check_type("pattern text", text, str, "a str like '1:8'")
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
    k = as_int("K", k, 1, rule="a positive integer")
    check_type("pattern", pattern, Pattern)
    q = pattern.k_quantum
    return -(-k // q) * q


@dataclass(frozen=True, eq=False)
class NMImage:
    """A compressed weight matrix: its byte image and the geometry needed to walk it.

    Building one checks that ``data`` is a canonical image of ``rows`` × ``k`` weights (see the
    module docstring; ``ValueError`` naming the row and the rule otherwise) and keeps a
    read-only copy of it: an ``NMImage`` is always a valid input to :func:`decompress`, the
    kernels and the hardware.

    Raises
    ------
    TypeError
        ``pattern`` is not a :class:`Pattern`, ``rows`` or ``k`` not an integer, ``data`` not a
        numpy uint8 array.
    ValueError
        ``rows`` or ``k`` < 1, ``data`` not 1-D of ``rows · row_stride`` bytes, or not canonical.
    """

    pattern: Pattern
    rows: int
    k: int
    data: np.ndarray

    def __post_init__(self) -> None:
        check_type("image pattern", self.pattern, Pattern)
        object.__setattr__(self, "rows", as_int("image rows", self.rows, 1,
                                                rule="a positive integer"))
        object.__setattr__(self, "k", as_int("image K", self.k, 1, rule="a positive integer"))
        data = self.data
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
            raise TypeError(f"image data must be a numpy uint8 array, not "
                            f"{getattr(data, 'dtype', type(data).__name__)}")
        if data.ndim != 1:
            raise ValueError(f"image data must be a 1-D byte array, not shape {data.shape}")
        if data.size != self.rows * self.row_stride:
            raise ValueError(f"image of {self.rows} rows needs {self.rows * self.row_stride} "
                             f"bytes, not {data.size}")
        if data.flags.writeable or data.base is not None:  # else it is already a frozen copy
            data = data.copy()
            data.flags.writeable = False
        object.__setattr__(self, "data", data)
        _check_canonical(self)

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
        """Position inside its block of every NZ slot, shape (rows, nnz_row) (read-only)."""
        b, ub = self.pattern.index_bits, self.index_unit_bytes
        rec = self.data.reshape(self.rows, self.row_stride)
        raw = rec[:, self.nnz_row:self.nnz_row + self.index_bytes_row].astype(np.int64)
        units = (raw.reshape(self.rows, self.groups_row, ub) << (8 * np.arange(ub))).sum(axis=2)
        out = (units[:, :, None] >> (b * np.arange(4))) & ((1 << b) - 1)
        out = out.reshape(self.rows, self.nnz_row)
        out.flags.writeable = False
        return out

    def columns(self) -> np.ndarray:
        """Column (position along K) of every NZ slot, shape (rows, nnz_row)."""
        j = np.arange(self.nnz_row)
        return (j // self.pattern.n) * self.pattern.m + self.indices

    def _check_row(self, r: int) -> None:
        r = as_int("row", r)
        if not 0 <= r < self.rows:
            raise IndexError(f"row must be in 0..{self.rows - 1}, not {r!r}")


def check_image(img: object) -> None:
    """Raise ``TypeError`` unless ``img`` is an :class:`NMImage` (hence a canonical image)."""
    if not isinstance(img, NMImage):
        raise TypeError(f"expected an NMImage, not {type(img).__name__}")


def _check_canonical(img: NMImage) -> None:
    """Raise ``ValueError`` naming the row and the rule unless ``img`` is what compress writes.

    Vectorised over the whole image; the rules are checked in the order of docs/format.md and
    the first violation (lowest row, then slot) of the first broken rule is reported.
    """
    n, m, k = img.pattern.n, img.pattern.m, img.k
    rows, nnz, stride = img.rows, img.nnz_row, img.row_stride
    rec = img.data.reshape(rows, stride)

    def first(bad: np.ndarray) -> tuple[int, ...]:
        return tuple(int(i) for i in np.argwhere(bad)[0])

    tail = rec[:, nnz + img.index_bytes_row:]
    if tail.any():
        r, o = first(tail != 0)
        raise ValueError(f"row {r}: byte {nnz + img.index_bytes_row + o} of the row record is "
                         f"0x{int(tail[r, o]):02X}; the padding after the index units must be 0")
    idx = img.indices
    if (idx >= m).any():
        r, j = first(idx >= m)
        raise ValueError(f"row {r} slot {j}: index {int(idx[r, j])} is outside a block of {m} "
                         "(the top bit of an M = 8 index field is reserved and must be 0)")
    pos = idx.reshape(rows, -1, n)
    if n > 1:
        step = np.diff(pos, axis=2)
        if (step <= 0).any():
            r, b, _ = first(step <= 0)
            p = [int(x) for x in pos[r, b]]
            what = (f"two slots at the same position {p[0]}" if len(set(p)) < n else
                    f"slot positions {', '.join(map(str, p))} are not ascending")
            raise ValueError(f"row {r} block {b}: {what}; the slots of a block must be at "
                             "distinct positions in ascending order")
    vals = rec[:, :nnz].view(np.int8)
    cols = img.columns()
    beyond = (cols >= k) & (vals != 0)
    if beyond.any():
        r, j = first(beyond)
        raise ValueError(f"row {r} slot {j}: weight {int(vals[r, j])} at column {int(cols[r, j])}"
                         f": the image has non-zero weights in the padding beyond K = {k} "
                         "(padding columns hold zero weights)")
    # Filler slots (value 0) take the lowest positions no non-zero of the block holds.
    nz = vals.reshape(rows, -1, n) != 0
    occupied = np.zeros((rows, pos.shape[1], m), dtype=bool)
    np.put_along_axis(occupied, pos, nz, axis=2)
    free = ~occupied
    fillers = n - nz.sum(axis=2, keepdims=True)
    canonical = occupied | (free & (np.cumsum(free, axis=2) <= fillers))
    held = np.zeros_like(occupied)
    np.put_along_axis(held, pos, True, axis=2)
    wrong = (held != canonical).any(axis=2)
    if wrong.any():
        r, b = first(wrong)
        got = sorted(int(p) for p, z in zip(pos[r, b], nz[r, b], strict=True) if not z)
        want = [int(p) for p in np.flatnonzero(canonical[r, b] & free[r, b])]
        raise ValueError(f"row {r} block {b}: filler slot(s) (value 0) at position(s) {got}, "
                         f"canonical {want}: a block with fewer than {n} non-zeros fills its "
                         "other slots with the lowest positions no non-zero holds")


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
    check_type("pattern", pattern, Pattern)
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
    check_type("pattern", pattern, Pattern)
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
    vals = np.take_along_axis(blocks, pos, axis=2).reshape(rows, -1)
    nnz = vals.shape[1]
    ub = pattern.index_unit_bytes
    units = (pos.reshape(rows, -1, 4) << (b * np.arange(4))).sum(axis=2)  # (rows, groups)
    index_bytes = (units[:, :, None] >> (8 * np.arange(ub))) & 0xFF  # little endian
    stride = _row_stride(w.shape[1], pattern)
    data = np.zeros((rows, stride), dtype=np.uint8)
    data[:, :nnz] = vals.view(np.uint8)
    data[:, nnz:nnz + index_bytes[0].size] = index_bytes.reshape(rows, -1)
    data = data.reshape(-1)
    data.flags.writeable = False
    return NMImage(pattern=pattern, rows=rows, k=w.shape[1], data=data)


def _row_stride(k: int, pattern: Pattern) -> int:
    nnz = padded_k(k, pattern) // pattern.m * pattern.n
    return _align4(nnz + nnz // 4 * pattern.index_unit_bytes)


def decompress(img: NMImage) -> np.ndarray:
    """Exact inverse of :func:`compress`: the dense int8 matrix of shape (rows, K).

    Raises ``TypeError`` if ``img`` is not an :class:`NMImage`.  (A malformed image cannot
    exist: building the ``NMImage`` rejects it.)
    """
    check_image(img)
    dense = np.zeros((img.rows, img.k_pad), dtype=np.int8)
    vals = img.data.reshape(img.rows, img.row_stride)[:, :img.nnz_row].view(np.int8)
    np.put_along_axis(dense, img.columns(), vals, axis=1)
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
    rows = as_int("rows", rows, 1, rule="a positive integer")
    k = as_int("K", k, 1, rule="a positive integer")
    check_type("pattern", pattern, Pattern)
    return Footprint(pattern=pattern, rows=rows, k=k, dense_bytes=rows * k,
                     sparse_bytes=rows * _row_stride(k, pattern))
