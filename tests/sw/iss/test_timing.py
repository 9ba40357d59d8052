"""The ISS timing model: one test per rule of sw/iss/timing.py, measured between region markers."""

from __future__ import annotations

import pytest
from xdecimate.sw.iss import isa, memmap, timing
from xdecimate.sw.iss.iss import Iss
from xdecimate.sw.iss.target import TargetError
from xdecimate.sw.model import xdec_ref, xdec_spec

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

    doc = (Path(__file__).resolve().parents[3] / "docs" / "iss.md").read_text()
    assert timing.markdown_table() in doc
    assert isa.markdown_table() in doc
    # once each: an edit that pastes a new table instead of replacing the old one leaves stale
    # rules behind (it once did, four times)
    assert doc.count("| Hazard | Extra cycles |") == 1
    assert doc.count("| Timing class | Cycles |") == 1


# --------------------------------------------------------------------------------------------
# Rules measured on the CV32E40P RTL (tests/sw/bench/test_crosscheck.py runs them on both targets)


def test_fence_and_fence_i_flush_the_pipeline():
    assert timing.class_of(isa.insn("fence")) == "fence"
    assert region("fence") == (4, 1)
    assert region("fence.i") == (4, 1)
    assert region("fence\nfence.i\naddi a0, a0, 1") == (9, 3)


def test_mret_five_cycles():
    assert region("la_: auipc a0, 0\naddi a0, a0, 16\ncsrw mepc, a0\nmret\nnop") == (
        1 + 1 + 4 + 5 + 1, 5)


def _trap_region(code: str) -> tuple[int, int]:
    """(cycles, instructions) from a marker before ``code`` to one at the handler's entry."""
    src = f"""
        li t5, {memmap.MMIO_MARK}
        li t6, {memmap.MMIO_EXIT}
        li t0, 0x200
        csrw mtvec, t0
        li t3, 1
        sw t3, 0(t5)
        {code}
    """
    out = set()
    for mb, cl in ((64, True), (1, False)):
        iss = Iss(max_block=mb, compile_loops=cl)
        iss.load_words(isa.assemble(src, memmap.BOOT_ADDR))
        iss.load_words(isa.assemble("li t3, 2\nsw t3, 0(t5)\nsw zero, 0(t6)", 0x200), 0x200)
        res = iss.run(max_instructions=1000)
        cyc, ins = res.region(1, 2)
        out.add((cyc - 2, ins - 2))  # minus the handler's li + sw
    assert len(out) == 1, out
    return out.pop()


def test_trapping_instructions_never_retire():
    assert _trap_region("ecall") == (timing.TIMING["trap"].cycles, 0) == (4, 0)
    assert _trap_region("ebreak") == (4, 0)
    assert _trap_region("csrr a0, 0x7c0") == (4, 0)  # illegal CSR: still an EX operation
    assert _trap_region(".word 0x00003003") == (timing.TIMING["trap_illegal"].cycles, 0) == (
        5, 0)
    assert _trap_region("addi a0, a0, 1\necall") == (1 + 4, 1)


def test_load_waw_stall():
    assert region("lw a0, 0(s11)\naddi a0, a1, 1") == (3, 2)
    assert region("lw a0, 0(s11)\ncsrr a0, mscratch") == (3, 2)
    assert region("lw a0, 0(s11)\nlw a0, 4(s11)") == (2, 2)  # load after load: no stall
    assert region("lw a0, 0(s11)\njal a0, t\nt: nop") == (1 + 2 + 1, 3)  # hidden by the jump
    assert region("cv.lw a0, (s11), 4\nmul a0, a1, a2") == (3, 2)


def test_jump_after_multicycle_instruction_overlaps():
    assert region("mulh a0, a1, a2\njal zero, t\nt: nop") == (5 + 1 + 1, 3)
    assert region("div a0, a1, a2\njal zero, t\nt: nop", setup="li a2, 1") == (34 + 1 + 1, 3)
    assert region("lw a0, 1(s11)\njal zero, t\nt: nop") == (1 + 1 + 1 + 1, 3)  # misaligned
    assert region("lw a0, 1(s11)\njal a0, t\nt: nop") == (1 + 1 + 2 + 1, 3)  # ... unless WAW


def test_jalr_self_and_load_in_wb():
    base = "la_: auipc a0, 0\naddi a0, a0, 16\n"
    assert region(base + "nop\njalr zero, 0(a0)\nnop") == (1 + 1 + 1 + 2 + 1, 5)
    assert region(base + "nop\njalr a0, 0(a0)\nnop") == (1 + 1 + 1 + 3 + 1, 5)  # rd = rs1
    assert region(base + "mulh a4, a1, a2\njalr a0, 0(a0)\nnop") == (1 + 1 + 5 + 1 + 1, 5)
    wb = "la_: auipc a0, 0\naddi a0, a0, 24\nsw a0, 8(s11)\nlw a0, 8(s11)\n"
    assert region(wb + "nop\njalr zero, 0(a0)\nnop") == (1 + 1 + 1 + 1 + 1 + 3 + 1, 7)
    assert region(wb + "mul a4, a1, a2\njalr zero, 0(a0)\nnop") == (1 + 1 + 1 + 1 + 1 + 3 + 1, 7)
    assert region(wb + "mulh a4, a1, a2\njalr zero, 0(a0)\nnop") == (1 + 1 + 1 + 1 + 5 + 1 + 1, 7)


def test_hwloop_decode_bubble_after_a_flush():
    loop = "cv.setupi 0, 4, e\n{}\ne: nop"
    plain = region(loop.format("nop\nnop\nnop\nnop"))
    assert plain == (1 + 16 + 1, 1 + 16 + 1)
    csr = 4 * 3  # 4 iterations of a 4-cycle CSR read instead of a nop
    # slow CSR third- or second-to-last: one bubble per back edge (3 back edges)
    assert region(loop.format("nop\ncsrr a0, mstatus\nnop\nnop")) == (plain[0] + csr + 3,
                                                                        plain[1])
    assert region(loop.format("nop\nnop\ncsrr a0, mstatus\nnop")) == (plain[0] + csr + 3,
                                                                        plain[1])
    assert region(loop.format("nop\nnop\nnop\ncsrr a0, mstatus")) == (plain[0] + csr, plain[1])
    # ... hidden when the last instruction waits in ID (load-use: +1 per iteration)
    assert region(loop.format("nop\ncsrr a0, mstatus\nlw a1, 0(s11)\naddi a2, a1, 1")) == (
        plain[0] + csr + 4, plain[1])
    assert region(loop.format("nop\ncsrr a0, mstatus\nmulh a1, a2, a3\nnop")) == (
        plain[0] + csr + 4 * 4, plain[1])
    # ... but not by a multi-cycle last instruction
    assert region(loop.format("nop\ncsrr a0, mstatus\nnop\nmulh a1, a2, a3")) == (
        plain[0] + csr + 4 * 4 + 3, plain[1])


def test_misaligned_access_last_in_a_hwloop_overlaps_a_jump_after_the_loop():
    body = "cv.setupi 0, 3, e\nnop\nnop\nlw a0, 1(s11)\ne: jal zero, t\nt: nop"
    # 3 x (nop, nop, lw + misaligned), the last misaligned cycle hidden by the jal
    assert region(body) == (1 + 3 * 4 - 1 + 2 + 1, 1 + 9 + 2)


def test_counter_writes_replace_the_writing_cycle():
    # read back right after: the csrw's own first cycle and retirement are not counted
    assert region("csrw mcycle, zero\ncsrr a0, mcycle\nsw a0, 0(s11)") == (4 + 4 + 1, 3)
    iss = Iss()
    iss.load_words(isa.assemble(f"""
        li t6, {memmap.MMIO_EXIT}
        csrwi mcountinhibit, 0
        csrw mcycle, zero
        csrr a0, mcycle
        csrw minstret, zero
        nop
        csrr a1, minstret
        csrwi mcountinhibit, 13
        csrr a2, mcycle
        csrr a3, minstret
        sw zero, 0(t6)
    """, memmap.BOOT_ADDR))
    iss.run(max_instructions=100)
    # a0 = csrw mcycle's last 3 cycles; a1 = the nop; a2 = 3 + csrr 4 + csrw 4 + nop 1 + csrr 4
    # + the first cycle of the mcountinhibit write (counting stops after it); a3 = nop, csrr and
    # the mcountinhibit write itself, which still retires under the old setting
    assert iss.regs[10:14] == [3, 1, 3 + 4 + 4 + 1 + 4 + 1, 3]


def test_lpcount_read_by_the_last_instruction_is_already_decremented():
    iss = Iss(compile_loops=False)
    iss.load_words(isa.assemble(f"""
        li t6, {memmap.MMIO_EXIT}
        li s0, {D}
        cv.setupi 0, 3, e
        csrr a0, lpcount0
        cv.sw a0, (s0), 4
        csrr a1, lpcount0
    e:  sw zero, 0(t6)
    """, memmap.BOOT_ADDR))
    iss.run(max_instructions=100)
    assert [int.from_bytes(iss.read(D + 4 * k, 4), "little") for k in range(3)] == [3, 2, 1]
    assert iss.regs[11] == 0  # a1: read by the last instruction of the last iteration


@pytest.mark.parametrize("insn", ["fence", "fence.i", "mret", "wfi"])
def test_hwloop_body_may_not_hold_flushing_instructions(insn):
    iss = Iss()
    iss.load_words(isa.assemble(f"cv.setupi 0, 3, e\nnop\n{insn}\nnop\ne: nop",
                                memmap.BOOT_ADDR))
    with pytest.raises(TargetError, match=f"contains {insn} at 0x"):
        iss.run(max_instructions=100)


def test_user_counter_mirrors_are_slow_csrs():
    assert region("csrr a0, cycle\ncsrr a1, instreth") == (8, 2)
