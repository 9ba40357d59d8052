"""C kernel library (sw/kernels/c/kernels) on the ISS: bit-exact against the golden model, hot-loop
shapes, encodings against the ISA table, layer validation."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from xdecimate.sw.iss import isa
from xdecimate.sw.iss.target import RunResult
from xdecimate.sw.kernels import harness as ck
from xdecimate.sw.model import xdec_spec
from xdecimate.sw.model.nm_format import PATTERNS, Pattern

FC = ck.FCShape(k=96, cout=6, tokens=4, name="fc_small")
CONV = ck.ConvShape(h=4, w=4, cin=8, cout=6, name="conv_small")


@pytest.mark.parametrize("pattern", [str(p) for p in PATTERNS])
@pytest.mark.parametrize("kernel", [k for k in ck.SPARSE_KERNELS if k not in ck.DIRECT_KERNELS])
@pytest.mark.parametrize("shape", [FC, CONV], ids=["fc", "conv"])
def test_sparse_bit_exact(shape, kernel, pattern):
    # the direct kernels: tests/sw/kernels/test_direct.py
    run = ck.run_kernel(ck.make_case(shape, pattern), kernel)
    assert run.bit_exact
    assert run.mismatches == 0
    assert run.regions["kernel"].count == 1
    step = 4 if kernel in ck.QUAD_KERNELS else 2  # pixels per block call (both shapes: 4 | npix)
    chunks = shape.npix // step
    none = ck.RegionTotal(0, 0, 0)
    assert run.regions["matmul"].count == chunks
    # sw_rq requantizes inside its row loop: no separate pass
    assert run.regions.get("requant", none).count == (0 if kernel == "sw_rq" else chunks)
    assert run.regions.get("im2col", none).count == (chunks if shape.kind == "conv" else 0)
    # the software-sparse pair blocks interleave their two pixels once per pair
    assert run.regions.get("interleave", none).count == (
        chunks if kernel in ck.SW_KERNELS else 0)


@pytest.mark.parametrize("pattern", ["1:4", "2:16"])
@pytest.mark.parametrize("kernel", ck.DENSE_KERNELS)
@pytest.mark.parametrize("shape", [FC, CONV], ids=["fc", "conv"])
def test_dense_bit_exact(shape, kernel, pattern):
    assert ck.run_kernel(ck.make_case(shape, pattern), kernel).bit_exact


# Odd pixel counts (pair kernel run on one pixel; the SW kernels' single-pixel block), Cout
# not a multiple of 4 (4x2 tail), K not
# a multiple of the group span (zero-padded rows), strides, padding wider than the input, 1x1.
EDGE_SHAPES = [
    ck.FCShape(k=36, cout=5, tokens=3),
    ck.FCShape(k=4, cout=1, tokens=1),
    ck.ConvShape(h=5, w=6, cin=4, cout=7, stride=2, pad=0),
    ck.ConvShape(h=3, w=5, cin=12, cout=6, kh=1, kw=1, pad=0),
    ck.ConvShape(h=2, w=2, cin=4, cout=3, pad=2),
]


EDGE_CASES = [(s, k) for s in EDGE_SHAPES for k in ck.KERNELS
              # the direct kernels run as the plain ones on an FC layer: conv shapes only;
              # xdec(4)_skip: their odd-pixel and row paths are tests/sw/kernels/test_skip.py's
              if (s.kind == "conv" or "direct" not in k)
              and k not in ("xdec_skip", "xdec4_skip")]


@pytest.mark.parametrize(("shape", "kernel"), EDGE_CASES,
                         ids=[f"{s.label()}-{k}" for s, k in EDGE_CASES])
def test_edge_shapes_bit_exact(shape, kernel):
    pattern = "1:8" if kernel.startswith("xdec") else "2:4"
    assert ck.run_kernel(ck.make_case(shape, pattern, seed=3), kernel).bit_exact


def test_mismatch_is_reported():
    case = ck.make_case(FC, "1:8")
    case.golden  # noqa: B018 -- computed now, then corrupted
    case.__dict__["golden"] = case.golden.copy()
    case.golden[1, 2] ^= 1
    with pytest.raises(AssertionError, match=r"1 outputs differ.*pixel 1 channel 2"):
        ck.run_kernel(case, "xdec")
    assert ck.run_kernel(case, "xdec", check=False).mismatches == 1


@pytest.mark.parametrize("pattern", PATTERNS, ids=str)
def test_xdec_hot_loop_is_12_instructions(pattern):
    loop = ck.hot_loop(ck.build(ck.make_case(FC, pattern), "xdec"), "xdec", pattern)
    assert loop.instructions == 12
    assert loop.count("xdec.lb") == 8
    assert loop.count("cv.sdotusp.b") == 2
    assert loop.count("cv.lw") == 1
    assert loop.count("cv.lbu" if pattern.m == 4 else "cv.lhu") == 1
    assert loop.macs == 8
    assert loop.per_8_macs == 12


@pytest.mark.parametrize(("kernel", "pattern", "instructions", "macs"), [
    ("dense_1x2", "1:4", 5, 8),
    ("dense_4x2", "1:4", 14, 32),
    ("sw", "1:4", 21, 8),
    ("sw", "1:8", 21, 8),
    ("sw", "1:16", 21, 8),
    ("sw", "2:4", 21, 8),
    ("sw", "2:8", 21, 8),
    ("sw", "2:16", 21, 8),
    ("sw_rq", "1:8", 21, 8),
    ("sw4", "1:4", 28, 16),
    ("sw4", "1:16", 28, 16),
    ("sw4", "2:8", 28, 16),
    ("xdec4", "1:16", 22, 16),
    ("xdec4", "2:4", 22, 16),
])
def test_other_hot_loops(kernel, pattern, instructions, macs):
    pat = Pattern.parse(pattern)
    loop = ck.hot_loop(ck.build(ck.make_case(FC, pat), kernel), kernel, pat)
    assert (loop.instructions, loop.macs) == (instructions, macs)


def test_sw_hot_loop_uses_insert_and_byte_packing():
    pat = Pattern.parse("1:16")
    elf = ck.build(ck.make_case(FC, pat), "sw")
    loop = ck.hot_loop(elf, "sw", pat)
    counts = {m: loop.count(m) for m in ("cv.insert", "srli", "lhu", "cv.packlo.b",
                                         "cv.packhi.b", "cv.pack", "cv.shuffle2.b",
                                         "cv.sdotusp.b", "cv.lw", "cv.lhu", "addi")}
    assert counts == {"cv.insert": 4, "srli": 3, "lhu": 4, "cv.packlo.b": 1, "cv.packhi.b": 1,
                      "cv.pack": 2, "cv.shuffle2.b": 1, "cv.sdotusp.b": 2, "cv.lw": 1,
                      "cv.lhu": 1, "addi": 1}
    # the single-pixel (P = 1) block: 18 instructions per 4 MACs
    (one,) = ck.hot_loops(elf, "xdk_block_sw1_1_16")
    assert (one.instructions, one.macs) == (18, 4)


@pytest.mark.parametrize("pattern", ["1:4", "2:8", "1:16"])
def test_sw_loop_costs_21_cycles_per_group(pattern):
    """Marginal cycles per group of 4 NZ x 2 pixels = 21 (no stall), plus the interleave
    (7 cycles per 4 activation bytes of the pair)."""
    pat = Pattern.parse(pattern)
    ks = (64, 64 + 8 * pat.m // pat.n)  # + 2 groups per row
    runs = [ck.run_kernel(ck.make_case(ck.FCShape(k=k, cout=4, tokens=2), pattern), "sw")
            for k in ks]
    loop = [r.regions["matmul"].cycles - r.regions["interleave"].cycles for r in runs]
    assert loop[1] - loop[0] == 21 * 4 * 2  # 4 rows x 2 extra groups
    ilv = [r.regions["interleave"].cycles for r in runs]
    assert ilv[1] - ilv[0] == 7 * (ks[1] - ks[0]) // 4


def test_sw_single_pixel_tail_costs_less_than_a_pair():
    """An odd last pixel runs the P = 1 block, not a pair with both streams on it."""
    cyc = {t: ck.run_kernel(ck.make_case(ck.FCShape(k=192, cout=16, tokens=t), "1:8"), "sw")
           .kernel_cycles for t in (2, 3, 4)}
    tail, pair = cyc[3] - cyc[2], cyc[4] - cyc[2]
    assert tail < 0.75 * pair


@pytest.mark.parametrize("shape", [FC, CONV], ids=["fc", "conv"])
def test_sw_requant_in_the_row_loop_is_faster(shape):
    case = ck.make_case(shape, "1:8")
    sep, fused = (ck.run_kernel(case, k) for k in ("sw", "sw_rq"))
    assert fused.bit_exact
    assert fused.kernel_cycles < sep.kernel_cycles


def test_xdec_loop_costs_12_cycles_per_group():
    """Marginal cycles per group of 4 NZ x 2 pixels = 12: the loop has no stall."""
    runs = [ck.run_kernel(ck.make_case(ck.FCShape(k=k, cout=4, tokens=2), "1:8"), "xdec")
            for k in (64, 128)]
    extra_groups = 4 * (128 - 64) // 32  # rows x extra groups per row, one pixel pair
    delta = runs[1].regions["matmul"].cycles - runs[0].regions["matmul"].cycles
    assert delta == 12 * extra_groups


def test_asm_macros_match_isa_table():
    """Every `.insn` string of xdk.h encodes what sw/iss/isa.py says."""
    probe = r"""
#include "xdk.h"
__attribute__((noinline)) void xdk_probe(void) {
    __asm__ volatile(
        XDK_LW_PI("t2", "a0", 4)
        XDK_LHU_PI("t3", "a1", 2)
        XDK_LBU_PI("t3", "a1", 1)
        XDK_LBU_RR("a6", "a2", "a7")
        XDK_SW_PI("a4", "a6", 4)
        XDK_SB_PI("a4", "a6", 1)
        XDK_SDOTUSP_B("a4", "t4", "t2")
        XDK_MAC("a4", "t4", "t2")
        XDK_CLIPU_255("a4", "a5")
        XDK_XDEC_LB("t4", "a2", "t3")
        XDK_SETUP(0, "t0", 3)
        XDK_SETUP(1, "t1", 5)
        XDK_CSRW_XDEC("t1")
        ASM_XCV_INSERT("s6", "t1", 4 - 1, 1)
        ASM_XCV_EXTRACTU("t3", "t1", 3, 2 * 4)
        ASM_XCV_EXTRACT("t3", "t1", 31, 0)
        ASM_XCV_PACK("s3", "t5", "t4")
        ASM_XCV_PACK_H("s3", "t5", "t4")
        ASM_XCV_PACKLO_B("s2", "t5", "t4")
        ASM_XCV_PACKHI_B("s2", "s1", "t6")
        ASM_XCV_SHUFFLE_B("s4", "s3", "s5")
        ASM_XCV_SHUFFLE2_B("s4", "s3", "s5")
        ASM_XCV_INSERT_B("a4", "a5", 3)
        ASM_XCV_EXTRACTU_B("a4", "a5", 2)
        ASM_XCV_EXTRACT_B("a4", "a5", 1)
        ::: "memory");
}
int main(void) { xdk_probe(); return 0; }
"""
    from xdecimate.sw.kernels.toolchain import build_elf

    elf = build_elf([("probe.c", probe)], flags=[f"-I{ck.KERNEL_DIR}"], name="probe")
    _, words = ck._function_words(elf, "xdk_probe")
    r = isa.reg_number
    expected = [
        isa.encode("cv.lw.pi", rd=r("t2"), rs1=r("a0"), imm=4),
        isa.encode("cv.lhu.pi", rd=r("t3"), rs1=r("a1"), imm=2),
        isa.encode("cv.lbu.pi", rd=r("t3"), rs1=r("a1"), imm=1),
        isa.encode("cv.lbu.rr", rd=r("a6"), rs1=r("a2"), rs2=r("a7")),
        isa.encode("cv.sw.pi", rs2=r("a4"), rs1=r("a6"), imm=4),
        isa.encode("cv.sb.pi", rs2=r("a4"), rs1=r("a6"), imm=1),
        isa.encode("cv.sdotusp.b", rd=r("a4"), rs1=r("t4"), rs2=r("t2")),
        isa.encode("cv.mac", rd=r("a4"), rs1=r("t4"), rs2=r("t2")),
        isa.encode("cv.clipu", rd=r("a4"), rs1=r("a5"), is2=9),
        isa.encode("xdec.lb", rd=r("t4"), rs1=r("a2"), rs2=r("t3")),
        isa.encode("cv.setup", L=0, rs1=r("t0"), uimm=3),
        isa.encode("cv.setup", L=1, rs1=r("t1"), uimm=5),
        isa.encode("csrrw", rd=0, csr=xdec_spec.CSR_ADDR, rs1=r("t1")),
        isa.encode("cv.insert", rd=r("s6"), rs1=r("t1"), is3=3, is2=1),
        isa.encode("cv.extractu", rd=r("t3"), rs1=r("t1"), is3=3, is2=8),
        isa.encode("cv.extract", rd=r("t3"), rs1=r("t1"), is3=31, is2=0),
        isa.encode("cv.pack", rd=r("s3"), rs1=r("t5"), rs2=r("t4")),
        isa.encode("cv.pack.h", rd=r("s3"), rs1=r("t5"), rs2=r("t4")),
        isa.encode("cv.packlo.b", rd=r("s2"), rs1=r("t5"), rs2=r("t4")),
        isa.encode("cv.packhi.b", rd=r("s2"), rs1=r("s1"), rs2=r("t6")),
        isa.encode("cv.shuffle.b", rd=r("s4"), rs1=r("s3"), rs2=r("s5")),
        isa.encode("cv.shuffle2.b", rd=r("s4"), rs1=r("s3"), rs2=r("s5")),
        isa.encode("cv.insert.b", rd=r("a4"), rs1=r("a5"), imm=3),
        isa.encode("cv.extractu.b", rd=r("a4"), rs1=r("a5"), imm=2),
        isa.encode("cv.extract.b", rd=r("a4"), rs1=r("a5"), imm=1),
    ]
    start = words.index(expected[0])
    assert words[start:start + len(expected)] == expected


def test_target_is_pluggable():
    calls = []

    def target(elf) -> RunResult:
        calls.append(elf)
        return ck.iss_target(elf)

    case = ck.make_case(ck.FCShape(k=8, cout=2, tokens=2), "1:4", seed=11)
    run = ck.run_kernel(case, "xdec", target=target)  # no cache key: always runs
    assert run.bit_exact
    assert len(calls) == 1
    assert run.target == "iss"
    ck.run_kernel(case, "xdec", target=target, cache_key="test-wrapper")
    ck.run_kernel(case, "xdec", target=target, cache_key="test-wrapper")
    assert len(calls) in (1, 2)  # the second keyed run comes from the cache


def test_bad_shapes_rejected():
    with pytest.raises(ValueError, match=r"FC K must be a multiple of 4.*not 30"):
        ck.FCShape(k=30, cout=4, tokens=2)
    with pytest.raises(ValueError, match=r"conv Cin must be a multiple of 4.*not 3"):
        ck.ConvShape(h=8, w=8, cin=3, cout=4)
    with pytest.raises(ValueError, match="cout must be a positive integer, not 0"):
        ck.FCShape(k=8, cout=0, tokens=2)
    with pytest.raises(ValueError, match="does not fit"):
        ck.ConvShape(h=2, w=2, cin=4, cout=4, kh=5, kw=5, pad=0)
    with pytest.raises(ValueError, match="pattern must look like 'N:M'"):
        ck.make_case(FC, "1-8")
    with pytest.raises(ValueError, match="N:M pattern must be one of"):
        ck.make_case(FC, "1:32")
    with pytest.raises(ValueError, match=r"kernel must be one of .*not 'dense_8x8'"):
        ck.build(ck.make_case(FC, "1:8"), "dense_8x8")


def test_layer_too_big_for_dmem_rejected():
    big = ck.make_case(ck.FCShape(k=1024, cout=160, tokens=2), "1:4")
    with pytest.raises(ValueError, match=r"needs \d+ bytes of DMEM with kernel 'dense_1x2'"):
        ck.build(big, "dense_1x2")
    ck.check_fits(big, "xdec")  # the compressed image fits


def test_docs_example_runs():
    doc = Path(__file__).resolve().parents[3] / "docs" / "kernels.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, "docs/kernels.md", "exec"), {})


def test_make_case_is_deterministic_and_uses_the_output_range():
    a, b = ck.make_case(CONV, "1:8", seed=5), ck.make_case(CONV, "1:8", seed=5)
    assert np.array_equal(a.w, b.w)
    assert np.array_equal(a.x, b.x)
    assert a.golden.max() > 128
    assert (a.golden == 0).any()
