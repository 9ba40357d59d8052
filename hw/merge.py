"""Byte select and lane merge unit of xDecimate.

Purely combinational (latency 0): picks byte ``byte_off`` of the word returned by the memory and
writes it into byte lane ``lane`` of the old rd, keeping the other three lanes.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .interfaces import XLEN

__all__ = ["XdecMerge"]

_LANES = XLEN // 8


class XdecMerge(wiring.Component):
    """Select the loaded byte and merge it into the old rd (combinational, latency 0).

    Members
    -------
    word : In(XLEN)
        ``rdata`` from the bus: the aligned word holding the byte.
    byte_off : In(2)
        Address bits [1:0] of the load.
    lane : In(2)
        Destination byte lane (``(cnt div P) mod 4``).
    old : In(XLEN)
        Old value of rd.
    result : Out(XLEN)
        ``old`` with ``result[8·lane +: 8] = word[8·byte_off +: 8]``.
    """

    def __init__(self) -> None:
        super().__init__({
            "word": In(XLEN),
            "byte_off": In(2),
            "lane": In(2),
            "old": In(XLEN),
            "result": Out(XLEN),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        byte = Signal(8)
        m.d.comb += byte.eq(self.word.word_select(self.byte_off, 8))
        for lane in range(_LANES):
            m.d.comb += self.result[8 * lane:8 * lane + 8].eq(
                Mux(self.lane == lane, byte, self.old[8 * lane:8 * lane + 8]))
        return m
