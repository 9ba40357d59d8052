"""N:M memory image: layout, exact inverse, footprint, bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from xdecimate.sw.model.nm_format import (
    PATTERNS,
    NMImage,
    Pattern,
    compress,
    decompress,
    footprint,
    is_nm,
    padded_k,
)
from xdecimate.sw.model.prune import prune_nm


@st.composite
def nm_matrices(draw):
    pattern = draw(st.sampled_from(PATTERNS))
    rows = draw(st.integers(1, 6))
    k = draw(st.integers(1, 80))
    w = draw(hnp.arrays(np.int8, (rows, k), elements=st.integers(-128, 127)))
    # Zero some weights first so blocks with fewer than N non-zeros occur.
    w = np.where(draw(hnp.arrays(np.bool_, (rows, k))), w, 0).astype(np.int8)
    return prune_nm(w, pattern), pattern


def test_worked_example_1_4_from_docs():
    w = np.array([[0, 5, 0, 0, 0, 0, 0, -3, 7, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0]],
                 np.int8)
    img = compress(w, Pattern(1, 4))
    assert (img.k, img.k_pad, img.nnz_row, img.row_stride) == (24, 32, 8, 12)
    assert img.data.tobytes() == bytes.fromhex("05FD070200010000" "8D00" "0000")


def test_worked_example_1_8_from_docs():
    w = np.zeros((1, 32), np.int8)
    w[0, [3, 9, 16, 31]] = [10, -1, 4, -128]
    img = compress(w, Pattern(1, 8))
    assert img.data.tobytes() == bytes.fromhex("0AFF0480" "1370" "0000")
    assert img.index_units(0) == [0x7013]


@pytest.mark.parametrize(("pattern", "saving"), [("1:4", 0.6875), ("1:8", 0.8125),
                                                 ("1:16", 0.90625)])
def test_memory_savings_match_the_paper(pattern, saving):
    p = Pattern.parse(pattern)
    for rows, k in [(64, 16 * p.m), (32, 64 * p.m)]:
        assert footprint(rows, k, p).saving == saving
        w = prune_nm(np.random.default_rng(0).integers(-128, 128, (rows, k)).astype(np.int8), p)
        img = compress(w, p)
        assert 1 - img.nbytes / w.nbytes == saving


@given(nm_matrices())
def test_decompress_is_exact_inverse(case):
    w, pattern = case
    img = compress(w, pattern)
    assert img.data.size == footprint(*w.shape, pattern).sparse_bytes
    assert np.array_equal(decompress(img), w)
    # canonical form: recompressing reproduces the image byte for byte
    assert np.array_equal(compress(decompress(img), pattern).data, img.data)


@given(nm_matrices())
def test_layout_invariants(case):
    w, pattern = case
    img = compress(w, pattern)
    assert img.k_pad % pattern.k_quantum == 0
    assert img.k <= img.k_pad < img.k + pattern.k_quantum
    assert img.nnz_row % 4 == 0
    assert img.row_stride % 4 == 0
    cols = img.columns()
    for r in range(img.rows):
        assert img.values_offset(r) % 4 == 0
        assert img.index_offset(r) % 4 == 0
        c = cols[r].reshape(-1, pattern.n)
        assert (np.diff(c, axis=1) > 0).all()  # ascending, distinct positions in a block
        assert ((c // pattern.m) == np.arange(c.shape[0])[:, None]).all()
        # every non-zero of the row is some slot
        assert set(np.flatnonzero(w[r])) <= set(cols[r].tolist())


def test_padded_k():
    assert [padded_k(k, Pattern(1, 8)) for k in (1, 32, 33)] == [32, 32, 64]
    assert padded_k(9, Pattern(2, 4)) == 16
    with pytest.raises(ValueError, match="K must be a positive integer, not 0"):
        padded_k(0, Pattern(1, 4))


@pytest.mark.parametrize("text", ["1:3", "3:4", "1:32", "0:4", "2:2"])
def test_invalid_patterns(text):
    with pytest.raises(ValueError, match="N:M pattern must be one of"):
        Pattern.parse(text)


@pytest.mark.parametrize("text", ["1-4", "a:b", "1:4:2", ""])
def test_unparseable_patterns(text):
    with pytest.raises(ValueError, match="pattern must look like 'N:M'"):
        Pattern.parse(text)


def test_compress_rejects_non_nm_naming_the_block():
    w = np.zeros((2, 16), np.int8)
    w[1, 8:10] = [1, 2]
    assert not is_nm(w, Pattern(1, 8))
    with pytest.raises(ValueError, match=r"row 1, block 1 \(K columns 8..15\) has 2 non-zeros"):
        compress(w, Pattern(1, 8))
    assert is_nm(w, Pattern(2, 8))


@pytest.mark.parametrize(("w", "exc", "msg"), [
    (np.zeros((2, 8), np.int16), TypeError, "dtype int8, not int16"),
    (np.zeros((2, 8), np.float32), TypeError, "dtype int8, not float32"),
    ([[0, 1]], TypeError, "numpy array, not list"),
    (np.zeros(8, np.int8), ValueError, r"2-D \(rows, K\) matrix, not shape \(8,\)"),
    (np.zeros((0, 8), np.int8), ValueError, "non-empty"),
])
def test_compress_rejects_bad_input(w, exc, msg):
    with pytest.raises(exc, match=msg):
        compress(w, Pattern(1, 4))


def test_compress_rejects_non_pattern():
    with pytest.raises(TypeError, match="pattern must be a Pattern"):
        compress(np.zeros((1, 4), np.int8), (1, 4))


def _image(pattern, data):
    return NMImage(pattern=pattern, rows=1, k=16, data=np.array(data, np.uint8))


def test_decompress_rejects_malformed_images():
    # 1:8, K = 16 -> k_pad 32, 4 slots, one 2-byte index unit; stride 8
    with pytest.raises(ValueError, match="index 9 is outside a block of 8"):
        decompress(_image(Pattern(1, 8), [1, 0, 0, 0, 0x09, 0, 0, 0]))
    with pytest.raises(ValueError, match="non-zero weights in the padding beyond K = 16"):
        decompress(_image(Pattern(1, 8), [0, 0, 5, 0, 0, 0, 0, 0]))
    # 2:4, K = 16 -> 8 slots, 2 index units of 1 byte; stride 12; block 0 slots both at 1
    with pytest.raises(ValueError, match="two slots at the same position"):
        decompress(_image(Pattern(2, 4), [0] * 8 + [0b0101, 0, 0, 0]))
    with pytest.raises(ValueError, match="needs 8 bytes, not 7"):
        _image(Pattern(1, 8), [0] * 7)
    with pytest.raises(TypeError, match="expected an NMImage"):
        decompress(np.zeros((1, 4), np.int8))


def test_row_access_checks_bounds():
    img = compress(np.zeros((2, 16), np.int8), Pattern(1, 4))
    with pytest.raises(IndexError, match=r"row must be in 0\.\.1, not 2"):
        img.values(2)
