"""Timing model of the ISS: an in-order, single-issue, CV32E40P-like 4-stage pipeline, as rules.

Every instruction row of :mod:`xdecimate.sw.iss.isa` names a *timing class*; :data:`TIMING` gives
each class its issue cycles.  :data:`HAZARDS` lists the extra cycles that depend on neighbours or on
operand values.  The ISS (:mod:`xdecimate.sw.iss.iss`) applies exactly these rules and nothing else;
``docs/iss.md`` quotes :func:`markdown_table` verbatim (a test keeps them identical).

Sources ("manual" = CV32E40P user manual v1.8.3, shipped in the PyPI package
``pythondata-cpu-cv32e40p`` under ``system_verilog/docs/source/``; "RTL" = the ``rtl/`` folder of
the same package, tag ``cv32e40p_v1.8.3``; "RTL measured" = the directed microbenchmarks of
:mod:`xdecimate.sw.bench.crosscheck`, run on that RTL).  Assumptions: zero-wait-state instruction
and data memories, no compressed instructions (all targets word aligned), no interrupts, no debug.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import xdec_spec

__all__ = [
    "CLASS_OVERRIDES",
    "CSR_SLOW",
    "EX_MULTICYCLE",
    "HAZARDS",
    "TIMING",
    "Hazard",
    "Rule",
    "class_of",
    "div_cycles",
    "markdown_table",
]

_MANUAL = "manual pipeline.rst, table 'Cycle counts per instruction type'"


@dataclass(frozen=True)
class Rule:
    """Issue cycles of one timing class (hazard stalls come on top, see :data:`HAZARDS`)."""

    name: str
    cycles: int | str
    doc: str
    source: str


@dataclass(frozen=True)
class Hazard:
    """One extra-cycle rule that depends on neighbouring instructions or operand values."""

    name: str
    cycles: int
    doc: str
    source: str


#: CSRs whose access takes 4 cycles (the access flushes the pipeline); 1 for the others.  The
#: set is the RTL decoder's ``csr_status_o`` (cv32e40p_decoder.sv): mstatus, mepc, mtvec, mcause,
#: the machine counters and events, mcountinhibit, their user read-only mirrors (cycle,
#: instret, hpmcounter*), the debug CSRs and XpulpV2's privlv.
CSR_SLOW: frozenset[int] = frozenset(
    {0x300, 0x341, 0x305, 0x342, 0xB00, 0xB02, 0xB80, 0xB82, 0x320}
    | set(range(0xB03, 0xB20)) | set(range(0xB83, 0xBA0)) | set(range(0x323, 0x340))
    | set(range(0xC00, 0xC20)) | set(range(0xC80, 0xCA0))
    | {0x7B0, 0x7B1, 0x7B2, 0x7B3, 0xCD1}
)

_XDEC = xdec_spec.instruction("xdec.lb")

_RTL = "RTL measured (sw/bench/crosscheck.py MICROBENCHMARKS)"

#: Timing classes.  ``cycles`` is an int for fixed costs, a formula string otherwise.
TIMING: dict[str, Rule] = {r.name: r for r in (
    Rule("alu", 1, "RV32I computational, lui/auipc, wfi, cv.min/max/clip/abs, bit "
         "manipulation and byte packing (cv.extract[u], cv.insert, cv.pack*, cv.shuffle*, "
         "cv.extract[u].b, cv.insert.b)", _MANUAL),
    Rule("mul", 1, "mul, cv.mac, cv.msu (single-cycle 32x32 multiplier)", _MANUAL),
    Rule("mulh", 5, "mulh, mulhsu, mulhu (upper word)", _MANUAL),
    Rule("div", "3 + s", "div/divu/rem/remu: s = shift count of the serial divider, see "
         "div_cycles(): s = clz(rs2) (32 for rs2 = 0) unsigned or rs2 >= 0; s = clz(~rs2) - 1 "
         "(31 for rs2 = -1) signed with rs2 < 0; 3..35 cycles",
         "manual (3..35, 'depends on the leading zeros of operand b'); formula from RTL "
         "cv32e40p_alu.sv (div_shift) and cv32e40p_alu_div.sv (IDLE, s+1 DIVIDE, FINISH)"),
    Rule("load", 1, "all loads incl. post-increment and register-indexed cv.l*", _MANUAL),
    Rule("store", 1, "all stores incl. cv.s*", _MANUAL),
    Rule("branch", "1 / 3", "conditional branch: 1 not taken, 3 taken (decided in EX)", _MANUAL),
    Rule("jal", 2, "jal (taken in ID)", _MANUAL),
    Rule("jalr", 2, "jalr (taken in ID)", _MANUAL),
    Rule("csr", "1 / 4", "CSR instructions: 4 for the CSRs in CSR_SLOW (mstatus, mepc, mtvec, "
         "mcause, mcycle(h), minstret(h), mhpmcounter*, mcountinhibit, mhpmevent*, their user "
         "mirrors cycle(h), instret(h), hpmcounter*, dcsr, dpc, dscratch*, privlv), 1 for the "
         "others "
         "(mscratch, xdec, lpstart/lpend/lpcount, ...)",
         f"{_MANUAL}; the set is the RTL decoder's csr_status_o (cv32e40p_decoder.sv); the user "
         "mirrors measured"),
    Rule("fence", 4, "fence: the controller flushes the pipeline (DECODE -> FLUSH_EX -> "
         "FLUSH_WB) and refetches the next instruction, like fence.i",
         f"{_RTL}; RTL cv32e40p_decoder.sv decodes FENCE as FENCE.I ('a bit more "
         "conservative')"),
    Rule("fence_i", 4, "fence.i: flush and refetch the next instruction",
         f"{_RTL} (the manual's table says 2); RTL cv32e40p_controller.sv fencei_insn_i"),
    Rule("hwloop", 1, "cv.setup*, cv.start*, cv.end*, cv.count*", "manual corev_hw_loop.rst "
         "(the setup instructions are single-cycle ALU-free writes)"),
    Rule("simd", 1, "cv.dot*.b / cv.sdot*.b (single-cycle dot-product multiplier)", _MANUAL),
    Rule("trap", 4, "ecall, ebreak, an illegal CSR access (unknown CSR, write to a read-only "
         "one), and (ISS only) a jump or taken branch to a target that is not 4-byte aligned: "
         "from the trapping instruction to the handler's first instruction leaving ID, after "
         "the trapping instruction's own hazard cycles (e.g. a load-use stall on its operands); "
         "the trapping instruction does not retire (not counted in minstret)",
         f"{_RTL}; RTL cv32e40p_id_stage.sv:1639 (minstret excludes illegal/ecall/ebreak); "
         "controller DECODE -> FLUSH_EX -> FLUSH_WB -> fetch of mtvec"),
    Rule("trap_illegal", 5, "a word that decodes to no instruction, and an xdec.lb whose CSR "
         "holds a configuration the core does not implement: as trap, one cycle more",
         f"{_RTL}; the decoder clears every EX enable of an illegal instruction, so FLUSH_EX "
         "waits one more cycle for ex_valid (RTL cv32e40p_controller.sv:923, "
         "cv32e40p_ex_stage.sv:476); an illegal CSR access keeps csr_access and does not. "
         "xdec.lb: measured on the extended core (hw/cv32e40p/xdecimate.patch feeds the "
         "decompress's illegal flag into the decoder's illegal_insn_o)"),
    Rule("mret", 5, "mret: flush and jump to mepc",
         f"{_RTL} (controller DECODE -> FLUSH_EX -> FLUSH_WB -> XRET_JUMP -> fetch of mepc)"),
    Rule(_XDEC.mnemonic, _XDEC.cycles, "xDecimate indexed byte load (like a byte load)",
         "sw/model/xdec_spec.py (Encoding.cycles)"),
)}

#: Instructions whose timing class here supersedes the class named by their ISA-table row
#: (``sw/iss/isa.py`` still names ``alu`` for ``fence``); :func:`class_of` applies it.
CLASS_OVERRIDES: dict[str, str] = {}

#: Timing classes that keep EX busy for more than one cycle (see the ``jump_overlap`` hazard);
#: a misaligned load or store (two bus transactions) does too.
EX_MULTICYCLE: frozenset[str] = frozenset({"mulh", "div"})

#: Extra cycles on top of :data:`TIMING` (negative: cycles saved by an overlap).
HAZARDS: tuple[Hazard, ...] = (
    Hazard("load_use", 1, "the instruction right after a load (any cv.l*, xdec.lb) reads the "
           "loaded register (as rs1, rs2, or rd for accumulating instructions and xdec.lb); "
           "applies across a hardware-loop back edge and into the instruction after the loop. "
           f"xdec.lb uses load_use = {_XDEC.load_use} from sw/model/xdec_spec.py",
           "manual pipeline.rst, Hazards"),
    Hazard("load_waw", 1, "the instruction right after a load writes the loaded register "
           "through the ALU write port without reading it (any instruction but a load, jal or "
           "jalr; e.g. lw a0 then li a0): the same stall as a load-use; also for x0 (a load to "
           "x0, then any ALU write to x0 such as nop: the RTL compares the write addresses "
           "without excluding x0); applies across a hardware-loop back edge and into the "
           "instruction after the loop",
           f"{_RTL}; RTL cv32e40p_controller.sv load_stall_o (regfile_waddr_ex_i == "
           "regfile_alu_waddr_id_i)"),
    Hazard("xdec_csr", 1, "xdec.lb right after an instruction that writes the xdec CSR "
           "(csrrw/csrrwi, or csrrs/csrrc/csrrsi/csrrci with a non-zero rs1 or uimm): the xdec.lb "
           "waits one cycle in ID, so that it and its trap decision use the written value; "
           "applies across a hardware-loop back edge",
           "RTL hw/cv32e40p/xdecimate.patch: cv32e40p_id_stage.sv xdec_csr_stall (a write of CSR "
           "xdec in EX) through the controller's load stall"),
    Hazard("xdec_hwloop_decode", 1, "an xdec.lb with rd != x0 as the last instruction of a "
           "hardware-loop body whose back edge is taken in DECODE (the hwloop_decode case): one "
           "cycle more, also where a load-use stall across the back edge hides the bubble "
           "itself; an xdec.lb to x0 costs what a byte load does",
           "measured on the extended core (xdec.lb last, after a slow CSR access in the body: "
           "+1 per back edge over lb in its place, none with rd = x0; 120 directed variants and "
           "the 5,000 random programs); the RTL line that causes it is not yet pinned down "
           "(the one difference to lb is that xdec.lb reads rd through operand port C)"),
    Hazard("jalr_dep", 1, "jalr reads a register written by the immediately preceding "
           "instruction (on top of load_use if that was a load)", "manual pipeline.rst, Hazards"),
    Hazard("jalr_self", 1, "jalr whose rd is its rs1 (not x0), unless the jump overlaps (below): "
           "in the cycle after the jalr leaves ID, the stale jalr still in ID sees its own "
           "write in EX as a jalr dependency and holds the fetched target one cycle",
           f"{_RTL}; RTL cv32e40p_controller.sv:1368-1377 (jr_stall_o does not check "
           "instr_valid)"),
    Hazard("jalr_wb", 1, "jalr reads a register loaded by the instruction two before it, and "
           "the instruction in between took one cycle without a stall: the load is still in WB "
           "(jr_stall_o on regfile_we_wb_i). The two predecessors are taken at pc - 8 and pc - 4",
           f"{_RTL}; RTL cv32e40p_controller.sv:1368-1371"),
    Hazard("jump_overlap", -1, "a jal, or a jalr that does not read the previous instruction's "
           "result, right after an instruction that keeps EX busy (EX_MULTICYCLE: mulh*, "
           "div/rem; or a misaligned load/store, unless the jump writes the loaded register) costs "
           "1 instead of 2: the jump target is fetched while the jump waits in ID (also for "
           "the first instruction after a hardware loop); it hides a jalr_self bubble too",
           f"{_RTL}; RTL cv32e40p_controller.sv:543-553 (jump_in_dec sets the pc while ID is "
           "stalled, unless jr_stall_o)"),
    Hazard("branch_taken", 2, "a taken conditional branch costs 3 instead of 1", _MANUAL),
    Hazard("misaligned", 1, "word access not 4-byte aligned, or halfword access crossing a word "
           "boundary (two bus transactions)", _MANUAL),
    Hazard("hwloop_back_edge", 0, "the jump from the last instruction of a hardware-loop body to "
           "its start costs nothing", "manual corev_hw_loop.rst ('zero stall cycles')"),
    Hazard("hwloop_decode", 1, "... except when the first instruction decoded after a "
           "pipeline flush (the one after a slow CSR access or fence.i, or the mret target) is "
           "the second-to-last or last of the body: the controller is then in DECODE instead "
           "of DECODE_HWLOOP and takes the back edge as a jump (like jal) instead of a "
           "prefetched target. Not modelled: fence/fence.i inside a body (the RTL treats them "
           "as 1-cycle no-ops in DECODE_HWLOOP, see docs/iss.md)",
           f"{_RTL}; RTL cv32e40p_controller.sv:620-627 (DECODE keeps DECODE for the "
           "second-to-last instruction, 'This way looses a cycle') and :629-650 (PC_HWLOOP jump "
           "at the last one)"),
)

_HAZ = {h.name: h.cycles for h in HAZARDS}
LOAD_USE = _HAZ["load_use"]
JALR_DEP = _HAZ["jalr_dep"]
JALR_SELF = _HAZ["jalr_self"]
JALR_WB = _HAZ["jalr_wb"]
BRANCH_TAKEN = _HAZ["branch_taken"]
MISALIGNED = _HAZ["misaligned"]
LOAD_WAW = _HAZ["load_waw"]
JUMP_OVERLAP = _HAZ["jump_overlap"]
HWLOOP_DECODE = _HAZ["hwloop_decode"]
XDEC_CSR = _HAZ["xdec_csr"]
XDEC_HWLOOP_DECODE = _HAZ["xdec_hwloop_decode"]


def class_of(insn: object) -> str:
    """The timing class of an ISA-table row (:data:`CLASS_OVERRIDES` applied)."""
    return CLASS_OVERRIDES.get(insn.id, insn.timing)  # type: ignore[attr-defined]


def _clz32(x: int) -> int:
    return 32 - (x & 0xFFFF_FFFF).bit_length()


def div_cycles(signed: bool, divisor: int) -> int:
    """Cycles of a div/rem (``signed``) or divu/remu with 32-bit ``divisor`` (rs2).

    From RTL: the ALU computes a shift count ``s`` from the divisor (``div_shift``); the serial
    divider then spends 1 cycle loading, ``s + 1`` cycles dividing and 1 cycle finishing.
    """
    b = divisor & 0xFFFF_FFFF
    if signed and b >> 31:
        inv = ~b & 0xFFFF_FFFF
        s = 31 if inv == 0 else _clz32(inv) - 1
    else:
        s = _clz32(b) if b else 32
    return 3 + s


def markdown_table() -> str:
    """The timing rules as markdown (quoted by ``docs/iss.md``)."""
    rows = ["| Timing class | Cycles | Applies to | Source |", "|---|---|---|---|"]
    rows += [f"| `{r.name}` | {r.cycles} | {r.doc} | {r.source} |" for r in TIMING.values()]
    rows += ["", "| Hazard | Extra cycles | When | Source |", "|---|---|---|---|"]
    for h in HAZARDS:
        rows.append(f"| `{h.name}` | {h.cycles:+d} | {h.doc} | {h.source} |")
    return "\n".join(rows)
