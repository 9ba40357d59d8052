"""A tiny stand-in for the host core, run through the same whole-core flow as CV32E40P.

``tiny_top`` (SystemVerilog, parameter ``XDEC``) registers ``a ^ b``; with ``XDEC=1`` it
instantiates ``tiny_leaf`` (Verilog, as the Amaranth leaves are), whose ``tiny_leaf.add``
sub-module adds: the same shape as ``cv32e40p_xdec_side`` and its ``csr``/``decompress``.  Every
configuration name builds the same extended source, so after the first one the runs come from
the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from xdecimate.synth import core
from xdecimate.synth.flow import SvSource

TINY_TOP = """\
module tiny_top #(parameter XDEC = 0) (
    input logic clk_i, input logic rst_ni,
    input logic [7:0] a, input logic [7:0] b, output logic [7:0] y);
  logic [7:0] s;
  if (XDEC) begin : gen_xdec
    tiny_leaf leaf_i (.a(a), .b(b), .s(s));
  end else begin : gen_stock
    assign s = a ^ b;
  end
  always_ff @(posedge clk_i or negedge rst_ni)
    if (!rst_ni) y <= '0; else y <= s;
endmodule
"""

TINY_LEAF = """\
module tiny_leaf(a, b, s);
  input [7:0] a; input [7:0] b; output [7:0] s;
  wire [7:0] t;
  \\tiny_leaf.add  add (.a(a), .b(b), .s(t));
  assign s = t ^ b;
endmodule
module \\tiny_leaf.add (a, b, s);
  input [7:0] a; input [7:0] b; output [7:0] s;
  assign s = a + b;
endmodule
"""

#: Parts of the tiny extension, as CV32E40P_PARTS: the sub-module, then the leaf's own logic.
TINY_PARTS = (("add", "tiny_leaf.add"), ("leaf_glue", "tiny_leaf"))


def tiny_design(folder: Path) -> core.CoreDesign:
    """Write the two files into ``folder`` and describe the tiny core."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny_top.sv").write_text(TINY_TOP)
    (folder / "tiny_leaf.v").write_text(TINY_LEAF)
    return core.CoreDesign(
        name="tiny core", top="tiny_top", clock_port="clk_i",
        stock=lambda: SvSource(top="tiny_top", files=(folder / "tiny_top.sv",)),
        extended=lambda _cfg: SvSource(top="tiny_top",
                                       files=(folder / "tiny_top.sv", folder / "tiny_leaf.v"),
                                       parameters=(("XDEC", 1),),
                                       extra=(("patch", "tiny patch"),)),
        off=lambda: SvSource(top="tiny_top", files=(folder / "tiny_top.sv", folder / "tiny_leaf.v"),
                             parameters=(("XDEC", 0),), extra=(("patch", "tiny patch"),)),
        parts=TINY_PARTS, parameters=(("XDEC", 0),), reset_port="rst_ni")


@pytest.fixture(scope="session")
def tiny_host(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, Any]]:
    """A host-core provider (``xdecimate.synth.area.HOST_CORE_PROVIDER``) on the tiny core,
    with its own cache for the session."""
    root = tmp_path_factory.mktemp("tiny_core")
    design = tiny_design(root / "src")

    def tiny_host_core(names: list[str], **kw: Any) -> dict[str, Any]:
        return core.host_core(names, design=design, cache=root / "cache", **kw)

    return tiny_host_core


@pytest.fixture(scope="session")
def tiny_kit() -> SimpleNamespace:
    """The tiny core's texts, parts and :func:`tiny_design`, for tests that build their own."""
    return SimpleNamespace(top=TINY_TOP, leaf=TINY_LEAF, parts=TINY_PARTS, design=tiny_design)
