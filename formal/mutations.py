"""Planted bugs: every proof must reject each of its mutations with a counterexample.

A proof that cannot fail proves nothing; these show that each one can.  Every mutation changes one
expression of one ``hw/`` block in the elaborated netlist only (see :mod:`.probe` for how:
``spec`` replaces a spec-table constant as that block's module sees it, ``override`` appends an
assignment that wins over the original one).  The kinds the issue asks for, per block:

* decompress -- wrong field select (index width, lane, block number), a trap flag that misses a
  case (reserved bits, an unimplemented N that runs);
* agen -- wrong byte offset, a carry dropped;
* merge -- off-by-one lane, byte selected by the wrong index;
* csr -- missed increment, increment carrying into ``m_log2``, wrong write mask (both ways),
  wrong reset value, increment beating a software write;
* unit -- a trap that changes state (counter, bus read), a handshake that drops a request
  (response overwritten, read accepted without ``gnt``, ``rdata`` lost under back-pressure) or
  duplicates one (read issued twice, response presented twice).

May import: amaranth, ``xdecimate.hw``, ``xdecimate.formal``.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, Module, Mux, Signal
from xdecimate.hw.interfaces import CsrOp
from xdecimate.sw.model import xdec_spec as spec

from .probe import Mutation

__all__ = ["MUTATIONS", "mutation", "mutations_for"]

Sig = dict[str, Signal]


# -- decompress ---------------------------------------------------------------------------------

def _lane_ignores_p(dut: Any, m: Module, s: Sig) -> None:
    m.d.comb += dut.lane.eq(dut.state.cnt[0:2])


def _block_ignores_n(dut: Any, m: Module, s: Sig) -> None:
    m.d.comb += s["block"].eq(s["j"])


def _reserved_not_checked(dut: Any, m: Module, s: Sig) -> None:
    m.d.comb += dut.illegal.eq(s["bad_m"] | s["bad_n"] | s["bad_p"])


def _spec_n_only(dut: Any, m: Module, s: Sig) -> None:
    legal = spec.field("n_log2").legal or ()
    m.d.comb += s["bad_n"].eq(dut.state.n_log2 > max(legal))


# -- agen -----------------------------------------------------------------------------------

def _byte_off_from_base(dut: Any, m: Module, s: Sig) -> None:
    m.d.comb += dut.byte_off.eq(dut.base[:2])


def _carry_dropped(dut: Any, m: Module, s: Sig) -> None:
    w = dut.offset_width
    m.d.comb += dut.addr.eq(Cat((dut.base[:w] + dut.offset)[:w], dut.base[w:]))


# -- merge ----------------------------------------------------------------------------------

def _lane_off_by_one(dut: Any, m: Module, s: Sig) -> None:
    for lane in range(4):
        m.d.comb += dut.result[8 * lane:8 * lane + 8].eq(
            Mux(dut.lane == (lane + 1) % 4, s["byte"], dut.old[8 * lane:8 * lane + 8]))


def _byte_from_lane(dut: Any, m: Module, s: Sig) -> None:
    m.d.comb += s["byte"].eq(dut.word.word_select(dut.lane, 8))


# -- csr ------------------------------------------------------------------------------------

def _writes(dut: Any) -> Any:
    return (dut.op == CsrOp.WRITE) | (dut.op == CsrOp.SET) | (dut.op == CsrOp.CLEAR)


def _missed_increment_on_read(dut: Any, m: Module, s: Sig) -> None:
    with m.If(dut.inc & (dut.op == CsrOp.READ)):
        m.d.sync += s["reg"].eq(s["reg"])


def _increment_carries(dut: Any, m: Module, s: Sig) -> None:
    with m.If(dut.inc & ~_writes(dut)):
        m.d.sync += s["reg"].eq(dut.rdata + 1)


def _increment_beats_write(dut: Any, m: Module, s: Sig) -> None:
    cnt = spec.field("cnt")
    with m.If(dut.inc):
        m.d.sync += s["reg"][cnt.lsb:cnt.msb + 1].eq(dut.value.cnt + 1)


# -- unit -----------------------------------------------------------------------------------

def _trap_increments(dut: Any, m: Module, s: Sig) -> None:
    m.d.comb += m.submodules.csr.inc.eq(s["accept"] & s["is_lb"])


def _trap_reads_memory(dut: Any, m: Module, s: Sig) -> None:
    m.d.comb += dut.bus.req.eq(dut.i.valid & s["is_lb"] & s["can_issue"])


def _drop_unanswered(dut: Any, m: Module, s: Sig) -> None:
    m.d.comb += s["can_issue"].eq(~s["slot_valid"] | dut.o.ready)


def _accept_before_grant(dut: Any, m: Module, s: Sig) -> None:
    m.d.comb += dut.i.ready.eq(s["can_issue"])


def _rdata_lost(dut: Any, m: Module, s: Sig) -> None:
    with m.If(s["slot_valid"] & ~s["slot_done"] & dut.bus.rvalid & ~s["accept"]
              & ~(dut.o.valid & dut.o.ready)):
        m.d.sync += s["slot_rd"].eq(s["slot_rd"])


def _duplicate_read(dut: Any, m: Module, s: Sig) -> None:
    m.d.comb += dut.bus.req.eq(dut.i.valid & s["lb_go"])


def _duplicate_response(dut: Any, m: Module, s: Sig) -> None:
    again = Signal(name="mutant_again")
    m.d.sync += again.eq(dut.o.valid & dut.o.ready & ~s["accept"])
    m.d.comb += dut.o.valid.eq(
        (s["slot_valid"] & (s["slot_done"] | dut.bus.rvalid)) | again)


_RESERVED_BIT = spec.field("reserved").lsb
_P_TOP_BIT = spec.field("p_log2").msb
_M_LOG2 = spec.field("m_log2")

#: Every planted bug, by name.
MUTATIONS: dict[str, Mutation] = {mu.name: mu for mu in (
    Mutation("index_width_m8", "decompress",
             "M = 8 index fields selected as 3 bits wide instead of 4 (wrong field select)",
             spec={"INDEX_BITS": {**spec.INDEX_BITS, 8: 3}}),
    Mutation("lane_ignores_p", "decompress",
             "lane taken from cnt[1:0] whatever P (wrong field select)",
             override=_lane_ignores_p),
    Mutation("block_ignores_n", "decompress",
             "block number j instead of j div N (N ignored in the offset)",
             override=_block_ignores_n),
    Mutation("reserved_not_trapping", "decompress",
             "illegal misses non-zero reserved bits (trap flag too narrow)",
             override=_reserved_not_checked),
    Mutation("unimplemented_n_runs", "decompress",
             "on `paper`, N = 2 (legal by spec, not built) does not trap",
             config="paper", override=_spec_n_only),
    Mutation("byte_off_from_base", "agen",
             "byte offset taken from rs1 instead of the address (wrong byte enable)",
             override=_byte_off_from_base),
    Mutation("carry_dropped", "agen",
             "adder only as wide as the offset: the carry into the upper address bits is lost",
             override=_carry_dropped),
    Mutation("lane_off_by_one", "merge",
             "loaded byte written into lane l + 1 (off-by-one lane)",
             override=_lane_off_by_one),
    Mutation("byte_from_lane", "merge",
             "byte of the word selected by the lane instead of the address byte offset",
             override=_byte_from_lane),
    Mutation("missed_increment_on_read", "csr",
             "inc dropped when a csrr happens in the same cycle (missed increment)",
             override=_missed_increment_on_read),
    Mutation("increment_carries", "csr",
             "whole register incremented: cnt wrap carries into m_log2",
             override=_increment_carries),
    Mutation("write_mask_keeps_reserved", "csr",
             f"write mask includes reserved bit {_RESERVED_BIT} (stored, reads back 1)",
             spec={"CSR_WRITE_MASK": spec.CSR_WRITE_MASK | (1 << _RESERVED_BIT)}),
    Mutation("write_mask_drops_p", "csr",
             f"write mask misses bit {_P_TOP_BIT} (P = 4 cannot be written)",
             spec={"CSR_WRITE_MASK": spec.CSR_WRITE_MASK & ~(1 << _P_TOP_BIT)}),
    Mutation("reset_value", "csr",
             "reset value with m_log2 = 2: an unconfigured xdec.lb runs instead of trapping",
             spec={"CSR_RESET": spec.CSR_RESET | (2 << _M_LOG2.lsb)}),
    Mutation("increment_beats_write", "csr",
             "in a cycle with both, the increment overrides the software write's cnt",
             override=_increment_beats_write),
    Mutation("trap_increments", "unit",
             "a trapping xdec.lb increments the counter (trap changes state)",
             override=_trap_increments),
    Mutation("trap_reads_memory", "unit",
             "a trapping xdec.lb still puts its read on the bus (trap changes state)",
             override=_trap_reads_memory),
    Mutation("drop_unanswered", "unit",
             "slot counted free when o.ready is high even without o.valid: a request accepted "
             "while a read is still unanswered overwrites it (response dropped)",
             override=_drop_unanswered),
    Mutation("accept_before_grant", "unit",
             "xdec.lb accepted without waiting for gnt (its read is dropped)",
             override=_accept_before_grant),
    Mutation("rdata_lost", "unit",
             "rdata not captured when o.ready is low (loaded byte dropped under back-pressure)",
             override=_rdata_lost),
    Mutation("duplicate_read", "unit",
             "bus read issued while the slot is busy (the read is issued twice)",
             override=_duplicate_read),
    Mutation("duplicate_response", "unit",
             "o.valid stays high the cycle after a response is taken (response duplicated)",
             override=_duplicate_response),
)}


def mutation(name: str) -> Mutation:
    """Look up a planted bug by name.

    Raises
    ------
    KeyError
        If there is no mutation of that name.
    """
    try:
        return MUTATIONS[name]
    except KeyError:
        raise KeyError(f"no mutation named {name!r}; known: {sorted(MUTATIONS)}") from None


def mutations_for(block: str) -> list[Mutation]:
    """The planted bugs of one proof (block name)."""
    return [mu for mu in MUTATIONS.values() if mu.block == block]

