"""The xDecimate ISA extension, written once.

Every xDecimate fact -- instruction encoding, operand use, CSR address and field layout, legal field
values, reset value, timing -- lives in the tables of this module.  The executable reference
(:mod:`xdecimate.sw.model.xdec_ref`), the RTL decoder and CSR (``xdecimate.hw``), the ISS, the C
intrinsics header and ``docs/xdecimate.md`` all derive from here;
``tests/sw/model/test_xdec_spec.py`` checks that the docs quote these tables verbatim.

This module is plain Python (no numpy, no Amaranth) so that anything may import it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._checks import as_int, check_type

__all__ = [
    "CSR_ADDR",
    "CSR_FIELDS",
    "CSR_NAME",
    "CSR_RESET",
    "CSR_WRITE_MASK",
    "INDEX_BITS",
    "INSTRUCTIONS",
    "PATTERNS",
    "R_TYPE",
    "XLEN",
    "CsrField",
    "Encoding",
    "csr_markdown_table",
    "encoding_markdown_table",
    "field",
    "instruction",
    "semantics_markdown_table",
]

XLEN = 32
_U32_RULE = f"a {XLEN}-bit value 0..0x{(1 << XLEN) - 1:X}"

#: Supported N:M patterns as (N, M) pairs.  N = 2 goes beyond the paper.
PATTERNS: tuple[tuple[int, int], ...] = ((1, 4), (1, 8), (1, 16), (2, 4), (2, 8), (2, 16))

#: Width in bits of one packed index field, per block size M.  Nibble-aligned for M = 8 (not 3
#: bits): this is what the paper's memory savings 68.75 / 81.25 / 90.625 % imply.
INDEX_BITS: dict[int, int] = {4: 2, 8: 4, 16: 4}


# --------------------------------------------------------------------------------------------
# Instruction encodings
# --------------------------------------------------------------------------------------------

#: R-type bit ranges, (name, msb, lsb), most significant first.
R_TYPE: tuple[tuple[str, int, int], ...] = (
    ("funct7", 31, 25),
    ("rs2", 24, 20),
    ("rs1", 19, 15),
    ("funct3", 14, 12),
    ("rd", 11, 7),
    ("opcode", 6, 0),
)


@dataclass(frozen=True)
class Encoding:
    """One instruction of the extension.

    Attributes
    ----------
    mnemonic : assembler mnemonic.
    opcode, funct3, funct7 : fixed fields of the R-type encoding.
    operands : assembler operand order.
    reads : architectural registers read (``rd`` is read too: the other lanes are kept).
    semantics : one-line semantics, in the CV32E40P-manual style.
    cycles : issue cycles on a CV32E40P-like pipeline (excluding stalls).
    load_use : stall cycles when the next instruction consumes ``rd`` (like a byte load).
    """

    mnemonic: str
    opcode: int
    funct3: int
    funct7: int
    operands: str
    reads: tuple[str, ...]
    semantics: str
    cycles: int
    load_use: int

    def __post_init__(self) -> None:
        for name, bits in (("opcode", 7), ("funct3", 3), ("funct7", 7)):
            as_int(f"{self.mnemonic}: {name}", getattr(self, name), 0, (1 << bits) - 1,
                   rule=f"a {bits}-bit field value")
        as_int(f"{self.mnemonic}: cycles", self.cycles, 1)
        as_int(f"{self.mnemonic}: load_use", self.load_use, 0)

    @property
    def match(self) -> int:
        """Instruction word with all register fields zero."""
        return (self.funct7 << 25) | (self.funct3 << 12) | self.opcode

    #: Bits that must equal :attr:`match` (opcode, funct3, funct7).
    MASK = 0xFE00707F

    def encode(self, rd: int, rs1: int, rs2: int) -> int:
        """Return the 32-bit instruction word for ``mnemonic rd, rs1, rs2``.

        Raises ``TypeError`` for a register that is not an integer, ``ValueError`` for one
        outside 0..31.
        """
        rd, rs1, rs2 = (as_int(f"{self.mnemonic}: {name}", reg, 0, 31,
                               rule="a register number 0..31")
                        for name, reg in (("rd", rd), ("rs1", rs1), ("rs2", rs2)))
        return self.match | (rs2 << 20) | (rs1 << 15) | (rd << 7)

    def matches(self, word: int) -> bool:
        """True if the 32-bit instruction ``word`` (0..2^32-1) is this instruction."""
        word = as_int("instruction word", word, 0, (1 << XLEN) - 1, rule=_U32_RULE)
        return (word & self.MASK) == self.match


#: custom-1 (0x2B) funct3 = 110 is illegal in CV32E40P v1.8.3 with COREV_PULP = 1 (its decoder
#: uses funct3 000-100 of custom-1 for post-increment stores, "plane A" and hardware loops), so
#: xDecimate coexists with every XpulpV2 instruction.  funct7 != 0 is reserved (illegal).
INSTRUCTIONS: tuple[Encoding, ...] = (
    Encoding(
        mnemonic="xdec.lb",
        opcode=0b0101011,
        funct3=0b110,
        funct7=0b0000000,
        operands="rd, rs1, rs2",
        reads=("rs1", "rs2", "rd"),
        semantics=("l = (cnt div P) mod 4; j = 4·(cnt div 4P) + l; "
                   "rD[8l+7:8l] = Mem8(rs1 + (j div N)·M + (rs2[b·l+b-1:b·l] mod M)); cnt += 1"),
        cycles=1,
        load_use=1,
    ),
)


def instruction(mnemonic: str) -> Encoding:
    """Look up an :class:`Encoding` by mnemonic (``KeyError`` if there is none)."""
    check_type("mnemonic", mnemonic, str, "a str")
    for enc in INSTRUCTIONS:
        if enc.mnemonic == mnemonic:
            return enc
    raise KeyError(f"no xDecimate instruction named {mnemonic!r}")


# --------------------------------------------------------------------------------------------
# The xdec CSR
# --------------------------------------------------------------------------------------------

CSR_NAME = "xdec"
#: A custom user read/write CSR (0x800-0x8FF is the custom user R/W range of the privileged spec).
CSR_ADDR = 0x800


@dataclass(frozen=True)
class CsrField:
    """One field of the ``xdec`` CSR.

    ``legal`` is the tuple of legal values, or ``None`` if every value is legal.  ``access`` is
    ``"RW"`` (stored as written) or ``"R0"`` (reserved: reads zero, writes ignored).
    """

    name: str
    msb: int
    lsb: int
    reset: int
    legal: tuple[int, ...] | None
    access: str
    doc: str

    def __post_init__(self) -> None:
        what = f"xdec.{self.name}"
        as_int(f"{what}: lsb", self.lsb, 0, XLEN - 1)
        as_int(f"{what}: msb", self.msb, self.lsb, XLEN - 1)
        fits = f"a {self.width}-bit field value"
        for v in self.legal or ():
            as_int(f"{what}: legal value", v, 0, (1 << self.width) - 1, rule=fits)
        as_int(f"{what}: reset", self.reset, 0, (1 << self.width) - 1, rule=fits)
        if self.access not in ("RW", "R0"):
            raise ValueError(f"{what}: access must be 'RW' or 'R0', not {self.access!r}")

    @property
    def width(self) -> int:
        return self.msb - self.lsb + 1

    @property
    def mask(self) -> int:
        """Mask of the field in place (already shifted)."""
        return ((1 << self.width) - 1) << self.lsb

    def get(self, csr: int) -> int:
        """Extract this field from a CSR value (an integer 0..2^32-1)."""
        csr = as_int("CSR value", csr, 0, (1 << XLEN) - 1, rule=_U32_RULE)
        return (csr >> self.lsb) & ((1 << self.width) - 1)

    def put(self, csr: int, value: int) -> int:
        """Return ``csr`` with this field replaced by ``value`` (no legality check).

        ``csr`` must be an integer 0..2^32-1 and ``value`` fit the field's width.
        """
        csr = as_int("CSR value", csr, 0, (1 << XLEN) - 1, rule=_U32_RULE)
        value = as_int(f"xdec.{self.name}", value, 0, (1 << self.width) - 1,
                       rule=f"{self.width} bits wide (0..{(1 << self.width) - 1})")
        return (csr & ~self.mask) | (value << self.lsb)


CSR_FIELDS: tuple[CsrField, ...] = (
    CsrField("cnt", 15, 0, 0, None, "RW",
             "NZ counter k; +1 (mod 2^16) after every executed xdec.lb"),
    CsrField("m_log2", 18, 16, 0, (2, 3, 4), "RW",
             "log2 of the block size M (4, 8, 16)"),
    CsrField("n_log2", 20, 19, 0, (0, 1), "RW",
             "log2 of the non-zeros per block N (1, 2)"),
    CsrField("p_log2", 22, 21, 0, (0, 1, 2), "RW",
             "log2 of the pixel streams P sharing one index group (1, 2, 4)"),
    CsrField("reserved", 31, 23, 0, (0,), "R0",
             "reserved: reads 0, writes ignored"),
)

#: Reset value.  m_log2 = 0 is illegal, so an xdec.lb before software configures the CSR traps.
CSR_RESET = 0
for _f in CSR_FIELDS:
    CSR_RESET |= _f.reset << _f.lsb
del _f

#: Bits a CSR write stores (the RW fields).
CSR_WRITE_MASK = 0
for _f in CSR_FIELDS:
    if _f.access == "RW":
        CSR_WRITE_MASK |= _f.mask
del _f


def field(name: str) -> CsrField:
    """Look up a :class:`CsrField` by name (``KeyError`` if there is none)."""
    check_type("field name", name, str, "a str")
    for f in CSR_FIELDS:
        if f.name == name:
            return f
    raise KeyError(f"xdec has no field named {name!r}")


# --------------------------------------------------------------------------------------------
# Markdown renderings that docs/xdecimate.md quotes (a test keeps them identical)
# --------------------------------------------------------------------------------------------


def encoding_markdown_table() -> str:
    """Bit-range encoding table of every instruction, CV32E40P-manual style."""
    head = "| Mnemonic | " + " | ".join(f"{n} [{m}:{lsb}]" for n, m, lsb in R_TYPE) + " |"
    rule = "|" + "---|" * (len(R_TYPE) + 1)
    rows = [head, rule]
    for e in INSTRUCTIONS:
        cells = {
            "funct7": f"{e.funct7:07b}", "rs2": "rs2", "rs1": "rs1",
            "funct3": f"{e.funct3:03b}", "rd": "rd", "opcode": f"{e.opcode:07b}",
        }
        rows.append(f"| `{e.mnemonic} {e.operands}` | "
                    + " | ".join(cells[n] for n, _, _ in R_TYPE) + " |")
    return "\n".join(rows)


def semantics_markdown_table() -> str:
    """Semantics and timing table of every instruction."""
    rows = ["| Mnemonic | Reads | Semantics | Cycles | Load-use stall |", "|---|---|---|---|---|"]
    rows += [f"| `{e.mnemonic} {e.operands}` | {', '.join(e.reads)} | {e.semantics} "
             f"| {e.cycles} | {e.load_use} |" for e in INSTRUCTIONS]
    return "\n".join(rows)


def csr_markdown_table() -> str:
    """Field table of the ``xdec`` CSR."""
    rows = [f"CSR `{CSR_NAME}` at address `0x{CSR_ADDR:03X}`, reset value `0x{CSR_RESET:08X}`.",
            "",
            "| Bits | Field | Access | Reset | Legal values | Description |",
            "|---|---|---|---|---|---|"]
    for f in sorted(CSR_FIELDS, key=lambda f: -f.msb):
        legal = "any" if f.legal is None else ", ".join(str(v) for v in f.legal)
        rows.append(f"| {f.msb}:{f.lsb} | `{f.name}` | {f.access} | {f.reset} | {legal} "
                    f"| {f.doc} |")
    return "\n".join(rows)
