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

An illegal configuration (any field of ``xdec`` outside its legal set) raises
:class:`IllegalInstruction` before any state changes or any memory access.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Protocol

from . import xdec_spec as spec

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
_CNT = spec.field("cnt")
_M = spec.field("m_log2")
_N = spec.field("n_log2")
_P = spec.field("p_log2")
_new_tuple = tuple.__new__
_CNT_MASK = _CNT.mask  # the counter is bits [15:0]: incrementing it is a masked add
assert _CNT.lsb == 0, "xdec_lb's fast path assumes the counter is the low field"


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
        for name, value, f in (("M", self.m, _M), ("N", self.n, _N), ("P", self.p, _P)):
            legal = tuple(1 << v for v in f.legal or ())
            if not isinstance(value, int) or value not in legal:
                raise ValueError(f"xdec {name} must be one of {legal}, not {value!r}")

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
        """
        return _decode_config(csr & ~_CNT.mask)


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

    Raises ``ValueError`` for an illegal configuration or a counter outside 0..2^16-1.
    """
    cfg = XdecConfig(m=m, n=n, p=p)
    if not isinstance(cnt, int) or not 0 <= cnt < (1 << _CNT.width):
        raise ValueError(f"xdec.cnt must be in 0..{(1 << _CNT.width) - 1}, not {cnt!r}")
    csr = _CNT.put(0, cnt)
    csr = _M.put(csr, cfg.m.bit_length() - 1)
    csr = _N.put(csr, cfg.n.bit_length() - 1)
    return _P.put(csr, cfg.p.bit_length() - 1)


def csr_write(value: int) -> int:
    """The CSR value stored by a software write of ``value`` (reserved bits are dropped).

    Writes never trap: legality is checked when ``xdec.lb`` executes.
    """
    return value & spec.CSR_WRITE_MASK


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
    """(lane, idx, j, offset, addr): the one implementation of the address arithmetic."""
    p, p4, n, m, b = _geometry(csr & ~_CNT_MASK)
    k = csr & _CNT_MASK
    lane = (k // p) & 3  # streams interleave: A lane 0, B lane 0, A lane 1, ...
    j = (k // p4) * 4 + lane
    # The field is b bits; `mod M` only matters for M = 8 (4-bit fields, top bit reserved): it
    # keeps every address inside the block for *any* rs2, so the address bound needs no trust.
    idx = ((rs2 & _MASK32) >> (b * lane)) & ((1 << b) - 1) & (m - 1)
    offset = (j // n) * m + idx
    return lane, idx, j, offset, (rs1 + offset) & _MASK32


#: Per-configuration fast path of xdec_lb: cfg_bits -> (lane, address) function of (k, rs1, rs2).
#: Built from the same geometry as :func:`_agen` with P, N, M powers of two turned into shifts;
#: ``tests/sw/model/test_xdec_ref.py`` checks it against ``_agen`` on every legal configuration.
_FAST: dict[int, Callable[[int, int, int], tuple[int, int]]] = {}


def _fast_agen(cfg_bits: int) -> Callable[[int, int, int], tuple[int, int]]:
    p, _, n, m, b = _geometry(cfg_bits)  # raises IllegalInstruction first
    sp, sn, sm, fmask = p.bit_length() - 1, n.bit_length() - 1, m.bit_length() - 1, m - 1

    def agen(k: int, rs1: int, rs2: int) -> tuple[int, int]:
        lane = (k >> sp) & 3
        j = ((k >> (sp + 2)) << 2) | lane
        return lane, (rs1 + ((j >> sn) << sm) + (((rs2 & _MASK32) >> (b * lane)) & fmask)) \
            & _MASK32

    _FAST[cfg_bits] = agen
    return agen


def xdec_access(csr: int, rs1: int, rs2: int) -> XdecAccess:
    """Index decompression and address generation of ``xdec.lb`` (no memory access).

    Raises :class:`IllegalInstruction` for an illegal configuration.
    """
    return XdecAccess(*_agen(csr, rs1, rs2))


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
    ValueError
        If the memory returns something that is not a byte.
    """
    cfg_bits = csr & ~_CNT_MASK
    agen = _FAST.get(cfg_bits) or _fast_agen(cfg_bits)
    lane, addr = agen(csr & _CNT_MASK, rs1, rs2)
    byte = mem(addr) if callable(mem) else mem[addr]
    if byte.__class__ is not int:
        byte = int(byte)
    if not 0 <= byte <= 0xFF:
        raise ValueError(f"memory returned {byte!r} at 0x{addr:08x}, not a byte")
    shift = 8 * lane
    # tuple.__new__ skips the NamedTuple's Python-level __new__ frame (hot in the ISS).
    return _new_tuple(XdecResult, ((rd & _MASK32 & ~(0xFF << shift)) | (byte << shift),
                                   cfg_bits | ((csr + 1) & _CNT_MASK), addr))
