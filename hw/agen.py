"""Address generation unit of xDecimate: ``addr = rs1 + offset`` and the byte request fields.

Purely combinational (latency 0): one adder, the byte offset inside the word and a one-hot byte
enable, as the CV32E40P LSU forms them for ``lb``.
"""

from __future__ import annotations

from amaranth.hdl import Const, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .interfaces import XLEN

__all__ = ["XdecAgen"]


class XdecAgen(wiring.Component):
    """Form the byte address of the indirect load (combinational, latency 0).

    Parameters
    ----------
    offset_width : int
        Width of the ``offset`` input (see ``decompress.offset_width``), 1 to XLEN.

    Members
    -------
    base : In(XLEN)
        rs1, the activation base of the row.
    offset : In(offset_width)
        Block offset from the decompress unit.
    addr : Out(XLEN)
        ``(base + offset) mod 2^XLEN``, the byte address put on the bus.
    byte_off : Out(2)
        ``addr mod 4``: which byte of the returned word is the loaded byte.
    be : Out(XLEN // 8)
        One-hot byte enable ``1 << byte_off``.

    Raises
    ------
    TypeError
        If ``offset_width`` is not an int.
    ValueError
        If ``offset_width`` is outside 1..XLEN.
    """

    def __init__(self, *, offset_width: int) -> None:
        if not isinstance(offset_width, int) or isinstance(offset_width, bool):
            raise TypeError(f"offset_width must be an integer, not {offset_width!r}")
        if not 1 <= offset_width <= XLEN:
            raise ValueError(f"offset_width must be in 1..{XLEN}, not {offset_width!r}")
        self._offset_width = offset_width
        super().__init__({
            "base": In(XLEN),
            "offset": In(offset_width),
            "addr": Out(XLEN),
            "byte_off": Out(2),
            "be": Out(XLEN // 8),
        })

    @property
    def offset_width(self) -> int:
        """Width of the ``offset`` input."""
        return self._offset_width

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.d.comb += [
            self.addr.eq(self.base + self.offset),
            self.byte_off.eq(self.addr[:2]),
            self.be.eq(Const(1, XLEN // 8) << self.byte_off),
        ]
        return m
