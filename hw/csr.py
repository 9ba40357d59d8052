"""The ``xdec`` CSR: register, software read/write port and the auto-increment of ``cnt``.

Field positions, reset value and the write mask come from ``xdec_spec``; reserved bits are not
stored (they read 0).  Writes never trap: legality is checked when ``xdec.lb`` executes.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from xdecimate.sw.model import xdec_spec as spec

from .interfaces import XLEN, CsrLayout, CsrOp

__all__ = ["XdecCsr"]

_CNT = spec.field("cnt")


class XdecCsr(wiring.Component):
    """The ``xdec`` CSR with its software port and counter auto-increment.

    Reads are combinational (``rdata`` is the current value).  A write, set or clear and an
    increment take effect at the next clock edge.  If ``op`` writes and ``inc`` is high in the same
    cycle, the software write wins and the increment is dropped (the unit never does both: one
    request per cycle).  Synchronous reset to ``xdec_spec.CSR_RESET``.

    Members
    -------
    value : Out(CsrLayout)
        Current CSR value, field by field.
    op : In(CsrOp)
        Software operation this cycle (``NONE`` or ``READ``: no write).
    wdata : In(XLEN)
        Operand of WRITE / SET / CLEAR.
    rdata : Out(XLEN)
        Current CSR value as a word (what ``csrr*`` returns: the value before the operation).
    inc : In(1)
        ``cnt <- (cnt + 1) mod 2^width`` at the next edge (an ``xdec.lb`` was accepted).
    """

    def __init__(self) -> None:
        super().__init__({
            "value": Out(CsrLayout),
            "op": In(CsrOp),
            "wdata": In(XLEN),
            "rdata": Out(XLEN),
            "inc": In(1),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        reg = Signal(XLEN, init=spec.CSR_RESET)
        cur = reg & spec.CSR_WRITE_MASK
        m.d.comb += [
            self.value.eq(cur),
            self.rdata.eq(cur),
        ]
        with m.Switch(self.op):
            with m.Case(CsrOp.WRITE):
                m.d.sync += reg.eq(self.wdata & spec.CSR_WRITE_MASK)
            with m.Case(CsrOp.SET):
                m.d.sync += reg.eq((cur | self.wdata) & spec.CSR_WRITE_MASK)
            with m.Case(CsrOp.CLEAR):
                m.d.sync += reg.eq(cur & ~self.wdata & spec.CSR_WRITE_MASK)
            with m.Default(), m.If(self.inc):
                m.d.sync += reg[_CNT.lsb:_CNT.msb + 1].eq(self.value.cnt + 1)
        return m
