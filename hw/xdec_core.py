"""The ID-side xDecimate block of the extended CV32E40P: the ``xdec`` CSR and the index decompress.

Inside the core (``hw/cv32e40p/``, ``docs/cv32e40p.md``) xDecimate reuses what the pipeline already
has (the LSU's adder and data port, load-use stalls, forwarding) and adds only this block and the
lane merge (:class:`~.merge.XdecMerge`, instantiated in the LSU).  The two leaves here are the
verified ones of the standalone unit, wired for the core: the CSR file writes the register
through ``csr_we``/``csr_wdata`` (the final value of ``csrrw``/``csrrs``/``csrrc``, masked here by
the spec's write mask), the ID stage increments it when an ``xdec.lb`` retires, and the
decompress reads the current value.  Imports Amaranth, :mod:`xdecimate.sw.model` and ``hw/``.
"""

from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .configs import XdecHwConfig
from .csr import XdecCsr
from .decompress import XdecDecompress
from .interfaces import XLEN, CsrOp

__all__ = ["SIDE_NAME", "XdecCoreSide"]

#: Verilog module name of this block in the patched core (``cv32e40p_core.sv`` instantiates it).
SIDE_NAME = "cv32e40p_xdec_side"


class XdecCoreSide(wiring.Component):
    """The ``xdec`` CSR plus the index decompress, with flat ports for the SystemVerilog core.

    Combinational from ``rs2`` and the CSR to ``lane``/``offset``/``illegal`` (latency 0); the
    CSR updates at the clock edge (a write when ``csr_we``, else an increment when ``inc``; the
    core never asserts both in one cycle: an ``xdec.lb`` waits in ID while a write of the CSR is
    in EX).  No back-pressure.  Synchronous reset (``rst``, active high) to the spec's reset value.

    Parameters
    ----------
    config : XdecHwConfig
        The M, N, P values implemented; any other CSR value makes ``illegal`` high.

    Members
    -------
    csr_we : In(1)
        Write ``csr_wdata`` (masked by the spec's write mask) at the next edge.
    csr_wdata : In(XLEN)
        The new CSR word (the CSR file's final value of ``csrrw``/``csrrs``/``csrrc``).
    csr_rdata : Out(XLEN)
        The current CSR word.
    inc : In(1)
        Increment ``cnt`` at the next edge (an ``xdec.lb`` leaves ID).
    rs2 : In(XLEN)
        The packed index fields (rs2 after forwarding).
    lane : Out(2)
        Destination byte lane of the ``xdec.lb`` in ID.
    offset : Out(XLEN)
        ``(j div N)·M + idx``, zero-extended: operand B of the LSU's address adder.
    illegal : Out(1)
        The CSR holds a configuration ``config`` does not implement: the ``xdec.lb`` traps.

    Raises
    ------
    TypeError
        If ``config`` is not an :class:`XdecHwConfig`.
    """

    def __init__(self, *, config: XdecHwConfig) -> None:
        if not isinstance(config, XdecHwConfig):
            raise TypeError(f"config must be an XdecHwConfig, not {config!r}")
        self._config = config
        super().__init__({
            "csr_we": In(1),
            "csr_wdata": In(XLEN),
            "csr_rdata": Out(XLEN),
            "inc": In(1),
            "rs2": In(XLEN),
            "lane": Out(2),
            "offset": Out(XLEN),
            "illegal": Out(1),
        })

    @property
    def config(self) -> XdecHwConfig:
        """The implemented configuration."""
        return self._config

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.csr = csr = XdecCsr()
        m.submodules.decompress = dec = XdecDecompress(config=self._config)
        with m.If(self.csr_we):
            m.d.comb += csr.op.eq(CsrOp.WRITE)
        with m.Else():
            m.d.comb += csr.op.eq(CsrOp.NONE)
        m.d.comb += [
            csr.wdata.eq(self.csr_wdata),
            csr.inc.eq(self.inc),
            self.csr_rdata.eq(csr.rdata),
            dec.state.eq(csr.value),
            dec.rs2.eq(self.rs2),
            self.lane.eq(dec.lane),
            self.offset.eq(dec.offset),
            self.illegal.eq(dec.illegal),
        ]
        return m
