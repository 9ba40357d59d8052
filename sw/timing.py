"""Timing model of the ISS: an in-order, single-issue, CV32E40P-like 4-stage pipeline, as rules.

Every instruction row of :mod:`xdecimate.sw.isa` names a *timing class*; :data:`TIMING` gives each
class its issue cycles.  :data:`HAZARDS` lists the extra cycles that depend on neighbours or on
operand values.  The ISS (:mod:`xdecimate.sw.iss`) applies exactly these rules and nothing else;
``docs/iss.md`` quotes :func:`markdown_table` verbatim (a test keeps them identical).

Sources ("manual" = CV32E40P user manual v1.8.3, shipped in the PyPI package
``pythondata-cpu-cv32e40p`` under ``system_verilog/docs/source/``; "RTL" = the ``rtl/`` folder of
the same package, tag ``cv32e40p_v1.8.3``).  Rules marked *estimate* are ours and are the first to
check against the RTL.  Assumptions: zero-wait-state instruction and data memories, no
compressed instructions (all targets word aligned), no interrupts, no debug.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import xdec_spec

__all__ = [
    "CSR_SLOW",
    "HAZARDS",
    "TIMING",
    "Hazard",
    "Rule",
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


#: CSRs whose access takes 4 cycles (manual: the access flushes the pipeline); 1 for the others.
CSR_SLOW: frozenset[int] = frozenset(
    {0x300, 0x341, 0x305, 0x342, 0xB00, 0xB02, 0xB80, 0xB82, 0x320}
    | set(range(0xB03, 0xB20)) | set(range(0xB83, 0xBA0)) | set(range(0x323, 0x340))
    | {0x7B0, 0x7B1, 0x7B2, 0x7B3}
)

_XDEC = xdec_spec.instruction("xdec.lb")

#: Timing classes.  ``cycles`` is an int for fixed costs, a formula string otherwise.
TIMING: dict[str, Rule] = {r.name: r for r in (
    Rule("alu", 1, "RV32I computational, lui/auipc, fence, wfi, cv.min/max/clip/abs", _MANUAL),
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
         "mcause, mcycle(h), minstret(h), mhpmcounter*, mcountinhibit, mhpmevent*, dcsr, dpc, "
         "dscratch*), 1 for the others (mscratch, xdec, lpstart/lpend/lpcount, ...)", _MANUAL),
    Rule("fence_i", 2, "fence.i (implemented as a jump to the next instruction)", _MANUAL),
    Rule("hwloop", 1, "cv.setup*, cv.start*, cv.end*, cv.count*", "manual corev_hw_loop.rst "
         "(the setup instructions are single-cycle ALU-free writes)"),
    Rule("simd", 1, "cv.dot*.b / cv.sdot*.b (single-cycle dot-product multiplier)", _MANUAL),
    Rule("trap", 4, "ecall/ebreak/illegal instruction: the trapping instruction plus the "
         "pipeline flush until the handler's first instruction issues",
         "estimate (controller FSM DECODE -> FLUSH_EX -> FLUSH_WB -> fetch of mtvec)"),
    Rule("mret", 4, "mret: flush and jump to mepc",
         "estimate (controller FSM DECODE -> FLUSH_EX -> FLUSH_WB -> fetch of mepc)"),
    Rule(_XDEC.mnemonic, _XDEC.cycles, "xDecimate indexed byte load (like a byte load)",
         "sw/xdec_spec.py (Encoding.cycles)"),
)}

#: Extra cycles on top of :data:`TIMING`.
HAZARDS: tuple[Hazard, ...] = (
    Hazard("load_use", 1, "the instruction right after a load (any cv.l*, xdec.lb) reads the "
           "loaded register (as rs1, rs2, or rd for accumulating instructions and xdec.lb); "
           "applies across a hardware-loop back edge and into the instruction after the loop. "
           f"xdec.lb uses load_use = {_XDEC.load_use} from sw/xdec_spec.py",
           "manual pipeline.rst, Hazards"),
    Hazard("jalr_dep", 1, "jalr reads a register written by the immediately preceding "
           "instruction (on top of load_use if that was a load)", "manual pipeline.rst, Hazards"),
    Hazard("branch_taken", 2, "a taken conditional branch costs 3 instead of 1", _MANUAL),
    Hazard("misaligned", 1, "word access not 4-byte aligned, or halfword access crossing a word "
           "boundary (two bus transactions)", _MANUAL),
    Hazard("hwloop_back_edge", 0, "the jump from the last instruction of a hardware-loop body to "
           "its start costs nothing", "manual corev_hw_loop.rst ('zero stall cycles')"),
)

_HAZ = {h.name: h.cycles for h in HAZARDS}
LOAD_USE = _HAZ["load_use"]
JALR_DEP = _HAZ["jalr_dep"]
BRANCH_TAKEN = _HAZ["branch_taken"]
MISALIGNED = _HAZ["misaligned"]


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
        rows.append(f"| `{h.name}` | +{h.cycles} | {h.doc} | {h.source} |")
    return "\n".join(rows)
