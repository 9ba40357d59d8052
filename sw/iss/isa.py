"""The instruction-set table: RV32IM, Zicsr, the XpulpV2 (CORE-V) subset and xDecimate, once.

One row per instruction (:class:`Insn`): mnemonic, format, match bits, assembler syntax, the
registers it reads and writes, a semantics id and a timing class.  Everything else derives from
:data:`INSTRUCTIONS`:

* the encoder, decoder and disassembler below,
* a small two-pass assembler (:func:`assemble`) used by tests to write programs without GCC,
* the instruction-set simulator (:mod:`xdecimate.sw.iss.iss`, one code template per semantics id),
* the timing model (:mod:`xdecimate.sw.iss.timing`, one rule per timing class),
* the C intrinsics header ``sw/kernels/c/xdecimate.h`` (:func:`c_header`) and the tables of
  ``docs/iss.md`` (:func:`markdown_table`).

CORE-V encodings are those of the CV32E40P v1.8.3 decoder (``rtl/cv32e40p_decoder.sv``, tag
``cv32e40p_v1.8.3``; user manual section "CORE-V Instruction Set Custom Extensions");
``tests/sw/iss/test_isa.py`` checks every row against an independent assembler (``llvm-mc-19``) and
against the case labels of the RTL decoder.  The xDecimate row is built from
:data:`xdecimate.sw.model.xdec_spec.INSTRUCTIONS`, never restated here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..model import xdec_spec

__all__ = [
    "ABI_NAMES",
    "FORMATS",
    "INSTRUCTIONS",
    "AsmError",
    "Decoded",
    "Insn",
    "assemble",
    "c_header",
    "decode",
    "disassemble",
    "encode",
    "insn",
    "markdown_table",
    "reg_number",
]

MASK32 = 0xFFFF_FFFF

#: ABI register names, index = register number.
ABI_NAMES: tuple[str, ...] = (
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
)
_REG_BY_NAME = {n: i for i, n in enumerate(ABI_NAMES)} | {f"x{i}": i for i in range(32)}
_REG_BY_NAME["fp"] = 8

# Major opcodes.
OP_LOAD, OP_CUSTOM0, OP_MISC_MEM, OP_OPIMM, OP_AUIPC = 0x03, 0x0B, 0x0F, 0x13, 0x17
OP_STORE, OP_CUSTOM1, OP_OP, OP_LUI, OP_BRANCH = 0x23, 0x2B, 0x33, 0x37, 0x63
OP_JALR, OP_JAL, OP_SYSTEM, OP_CUSTOM2, OP_CUSTOM3 = 0x67, 0x6F, 0x73, 0x5B, 0x7B


def reg_number(name: str) -> int:
    """Register number of an ABI (``a0``) or numeric (``x10``) register name."""
    try:
        return _REG_BY_NAME[name.strip().lower()]
    except KeyError:
        raise ValueError(f"not a register name: {name!r}") from None


# --------------------------------------------------------------------------------------------
# Formats: how operand fields sit in the word
# --------------------------------------------------------------------------------------------


def _sext(value: int, bits: int) -> int:
    sign = 1 << (bits - 1)
    return (value & (sign - 1)) - (value & sign)


@dataclass(frozen=True)
class Format:
    """An instruction format: fixed-bit mask and the operand fields with their ranges.

    ``fields`` maps an operand name to ``(lo, hi, signed)``: the legal value range for encoding.
    """

    name: str
    mask: int
    fields: dict[str, tuple[int, int]]

    def extract(self, word: int) -> dict[str, int]:
        return _EXTRACT[self.name](word)

    def insert(self, values: dict[str, int]) -> int:
        return _INSERT[self.name](values)


def _b_imm(w: int) -> int:
    v = (((w >> 31) & 1) << 12 | ((w >> 7) & 1) << 11 | ((w >> 25) & 0x3F) << 5
         | ((w >> 8) & 0xF) << 1)
    return _sext(v, 13)


def _j_imm(w: int) -> int:
    v = (((w >> 31) & 1) << 20 | ((w >> 12) & 0xFF) << 12 | ((w >> 20) & 1) << 11
         | ((w >> 21) & 0x3FF) << 1)
    return _sext(v, 21)


def _rd(w: int) -> int:
    return (w >> 7) & 31


def _rs1(w: int) -> int:
    return (w >> 15) & 31


def _rs2(w: int) -> int:
    return (w >> 20) & 31


_EXTRACT = {
    "R": lambda w: {"rd": _rd(w), "rs1": _rs1(w), "rs2": _rs2(w)},
    "I": lambda w: {"rd": _rd(w), "rs1": _rs1(w), "imm": _sext(w >> 20, 12)},
    "ISH": lambda w: {"rd": _rd(w), "rs1": _rs1(w), "shamt": _rs2(w)},
    "S": lambda w: {"rs1": _rs1(w), "rs2": _rs2(w),
                    "imm": _sext(((w >> 25) << 5) | ((w >> 7) & 31), 12)},
    "B": lambda w: {"rs1": _rs1(w), "rs2": _rs2(w), "imm": _b_imm(w)},
    "U": lambda w: {"rd": _rd(w), "imm": w >> 12},
    "J": lambda w: {"rd": _rd(w), "imm": _j_imm(w)},
    "CSR": lambda w: {"rd": _rd(w), "csr": w >> 20, "rs1": _rs1(w)},
    "CSRI": lambda w: {"rd": _rd(w), "csr": w >> 20, "uimm": _rs1(w)},
    "SYS": lambda w: {},
    "FENCE": lambda w: {},
    "RS3": lambda w: {"rs1": _rs1(w), "rs2": _rs2(w), "rs3": _rd(w)},
    "RI5": lambda w: {"rd": _rd(w), "rs1": _rs1(w), "is2": _rs2(w)},
    "R1": lambda w: {"rd": _rd(w), "rs1": _rs1(w)},
    "HWI": lambda w: {"L": (w >> 7) & 1, "uimm": w >> 20},
    "HWR": lambda w: {"L": (w >> 7) & 1, "rs1": _rs1(w)},
    "HWSI": lambda w: {"L": (w >> 7) & 1, "uimm": w >> 20, "uimms": _rs1(w)},
    "HWS": lambda w: {"L": (w >> 7) & 1, "rs1": _rs1(w), "uimm": w >> 20},
    "BM": lambda w: {"rd": _rd(w), "rs1": _rs1(w), "is3": (w >> 25) & 31, "is2": _rs2(w)},
    "VI6": lambda w: {"rd": _rd(w), "rs1": _rs1(w),
                      "imm": (w >> 25) & 1 | ((w >> 20) & 1) << 1},
}


def _ins_b(imm: int) -> int:
    imm &= 0x1FFF
    return (((imm >> 12) & 1) << 31 | ((imm >> 5) & 0x3F) << 25 | ((imm >> 1) & 0xF) << 8
            | ((imm >> 11) & 1) << 7)


def _ins_j(imm: int) -> int:
    imm &= 0x1FFFFF
    return (((imm >> 20) & 1) << 31 | ((imm >> 1) & 0x3FF) << 21 | ((imm >> 11) & 1) << 20
            | ((imm >> 12) & 0xFF) << 12)


_INSERT = {
    "R": lambda v: v["rd"] << 7 | v["rs1"] << 15 | v["rs2"] << 20,
    "I": lambda v: v["rd"] << 7 | v["rs1"] << 15 | (v["imm"] & 0xFFF) << 20,
    "ISH": lambda v: v["rd"] << 7 | v["rs1"] << 15 | v["shamt"] << 20,
    "S": lambda v: ((v["imm"] & 0x1F) << 7 | v["rs1"] << 15 | v["rs2"] << 20
                    | ((v["imm"] >> 5) & 0x7F) << 25),
    "B": lambda v: v["rs1"] << 15 | v["rs2"] << 20 | _ins_b(v["imm"]),
    "U": lambda v: v["rd"] << 7 | (v["imm"] & 0xFFFFF) << 12,
    "J": lambda v: v["rd"] << 7 | _ins_j(v["imm"]),
    "CSR": lambda v: v["rd"] << 7 | v["rs1"] << 15 | v["csr"] << 20,
    "CSRI": lambda v: v["rd"] << 7 | v["uimm"] << 15 | v["csr"] << 20,
    "SYS": lambda v: 0,
    "FENCE": lambda v: 0,
    "RS3": lambda v: v["rs3"] << 7 | v["rs1"] << 15 | v["rs2"] << 20,
    "RI5": lambda v: v["rd"] << 7 | v["rs1"] << 15 | v["is2"] << 20,
    "R1": lambda v: v["rd"] << 7 | v["rs1"] << 15,
    "HWI": lambda v: v["L"] << 7 | v["uimm"] << 20,
    "HWR": lambda v: v["L"] << 7 | v["rs1"] << 15,
    "HWSI": lambda v: v["L"] << 7 | v["uimms"] << 15 | v["uimm"] << 20,
    "HWS": lambda v: v["L"] << 7 | v["rs1"] << 15 | v["uimm"] << 20,
    "BM": lambda v: v["rd"] << 7 | v["rs1"] << 15 | v["is2"] << 20 | v["is3"] << 25,
    "VI6": lambda v: (v["rd"] << 7 | v["rs1"] << 15 | (v["imm"] & 1) << 25
                      | (v["imm"] >> 1) << 20),
}

_REG = (0, 31)
_I12 = (-2048, 2047)
#: Every format, by name.  Field ranges are the encodable values.
FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("R", 0xFE00707F, {"rd": _REG, "rs1": _REG, "rs2": _REG}),
    Format("I", 0x0000707F, {"rd": _REG, "rs1": _REG, "imm": _I12}),
    Format("ISH", 0xFE00707F, {"rd": _REG, "rs1": _REG, "shamt": (0, 31)}),
    Format("S", 0x0000707F, {"rs1": _REG, "rs2": _REG, "imm": _I12}),
    Format("B", 0x0000707F, {"rs1": _REG, "rs2": _REG, "imm": (-4096, 4094)}),
    Format("U", 0x0000007F, {"rd": _REG, "imm": (0, 0xFFFFF)}),
    Format("J", 0x0000007F, {"rd": _REG, "imm": (-(1 << 20), (1 << 20) - 2)}),
    Format("CSR", 0x0000707F, {"rd": _REG, "csr": (0, 0xFFF), "rs1": _REG}),
    Format("CSRI", 0x0000707F, {"rd": _REG, "csr": (0, 0xFFF), "uimm": (0, 31)}),
    Format("SYS", 0xFFFFFFFF, {}),
    Format("FENCE", 0x0000707F, {}),
    Format("RS3", 0xFE00707F, {"rs1": _REG, "rs2": _REG, "rs3": _REG}),
    Format("RI5", 0xFE00707F, {"rd": _REG, "rs1": _REG, "is2": (0, 31)}),
    Format("R1", 0xFFF0707F, {"rd": _REG, "rs1": _REG}),
    Format("HWI", 0x000FFF7F, {"L": (0, 1), "uimm": (0, 0xFFF)}),
    Format("HWR", 0xFFF07F7F, {"L": (0, 1), "rs1": _REG}),
    Format("HWSI", 0x00007F7F, {"L": (0, 1), "uimm": (0, 0xFFF), "uimms": (0, 31)}),
    Format("HWS", 0x00007F7F, {"L": (0, 1), "rs1": _REG, "uimm": (0, 0xFFF)}),
    # CORE-V bit manipulation with two 5-bit immediates (custom-2): Is3 in 29:25, Is2 in 24:20.
    Format("BM", 0xC000707F, {"rd": _REG, "rs1": _REG, "is3": (0, 31), "is2": (0, 31)}),
    # CORE-V SIMD byte lane immediate (Imm6 = {instr[24:20], instr[25]}); the .b forms decode
    # only lanes 0..3, so bits 24:21 are fixed zero (the RTL decoder's "Imm6 restriction").
    Format("VI6", 0xFDE0707F, {"rd": _REG, "rs1": _REG, "imm": (0, 3)}),
)}

_REG_FIELDS = ("rd", "rs1", "rs2", "rs3")


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Insn:
    """One instruction.

    Attributes
    ----------
    id : unique name (mnemonic plus a suffix where one mnemonic has several forms).
    mnemonic : assembler mnemonic (llvm-mc / CORE-V manual spelling).
    ext : extension (``rv32i``, ``rv32m``, ``zicsr``, ``xcvmem``, ``xcvhwlp``, ``xcvsimd``,
        ``xcvalu``, ``xcvmac``, ``xdec``).
    fmt : format name, a key of :data:`FORMATS`.
    match : the fixed bits (all operand fields zero).
    syntax : operand syntax with ``{field}`` placeholders, e.g. ``"{rd}, ({rs1}), {imm}"``.
    sem : semantics id (one ISS code template per id).
    timing : timing class (one rule per class in :mod:`xdecimate.sw.iss.timing`).
    reads, writes : operand fields naming registers read / written (``rd`` is read by
        accumulating instructions and xdec.lb; post-increment writes ``rs1``).
    pcrel : ``(field, shift)`` if the field is a pc-relative target (``target - pc`` >> shift)
        that the assembler accepts as a label.
    doc : one-line semantics, CV32E40P-manual style.
    """

    id: str
    mnemonic: str
    ext: str
    fmt: str
    match: int
    syntax: str
    sem: str
    timing: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    doc: str
    pcrel: tuple[str, int] | None = None

    @property
    def mask(self) -> int:
        """Bits that must equal :attr:`match`."""
        return FORMATS[self.fmt].mask

    @property
    def fields(self) -> tuple[str, ...]:
        """Operand fields in syntax order."""
        return tuple(re.findall(r"\{(\w+)\}", self.syntax))

    def encode(self, **values: int) -> int:
        """Encode this instruction; every field of :attr:`fields` is required."""
        fmt = FORMATS[self.fmt]
        need = set(self.fields)
        if set(values) != need:
            raise ValueError(f"{self.id}: operands must be {sorted(need)}, not {sorted(values)}")
        full = dict.fromkeys(fmt.fields, 0)
        for name, value in values.items():
            lo, hi = fmt.fields[name]
            if not isinstance(value, int) or not lo <= value <= hi:
                raise ValueError(f"{self.id}: {name} must be an integer in {lo}..{hi}, "
                                 f"not {value!r}")
            if self.fmt in ("B", "J") and name == "imm" and value & 1:
                raise ValueError(f"{self.id}: branch offset must be even, not {value!r}")
            full[name] = value
        return self.match | fmt.insert(full)

    def matches(self, word: int) -> bool:
        """True if ``word`` is this instruction."""
        return (word & self.mask) == self.match


def _row(id_: str, ext: str, fmt: str, opcode: int, *, f3: int = 0, f7: int = 0, hi12: int = 0,
         f4: int = 0, sem: str | None = None, timing: str, syntax: str, reads: Iterable[str] = (),
         writes: Iterable[str] = (), doc: str, mnemonic: str | None = None,
         pcrel: tuple[str, int] | None = None) -> Insn:
    match = opcode | f3 << 12
    if fmt in ("R", "ISH", "RS3", "RI5", "R1", "BM", "VI6"):
        match |= f7 << 25
    if fmt in ("SYS", "R1"):
        match |= hi12 << 20
    if fmt.startswith("HW"):
        match |= f4 << 8
    mn = mnemonic or id_.split("#")[0]
    return Insn(id=id_.replace("#", "."), mnemonic=mn, ext=ext, fmt=fmt, match=match,
                syntax=syntax, sem=sem or mn.replace(".", "_"), timing=timing,
                reads=tuple(reads), writes=tuple(writes), doc=doc, pcrel=pcrel)


_RRR = "{rd}, {rs1}, {rs2}"
_RRI = "{rd}, {rs1}, {imm}"


def _base() -> list[Insn]:
    rows = [
        _row("lui", "rv32i", "U", OP_LUI, timing="alu", syntax="{rd}, {imm}", writes=["rd"],
             doc="rD = imm << 12"),
        _row("auipc", "rv32i", "U", OP_AUIPC, timing="alu", syntax="{rd}, {imm}", writes=["rd"],
             doc="rD = PC + (imm << 12)"),
        _row("jal", "rv32i", "J", OP_JAL, timing="jal", syntax="{rd}, {imm}", writes=["rd"],
             doc="rD = PC + 4; PC += Sext(imm)", pcrel=("imm", 0)),
        _row("jalr", "rv32i", "I", OP_JALR, timing="jalr", syntax="{rd}, {imm}({rs1})",
             reads=["rs1"], writes=["rd"], doc="rD = PC + 4; PC = (rs1 + Sext(imm)) & ~1"),
    ]
    for f3, mn, op in ((0, "beq", "=="), (1, "bne", "!="), (4, "blt", "<s"), (5, "bge", ">=s"),
                       (6, "bltu", "<u"), (7, "bgeu", ">=u")):
        rows.append(_row(mn, "rv32i", "B", OP_BRANCH, f3=f3, timing="branch",
                         syntax="{rs1}, {rs2}, {imm}", reads=["rs1", "rs2"],
                         doc=f"if rs1 {op} rs2: PC += Sext(imm)", pcrel=("imm", 0)))
    for f3, mn, doc in ((0, "lb", "Sext(Mem8"), (1, "lh", "Sext(Mem16"), (2, "lw", "(Mem32"),
                        (4, "lbu", "Zext(Mem8"), (5, "lhu", "Zext(Mem16")):
        rows.append(_row(mn, "rv32i", "I", OP_LOAD, f3=f3, timing="load",
                         syntax="{rd}, {imm}({rs1})", reads=["rs1"], writes=["rd"],
                         doc=f"rD = {doc}(rs1 + Sext(imm)))"))
    for f3, mn, bits in ((0, "sb", 8), (1, "sh", 16), (2, "sw", 32)):
        rows.append(_row(mn, "rv32i", "S", OP_STORE, f3=f3, timing="store",
                         syntax="{rs2}, {imm}({rs1})", reads=["rs1", "rs2"],
                         doc=f"Mem{bits}(rs1 + Sext(imm)) = rs2"))
    for f3, mn, doc in ((0, "addi", "rs1 + Sext(imm)"), (2, "slti", "rs1 <s Sext(imm)"),
                        (3, "sltiu", "rs1 <u Sext(imm)"), (4, "xori", "rs1 ^ Sext(imm)"),
                        (6, "ori", "rs1 | Sext(imm)"), (7, "andi", "rs1 & Sext(imm)")):
        rows.append(_row(mn, "rv32i", "I", OP_OPIMM, f3=f3, timing="alu", syntax=_RRI,
                         reads=["rs1"], writes=["rd"], doc=f"rD = {doc}"))
    for f3, f7, mn, doc in ((1, 0x00, "slli", "rs1 << shamt"), (5, 0x00, "srli", "rs1 >>u shamt"),
                            (5, 0x20, "srai", "rs1 >>s shamt")):
        rows.append(_row(mn, "rv32i", "ISH", OP_OPIMM, f3=f3, f7=f7, timing="alu",
                         syntax="{rd}, {rs1}, {shamt}", reads=["rs1"], writes=["rd"],
                         doc=f"rD = {doc}"))
    for f3, f7, mn, doc, timing in (
            (0, 0x00, "add", "rs1 + rs2", "alu"), (0, 0x20, "sub", "rs1 - rs2", "alu"),
            (1, 0x00, "sll", "rs1 << rs2[4:0]", "alu"), (2, 0x00, "slt", "rs1 <s rs2", "alu"),
            (3, 0x00, "sltu", "rs1 <u rs2", "alu"), (4, 0x00, "xor", "rs1 ^ rs2", "alu"),
            (5, 0x00, "srl", "rs1 >>u rs2[4:0]", "alu"),
            (5, 0x20, "sra", "rs1 >>s rs2[4:0]", "alu"),
            (6, 0x00, "or", "rs1 | rs2", "alu"), (7, 0x00, "and", "rs1 & rs2", "alu"),
            (0, 0x01, "mul", "(rs1 * rs2)[31:0]", "mul"),
            (1, 0x01, "mulh", "(rs1 *s rs2)[63:32]", "mulh"),
            (2, 0x01, "mulhsu", "(rs1 *su rs2)[63:32]", "mulh"),
            (3, 0x01, "mulhu", "(rs1 *u rs2)[63:32]", "mulh"),
            (4, 0x01, "div", "rs1 /s rs2 (RISC-V rules for 0 and overflow)", "div"),
            (5, 0x01, "divu", "rs1 /u rs2", "div"),
            (6, 0x01, "rem", "rs1 %s rs2", "div"), (7, 0x01, "remu", "rs1 %u rs2", "div")):
        rows.append(_row(mn, "rv32m" if f7 == 1 else "rv32i", "R", OP_OP, f3=f3, f7=f7,
                         timing=timing, syntax=_RRR, reads=["rs1", "rs2"], writes=["rd"],
                         doc=f"rD = {doc}"))
    rows += [
        _row("fence", "rv32i", "FENCE", OP_MISC_MEM, f3=0, timing="fence", syntax="",
             doc="memory ordering (no effect in this single-hart model)"),
        _row("fence.i", "rv32i", "FENCE", OP_MISC_MEM, f3=1, timing="fence_i", syntax="",
             doc="instruction-fetch fence (flushes the ISS translation cache)"),
        _row("ecall", "rv32i", "SYS", OP_SYSTEM, hi12=0x000, timing="trap", syntax="",
             doc="environment-call trap (mcause 11)"),
        _row("ebreak", "rv32i", "SYS", OP_SYSTEM, hi12=0x001, timing="trap", syntax="",
             doc="breakpoint trap (mcause 3)"),
        _row("mret", "rv32i", "SYS", OP_SYSTEM, hi12=0x302, timing="mret", syntax="",
             doc="PC = mepc; mstatus.MIE = MPIE"),
        _row("wfi", "rv32i", "SYS", OP_SYSTEM, hi12=0x105, timing="alu", syntax="",
             doc="wait for interrupt (a no-op: no interrupts are modelled)"),
    ]
    for f3, mn, doc in ((1, "csrrw", "t = CSR; CSR = rs1; rD = t"),
                        (2, "csrrs", "t = CSR; CSR = t | rs1; rD = t"),
                        (3, "csrrc", "t = CSR; CSR = t & ~rs1; rD = t")):
        rows.append(_row(mn, "zicsr", "CSR", OP_SYSTEM, f3=f3, sem="csr", timing="csr",
                         syntax="{rd}, {csr}, {rs1}", reads=["rs1"], writes=["rd"], doc=doc))
    for f3, mn, doc in ((5, "csrrwi", "t = CSR; CSR = uimm; rD = t"),
                        (6, "csrrsi", "t = CSR; CSR = t | uimm; rD = t"),
                        (7, "csrrci", "t = CSR; CSR = t & ~uimm; rD = t")):
        rows.append(_row(mn, "zicsr", "CSRI", OP_SYSTEM, f3=f3, sem="csr", timing="csr",
                         syntax="{rd}, {csr}, {uimm}", writes=["rd"], doc=doc))
    return rows


def _xcv() -> list[Insn]:
    rows: list[Insn] = []
    # Post-increment loads, register-immediate (custom-0; funct3 = {unsigned, size}).
    for f3, mn, doc in ((0, "cv.lb", "Sext(Mem8"), (4, "cv.lbu", "Zext(Mem8"),
                        (1, "cv.lh", "Sext(Mem16"), (5, "cv.lhu", "Zext(Mem16"),
                        (2, "cv.lw", "(Mem32")):
        rows.append(_row(f"{mn}#pi", "xcvmem", "I", OP_CUSTOM0, f3=f3, timing="load",
                         syntax="{rd}, ({rs1}), {imm}", reads=["rs1"], writes=["rd", "rs1"],
                         sem="load_pi", doc=f"rD = {doc}(rs1)); rs1 += Sext(imm)"))
    # Register post-increment and register-indexed loads (custom-1 funct3 011, "plane A").
    for f7, mn, doc in ((0x00, "cv.lb", "Sext(Mem8"), (0x08, "cv.lbu", "Zext(Mem8"),
                        (0x01, "cv.lh", "Sext(Mem16"), (0x09, "cv.lhu", "Zext(Mem16"),
                        (0x02, "cv.lw", "(Mem32")):
        rows.append(_row(f"{mn}#pr", "xcvmem", "R", OP_CUSTOM1, f3=3, f7=f7, timing="load",
                         syntax="{rd}, ({rs1}), {rs2}", reads=["rs1", "rs2"],
                         writes=["rd", "rs1"], sem="load_pr",
                         doc=f"rD = {doc}(rs1)); rs1 += rs2"))
        rows.append(_row(f"{mn}#rr", "xcvmem", "R", OP_CUSTOM1, f3=3, f7=f7 | 0x04,
                         timing="load", syntax="{rd}, {rs2}({rs1})", reads=["rs1", "rs2"],
                         writes=["rd"], sem="load_rr", doc=f"rD = {doc}(rs1 + rs2))"))
    # Post-increment stores, register-immediate (custom-1 funct3 = size).
    for f3, mn, bits in ((0, "cv.sb", 8), (1, "cv.sh", 16), (2, "cv.sw", 32)):
        rows.append(_row(f"{mn}#pi", "xcvmem", "S", OP_CUSTOM1, f3=f3, timing="store",
                         syntax="{rs2}, ({rs1}), {imm}", reads=["rs1", "rs2"], writes=["rs1"],
                         sem="store_pi", doc=f"Mem{bits}(rs1) = rs2; rs1 += Sext(imm)"))
        rows.append(_row(f"{mn}#pr", "xcvmem", "RS3", OP_CUSTOM1, f3=3, f7=0x10 | f3,
                         timing="store", syntax="{rs2}, ({rs1}), {rs3}",
                         reads=["rs1", "rs2", "rs3"], writes=["rs1"], sem="store_pr",
                         doc=f"Mem{bits}(rs1) = rs2; rs1 += rs3"))
        rows.append(_row(f"{mn}#rr", "xcvmem", "RS3", OP_CUSTOM1, f3=3, f7=0x14 | f3,
                         timing="store", syntax="{rs2}, {rs3}({rs1})",
                         reads=["rs1", "rs2", "rs3"], sem="store_rr",
                         doc=f"Mem{bits}(rs1 + rs3) = rs2"))
    # Hardware loops (custom-1 funct3 100, "plane B"; funct4 in bits 11:8, loop L in bit 7).
    hw = (
        ("cv.starti", "HWI", 0, "{L}, {uimm}", ("uimm", 2), (), "lpstart[L] = PC + (uimm << 2)"),
        ("cv.start", "HWR", 1, "{L}, {rs1}", None, ("rs1",), "lpstart[L] = rs1"),
        ("cv.endi", "HWI", 2, "{L}, {uimm}", ("uimm", 2), (), "lpend[L] = PC + (uimm << 2)"),
        ("cv.end", "HWR", 3, "{L}, {rs1}", None, ("rs1",), "lpend[L] = rs1"),
        ("cv.counti", "HWI", 4, "{L}, {uimm}", None, (), "lpcount[L] = uimm"),
        ("cv.count", "HWR", 5, "{L}, {rs1}", None, ("rs1",), "lpcount[L] = rs1"),
        ("cv.setupi", "HWSI", 6, "{L}, {uimm}, {uimms}", ("uimms", 2), (),
         "lpstart[L] = PC + 4; lpend[L] = PC + (uimms << 2); lpcount[L] = uimm"),
        ("cv.setup", "HWS", 7, "{L}, {rs1}, {uimm}", ("uimm", 2), ("rs1",),
         "lpstart[L] = PC + 4; lpend[L] = PC + (uimm << 2); lpcount[L] = rs1"),
    )
    for mn, fmt, f4, syn, pcrel, reads, doc in hw:
        rows.append(_row(mn, "xcvhwlp", fmt, OP_CUSTOM1, f3=4, f4=f4, sem="hwloop",
                         timing="hwloop", syntax=syn, reads=reads, doc=doc, pcrel=pcrel))
    # 8-bit SIMD dot products (custom-3, funct3 001 = .b vector-vector, funct7 = funct6 << 1).
    for f6, mn, acc, signs in ((0x20, "cv.dotup.b", False, "u*u"),
                               (0x22, "cv.dotusp.b", False, "u*s"),
                               (0x24, "cv.dotsp.b", False, "s*s"),
                               (0x26, "cv.sdotup.b", True, "u*u"),
                               (0x28, "cv.sdotusp.b", True, "u*s"),
                               (0x2A, "cv.sdotsp.b", True, "s*s")):
        rows.append(_row(mn, "xcvsimd", "R", OP_CUSTOM3, f3=1, f7=f6 << 1, timing="simd",
                         syntax=_RRR, reads=["rs1", "rs2", "rd"] if acc else ["rs1", "rs2"],
                         writes=["rd"],
                         doc=("rD = " + ("rD + " if acc else "")
                              + f"sum_i rs1[i] * rs2[i] over 4 bytes ({signs})")))
    # ALU: clip, min, max, abs (custom-1 funct3 011, funct7 = 01xxxxx).
    rows += [
        _row("cv.abs", "xcvalu", "R1", OP_CUSTOM1, f3=3, f7=0x28, timing="alu",
             syntax="{rd}, {rs1}", reads=["rs1"], writes=["rd"], doc="rD = |rs1|"),
        _row("cv.min", "xcvalu", "R", OP_CUSTOM1, f3=3, f7=0x2B, timing="alu", syntax=_RRR,
             reads=["rs1", "rs2"], writes=["rd"], doc="rD = min_s(rs1, rs2)"),
        _row("cv.minu", "xcvalu", "R", OP_CUSTOM1, f3=3, f7=0x2C, timing="alu", syntax=_RRR,
             reads=["rs1", "rs2"], writes=["rd"], doc="rD = min_u(rs1, rs2)"),
        _row("cv.max", "xcvalu", "R", OP_CUSTOM1, f3=3, f7=0x2D, timing="alu", syntax=_RRR,
             reads=["rs1", "rs2"], writes=["rd"], doc="rD = max_s(rs1, rs2)"),
        _row("cv.maxu", "xcvalu", "R", OP_CUSTOM1, f3=3, f7=0x2E, timing="alu", syntax=_RRR,
             reads=["rs1", "rs2"], writes=["rd"], doc="rD = max_u(rs1, rs2)"),
        _row("cv.clip", "xcvalu", "RI5", OP_CUSTOM1, f3=3, f7=0x38, timing="alu",
             syntax="{rd}, {rs1}, {is2}", reads=["rs1"], writes=["rd"],
             doc="rD = clamp_s(rs1, -2^(is2-1), 2^(is2-1) - 1)"),
        _row("cv.clipu", "xcvalu", "RI5", OP_CUSTOM1, f3=3, f7=0x39, timing="alu",
             syntax="{rd}, {rs1}, {is2}", reads=["rs1"], writes=["rd"],
             doc="rD = clamp_s(rs1, 0, 2^(is2-1) - 1)"),
        _row("cv.clipr", "xcvalu", "R", OP_CUSTOM1, f3=3, f7=0x3A, timing="alu", syntax=_RRR,
             reads=["rs1", "rs2"], writes=["rd"],
             doc="rD = clamp_s(rs1, -(rs2[30:0] + 1), rs2[30:0])"),
        _row("cv.clipur", "xcvalu", "R", OP_CUSTOM1, f3=3, f7=0x3B, timing="alu", syntax=_RRR,
             reads=["rs1", "rs2"], writes=["rd"], doc="rD = clamp_s(rs1, 0, rs2[30:0])"),
        _row("cv.mac", "xcvmac", "R", OP_CUSTOM1, f3=3, f7=0x48, timing="mul", syntax=_RRR,
             reads=["rs1", "rs2", "rd"], writes=["rd"], doc="rD = rD + rs1 * rs2"),
        _row("cv.msu", "xcvmac", "R", OP_CUSTOM1, f3=3, f7=0x49, timing="mul", syntax=_RRR,
             reads=["rs1", "rs2", "rd"], writes=["rd"], doc="rD = rD - rs1 * rs2"),
    ]
    # Bit manipulation with immediates (custom-2 funct3 000; bits 31:30 select the operation;
    # Is3 = field length - 1, Is2 = field position).
    _bm = "{rd}, {rs1}, {is3}, {is2}"
    rows += [
        _row("cv.extract", "xcvbitmanip", "BM", OP_CUSTOM2, f3=0, f7=0x00, timing="alu",
             syntax=_bm, reads=["rs1"], writes=["rd"],
             doc="rD = Sext((rs1 >>s Is2)[Is3:0])"),
        _row("cv.extractu", "xcvbitmanip", "BM", OP_CUSTOM2, f3=0, f7=0x20, timing="alu",
             syntax=_bm, reads=["rs1"], writes=["rd"],
             doc="rD = Zext((rs1 >>u Is2)[Is3:0])"),
        _row("cv.insert", "xcvbitmanip", "BM", OP_CUSTOM2, f3=0, f7=0x40, timing="alu",
             syntax=_bm, reads=["rs1", "rd"], writes=["rd"],
             doc="m = (2^(Is3+1) - 1) << Is2 (32 bits); rD = ((rs1 << Is2) & m) | (rD & ~m)"),
    ]
    # SIMD byte packing, shuffles and lane access (custom-3; funct7 = funct6 << 1 | F).
    rows += [
        _row("cv.pack", "xcvsimd", "R", OP_CUSTOM3, f3=0, f7=0x78, timing="alu", syntax=_RRR,
             reads=["rs1", "rs2"], writes=["rd"], doc="rD = rs1[15:0] << 16 | rs2[15:0]"),
        _row("cv.pack.h", "xcvsimd", "R", OP_CUSTOM3, f3=0, f7=0x79, timing="alu",
             syntax=_RRR, reads=["rs1", "rs2"], writes=["rd"],
             doc="rD = rs1[31:16] << 16 | rs2[31:16]"),
        _row("cv.packlo.b", "xcvsimd", "R", OP_CUSTOM3, f3=1, f7=0x7C, timing="alu",
             syntax=_RRR, reads=["rs1", "rs2", "rd"], writes=["rd"],
             doc="rD[15:8] = rs1[7:0]; rD[7:0] = rs2[7:0]; rD[31:16] kept"),
        _row("cv.packhi.b", "xcvsimd", "R", OP_CUSTOM3, f3=1, f7=0x7D, timing="alu",
             syntax=_RRR, reads=["rs1", "rs2", "rd"], writes=["rd"],
             doc="rD[31:24] = rs1[7:0]; rD[23:16] = rs2[7:0]; rD[15:0] kept"),
        _row("cv.shuffle.b", "xcvsimd", "R", OP_CUSTOM3, f3=1, f7=0x60, timing="alu",
             syntax=_RRR, reads=["rs1", "rs2"], writes=["rd"],
             doc="rD[byte i] = rs1[byte rs2[8i+1:8i]]"),
        _row("cv.shuffle2.b", "xcvsimd", "R", OP_CUSTOM3, f3=1, f7=0x70, timing="alu",
             syntax=_RRR, reads=["rs1", "rs2", "rd"], writes=["rd"],
             doc="rD[byte i] = (rs2[8i+2] ? rs1 : rD)[byte rs2[8i+1:8i]]"),
        _row("cv.extract.b", "xcvsimd", "VI6", OP_CUSTOM3, f3=1, f7=0x5C, timing="alu",
             syntax="{rd}, {rs1}, {imm}", reads=["rs1"], writes=["rd"],
             doc="rD = Sext(rs1[byte imm])"),
        _row("cv.extractu.b", "xcvsimd", "VI6", OP_CUSTOM3, f3=3, f7=0x5C, timing="alu",
             syntax="{rd}, {rs1}, {imm}", reads=["rs1"], writes=["rd"],
             doc="rD = Zext(rs1[byte imm])"),
        _row("cv.insert.b", "xcvsimd", "VI6", OP_CUSTOM3, f3=5, f7=0x5C, timing="alu",
             syntax="{rd}, {rs1}, {imm}", reads=["rs1", "rd"], writes=["rd"],
             doc="rD[byte imm] = rs1[7:0]; other bytes kept"),
    ]
    return rows


def _xdec() -> list[Insn]:
    rows = []
    for enc in xdec_spec.INSTRUCTIONS:
        rows.append(Insn(
            id=enc.mnemonic, mnemonic=enc.mnemonic, ext="xdec", fmt="R", match=enc.match,
            syntax=enc.operands.replace("rd", "{rd}").replace("rs1", "{rs1}")
            .replace("rs2", "{rs2}"),
            sem=enc.mnemonic.replace(".", "_"), timing=enc.mnemonic, reads=enc.reads,
            writes=("rd",), doc=enc.semantics))
        if FORMATS["R"].mask != enc.MASK:
            raise AssertionError(f"{enc.mnemonic}: xdec_spec mask {enc.MASK:#x} is not R-type")
    return rows


#: The table.  Order matters only for the documentation.
INSTRUCTIONS: tuple[Insn, ...] = tuple(_base() + _xcv() + _xdec())

_BY_ID = {i.id: i for i in INSTRUCTIONS}
if len(_BY_ID) != len(INSTRUCTIONS):
    raise AssertionError("duplicate instruction ids in the ISA table")


def insn(id_: str) -> Insn:
    """Look up a row by id (``"add"``, ``"cv.lw.pi"``, ``"xdec.lb"``)."""
    try:
        return _BY_ID[id_]
    except KeyError:
        raise KeyError(f"no instruction with id {id_!r}") from None


def encode(id_: str, **operands: int) -> int:
    """Encode instruction ``id_`` with integer operands (register numbers, immediates)."""
    return insn(id_).encode(**operands)


# --------------------------------------------------------------------------------------------
# Decoder and disassembler
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    """A decoded instruction word: its row and operand values."""

    insn: Insn
    word: int
    ops: dict[str, int]

    def reg_reads(self) -> tuple[int, ...]:
        """Register numbers read (x0 excluded)."""
        return tuple(r for r in (self.ops[f] for f in self.insn.reads) if r)

    def reg_writes(self) -> tuple[int, ...]:
        """Register numbers written (x0 excluded)."""
        return tuple(r for r in (self.ops[f] for f in self.insn.writes) if r)


# Decode buckets by major opcode for speed.
_BY_OPCODE: dict[int, list[Insn]] = {}
for _i in INSTRUCTIONS:
    _BY_OPCODE.setdefault(_i.match & 0x7F, []).append(_i)
del _i
_DECODE_CACHE: dict[int, Decoded | None] = {}


def decode(word: int) -> Decoded | None:
    """Decode a 32-bit word; ``None`` if no row matches (an illegal instruction)."""
    try:
        return _DECODE_CACHE[word]
    except KeyError:
        pass
    if not isinstance(word, int) or not 0 <= word <= MASK32:
        raise ValueError(f"instruction word must be a 32-bit unsigned integer, not {word!r}")
    found = None
    for row in _BY_OPCODE.get(word & 0x7F, ()):
        if row.matches(word):
            ops = FORMATS[row.fmt].extract(word)
            found = Decoded(row, word, {k: ops[k] for k in row.fields})
            break
    if len(_DECODE_CACHE) < 1 << 16:
        _DECODE_CACHE[word] = found
    return found


def disassemble(word: int, pc: int | None = None) -> str:
    """Text of one instruction word (``.word 0x...`` if illegal); targets resolved if ``pc``."""
    d = decode(word)
    if d is None:
        return f".word 0x{word:08x}"
    vals = {}
    for name, v in d.ops.items():
        if name in _REG_FIELDS:
            vals[name] = ABI_NAMES[v]
        elif name == "csr":
            vals[name] = _CSR_NAMES.get(v, f"0x{v:03x}")
        elif d.insn.pcrel and name == d.insn.pcrel[0] and pc is not None:
            vals[name] = f"0x{(pc + (v << d.insn.pcrel[1])) & MASK32:x}"
        else:
            vals[name] = str(v)
    text = d.insn.syntax.format(**vals)
    return f"{d.insn.mnemonic} {text}".rstrip()


_CSR_NAMES = {
    0x300: "mstatus", 0x301: "misa", 0x304: "mie", 0x305: "mtvec", 0x320: "mcountinhibit",
    0x340: "mscratch", 0x341: "mepc", 0x342: "mcause", 0x343: "mtval", 0x344: "mip",
    0xB00: "mcycle", 0xB02: "minstret", 0xB80: "mcycleh", 0xB82: "minstreth",
    0xC00: "cycle", 0xC02: "instret", 0xC80: "cycleh", 0xC82: "instreth",
    0xCC0: "lpstart0", 0xCC1: "lpend0", 0xCC2: "lpcount0", 0xCC4: "lpstart1", 0xCC5: "lpend1",
    0xCC6: "lpcount1", 0xF11: "mvendorid", 0xF12: "marchid", 0xF13: "mimpid", 0xF14: "mhartid",
    xdec_spec.CSR_ADDR: xdec_spec.CSR_NAME,
    0x7A0: "tselect", 0x7A1: "tdata1", 0x7A2: "tdata2", 0x7A3: "tdata3", 0x7A4: "tinfo",
    0x7A8: "mcontext", 0x7AA: "scontext", 0x7B0: "dcsr", 0x7B1: "dpc", 0x7B2: "dscratch0",
    0x7B3: "dscratch1", 0xCD0: "uhartid", 0xCD1: "privlv", 0xCD2: "zfinx",
    **{0xB00 + n: f"mhpmcounter{n}" for n in range(3, 32)},
    **{0xB80 + n: f"mhpmcounter{n}h" for n in range(3, 32)},
    **{0x320 + n: f"mhpmevent{n}" for n in range(3, 32)},
    **{0xC00 + n: f"hpmcounter{n}" for n in range(3, 32)},
    **{0xC80 + n: f"hpmcounter{n}h" for n in range(3, 32)},
}
_CSR_BY_NAME = {v: k for k, v in _CSR_NAMES.items()}


# --------------------------------------------------------------------------------------------
# A small two-pass assembler (for tests and examples; real programs use GCC)
# --------------------------------------------------------------------------------------------


class AsmError(ValueError):
    """An assembler input error, naming the line."""


def _syntax_regex(syntax: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in re.finditer(r"\{(\w+)\}", syntax):
        out.append(r"\s*".join(re.escape(c) for c in syntax[pos:m.start()].replace(" ", "")))
        out.append(rf"\s*(?P<{m.group(1)}>[^,()\s]+)\s*")
        pos = m.end()
    out.append(re.escape(syntax[pos:]))
    return re.compile("^" + r"\s*".join(out) + "$")


_SYNTAX_RE = {i.id: _syntax_regex(i.syntax) for i in INSTRUCTIONS}
_BY_MNEMONIC: dict[str, list[Insn]] = {}
for _i in INSTRUCTIONS:
    _BY_MNEMONIC.setdefault(_i.mnemonic, []).append(_i)
del _i


def _parse_int(text: str) -> int:
    return int(text.replace("_", ""), 0)


def _expand_pseudo(mn: str, args: list[str]) -> list[tuple[str, str]] | None:
    """Pseudo-instructions: list of (mnemonic, operand text), or None if not a pseudo."""
    if mn == "nop":
        return [("addi", "zero, zero, 0")]
    if mn == "mv":
        return [("addi", f"{args[0]}, {args[1]}, 0")]
    if mn == "j":
        return [("jal", f"zero, {args[0]}")]
    if mn == "ret":
        return [("jalr", "zero, 0(ra)")]
    if mn == "csrr":
        return [("csrrs", f"{args[0]}, {args[1]}, zero")]
    if mn == "csrw":
        return [("csrrw", f"zero, {args[0]}, {args[1]}")]
    if mn == "csrwi":
        return [("csrrwi", f"zero, {args[0]}, {args[1]}")]
    if mn == "li":
        value = _parse_int(args[1]) & MASK32
        signed = _sext(value, 32)
        if -2048 <= signed < 2048:
            return [("addi", f"{args[0]}, zero, {signed}")]
        lo = _sext(value & 0xFFF, 12)
        hi = ((value - lo) >> 12) & 0xFFFFF
        return [("lui", f"{args[0]}, {hi}"), ("addi", f"{args[0]}, {args[0]}, {lo}")]
    return None


def assemble(text: str, base: int = 0) -> list[int]:
    """Assemble ``text`` (one instruction or ``label:`` per line, ``#`` comments) at ``base``.

    Supports every row of :data:`INSTRUCTIONS` (operands as in :attr:`Insn.syntax`; ``csr``
    fields accept CSR names), labels for pc-relative fields, ``.word``, and the pseudo
    instructions ``nop li mv j ret csrr csrw csrwi``.  Returns the instruction words.

    Raises
    ------
    AsmError
        On an unknown mnemonic, operands that fit no form, or an undefined label.
    """
    items: list[tuple[int, int, str, str]] = []  # (lineno, pc, mnemonic, operands)
    labels: dict[str, int] = {}
    pc = base
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#")[0].strip()
        while (m := re.match(r"^([A-Za-z_.$][\w.$]*|\d+)\s*:\s*", line)):
            labels[m.group(1)] = pc
            line = line[m.end():]
        if not line:
            continue
        mn, _, rest = line.partition(" ")
        mn, rest = mn.lower(), rest.strip()
        args = [a.strip() for a in rest.split(",")] if rest else []
        try:
            expanded = _expand_pseudo(mn, args)
        except (ValueError, IndexError) as e:
            raise AsmError(f"line {lineno}: {raw.strip()!r}: {e}") from None
        for emn, eops in expanded or [(mn, rest)]:
            items.append((lineno, pc, emn, eops))
            pc += 4
    words = []
    for lineno, pc, mn, ops in items:
        try:
            words.append(_assemble_one(mn, ops, pc, labels))
        except (ValueError, KeyError) as e:
            raise AsmError(f"line {lineno}: {mn} {ops}: {e}") from None
    return words


def _assemble_one(mn: str, ops: str, pc: int, labels: dict[str, int]) -> int:
    if mn == ".word":
        return _parse_int(ops) & MASK32
    rows = _BY_MNEMONIC.get(mn)
    if not rows:
        raise ValueError(f"unknown mnemonic {mn!r}")
    errors = []
    for row in rows:
        m = _SYNTAX_RE[row.id].match(ops)
        if not m:
            errors.append(f"{row.id}: syntax is {row.syntax!r}")
            continue
        try:
            values = {}
            for name, tok in m.groupdict().items():
                if name in _REG_FIELDS:
                    values[name] = reg_number(tok)
                elif name == "csr":
                    values[name] = _CSR_BY_NAME[tok] if tok in _CSR_BY_NAME else _parse_int(tok)
                elif row.pcrel and name == row.pcrel[0] and tok in labels:
                    delta = labels[tok] - pc
                    values[name] = delta >> row.pcrel[1]
                else:
                    if tok.lower() in _REG_BY_NAME:
                        raise ValueError(f"{name} expects a number, not register {tok!r}")
                    values[name] = _parse_int(tok)
            return row.encode(**values)
        except ValueError as e:
            errors.append(f"{row.id}: {e}")
    raise ValueError("; ".join(errors))


# --------------------------------------------------------------------------------------------
# Documentation
# --------------------------------------------------------------------------------------------


def markdown_table(exts: Iterable[str] | None = None) -> str:
    """Markdown table of the instructions (optionally only the given extensions)."""
    from .timing import TIMING  # local: timing imports nothing from here at module level

    rows = ["| Id | Syntax | Ext | Match | Mask | Semantics | Timing class (cycles) |",
            "|---|---|---|---|---|---|---|"]
    for i in INSTRUCTIONS:
        if exts is not None and i.ext not in exts:
            continue
        syn = f"{i.mnemonic} {i.syntax}".rstrip()
        rows.append(f"| `{i.id}` | `{syn}` | {i.ext} | `0x{i.match:08x}` | `0x{i.mask:08x}` "
                    f"| {i.doc} | {i.timing} ({TIMING[i.timing].cycles}) |")
    return "\n".join(rows)


# --------------------------------------------------------------------------------------------
# C intrinsics header (sw/kernels/c/xdecimate.h)
# --------------------------------------------------------------------------------------------


def _cname(row: Insn) -> str:
    base = row.id.replace("cv.", "xcv_").replace(".", "_")
    return base


def _c_intrinsic(row: Insn) -> list[str]:
    """C text of the intrinsic for one custom row (macro or static inline function)."""
    name, op, f3 = _cname(row), row.match & 0x7F, (row.match >> 12) & 7
    f7 = row.match >> 25
    doc = f"/* {row.mnemonic} {row.syntax.replace('{', '').replace('}', '')}: {row.doc} */"
    if row.sem == "load_pi":
        return [doc, f"#define {name}(ptr, imm) __extension__({{ uint32_t __v; "
                f"__asm__ volatile(\".insn i {op:#x}, {f3}, %0, %1, %2\" "
                f": \"=r\"(__v), \"+r\"(ptr) : \"i\"(imm) : \"memory\"); __v; }})"]
    if row.sem == "load_pr":
        return [doc, f"#define {name}(ptr, inc) __extension__({{ uint32_t __v; "
                f"__asm__ volatile(\".insn r {op:#x}, {f3}, {f7:#x}, %0, %1, %2\" "
                f": \"=r\"(__v), \"+r\"(ptr) : \"r\"(inc) : \"memory\"); __v; }})"]
    if row.sem == "load_rr":
        return [doc, f"static inline uint32_t {name}(const void *base, int32_t off) {{",
                "    uint32_t v;",
                f"    __asm__ volatile(\".insn r {op:#x}, {f3}, {f7:#x}, %0, %1, %2\" "
                ": \"=r\"(v) : \"r\"(base), \"r\"(off) : \"memory\");",
                "    return v;", "}"]
    if row.sem == "store_pi":
        return [doc, f"#define {name}(ptr, val, imm) __asm__ volatile("
                f"\".insn s {op:#x}, {f3}, %1, %2(%0)\" : \"+r\"(ptr) "
                f": \"r\"((uint32_t)(val)), \"i\"(imm) : \"memory\")"]
    if row.sem == "store_pr":
        return [doc, f"#define {name}(ptr, val, inc) __asm__ volatile("
                f"\".insn r {op:#x}, {f3}, {f7:#x}, %2, %0, %1\" : \"+r\"(ptr) "
                f": \"r\"((uint32_t)(val)), \"r\"(inc) : \"memory\")"]
    if row.sem == "store_rr":
        return [doc, f"static inline void {name}(void *base, uint32_t val, int32_t off) {{",
                f"    __asm__ volatile(\".insn r {op:#x}, {f3}, {f7:#x}, %2, %0, %1\" "
                ": : \"r\"(base), \"r\"(val), \"r\"(off) : \"memory\");", "}"]
    if row.fmt == "RI5":
        imm = f7 << 5
        return [doc, f"#define {name}(x, is2) __extension__({{ uint32_t __v; "
                f"__asm__(\".insn i {op:#x}, {f3}, %0, %1, {imm:#x} + %2\" "
                f": \"=r\"(__v) : \"r\"((uint32_t)(x)), \"i\"(is2)); (int32_t)__v; }})"]
    if row.fmt == "R1":
        return [doc, f"static inline int32_t {name}(int32_t a) {{",
                "    int32_t v;",
                f"    __asm__(\".insn r {op:#x}, {f3}, {f7:#x}, %0, %1, x0\" : \"=r\"(v) "
                ": \"r\"(a));", "    return v;", "}"]
    if row.fmt == "R" and "rd" in row.reads:
        volatile = " volatile" if row.ext == "xdec" else ""
        mem = " : \"memory\"" if row.ext == "xdec" else ""
        b_type = "const void *" if row.ext == "xdec" else "uint32_t "
        return [doc, f"static inline uint32_t {name}(uint32_t rd, {b_type}a, uint32_t b) {{",
                f"    __asm__{volatile}(\".insn r {op:#x}, {f3}, {f7:#x}, %0, %1, %2\" "
                f": \"+r\"(rd) : \"r\"(a), \"r\"(b){mem});",
                "    return rd;", "}"]
    if row.fmt == "R":
        return [doc, f"static inline uint32_t {name}(uint32_t a, uint32_t b) {{",
                "    uint32_t v;",
                f"    __asm__(\".insn r {op:#x}, {f3}, {f7:#x}, %0, %1, %2\" : \"=r\"(v) "
                ": \"r\"(a), \"r\"(b));", "    return v;", "}"]
    if row.fmt in ("BM", "VI6"):
        # `.insn i`: the operation bits and both immediates share the 12-bit I immediate,
        # written as a signed expression (GNU as checks -2048..2047)
        base = _signed12(row.match >> 20)
        args = "is3, is2" if row.fmt == "BM" else "lane"
        imm = ("((is3) << 5) + (is2)" if row.fmt == "BM"
               else "(((lane) & 1) << 5) + ((lane) >> 1)")
        if "rd" in row.reads:
            return [doc, f"#define {name}(rd, x, {args}) __extension__({{ uint32_t __v = rd; "
                    f"__asm__(\".insn i {op:#x}, {f3}, %0, %1, %2\" : \"+r\"(__v) "
                    f": \"r\"((uint32_t)(x)), \"i\"({base} + {imm})); __v; }})"]
        return [doc, f"#define {name}(x, {args}) __extension__({{ uint32_t __v; "
                f"__asm__(\".insn i {op:#x}, {f3}, %0, %1, %2\" : \"=r\"(__v) "
                f": \"r\"((uint32_t)(x)), \"i\"({base} + {imm})); __v; }})"]
    if row.sem == "hwloop":
        return _c_hwloop(row, doc)
    raise AssertionError(f"no C intrinsic rule for {row.id}")


def _signed12(v: int) -> int:
    """The I-type immediate bits ``v`` (0..4095) as the signed value `.insn i` accepts."""
    v &= 0xFFF
    return v - 4096 if v & 0x800 else v


def _asm_string_macro(row: Insn) -> list[str]:
    """Assembler-string form of one custom row, for use inside a multi-instruction asm block.

    ``ASM_<NAME>(operands...)`` expands to one ``.insn`` line; operands are assembler strings
    (``"t0"``, ``"%[w]"``), immediates compile-time literals.  Same encoding source as the
    intrinsics (``row.match``); rows whose operands need labels have only the ``.word`` forms.
    """
    name, op, f3 = "ASM_" + _cname(row).upper(), row.match & 0x7F, (row.match >> 12) & 7
    f7 = row.match >> 25
    if row.sem == "load_pi":
        return [f"#define {name}(rd, rs1, imm) \".insn i {op:#x}, {f3}, \" rd \", \" rs1 "
                f"\", \" XDEC_STR(imm) \"\\n\\t\""]
    if row.sem == "store_pi":
        return [f"#define {name}(rs2, rs1, imm) \".insn s {op:#x}, {f3}, \" rs2 \", \" "
                f"XDEC_STR(imm) \"(\" rs1 \")\\n\\t\""]
    if row.sem in ("store_pr", "store_rr"):  # the third register sits in the rd field
        return [f"#define {name}(rs2, rs1, rs3) \".insn r {op:#x}, {f3}, {f7:#x}, \" rs3 "
                f"\", \" rs1 \", \" rs2 \"\\n\\t\""]
    if row.fmt == "RI5":
        return [f"#define {name}(rd, rs1, is2) \".insn i {op:#x}, {f3}, \" rd \", \" rs1 "
                f"\", {f7 << 5:#x} + \" XDEC_STR(is2) \"\\n\\t\""]
    if row.fmt == "R1":
        return [f"#define {name}(rd, rs1) \".insn r {op:#x}, {f3}, {f7:#x}, \" rd \", \" rs1 "
                f"\", x0\\n\\t\""]
    if row.fmt == "BM":
        return [f"#define {name}(rd, rs1, is3, is2) \".insn i {op:#x}, {f3}, \" rd \", \" rs1 "
                f"\", ({_signed12(row.match >> 20)}) + ((\" XDEC_STR(is3) \") << 5) + (\" "
                f"XDEC_STR(is2) \")\\n\\t\""]
    if row.fmt == "VI6":
        return [f"#define {name}(rd, rs1, lane) \".insn i {op:#x}, {f3}, \" rd \", \" rs1 "
                f"\", ({_signed12(row.match >> 20)}) + (((\" XDEC_STR(lane) \") & 1) << 5) + "
                f"((\" XDEC_STR(lane) \") >> 1)\\n\\t\""]
    if row.fmt == "R":
        return [f"#define {name}(rd, rs1, rs2) \".insn r {op:#x}, {f3}, {f7:#x}, \" rd \", \" "
                f"rs1 \", \" rs2 \"\\n\\t\""]
    if row.fmt == "HWS":  # cv.setup L, rs1, n: the loop number L lives in the rd field
        rd = [(row.encode(L=L, rs1=0, uimm=0) >> 7) & 0x1F for L in (0, 1)]
        return [f"#define {name}_RD_0 \"x{rd[0]}\"", f"#define {name}_RD_1 \"x{rd[1]}\"",
                f"#define {name}(L, rs1, n) \".insn i {op:#x}, {f3}, \" {name}_RD_##L \", \" "
                f"rs1 \", \" XDEC_STR(n) \"\\n\\t\""]
    return []


def _asm_csrw_macro() -> list[str]:
    """``ASM_XDEC_CSRW(rs1)``: csrrw x0, xdec, rs1 as ``.insn`` (no Zicsr mnemonics needed)."""
    row = insn("csrrw")
    op, f3 = row.match & 0x7F, (row.match >> 12) & 7
    imm = xdec_spec.CSR_ADDR - 4096 if xdec_spec.CSR_ADDR >= 2048 else xdec_spec.CSR_ADDR
    return [f"/* csrw {xdec_spec.CSR_NAME}, rs1 (the CSR number as a signed 12-bit immediate) */",
            f"#define ASM_XDEC_CSRW(rs1) \".insn i {op:#x}, {f3}, x0, \" rs1 \", {imm}"
            "\\n\\t\""]


def _c_hwloop(row: Insn, doc: str) -> list[str]:
    """Hardware-loop rows become assembler-string macros (labels need the assembler)."""
    fmt = row.fmt
    word = f"{row.match:#x}"
    name = _cname(row).upper()
    if fmt == "HWI" and row.pcrel:
        return [doc, f"#define {name}(L, LABEL) \".word {word} | ((\" #L \") << 7)"
                " | ((((\" LABEL \" - .) >> 2) & 0xfff) << 20)\\n\""]
    if fmt == "HWI":
        return [doc, f"#define {name}(L, N) \".word {word} | ((\" #L \") << 7)"
                " | (((\" #N \") & 0xfff) << 20)\\n\""]
    if fmt == "HWR":
        f4 = (row.match >> 8) & 0xF
        return [doc, f"#define {name}(L, REG) {name}_##L(REG)"] + [
            f"#define {name}_{lp}(REG) \".insn i 0x2b, 4, x{2 * f4 + lp}, \" REG \", 0\\n\""
            for lp in (0, 1)]
    if fmt == "HWSI":
        return [doc, f"#define {name}(L, N, LABEL) \".word {word} | ((\" #L \") << 7)"
                " | (((\" #N \") & 0xfff) << 20) | ((((\" LABEL \" - .) >> 2) & 0x1f) << 15)\\n\""]
    if fmt == "HWS":
        return [doc, f"#define {name}(L, REGNUM, LABEL) \".word {word} | ((\" #L \") << 7)"
                " | ((\" #REGNUM \") << 15) | ((((\" LABEL \" - .) >> 2) & 0xfff) << 20)\\n\""]
    raise AssertionError(f"no C hardware-loop rule for {row.id}")


def c_header() -> str:
    """Text of ``sw/kernels/c/xdecimate.h``, generated from this table and :mod:`xdec_spec`."""
    out = [
        "/* GENERATED by xdecimate.sw.iss.isa.c_header() -- do not edit; "
        "`python -m xdecimate.sw.kernels.toolchain header` rewrites it. */",
        "/*",
        " * Intrinsics for the CV32E40P XpulpV2 subset and the xDecimate extension, written with",
        " * `.insn` / `.word` because GCC 12 knows no CORE-V mnemonics.",
        " *",
        " * - Post-increment loads/stores are macros over an lvalue pointer: "
        "`v = xcv_lw_pi(p, 4);`",
        " *   loads *p and advances p by 4 bytes.  Immediates must be compile-time constants.",
        " * - Hardware loops are assembler-string macros to use inside one asm statement, with",
        " *   the body and its end label in the same statement, e.g. (count in t0 = x5):",
        " *",
        " *     register uint32_t n asm(\"t0\") = count;",
        " *     __asm__ volatile(XCV_SETUP(0, 5, \"1f\")",
        " *                      \"<body: >= 3 instructions, no branches or jumps>\\n\"",
        " *                      \"1:\\n\" : ... : \"r\"(n) : ...);",
        " *",
        " *   XCV_SETUP's count register is a register *number* (bind it with a register",
        " *   variable), because `.insn` takes no label expressions and `.word` no register "
        "names.",
        " * - xdec_lb() reads rd (the other byte lanes are kept): pass the old value, use the "
        "result.",
        " */",
        "#ifndef XDECIMATE_H",
        "#define XDECIMATE_H",
        "#include <stdint.h>",
        "",
        "#define XDEC_STR_(x) #x",
        "#define XDEC_STR(x) XDEC_STR_(x)",
        "",
        f"/* The {xdec_spec.CSR_NAME} CSR (sw/model/xdec_spec.py). */",
        f"#define XDEC_CSR_ADDR 0x{xdec_spec.CSR_ADDR:03x}",
        f"#define XDEC_CSR_RESET 0x{xdec_spec.CSR_RESET:08x}u",
    ]
    for f in xdec_spec.CSR_FIELDS:
        up = f.name.upper()
        out.append(f"#define XDEC_CSR_{up}_LSB {f.lsb}")
        out.append(f"#define XDEC_CSR_{up}_MASK 0x{f.mask:08x}u")
    out += [
        "/* Pack a configuration: log2 of M, N, P and the start counter. */",
        "#define XDEC_CSR_PACK(m_log2, n_log2, p_log2, cnt) \\",
        "    ((((uint32_t)(m_log2) << XDEC_CSR_M_LOG2_LSB) & XDEC_CSR_M_LOG2_MASK) | \\",
        "     (((uint32_t)(n_log2) << XDEC_CSR_N_LOG2_LSB) & XDEC_CSR_N_LOG2_MASK) | \\",
        "     (((uint32_t)(p_log2) << XDEC_CSR_P_LOG2_LSB) & XDEC_CSR_P_LOG2_MASK) | \\",
        "     (((uint32_t)(cnt) << XDEC_CSR_CNT_LSB) & XDEC_CSR_CNT_MASK))",
        "static inline uint32_t xdec_csr_read(void) {",
        "    uint32_t v;",
        "    __asm__ volatile(\"csrr %0, \" XDEC_STR(XDEC_CSR_ADDR) : \"=r\"(v));",
        "    return v;",
        "}",
        "static inline void xdec_csr_write(uint32_t v) {",
        "    __asm__ volatile(\"csrw \" XDEC_STR(XDEC_CSR_ADDR) \", %0\" : : \"r\"(v) "
        ": \"memory\");",
        "}",
        "",
    ]
    for row in INSTRUCTIONS:
        if row.ext in ("rv32i", "rv32m", "zicsr"):
            continue
        out += _c_intrinsic(row)
        out.append("")
    out += ["/* Assembler-string forms, one `.insn` line each, to compose hand-scheduled loops",
            " * inside one asm statement: ASM_XCV_LW_PI(\"t2\", \"a0\", 4) ASM_XDEC_LB(...) ... */"]
    out += _asm_csrw_macro()
    for row in INSTRUCTIONS:
        if row.ext not in ("rv32i", "rv32m", "zicsr"):
            out += _asm_string_macro(row)
    out += ["", "#endif /* XDECIMATE_H */"]
    return "\n".join(out) + "\n"
