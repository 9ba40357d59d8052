"""Instruction-set simulator: RV32IM + Zicsr + the XpulpV2 subset + xDecimate, with a timing model.

Semantics come from the ISA table (:mod:`xdecimate.sw.iss.isa`, one code template per semantics id
below), cycles from the timing rules (:mod:`xdecimate.sw.iss.timing`), the memory map from
:mod:`xdecimate.sw.iss.memmap`, and ``xdec.lb`` is executed by
:func:`xdecimate.sw.model.xdec_ref.xdec_lb`.

How it is fast enough (≥ 1 M instructions/s on kernel loops, see ``docs/iss.md``):

* **Basic-block translation.**  A block (straight-line instructions up to a branch/jump, a system
  instruction, or a hardware-loop end) is turned into Python source once, compiled, and cached by
  its start pc.  Registers live in Python locals inside the block (loaded on entry, written back
  in a ``finally``).  Cycles and instruction counts are folded per block: the static part
  (issue cycles and load-use stalls, known from the straight-line order) is one constant; only
  value-dependent costs (taken branches, division, misaligned accesses) are added at run time.
* **Hardware-loop bodies** (straight-line, no system instruction) become one generated function
  that runs all remaining iterations in a ``while`` loop with the registers in locals.
* A trap inside generated code is located by the traceback line number (each line of generated
  code belongs to one instruction), so precise traps cost nothing on the fast path.

State, memory and counters are exact at every trap, ``MMIO_MARK`` store and exit.  The result is a
:class:`xdecimate.sw.iss.target.RunResult`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from ..model import xdec_ref, xdec_spec
from . import isa, memmap, timing
from .target import Mark, RunResult, TargetError

__all__ = ["Iss", "run_elf"]

M32 = 0xFFFF_FFFF
_PAGE = 12
_XDEC_CNT = xdec_spec.field("cnt")

# mcause values
CAUSE_FETCH_MISALIGNED = 0
CAUSE_FETCH_FAULT = 1
CAUSE_ILLEGAL = 2
CAUSE_BREAKPOINT = 3
CAUSE_LOAD_FAULT = 5
CAUSE_STORE_FAULT = 7
CAUSE_ECALL_M = 11

# CSR addresses
CSR_MSTATUS, CSR_MISA, CSR_MIE, CSR_MTVEC = 0x300, 0x301, 0x304, 0x305
CSR_MCOUNTINHIBIT, CSR_MSCRATCH, CSR_MEPC, CSR_MCAUSE = 0x320, 0x340, 0x341, 0x342
CSR_MTVAL, CSR_MIP = 0x343, 0x344
CSR_MCYCLE, CSR_MINSTRET, CSR_MCYCLEH, CSR_MINSTRETH = 0xB00, 0xB02, 0xB80, 0xB82
CSR_CYCLE, CSR_INSTRET, CSR_CYCLEH, CSR_INSTRETH = 0xC00, 0xC02, 0xC80, 0xC82
CSR_LP = {0xCC0: (0, "start"), 0xCC1: (0, "end"), 0xCC2: (0, "count"),
          0xCC4: (1, "start"), 0xCC5: (1, "end"), 0xCC6: (1, "count")}
CSR_MVENDORID, CSR_MARCHID, CSR_MIMPID, CSR_MHARTID = 0xF11, 0xF12, 0xF13, 0xF14
CSR_MHPMCOUNTER3, CSR_MHPMCOUNTER3H, CSR_MHPMEVENT3 = 0xB03, 0xB83, 0x323
CSR_HPMCOUNTER3, CSR_HPMCOUNTER3H = 0xC03, 0xC83
#: misa of an RV32IM core with custom extensions (X bit).  The CV32E40P also sets C (bit 2):
#: the ISS has no compressed instructions (docs/iss.md, "Agreement with the CV32E40P RTL").
MISA = (1 << 30) | (1 << 8) | (1 << 12) | (1 << 23)
#: Write masks (WARL) of the CV32E40P v1.8.3 (RTL cv32e40p_cs_registers.sv; measured by the
#: CSR scans of sw/bench/crosscheck.py): mie holds the fast interrupts 31..16 and MEIE, MTIE,
#: MSIE; mcause the interrupt bit and a 5-bit code; mhpmevent3 the 16 event selectors.
MIE_MASK, MCAUSE_MASK, MHPMEVENT_MASK = 0xFFFF_0888, 0x8000_001F, 0xFFFF
#: CSRs with constant contents on the CV32E40P v1.8.3 as configured in sim/cv32e40p_tb_top.sv
#: (COREV_PULP = 1, NUM_MHPMCOUNTERS = 1, debug triggers on, not in debug mode): mvendorid
#: (OpenHW bank 0xC, offset 0x2), marchid 4, mimpid 1 (COREV_PULP), mhartid 0, the trigger
#: CSRs tselect, tdata1 (an mcontrol trigger, only writable in debug mode), tdata2, tdata3,
#: tinfo (type 2), mcontext, scontext, the unimplemented counters mhpmcounter4..31(h) and
#: events mhpmevent4..31, their user mirrors hpmcounter4..31(h), and uhartid, privlv (3:
#: machine mode) and zfinx (0) of XpulpV2.  Writes to the writable ones (below 0xC00) are
#: ignored; 0xC00 and above are read-only (a write traps).
CSR_CONSTANT: dict[int, int] = {
    CSR_MVENDORID: 0x602, CSR_MARCHID: 4, CSR_MIMPID: 1, CSR_MHARTID: 0,
    0x7A0: 0, 0x7A1: 0x2800_1040, 0x7A2: 0, 0x7A3: 0, 0x7A4: 4, 0x7A8: 0, 0x7AA: 0,
    **dict.fromkeys((*range(0xB04, 0xB20), *range(0xB84, 0xBA0), *range(0x324, 0x340),
                     *range(0xC04, 0xC20), *range(0xC84, 0xCA0)), 0),
    0xCD0: 0, 0xCD1: 3, 0xCD2: 0,
}

_TRAP_CYCLES: int = timing.TIMING["trap"].cycles  # type: ignore[assignment]
_TRAP_ILLEGAL_CYCLES: int = timing.TIMING["trap_illegal"].cycles  # type: ignore[assignment]
#: Not allowed in a hardware-loop body (manual corev_hw_loop.rst; the RTL's DECODE_HWLOOP state
#: executes them as 1-cycle no-ops: fence.i does not refetch, mret does not return).
_LOOP_FORBIDDEN = frozenset({"fence", "fence_i", "mret", "wfi"})
_BRANCH_SEMS = {"beq", "bne", "blt", "bge", "bltu", "bgeu"}
#: DMA registers (memmap.py) -> name.
_DMA_REGS = {memmap.MMIO_DMA_SRC: "src", memmap.MMIO_DMA_DST: "dst",
             memmap.MMIO_DMA_LEN: "len", memmap.MMIO_DMA_ROWS: "rows",
             memmap.MMIO_DMA_SSTRIDE: "sstride", memmap.MMIO_DMA_DSTRIDE: "dstride",
             memmap.MMIO_DMA_START: "start", memmap.MMIO_DMA_WAIT: "wait"}
_SYSTEM_SEMS = {"csr", "hwloop", "ecall", "ebreak", "mret", "wfi", "fence_i"}


class _AccessFault(Exception):  # noqa: N818 -- the architectural name of the trap
    def __init__(self, cause: int, addr: int, what: str, extra: int = 0) -> None:
        super().__init__(f"{what} access fault at 0x{addr:08x}")
        self.cause = cause
        self.addr = addr
        #: hazard cycles of the trapping instruction before it traps (a jump's operand stalls)
        self.extra = extra


def _jump_misaligned(target: int, extra: int) -> None:
    """A jump or taken branch to ``target`` (not 4-byte aligned: IALIGN = 32) traps itself:
    mepc = the jump, rd not written (RISC-V privileged spec, instruction-address-misaligned)."""
    raise _AccessFault(CAUSE_FETCH_MISALIGNED, target, "instruction-address-misaligned jump to",
                       extra)


class _IllegalEncoding(xdec_ref.IllegalInstruction):
    """A word that decodes to no instruction (trap timing ``trap_illegal``)."""


class _Exit(Exception):  # noqa: N818 -- control flow, not an error
    def __init__(self, code: int, cycles: int, instret: int) -> None:
        super().__init__(code)
        self.code, self.cycles, self.instret = code, cycles, instret


# --------------------------------------------------------------------------------------------
# Arithmetic helpers used by generated code
# --------------------------------------------------------------------------------------------


def _s32(x: int) -> int:
    return (x ^ 0x8000_0000) - 0x8000_0000


def _div(a: int, b: int) -> int:
    if b == 0:
        return M32
    sa, sb = _s32(a), _s32(b)
    if sa == -0x8000_0000 and sb == -1:
        return a
    q = abs(sa) // abs(sb)
    return (-q if (sa < 0) != (sb < 0) else q) & M32


def _rem(a: int, b: int) -> int:
    if b == 0:
        return a
    sa, sb = _s32(a), _s32(b)
    if sa == -0x8000_0000 and sb == -1:
        return 0
    r = abs(sa) % abs(sb)
    return (-r if sa < 0 else r) & M32


def _divu(a: int, b: int) -> int:
    return a // b if b else M32


def _remu(a: int, b: int) -> int:
    return a % b if b else a


def _divc_s(b: int) -> int:
    return timing.div_cycles(True, b)


def _divc_u(b: int) -> int:
    return timing.div_cycles(False, b)


# --------------------------------------------------------------------------------------------
# Code templates: one per semantics id of the ISA table
# --------------------------------------------------------------------------------------------

_DOT_SIGNS = {"up": (False, False), "usp": (False, True), "sp": (True, True)}


def _byte(expr: str, k: int, signed: bool) -> str:
    b = f"{expr} & 255" if k == 0 else (f"{expr} >> 24" if k == 3 else f"{expr} >> {8 * k} & 255")
    return f"(({b} ^ 128) - 128)" if signed else f"({b})"


class _Gen:
    """Emits Python source for one instruction; registers are locals ``x1``..``x31``."""

    def __init__(self, pc: int, d: isa.Decoded, cyc_through: int, ins_through: int,
                 nxt: isa.Decoded | None = None, mis: str | None = None) -> None:
        self.pc, self.d, self.o = pc, d, d.ops
        self.cyc, self.ins = cyc_through, ins_through
        # a jump right after a store: it resolves in ID while a stalled store waits in EX
        # (a DMA_WAIT store, Iss._dma_reg), so one cycle of its penalty hides in the stall
        self.nj = int(nxt is not None and nxt.insn.sem in ("jal", "jalr"))
        # extra cycles of a misaligned access (an expression when it depends on the loop count)
        self.mis = mis if mis is not None else str(_misaligned_cost(d, nxt))  # no jalr_wb

    def r(self, field: str) -> str:
        n = self.o[field]
        return f"x{n}" if n else "0"

    def w(self, field: str) -> str:
        n = self.o[field]
        return f"x{n}" if n else "_"

    # memory access snippets ----------------------------------------------------------------
    def load(self, dst: str, addr: str, size: int, signed: bool) -> list[str]:
        if size == 4:
            return [f"if {addr} & 3 or not PR[{addr} >> {_PAGE}]: "
                    f"{dst} = LD({addr}, 4, 0, {self.mis})",
                    f"else: {dst} = FW[{addr} >> 2]"]
        if size == 2:
            view = f"FSH[{addr} >> 1] & {M32}" if signed else f"FH[{addr} >> 1]"
            return [f"if {addr} & 1 or not PR[{addr} >> {_PAGE}]: "
                    f"{dst} = LD({addr}, 2, {int(signed)}, {self.mis})",
                    f"else: {dst} = {view}"]
        view = f"FSB[{addr}] & {M32}" if signed else f"FB[{addr}]"
        return [f"if not PR[{addr} >> {_PAGE}]: {dst} = LD({addr}, 1, {int(signed)}, 0)",
                f"else: {dst} = {view}"]

    def store(self, addr: str, val: str, size: int) -> list[str]:
        slow = f"ST({addr}, {size}, {val}, {self.cyc}, {self.ins}, {self.mis}, {self.nj})"
        if size == 4:
            return [f"if {addr} & 3 or not PW[{addr} >> {_PAGE}]: {slow}",
                    f"else: FW[{addr} >> 2] = {val}"]
        if size == 2:
            return [f"if {addr} & 1 or not PW[{addr} >> {_PAGE}]: {slow}",
                    f"else: FH[{addr} >> 1] = {val} & 0xFFFF"]
        return [f"if not PW[{addr} >> {_PAGE}]: {slow}", f"else: FB[{addr}] = {val} & 255"]

    # templates -----------------------------------------------------------------------------
    def code(self) -> list[str]:
        sem = self.d.insn.sem
        fn = getattr(self, f"s_{sem}", None)
        if fn is not None:
            return fn()
        if sem in _ALU_RR:
            return [f"{self.w('rd')} = " + _ALU_RR[sem].format(a=self.r("rs1"), b=self.r("rs2"))]
        if sem in _ALU_RI:
            imm = self.o.get("imm", self.o.get("shamt", 0))
            return [f"{self.w('rd')} = " + _ALU_RI[sem].format(
                a=self.r("rs1"), i=imm, iu=imm & M32, iux=(imm & M32) ^ 0x8000_0000)]
        raise AssertionError(f"no ISS template for semantics {sem!r}")

    def s_lui(self) -> list[str]:
        return [f"{self.w('rd')} = {(self.o['imm'] << 12) & M32}"]

    def s_auipc(self) -> list[str]:
        return [f"{self.w('rd')} = {(self.pc + (self.o['imm'] << 12)) & M32}"]

    def _ld(self, mn: str) -> tuple[int, bool]:
        base = mn.split(".")[-1] if "." in mn else mn
        return {"lb": (1, True), "lbu": (1, False), "lh": (2, True), "lhu": (2, False),
                "lw": (4, False)}[base]

    def _st(self, mn: str) -> int:
        base = mn.split(".")[-1] if "." in mn else mn
        return {"sb": 1, "sh": 2, "sw": 4}[base]

    def s_lb(self) -> list[str]:
        size, signed = self._ld(self.d.insn.mnemonic)
        return [f"a = ({self.r('rs1')} + {self.o['imm']}) & {M32}",
                *self.load(self.w("rd"), "a", size, signed)]

    s_lh = s_lw = s_lbu = s_lhu = s_lb

    def s_load_pi(self) -> list[str]:
        size, signed = self._ld(self.d.insn.mnemonic)
        return [f"a = {self.r('rs1')}", *self.load("v", "a", size, signed),
                f"{self.w('rs1')} = (a + {self.o['imm']}) & {M32}", f"{self.w('rd')} = v"]

    def s_load_pr(self) -> list[str]:
        size, signed = self._ld(self.d.insn.mnemonic)
        return [f"a = {self.r('rs1')}", f"t = (a + {self.r('rs2')}) & {M32}",
                *self.load("v", "a", size, signed),
                f"{self.w('rs1')} = t", f"{self.w('rd')} = v"]

    def s_load_rr(self) -> list[str]:
        size, signed = self._ld(self.d.insn.mnemonic)
        return [f"a = ({self.r('rs1')} + {self.r('rs2')}) & {M32}",
                *self.load(self.w("rd"), "a", size, signed)]

    def s_sb(self) -> list[str]:
        size = self._st(self.d.insn.mnemonic)
        return [f"a = ({self.r('rs1')} + {self.o['imm']}) & {M32}",
                *self.store("a", self.r("rs2"), size)]

    s_sh = s_sw = s_sb

    def s_store_pi(self) -> list[str]:
        size = self._st(self.d.insn.mnemonic)
        return [f"a = {self.r('rs1')}", *self.store("a", self.r("rs2"), size),
                f"{self.w('rs1')} = (a + {self.o['imm']}) & {M32}"]

    def s_store_pr(self) -> list[str]:
        size = self._st(self.d.insn.mnemonic)
        return [f"a = {self.r('rs1')}", f"t = (a + {self.r('rs3')}) & {M32}",
                *self.store("a", self.r("rs2"), size), f"{self.w('rs1')} = t"]

    def s_store_rr(self) -> list[str]:
        size = self._st(self.d.insn.mnemonic)
        return [f"a = ({self.r('rs1')} + {self.r('rs3')}) & {M32}",
                *self.store("a", self.r("rs2"), size)]

    def _divlike(self, fn: str, signed: bool) -> list[str]:
        return [f"b = {self.r('rs2')}", f"C[0] += {'DIVCS' if signed else 'DIVCU'}(b)",
                f"{self.w('rd')} = {fn}({self.r('rs1')}, b)"]

    def s_div(self) -> list[str]:
        return self._divlike("DIV", True)

    def s_rem(self) -> list[str]:
        return self._divlike("REM", True)

    def s_divu(self) -> list[str]:
        return self._divlike("DIVU", False)

    def s_remu(self) -> list[str]:
        return self._divlike("REMU", False)

    def s_fence(self) -> list[str]:
        return ["pass"]

    def _dot(self, acc: bool) -> list[str]:
        kind = self.d.insn.mnemonic.split(".")[1].removeprefix("s" if acc else "")
        kind = kind.removeprefix("dot")
        sa, sb = _DOT_SIGNS[kind]
        terms = " + ".join(f"{_byte('a', k, sa)} * {_byte('b', k, sb)}" for k in range(4))
        rd = self.r("rd") if acc else "0"
        return [f"a = {self.r('rs1')}", f"b = {self.r('rs2')}",
                f"{self.w('rd')} = ({rd} + {terms}) & {M32}"]

    def s_cv_dotup_b(self) -> list[str]:
        return self._dot(False)

    s_cv_dotusp_b = s_cv_dotsp_b = s_cv_dotup_b

    def s_cv_sdotup_b(self) -> list[str]:
        return self._dot(True)

    s_cv_sdotusp_b = s_cv_sdotsp_b = s_cv_sdotup_b

    def _clamp(self, lo: str, hi: str) -> list[str]:
        return [f"v = ({self.r('rs1')} ^ 0x80000000) - 0x80000000",
                f"{self.w('rd')} = ({lo} if v <= {lo} else {hi} if v >= {hi} else v) & {M32}"]

    def s_cv_clip(self) -> list[str]:
        hi = ((1 << self.o["is2"]) - 1) >> 1
        return self._clamp(str(-hi - 1), str(hi))

    def s_cv_clipu(self) -> list[str]:
        hi = ((1 << self.o["is2"]) - 1) >> 1
        return self._clamp("0", str(hi))

    def s_cv_clipr(self) -> list[str]:
        return [f"h = {self.r('rs2')} & 0x7FFFFFFF", *self._clamp("(-h - 1)", "h")]

    def s_cv_clipur(self) -> list[str]:
        return [f"h = {self.r('rs2')} & 0x7FFFFFFF", *self._clamp("0", "h")]

    def s_cv_abs(self) -> list[str]:
        return [f"v = ({self.r('rs1')} ^ 0x80000000) - 0x80000000",
                f"{self.w('rd')} = (-v if v < 0 else v) & {M32}"]

    # bit manipulation and SIMD byte packing (CV32E40P ALU: ALU_BEXT/BEXTU/BINS, the shuffle
    # unit for pack/shuffle/insert/extract) --------------------------------------------------
    def s_cv_extract(self) -> list[str]:
        is3, is2 = self.o["is3"], self.o["is2"]
        sign = 1 << is3
        return [f"v = ((({self.r('rs1')} ^ 0x80000000) - 0x80000000) >> {is2}) "
                f"& {(sign << 1) - 1}",
                f"{self.w('rd')} = ((v ^ {sign}) - {sign}) & {M32}"]

    def s_cv_extractu(self) -> list[str]:
        is3, is2 = self.o["is3"], self.o["is2"]
        return [f"{self.w('rd')} = ({self.r('rs1')} >> {is2}) & {(1 << (is3 + 1)) - 1}"]

    def s_cv_insert(self) -> list[str]:
        is3, is2 = self.o["is3"], self.o["is2"]
        m = (((1 << (is3 + 1)) - 1) << is2) & M32
        return [f"{self.w('rd')} = (({self.r('rs1')} << {is2}) & {m}) "
                f"| ({self.r('rd')} & {m ^ M32})"]

    def s_cv_pack(self) -> list[str]:
        return [f"{self.w('rd')} = ({self.r('rs1')} & 0xFFFF) << 16 | {self.r('rs2')} & 0xFFFF"]

    def s_cv_pack_h(self) -> list[str]:
        return [f"{self.w('rd')} = {self.r('rs1')} & 0xFFFF0000 | {self.r('rs2')} >> 16"]

    def s_cv_packlo_b(self) -> list[str]:
        return [f"{self.w('rd')} = {self.r('rd')} & 0xFFFF0000 | ({self.r('rs1')} & 255) << 8 "
                f"| {self.r('rs2')} & 255"]

    def s_cv_packhi_b(self) -> list[str]:
        return [f"{self.w('rd')} = {self.r('rd')} & 0xFFFF | ({self.r('rs1')} & 255) << 24 "
                f"| ({self.r('rs2')} & 255) << 16"]

    def s_cv_shuffle_b(self) -> list[str]:
        terms = " | ".join(f"(a >> ((b >> {8 * i}) & 3) * 8 & 255) << {8 * i}"
                           for i in range(4))
        return [f"a = {self.r('rs1')}", f"b = {self.r('rs2')}", f"{self.w('rd')} = {terms}"]

    def s_cv_shuffle2_b(self) -> list[str]:
        terms = " | ".join(f"((a if b >> {8 * i + 2} & 1 else c) >> ((b >> {8 * i}) & 3) * 8 "
                           f"& 255) << {8 * i}" for i in range(4))
        return [f"a = {self.r('rs1')}", f"b = {self.r('rs2')}", f"c = {self.r('rd')}",
                f"{self.w('rd')} = {terms}"]

    def s_cv_extract_b(self) -> list[str]:
        return [f"{self.w('rd')} = {_byte(self.r('rs1'), self.o['imm'], True)} & {M32}"]

    def s_cv_extractu_b(self) -> list[str]:
        return [f"{self.w('rd')} = {_byte(self.r('rs1'), self.o['imm'], False)}"]

    def s_cv_insert_b(self) -> list[str]:
        sh = 8 * self.o["imm"]
        return [f"{self.w('rd')} = {self.r('rd')} & {(255 << sh) ^ M32} "
                f"| ({self.r('rs1')} & 255) << {sh}"]

    def s_xdec_lb(self) -> list[str]:
        return [f"res = XDEC(XC[0], {self.r('rs1')}, {self.r('rs2')}, {self.r('rd')}, RD8)",
                "XC[0] = res.csr", f"{self.w('rd')} = res.rd"]


_S = "(({} ^ 0x80000000) - 0x80000000)"
_ALU_RR = {
    "add": f"({{a}} + {{b}}) & {M32}",
    "sub": f"({{a}} - {{b}}) & {M32}",
    "sll": f"({{a}} << ({{b}} & 31)) & {M32}",
    "slt": "1 if ({a} ^ 0x80000000) < ({b} ^ 0x80000000) else 0",
    "sltu": "1 if {a} < {b} else 0",
    "xor": "{a} ^ {b}",
    "srl": "{a} >> ({b} & 31)",
    "sra": f"(({{a}} ^ 0x80000000) - 0x80000000 >> ({{b}} & 31)) & {M32}",
    "or": "{a} | {b}",
    "and": "{a} & {b}",
    "mul": f"({{a}} * {{b}}) & {M32}",
    "mulh": f"({_S.format('{a}')} * {_S.format('{b}')} >> 32) & {M32}",
    "mulhsu": f"({_S.format('{a}')} * {{b}} >> 32) & {M32}",
    "mulhu": "({a} * {b}) >> 32",
    "cv_min": "{a} if ({a} ^ 0x80000000) < ({b} ^ 0x80000000) else {b}",
    "cv_max": "{b} if ({a} ^ 0x80000000) < ({b} ^ 0x80000000) else {a}",
    "cv_minu": "{a} if {a} < {b} else {b}",
    "cv_maxu": "{b} if {a} < {b} else {a}",
}
_ALU_RI = {
    "addi": f"({{a}} + {{i}}) & {M32}",
    "slti": "1 if ({a} ^ 0x80000000) < {iux} else 0",
    "sltiu": "1 if {a} < {iu} else 0",
    "xori": "{a} ^ {iu}",
    "ori": "{a} | {iu}",
    "andi": "{a} & {iu}",
    "slli": f"({{a}} << {{i}}) & {M32}",
    "srli": "{a} >> {i}",
    "srai": f"(({{a}} ^ 0x80000000) - 0x80000000 >> {{i}}) & {M32}",
}


def _mac_template(sign: str) -> Callable[[_Gen], list[str]]:
    def gen(g: _Gen) -> list[str]:
        return [f"{g.w('rd')} = ({g.r('rd')} {sign} {g.r('rs1')} * {g.r('rs2')}) & {M32}"]
    return gen


_Gen.s_cv_mac = _mac_template("+")  # type: ignore[attr-defined]
_Gen.s_cv_msu = _mac_template("-")  # type: ignore[attr-defined]

_BRANCH_COND = {
    "beq": "{a} == {b}", "bne": "{a} != {b}",
    "blt": "({a} ^ 0x80000000) < ({b} ^ 0x80000000)",
    "bge": "({a} ^ 0x80000000) >= ({b} ^ 0x80000000)",
    "bltu": "{a} < {b}", "bgeu": "{a} >= {b}",
}


# --------------------------------------------------------------------------------------------
# Static timing of one decoded instruction
# --------------------------------------------------------------------------------------------


def _is_load(d: isa.Decoded) -> bool:
    return d.insn.timing in ("load", *(e.mnemonic for e in xdec_spec.INSTRUCTIONS))


def _load_use(d: isa.Decoded) -> int:
    if d.insn.timing == "load":
        return timing.LOAD_USE
    for e in xdec_spec.INSTRUCTIONS:
        if d.insn.timing == e.mnemonic:
            return e.load_use
    return 0


def _base_cycles(d: isa.Decoded) -> int:
    """Static issue cycles (dynamic parts -- taken branch, division -- are added at run time)."""
    t = timing.class_of(d.insn)
    if t == "div":
        return 0
    if t == "branch":
        return 1
    if t == "csr":
        return 4 if d.ops["csr"] in timing.CSR_SLOW else 1
    cyc = timing.TIMING[t].cycles
    if not isinstance(cyc, int):
        raise AssertionError(f"timing class {t!r} has no static cycle count")
    return cyc + _jalr_self(d)


def _jalr_self(d: isa.Decoded | None) -> int:
    """``jalr_self`` hazard: a jalr whose rd is its rs1 (not x0)."""
    if d is None or d.insn.sem != "jalr":
        return 0
    rd = d.ops["rd"]
    return timing.JALR_SELF if rd and rd == d.ops["rs1"] else 0


def _overlaps_jump(prev: isa.Decoded, cur: isa.Decoded | None) -> bool:
    """``cur`` is a jump whose target fetch overlaps a stall caused by ``prev`` (a jal, or a
    jalr that does not wait for ``prev``'s result: RTL ``jr_stall_o``)."""
    if cur is None:
        return False
    sem = cur.insn.sem
    return sem == "jal" or (sem == "jalr" and cur.ops["rs1"] not in prev.reg_writes())


def _writes_xdec_csr(d: isa.Decoded) -> bool:
    """``d`` writes the ``xdec`` CSR: csrrw/csrrwi always, csrrs/csrrc(i) with a non-zero
    source (with x0 or uimm 0 they only read, as the RTL decodes them)."""
    if d.insn.sem != "csr" or d.ops["csr"] != xdec_spec.CSR_ADDR:
        return False
    mn = d.insn.mnemonic
    if mn.startswith("csrrw"):
        return True
    return bool(d.ops["uimm"] if mn.endswith("i") else d.ops["rs1"])


def _stall(prev: isa.Decoded | None, cur: isa.Decoded | None) -> int:
    """Hazard cycles of ``cur`` caused by the instruction ``prev`` right before it."""
    if prev is None or cur is None:
        return 0
    stall = 0
    if _is_load(prev):
        # The loaded register is rd (post-increment updates of rs1 come from the ALU, forwarded).
        rd = prev.ops.get("rd", 0)
        if rd:
            if rd in cur.reg_reads():
                stall += _load_use(prev)
            elif (rd in cur.reg_writes() and not _is_load(cur)
                  and cur.insn.sem not in ("jal", "jalr")):
                stall += timing.LOAD_WAW
        elif ("rd" in cur.insn.writes and cur.ops["rd"] == 0 and not _is_load(cur)
              and cur.insn.sem not in ("jal", "jalr")):
            stall += timing.LOAD_WAW  # a load to x0, then an ALU write to x0 (e.g. nop)
    if cur.insn.sem == "xdec_lb" and _writes_xdec_csr(prev):
        stall += timing.XDEC_CSR
    if cur.insn.sem == "jalr" and cur.ops["rs1"] in prev.reg_writes():
        stall += timing.JALR_DEP
    elif timing.class_of(prev.insn) in timing.EX_MULTICYCLE and _overlaps_jump(prev, cur):
        stall += timing.JUMP_OVERLAP - _jalr_self(cur)  # the overlap hides that bubble too
    return stall


def _mem_access(d: isa.Decoded) -> bool:
    """A load or store whose misaligned address costs extra (not xdec.lb: byte accesses)."""
    return timing.class_of(d.insn) in ("load", "store")


def _misaligned_cost(d: isa.Decoded, nxt: isa.Decoded | None, jalr_wb: int = 0) -> int:
    """Extra cycles of ``d`` (a load or store) when its address is misaligned; ``nxt`` is the
    instruction executed after it when known, ``jalr_wb`` its ``jalr_wb`` hazard."""
    overlap = _overlaps_jump(d, nxt) and not (
        _is_load(d) and d.ops.get("rd", 0) in nxt.reg_writes())  # type: ignore[union-attr]
    if not overlap:
        return timing.MISALIGNED
    # the extra cycle overlaps the jump's fetch (or its jalr_wb stall), and hides the jalr_self
    # bubble unless the jalr waits for its operand (jalr_wb)
    return timing.MISALIGNED + timing.JUMP_OVERLAP - (0 if jalr_wb else _jalr_self(nxt))


def _kind(d: isa.Decoded | None) -> str:
    if d is None:
        return "illegal"
    sem = d.insn.sem
    if sem in _BRANCH_SEMS:
        return "branch"
    if sem in ("jal", "jalr"):
        return sem
    if sem in _SYSTEM_SEMS:
        return "system"
    return "simple"


# --------------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------------


def _check_int(name: str, value: object, lo: int, hi: int | None = None) -> int:
    """``value`` as an int in ``lo..hi``: TypeError for a non-integer (a bool too), ValueError
    for one out of range.  Called once per public call, never per instruction."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if value < lo or (hi is not None and value > hi):
        rule = f">= {lo}" if hi is None else f"in {lo}..0x{hi:x}"
        raise ValueError(f"{name} must be {rule}, not {value!r}")
    return value


class _HwLoop:
    __slots__ = ("count", "end", "start")

    def __init__(self) -> None:
        self.start = self.end = self.count = 0


class Iss:
    """The instruction-set simulator of one bare-metal hart.

    Parameters
    ----------
    max_block : longest translated block (1 = one instruction per block, for cross-checks).
    compile_loops : run hardware-loop bodies as one generated function (``False`` for
        cross-checks: bodies then run block by block).

    Use :meth:`load_elf` (or :meth:`load_words`), then :meth:`run`.

    Raises
    ------
    TypeError
        If ``max_block`` is not an integer (a bool is not) or ``compile_loops`` not a bool.
    ValueError
        If ``max_block`` < 1.
    """

    def __init__(self, *, max_block: int = 64, compile_loops: bool = True) -> None:
        if isinstance(max_block, bool) or not isinstance(max_block, int):
            raise TypeError(f"max_block must be a positive integer, not {max_block!r}")
        if max_block < 1:
            raise ValueError(f"max_block must be a positive integer, not {max_block!r}")
        if not isinstance(compile_loops, bool):
            raise TypeError(f"compile_loops must be a bool, not {compile_loops!r}")
        self.max_block = max_block
        self.compile_loops = compile_loops
        regions = {name: (base, size) for name, base, size in memmap.REGIONS}
        self._ibase, self._isize = regions["imem"]
        self._dbase, self._dsize = regions["dmem"]
        for name, (base, size) in regions.items():
            if base % (1 << _PAGE) or size % (1 << _PAGE):
                raise ValueError(f"region {name} must be {1 << _PAGE}-byte aligned for the ISS")
        top = max(self._ibase + self._isize, self._dbase + self._dsize)
        self.mem = bytearray(top)
        mv = memoryview(self.mem)
        self._fw, self._fh, self._fsh, self._fsb = mv.cast("I"), mv.cast("H"), mv.cast("h"), \
            mv.cast("b")
        pr = bytearray(1 << (32 - _PAGE))
        pw = bytearray(1 << (32 - _PAGE))
        for p in range(self._ibase >> _PAGE, (self._ibase + self._isize) >> _PAGE):
            pr[p] = 1
        for p in range(self._dbase >> _PAGE, (self._dbase + self._dsize) >> _PAGE):
            pr[p] = pw[p] = 1
        # the fast path reads PR/PW; pages an in-flight DMA transfer touches are cleared there
        # (so accesses to them take the slow path, which checks for a race) and restored from
        # the region permissions _pr0/_pw0 at the next DMA_WAIT
        self._pr0, self._pw0 = bytes(pr), bytes(pw)
        self._pr, self._pw = bytearray(pr), bytearray(pw)
        self.l2: bytearray | None = None  # allocated when first used (64 MB)
        self._cache: dict[int, Callable[[], int]] = {}
        self._loops: dict[tuple[int, int], Callable[[int], None] | None] = {}
        self._codeinfo: dict[object, tuple[str, int, list[int], list[int], list[int]]] = {}
        self._lpi = [0]  # remaining iterations when a loop function is interrupted
        # set to 1 by a misaligned access: [0] read at a hardware-loop exit, [1] at a back edge
        # after a pipeline flush (hwloop_decode); [2] = [1] before a loop-end memory access
        self._mis = [0, 0, 0]
        self.reset()

    # ---------------------------------------------------------------------------- state
    def reset(self) -> None:
        """Reset architectural state (registers, CSRs, counters); memory is kept."""
        self.regs = [0] * 32 if not hasattr(self, "regs") else self.regs
        self.regs[:] = [0] * 32
        self.pc = memmap.BOOT_ADDR
        self._C = getattr(self, "_C", [0, 0])  # cycles, instructions retired (since reset)
        self._C[:] = [0, 0]
        self._xc = getattr(self, "_xc", [0])
        self._xc[0] = xdec_spec.CSR_RESET
        self.hw = (_HwLoop(), _HwLoop())
        self.csr = {CSR_MSTATUS: 0x1800, CSR_MIE: 0, CSR_MTVEC: 0, CSR_MSCRATCH: 0,
                    CSR_MEPC: 0, CSR_MCAUSE: 0, CSR_MTVAL: 0, CSR_MIP: 0, CSR_MHPMEVENT3: 0}
        #: mhpmcounter3 (64 bits): holds what software writes; it counts no event (docs/iss.md)
        self._hpm3 = 0
        self._inhibit = 0xD  # CV32E40P reset value: mcycle and minstret stopped
        self._cnt_frozen = [0, 0]  # counter values while inhibited (cycle, instret)
        self._cnt_base = [0, 0]  # C[i] - base = counter value while running
        self.stdout = bytearray()
        self.marks: list[Mark] = []
        self.traps = 0
        self._dma_reset()
        self._loop_ends: set[int] = set()
        #: pc of the instruction decoded first after a pipeline flush (slow CSR, mret, fence.i):
        #: the controller is then in DECODE, not DECODE_HWLOOP (``hwloop_decode`` hazard)
        self._flush_pc = -1
        self._flush()

    def _flush(self) -> None:
        """Forget translations (after code or hardware-loop ends change)."""
        self._cache.clear()
        self._loops.clear()

    @property
    def cycles(self) -> int:
        """Cycles since reset."""
        return self._C[0]

    @property
    def instret(self) -> int:
        """Instructions retired since reset."""
        return self._C[1]

    @property
    def xdec_csr(self) -> int:
        """Current value of the ``xdec`` CSR."""
        return self._xc[0]

    # ---------------------------------------------------------------------------- loading
    def load_words(self, words: Iterable[int], base: int = memmap.BOOT_ADDR) -> None:
        """Write 32-bit words (a program) at ``base`` (in IMEM or DMEM).

        Raises
        ------
        TypeError
            If a word or ``base`` is not an integer.
        ValueError
            If a word is not in 0..0xffffffff, or the words do not fit inside IMEM or DMEM.
        """
        words = list(words)
        for k, w in enumerate(words):
            _check_int(f"word {k}", w, 0, M32)
        data = b"".join(w.to_bytes(4, "little") for w in words)
        self.write(base, data)

    def _segment(self, addr: object, size: int) -> int:
        addr = _check_int("addr", addr, 0)
        end = addr + size
        ok = any(base <= addr and end <= base + rsize
                 for base, rsize in ((self._ibase, self._isize), (self._dbase, self._dsize),
                                     (memmap.L2_BASE, memmap.L2_SIZE)))
        if not ok:
            raise ValueError(f"segment 0x{addr:08x}..0x{end:08x} is not inside IMEM, DMEM or L2")
        return addr

    def write(self, addr: int, data: bytes) -> None:
        """Write bytes into IMEM, DMEM or L2 (loader access; MMIO not allowed).

        Raises
        ------
        TypeError
            If ``addr`` is not an integer or ``data`` not bytes-like.
        ValueError
            If ``addr .. addr + len(data)`` is not inside IMEM, DMEM or L2.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes-like, not {type(data).__name__}")
        addr = self._segment(addr, len(data))
        if addr >= memmap.L2_BASE:
            off = addr - memmap.L2_BASE
            self._l2()[off:off + len(data)] = data
            return
        self.mem[addr:addr + len(data)] = data
        self._flush()

    def read(self, addr: int, size: int) -> bytes:
        """Read bytes from IMEM, DMEM or L2.

        Raises
        ------
        TypeError
            If ``addr`` or ``size`` is not an integer.
        ValueError
            If ``size`` < 0 or ``addr .. addr + size`` is not inside IMEM, DMEM or L2.
        """
        size = _check_int("size", size, 0)
        addr = self._segment(addr, size)
        if addr >= memmap.L2_BASE:
            off = addr - memmap.L2_BASE
            return bytes(self._l2()[off:off + size])
        return bytes(self.mem[addr:addr + size])

    def load_elf(self, path: str | Path) -> None:
        """Load an ELF built by :func:`xdecimate.sw.kernels.toolchain.build_elf` (bare metal)."""
        from .elf import load_elf

        entry, segments = load_elf(path)
        if entry != memmap.BOOT_ADDR:
            raise ValueError(f"ELF entry must be the boot address 0x{memmap.BOOT_ADDR:x}, "
                             f"not 0x{entry:x} ({path})")
        for addr, data in segments:
            self.write(addr, data)

    # ---------------------------------------------------------------------------- DMA engine
    def _l2(self) -> bytearray:
        if self.l2 is None:
            self.l2 = bytearray(memmap.L2_SIZE)
        return self.l2

    def _dma_reset(self) -> None:
        self._dma = {"src": 0, "dst": 0, "len": 0, "rows": 0, "sstride": 0, "dstride": 0}
        self._dma_end = 0  # cycle in which the last transfer started ends
        #: transfers started since the last DMA_WAIT: (index, access it forbids, base, len,
        #: rows, stride) -- "rw" for a destination in DMEM, "w" for a source in DMEM
        self._dma_flight: list[tuple[int, str, int, int, int, int]] = []
        self._dma_pages: set[int] = set()
        self.dma_transfers = 0
        self.dma_busy_cycles = 0
        if hasattr(self, "_pr0"):
            self._pr[:] = self._pr0
            self._pw[:] = self._pw0

    def _dma_mem(self, addr: int, length: int, rows: int, stride: int, what: str
                 ) -> tuple[bytearray, int, bool]:
        """(backing store, offset, in DMEM) of a 2-D region; TargetError if it leaves DMEM/L2."""
        last = addr + (rows - 1) * stride + length  # rows are visited in order, stride >= 0
        for base, size, dmem in ((self._dbase, self._dsize, True),
                                 (memmap.L2_BASE, memmap.L2_SIZE, False)):
            if base <= addr and last <= base + size:
                return (self.mem if dmem else self._l2()), addr - (0 if dmem else base), dmem
        raise TargetError(f"DMA transfer {self.dma_transfers}: {what} 0x{addr:08x} .. "
                          f"0x{last:08x} ({rows} rows of {length} bytes, stride {stride}) is "
                          f"not inside DMEM or L2 (memmap.MMIO_DMA_START)")

    def _dma_reg(self, a: int, v: int, cycle: int, next_is_jump: int = 0) -> None:
        """A word store to a DMA register, granted in ``cycle`` unless it waits.

        A WAIT store that stalls is granted when the last transfer ends; a jump right after
        it (``next_is_jump``) is already resolved in ID during the stall, which hides one
        cycle of its penalty (measured on the RTL: docs/iss.md, "DMA")."""
        reg = _DMA_REGS[a]
        if reg not in ("start", "wait"):
            self._dma[reg] = v
            return
        if reg == "wait":
            if self._dma_end > cycle:  # the store is granted when the DMA is idle
                self._C[0] += self._dma_end - cycle - (1 if next_is_jump else 0)
            for pg in self._dma_pages:
                self._pr[pg], self._pw[pg] = self._pr0[pg], self._pw0[pg]
            self._dma_pages.clear()
            self._dma_flight.clear()
            return
        d = self._dma
        n, rows, ss, ds = d["len"], d["rows"], d["sstride"], d["dstride"]
        if n < 1 or rows < 1:
            raise TargetError(f"DMA transfer {self.dma_transfers}: length {n} and rows {rows} "
                              f"must both be at least 1 (memmap.MMIO_DMA_LEN / _ROWS)")
        smem, so, sd = self._dma_mem(d["src"], n, rows, ss, "source")
        dmem_, do, dd = self._dma_mem(d["dst"], n, rows, ds, "destination")
        for r in range(rows):  # row by row, in order (overlapping rows behave as on the RTL)
            dmem_[do + r * ds:do + r * ds + n] = smem[so + r * ss:so + r * ss + n]
        cost = memmap.dma_cycles(n, rows)
        begin = max(cycle + 1, self._dma_end)
        self._dma_end = begin + cost
        self.dma_busy_cycles += cost
        k = self.dma_transfers
        self.dma_transfers += 1
        for forbid, base, stride, in_dmem in (("w", d["src"], ss, sd), ("rw", d["dst"], ds, dd)):
            if not in_dmem:
                continue
            self._dma_flight.append((k, forbid, base, n, rows, stride))
            last = base + (rows - 1) * stride + n - 1
            for pg in range(base >> _PAGE, (last >> _PAGE) + 1):
                self._dma_pages.add(pg)
                self._pw[pg] = 0
                if forbid == "rw":
                    self._pr[pg] = 0

    def _dma_race(self, a: int, size: int, what: str) -> None:
        """TargetError if a core access of ``size`` bytes at ``a`` touches an in-flight row."""
        for k, forbid, base, n, rows, stride in self._dma_flight:
            if what == "load" and forbid == "w":
                continue
            for b in (a, a + size - 1):
                off = b - base
                if off < 0:
                    continue
                r = min(rows - 1, off // stride) if stride else 0
                if off - r * stride < n:
                    role = "writes" if forbid == "rw" else "reads"
                    raise TargetError(
                        f"DMA race: a {what} of 0x{a:08x} ({size} bytes) at cycle ~"
                        f"{self._C[0]} touches a row that DMA transfer {k} {role} (it is in "
                        f"flight until a store to memmap.MMIO_DMA_WAIT)")

    # ---------------------------------------------------------------------------- memory slow path
    def _ld(self, a: int, size: int, signed: int, mis: int) -> int:
        C = self._C
        if a >= memmap.MMIO_BASE and a + size <= memmap.MMIO_BASE + memmap.MMIO_SIZE:
            return 0
        if not all(self._pr0[(a + k) >> _PAGE] for k in (0, size - 1)) or a + size > len(self.mem):
            raise _AccessFault(CAUSE_LOAD_FAULT, a, "load")
        if self._dma_flight:
            self._dma_race(a, size, "load")
        if (size == 4 and a & 3) or (size == 2 and a & 3 == 3):
            C[0] += mis
            self._mis[0] = self._mis[1] = 1
        v = int.from_bytes(self.mem[a:a + size], "little")
        if signed and v >> (8 * size - 1):
            v = (v - (1 << (8 * size))) & M32
        return v

    def _st(self, a: int, size: int, v: int, cyc: int, ins: int, mis: int, nj: int = 0
            ) -> None:
        C = self._C
        if memmap.MMIO_BASE <= a < memmap.MMIO_BASE + memmap.MMIO_SIZE:
            if a == memmap.MMIO_EXIT:
                raise _Exit(v & M32, C[0] + cyc, C[1] + ins)
            if a == memmap.MMIO_PUTC:
                self.stdout.append(v & 0xFF)
            elif a == memmap.MMIO_MARK:
                self.marks.append(Mark(id=v & M32, cycle=C[0] + cyc, instret=C[1] + ins))
            elif a in _DMA_REGS and size == 4:
                self._dma_reg(a, v & M32, C[0] + cyc - 1, nj)
            return
        if (not all(self._pw0[(a + k) >> _PAGE] for k in (0, size - 1))
                or a + size > len(self.mem)):
            raise _AccessFault(CAUSE_STORE_FAULT, a, "store")
        if self._dma_flight:
            self._dma_race(a, size, "store")
        if (size == 4 and a & 3) or (size == 2 and a & 3 == 3):
            C[0] += mis
            self._mis[0] = self._mis[1] = 1
        self.mem[a:a + size] = (v & ((1 << (8 * size)) - 1)).to_bytes(size, "little")

    def _rd8(self, a: int) -> int:
        if not self._pr0[a >> _PAGE] or a >= len(self.mem):
            raise _AccessFault(CAUSE_LOAD_FAULT, a, "load")
        if self._dma_flight:
            self._dma_race(a, 1, "load")
        return self.mem[a]

    def _fetch(self, pc: int) -> isa.Decoded | None:
        if pc & 3:
            raise _AccessFault(CAUSE_FETCH_MISALIGNED, pc, "instruction-address-misaligned")
        if not self._ibase <= pc < self._ibase + self._isize:
            raise _AccessFault(CAUSE_FETCH_FAULT, pc, "instruction fetch")
        return isa.decode(self._fw[pc >> 2])

    # ---------------------------------------------------------------------------- code generation
    def _env(self) -> dict[str, object]:
        return {
            "C": self._C, "XC": self._xc, "FW": self._fw, "FH": self._fh, "FSH": self._fsh,
            "FB": self.mem, "FSB": self._fsb, "PR": self._pr, "PW": self._pw, "LD": self._ld,
            "ST": self._st, "RD8": self._rd8, "XDEC": xdec_ref.xdec_lb, "DIV": _div,
            "REM": _rem, "DIVU": _divu, "REMU": _remu, "DIVCS": _divc_s, "DIVCU": _divc_u,
            "HWL": self._hwl, "R": self.regs, "LPI": self._lpi, "MIS": self._mis,
            "MISJ": _jump_misaligned,
        }

    def _compile(self, body: list[str], line_idx: list[int], kind: str, start: int,
                 before: list[int], ins: list[int]) -> Callable[..., object]:
        """Compile generated code; remember how its lines map to instructions (for traps)."""
        env = self._env()
        name = body[0].split()[1].split("(")[0]
        src = [f"def _make({', '.join(env)}):", *body, f"  return {name}"]
        code = compile("\n".join(src), f"<iss {kind} 0x{start:08x}>", "exec")
        ns: dict[str, object] = {}
        exec(code, ns)
        fn = ns["_make"](**env)
        # line 1 is the `def _make`, body line k is line k + 2
        self._codeinfo[fn.__code__] = (kind, start, before, ins, [-1, *line_idx])
        return fn

    def _translate(self, pc: int) -> Callable[[], int]:
        try:
            first = self._fetch(pc)
        except _AccessFault as e:
            fn = self._raiser(e)
            return fn
        kind = _kind(first)
        if kind == "illegal":
            fn = self._raiser(_IllegalEncoding(
                f"illegal instruction 0x{self._fw[pc >> 2]:08x} at 0x{pc:08x}"))
        elif kind == "system":
            fn = self._system_fn(pc, first)
            if pc + 4 in self._loop_ends and first.insn.sem in ("csr", "hwloop", "fence_i", "wfi"):
                fn = self._at_loop_end(fn, pc)
        else:
            fn = self._block(pc)
        self._cache[pc] = fn
        return fn

    @staticmethod
    def _raiser(exc: BaseException) -> Callable[[], int]:
        def fn() -> int:
            raise exc
        return fn

    def _collect(self, pc: int, limit: int) -> tuple[list[tuple[int, isa.Decoded]], str]:
        """Instructions of the block at ``pc`` and how it ends ('branch', 'jal', 'jalr',
        'hwloop' (falls into a loop end), 'next' (falls into another block))."""
        insns: list[tuple[int, isa.Decoded]] = []
        p = pc
        while True:
            try:
                d = self._fetch(p)
            except _AccessFault:
                return insns, "next"
            k = _kind(d)
            if k in ("illegal", "system"):
                return insns, "next"
            insns.append((p, d))
            if k in ("branch", "jal", "jalr"):
                return insns, k
            p += 4
            if p in self._loop_ends:
                return insns, "hwloop"
            if len(insns) >= limit:
                return insns, "next"

    def _peek(self, pc: int) -> isa.Decoded | None:
        try:
            return self._fetch(pc)
        except _AccessFault:
            return None

    def _timing(self, insns: list[tuple[int, isa.Decoded]], prev: isa.Decoded | None
                ) -> tuple[list[int], list[int]]:
        """Static cycles before and through each instruction (``prev``: the one before)."""
        before, through, total = [], [], 0
        for p, d in insns:
            before.append(total)
            total += _stall(prev, d) + _base_cycles(d)
            if d.insn.sem == "jalr":
                total += self._jalr_wb(p, d)
            through.append(total)
            prev = d
        return before, through

    def _mis_cost(self, pc: int, d: isa.Decoded, nxt: isa.Decoded | None) -> int:
        """:func:`_misaligned_cost` of ``d`` at ``pc`` followed by ``nxt`` at ``pc + 4``."""
        wb = self._jalr_wb(pc + 4, nxt) if nxt is not None and nxt.insn.sem == "jalr" else 0
        return _misaligned_cost(d, nxt, wb)

    def _jalr_wb(self, pc: int, d: isa.Decoded) -> int:
        """``jalr_wb`` hazard of the jalr ``d`` at ``pc``: its rs1 was loaded by the instruction
        two before it (still in WB), and the one in between took a single cycle.  The two
        predecessors are read at ``pc - 8`` and ``pc - 4`` (the fall-through path)."""
        rs1 = d.ops["rs1"]
        d2, d1 = self._peek(pc - 8), self._peek(pc - 4)
        if not rs1 or d2 is None or d1 is None or not _is_load(d2) or d2.ops.get("rd") != rs1:
            return 0
        if (rs1 in d1.reg_writes() or _kind(d1) in ("jal", "jalr", "illegal")
                or _base_cycles(d1) != 1 or _stall(d2, d1)):
            return 0
        return timing.JALR_WB

    def _block(self, pc: int) -> Callable[[], int]:
        insns, end = self._collect(pc, self.max_block)
        before, through = self._timing(insns, None)
        regs = sorted({r for _, d in insns for f in ("rd", "rs1", "rs2", "rs3")
                       if (r := d.ops.get(f, 0))})
        written = sorted({r for _, d in insns for r in d.reg_writes()})
        body = ["  def blk():", "    _ = 0"]
        line_idx = [-1, -1]
        for r in regs:
            body.append(f"    x{r} = R[{r}]")
            line_idx.append(-1)
        body.append("    try:")
        line_idx.append(-1)
        n = len(insns)
        last_pc, last = insns[-1]
        fall = last_pc + 4
        for i, (p, d) in enumerate(insns):
            if i == n - 1 and end in ("branch", "jal", "jalr"):
                break
            nxt = insns[i + 1][1] if i + 1 < n else self._peek(fall) if end == "next" else None
            if i == n - 1 and end == "hwloop" and _mem_access(d):
                body.append("      MIS[2] = MIS[1]; MIS[0] = 0")  # read by HWL
                line_idx.append(i)
            for line in _Gen(p, d, through[i], i + 1, nxt, str(self._mis_cost(p, d, nxt))).code():
                body.append("      " + line)
                line_idx.append(i)
        total = through[-1]
        ret = "    return nxt"
        g = _Gen(last_pc, last, through[-1], n)
        # a jump to a target that is not 4-byte aligned traps at the jump, after its hazard
        # cycles (operand stalls, jalr_wb): the cycles of the jump not in its issue cycles
        hazard = through[-1] - before[-1] - _base_cycles(last)
        if end == "branch":
            cond = _BRANCH_COND[last.insn.sem].format(a=g.r("rs1"), b=g.r("rs2"))
            target = (last_pc + last.ops["imm"]) & M32
            body += [f"      if {cond}:"]
            if target & 3:
                body += [f"        MISJ({target}, {hazard})"]
            body += [f"        C[0] += {total + timing.BRANCH_TAKEN}; C[1] += {n}",
                     f"        nxt = {target}; h = 0",
                     "      else:",
                     f"        C[0] += {total}; C[1] += {n}",
                     f"        nxt = {fall}; h = 1"]
            line_idx += [n - 1] * (len(body) - len(line_idx))
            if fall in self._loop_ends:
                ret = "    return HWL(nxt, -1) if h else nxt"
        elif end == "jal":
            target = (last_pc + last.ops["imm"]) & M32
            if target & 3:
                body += [f"      MISJ({target}, {hazard})"]
            body += [f"      {g.w('rd')} = {fall}",
                     f"      C[0] += {total}; C[1] += {n}",
                     f"      nxt = {target}"]
            line_idx += [n - 1] * (len(body) - len(line_idx))
        elif end == "jalr":
            body += [f"      nxt = ({g.r('rs1')} + {last.ops['imm']}) & {M32 - 1}",
                     f"      if nxt & 2: MISJ(nxt, {hazard})",
                     f"      {g.w('rd')} = {fall}",
                     f"      C[0] += {total}; C[1] += {n}"]
            line_idx += [n - 1] * 4
        else:
            if end == "hwloop":
                ret = f"    return HWL({fall}, {last_pc})"
            else:
                total += _stall(last, self._peek(fall))
                ret = f"    return {fall}"
            body += [f"      C[0] += {total}; C[1] += {n}"]
            line_idx += [n - 1]
        body.append("    finally:")
        line_idx.append(-1)
        for r in written:
            body.append(f"      R[{r}] = x{r}")
            line_idx.append(-1)
        if not written:
            body.append("      pass")
            line_idx.append(-1)
        body.append(ret)
        line_idx.append(-1)
        return self._compile(body, line_idx, "block", pc, before, list(range(n)))

    # ---------------------------------------------------------------------------- hardware loops
    def _hwl(self, e: int, last_pc: int) -> int:
        """The instruction at ``last_pc`` (-1: one that causes no hazard) fell through to ``e``,
        a hardware-loop end address: take the back edge or leave the loop, with the hazard
        cycles between it and the instruction that follows."""
        C = self._C
        last = self._peek(last_pc) if last_pc >= 0 else None
        for level, lp in enumerate(self.hw):
            if lp.end == e and lp.count >= 1:
                lp.count -= 1
                if lp.count >= 1:
                    target = lp.start
                    first = self._peek(target)
                    C[0] += _stall(last, first)
                    if self._flush_pc in (e - 8, e - 4):
                        C[0] += self._decode_bubble(e, last, first)
                    self._flush_pc = -1
                    if self.compile_loops:
                        fn = self._loop_fn(lp.start, lp.end)
                        if fn is not None:
                            self._run_loop(fn, level)
                            return lp.end
                    return target
                break
        nxt = self._peek(e)
        C[0] += _stall(last, nxt)
        if last is not None and self._mis[0] and _mem_access(last):
            # the last access was misaligned: its extra cycle may overlap a jump after the loop
            C[0] += self._mis_cost(last_pc, last, nxt) - timing.MISALIGNED
            self._mis[0] = 0
        return e

    def _decode_bubble(self, e: int, last: isa.Decoded | None, first: isa.Decoded | None
                       ) -> int:
        """``hwloop_decode`` cycles of a back edge taken in the controller's DECODE state (the
        first instruction after a flush is at ``e - 8`` or ``e - 4``): the jump to the start
        costs a bubble unless a stall around the last instruction hides it."""
        if last is None:
            return 0
        # an xdec.lb with rd != x0 as the last instruction costs one more (measured on the
        # extended core), even where a stall hides the bubble itself
        extra = (timing.XDEC_HWLOOP_DECODE
                 if last.insn.sem == "xdec_lb" and last.ops["rd"] != 0 else 0)
        if _stall(last, first) > 0:
            return extra
        if self._flush_pc == e - 8:  # the second-to-last was decoded after the flush too
            prev = self._peek(e - 8)
            prev_mis = self._mis[2] if _mem_access(last) else self._mis[1]
            if prev is not None and (prev_mis or timing.class_of(prev.insn) in timing.EX_MULTICYCLE
                                     or _stall(prev, last)):
                return 0  # the last instruction waits in ID: the jump's fetch overlaps that
        return timing.HWLOOP_DECODE + extra

    def _at_loop_end(self, fn: Callable[[], int], pc: int) -> Callable[[], int]:
        """Wrap the handler of a system instruction that is the last of a hardware-loop body."""
        hwl = self._hwl

        def wrapped() -> int:
            nxt = fn()
            return hwl(nxt, pc) if nxt == pc + 4 else nxt
        return wrapped

    def _run_loop(self, fn: Callable[[int], None], level: int) -> None:
        lp = self.hw[level]
        n = lp.count
        try:
            fn(n)
        except BaseException:
            # fn stored the remaining count (including the interrupted iteration) in _lpi
            lp.count = self._lpi[0]
            raise
        lp.count = 0

    def _loop_fn(self, start: int, end: int) -> Callable[[int], None] | None:
        key = (start, end)
        if key in self._loops:
            return self._loops[key]
        fn = None
        insns = []
        ok = end > start and not (start & 3) and not (end & 3)
        p = start
        while ok and p < end:
            d = self._peek(p)
            if _kind(d) != "simple" or (p + 4 in self._loop_ends and p + 4 != end):
                ok = False
                break
            insns.append((p, d))
            p += 4
        if ok and insns:
            fn = self._make_loop(start, end, insns)
        self._loops[key] = fn
        return fn

    def _make_loop(self, start: int, end: int, insns: list[tuple[int, isa.Decoded]]
                   ) -> Callable[[int], None]:
        last = insns[-1][1]
        before, through = self._timing(insns, last)  # steady state: previous = last of body
        back_edge_stall = _stall(last, insns[0][1])
        # The first iteration's first instruction was already charged its back-edge stall by
        # the caller (or had none, after cv.setup): count it once per *following* iteration.
        first_stall = back_edge_stall
        per_iter = through[-1] - first_stall
        before = [b - first_stall if i else 0 for i, b in enumerate(before)]
        through = [t - first_stall for t in through]
        exit_stall = _stall(last, self._peek(end))
        n = len(insns)
        regs = sorted({r for _, d in insns for f in ("rd", "rs1", "rs2", "rs3")
                       if (r := d.ops.get(f, 0))})
        written = sorted({r for _, d in insns for r in d.reg_writes()})
        body = ["  def loop(n):", "    _ = 0", "    i = n"]
        line_idx = [-1, -1, -1]
        for r in regs:
            body.append(f"    x{r} = R[{r}]")
            line_idx.append(-1)
        body += ["    try:", "      while True:"]
        line_idx += [-1, -1]
        for i, (p, d) in enumerate(insns):
            nxt, mis = (insns[i + 1][1], None) if i + 1 < n else (insns[0][1], None)
            if i == n - 1 and (m_exit := self._mis_cost(p, d, self._peek(end))) != (
                    m_loop := self._mis_cost(p, d, nxt)):
                mis = f"({m_loop} if i > 1 else {m_exit})"
            for line in _Gen(p, d, through[i], i + 1, nxt, mis).code():
                body.append("        " + line)
                line_idx.append(i)
        body += [f"        C[0] += {per_iter + back_edge_stall}; C[1] += {n}",
                 "        i -= 1",
                 "        if not i: break",
                 f"      C[0] += {exit_stall - back_edge_stall}",
                 "    finally:",
                 "      LPI[0] = i"]
        line_idx += [n - 1, -1, -1, -1, -1, -1]
        for r in written:
            body.append(f"      R[{r}] = x{r}")
            line_idx.append(-1)
        return self._compile(body, line_idx, "loop", start, before, list(range(n)))

    # ---------------------------------------------------------------------- system instructions
    def _system_fn(self, pc: int, d: isa.Decoded) -> Callable[[], int]:
        sem = d.insn.sem
        cyc = _base_cycles(d)
        C = self._C
        if sem == "csr":
            slow = d.ops["csr"] in timing.CSR_SLOW
            nxt = self._peek(pc + 4)
            # xdec_csr: an xdec.lb right after a write of the xdec CSR waits one cycle (at a
            # hardware-loop end, _hwl adds it for the instruction that really follows)
            if (pc + 4 not in self._loop_ends and nxt is not None
                    and nxt.insn.sem == "xdec_lb" and _writes_xdec_csr(d)):
                cyc += timing.XDEC_CSR

            def fn() -> int:
                self._csr_op(d, pc)
                C[0] += cyc
                C[1] += 1
                if slow:
                    self._flush_pc = pc + 4
                    self._mis[1] = 0
                return pc + 4
            return fn
        if sem == "hwloop":
            def fn() -> int:
                return self._hwloop_op(pc, d, cyc)
            return fn
        if sem in ("ecall", "ebreak"):
            cause = CAUSE_ECALL_M if sem == "ecall" else CAUSE_BREAKPOINT

            def fn() -> int:
                return self._trap(pc, cause)
            return fn
        if sem == "mret":
            def fn() -> int:
                st = self.csr[CSR_MSTATUS]
                mpie = (st >> 7) & 1
                self.csr[CSR_MSTATUS] = (st & ~0x8) | (mpie << 3) | 0x80
                C[0] += cyc
                C[1] += 1
                self._flush_pc = self.csr[CSR_MEPC] & ~3 & M32
                self._mis[1] = 0
                return self._flush_pc
            return fn
        if sem == "fence_i":
            def fn() -> int:
                self._flush()
                C[0] += cyc
                C[1] += 1
                self._flush_pc = pc + 4
                self._mis[1] = 0
                return pc + 4
            return fn
        if sem == "wfi":
            def fn() -> int:
                C[0] += cyc
                C[1] += 1
                return pc + 4
            return fn
        raise AssertionError(f"no system handler for {sem!r}")

    def _counter(self, i: int) -> int:
        if self._inhibit & (1 << (2 * i)):  # bit 0 CY, bit 2 IR
            return self._cnt_frozen[i]
        return (self._C[i] - self._cnt_base[i]) & ((1 << 64) - 1)

    def _running(self, i: int) -> int:
        """1 if counter ``i`` (0 cycle, 1 instret) counts, 0 if mcountinhibit stops it."""
        return 0 if self._inhibit & (1 << (2 * i)) else 1

    def _set_counter(self, i: int, value: int) -> None:
        value &= (1 << 64) - 1
        if self._inhibit & (1 << (2 * i)):
            self._cnt_frozen[i] = value
        else:
            self._cnt_base[i] = self._C[i] - value

    def _csr_read(self, addr: int) -> int:
        if addr == xdec_spec.CSR_ADDR:
            return self._xc[0]
        if addr in (CSR_MCYCLE, CSR_CYCLE):
            return self._counter(0) & M32
        if addr in (CSR_MCYCLEH, CSR_CYCLEH):
            return self._counter(0) >> 32
        if addr in (CSR_MINSTRET, CSR_INSTRET):
            return self._counter(1) & M32
        if addr in (CSR_MINSTRETH, CSR_INSTRETH):
            return self._counter(1) >> 32
        if addr == CSR_MCOUNTINHIBIT:
            return self._inhibit
        if addr in CSR_LP:
            level, what = CSR_LP[addr]
            return getattr(self.hw[level], what)
        if addr == CSR_MISA:
            return MISA
        if addr in (CSR_MHPMCOUNTER3, CSR_HPMCOUNTER3):
            return self._hpm3 & M32
        if addr in (CSR_MHPMCOUNTER3H, CSR_HPMCOUNTER3H):
            return self._hpm3 >> 32
        if addr in CSR_CONSTANT:
            return CSR_CONSTANT[addr]
        if addr in self.csr:
            return self.csr[addr]
        raise xdec_ref.IllegalInstruction(f"CSR 0x{addr:03x} does not exist")

    def _csr_write(self, addr: int, v: int) -> None:
        v &= M32
        if (addr >> 10) == 3 or addr in CSR_LP:
            raise xdec_ref.IllegalInstruction(f"CSR 0x{addr:03x} is read-only")
        if addr == xdec_spec.CSR_ADDR:
            self._xc[0] = xdec_ref.csr_write(v)
        # Counter writes happen in the writing instruction's first (EX) cycle, which they
        # replace, and its own retirement is not counted; a new mcountinhibit applies from the
        # next cycle (RTL cv32e40p_cs_registers.sv:1413-1476).  The instruction's cycles and
        # retirement are added after this write, hence "- running" below.
        elif addr in (CSR_MCYCLE, CSR_MINSTRET):
            i = 0 if addr == CSR_MCYCLE else 1
            self._set_counter(i, ((self._counter(i) & ~M32) | v) - self._running(i))
        elif addr in (CSR_MCYCLEH, CSR_MINSTRETH):
            i = 0 if addr == CSR_MCYCLEH else 1
            self._set_counter(i, ((self._counter(i) & M32) | (v << 32)) - self._running(i))
        elif addr == CSR_MCOUNTINHIBIT:
            values = [self._counter(i) + self._running(i) for i in (0, 1)]
            self._inhibit = v & 0xD
            for i in (0, 1):
                self._set_counter(i, values[i] - self._running(i))
        elif addr == CSR_MTVEC:
            self.csr[addr] = v & 0xFFFF_FF01
        elif addr == CSR_MSTATUS:
            self.csr[addr] = (v & 0x88) | 0x1800
        elif addr == CSR_MEPC:
            self.csr[addr] = v & ~3 & M32
        elif addr == CSR_MIE:
            self.csr[addr] = v & MIE_MASK
        elif addr == CSR_MCAUSE:
            self.csr[addr] = v & MCAUSE_MASK
        elif addr == CSR_MHPMEVENT3:
            self.csr[addr] = v & MHPMEVENT_MASK
        elif addr == CSR_MHPMCOUNTER3:
            self._hpm3 = (self._hpm3 & ~M32) | v
        elif addr == CSR_MHPMCOUNTER3H:
            self._hpm3 = (self._hpm3 & M32) | (v << 32)
        elif addr in (CSR_MISA, CSR_MIP, CSR_MTVAL) or addr in CSR_CONSTANT:
            pass  # WARL, read-only content in this model
        elif addr in self.csr:
            self.csr[addr] = v
        else:
            raise xdec_ref.IllegalInstruction(f"CSR 0x{addr:03x} does not exist")

    def _csr_op(self, d: isa.Decoded, pc: int) -> None:
        o = d.ops
        addr = o["csr"]
        mn = d.insn.mnemonic
        src = o["uimm"] if mn.endswith("i") else self.regs[o["rs1"]]
        old = self._csr_read(addr)
        if addr in CSR_LP and CSR_LP[addr][1] == "count":
            lp = self.hw[CSR_LP[addr][0]]
            if lp.end == pc + 4 and lp.count >= 1:
                old -= 1  # the RTL decrements when the last instruction is in ID, before EX
        if mn.startswith("csrrw"):
            self._csr_write(addr, src)
        elif o.get("rs1", o.get("uimm")):
            self._csr_write(addr, old | src if mn.startswith("csrrs") else old & ~src)
        if o["rd"]:
            self.regs[o["rd"]] = old & M32

    def _hwloop_op(self, pc: int, d: isa.Decoded, cyc: int) -> int:
        o, mn = d.ops, d.insn.mnemonic
        lp = self.hw[o["L"]]
        rs1 = self.regs[o.get("rs1", 0)]
        if mn == "cv.starti":
            lp.start = (pc + (o["uimm"] << 2)) & M32 & ~3
        elif mn == "cv.start":
            lp.start = rs1 & ~3
        elif mn == "cv.endi":
            lp.end = (pc + (o["uimm"] << 2)) & M32 & ~3
        elif mn == "cv.end":
            lp.end = rs1 & ~3
        elif mn == "cv.counti":
            lp.count = o["uimm"]
        elif mn == "cv.count":
            lp.count = rs1
        elif mn == "cv.setupi":
            lp.start, lp.end, lp.count = pc + 4, (pc + (o["uimms"] << 2)) & M32, o["uimm"]
        elif mn == "cv.setup":
            lp.start, lp.end, lp.count = pc + 4, (pc + (o["uimm"] << 2)) & M32, rs1
        else:
            raise AssertionError(mn)
        if lp.end and lp.end not in self._loop_ends:
            self._loop_ends.add(lp.end)
            self._flush()  # blocks must now stop at this loop end
        C = self._C
        C[0] += cyc
        C[1] += 1
        if mn in ("cv.setup", "cv.setupi") and lp.count >= 1:
            self._check_loop(lp)
            if self.compile_loops:
                fn = self._loop_fn(lp.start, lp.end)
                if fn is not None:
                    self._run_loop(fn, o["L"])
                    return lp.end
        return pc + 4

    def _check_loop(self, lp: _HwLoop) -> None:
        """Constraints of the manual (corev_hw_loop.rst) that a simulator should report."""
        if lp.end <= lp.start:
            raise TargetError(f"hardware loop end 0x{lp.end:x} must be > start 0x{lp.start:x}")
        if (lp.end - lp.start) // 4 < 3:
            raise TargetError(f"hardware loop body 0x{lp.start:x}..0x{lp.end:x} must contain at "
                              f"least 3 instructions")
        for p in range(lp.start, lp.end, 4):
            d = self._peek(p)
            if _kind(d) in ("branch", "jal", "jalr"):
                raise TargetError(f"hardware loop body 0x{lp.start:x}..0x{lp.end:x} contains a "
                                  f"branch or jump at 0x{p:x}")
            if d is not None and d.insn.sem in _LOOP_FORBIDDEN:
                raise TargetError(f"hardware loop body 0x{lp.start:x}..0x{lp.end:x} contains "
                                  f"{d.insn.mnemonic} at 0x{p:x} (no fence, fence.i, mret or "
                                  f"wfi in a hardware-loop body)")

    # ---------------------------------------------------------------------------- traps
    def _trap(self, pc: int, cause: int, cycles: int = _TRAP_CYCLES) -> int:
        self.traps += 1
        csr = self.csr
        if pc == (csr[CSR_MTVEC] & 0xFFFF_FF00) and self.traps > 1:
            raise TargetError(f"trap loop: the trap handler at 0x{pc:08x} traps itself "
                              f"(mcause {cause})")
        st = csr[CSR_MSTATUS]
        csr[CSR_MSTATUS] = (st & ~0x88) | ((st & 0x8) << 4)
        csr[CSR_MEPC] = pc
        csr[CSR_MCAUSE] = cause
        csr[CSR_MTVAL] = 0
        self._C[0] += cycles
        return csr[CSR_MTVEC] & 0xFFFF_FF00

    def _locate(self, exc: BaseException) -> tuple[int, int, int] | None:
        """(pc of the faulting instruction, static cycles before it, its index in the block or
        loop body) from the traceback.  Index 0: the code before it (the previous block or the
        back edge) already paid its hazard stall."""
        tb = exc.__traceback__
        found = None
        while tb is not None:
            info = self._codeinfo.get(tb.tb_frame.f_code)
            if info is not None:
                found = (info, tb.tb_lineno)
            tb = tb.tb_next
        if found is None:
            return None
        (kind, start, before, ins, lines), lineno = found
        idx = lines[lineno - 1] if 0 < lineno <= len(lines) else -1
        if idx < 0:
            raise AssertionError(f"cannot locate the fault in generated {kind} at 0x{start:x} "
                                 f"(line {lineno})") from exc
        self._C[0] += before[idx]
        self._C[1] += ins[idx]
        return start + 4 * idx, before[idx], idx

    def _exception(self, exc: BaseException, pc: int) -> int:
        loc = self._locate(exc)
        if loc is not None:
            pc = loc[0]
        if isinstance(exc, _IllegalEncoding):
            return self._trap(pc, CAUSE_ILLEGAL, _TRAP_ILLEGAL_CYCLES)
        if isinstance(exc, xdec_ref.IllegalInstruction):
            d = self._peek(pc)
            if loc is not None and loc[2]:  # its own hazard stall comes before the trap
                self._C[0] += _stall(self._peek(pc - 4), d)
            if d is not None and d.insn.sem == "xdec_lb":  # an unimplemented configuration
                return self._trap(pc, CAUSE_ILLEGAL, _TRAP_ILLEGAL_CYCLES)
            return self._trap(pc, CAUSE_ILLEGAL)
        if isinstance(exc, _AccessFault):
            self._C[0] += exc.extra
            return self._trap(pc, exc.cause)
        raise exc

    # ---------------------------------------------------------------------------- run
    def run(self, *, max_instructions: int = 200_000_000, l2_dump: int = 0) -> RunResult:
        """Run from the current pc until the program stores to ``MMIO_EXIT``.

        ``l2_dump``: bytes of L2 (from ``L2_BASE``) returned in ``RunResult.l2``.

        Raises
        ------
        TypeError
            If ``max_instructions`` is not an integer (a bool is not).
        ValueError
            If ``max_instructions`` < 0.
        TargetError
            If ``max_instructions`` retire without an exit, or on a trap loop.
        """
        _check_int("max_instructions", max_instructions, 0)
        _check_int("l2_dump", l2_dump, 0, memmap.L2_SIZE)
        C = self._C
        cache = self._cache
        pc = self.pc
        limit = C[1] + max_instructions
        while True:
            try:
                while C[1] < limit:
                    f = cache.get(pc)
                    if f is None:
                        f = self._translate(pc)
                    pc = f()
                self.pc = pc
                raise TargetError(f"no exit after {max_instructions} instructions "
                                  f"(pc 0x{pc:08x})")
            except _Exit as e:
                self.pc = pc
                return RunResult(target="iss", exit_code=e.code, stdout=bytes(self.stdout),
                                 cycles=e.cycles, instret=e.instret, marks=list(self.marks),
                                 memory=bytes(self.mem[self._dbase:self._dbase + self._dsize]),
                                 l2=bytes(self._l2()[:l2_dump]) if l2_dump else None,
                                 dma_transfers=self.dma_transfers,
                                 dma_cycles=self.dma_busy_cycles)
            except TargetError:
                raise
            except (xdec_ref.IllegalInstruction, _AccessFault) as e:
                pc = self._exception(e, pc)


def run_elf(path: str | Path, *, max_instructions: int = 200_000_000, l2_dump: int = 0,
            **kwargs: object) -> RunResult:
    """Load a bare-metal ELF into a fresh :class:`Iss` and run it to its exit.

    ``kwargs`` go to :class:`Iss` (``max_block``, ``compile_loops``).

    Raises
    ------
    TypeError
        If ``path`` is not a str or an ``os.PathLike``, or an argument has the wrong type (see
        :class:`Iss` and :meth:`Iss.run`); an unknown keyword.
    ValueError
        If ``max_instructions`` < 0, ``max_block`` < 1, or the ELF is not a bare-metal
        program of this memory map.
    TargetError
        See :meth:`Iss.run`.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, not {path!r}")
    _check_int("max_instructions", max_instructions, 0)
    iss = Iss(**kwargs)  # type: ignore[arg-type]
    iss.load_elf(path)
    return iss.run(max_instructions=max_instructions, l2_dump=l2_dump)
