"""Direct (im2col-free) convolution kernels: bit-exact on the ISS against the golden model with
and without padding, stride 2, every N:M pattern; the im2col fallback; the walkability rule;
hot loops unchanged."""

from __future__ import annotations

import pytest
from xdecimate.sw.kernels import harness as ck
from xdecimate.sw.model.nm_format import PATTERNS, Pattern

# Cin = 64: kw * Cin = 192 and every input row are multiples of the largest group span (64
# bytes at 1:16), so every pattern walks.
PAD0 = ck.ConvShape(h=4, w=5, cin=64, cout=3, pad=0, name="direct_p0")
PAD1 = ck.ConvShape(h=3, w=4, cin=64, cout=2, pad=1, name="direct_p1")
STRIDE2 = ck.ConvShape(h=5, w=5, cin=32, cout=2, stride=2, pad=1, name="direct_s2")
NONE = ck.RegionTotal(0, 0, 0)


def _chunks(shape: ck.ConvShape, kernel: str) -> int:
    n, quad = shape.npix, kernel in ck.QUAD_KERNELS
    return (n // 4 + (n % 4 + 1) // 2) if quad else (n + 1) // 2


def _check_direct(run: ck.KernelRun, shape: ck.ConvShape, kernel: str) -> None:
    assert run.bit_exact
    assert run.regions.get("im2col", NONE).count == 0  # no im2col at all
    assert run.regions.get("pad", NONE).count == (1 if shape.pad else 0)
    assert run.regions["matmul"].count == _chunks(shape, kernel)


@pytest.mark.parametrize("pattern", [str(p) for p in PATTERNS])
@pytest.mark.parametrize("kernel", ck.DIRECT_KERNELS)
def test_direct_bit_exact_every_pattern(kernel, pattern):
    assert ck.direct_walkable(PAD0, Pattern.parse(pattern))
    run = ck.run_kernel(ck.make_case(PAD0, pattern), kernel)
    _check_direct(run, PAD0, kernel)


@pytest.mark.parametrize("pattern", ["1:4", "2:8", "1:16"])
@pytest.mark.parametrize("kernel", ck.DIRECT_KERNELS)
def test_direct_bit_exact_with_padding(kernel, pattern):
    run = ck.run_kernel(ck.make_case(PAD1, pattern, seed=1), kernel)
    _check_direct(run, PAD1, kernel)


@pytest.mark.parametrize("pattern", ["2:4", "1:8", "2:16"])
@pytest.mark.parametrize("kernel", ck.DIRECT_KERNELS)
def test_direct_bit_exact_stride_2(kernel, pattern):
    assert ck.direct_walkable(STRIDE2, Pattern.parse(pattern))  # span 32 <= 3 * 32
    run = ck.run_kernel(ck.make_case(STRIDE2, pattern, seed=2), kernel)
    _check_direct(run, STRIDE2, kernel)


@pytest.mark.parametrize("kernel", ck.DENSE_DIRECT_KERNELS)
@pytest.mark.parametrize("shape", [
    PAD1, ck.ConvShape(h=5, w=6, cin=8, cout=7, stride=2, pad=1)],  # 4x2 tail: 3 channels
    ids=lambda s: s.label())
def test_dense_direct_bit_exact(kernel, shape):
    assert ck.direct_walkable(shape, None)
    run = ck.run_kernel(ck.make_case(shape, "1:8", seed=4), kernel)
    _check_direct(run, shape, kernel)


def test_direct_is_faster_than_im2col_on_a_small_map():
    case = ck.make_case(PAD1, "1:16", seed=1)
    for plain, direct in (("xdec", "xdec_direct"), ("xdec4", "xdec4_direct")):
        a, b = ck.run_kernel(case, plain), ck.run_kernel(case, direct)
        assert b.kernel_cycles < a.kernel_cycles - a.regions["im2col"].cycles // 2


def test_not_walkable_falls_back_to_im2col():
    # Cin = 16 at 1:16: a kernel row (48 bytes) is not a multiple of the 64-byte group span.
    shape = ck.ConvShape(h=4, w=4, cin=16, cout=3, pad=1)
    assert not ck.direct_walkable(shape, Pattern.parse("1:16"))
    run = ck.run_kernel(ck.make_case(shape, "1:16"), "xdec_direct")
    assert run.bit_exact
    assert run.regions["im2col"].count == run.regions["matmul"].count == 8
    assert "pad" not in run.regions


def test_walkability_rule():
    p = Pattern.parse
    c16 = ck.ConvShape(h=4, w=4, cin=16, cout=1)  # kernel row 48 bytes, input row 96
    assert ck.direct_walkable(c16, p("1:4"))  # group span 16
    assert not ck.direct_walkable(c16, p("1:8"))  # span 32
    assert not ck.direct_walkable(c16, p("2:16"))  # span 32
    assert ck.direct_walkable(c16, None)  # dense: any kh 1 / 3
    assert ck.direct_walkable(ck.ConvShape(h=4, w=4, cin=16, cout=1, kh=1, kw=1, pad=0),
                              p("1:4"))
    assert not ck.direct_walkable(ck.ConvShape(h=4, w=4, cin=12, cout=1, kh=1, kw=1, pad=0),
                                  p("1:4"))
    c5 = ck.ConvShape(h=6, w=6, cin=64, cout=1, kh=5, kw=5)
    assert not ck.direct_walkable(c5, p("1:4"))
    assert not ck.direct_walkable(c5, None)
    assert not ck.direct_walkable(ck.FCShape(k=64, cout=1, tokens=1), p("1:4"))
    assert not ck.direct_walkable(ck.FCShape(k=64, cout=1, tokens=1), None)
    # the 16-bit xdec counter must hold 4 * (2 dj + 12), dj = w * 16 / 4 NZ per input row
    assert ck.direct_walkable(ck.ConvShape(h=3, w=2046, cin=16, cout=1, pad=0), p("1:4"))
    assert not ck.direct_walkable(ck.ConvShape(h=3, w=2048, cin=16, cout=1, pad=0), p("1:4"))
    with pytest.raises(TypeError, match="shape must be an FCShape or a ConvShape"):
        ck.direct_walkable("conv", None)
    with pytest.raises(TypeError, match="pattern must be a Pattern"):
        ck.direct_walkable(PAD0, "1:4")


@pytest.mark.parametrize(("kernel", "pattern", "instructions", "macs"), [
    ("xdec_direct", "1:4", 12, 8), ("xdec_direct", "2:16", 12, 8),
    ("xdec4_direct", "1:8", 22, 16), ("dense_1x2_direct", "1:8", 5, 8),
    ("dense_4x2_direct", "1:8", 14, 32)])
def test_direct_hot_loops_are_the_plain_ones(kernel, pattern, instructions, macs):
    case = ck.make_case(PAD1, pattern)
    elf = ck.build(case, kernel)
    loops = ck.hot_loops(elf, ck.hot_loop_function(kernel, case.pattern))
    big = [lp for lp in loops if lp.macs == macs]
    assert len(big) == 3  # one loop-0 segment per kernel row
    assert {lp.instructions for lp in big} == {instructions}
    assert ck.hot_loop(elf, kernel, case.pattern).instructions == instructions
