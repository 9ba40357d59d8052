"""Proof harnesses: one ``hw/`` block, free inputs, the spec model beside it, named properties.

Each harness is an Amaranth ``Elaboratable`` that instantiates one block of ``hw/`` (through
:func:`~xdecimate.formal.probe.probed`, optionally with a planted :class:`Mutation`), drives every
input from ``AnySeq`` (a fresh unconstrained value in every cycle), computes the expected outputs
with :mod:`xdecimate.formal.model`, and states ``Assert``\\ s that the two agree.  The
synchronous harnesses (CSR, unit) keep the model's state in registers beside the RTL's and leave
the domain's ``rst`` a free input, so a reset may hit any cycle; both sides reset together.

* :class:`DecompressHarness`, :class:`AgenHarness`, :class:`MergeHarness` -- combinational:
  outputs equal the model for every input (an equivalence check, one step).
* :class:`CsrHarness` -- the ``xdec`` CSR against a register that follows the spec's update
  rules; the property "``rdata`` equals the model" is 1-inductive.
* :class:`UnitHarness` -- ``XdecUnit`` against a transaction model of its documented contract
  (``docs/hw.md``: which cycle ``i.ready``, ``bus.req``, ``o.valid`` are high, what address is
  read, what every response carries), with an issuer that holds a request until it is accepted
  and an OBI memory that answers each granted read once, one or more cycles later, in any later
  cycle.  Lemmas tie the unit's internal slot and CSR to the model so that induction closes.

Properties are named: every ``Assert`` carries its name in its source location (``[name]``),
which is how a counterexample says what it broke.

May import: amaranth, ``xdecimate.hw``, ``xdecimate.formal``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from amaranth.asserts import AnySeq
from amaranth.hdl import Assert, Assume, Elaboratable, Fragment, Module, Mux, Signal, Value
from xdecimate.hw.agen import XdecAgen
from xdecimate.hw.configs import XdecHwConfig
from xdecimate.hw.csr import XdecCsr
from xdecimate.hw.decompress import XdecDecompress, offset_width
from xdecimate.hw.interfaces import CsrOp, XdecRequest
from xdecimate.hw.merge import XdecMerge
from xdecimate.hw.xdec_unit import XdecUnit

from . import model
from .probe import Mutation, Prebuilt, Probe, probed

__all__ = [
    "HARNESSES",
    "AgenHarness",
    "CsrHarness",
    "DecompressHarness",
    "Harness",
    "MergeHarness",
    "UnitHarness",
]

XLEN = model.XLEN


class Harness(Elaboratable):
    """Common part: the configuration, the optional mutation, named properties.

    Parameters
    ----------
    config : the named configuration under proof.
    mutation : a planted bug, or ``None`` for the design as it is.
    """

    #: Proof name of the block (``Mutation.block`` refers to it).
    block: ClassVar[str] = ""
    #: What the proof establishes, one line.
    claim: ClassVar[str] = ""

    def __init__(self, config: XdecHwConfig, mutation: Mutation | None = None) -> None:
        if not isinstance(config, XdecHwConfig):
            raise TypeError(f"config must be an XdecHwConfig, not {config!r}")
        if mutation is not None and mutation.block != self.block:
            raise ValueError(f"mutation {mutation.name!r} targets {mutation.block!r}, "
                             f"not {self.block!r}")
        self.config = config
        self.mutation = mutation
        #: Names of the asserted properties, in order (filled by ``elaborate``).
        self.properties: list[str] = []
        #: Names of the internal-state lemmas among them.
        self.lemmas: list[str] = []

    def _dut(self, m: Module, cls: type, platform: Any, **kwargs: Any) -> tuple[Any, Probe]:
        dut = probed(cls, self.mutation)(**kwargs)
        fragment = Fragment.get(dut, platform)
        m.submodules.dut = Prebuilt(fragment)
        return dut, dut.probe

    def _check(self, m: Module, name: str, test: Any, *, lemma: bool = False) -> None:
        stmt = Assert(test, name)
        stmt.src_loc = (f"[{name}] {stmt.src_loc[0]}", stmt.src_loc[1])
        m.d.comb += stmt
        self.properties.append(name)
        if lemma:
            self.lemmas.append(name)

    @staticmethod
    def _free(m: Module, shape: Any, name: str) -> Any:
        sig = Signal(shape, name=name)
        m.d.comb += Value.cast(sig).eq(AnySeq(len(Value.cast(sig))))
        return sig


class DecompressHarness(Harness):
    """``XdecDecompress``: trap flag, lane, index and offset equal the spec for every CSR, rs2."""

    block = "decompress"
    claim = ("illegal = not implemented(M, N, P, reserved); if legal: lane, idx, offset = "
             "the spec formulas")

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        dut, _ = self._dut(m, XdecDecompress, platform, config=self.config)
        csr = self._free(m, XLEN, "csr")
        rs2 = self._free(m, XLEN, "rs2")
        m.d.comb += [dut.state.eq(csr), dut.rs2.eq(rs2)]
        ok = model.legal(csr, self.config)
        acc = model.access(csr, rs2)
        self._check(m, "illegal", dut.illegal == ~ok)
        self._check(m, "lane", ~ok | (dut.lane == acc.lane))
        self._check(m, "idx", ~ok | (dut.idx == acc.idx))
        self._check(m, "offset", ~ok | (dut.offset == acc.offset))
        return m


class AgenHarness(Harness):
    """``XdecAgen``: address, byte offset and byte enable for every base and offset."""

    block = "agen"
    claim = "addr = (rs1 + offset) mod 2^32; byte_off = addr mod 4; be = 1 << byte_off"

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        width = offset_width(self.config)
        dut, _ = self._dut(m, XdecAgen, platform, offset_width=width)
        base = self._free(m, XLEN, "base")
        offset = self._free(m, width, "offset")
        m.d.comb += [dut.base.eq(base), dut.offset.eq(offset)]
        addr = model.address(base, offset)
        self._check(m, "addr", dut.addr == addr)
        self._check(m, "byte_off", dut.byte_off == addr % 4)
        self._check(m, "be", dut.be == model.byte_enable(addr))
        return m


class MergeHarness(Harness):
    """``XdecMerge``: the merged register for every word, byte offset, lane and old value."""

    block = "merge"
    claim = "result = old with lane l replaced by byte byte_off of word"

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        dut, _ = self._dut(m, XdecMerge, platform)
        word = self._free(m, XLEN, "word")
        byte_off = self._free(m, 2, "byte_off")
        lane = self._free(m, 2, "lane")
        old = self._free(m, XLEN, "old")
        m.d.comb += [dut.word.eq(word), dut.byte_off.eq(byte_off), dut.lane.eq(lane),
                     dut.old.eq(old)]
        self._check(m, "result", dut.result == model.merge(old, word, byte_off, lane))
        return m


class CsrHarness(Harness):
    """``XdecCsr``: the value read equals the spec register in every cycle, for any op sequence.

    The spec register starts at the table's reset value and returns to it on ``rst``; a
    ``csrrw``/``csrrs``/``csrrc`` stores through the write mask; otherwise ``inc`` adds one to
    ``cnt`` modulo 2^16; a software write in the same cycle as ``inc`` wins (``docs/hw.md``).
    """

    block = "csr"
    claim = "rdata = value = spec register (reset, write mask, set/clear, increment, priority)"

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        dut, _ = self._dut(m, XdecCsr, platform)
        op = self._free(m, 3, "op")
        wdata = self._free(m, XLEN, "wdata")
        inc = self._free(m, 1, "inc")
        m.d.comb += [Value.cast(dut.op).eq(op), dut.wdata.eq(wdata), dut.inc.eq(inc)]

        spec_csr = Signal(XLEN, init=model.reset_value())
        writes = (op == CsrOp.WRITE.value) | (op == CsrOp.SET.value) | \
            (op == CsrOp.CLEAR.value)
        m.d.sync += spec_csr.eq(Mux(writes, model.csr_software(spec_csr, op, wdata),
                                    Mux(inc, model.csr_increment(spec_csr), spec_csr)))
        self._check(m, "rdata", dut.rdata == spec_csr)
        self._check(m, "value", Value.cast(dut.value) == spec_csr)
        return m


class UnitHarness(Harness):
    """``XdecUnit``: handshakes, bus reads and responses against a transaction model.

    Environment (the only assumptions): the issuer holds ``i.valid`` and ``i.payload`` stable
    until accepted; the memory raises ``rvalid`` only while a granted read has had no response
    yet (so at least one cycle after its ``gnt``, once per read); ``gnt``, ``rdata``, ``o.ready``,
    ``i.valid`` of a new request and ``rst`` are free in every cycle.

    Model state: the architectural ``xdec`` CSR and one response owed (``pending``) with what it
    must carry.  Contract properties (``docs/hw.md``): ``i.ready``, ``bus.req`` and ``o.valid``
    are high exactly in the cycles the contract says; a bus read goes to the spec address with a
    one-hot byte enable and never a write; at most one read is outstanding; every response
    carries the spec's rd (loaded byte merged into the spec lane, or the old rd), the CSR value
    before the request and the trap flag; the unit's ``xdec`` CSR (read at the CSR block's
    ``rdata`` port) equals the architectural one.  Lemmas (``lemma:``) equate the unit's
    internal slot with the model state; they make the property 1-inductive.
    """

    block = "unit"
    claim = ("i.ready, bus.req, o.valid cycle-exact; bus address/be; response rd/csr/illegal; "
             "CSR state; one outstanding read")

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        cfg = self.config
        dut, probe = self._dut(m, XdecUnit, platform, config=cfg)
        slot = probe.signals
        csr_block = probe.module.submodules.csr

        # -- environment: free inputs, the issuer's hold rule, the memory's response rule ------
        i_valid = self._free(m, 1, "i_valid")
        req = self._free(m, XdecRequest, "i_payload")
        o_ready = self._free(m, 1, "o_ready")
        gnt = self._free(m, 1, "gnt")
        rvalid = self._free(m, 1, "rvalid")
        rdata = self._free(m, XLEN, "rdata")
        m.d.comb += [
            dut.i.valid.eq(i_valid), dut.i.payload.eq(req), dut.o.ready.eq(o_ready),
            dut.bus.gnt.eq(gnt), dut.bus.rvalid.eq(rvalid), dut.bus.rdata.eq(rdata),
        ]
        held = Signal()
        held_req = Signal(XdecRequest)
        m.d.sync += [held.eq(i_valid & ~dut.i.ready), held_req.eq(req)]
        m.d.comb += Assume(~held | (i_valid & (Value.cast(req) == Value.cast(held_req))))
        outstanding = Signal()  # the memory owes one response
        m.d.sync += outstanding.eq((outstanding & ~rvalid) | (dut.bus.req & gnt))
        m.d.comb += Assume(~rvalid | outstanding)

        # -- the model ---------------------------------------------------------------------
        arch = Signal(XLEN, init=model.reset_value())
        pending = Signal()   # a response is owed
        p_read = Signal()    # ... for an xdec.lb that reads memory
        p_done = Signal()    # ... and it is complete (no read, or the word has arrived)
        p_csr = Signal(XLEN)
        p_rd = Signal(XLEN)
        p_illegal = Signal()
        p_lane = Signal(2)
        p_boff = Signal(2)

        op = Value.cast(req.csr_op)
        is_lb = op == CsrOp.NONE.value
        ok = model.legal(arch, cfg)
        go = is_lb & ok
        acc = model.access(arch, req.rs2)
        addr = model.address(req.rs1, acc.offset)
        exp_o_valid = pending & (p_done | rvalid)
        exp_rd = Mux(p_done, p_rd, model.merge(p_rd, rdata, p_boff, p_lane))
        free = ~pending | (exp_o_valid & o_ready)
        exp_i_ready = free & (~go | gnt)
        exp_req = i_valid & go & free
        taken = i_valid & exp_i_ready

        with m.If(taken):
            m.d.sync += [
                arch.eq(Mux(is_lb, Mux(ok, model.csr_increment(arch), arch),
                            model.csr_software(arch, op, req.wdata))),
                pending.eq(1), p_read.eq(go), p_done.eq(~go), p_csr.eq(arch),
                p_illegal.eq(is_lb & ~ok), p_rd.eq(req.rd), p_lane.eq(acc.lane),
                p_boff.eq(addr % 4),
            ]
        with m.Elif(exp_o_valid & o_ready):
            m.d.sync += pending.eq(0)
        with m.Elif(pending & ~p_done & rvalid):
            m.d.sync += [p_done.eq(1), p_rd.eq(exp_rd)]

        # -- the contract --------------------------------------------------------------------
        bus = dut.bus
        self._check(m, "i.ready", dut.i.ready == exp_i_ready)
        self._check(m, "bus.req", bus.req == exp_req)
        self._check(m, "bus.addr", ~exp_req | (bus.addr == addr))
        self._check(m, "bus.be", ~exp_req | (bus.be == model.byte_enable(addr)))
        self._check(m, "bus.read_only", (bus.we == 0) & (bus.wdata == 0))
        self._check(m, "bus.one_outstanding", ~(bus.req & gnt & outstanding & ~rvalid))
        self._check(m, "o.valid", dut.o.valid == exp_o_valid)
        self._check(m, "o.payload.rd", ~exp_o_valid | (dut.o.payload.rd == exp_rd))
        self._check(m, "o.payload.csr", ~exp_o_valid | (dut.o.payload.csr == p_csr))
        self._check(m, "o.payload.illegal",
                    ~exp_o_valid | (dut.o.payload.illegal == p_illegal))
        # The architectural CSR (what the next csrr returns), read at the CSR block's port.
        self._check(m, "csr.state", csr_block.rdata == arch)

        # -- lemmas: internal state = model state (what makes the induction close) -----------
        waiting = pending & ~p_done
        self._check(m, "lemma:slot_valid", slot["slot_valid"] == pending, lemma=True)
        self._check(m, "lemma:slot", ~pending | (
            (slot["slot_done"] == p_done) & (slot["slot_csr"] == p_csr)
            & (slot["slot_illegal"] == p_illegal) & (slot["slot_rd"] == p_rd)), lemma=True)
        self._check(m, "lemma:slot_read", ~waiting | (
            (slot["slot_lane"] == p_lane) & (slot["slot_byte"] == p_boff)), lemma=True)
        self._check(m, "lemma:memory", outstanding == waiting, lemma=True)
        self._check(m, "lemma:model", ~pending | p_read | p_done, lemma=True)
        return m


#: Harness class per block name.
HARNESSES: dict[str, type[Harness]] = {
    h.block: h for h in (DecompressHarness, AgenHarness, MergeHarness, CsrHarness, UnitHarness)
}
