"""Skip images: weights without their all-zero units, for the skipping kernels.

N:M weights (``xdec_skip``, ``xdec4_skip``): the unit is a group of 4 NZ slots of a row.  Dense
weights (``dense_4x2_skip``): the unit is one word (4 columns) of a quad of rows
(:func:`dense_skip_image`, at the end of this module).

What it is for: the approximate kernels (``xdec_skip``, ``xdec4_skip``; ``docs/kernels.md``,
"Group skipping") never visit a group of 4 NZ slots whose four values are all 0 -- the groups
an approximation (``sw/approx``) zeroed because they matter least, and any all-zero group a
pruned matrix happens to hold.  Since a skipped group contributes exactly 0, a skipping kernel
computes the same bits as the golden model on the (zeroed) matrix: the approximate golden model
is the golden model.

Layout (normative, ``docs/format.md`` "Skip image"): per row of the :class:`NMImage`, a record

1. ``nruns`` (u16) and ``vbytes`` (u16, = 4 × kept groups);
2. ``nruns`` runs, each ``g0`` (u16, the first group of the run in the full row) and ``n``
   (u16, groups in the run, ≥ 1): maximal runs of consecutive kept groups, ascending; at
   least one run per row (a row whose groups are all zero keeps its group 0: the kernels'
   hardware loops cannot run zero times, and a zero group adds 0);
3. the kept groups' value words (4 bytes each), in group order;
4. their index units (``index_unit_bytes`` each), in group order;
5. zero padding to a multiple of 4 bytes.

Records follow each other with no gap.  A kernel writes the ``xdec`` counter ``4·P·g0`` (P
pixel streams) before each run, so ``xdec.lb`` addresses the activations of the run's blocks.

May import: numpy and :mod:`.nm_format`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .nm_format import NMImage

__all__ = ["CNT_LIMIT", "DenseSkipImage", "SkipImage", "dense_skip_image", "dense_skip_matrix",
           "skip_image", "skip_matrix", "zero_groups", "zero_units"]

#: The ``xdec`` counter is 16 bits: a run's counter ``4·P·g`` (P = 4) must stay below it.
CNT_LIMIT = 1 << 16


def _align4(x: int) -> int:
    return -(-x // 4) * 4


def zero_groups(img: NMImage) -> np.ndarray:
    """bool (rows, groups_row): True where all four values of the group are 0."""
    if not isinstance(img, NMImage):
        raise TypeError(f"img must be an NMImage, not {type(img).__name__}")
    vals = np.stack([img.values(r) for r in range(img.rows)]) if img.rows else \
        np.zeros((0, img.nnz_row), np.int8)
    return (vals.reshape(img.rows, img.groups_row, 4) == 0).all(axis=2)


def _runs(keep: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs (g0, n) of True in a 1-D bool array."""
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    ends = np.concatenate((idx[breaks], [idx[-1]]))
    return [(int(s), int(e - s + 1)) for s, e in zip(starts, ends, strict=True)]


class _Runs:
    """What both skip images share: ``data`` (the bytes) and ``runs`` (per row or quad of rows,
    its runs ``(first unit, units)``)."""

    data: np.ndarray
    runs: tuple[tuple[tuple[int, int], ...], ...]

    @property
    def nbytes(self) -> int:
        return int(self.data.size)

    @property
    def kept(self) -> int:
        """Units the kernel visits (a row or quad of zero units visits one)."""
        return sum(n for row in self.runs for _, n in row)

    @property
    def total_runs(self) -> int:
        return sum(len(row) for row in self.runs)


@dataclass(frozen=True, eq=False)
class SkipImage(_Runs):
    """The bytes of a skip image and what the kernels and the reports need to know about it.

    Attributes
    ----------
    img : the N:M image it was made from.
    data : uint8 bytes (read-only), records back to back.
    runs : per row, the list of runs ``(g0, n)``.
    """

    img: NMImage
    data: np.ndarray
    runs: tuple[tuple[tuple[int, int], ...], ...]

    @property
    def kept_groups(self) -> int:
        """Groups the kernels visit (all rows; a row of zero groups visits one)."""
        return self.kept

    @property
    def skipped_groups(self) -> int:
        """Groups the kernels skip (all rows)."""
        return self.img.rows * self.img.groups_row - self.kept


def skip_image(img: NMImage) -> SkipImage:
    """The skip image of ``img``: its records without the all-zero groups (module docstring).

    Raises
    ------
    TypeError
        ``img`` is not an :class:`NMImage`.
    ValueError
        A row of more than 4096 groups (the counter ``16·g`` of a run would leave the 16-bit
        ``xdec`` counter with P = 4), named with its group count.
    """
    if not isinstance(img, NMImage):
        raise TypeError(f"img must be an NMImage, not {type(img).__name__}")
    if 16 * img.groups_row > CNT_LIMIT:
        raise ValueError(f"a row of {img.groups_row} groups needs xdec counter values up to "
                         f"16·{img.groups_row} with P = 4, beyond the 16-bit counter "
                         f"(at most {CNT_LIMIT // 16} groups per row)")
    zero = zero_groups(img)
    u = img.index_unit_bytes
    out = bytearray()
    all_runs = []
    for r in range(img.rows):
        keep = ~zero[r]
        if not keep.any():
            keep[0] = True  # one run per row at least (module docstring)
        runs = _runs(keep)
        all_runs.append(tuple(runs))
        kept = np.flatnonzero(keep)
        vals = img.values(r).view(np.uint8).reshape(img.groups_row, 4)[kept]
        off = img.index_offset(r)
        units = img.data[off:off + img.index_bytes_row].reshape(img.groups_row, u)[kept]
        rec = bytearray(np.array([len(runs), 4 * kept.size], "<u2").tobytes())
        rec += np.array(runs, "<u2").reshape(-1).tobytes()
        rec += vals.tobytes() + units.tobytes()
        rec += bytes(_align4(len(rec)) - len(rec))
        out += rec
    data = np.frombuffer(bytes(out), dtype=np.uint8)
    return SkipImage(img=img, data=data, runs=tuple(all_runs))


def skip_matrix(simg: SkipImage) -> np.ndarray:
    """The dense int8 (rows, K) matrix a skip image encodes, read back from its **bytes** alone
    (with the pattern and K of its image): the reference walk of the record layout.  Equal to
    ``decompress(simg.img)`` for every image (tested)."""
    img = simg.img
    pat, u = img.pattern, img.index_unit_bytes
    b = pat.index_bits
    w = np.zeros((img.rows, img.k_pad), np.int8)
    d = simg.data
    pos = 0
    for r in range(img.rows):
        nruns, vbytes = (int(v) for v in np.frombuffer(d[pos:pos + 4].tobytes(), "<u2"))
        runs = np.frombuffer(d[pos + 4:pos + 4 + 4 * nruns].tobytes(), "<u2").reshape(-1, 2)
        vpos = pos + 4 + 4 * nruns
        ipos = vpos + vbytes
        kept = vbytes // 4
        groups = [g for g0, n in runs for g in range(int(g0), int(g0) + int(n))]
        if len(groups) != kept:
            raise ValueError(f"row {r}: runs cover {len(groups)} groups, vbytes says {kept}")
        for i, g in enumerate(groups):
            unit = int.from_bytes(d[ipos + i * u:ipos + (i + 1) * u].tobytes(), "little")
            for lane in range(4):
                j = 4 * g + lane
                idx = (unit >> (b * lane)) & ((1 << b) - 1)
                col = (j // pat.n) * pat.m + idx % pat.m
                w[r, col] = np.int8(d[vpos + 4 * i + lane].view(np.int8))
        pos += _align4(4 + 4 * nruns + vbytes + kept * u)
    if pos != d.size:
        raise ValueError(f"records end at byte {pos}, the image has {d.size}")
    return w[:, :img.k]


# --------------------------------------------------------------------------------------------
# Dense weights: the unit is one word (4 columns) of a quad of rows (dense_4x2_skip)


@dataclass(frozen=True, eq=False)
class DenseSkipImage(_Runs):
    """The skip image of a dense int8 matrix for ``dense_4x2_skip`` (``docs/format.md``,
    "Dense skip image").

    Attributes
    ----------
    rows, k : the matrix's shape.
    data : uint8 bytes (read-only): one record per quad of rows, then the ``rows mod 4``
        leftover rows as plain dense rows of ``4·⌈K/4⌉`` bytes (never skipped).
    runs : per quad, the runs ``(w0, n)`` of kept words.
    """

    rows: int
    k: int
    data: np.ndarray
    runs: tuple[tuple[tuple[int, int], ...], ...]

    @property
    def kwords(self) -> int:
        return -(-self.k // 4)

    @property
    def skipped_units(self) -> int:
        """Units (word × quad of rows) the kernel skips."""
        return len(self.runs) * self.kwords - self.kept


def zero_units(w: np.ndarray) -> np.ndarray:
    """bool (rows div 4, ⌈K/4⌉): True where a word of a quad of rows of int8 ``w`` (rows, K)
    holds only zeros."""
    if not isinstance(w, np.ndarray) or w.dtype != np.int8 or w.ndim != 2:
        raise TypeError(f"w must be a 2-D int8 array, not {getattr(w, 'dtype', type(w))}")
    rows, k = w.shape
    kw = -(-k // 4)
    wp = np.zeros((rows // 4 * 4, kw * 4), np.int8)
    wp[:, :k] = w[:rows // 4 * 4]
    return (wp.reshape(rows // 4, 4, kw, 4) == 0).all(axis=(1, 3))


def dense_skip_image(w: np.ndarray) -> DenseSkipImage:
    """The dense skip image of int8 ``w`` (rows, K): per quad of rows a record

    1. ``nruns`` (u16, ≥ 1) and ``back`` (u16): 4 × the word after the last run (what the
       activation pointers advanced over the quad);
    2. the runs: ``delta`` (u16, bytes from the end of the previous run -- 0 for the first --
       to this run's first word) and ``n`` (u16, ≥ 1 words);
    3. the kept words, each as the four rows' words in row order (one pointer walks them);

    then the leftover rows (``rows mod 4``) as plain dense rows of ``4·⌈K/4⌉`` bytes.  A quad
    whose words are all zero keeps its word 0 (hardware loops cannot run zero times).

    Raises
    ------
    TypeError
        ``w`` is not a 2-D int8 array.
    ValueError
        ``w`` is empty, or K > 65532 (the u16 offsets), named with its value.
    """
    zero = zero_units(w)
    rows, k = w.shape
    if rows == 0 or k == 0:
        raise ValueError(f"w must not be empty, got shape {w.shape}")
    kw = -(-k // 4)
    if 4 * kw > 0xFFFF:
        raise ValueError(f"K = {k} is too long for the dense skip image (u16 byte offsets: "
                         f"K ≤ 65532)")
    wp = np.zeros((rows, kw * 4), np.int8)
    wp[:, :k] = w
    out = bytearray()
    all_runs = []
    for q in range(rows // 4):
        keep = ~zero[q]
        if not keep.any():
            keep[0] = True
        runs = _runs(keep)
        all_runs.append(tuple(runs))
        head = [len(runs), 4 * (runs[-1][0] + runs[-1][1])]
        prev = 0
        for w0, n in runs:
            head += [4 * (w0 - prev), n]
            prev = w0 + n
        out += np.array(head, "<u2").tobytes()
        words = wp[4 * q:4 * q + 4].reshape(4, kw, 4)[:, np.flatnonzero(keep)]
        out += words.transpose(1, 0, 2).tobytes()  # word j: rows 0..3
    out += wp[rows // 4 * 4:].tobytes()
    return DenseSkipImage(rows, k, np.frombuffer(bytes(out), np.uint8), tuple(all_runs))


def dense_skip_matrix(simg: DenseSkipImage) -> np.ndarray:
    """The int8 (rows, K) matrix read back from the bytes of a dense skip image alone (the
    reference walk of its layout; tested equal to the matrix it was made from)."""
    rows, kw, d = simg.rows, simg.kwords, simg.data
    w = np.zeros((rows, 4 * kw), np.int8)
    pos = 0
    for q in range(rows // 4):
        nruns, back = (int(v) for v in np.frombuffer(d[pos:pos + 4].tobytes(), "<u2"))
        runs = np.frombuffer(d[pos + 4:pos + 4 + 4 * nruns].tobytes(), "<u2").reshape(-1, 2)
        pos += 4 + 4 * nruns
        at = 0
        for delta, n in runs.tolist():
            at += delta // 4
            for j in range(at, at + n):
                w[4 * q:4 * q + 4, 4 * j:4 * j + 4] = d[pos:pos + 16].view(np.int8).reshape(4, 4)
                pos += 16
            at += n
        if back != 4 * at:
            raise ValueError(f"quad {q}: back {back} != 4 × {at}")
    left = rows % 4
    w[rows - left:] = d[pos:pos + left * 4 * kw].view(np.int8).reshape(left, 4 * kw)
    pos += left * 4 * kw
    if pos != d.size:
        raise ValueError(f"records end at byte {pos}, the image has {d.size}")
    return w[:, :simg.k]
