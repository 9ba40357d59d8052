"""The xDecimate spec restated as Amaranth expressions: the other side of every formal proof.

Written from :mod:`xdecimate.sw.model.xdec_spec` and nothing in ``hw/``: field positions and
widths, reset values, access (``RW`` / ``R0``) and legal values come from ``CSR_FIELDS``, index
widths from ``INDEX_BITS``, the data width from ``XLEN``, and the arithmetic is the formula block
of ``docs/xdecimate.md`` ("In full, with k = xdec.cnt ...") typed in again, operator by operator::

    lane = (k div P) mod 4;  g = k div 4P;  j = 4g + lane
    idx  = ((rs2 >> b·lane) mod 2^b) mod M;  offset = (j div N)·M + idx
    addr = (rs1 + offset) mod 2^32;  rd[8·lane +: 8] = Mem8[addr]

It is deliberately written the way the spec reads, not the way the RTL is built: every quantity
is computed from the *field values* with variable shifts (M = 2^m_log2, so ``x div M`` is
``x >> m_log2`` and ``x·M`` is ``x << m_log2``; a first version used true division and
multiplication and proved the same, 4-16x slower), the index width is looked up in the
``INDEX_BITS`` table by M, the write mask and reset value are recomputed from the field table, and
legality is "every field with a legal set holds one of its legal, implemented values".  The RTL
(``hw/decompress.py`` ...) instead muxes over the implemented log2 values, slices and
concatenates, and takes ``CSR_WRITE_MASK``/``CSR_RESET`` ready-made: the two meet only in the
solver.

Two inputs are not spec facts and say so: the *configuration* (``hw/configs.XdecHwConfig``, the
hardware parameter under proof: which legal values are implemented; anything else traps) and the
operation encoding of the CSR port (``hw/interfaces.CsrOp``, an interface definition).

May import: amaranth, ``xdecimate.sw.model.xdec_spec``, ``xdecimate.hw.configs`` (the
configuration type) and ``xdecimate.hw.interfaces`` (``CsrOp`` encoding only).
"""

from __future__ import annotations

from typing import NamedTuple

from amaranth.hdl import Const, Mux, Value, ValueLike
from xdecimate.hw.configs import XdecHwConfig
from xdecimate.hw.interfaces import CsrOp
from xdecimate.sw.model import xdec_spec as spec

__all__ = [
    "XLEN",
    "Access",
    "access",
    "address",
    "byte_enable",
    "csr_field",
    "csr_increment",
    "csr_software",
    "implemented",
    "legal",
    "merge",
    "reset_value",
    "write_mask",
]

#: Register width (the spec's XLEN).
XLEN = spec.XLEN

#: Which configuration attribute (values, not log2) restricts which CSR field.
_CONFIG_SET = {"m_log2": "m", "n_log2": "n", "p_log2": "p"}


def _field(name: str) -> spec.CsrField:
    for f in spec.CSR_FIELDS:
        if f.name == name:
            return f
    raise KeyError(name)


def csr_field(csr: ValueLike, name: str) -> Value:
    """Field ``name`` of a CSR word, at the position the spec table gives."""
    f = _field(name)
    return Value.cast(csr)[f.lsb:f.msb + 1]


def reset_value() -> int:
    """The CSR value after reset: every field at its table reset value."""
    return sum(f.reset << f.lsb for f in spec.CSR_FIELDS)


def write_mask() -> int:
    """Bits a software write stores: the fields whose access is ``RW`` (``R0`` reads zero)."""
    mask = 0
    for f in spec.CSR_FIELDS:
        if f.access == "RW":
            mask |= ((1 << (f.msb - f.lsb + 1)) - 1) << f.lsb
    return mask


def implemented(cfg: XdecHwConfig) -> dict[str, tuple[int, ...]]:
    """For every CSR field with a legal set: the field values that run (the others trap).

    A field value runs when the spec allows it and, for M, N and P, the configuration implements
    the value ``2^field``.
    """
    out = {}
    for f in spec.CSR_FIELDS:
        if f.legal is None:
            continue
        values = f.legal
        if f.name in _CONFIG_SET:
            built = getattr(cfg, _CONFIG_SET[f.name])
            values = tuple(v for v in values if (1 << v) in built)
        out[f.name] = values
    return out


def legal(csr: ValueLike, cfg: XdecHwConfig) -> Value:
    """1 if ``xdec.lb`` runs with this CSR on configuration ``cfg``, 0 if it traps."""
    ok = Const(1)
    for name, values in implemented(cfg).items():
        fv = csr_field(csr, name)
        hit = Const(0)
        for v in values:
            hit = hit | (fv == v)
        ok = ok & hit
    return ok


class Access(NamedTuple):
    """The spec's quantities of one ``xdec.lb`` (meaningful only where :func:`legal` is 1)."""

    lane: Value
    idx: Value
    j: Value
    offset: Value


def access(csr: ValueLike, rs2: ValueLike, cfg: XdecHwConfig | None = None) -> Access:
    """Lane, index, NZ ordinal and block offset, as the formula block of the docs states them.

    ``cfg`` is unused (the formulas hold for every legal configuration); it is accepted so that
    callers read uniformly.
    """
    del cfg
    k = csr_field(csr, "cnt")
    m_log2 = csr_field(csr, "m_log2")
    n_log2 = csr_field(csr, "n_log2")
    p_log2 = csr_field(csr, "p_log2")
    M = Const(1, 1) << m_log2
    b = Const(0, max(spec.INDEX_BITS.values()).bit_length())
    for m_value, bits in spec.INDEX_BITS.items():
        b = Mux(M == m_value, bits, b)  # noqa: SIM300 -- M is a signal here
    # M, N, P are powers of two (M = 2^m_log2 ...): x div 2^e is x >> e, x mod 2^e keeps e bits
    # and x·2^e is x << e.  Written as variable shifts; the RTL muxes over its implemented values.
    lane = (k >> p_log2) % 4
    g = k >> (p_log2 + 2)
    j = (g << 2) + lane
    field = (Value.cast(rs2) >> (b * lane)) & ((Const(1, 1) << b) - 1)
    idx = field & (M - 1)
    offset = ((j >> n_log2) << m_log2) + idx
    return Access(lane=lane[:2], idx=idx, j=j, offset=offset)


def address(rs1: ValueLike, offset: ValueLike) -> Value:
    """``(rs1 + offset) mod 2^XLEN``."""
    return (Value.cast(rs1) + offset) % (1 << XLEN)


def byte_enable(addr: ValueLike) -> Value:
    """The one byte of the word at ``addr``: ``1 << (addr mod 4)``, XLEN/8 bits."""
    return (Const(1, XLEN // 8) << (Value.cast(addr) % (XLEN // 8)))[:XLEN // 8]


def merge(old: ValueLike, word: ValueLike, byte_off: ValueLike, lane: ValueLike) -> Value:
    """``old`` with byte lane ``lane`` replaced by byte ``byte_off`` of ``word`` (XLEN bits)."""
    byte = (Value.cast(word) >> (8 * Value.cast(byte_off))) % 256
    hole = (Const(0xFF, XLEN) << (8 * Value.cast(lane)))[:XLEN]
    return ((Value.cast(old) & ~hole) | (byte << (8 * Value.cast(lane))))[:XLEN]


def csr_software(old: ValueLike, op: ValueLike, wdata: ValueLike) -> Value:
    """The CSR after a software operation: ``csrrw``/``csrrs``/``csrrc`` store through the write
    mask, anything else (``csrr``, no operation, the unused encodings) leaves it as it is."""
    old, op, wdata = Value.cast(old), Value.cast(op), Value.cast(wdata)
    mask = write_mask()
    return Mux(op == CsrOp.WRITE.value, wdata & mask,
               Mux(op == CsrOp.SET.value, (old | wdata) & mask,
                   Mux(op == CsrOp.CLEAR.value, (old & ~wdata) & mask, old)))[:XLEN]


def csr_increment(old: ValueLike) -> Value:
    """The CSR after an executed ``xdec.lb``: ``cnt`` + 1 modulo 2^width, the rest kept."""
    f = _field("cnt")
    width = f.msb - f.lsb + 1
    cnt = (csr_field(old, "cnt") + 1) % (1 << width)
    hole = ((1 << width) - 1) << f.lsb
    return ((Value.cast(old) & ~Const(hole, XLEN)) | (cnt << f.lsb))[:XLEN]
