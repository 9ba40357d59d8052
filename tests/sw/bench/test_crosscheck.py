"""ISS versus the real CV32E40P RTL (sw/bench/crosscheck.py): the same ELF gives the same stdout,
exit code, data memory, retired instructions, and exactly the same cycles in every marked region."""

from __future__ import annotations

import struct
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from xdecimate.sim import cv32e40p
from xdecimate.sw.bench import crosscheck as xc
from xdecimate.sw.iss import isa, timing
from xdecimate.sw.iss.target import Mark, TargetError
from xdecimate.sw.kernels import harness as ck

#: The ISS in its three translation modes (tests/sw/iss/test_iss.py checks they agree).
MODES = xc.ISS_MODES
_iss = xc.iss_runner
_agree = xc.assert_agree



# --------------------------------------------------------------------------------------------
# Directed microbenchmarks: one or more per timing rule


@cache
def _micro_elf() -> Path:
    return xc.snippet_elf([m.code for m in xc.MICROBENCHMARKS], setup=xc.MICRO_SETUP,
                          handler=True)


def test_microbenchmarks_cover_every_timing_rule():
    # the stock core's rules by MICROBENCHMARKS, xDecimate's on the extended core
    rules = {m.rule for m in xc.MICROBENCHMARKS} | {m.rule for m in xc.XDEC_MICROBENCHMARKS}
    expected = set(timing.TIMING) | {h.name for h in timing.HAZARDS}
    assert rules == expected
    assert len({m.name for m in xc.MICROBENCHMARKS}) == len(xc.MICROBENCHMARKS)


@pytest.mark.parametrize("mode", list(MODES))
def test_microbenchmarks_agree_region_by_region(mode):
    c = xc.compare(_micro_elf(), iss_run=_iss(mode))
    regions = c.regions()
    assert len(regions) == 2 * len(xc.MICROBENCHMARKS) - 1
    bad = [(m.name, iss, rtl) for m, (_, _, iss, rtl) in zip(xc.MICROBENCHMARKS, regions[0::2],
                                                               strict=True) if iss != rtl]
    assert bad == []
    _agree(c)


def test_microbenchmarks_measure_what_the_rules_say():
    # A few regions spelled out (region = snippet + the closing mark's li and sw = +2, +2).
    c = xc.compare(_micro_elf())
    got = {m.name: r[3] for m, r in zip(xc.MICROBENCHMARKS, c.regions()[0::2], strict=True)}
    assert got["fence"] == (4 + 2, 1 + 2)
    assert got["fence.i"] == (4 + 2, 1 + 2)
    assert got["load WAW"] == (1 + 1 + 1 + 2, 2 + 2)  # lw, stall, addi
    assert got["jal after mulh"] == (5 + 1 + 1 + 2, 3 + 2)  # mulh, jal (1), nop
    assert got["jalr rd = rs1"] == (1 + 1 + 1 + 3 + 1 + 2, 5 + 2)  # auipc addi nop jalr(3) nop
    # the handler path: ecall/ebreak/illegal CSR trap in 4 cycles, an illegal word in 5,
    # and the trapping instruction never counts as retired
    assert got["illegal encoding"][0] == got["ecall"][0] + 1
    assert got["illegal encoding"][1] == got["ecall"][1] == got["illegal CSR"][1]


def test_instruction_pairs_agree():
    # every first instruction class against every second (dependent, independent, WAW, jumps)
    firsts = {
        "alu": "addi a0, a1, 1", "mul": "mul a0, a1, a2", "mulh": "mulh a0, a1, a2",
        "div": "div a0, a1, a2", "lw": "lw a0, 0(s11)", "lw misaligned": "lw a0, 1(s11)",
        "sw misaligned": "sw a1, 2(s11)", "cv.lw": "cv.lw a0, (a3), 4",
        "csr slow": "csrr a0, mstatus", "csr fast": "csrr a0, mscratch", "fence": "fence",
        "branch taken": "beq zero, zero, L\nL: nop",
    }
    seconds = {
        "raw": "addi a4, a0, 1", "waw": "addi a0, a1, 2", "independent": "addi a4, a1, 2",
        "jal": "jal zero, M\nM: nop", "jal waw": "jal a0, M\nM: nop", "lw waw": "lw a0, 4(s11)",
        "sw raw": "sw a0, 4(s11)", "branch raw": "beq a0, a0, M\nM: nop",
        "mulh": "mulh a4, a1, a2", "csr waw": "csrr a0, mscratch", "cv.lw": "cv.lw a4, (a3), 4",
    }
    snippets = []
    for a in firsts.values():
        snippets += [f"mv a3, s11\nnop\n{a}\n{b}\nnop" for b in seconds.values()]
        n = len(isa.assemble(a))  # jalr over the next instruction, target computed by auipc
        snippets.append(f"mv a3, s11\nauipc a5, 0\naddi a5, a5, {4 * (3 + n)}\n{a}\n"
                        "jalr zero, 0(a5)\nnop\nnop")
    _agree(xc.compare(xc.snippet_elf(snippets, setup=xc.MICRO_SETUP)))


def test_counter_csrs_read_the_same_values():
    # mcycle/minstret as read by software (not only the marks): start/stop through
    # mcountinhibit, writes, reads right after multi-cycle instructions
    code = ("csrr t0, mcycle\ncsrr t1, minstret\ncsrwi mcountinhibit, 13\nnop\n"
            "csrr a4, mcycle\ncsrr a5, minstret\ncsrwi mcountinhibit, 0\nmulh a6, a1, a2\n"
            "csrr a6, mcycle\ncsrr a7, instret\nsub a4, a4, t0\nsub a5, a5, t1\nsub a6, a6, t0\n"
            "sub a7, a7, t1\nsw a4, 0(s11)\nsw a5, 4(s11)\nsw a6, 8(s11)\nsw a7, 12(s11)\n"
            "li a4, 1000\ncsrw mcycle, a4\ncsrr a5, mcycle\ncsrw minstret, a4\nnop\n"
            "csrr a6, minstret\nsw a5, 16(s11)\nsw a6, 20(s11)\n"
            "cv.setupi 0, 3, E\nnop\ncsrr a4, lpcount0\ncv.sw a4, (a3), 4\ncsrr a4, lpcount0\n"
            "E: nop")
    c = xc.compare(xc.snippet_elf([code], setup=xc.MICRO_SETUP))
    _agree(c)  # includes the data memory holding the values read


# --------------------------------------------------------------------------------------------
# Random programs


@pytest.mark.parametrize("seed", range(6))
def test_random_asm_programs_agree(seed):
    c = xc.compare(xc.randprog_elf("asm", seed))
    _agree(c)
    assert c.rtl.region(1, 2)[1] > 700


@pytest.mark.parametrize("seed", range(4))
def test_random_c_programs_agree(seed):
    _agree(xc.compare(xc.randprog_elf("c", seed)))


@pytest.mark.parametrize("seed", range(12))
def test_random_xpulp_programs_agree(seed):
    c = xc.compare(xc.xpulp_elf(seed))
    _agree(c)
    assert c.rtl.region(0, 1)[1] > 200


def test_random_xpulp_programs_agree_in_every_iss_mode():
    for seed in (100, 101):
        for mode in MODES:
            _agree(xc.compare(xc.xpulp_elf(seed, 200), iss_run=_iss(mode)))


def test_xpulp_generator_is_deterministic_and_exercises_hardware_loops():
    code, setup, data = xc.xpulp_program(3)
    assert xc.xpulp_program(3) == (code, setup, data)
    assert xc.xpulp_program(4)[0] != code
    text = "\n".join(xc.xpulp_program(s)[0] for s in range(20))
    for mnemonic in ("cv.setupi", "cv.setup ", "cv.lw", "cv.sdot", "mulh", "csrr", "jalr",
                     "cv.extract ", "cv.extractu ", "cv.insert ", "cv.pack ", "cv.pack.h",
                     "cv.packlo.b", "cv.packhi.b", "cv.shuffle.b", "cv.shuffle2.b",
                     "cv.extract.b", "cv.extractu.b", "cv.insert.b"):
        assert mnemonic in text


def _words(line: str) -> int:
    """Instruction words of one assembler line (one for a line that names a label)."""
    try:
        return len(isa.assemble(line, 0))
    except isa.AsmError:
        return 1


@pytest.mark.parametrize("xdec", [False, True])
def test_xpulp_generator_computed_jumps_land_after_the_skipped_instructions(xdec):
    # auipc t, 0; addi t, t, OFF; jalr rd, 0(t); <skipped ops>; <label>: the jalr must land on
    # the label, also when a skipped `li` takes two words (it once landed one word late,
    # skipping the reload of an xdec.lb base pointer: a load outside the memory map).
    jumps = 0
    for seed in range(200):
        lines = xc.xpulp_program(seed, 60, xdec=xdec)[0].splitlines()
        pcs, pc = [], 0
        for ln in lines:
            pcs.append(pc)
            pc += 0 if ln.endswith(":") else 4 * _words(ln)
        for i, ln in enumerate(lines):
            if ln.startswith("auipc") and lines[i + 2].startswith("jalr"):
                off = int(lines[i + 1].rsplit(",", 1)[1])
                land = next(j for j in range(i + 3, len(lines)) if lines[j].endswith(":"))
                assert pcs[i] + off == pcs[land], (seed, lines[i:land + 1])
                jumps += 1
    assert jumps > 100


@pytest.mark.slow
@pytest.mark.parametrize("block", range(10))
def test_random_xpulp_programs_agree_many_seeds(block):
    for seed in range(1000 + 100 * block, 1100 + 100 * block):
        _agree(xc.compare(xc.xpulp_elf(seed, 300)))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1000, 1060))
def test_random_asm_programs_agree_more_seeds(seed):
    _agree(xc.compare(xc.randprog_elf("asm", seed, 1000)))


# --------------------------------------------------------------------------------------------
# C kernels without xDecimate instructions: bit-exact on the RTL, cycles equal

FC = ck.FCShape(k=96, cout=6, tokens=4, name="fc_small")
CONV = ck.ConvShape(h=4, w=4, cin=8, cout=6, name="conv_small")
#: an odd pixel count: the software-sparse kernels' single-pixel (P = 1) tail
FC_ODD = ck.FCShape(k=64, cout=6, tokens=3, name="fc_odd")
KERNEL_CASES = [(shape, kernel, pattern) for shape in (FC, CONV)
                for kernel, patterns in (("dense_1x2", ("1:4",)), ("dense_4x2", ("1:4",)),
                                         ("sw", ("1:4", "1:8", "1:16", "2:8")),
                                         ("sw_rq", ("1:8", "2:16")),
                                         ("sw4", ("1:4", "1:16", "2:8")))
                for pattern in patterns] + [
    (FC_ODD, kernel, pattern) for kernel in ("sw", "sw_rq") for pattern in ("1:4", "2:4", "1:16")
] + [(ck.FCShape(k=64, cout=5, tokens=7, name="fc_quad_pair_one"), "sw4", "1:8")]


@pytest.mark.parametrize(("shape", "kernel", "pattern"), KERNEL_CASES,
                         ids=[f"{s.label()}-{k}-{p}" for s, k, p in KERNEL_CASES])
def test_kernels_bit_exact_on_rtl_and_cycles_agree(shape, kernel, pattern):
    case = ck.make_case(shape, pattern)
    elf = ck.build(case, kernel)
    c = xc.compare(elf, name=f"{case.label()} {kernel}")
    _agree(c)
    assert np.array_equal(ck.read_output(elf, c.rtl, case), case.golden)
    regions = ck.region_totals(c.rtl)
    assert regions == ck.region_totals(c.iss)
    assert regions["kernel"].count == 1
    assert regions["matmul"].count > 0


# --------------------------------------------------------------------------------------------
# Where the two may not be compared (docs/iss.md, "Agreement with the RTL")


def test_iss_rejects_what_the_rtl_executes_wrongly_in_hardware_loops():
    # fence/fence.i/mret/wfi are not allowed in a hardware-loop body (manual); the RTL's
    # DECODE_HWLOOP state runs them as 1-cycle no-ops, the ISS stops with a clear error
    for insn in ("fence", "fence.i", "wfi"):
        elf = xc.snippet_elf([f"cv.setupi 0, 3, E\nnop\n{insn}\nnop\nE: nop"])
        with pytest.raises(TargetError, match=f"contains {insn} at 0x"):
            xc.compare(elf)


def test_known_rtl_quirk_illegal_word_in_hardware_loop():
    # An illegal word traps in 5 cycles in DECODE but in 4 in DECODE_HWLOOP (the ISS does not
    # model the controller state; RTL cv32e40p_controller.sv:765-770 vs :531-536).
    elf = xc.snippet_elf(["cv.setupi 0, 3, E\nnop\nnop\n.word 0x00003003\nE: nop"],
                         handler=True)
    c = xc.compare(elf)
    (_, _, iss, rtl), = c.regions()
    assert (iss[0] - rtl[0], iss[1] - rtl[1]) == (1, 0)


# --------------------------------------------------------------------------------------------
# The comparison itself


def test_compare_names_every_difference():
    elf = xc.snippet_elf(["nop", "addi a4, a1, 1"])
    real = cv32e40p.run_elf(elf)
    marks = list(real.marks)
    marks[2] = Mark(marks[2].id, marks[2].cycle + 3, marks[2].instret)
    fake = replace(real, stdout=b"x", exit_code=9, instret=real.instret + 1, marks=marks,
                   memory=b"\1" + (real.memory or b"")[1:])
    c = xc.compare(elf, rtl=lambda _: fake)
    assert not c.equal
    text = "\n".join(c.differences)
    for what in ("stdout", "exit code", "data memory differs first at 0x00100000", "instret",
                 "region 1->2: ISS (cycle, instret)"):
        assert what in text
    assert "region 2->3" not in text  # mark 3 is right again: only the region before mark 2
    assert c.regions()[1][3][0] == c.regions()[1][2][0] + 3
    assert "DIFFERENT" in c.report()
    assert xc.compare(elf, rtl=lambda _: real).equal


def test_snippets_may_not_write_reserved_registers():
    with pytest.raises(ValueError, match="snippet writes reserved register t5"):
        xc.snippet_program(["addi t5, t5, 1"])
    with pytest.raises(ValueError, match="kind must be 'asm' or 'c', not 'x'"):
        xc.randprog_elf("x", 0)


def test_kernel_agreement_rows_and_table():
    rows = xc.kernel_agreement({"fc": FC}, ["1:8", "2:8"], log=lambda m: None,
                               kernels=("dense_1x2", "dense_4x2", "sw", "xdec", "xdec4"))
    assert [(r.kernel, r.pattern) for r in rows] == [
        ("dense_1x2", "dense"), ("dense_4x2", "dense"), ("sw", "1:8"), ("sw", "2:8"),
        ("xdec", "1:8"), ("xdec", "2:8"), ("xdec4", "1:8"), ("xdec4", "2:8")]
    for r in rows:
        assert (r.equal, r.bit_exact, r.rtl_cycles - r.iss_cycles) == (True, True, 0), r
    assert "| fc | fc | 2:8 | xdec4 |" in xc.agreement_markdown(rows)
    with pytest.raises(ValueError, match=r"no xDecimate on the stock core\), not \['xdec'\]"):
        xc.kernel_agreement({"fc": FC}, ["1:8"], kernels=("sw", "xdec"), core="stock")


# --------------------------------------------------------------------------------------------
# Jumps to a 2-byte-aligned target (docs/iss.md, "Agreement with the RTL")

#: addi x0, x2, 0 (a nop) whose upper half 0x0001 is c.nop: a jump to its middle runs c.nop on
#: the CV32E40P (which has C) and falls into the next instruction.
_HALF_NOP = ".word 0x00010013"
_MISALIGNED_JUMPS = {  # (misaligned case, its ISS equivalent: the jump replaced by ecall)
    "jal": ("li a4, 85\njal a4, 6\n{w}\nnop\nsw a4, 0(s11)",
            "li a4, 85\necall\nnop\nnop\nsw a4, 8(s11)"),
    "jalr": ("li a4, 85\nauipc a5, 0\naddi a5, a5, 14\njalr a4, 0(a5)\n{w}\nnop\nsw a4, 4(s11)",
             "li a4, 85\nauipc a5, 0\naddi a5, a5, 14\necall\nnop\nnop\nsw a4, 12(s11)"),
    "taken branch": ("beq zero, zero, 6\n{w}\nnop", "ecall\nnop\nnop"),
}


def test_jump_to_halfword_target_traps_on_the_iss_and_runs_c_on_the_rtl():
    cases = list(_MISALIGNED_JUMPS.values())
    snippets = [s for mis, ref in cases for s in (mis.format(w=_HALF_NOP), ref)]
    # and the same with a 4-byte-aligned target (the 32-bit nop): the RTL's reference
    snippets += [mis.replace("6\n", "4\n").replace(", 14\n", ", 12\n").format(w="nop")
                 .replace("0(s11)", "16(s11)").replace("4(s11)", "20(s11)") for mis, _ in cases]
    elf = xc.snippet_elf(snippets, handler="record")
    c = xc.compare(elf)
    iss_regions = [r[2] for r in c.regions()[0::2]]
    rtl_regions = [r[3] for r in c.regions()[0::2]]
    k = len(cases)
    for i in range(k):
        # ISS: the jump traps like an ecall at its place, after its hazard cycles (the jalr
        # waits one cycle for a5: jalr_dep), and does not retire
        hazard = 1 if i == 1 else 0
        assert iss_regions[2 * i] == (iss_regions[2 * i + 1][0] + hazard,
                                      iss_regions[2 * i + 1][1])
        assert rtl_regions[2 * i + 1] == iss_regions[2 * i + 1]  # the ecall references agree
        # RTL: the 16-bit c.nop at the 2-byte target costs what the aligned 32-bit nop costs
        assert rtl_regions[2 * i] == rtl_regions[2 * k + i] == iss_regions[2 * k + i]
    n_iss, traps_iss = xc.trap_records(elf, c.iss)
    n_rtl, traps_rtl = xc.trap_records(elf, c.rtl)
    assert (n_iss, n_rtl) == (2 * k, k)
    # ISS: mcause 0 (instruction address misaligned), mepc = the jump, mtval 0 (hard-wired,
    # as on the CV32E40P); the RTL only traps on the ecalls
    jumps = [t for t in traps_iss if t[0] == 0]
    assert [t for t in traps_iss if t[0] != 0] == traps_rtl
    assert len(jumps) == k
    assert all(t[2] == 0 for t in jumps)
    # rd of the trapping jal / jalr is not written
    assert struct.unpack("<2I", c.iss.memory[:8]) == (85, 85)
    rtl_words = struct.unpack("<2I", c.rtl.memory[:8])
    assert [w - 4 for w in rtl_words] == [jumps[0][1], jumps[1][1]]  # RTL: rd = pc + 4


def test_misaligned_jump_corner_cases_agree():
    # a not-taken branch with a 2-byte offset does not trap; jalr clears bit 0 of its target
    snippets = ["bne zero, zero, 6\nnop\nnop",
                "li a4, 85\nauipc a5, 0\naddi a5, a5, 13\njalr a4, 0(a5)\nnop\nnop\n"
                "sw a4, 8(s11)"]
    for mode in MODES:
        _agree(xc.compare(xc.snippet_elf(snippets, handler="record"), iss_run=_iss(mode)))


@pytest.mark.parametrize("mode", list(MODES))
def test_misaligned_jumps_in_every_iss_mode(mode):
    snippets = [mis.format(w=_HALF_NOP) for mis, _ in _MISALIGNED_JUMPS.values()]
    elf = xc.snippet_elf(snippets, handler="record")
    base = _iss("loops+blocks")(elf)
    got = _iss(mode)(elf)
    assert (got.cycles, got.instret, got.marks, got.memory) == \
        (base.cycles, base.instret, base.marks, base.memory)
