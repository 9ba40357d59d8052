"""The skip image (sw/model/nm_skip.py): its bytes encode the matrix, runs are maximal."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from xdecimate.sw.model import nm_format, nm_skip
from xdecimate.sw.model.nm_format import Pattern
from xdecimate.sw.model.prune import prune_nm

PATTERNS = ("1:4", "1:8", "1:16", "2:4", "2:8", "2:16")


def _zeroed(pattern: str, rows: int, k: int, p_zero: float, seed: int) -> np.ndarray:
    pat = Pattern.parse(pattern)
    rng = np.random.default_rng(seed)
    w = prune_nm(rng.integers(-127, 128, size=(rows, k), dtype=np.int8), pat)
    span = pat.k_quantum
    for r in range(rows):
        for g in range(-(-k // span)):
            if rng.random() < p_zero:
                w[r, g * span:(g + 1) * span] = 0
    return w


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("p_zero", [0.0, 0.3, 0.7, 1.0])
def test_skip_image_bytes_encode_the_matrix(pattern, p_zero):
    for seed in range(3):
        w = _zeroed(pattern, 9, 100 + 37 * seed, p_zero, seed)
        img = nm_format.compress(w, Pattern.parse(pattern))
        simg = nm_skip.skip_image(img)
        assert np.array_equal(nm_skip.skip_matrix(simg), w)
        assert simg.nbytes % 4 == 0
        zero = nm_skip.zero_groups(img)
        # every row has at least one run; only a row of zero groups keeps a zero group
        for r, runs in enumerate(simg.runs):
            assert runs, r
            kept = [g for g0, n in runs for g in range(g0, g0 + n)]
            assert kept == sorted(kept)
            # maximal runs: consecutive runs are separated by a skipped group
            assert all(a[0] + a[1] < b[0] for a, b in itertools.pairwise(runs))
            expect = list(np.flatnonzero(~zero[r])) or [0]
            assert kept == expect
        assert simg.skipped_groups == int(zero.sum()) - sum(
            1 for r in range(img.rows) if zero[r].all())


def test_counts_of_a_hand_made_row():
    pat = Pattern.parse("1:4")
    w = np.zeros((1, 80), np.int8)  # 5 groups of 16 columns
    w[0, [1, 17, 65]] = [5, -3, 7]  # groups 0, 1, 4 kept
    simg = nm_skip.skip_image(nm_format.compress(w, pat))
    assert simg.runs == (((0, 2), (4, 1)),)
    assert (simg.kept_groups, simg.skipped_groups, simg.total_runs) == (3, 2, 2)
    head = np.frombuffer(simg.data[:12].tobytes(), "<u2").tolist()
    assert head == [2, 12, 0, 2, 4, 1]  # 2 runs, 12 value bytes, runs (0, 2), (4, 1)
    assert simg.data[12:24].view(np.int8).tolist() == [5, 0, 0, 0, -3, 0, 0, 0, 7, 0, 0, 0]


def test_bad_input():
    with pytest.raises(TypeError, match="NMImage"):
        nm_skip.skip_image(np.zeros((2, 16), np.int8))
    with pytest.raises(TypeError, match="NMImage"):
        nm_skip.zero_groups("image")
    big = nm_format.compress(np.ones((1, 4097 * 16), np.int8) * 0, Pattern.parse("1:4"))
    with pytest.raises(ValueError, match="4097 groups"):
        nm_skip.skip_image(big)


@pytest.mark.parametrize(("rows", "k"), [(8, 30), (9, 64), (3, 12), (16, 144), (4, 4)])
@pytest.mark.parametrize("p_zero", [0.0, 0.5, 1.0])
def test_dense_skip_image_bytes_encode_the_matrix(rows, k, p_zero):
    rng = np.random.default_rng(rows * k)
    w = rng.integers(-127, 128, size=(rows, k)).astype(np.int8)
    for q in range(rows // 4):
        for j in range(-(-k // 4)):
            if rng.random() < p_zero:
                w[4 * q:4 * q + 4, 4 * j:4 * j + 4] = 0
    simg = nm_skip.dense_skip_image(w)
    assert np.array_equal(nm_skip.dense_skip_matrix(simg), w)
    zero = nm_skip.zero_units(w)
    assert len(simg.runs) == rows // 4
    for q, runs in enumerate(simg.runs):
        kept = [j for j0, n in runs for j in range(j0, j0 + n)]
        assert kept == (list(np.flatnonzero(~zero[q])) or [0])


def test_dense_skip_bad_input():
    with pytest.raises(TypeError, match="int8"):
        nm_skip.dense_skip_image(np.zeros((4, 8), np.int16))
    with pytest.raises(ValueError, match="empty"):
        nm_skip.dense_skip_image(np.zeros((0, 8), np.int8))
    with pytest.raises(ValueError, match="K = 65536"):
        nm_skip.dense_skip_image(np.zeros((4, 65536), np.int8))
