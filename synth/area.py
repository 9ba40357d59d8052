"""Area and timing of the xDecimate unit, per named configuration: the data behind
``xdecimate area``, the report section and the area-budget regression test.

For each configuration of :data:`xdecimate.hw.configs.CONFIGS` :func:`measure` runs

1. a **flat** synthesis onto the GE library ``synth/xdec_ge.lib`` -- the headline GE figure;
2. a **per-block** synthesis onto the same library with the sub-blocks ``decompress``, ``agen``,
   ``merge``, ``csr`` kept as separate modules (no optimisation across their boundaries; the
   top's own logic is the ``glue``);
3. a flat synthesis onto the OSU 0.18 um cells (area in um^2 and in NAND2X1 equivalents);
4. static timing of that netlist with OpenSTA (critical path, Fmax).

The host core -- the whole CV32E40P, stock and extended for each configuration, same flow --
comes from the provider named by :data:`HOST_CORE_PROVIDER` (:func:`xdecimate.synth.core.
host_core`, cached: minutes cold, seconds warm); it fills in the overhead row.

:func:`run_area` assembles the JSON document described in ``docs/area.md`` (schema version
:data:`SCHEMA_VERSION`) and :func:`render_markdown` its markdown; :func:`check_budget` compares it
with ``synth/area_budget.json``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xdecimate.synth import flow, sta
from xdecimate.synth.flow import GE_LIBERTY, OSU018_LIBERTY, SynthSource

__all__ = [
    "BUDGET_PATH",
    "DISCLAIMER",
    "HOST_CORE_PROVIDER",
    "LITERATURE",
    "SCHEMA_VERSION",
    "UNIT_BLOCKS",
    "AreaTarget",
    "BudgetCheck",
    "HostProvider",
    "check_budget",
    "host_core_provider",
    "load_budget",
    "measure",
    "render_markdown",
    "run_area",
    "unit_targets",
    "write_budget",
]

#: Version of the JSON document; bumped on any change a script could notice.
SCHEMA_VERSION = 1

#: Sub-block instance names of ``XdecUnit`` reported separately.
UNIT_BLOCKS: tuple[str, ...] = ("decompress", "agen", "merge", "csr")

#: A host-core provider: ``(names, *, out, timing, log) -> host_core JSON``.
HostProvider = Callable[..., dict[str, Any]]

#: Where the host core is found: ``"module:function"``; the function is called as
#: ``f(names, out=..., timing=..., log=...)`` and returns the ``host_core`` part of the JSON
#: document (see :func:`xdecimate.synth.core.host_core`).  While the module does not exist the
#: report says "host core: not yet available" and the overhead stays ``null``.
HOST_CORE_PROVIDER: str | HostProvider = "xdecimate.synth.core:host_core"

#: The committed area budget (see :func:`check_budget`).
BUDGET_PATH = Path(__file__).with_name("area_budget.json")

DISCLAIMER = (
    "Gate equivalents (GE) here come from an open flow (Yosys + ABC) mapped onto a small "
    "hand-written liberty whose areas are normalised to NAND2 = 1 GE (synth/xdec_ge.lib). "
    "There is no placement, routing, clock tree, scan, sizing or timing-driven optimisation: "
    "use the figures as relative ones (configuration against configuration, unit against a "
    "host core mapped by the same flow), not as tape-out area. The OSU 0.18 um figures use "
    "real cells of an academic library (ABC buffering and sizing) at its typical corner "
    "without wire load or placement: a sanity check of the GE figures and a logic-depth "
    "estimate of timing, not sign-off.")

#: Figures from the literature, for context only: other flows, libraries and designs.
LITERATURE: tuple[dict[str, Any], ...] = (
    {"design": "xDecimate (paper)", "figure": "5% of an RI5CY core without FPU",
     "kge": None, "source": "Daghero et al., MLSys 2025 (arXiv 2503.06183); "
                            "no absolute area, no timing impact given"},
    {"design": "Ibex 'micro' (RV32EC)", "figure": "17.44 kGE", "kge": 17.44,
     "source": "lowRISC Ibex README, 'Area - Yosys (kGE)'"},
    {"design": "Ibex 'small' (RV32IMC)", "figure": "26.06 kGE", "kge": 26.06,
     "source": "lowRISC Ibex README, 'Area - Yosys (kGE)'"},
    {"design": "SERV (bit-serial RV32I)", "figure": "2.1 kGE", "kge": 2.1,
     "source": "SERV documentation"},
)

_BLOCK_METHOD = ("hierarchical run: each sub-block kept as its own module (flattened inside), "
                 "no optimisation across block boundaries; glue = logic of the top module")


@dataclass(frozen=True)
class AreaTarget:
    """Something to measure: a name, a Verilog top name and how to build its source.

    ``blocks`` are the child instance names reported separately (empty: flat figures only).
    """

    name: str
    top: str
    doc: str
    build: Callable[[], object]
    blocks: tuple[str, ...] = ()

    def source(self) -> SynthSource:
        """Elaborate and convert to RTLIL."""
        built = self.build()
        if isinstance(built, SynthSource):
            return built
        return flow.source_from_component(built, self.top)


def unit_targets(names: Sequence[str] | None = None) -> dict[str, AreaTarget]:
    """Targets for the named configurations of ``XdecUnit`` (default: all, in table order).

    Raises
    ------
    ValueError
        If a name is not a configuration (message lists the valid names).
    """
    from xdecimate.hw.configs import CONFIGS, config
    from xdecimate.hw.export import top_name
    from xdecimate.hw.xdec_unit import XdecUnit

    cfgs = [config(n) for n in names] if names is not None else list(CONFIGS.values())
    return {
        cfg.name: AreaTarget(
            name=cfg.name, top=top_name(cfg),
            doc=f"M={_set(cfg.m)} N={_set(cfg.n)} P={_set(cfg.p)}: {cfg.doc}",
            build=lambda cfg=cfg: XdecUnit(config=cfg), blocks=UNIT_BLOCKS)
        for cfg in cfgs
    }


def _set(values: tuple[int, ...]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def host_core_provider(provider: str | HostProvider | None = None) -> HostProvider | None:
    """The host-core provider named by ``provider`` (default :data:`HOST_CORE_PROVIDER`; a
    callable is returned as it is), or ``None`` while its module does not exist.

    Raises
    ------
    ValueError
        If ``provider`` is not ``"module:function"``.
    AttributeError
        If the module exists but has no such function (a wiring mistake, not "not yet").
    """
    provider = provider or HOST_CORE_PROVIDER
    if callable(provider):
        return provider
    module, sep, func = provider.partition(":")
    if not sep or not module or not func:
        raise ValueError(f"host core provider must be 'module:function', not {provider!r}")
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        return None
    return getattr(importlib.import_module(module), func)


def _r(x: float, nd: int = 2) -> float:
    return round(float(x), nd)


def _path_json(p: sta.TimingPath | None) -> dict[str, Any] | None:
    return None if p is None else p.as_json()


def measure(target: AreaTarget, workdir: Path, *, blocks: bool = True,
            timing: bool = True) -> dict[str, Any]:
    """Run the flow on ``target`` in ``workdir``; return its ``configs.<name>`` JSON entry.

    ``blocks=False`` skips the per-block run, ``timing=False`` the OSU 0.18 um mapping and STA
    (their JSON entries are then ``null``).

    Raises
    ------
    SynthError
        If any run fails or stops early.
    """
    t0 = time.perf_counter()
    source = target.source()
    ge = flow.synthesize(source, GE_LIBERTY, workdir / "ge_flat")
    entry: dict[str, Any] = {
        "top": target.top,
        "doc": target.doc,
        "ge": {"total": _r(ge.area), "sequential": _r(ge.sequential),
               "combinational": _r(ge.combinational), "cells": ge.cells},
        "blocks": None,
        "osu018": None,
        "timing": None,
    }
    if blocks and target.blocks:
        hier = flow.synthesize(source, GE_LIBERTY, workdir / "ge_blocks", keep=target.blocks)
        assert hier.glue is not None
        entry["blocks"] = {
            "method": _BLOCK_METHOD,
            "total": _r(hier.area),
            "glue": {"ge": _r(hier.glue.area), "sequential": _r(hier.glue.sequential)},
            "by_block": {name: {"ge": _r(b.area), "sequential": _r(b.sequential),
                                "share": _r(b.area / hier.area, 4), "cells": b.cells}
                         for name, b in hier.blocks.items()},
        }
    if timing:
        osu = flow.synthesize(source, OSU018_LIBERTY, workdir / "osu018", netlist=True)
        entry["osu018"] = {"area_um2": _r(osu.area), "sequential_um2": _r(osu.sequential),
                           "ge": _r(osu.ge), "cells": osu.cells}
        tim = sta.run_sta(osu.netlist, source.top, OSU018_LIBERTY, workdir / "sta")
        entry["timing"] = {
            "library": OSU018_LIBERTY.name,
            "fmax_mhz": _r(tim.fmax_mhz, 1),
            "min_period_ns": _r(tim.worst.min_period_ns, 4),
            "critical_path": _path_json(tim.worst),
            "groups": {g: _path_json(p) for g, p in tim.groups.items()},
        }
    entry["seconds"] = _r(time.perf_counter() - t0, 1)
    return entry


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _library_json(lib: flow.Liberty) -> dict[str, Any]:
    return {"file": str(lib.path), "sha256": _sha256(lib.path), "area_unit": lib.area_unit,
            "nand2_cell": lib.nand2_cell, "nand2_area": lib.nand2_area}


def run_area(names: Sequence[str] | None = None, *, out: Path, timing: bool = True,
             core: bool = True, host_provider: str | HostProvider | None = None,
             log: Callable[[str], None] = lambda _msg: None) -> dict[str, Any]:
    """Measure the named configurations (default: all) and the host core, if any.

    Writes ``out/area.json`` and ``out/area.md`` and keeps each run's files under
    ``out/<config>/`` (the host core's timing runs under ``out/host_core/``; its syntheses
    live in the cache, see :mod:`xdecimate.synth.core`).  ``core=False`` skips the host core.
    Returns the JSON document.
    """
    import amaranth
    from xdecimate.hw.configs import DEFAULT_CONFIG

    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    warm = flow.warm_up()
    targets = unit_targets(names)
    configs: dict[str, Any] = {}
    for name, target in targets.items():
        log(f"area: {name} ({target.top}) ...")
        configs[name] = measure(target, out / name, timing=timing)
        log(f"area: {name}: {configs[name]['ge']['total']:.1f} GE "
            f"in {configs[name]['seconds']:.1f} s")

    provider = host_provider or HOST_CORE_PROVIDER
    label = provider if isinstance(provider, str) else (
        f"{provider.__module__}:{provider.__qualname__}")
    host = host_core_provider(provider) if core else None
    host_json: dict[str, Any] = {"available": False, "provider": label,
                                 "reason": "not yet available" if core else "skipped",
                                 "top": None, "ge": None, "osu018_um2": None}
    if host is not None:
        log("area: host core (cached syntheses are reused) ...")
        host_json = {"provider": label, "reason": None,
                     **host(list(targets), out=out / "host_core", timing=timing, log=log)}
    for entry in configs.values():
        host_ge = host_json["ge"]
        entry["overhead"] = {
            "host_core_ge": host_ge,
            "percent": _r(100.0 * entry["ge"]["total"] / host_ge, 2) if host_ge else None,
            "definition": "unit GE (flat) / host core GE (flat, without the unit), same flow",
        }

    budget = load_budget()
    checks = {c.name: c for c in check_budget(configs, budget, require_all=False)}
    for name, entry in configs.items():
        c = checks[name]
        entry["budget"] = {"ge": c.budget, "ratio": None if c.ratio is None else _r(c.ratio, 4),
                           "status": c.status}

    tools = {"yosys": flow.yosys_version(), "amaranth": amaranth.__version__,
             "python": platform.python_version()}
    if timing:
        tools["opensta"] = sta.sta_version()
    doc: dict[str, Any] = {
        "schema": "xdecimate.area",
        "schema_version": SCHEMA_VERSION,
        "disclaimer": DISCLAIMER,
        "tools": tools,
        "libraries": {lib.name: _library_json(lib)
                      for lib in ((GE_LIBERTY, OSU018_LIBERTY) if timing else (GE_LIBERTY,))},
        "constraints": {
            "clock_port": "clk", "reference_period_ns": sta.REF_PERIOD_NS,
            "input_delay_ns": sta.IO_DELAY_NS, "output_delay_ns": sta.IO_DELAY_NS,
            "driving_cell": "/".join(sta.DRIVING_CELL), "output_load_pf": sta.OUTPUT_LOAD_PF,
            "wire_load": None, "corner": "typical (1.8 V, 25 C)",
        } if timing else None,
        "default_config": DEFAULT_CONFIG,
        "budget": {"file": "synth/area_budget.json", "grow_margin": budget["grow_margin"],
                   "shrink_margin": budget["shrink_margin"]},
        "configs": configs,
        "host_core": host_json,
        "literature": list(LITERATURE),
        "run": {"seconds": _r(time.perf_counter() - t0, 1), "yosys_first_call_s": _r(warm, 1)},
    }
    (out / "area.json").write_text(json.dumps(doc, indent=2) + "\n")
    (out / "area.md").write_text(render_markdown(doc))
    log(f"area: wrote {out / 'area.json'} and {out / 'area.md'}")
    return doc


# --------------------------------------------------------------------------------------------
# Budget
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BudgetCheck:
    """Outcome of one configuration against the budget.

    ``status`` is ``"ok"``, ``"grew"`` (more than ``grow_margin`` above budget), ``"shrank"``
    (more than ``shrink_margin`` below: update the budget to lock the gain in), ``"missing"``
    (no budget entry) or ``"stale"`` (budget entry for a configuration not measured although
    all were required).
    """

    name: str
    measured: float | None
    budget: float | None
    ratio: float | None
    status: str
    message: str

    @property
    def ok(self) -> bool:
        """True if the status is ``"ok"``."""
        return self.status == "ok"


def load_budget(path: Path = BUDGET_PATH) -> dict[str, Any]:
    """Read and validate the budget file.

    Raises
    ------
    ValueError
        If the file's schema version, margins or entries are not as documented.
    """
    data = json.loads(path.read_text())
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path}: schema_version must be {SCHEMA_VERSION}, "
                         f"not {data.get('schema_version')!r}")
    for key in ("grow_margin", "shrink_margin"):
        value = data.get(key)
        if not isinstance(value, int | float) or not 0 < value < 1:
            raise ValueError(f"{path}: {key} must be a fraction in (0, 1), not {value!r}")
    if data.get("metric") != "configs.<name>.ge.total":
        raise ValueError(f"{path}: metric must be 'configs.<name>.ge.total', "
                         f"not {data.get('metric')!r}")
    ge = data.get("ge")
    if not isinstance(ge, dict) or not all(isinstance(v, int | float) and v > 0
                                            for v in ge.values()):
        raise ValueError(f"{path}: ge must map configuration names to positive GE, not {ge!r}")
    return data


def check_budget(configs: dict[str, Any], budget: dict[str, Any], *,
                 require_all: bool = True) -> list[BudgetCheck]:
    """Compare measured ``configs`` (``configs`` part of the JSON) with ``budget``.

    With ``require_all``, a budget entry for a configuration not in ``configs`` is ``"stale"``.
    """
    grow, shrink = float(budget["grow_margin"]), float(budget["shrink_margin"])
    checks: list[BudgetCheck] = []
    for name, entry in configs.items():
        measured = float(entry["ge"]["total"])
        ref = budget["ge"].get(name)
        if ref is None:
            checks.append(BudgetCheck(name, measured, None, None, "missing",
                                      f"{name}: {measured:.1f} GE has no budget entry in "
                                      "synth/area_budget.json; add one "
                                      "(xdecimate area --update-budget)"))
            continue
        ratio = measured / ref
        if ratio > 1 + grow:
            status = "grew"
            msg = (f"{name}: {measured:.1f} GE is {100 * (ratio - 1):.1f}% above its budget "
                   f"{ref:.1f} GE (margin {100 * grow:.0f}%); shrink the design or update "
                   "synth/area_budget.json deliberately (xdecimate area --update-budget)")
        elif ratio < 1 - shrink:
            status = "shrank"
            msg = (f"{name}: {measured:.1f} GE is {100 * (1 - ratio):.1f}% below its budget "
                   f"{ref:.1f} GE (margin {100 * shrink:.0f}%); lock the gain in by updating "
                   "synth/area_budget.json (xdecimate area --update-budget)")
        else:
            status = "ok"
            msg = f"{name}: {measured:.1f} GE, budget {ref:.1f} GE ({100 * (ratio - 1):+.1f}%)"
        checks.append(BudgetCheck(name, measured, ref, ratio, status, msg))
    if require_all:
        checks.extend(BudgetCheck(name, None, float(budget["ge"][name]), None, "stale",
                                  f"{name}: budget entry for a configuration that was "
                                  "not measured (removed?)")
                      for name in sorted(set(budget["ge"]) - set(configs)))
    return checks


def write_budget(configs: dict[str, Any], path: Path = BUDGET_PATH) -> dict[str, Any]:
    """Set the budget of each measured configuration to its measured GE; keep the others."""
    data = load_budget(path)
    data["ge"] = {**data["ge"], **{n: e["ge"]["total"] for n, e in configs.items()}}
    data["ge"] = dict(sorted(data["ge"].items()))
    path.write_text(json.dumps(data, indent=2) + "\n")
    return data


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------

_TOOL_NAMES = {"yosys": "Yosys", "amaranth": "Amaranth", "python": "Python",
               "opensta": "OpenSTA"}


def _fmt(x: float | None, nd: int = 1) -> str:
    return "–" if x is None else f"{x:,.{nd}f}"


def render_markdown(doc: dict[str, Any], *, heading: str = "#") -> str:
    """Markdown for a JSON document of :func:`run_area` (``heading`` sets the top level)."""
    h2 = heading + "#"
    configs = doc["configs"]
    lines = [f"{heading} Area and timing of the xDecimate unit", "",
             f"> {doc['disclaimer']}", "",
             "Tools: " + ", ".join(f"{_TOOL_NAMES.get(k, k)} {v}"
                                   for k, v in doc["tools"].items()) + ". "
             f"Default configuration: `{doc['default_config']}`.", "",
             f"{h2} Gate equivalents (flat synthesis, xdec_ge.lib, NAND2 = 1 GE)", "",
             "| Configuration | What | GE | sequential | combinational | budget | status |",
             "|---|---|---:|---:|---:|---:|---|"]
    for name, e in configs.items():
        b = e.get("budget") or {}
        lines.append(f"| `{name}` | {e['doc']} | {_fmt(e['ge']['total'])} | "
                     f"{_fmt(e['ge']['sequential'])} | {_fmt(e['ge']['combinational'])} | "
                     f"{_fmt(b.get('ge'))} | {b.get('status', '–')} |")
    with_blocks = {n: e for n, e in configs.items() if e["blocks"]}
    if with_blocks:
        names = list(next(iter(with_blocks.values()))["blocks"]["by_block"])
        lines += ["", f"{h2} Per sub-block (GE)", "",
                  f"Method: {next(iter(with_blocks.values()))['blocks']['method']}. "
                  "The total of this run differs from the flat total above by what "
                  "cross-boundary optimisation gains or loses.", "",
                  "| Configuration | " + " | ".join(f"`{n}`" for n in names)
                  + " | glue | total (per-block run) | flat |",
                  "|---|" + "---:|" * (len(names) + 3)]
        for name, e in with_blocks.items():
            bb = e["blocks"]["by_block"]
            lines.append(f"| `{name}` | " + " | ".join(
                f"{_fmt(bb[n]['ge'])} ({100 * bb[n]['share']:.0f}%)" for n in names)
                + f" | {_fmt(e['blocks']['glue']['ge'])} | {_fmt(e['blocks']['total'])} | "
                f"{_fmt(e['ge']['total'])} |")
    timed = {n: e for n, e in configs.items() if e["osu018"]}
    if timed:
        c = doc["constraints"]
        lines += ["", f"{h2} OSU 0.18 um standard cells: area and static timing", "",
                  "Area in um^2 and in NAND2X1 equivalents (NAND2X1 = "
                  f"{doc['libraries']['osu018']['nand2_area']:g} um^2). Timing: OpenSTA, "
                  f"{c['corner']}, ideal clock on `{c['clock_port']}`, input/output delay "
                  f"{c['input_delay_ns']:g} ns (ports are register boundaries of the host "
                  f"pipeline), inputs driven by {c['driving_cell']}, outputs loaded with "
                  f"{c['output_load_pf']:g} pF, no wire load. Fmax = 1 / (reference period "
                  "- worst slack).", "",
                  "| Configuration | um^2 | GE | Fmax (MHz) | critical path | levels |",
                  "|---|---:|---:|---:|---|---:|"]
        for name, e in timed.items():
            cp = e["timing"]["critical_path"]
            lines.append(f"| `{name}` | {_fmt(e['osu018']['area_um2'], 0)} | "
                         f"{_fmt(e['osu018']['ge'])} | {_fmt(e['timing']['fmax_mhz'])} | "
                         f"{cp['group']}: `{cp['startpoint']}` → `{cp['endpoint']}` "
                         f"({cp['arrival_ns']:.2f} ns) | {cp['levels']} |")
        lines += ["", "Worst path per group (minimum period in ns; in2out paths add to "
                  "the host stage they sit in):", "",
                  "| Configuration | reg2reg | in2reg | reg2out | in2out |",
                  "|---|---|---|---|---|"]
        for name, e in timed.items():
            cells = []
            for g in sta.GROUPS:
                p = e["timing"]["groups"][g]
                cells.append("none" if p is None else
                             f"{p['min_period_ns']:.2f} (`{p['startpoint']}` → "
                             f"`{p['endpoint']}`)")
            lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += _render_host(doc["host_core"], configs, h2)
    lines += ["", f"{h2} Literature, for context only (other flows and libraries)", "",
              "| Design | Figure | Source |", "|---|---|---|"]
    lines += [f"| {x['design']} | {x['figure']} | {x['source']} |" for x in doc["literature"]]
    lines += ["", f"Run time {doc['run']['seconds']:.1f} s (first Yosys call of this process "
              f"{doc['run']['yosys_first_call_s']:.1f} s).", ""]
    return "\n".join(lines)


_PART_NAMES = {"decompress": "decompress", "csr": "CSR", "side_glue": "side glue",
               "merge": "merge", "core_side": "core-side changes"}


def _path_text(cp: dict[str, Any] | None) -> str:
    if cp is None:
        return "–"
    return (f"{cp['group']}: `{cp['startpoint']}` → `{cp['endpoint']}` "
            f"({cp['arrival_ns']:.2f} ns, {cp['levels']} levels)")


def _render_host(host: dict[str, Any], configs: dict[str, Any], h2: str) -> list[str]:
    """Markdown of the ``host_core`` part: both cores, the overhead row, parts, targets."""
    lines = ["", f"{h2} Overhead on the host core", ""]
    if not host["available"]:
        if host["reason"] == "skipped":
            return [*lines, "host core: skipped in this run (`--no-core`); the overhead row "
                    "needs the whole-core synthesis."]
        return [*lines, f"host core: not yet available (looked for `{host['provider']}`); the "
                "overhead row fills in automatically once it exists."]
    params = ", ".join(f"{k}={v}" for k, v in host["parameters"].items())
    stock, cores = host["stock"], host["configs"]
    lines += [f"The whole core `{host['top']}` ({host['core']}, {params}) synthesized with the "
              "same flow, libraries and constraints as the unit: the stock core (the package's "
              "RTL) and, per configuration, the patched core with the extension enabled "
              f"(`hw/cv32e40p/xdecimate.patch`). The {host['clock_gate']}. GE below from a flat "
              "run onto xdec_ge.lib; µm² and Fmax from a flat run onto OSU 0.18 µm and OpenSTA "
              f"(clock `{stock['timing']['clock_port'] if stock['timing'] else '–'}`; the "
              "reset, like the clock, is an ideal net: its tree is not built here, and the "
              "asynchronous reset's recovery checks are not timed).", "",
              "| Core | GE | of which flip-flops | µm² | Fmax (MHz) | critical path |",
              "|---|---:|---:|---:|---:|---|"]

    def row(label: str, e: dict[str, Any]) -> str:
        osu, tim = e["osu018"], e["timing"]
        return (f"| {label} | {_fmt(e['ge']['total'])} | {_fmt(e['ge']['sequential'])} | "
                f"{_fmt(osu and osu['area_um2'], 0)} | {_fmt(tim and tim['fmax_mhz'])} | "
                f"{_path_text(tim and tim['critical_path'])} |")

    lines.append(row("stock", stock))
    off = host.get("off")
    if off:
        lines.append(row("patched, extension off", off))
    lines += [row(f"with xDecimate `{n}`", e) for n, e in cores.items()]
    t = host["targets"]
    lines += ["", f"**Overhead row** (extended core − stock core; targets: ≤ "
              f"{t['max_overhead_pct']:g} % of the core, ≤ {t['max_overhead_ge']:,.0f} GE, "
              "no Fmax loss). *xDecimate GE* is the sum of the parts below, from hierarchical "
              "runs of both cores (every module kept and compared with the same module of the "
              "stock core); *flat* compares the flat runs, where ABC re-optimises the whole "
              "core and lands elsewhere for any change (see the noise floor):", "",
              "| Configuration | xDecimate GE | % of core | flat GE | flat % | µm² (flat) | "
              "µm² % | Fmax change (MHz) | Fmax change | targets |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]

    def over(label: str, e: dict[str, Any], targets: str) -> str:
        return (f"| {label} | {_fmt(e['overhead_ge'])} | {_fmt(e['overhead_pct'], 2)} % | "
                f"{_fmt(e['overhead_flat_ge'])} | {_fmt(e['overhead_flat_pct'], 2)} % | "
                f"{_fmt(e['overhead_um2'], 0)} | {_fmt(e['overhead_um2_pct'], 2)} % | "
                f"{_fmt(e['fmax_change_mhz'])} | {_fmt(e['fmax_change_pct'], 2)} % | "
                f"{targets} |")

    lines += [over(f"`{name}`", e, _targets_text(e, t)) for name, e in cores.items()]
    if off:
        lines += [over("noise floor: extension off", off, "–"), "",
                  "The noise floor is the patched core with `COREV_XDEC=0` against the stock "
                  "core: the same logic after elaboration, so its differences are what the flow "
                  "(Yosys/ABC on a different netlist) moves by itself. Overhead figures of that "
                  "order are not measured differences."]
    with_parts = {n: e for n, e in cores.items() if e["parts"] and "by_part" in e["parts"]}
    if with_parts:
        first = next(iter(with_parts.values()))["parts"]
        names = list(first["by_part"])
        lines += ["", f"Where the area goes (GE; {first['method']}; in brackets the flip-flop "
                  "GE):", "",
                  "| Configuration | " + " | ".join(_PART_NAMES.get(n, n) for n in names)
                  + " | xDecimate GE | untouched modules: change (noise) | unchanged modules |",
                  "|---|" + "---:|" * (len(names) + 3)]
        for name, e in with_parts.items():
            bp = e["parts"]["by_part"]
            lines.append(f"| `{name}` | " + " | ".join(
                f"{_fmt(bp[n]['ge'])} ({_fmt(bp[n]['sequential'])})" for n in names)
                + f" | {_fmt(e['overhead_ge'])} | {e['parts']['untouched_delta_ge']:+,.1f} "
                f"({len(e['parts']['untouched_by_module'])} modules) | "
                f"{e['parts']['unchanged_modules']} |")
        touched = host.get("touched_modules")
        lines += ["", "Core-side changes by module (GE against the same instance of the stock "
                  "core; flip-flop GE in brackets)"
                  + (": the modules the patch touches, "
                     + ", ".join(f"`{m}`" for m in touched) if touched else "") + ".", "",
                  "| Configuration | module (instance) | stock | extended | change |",
                  "|---|---|---:|---:|---:|"]
        for name, e in with_parts.items():
            for inst, c in e["parts"]["core_side_by_module"].items():
                lines.append(f"| `{name}` | `{c['module']}` ({inst}) | "
                             f"{_fmt(c['stock_ge'])} | {_fmt(c['ge'])} | "
                             f"{c['delta_ge']:+,.1f} ({c['delta_sequential']:+,.1f}) |")
    lines += ["", *_target_notes(stock, cores, t, off)]
    unit = [f"`{n}` {_fmt(c['overhead']['percent'], 2)} %" for n, c in configs.items()
            if c["overhead"]["percent"] is not None]
    if unit:
        lines += ["", "For comparison, the stand-alone unit (`XdecUnit`, tables above; it also "
                  "has the address generator the core's own adder replaces) is "
                  + ", ".join(unit) + " of the stock core."]
    r = host["run"]
    lines += ["", f"Core syntheses: {r['syntheses']} runs, {r['cached']} from the cache "
              f"(`{host['cache']}`), {r['synthesis_s']:,.0f} s of Yosys in this run; the host "
              f"core took {r['seconds']:,.0f} s in all."]
    return lines


def _targets_text(e: dict[str, Any], t: dict[str, Any]) -> str:
    met = e["targets_met"]
    out = []
    for key, ok, miss in (
            ("%", met["overhead_pct"], f"{e['overhead_pct'] - t['max_overhead_pct']:.3f} pp"),
            ("GE", met["overhead_ge"], f"{e['overhead_ge'] - t['max_overhead_ge']:,.0f} GE"),
            ("Fmax", met["fmax_change_pct"],
             f"{t['min_fmax_change_pct'] - (e['fmax_change_pct'] or 0):.2f} %")):
        if ok is None:
            out.append(f"{key}: –")
        else:
            out.append(f"{key}: met" if ok else f"{key}: missed by {miss}")
    return "; ".join(out)


def _target_notes(stock: dict[str, Any], cores: dict[str, Any], t: dict[str, Any],
                  off: dict[str, Any] | None = None) -> list[str]:
    """One sentence per configuration that misses a target: by how much, which part, how to
    win it back (:data:`xdecimate.synth.core.PROPOSALS`), and how that compares with the
    flow's noise (the untouched modules' change, the extension-off core)."""
    from xdecimate.synth.core import PROPOSALS

    notes = []
    noise_ge = max((abs(e["parts"]["untouched_delta_ge"]) for e in cores.values()
                    if e["parts"] and "untouched_delta_ge" in e["parts"]), default=None)
    noise_f = abs(off["fmax_change_pct"]) if off and off["fmax_change_pct"] is not None \
        else None
    for name, e in cores.items():
        met = e["targets_met"]
        if all(v is not False for v in met.values()):
            notes.append(f"- `{name}` meets every target.")
            continue
        text = f"- `{name}`: {_targets_text(e, t)}."
        if (not met["overhead_pct"] or not met["overhead_ge"]) and e["parts"]:
            bp = e["parts"]["by_part"]
            worst = max(bp, key=lambda n: bp[n]["ge"])
            text += (f" The costliest part is {_PART_NAMES.get(worst, worst)} "
                     f"({_fmt(bp[worst]['ge'])} GE, {_fmt(bp[worst]['sequential'])} GE of it "
                     f"flip-flops): {PROPOSALS.get(worst, 'no proposal')}.")
            miss = max(e["overhead_ge"] - t["max_overhead_ge"],  # in GE, for either target
                       (e["overhead_pct"] - t["max_overhead_pct"]) / e["overhead_pct"]
                       * e["overhead_ge"])
            if noise_ge is not None and miss <= noise_ge:
                text += (f" The miss ({miss:,.0f} GE) is within the flow's noise: modules the "
                         f"patch does not touch moved by up to {noise_ge:,.0f} GE in these "
                         "runs.")
        if met["fmax_change_pct"] is False and e["timing"] and stock["timing"]:
            cp, sp = e["timing"]["critical_path"], stock["timing"]["critical_path"]
            if noise_f is not None:
                text += (f" Fmax: the extension-off core, the same logic as the stock core, "
                         f"moves Fmax by {off['fmax_change_pct']:+.2f} % (the noise floor); "
                         + ("this loss is within it." if abs(e["fmax_change_pct"]) <= noise_f
                            else "this loss is beyond it."))
            if "xdec" in (cp["startpoint"] + cp["endpoint"]).lower():
                text += f" Fmax: {PROPOSALS['fmax']}."
            elif (cp["startpoint"], cp["endpoint"]) == (sp["startpoint"], sp["endpoint"]):
                text += (" The critical path has the same start and end point as the "
                         "stock core's: the same logic, mapped and sized differently, not a "
                         "new path through xDecimate.")
            else:
                text += (f" The critical path moved (stock: `{sp['startpoint']}` → "
                         f"`{sp['endpoint']}`); neither end is xDecimate logic; the report "
                         f"is `{e['timing']['sta_dir']}/sta.rpt`.")
        notes.append(text)
    return notes
