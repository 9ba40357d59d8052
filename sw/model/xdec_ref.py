"""Executable reference of the xDecimate extension: the oracle every testbench compares against.

Everything here is a pure function of architectural state.  Field positions, legal values and the
encoding come from :mod:`xdecimate.sw.model.xdec_spec`; this module only adds the arithmetic.

The instruction ``xdec.lb rd, rs1, rs2`` (see ``docs/xdecimate.md``)::

    k     = xdec.cnt
    lane  = (k div P) mod 4              # destination byte lane and index field of rs2
    g     = k div (4·P)                  # group of 4 NZ values (one weight word)
    j     = 4·g + lane                   # NZ ordinal inside the output row
    b     = INDEX_BITS[M]                # 2 for M = 4, 4 for M = 8, 16
    idx   = ((rs2 >> (b·lane)) mod 2^b) mod M   # M = 8: the field's top bit is ignored
    addr  = (rs1 + (j div N)·M + idx) mod 2^32
    rd[8·lane+7 : 8·lane] = Mem8[addr]   # other lanes of rd kept
    xdec.cnt = (k + 1) mod 2^16

An illegal configuration (any field of ``xdec`` outside its legal set, the reserved bits
included) raises :class:`IllegalInstruction` before any state changes or any memory access.

Bad input is an error, never truncated: the CSR and the registers are integers 0..2^32-1 (``int``
or numpy integers, not ``bool``); anything else raises ``TypeError`` (not an integer) or
``ValueError`` (outside 0..2^32-1), and a memory that returns something other than an integer
0..255 raises the same.  The checks of :func:`xdec_lb` are a few integer operations (the ISS
calls it once per executed ``xdec.lb``, the golden kernels once per gathered activation); the
internal helpers (``_agen``, the inlined shift arithmetic of :func:`xdec_lb`) are unchecked and
called only after the public entry points checked their operands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Protocol

from . import xdec_spec as spec
from ._checks import as_int, short

__all__ = [
    "IllegalInstruction",
    "XdecAccess",
    "XdecConfig",
    "XdecResult",
    "csr_pack",
    "csr_write",
    "xdec_access",
    "xdec_lb",
]

_MASK32 = (1 << spec.XLEN) - 1
_U32_RULE = f"a {spec.XLEN}-bit register value 0..0x{_MASK32:X}"
_CNT = spec.field("cnt")
_M = spec.field("m_log2")
_N = spec.field("n_log2")
_P = spec.field("p_log2")
_new_tuple = tuple.__new__
_CNT_MASK = _CNT.mask  # the counter is bits [15:0]: incrementing it is a masked add
_CFG_MASK = _MASK32 & ~_CNT_MASK  # everything but the counter: what decides legality
assert _CNT.lsb == 0, "xdec_lb's fast path assumes the counter is the low field"
assert spec.XLEN == 32, "xdec_lb's operand check is written for 32-bit registers"


class IllegalInstruction(Exception):  # noqa: N818 -- the architectural name of the trap
    """The instruction traps with an illegal-instruction exception (mcause = 2)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class XdecConfig:
    """A legal configuration of the ``xdec`` CSR (everything but the counter).

    Parameters
    ----------
    m : block size M, one of 4, 8, 16.
    n : non-zeros per block N, one of 1, 2.
    p : pixel streams P sharing one index group, one of 1, 2, 4.
    """

    m: int
    n: int
    p: int = 1

    def __post_init__(self) -> None:
        for attr, name, f in (("m", "M", _M), ("n", "N", _N), ("p", "P", _P)):
            legal = tuple(1 << v for v in f.legal or ())
            value = as_int(f"xdec {name}", getattr(self, attr))
            if value not in legal:
                raise ValueError(f"xdec {name} must be one of {legal}, not {value!r}")
            object.__setattr__(self, attr, value)  # a numpy integer becomes an int

    @property
    def index_bits(self) -> int:
        """Width b of one packed index field."""
        return spec.INDEX_BITS[self.m]

    @classmethod
    def from_csr(cls, csr: int) -> XdecConfig:
        """Decode the configuration fields of a CSR value.

        Raises
        ------
        IllegalInstruction
            If any field holds a value outside its legal set (this is the trap condition).
        TypeError, ValueError
            If ``csr`` is not an integer 0..2^32-1.
        """
        return _decode_config(_u32("CSR value", csr) & _CFG_MASK)


@lru_cache(maxsize=64)
def _decode_config(cfg_bits: int) -> XdecConfig:
    # Cached on the configuration bits only (the counter changes every instruction): the ISS
    # calls xdec_lb millions of times with a handful of configurations.
    for f in spec.CSR_FIELDS:
        if f.legal is not None and f.get(cfg_bits) not in f.legal:
            raise IllegalInstruction(
                f"xdec.{f.name} = {f.get(cfg_bits)} is not one of the legal values {f.legal}")
    return XdecConfig(m=1 << _M.get(cfg_bits), n=1 << _N.get(cfg_bits), p=1 << _P.get(cfg_bits))


def csr_pack(*, m: int, n: int, p: int = 1, cnt: int = 0) -> int:
    """Return the ``xdec`` CSR value for a configuration and counter.

    Raises ``ValueError`` for an illegal configuration or a counter outside 0..2^16-1,
    ``TypeError`` for an argument that is not an integer.
    """
    cfg = XdecConfig(m=m, n=n, p=p)
    cnt = as_int("xdec.cnt", cnt, 0, (1 << _CNT.width) - 1)
    csr = _CNT.put(0, cnt)
    csr = _M.put(csr, cfg.m.bit_length() - 1)
    csr = _N.put(csr, cfg.n.bit_length() - 1)
    return _P.put(csr, cfg.p.bit_length() - 1)


def csr_write(value: int) -> int:
    """The CSR value stored by a software write of ``value`` (reserved bits are dropped).

    Writes never trap: legality is checked when ``xdec.lb`` executes.  ``value`` is the 32-bit
    register a Zicsr instruction writes: an integer 0..2^32-1 (else ``TypeError`` /
    ``ValueError``; a negative number is not silently taken mod 2^32).
    """
    if value.__class__ is not int or value >> spec.XLEN:  # a plain int 0..2^32-1 passes
        value = _u32("CSR write value", value)
    return value & spec.CSR_WRITE_MASK


def _u32(name: str, value: object) -> int:
    """``value`` as an int 0..2^32-1 (a register or the CSR), else TypeError / ValueError."""
    return as_int(name, value, 0, _MASK32, rule=_U32_RULE)


class XdecAccess(NamedTuple):
    """The decoded access of one ``xdec.lb``: what the address generation computes.

    ``lane`` is the destination byte lane, ``idx`` the index field read from rs2, ``j`` the NZ
    ordinal in the row, ``offset`` = (j div N)·M + idx, ``addr`` = rs1 + offset (mod 2^32).
    """

    lane: int
    idx: int
    j: int
    offset: int
    addr: int


@lru_cache(maxsize=64)
def _geometry(cfg_bits: int) -> tuple[int, int, int, int, int]:
    """(P, 4·P, N, M, b) of a configuration; raises IllegalInstruction if it is illegal."""
    cfg = _decode_config(cfg_bits)
    return cfg.p, 4 * cfg.p, cfg.n, cfg.m, cfg.index_bits


def _agen(csr: int, rs1: int, rs2: int) -> tuple[int, int, int, int, int]:
    """(lane, idx, j, offset, addr): the one implementation of the address arithmetic.

    Unchecked: ``csr``, ``rs1``, ``rs2`` are ints 0..2^32-1 (:func:`xdec_access` checks them).
    """
    p, p4, n, m, b = _geometry(csr & _CFG_MASK)
    k = csr & _CNT_MASK
    lane = (k // p) & 3  # streams interleave: A lane 0, B lane 0, A lane 1, ...
    j = (k // p4) * 4 + lane
    # The field is b bits; `mod M` only matters for M = 8 (4-bit fields, top bit reserved): it
    # keeps every address inside the block for *any* rs2, so the address bound needs no trust.
    idx = ((rs2 & _MASK32) >> (b * lane)) & ((1 << b) - 1) & (m - 1)
    offset = (j // n) * m + idx
    return lane, idx, j, offset, (rs1 + offset) & _MASK32


#: Per-configuration shifts of xdec_lb's address arithmetic: cfg_bits -> (log2 P, log2 4P,
#: log2 N, log2 M, b, M - 1).  The same geometry as :func:`_agen` with P, N, M powers of two
#: turned into shifts, inlined in :func:`xdec_lb` (a function call per instruction is the
#: largest cost of the ISS's xdec.lb); ``tests/sw/model/test_xdec_ref.py`` checks it against
#: ``_agen`` on every legal configuration.
_SHIFTS: dict[int, tuple[int, int, int, int, int, int]] = {}


def _shifts(cfg_bits: int) -> tuple[int, int, int, int, int, int]:
    p, _, n, m, b = _geometry(cfg_bits)  # raises IllegalInstruction first
    sp = p.bit_length() - 1
    s = _SHIFTS[cfg_bits] = (sp, sp + 2, n.bit_length() - 1, m.bit_length() - 1, b, m - 1)
    return s


def xdec_access(csr: int, rs1: int, rs2: int) -> XdecAccess:
    """Index decompression and address generation of ``xdec.lb`` (no memory access).

    Raises :class:`IllegalInstruction` for an illegal configuration, ``TypeError`` /
    ``ValueError`` if ``csr``, ``rs1`` or ``rs2`` is not an integer 0..2^32-1.
    """
    return XdecAccess(*_agen(_u32("xdec CSR", csr), _u32("rs1", rs1), _u32("rs2", rs2)))


class _ByteMemory(Protocol):
    def __getitem__(self, addr: int, /) -> int: ...


class XdecResult(NamedTuple):
    """Architectural effect of one ``xdec.lb``: new rd, new CSR, and the byte address read."""

    rd: int
    csr: int
    addr: int


def xdec_lb(csr: int, rs1: int, rs2: int, rd: int,
            mem: Callable[[int], int] | _ByteMemory) -> XdecResult:
    """Execute ``xdec.lb`` on architectural state.

    Parameters
    ----------
    csr : current value of the ``xdec`` CSR.
    rs1, rs2, rd : current values of the three source registers (rd is read: lanes are kept).
    mem : the memory, either a callable ``addr -> byte`` or anything indexable by address.

    Returns
    -------
    XdecResult
        New rd value, new CSR value and the address read.

    Raises
    ------
    IllegalInstruction
        If the CSR holds an illegal configuration; no memory access happens then.
    TypeError, ValueError
        If ``csr``, ``rs1``, ``rs2`` or ``rd`` is not an integer 0..2^32-1, ``mem`` is neither
        callable nor indexable, or the memory returns something that is not an integer 0..255.
        Whatever ``mem`` itself raises (an access fault) propagates unchanged.
    """
    # The checks cost a few integer operations: exact ints (not bool, not numpy) whose OR has no
    # bit at or above 2^32 and no sign.  Anything else takes the slow path, which converts numpy
    # integers and raises for the rest.  After it, the arithmetic below needs no masking of rs2
    # or rd.
    if (csr.__class__ is not int or rs1.__class__ is not int or rs2.__class__ is not int
            or rd.__class__ is not int or (csr | rs1 | rs2 | rd) >> 32):
        csr, rs1, rs2, rd = (_u32("xdec CSR", csr), _u32("rs1", rs1), _u32("rs2", rs2),
                             _u32("rd", rd))
    cfg_bits = csr & _CFG_MASK
    sp, sg, sn, sm, b, fmask = _SHIFTS.get(cfg_bits) or _shifts(cfg_bits)
    k = csr & _CNT_MASK
    lane = (k >> sp) & 3  # streams interleave: A lane 0, B lane 0, A lane 1, ...
    j = ((k >> sg) << 2) | lane  # NZ ordinal in the row
    addr = (rs1 + ((j >> sn) << sm) + ((rs2 >> (b * lane)) & fmask)) & _MASK32
    try:
        byte = mem(addr) if callable(mem) else mem[addr]
    except TypeError:
        if callable(mem) or hasattr(type(mem), "__getitem__"):
            raise  # the memory's own error
        raise TypeError(f"mem must be a callable addr -> byte or indexable by address, not "
                        f"{type(mem).__name__}") from None
    if byte.__class__ is not int or not 0 <= byte <= 0xFF:
        byte = _byte(byte, addr)
    shift = 8 * lane
    # tuple.__new__ skips the NamedTuple's Python-level __new__ frame (hot in the ISS).
    return _new_tuple(XdecResult, ((rd & ~(0xFF << shift)) | (byte << shift),
                                   cfg_bits | ((csr + 1) & _CNT_MASK), addr))


def _byte(value: object, addr: int) -> int:
    """A byte the memory returned, as an int (numpy integers allowed), else TypeError/ValueError."""
    try:
        return as_int("memory byte", value, 0, 0xFF)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"memory returned {short(value)} ({type(value).__name__}) at "
                        f"0x{addr:08x}, not a byte (an integer 0..255)") from None
