"""Shapes and signatures shared by the xDecimate hardware units and their testbenches.

* :class:`CsrOp` -- the software operation on the ``xdec`` CSR carried by an issue request.
* :data:`CsrLayout` -- the ``xdec`` CSR as a struct, built from ``xdec_spec.CSR_FIELDS``.
* :class:`XdecRequest`, :class:`XdecResponse` -- issue-side payloads (see ``docs/hw.md``).
* :class:`ObiSignature` -- the OBI 1.x master port of CV32E40P's LSU (``data_*`` signals).

Testbenches pack and unpack port values with these same layouts (:func:`field_slices`).
"""

# No `from __future__ import annotations`: data.Struct reads its annotations as shapes.
from amaranth.hdl import unsigned
from amaranth.lib import data, enum, wiring
from amaranth.lib.wiring import In, Out
from xdecimate.sw.model import xdec_spec as spec

__all__ = [
    "XLEN",
    "CsrLayout",
    "CsrOp",
    "ObiSignature",
    "XdecRequest",
    "XdecResponse",
    "field_slices",
]

#: Data (register) width, from the spec.
XLEN = spec.XLEN


class CsrOp(enum.Enum, shape=3):
    """Software operation on the ``xdec`` CSR carried by an issue request.

    The two low bits of WRITE/SET/CLEAR equal ``funct3[1:0]`` of ``csrrw``/``csrrs``/``csrrc``.
    """

    #: No CSR operation: the request is an ``xdec.lb``.
    NONE = 0
    #: ``csrrw``: CSR <- wdata (reserved bits dropped); returns the old value.
    WRITE = 1
    #: ``csrrs``: CSR <- CSR | wdata; returns the old value.
    SET = 2
    #: ``csrrc``: CSR <- CSR & ~wdata; returns the old value.
    CLEAR = 3
    #: ``csrr`` (``csrrs`` with rs1 = x0): returns the value, writes nothing.
    READ = 4


def _csr_layout() -> data.StructLayout:
    fields = sorted(spec.CSR_FIELDS, key=lambda f: f.lsb)
    members: dict[str, int] = {}
    offset = 0
    for f in fields:
        if f.lsb != offset:
            raise ValueError(f"xdec CSR fields must tile the register, gap before {f.name!r}")
        members[f.name] = unsigned(f.width)
        offset += f.width
    if offset != spec.XLEN:
        raise ValueError(f"xdec CSR fields must cover {spec.XLEN} bits, not {offset!r}")
    return data.StructLayout(members)


#: The ``xdec`` CSR as a struct (``cnt``, ``m_log2``, ``n_log2``, ``p_log2``, ``reserved``).
CsrLayout: data.StructLayout = _csr_layout()


class XdecRequest(data.Struct):
    """Issue-side request: one ``xdec.lb`` (``csr_op == NONE``) or one CSR access.

    For ``xdec.lb rd, rs1, rs2`` the issuer passes the three register values; ``wdata`` is
    ignored.  For a CSR access ``rs1``, ``rs2`` are ignored, ``rd`` is returned unchanged and
    ``wdata`` is the write/set/clear operand.
    """

    csr_op: CsrOp
    rs1: unsigned(XLEN)
    rs2: unsigned(XLEN)
    rd: unsigned(XLEN)
    wdata: unsigned(XLEN)


class XdecResponse(data.Struct):
    """Issue-side response, one per accepted request, in request order.

    ``rd`` is the new value of the destination register (``xdec.lb``: the loaded byte merged into
    the old rd; CSR access or trap: the old rd unchanged).  ``csr`` is the ``xdec`` CSR value
    *before* the request (what ``csrr*`` returns).  ``illegal`` is 1 when ``xdec.lb`` trapped.
    """

    rd: unsigned(XLEN)
    csr: unsigned(XLEN)
    illegal: unsigned(1)


class ObiSignature(wiring.Signature):
    """OBI 1.x master port as used by the CV32E40P LSU (``data_req_o`` ... ``data_rdata_i``).

    Members (master view)
    ---------------------
    req : Out(1)
        Address phase valid; held with ``addr``, ``we``, ``be``, ``wdata`` stable until ``gnt``.
    gnt : In(1)
        Address phase accepted in a cycle where ``req`` and ``gnt`` are both high.
    addr : Out(XLEN)
        Byte address (not word-aligned: the slave ignores ``addr[1:0]`` and uses ``be``).
    we : Out(1)
        Write enable (always 0 here: the unit only reads).
    be : Out(XLEN // 8)
        Byte enables; one-hot for the single byte read.
    wdata : Out(XLEN)
        Write data (always 0 here).
    rvalid : In(1)
        Response valid, one cycle per granted request, at least one cycle after its ``gnt``,
        in order; there is no ``rready`` (the master must always accept it).
    rdata : In(XLEN)
        The aligned word containing the addressed byte, valid with ``rvalid``.
    """

    def __init__(self) -> None:
        super().__init__({
            "req": Out(1),
            "gnt": In(1),
            "addr": Out(XLEN),
            "we": Out(1),
            "be": Out(XLEN // 8),
            "wdata": Out(XLEN),
            "rvalid": In(1),
            "rdata": In(XLEN),
        })


def field_slices(layout: data.Layout) -> dict[str, tuple[int, int]]:
    """``{member: (offset, width)}`` of a struct layout, for packing port values in testbenches."""
    layout = data.Layout.cast(layout)
    return {name: (f.offset, f.width) for name, f in layout}
