"""The xDecimate unit: issue-side stream in, OBI master out, response stream back.

Sub-blocks (instance names kept in the netlist for the per-block area report):

* ``decompress`` -- :class:`~.decompress.XdecDecompress`: index field select, block offset, trap.
* ``agen`` -- :class:`~.agen.XdecAgen`: ``rs1 + offset``, byte enable.
* ``merge`` -- :class:`~.merge.XdecMerge`: byte select from ``rdata``, lane merge into old rd.
* ``csr`` -- :class:`~.csr.XdecCsr`: the ``xdec`` CSR, software port, auto-increment.

The glue here is one response register (the "in-flight slot") and the handshakes; see
``docs/hw.md`` for the block diagram and the contracts.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .agen import XdecAgen
from .configs import XdecHwConfig
from .csr import XdecCsr
from .decompress import XdecDecompress, offset_width
from .interfaces import XLEN, CsrOp, ObiSignature, XdecRequest, XdecResponse
from .merge import XdecMerge

__all__ = ["TOP_NAME", "XdecUnit"]

#: Verilog module name of the top (differs from every port name: Icarus resolves ``dut.x`` to a
#: module named ``x``).
TOP_NAME = "xdec_unit"


class XdecUnit(wiring.Component):
    """xDecimate datapath: ``xdec.lb`` and ``xdec`` CSR accesses behind a valid/ready contract.

    Issue side (``i``, a stream of :class:`XdecRequest`)
        A request is accepted in a cycle where ``i.valid`` and ``i.ready`` are high.  The issuer
        must hold ``i.valid`` and ``i.payload`` stable until accepted (the payload drives the OBI
        address phase directly, which OBI requires stable until ``gnt``).  ``i.ready`` depends
        combinationally on ``i.payload``, ``bus.gnt``, ``bus.rvalid`` and ``o.ready``; ``i.valid``
        must not depend on ``i.ready``.

    Response side (``o``, a stream of :class:`XdecResponse`)
        Exactly one response per accepted request, in order.  Once ``o.valid`` is high it stays
        high with a stable payload until ``o.ready``.

    Memory side (``bus``, :class:`ObiSignature`, master)
        A legal ``xdec.lb`` puts its byte read on the bus in the cycle it is presented:
        ``bus.req`` is high while the request waits for ``gnt``, and the request is accepted in
        the ``gnt`` cycle.  At most one read is outstanding.

    Latency and back-pressure
        * ``xdec.lb`` (legal): accepted in the ``gnt`` cycle; its response is valid in the cycle
          ``bus.rvalid`` is high (``rdata`` is merged combinationally), i.e. 1 cycle after
          acceptance with a zero-wait memory, plus every response wait state.
        * CSR access or trapping ``xdec.lb``: accepted as soon as the slot is free; response
          valid the next cycle.  No bus request, and a trap leaves the CSR unchanged.
        * The slot frees in the cycle its response is taken, so with a memory that grants at once
          and answers in the next cycle, and ``o.ready`` high, the unit sustains one request per
          cycle.  ``o.ready`` low stalls issue (``i.ready`` low) once the slot holds a response;
          a read's ``rdata`` is captured when ``o.ready`` is low, as OBI has no ``rready``.

    Parameters
    ----------
    config : XdecHwConfig
        M, N, P values implemented (see :mod:`.configs`); others trap.

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
            "i": In(stream.Signature(XdecRequest)),
            "o": Out(stream.Signature(XdecResponse)),
            "bus": Out(ObiSignature()),
        })

    @property
    def config(self) -> XdecHwConfig:
        """The implemented configuration."""
        return self._config

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.decompress = decompress = XdecDecompress(config=self._config)
        m.submodules.agen = agen = XdecAgen(offset_width=offset_width(self._config))
        m.submodules.merge = merge = XdecMerge()
        m.submodules.csr = csr = XdecCsr()

        req = self.i.payload

        # The in-flight slot: one response, complete (`done`) or waiting for rvalid.
        slot_valid = Signal()
        slot_done = Signal()
        slot_lane = Signal(2)
        slot_byte = Signal(2)
        slot_rd = Signal(XLEN)
        slot_csr = Signal(XLEN)
        slot_illegal = Signal()

        is_lb = Signal()
        lb_go = Signal()      # a legal xdec.lb is presented
        can_issue = Signal()  # the slot is free this cycle or frees at this edge
        accept = Signal()

        m.d.comb += [
            decompress.state.eq(csr.value),
            decompress.rs2.eq(req.rs2),
            agen.base.eq(req.rs1),
            agen.offset.eq(decompress.offset),

            merge.word.eq(self.bus.rdata),
            merge.byte_off.eq(slot_byte),
            merge.lane.eq(slot_lane),
            merge.old.eq(slot_rd),

            self.o.valid.eq(slot_valid & (slot_done | self.bus.rvalid)),
            self.o.payload.rd.eq(Mux(slot_done, slot_rd, merge.result)),
            self.o.payload.csr.eq(slot_csr),
            self.o.payload.illegal.eq(slot_illegal),

            is_lb.eq(req.csr_op == CsrOp.NONE),
            lb_go.eq(is_lb & ~decompress.illegal),
            can_issue.eq(~slot_valid | (self.o.valid & self.o.ready)),

            self.bus.req.eq(self.i.valid & lb_go & can_issue),
            self.bus.addr.eq(agen.addr),
            self.bus.be.eq(agen.be),
            self.bus.we.eq(0),
            self.bus.wdata.eq(0),

            self.i.ready.eq(can_issue & (~lb_go | self.bus.gnt)),
            accept.eq(self.i.valid & self.i.ready),

            csr.op.eq(Mux(accept, req.csr_op, CsrOp.NONE)),
            csr.wdata.eq(req.wdata),
            csr.inc.eq(accept & lb_go),
        ]

        with m.If(accept):
            m.d.sync += [
                slot_valid.eq(1),
                slot_done.eq(~lb_go),
                slot_lane.eq(decompress.lane),
                slot_byte.eq(agen.byte_off),
                slot_rd.eq(req.rd),
                slot_csr.eq(csr.rdata),
                slot_illegal.eq(is_lb & decompress.illegal),
            ]
        with m.Elif(self.o.valid & self.o.ready):
            m.d.sync += slot_valid.eq(0)
        with m.Elif(slot_valid & ~slot_done & self.bus.rvalid):
            # OBI has no rready: keep the merged word while the response side is stalled.
            m.d.sync += [
                slot_done.eq(1),
                slot_rd.eq(merge.result),
            ]
        return m
