"""Area and timing of the xDecimate unit, per named configuration: the data behind
``xdecimate area``, the report section and the area-budget regression test.

For each configuration of :data:`xdecimate.hw.configs.CONFIGS` (and for the host core, once one
is registered, see :data:`HOST_CORE_PROVIDER`) :func:`measure` runs

1. a **flat** synthesis onto the GE library ``synth/xdec_ge.lib`` -- the headline GE figure;
2. a **per-block** synthesis onto the same library with the sub-blocks ``decompress``, ``agen``,
   ``merge``, ``csr`` kept as separate modules (no optimisation across their boundaries; the
   top's own logic is the ``glue``);
3. a flat synthesis onto the OSU 0.18 um cells (area in um^2 and in NAND2X1 equivalents);
4. static timing of that netlist with OpenSTA (critical path, Fmax).

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
    "check_budget",
    "host_core_target",
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

#: Where the host core is found: ``"module:function"``; the function takes no argument and
#: returns the core *without* the extension as a ``wiring.Component`` or a
#: :class:`~xdecimate.synth.flow.SynthSource`.  While the module does not exist the report says
#: "host core: not yet available" and the overhead stays ``null``.
HOST_CORE_PROVIDER = "xdecimate.hw.host_core:area_target"

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


def host_core_target(provider: str | None = None) -> AreaTarget | None:
    """The host core named by ``provider`` (default :data:`HOST_CORE_PROVIDER`), or ``None``
    while its module does not exist.

    Raises
    ------
    ValueError
        If ``provider`` is not ``"module:function"``.
    AttributeError
        If the module exists but has no such function (a wiring mistake, not "not yet").
    """
    provider = provider or HOST_CORE_PROVIDER
    module, sep, func = provider.partition(":")
    if not sep or not module or not func:
        raise ValueError(f"host core provider must be 'module:function', not {provider!r}")
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        return None
    build = getattr(importlib.import_module(module), func)
    return AreaTarget(name="host_core", top="host_core", doc=provider, build=build)


def _r(x: float, nd: int = 2) -> float:
    return round(float(x), nd)


def _path_json(p: sta.TimingPath | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"group": p.group, "startpoint": p.startpoint, "start_kind": p.start_kind,
            "endpoint": p.endpoint, "end_kind": p.end_kind, "arrival_ns": _r(p.arrival_ns, 4),
            "slack_ns": _r(p.slack_ns, 4), "min_period_ns": _r(p.min_period_ns, 4),
            "levels": p.levels, "cells": list(p.cells)}


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
             host_provider: str | None = None,
             log: Callable[[str], None] = lambda _msg: None) -> dict[str, Any]:
    """Measure the named configurations (default: all) and the host core, if any.

    Writes ``out/area.json`` and ``out/area.md`` and keeps each run's files under
    ``out/<config>/``.  Returns the JSON document.
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

    host = host_core_target(host_provider)
    host_json: dict[str, Any] = {"available": host is not None,
                                 "provider": host_provider or HOST_CORE_PROVIDER,
                                 "top": None, "ge": None, "osu018_um2": None}
    if host is not None:
        log("area: host core ...")
        h = measure(host, out / "host_core", timing=timing)
        host_json.update(top=h["top"], ge=h["ge"]["total"],
                         osu018_um2=h["osu018"]["area_um2"] if h["osu018"] else None)
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
    host = doc["host_core"]
    lines += ["", f"{h2} Overhead on the host core", ""]
    if host["available"]:
        lines += [f"Host core `{host['top']}` ({host['provider']}): {_fmt(host['ge'])} GE "
                  "(same flow, flat).", "",
                  "| Configuration | unit GE | overhead |", "|---|---:|---:|"]
        for name, e in configs.items():
            lines.append(f"| `{name}` | {_fmt(e['ge']['total'])} | "
                         f"{_fmt(e['overhead']['percent'], 2)}% |")
    else:
        lines.append(f"host core: not yet available (looked for `{host['provider']}`); the "
                     "overhead row fills in automatically once it exists.")
    lines += ["", f"{h2} Literature, for context only (other flows and libraries)", "",
              "| Design | Figure | Source |", "|---|---|---|"]
    lines += [f"| {x['design']} | {x['figure']} | {x['source']} |" for x in doc["literature"]]
    lines += ["", f"Run time {doc['run']['seconds']:.1f} s (first Yosys call of this process "
              f"{doc['run']['yosys_first_call_s']:.1f} s).", ""]
    return "\n".join(lines)
