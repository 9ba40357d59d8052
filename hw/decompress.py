"""Index decompress unit of xDecimate: packed index field select and block offset.

Purely combinational.  From the ``xdec`` CSR (counter and configuration) and rs2 (the packed
indices of one group of four non-zeros) it forms, as in ``xdec_ref.xdec_access``::

    lane   = (cnt div P) mod 4              # streams interleave lane by lane
    j      = 4·(cnt div 4P) + lane
    idx    = ((rs2 >> (b·lane)) mod 2^b) mod M,   b = INDEX_BITS[M]
    offset = (j div N)·M + idx

and flags ``illegal`` when the CSR holds an M, N or P the configuration does not implement
(which includes every value the spec forbids).  Shifts by log2 M, N, P are muxes over the
implemented values only, so a smaller configuration is a smaller circuit.  Since ``idx < M`` and
``(j div N)·M`` is a multiple of M, the offset is formed by concatenation, without an adder.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from xdecimate.sw.model import xdec_spec as spec

from .configs import XdecHwConfig
from .interfaces import XLEN, CsrLayout

__all__ = ["XdecDecompress", "offset_width"]

_CNT_WIDTH = spec.field("cnt").width


def offset_width(config: XdecHwConfig) -> int:
    """Bits of the largest offset ``(j div N)·M + idx`` the configuration can form."""
    max_j = (1 << _CNT_WIDTH) - 1
    return (max_j * max(config.m) + max(config.m) - 1).bit_length()


class XdecDecompress(wiring.Component):
    """Select the packed index field and form the block offset (combinational, latency 0).

    Parameters
    ----------
    config : XdecHwConfig
        The M, N, P values implemented; any other CSR value makes ``illegal`` high.

    Members
    -------
    state : In(CsrLayout)
        Current ``xdec`` CSR (counter and configuration fields).
    rs2 : In(XLEN)
        Packed index fields of the current group (field for lane l at bits [b·l, b·l + b)).
    lane : Out(2)
        Destination byte lane and index field, ``(cnt div P) mod 4``.
    idx : Out(max log2 M)
        Selected index field, ``mod M``.
    offset : Out(:func:`offset_width`)
        ``(j div N)·M + idx``, the byte offset from rs1.
    illegal : Out(1)
        The CSR configuration is not implemented: the instruction must trap.

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
            "state": In(CsrLayout),
            "rs2": In(XLEN),
            "lane": Out(2),
            "idx": Out(max(config.m_log2)),
            "offset": Out(offset_width(config)),
            "illegal": Out(1),
        })

    @property
    def config(self) -> XdecHwConfig:
        """The implemented configuration."""
        return self._config

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self._config
        cnt = self.state.cnt

        # lane = (cnt div P) mod 4; g = cnt div 4P; j = 4g + lane
        group = Signal(_CNT_WIDTH - 2)
        bad_p = Signal()
        with m.Switch(self.state.p_log2):
            for p_log2 in cfg.p_log2:
                with m.Case(p_log2):
                    m.d.comb += [
                        self.lane.eq(cnt[p_log2:p_log2 + 2]),
                        group.eq(cnt >> (2 + p_log2)),
                    ]
            with m.Default():
                m.d.comb += bad_p.eq(1)
        j = Signal(_CNT_WIDTH)
        m.d.comb += j.eq((group << 2) | self.lane)

        # block = j div N
        block = Signal(_CNT_WIDTH)
        bad_n = Signal()
        with m.Switch(self.state.n_log2):
            for n_log2 in cfg.n_log2:
                with m.Case(n_log2):
                    m.d.comb += block.eq(j >> n_log2)
            with m.Default():
                m.d.comb += bad_n.eq(1)

        # idx = field `lane` of rs2 (b bits) mod M; offset = block·M + idx = {block, idx}
        bad_m = Signal()
        with m.Switch(self.state.m_log2):
            for m_log2 in cfg.m_log2:
                bits = spec.INDEX_BITS[1 << m_log2]
                field = self.rs2.word_select(self.lane, bits)
                with m.Case(m_log2):
                    m.d.comb += [
                        self.idx.eq(field[:m_log2]),
                        self.offset.eq(Cat(field[:m_log2], block)),
                    ]
            with m.Default():
                m.d.comb += bad_m.eq(1)

        m.d.comb += self.illegal.eq(bad_m | bad_n | bad_p | self.state.reserved.any())
        return m
