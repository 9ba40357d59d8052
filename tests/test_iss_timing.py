"""The ISS timing model: one test per rule of sw/timing.py, measured between region markers."""

from __future__ import annotations

import pytest
from xdecimate.sw import isa, memmap, timing, xdec_ref, xdec_spec
from xdecimate.sw.iss import Iss

D = memmap.DMEM_BASE


def region(code: str, *, setup: str = "", data: bytes = bytes(64)) -> tuple[int, int]:
    """(cycles, instructions) of ``code`` alone (the closing marker store is subtracted)."""
    src = f"""
        li t5, {memmap.MMIO_MARK}
        li t6, {memmap.MMIO_EXIT}
        li s11, {D}
        li t3, 1
        li t4, 2
        {setup}
        sw t3, 0(t5)
        {code}
        sw t4, 0(t5)
        sw zero, 0(t6)
    """
    out = set()
    for mb, cl in ((64, True), (1, False)):
        iss = Iss(max_block=mb, compile_loops=cl)
        iss.load_words(isa.assemble(src, memmap.BOOT_ADDR))
        iss.write(D, data)
        res = iss.run(max_instructions=100_000)
        cyc, ins = res.region(1, 2)
        out.add((cyc - 1, ins - 1))
    assert len(out) == 1, out  # block translation and single-instruction mode agree
    return out.pop()


def test_alu_and_mul_single_cycle():
    assert region("add a0, a1, a2\nxor a3, a0, a0\nmul a4, a3, a0\nlui a5, 3") == (4, 4)


def test_mulh_five_cycles():
    assert region("mulh a0, a1, a2") == (timing.TIMING["mulh"].cycles, 1) == (5, 1)
    assert region("mulhu a0, a1, a2\nmulhsu a0, a1, a2") == (10, 2)


@pytest.mark.parametrize(("op", "divisor", "cycles"), [
    ("divu", 0x8000_0000, 3), ("divu", 1, 3 + 31), ("divu", 0, 35), ("div", 0, 35),
    ("div", 1, 34), ("div", 0x7FFF_FFFF, 4), ("div", -1, 34), ("div", -2, 33),
    ("rem", -0x8000_0000, 3), ("remu", 0x10000, 3 + 15),
])
def test_divide_cycles_follow_the_rtl_formula(op, divisor, cycles):
    assert timing.div_cycles(op in ("div", "rem"), divisor) == cycles
    assert region(f"{op} a0, a1, a2", setup=f"li a1, 12345\nli a2, {divisor}") == (cycles, 1)


def test_load_use_stall():
    assert region("lw a0, 0(s11)\naddi a1, a0, 1") == (3, 2)
    assert region("lw a0, 0(s11)\naddi a1, a2, 1\naddi a1, a0, 1") == (3, 3)  # one in between
    assert region("lw a0, 0(s11)\nsw a0, 4(s11)") == (3, 2)  # store data is a use too
    assert region("cv.lw a0, (s11), 4\naddi a1, s11, 1") == (2, 2)  # post-increment: no stall
    assert region("cv.lw a0, (s11), 4\ncv.sdotusp.b a1, a2, a0") == (3, 2)
    assert region("lw a0, 0(s11)\ncv.sdotusp.b a0, a1, a2") == (3, 2)  # rd read as accumulator


def test_xdec_lb_timing_comes_from_the_spec():
    enc = xdec_spec.instruction("xdec.lb")
    csr = xdec_ref.csr_pack(m=4, n=1)
    setup = f"li a3, {csr}\ncsrw xdec, a3\nmv a1, s11"
    assert region("xdec.lb a0, a1, a2", setup=setup) == (enc.cycles, 1)
    assert region("xdec.lb a0, a1, a2\nadd a4, a0, a0", setup=setup) == (
        enc.cycles + enc.load_use + 1, 2)
    # the next xdec.lb into the same rd reads it: a load-use stall per xdec.lb in a chain
    assert region("xdec.lb a0, a1, a2\nxdec.lb a0, a1, a2", setup=setup) == (
        2 * enc.cycles + enc.load_use, 2)


def test_branches_and_jumps():
    assert region("beq zero, a0, t\nnop\nt: nop", setup="li a0, 1") == (3, 3)  # not taken
    assert region("beq zero, zero, t\nnop\nt: nop") == (4, 2)  # taken: 3
    assert region("jal zero, t\nnop\nt: nop") == (3, 2)
    assert region("la_: auipc a0, 0\naddi a0, a0, 16\njalr zero, 0(a0)\nnop\nnop") == (
        1 + 1 + 2 + 1 + 1, 4)  # jalr right after the addi that writes a0


def test_csr_access_cycles():
    assert region("csrr a0, mcycle") == (4, 1)
    assert region("csrr a0, mscratch") == (1, 1)
    assert region("csrr a0, xdec") == (1, 1)
    assert region("csrw mstatus, zero") == (4, 1)


def test_misaligned_access_costs_one_more():
    assert region("lw a0, 1(s11)") == (2, 1)
    assert region("lh a0, 3(s11)") == (2, 1)  # halfword crossing a word boundary
    assert region("lh a0, 1(s11)") == (1, 1)  # halfword inside a word
    assert region("sw a0, 2(s11)") == (2, 1)


def test_hardware_loop_back_edge_is_free():
    body = "addi a0, a0, 1\naddi a1, a1, 1\naddi a2, a2, 1\n"
    assert region(f"cv.setupi 0, 100, e\n{body}e: nop") == (1 + 300 + 1, 1 + 300 + 1)
    # a load at the end of the body feeding the first instruction stalls across the back edge,
    # except after the last iteration (the next instruction does not use it)
    body = "addi a0, a0, 1\naddi a1, a1, 1\nlw a0, 0(s11)\n"
    assert region(f"cv.setupi 0, 10, e\n{body}e: nop") == (1 + 30 + 9 + 1, 1 + 30 + 1)
    body = "lw a0, 0(s11)\naddi a2, a0, 1\naddi a1, a1, 1\n"  # stall inside the body
    assert region(f"li a3, 10\ncv.setup 0, a3, e\n{body}e: nop") == (1 + 1 + 40 + 1, 1 + 1 + 31)
    body = "lw a0, 0(s11)\naddi a1, a1, 1\naddi a2, a0, 1\n"  # one instruction in between
    assert region(f"li a3, 10\ncv.setup 0, a3, e\n{body}e: nop") == (1 + 1 + 30 + 1, 1 + 1 + 31)


def test_timing_table_covers_every_class():
    for row in isa.INSTRUCTIONS:
        assert row.timing in timing.TIMING, row.id
    assert {h.name for h in timing.HAZARDS} >= {"load_use", "jalr_dep", "misaligned"}


def test_docs_quote_the_tables():
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "iss.md").read_text()
    assert timing.markdown_table() in doc
    assert isa.markdown_table() in doc
