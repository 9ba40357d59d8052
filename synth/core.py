"""Area and timing of the whole CV32E40P with and without xDecimate: the host-core part of
``xdecimate area`` (``host_core`` in ``docs/area.md``).

The stock CV32E40P v1.8.3 (the PyPI package's RTL, ``COREV_PULP=1``, ``FPU=0``) and the patched
core with ``COREV_XDEC=1`` for each named configuration go through the same flow as the unit
(:mod:`xdecimate.synth.flow`, SystemVerilog read by Yosys's slang frontend), onto the same
libraries:

1. a **flat** synthesis onto ``synth/xdec_ge.lib``;
2. a **hierarchical** synthesis onto the same library with every module kept, so the cores
   compare module by module.  The extension's GE (``overhead_ge``) is the sum of its parts: the
   two Amaranth leaves the patch instantiates (``cv32e40p_xdec_side`` with its ``csr`` and
   ``decompress``, and ``cv32e40p_xdec_merge``) and the *core-side changes*, the change of each
   module the patch touches (decoder, operand and read-data muxes, the register that carries the
   old rd to WB).  Modules it does not touch should cancel; what they still move is the flow's
   noise, reported apart (the flat difference, ``overhead_flat_ge``, carries ABC's
   re-optimisation of the whole core on top);
3. a flat synthesis onto the OSU 0.18 um cells and OpenSTA on its netlist (clock ``clk_i``;
   the reset ``rst_ni`` an ideal driver, as the clock).

The latch clock gate ``cv32e40p_sim_clock_gate.sv`` of the package is replaced by
:data:`CLOCK_GATE_MODEL` (a wire) in every core, so its enable logic is dropped in both alike.
Each synthesis is cached by :func:`xdecimate.synth.flow.synthesize_cached` under
:func:`cache_root`, and each timing run next to its netlist: a cold run of every core takes tens
of minutes, a cached one seconds.

:func:`host_core` is the provider named by ``xdecimate.synth.area.HOST_CORE_PROVIDER``.  A
:class:`CoreDesign` says what to synthesize, so the tests run the same code on a tiny design.
Imports the standard library, :mod:`xdecimate.synth`, :mod:`xdecimate.hw` (configurations, the
patch) and :mod:`xdecimate.sim.cv32e40p` (the manifest's file lists).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xdecimate.hw import cv32e40p_xdec
from xdecimate.synth import flow, sta
from xdecimate.synth.flow import GE_LIBERTY, OSU018_LIBERTY, SvSource

__all__ = [
    "CLOCK_GATE_MODEL",
    "CORE_PARAMETERS",
    "CV32E40P_PARTS",
    "PROPOSALS",
    "TARGETS",
    "CoreDesign",
    "cache_root",
    "cv32e40p_design",
    "host_core",
    "measure_core",
    "patched_modules",
    "slang_safe",
    "synthesis_jobs",
]

#: Parameters of the stock core (``cv32e40p_top``); the extended core adds ``COREV_XDEC=1``.
CORE_PARAMETERS: tuple[tuple[str, int], ...] = (("COREV_PULP", 1), ("FPU", 0))

#: The package's simulation clock gate (a latch and an AND) is replaced by this in every core
#: (defined in :mod:`xdecimate.hw.cv32e40p_xdec`: formal equivalence uses it too).
CLOCK_GATE_MODEL = cv32e40p_xdec.CLOCK_GATE_MODEL

#: Parts of the extension (its leaf modules): part name -> module name.
#: ``side_glue`` is the logic of ``cv32e40p_xdec_side`` outside its ``csr`` and ``decompress``.
CV32E40P_PARTS: tuple[tuple[str, str], ...] = (
    ("decompress", "cv32e40p_xdec_side.decompress"),
    ("csr", "cv32e40p_xdec_side.csr"),
    ("side_glue", "cv32e40p_xdec_side"),
    ("merge", "cv32e40p_xdec_merge"),
)

#: The issue's targets: measured and stated in the report, never asserted by a test.
TARGETS: dict[str, float] = {"max_overhead_pct": 1.5, "max_overhead_ge": 1000.0,
                             "min_fmax_change_pct": 0.0}

#: How to win area back, by the part that costs most (the report quotes the one that applies).
PROPOSALS: dict[str, str] = {
    "core_side": "the core-side changes cost most; their flip-flops are mainly the 32-bit "
                 "register that carries the old rd (and the lane) to WB. A byte write enable on "
                 "the register file's write port would write the loaded byte into its lane "
                 "directly and drop that register and the merge, at the price of a stall (or a "
                 "merge in the WB-to-ID forward) for an instruction that reads rd right after "
                 "xdec.lb",
    "decompress": "the index decompress costs most: a configuration with fewer (M, N, P) "
                  "values (paper, m4only) narrows its shifters and multiplexers",
    "csr": "the xdec CSR costs most: its flip-flops use Amaranth's synchronous reset, a gate "
           "per bit on top of the flip-flop, where the rest of the core uses flip-flops with "
           "an asynchronous reset (an async-reset clock domain for the leaf would match it); "
           "and its counter has the spec's full width",
    "merge": "the lane merge costs most: it could reuse the LSU's existing byte-lane "
             "multiplexer instead of a second one",
    "side_glue": "the glue of cv32e40p_xdec_side costs most: fold it into the CSR block",
    "fmax": "the critical path runs through xDecimate logic: register the decompress offset "
            "(it depends only on the CSR, known a cycle ahead) instead of computing it in ID",
}


@dataclass(frozen=True)
class CoreDesign:
    """A core to measure with and without the extension.

    Parameters
    ----------
    name : what the report calls it.
    top : top module.
    clock_port : input port of the clock (for static timing).
    stock : builds the source of the core without the extension.
    extended : builds the source of the core with the extension, for a configuration name.
    parts : (part name, module name) of the extension's leaf modules.
    parameters : top parameters of the stock core, for the report.
    reset_port : input port of the reset, timed as an ideal driver (``None``: none).
    touched : returns the module names the extension changes (``None``: every module counts).
    off : builds the source of the patched core with the extension disabled (``None``: none),
        which should synthesize to the stock core: its difference from the stock core is the
        flow's noise floor.
    """

    name: str
    top: str
    clock_port: str
    stock: Callable[[], SvSource]
    extended: Callable[[str], SvSource]
    parts: tuple[tuple[str, str], ...]
    parameters: tuple[tuple[str, int], ...] = ()
    reset_port: str | None = None
    touched: Callable[[], frozenset[str]] | None = None
    off: Callable[[], SvSource] | None = None


_AMARANTH_ID = re.compile(r"\\\$(\d+) ")


def slang_safe(verilog: str) -> str:
    """Rename Amaranth's anonymous wires ``\\$<n>`` to ``\\amaranth_<n>`` (a pure renaming).

    yosys-slang, keeping the hierarchy, gives its own cells ``$<n>`` names that collide with such
    wires (a Yosys assertion, ``count_id(cell->name) == 0``); the leaves get this renaming in
    every core run, flat or not.

    Raises
    ------
    ValueError
        If the text already uses an ``\\amaranth_<n>`` name (the renaming could merge wires).
    """
    if re.search(r"\\amaranth_\d+ ", verilog):
        raise ValueError("Verilog already has \\amaranth_<n> names; renaming would merge wires")
    return _AMARANTH_ID.sub(r"\\amaranth_\1 ", verilog)


def _cv32e40p_source(core: str, parameters: tuple[tuple[str, int], ...]) -> SvSource:
    from xdecimate.hw.cv32e40p_xdec import PATCH
    from xdecimate.sim.cv32e40p import rtl_files

    _incdirs, files = rtl_files(core)
    rtl = [f for f in files if f.name != "cv32e40p_sim_clock_gate.sv" and f.suffix == ".sv"]
    leaves = [f for f in files if f.suffix == ".v"]
    if len(rtl) + len(leaves) != len(files) - 1:
        raise flow.SynthError(f"the CV32E40P file list of {core!r} has no "
                              "cv32e40p_sim_clock_gate.sv to replace")
    extra = () if core == "stock" else (("patch", PATCH.read_text()),)
    texts = (*((f.name, slang_safe(f.read_text())) for f in leaves),
             ("cv32e40p_clock_gate.sv", CLOCK_GATE_MODEL))
    return SvSource(top="cv32e40p_top", files=tuple(rtl), parameters=parameters, texts=texts,
                    extra=extra)


def patched_modules() -> frozenset[str]:
    """Modules declared in the files ``hw/cv32e40p/xdecimate.patch`` changes (the package's
    ``include/`` files declare packages, not modules)."""
    from xdecimate.hw.cv32e40p_xdec import PATCH

    files = set(re.findall(r"^\+\+\+ b/(\S+)", PATCH.read_text(), re.M))
    src = _cv32e40p_source("xdec-full", CORE_PARAMETERS)
    modules = set()
    for f in src.files:
        if any(str(f).endswith("/" + name) for name in files):
            modules |= set(re.findall(r"^\s*module\s+(\w+)", f.read_text(), re.M))
    if not modules:
        raise flow.SynthError(f"{PATCH} changes no module of the CV32E40P file list")
    return frozenset(modules)


def cv32e40p_design() -> CoreDesign:
    """The stock CV32E40P v1.8.3, the patched one per configuration
    (``hw/cv32e40p/xdecimate.patch``) and the patched one with the extension off."""
    return CoreDesign(
        name="CV32E40P v1.8.3", top="cv32e40p_top", clock_port="clk_i",
        stock=lambda: _cv32e40p_source("stock", CORE_PARAMETERS),
        extended=lambda cfg: _cv32e40p_source(f"xdec-{cfg}",
                                              (*CORE_PARAMETERS, ("COREV_XDEC", 1))),
        off=lambda: _cv32e40p_source("xdec-off", (*CORE_PARAMETERS, ("COREV_XDEC", 0))),
        parts=CV32E40P_PARTS, parameters=CORE_PARAMETERS, reset_port="rst_ni",
        touched=patched_modules)


def cache_root() -> Path:
    """``$XDECIMATE_BUILD/synth-cache``, else ``build/synth-cache`` of the checkout (editable
    install) or of the current directory."""
    if env := os.environ.get("XDECIMATE_BUILD"):
        return Path(env) / "synth-cache"
    checkout = Path(__file__).resolve().parent.parent
    base = checkout if (checkout / "pyproject.toml").exists() else Path.cwd()
    return base / "build" / "synth-cache"


def _r(x: float, nd: int = 2) -> float:
    return round(float(x), nd)


def _run_json(res: flow.SynthResult) -> dict[str, Any]:
    return {"fingerprint": res.fingerprint, "cached": res.cached,
            "synthesis_s": _r(res.seconds, 1), "dir": str(res.workdir)}


def _definition(module: str) -> str:
    return module.split("$", 1)[0]


def _instance(module: str) -> str:
    return module.split("$", 1)[1] if "$" in module else module


def measure_core(source: SvSource, *, clock_port: str, cache: Path,
                 reset_port: str | None = None, hierarchy: bool = True, timing: bool = True,
                 log: Callable[[str], None] = lambda _msg: None) -> dict[str, Any]:
    """Synthesize one core (cached) and time it; return its JSON entry (``docs/area.md``).

    ``hierarchy`` adds the hierarchical run (every module kept; ``parts.modules`` in the
    entry, by instance path); the comparison with the stock core is :func:`host_core`'s.

    Raises
    ------
    SynthError
        If a run fails or stops early.
    """
    t0 = time.perf_counter()
    runs: dict[str, Any] = {}

    def run(kind: str, liberty: flow.Liberty, **kw: Any) -> flow.SynthResult:
        log(f"area: core {source.top} ({kind}) ...")
        t = time.perf_counter()
        res = flow.synthesize_cached(source, liberty, cache, **kw)
        runs[kind] = _run_json(res)
        log(f"area: core {source.top} ({kind}): {res.area:,.1f} {liberty.area_unit}, "
            + ("cached" if res.cached else f"{time.perf_counter() - t:.0f} s"))
        return res

    ge = run("ge_flat", GE_LIBERTY)
    entry: dict[str, Any] = {
        "top": source.top,
        "parameters": dict(source.parameters),
        "ge": {"total": _r(ge.area), "sequential": _r(ge.sequential),
               "combinational": _r(ge.combinational), "cells": ge.cells},
        "parts": None, "osu018": None, "timing": None, "runs": runs,
    }
    if hierarchy:
        hier = run("ge_hier", GE_LIBERTY, keep=[flow.KEEP_ALL])
        assert hier.glue is not None
        entry["parts"] = {
            "total": _r(hier.area), "sequential": _r(hier.sequential),
            "modules": {**{_instance(n): {"module": _definition(n), "ge": _r(b.area),
                                          "sequential": _r(b.sequential)}
                           for n, b in sorted(hier.blocks.items())},
                        source.top: {"module": source.top, "ge": _r(hier.glue.area),
                                     "sequential": _r(hier.glue.sequential)}},
        }
    if timing:
        osu = run("osu018", OSU018_LIBERTY, netlist=True)
        entry["osu018"] = {"area_um2": _r(osu.area), "sequential_um2": _r(osu.sequential),
                           "ge": _r(osu.ge), "cells": osu.cells}
        t = time.perf_counter()
        tim, sta_cached = _timing(osu, clock_port, (reset_port,) if reset_port else ())
        log(f"area: core {source.top} (sta): {tim.fmax_mhz:.1f} MHz, "
            + ("cached" if sta_cached else f"{time.perf_counter() - t:.0f} s"))
        entry["timing"] = {
            "library": OSU018_LIBERTY.name, "clock_port": clock_port,
            "reset_port": reset_port,
            "fmax_mhz": _r(tim.fmax_mhz, 1),
            "min_period_ns": _r(tim.worst.min_period_ns, 4),
            "critical_path": _path_json(tim.worst),
            "groups": {g: _path_json(p) for g, p in tim.groups.items()},
            "sta_s": _r(time.perf_counter() - t, 1),
            "sta_cached": sta_cached,
            "sta_dir": str(tim.report.parent),
        }
    entry["seconds"] = _r(time.perf_counter() - t0, 1)
    return entry


def _timing(osu: flow.SynthResult, clock_port: str,
            ideal: tuple[str, ...]) -> tuple[sta.TimingResult, bool]:
    """OpenSTA on a cached OSU run, itself cached in ``sta-<key>/`` of that run's folder.

    The key: the run's fingerprint, the ports, the OpenSTA version and the text of
    ``synth/sta.py`` (which writes the constraints and the script and parses the report).
    """
    inputs = {"netlist": osu.fingerprint, "clock_port": clock_port, "ideal": list(ideal),
              "opensta": sta.sta_version(),
              "sta_py": hashlib.sha256(Path(sta.__file__).read_bytes()).hexdigest()}
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    final = osu.workdir / f"sta-{key[:16]}"
    if (final / "done").is_file():
        return sta.read_report(final / "sta.rpt", osu.top, OSU018_LIBERTY), True
    tmp = Path(tempfile.mkdtemp(prefix=final.name + ".tmp-", dir=osu.workdir))
    sta.run_sta(osu.netlist, osu.top, OSU018_LIBERTY, tmp, clock_port=clock_port,
                ideal_inputs=ideal)
    (tmp / "inputs.json").write_text(json.dumps(inputs, indent=2, sort_keys=True) + "\n")
    (tmp / "done").write_text(key + "\n")
    try:
        os.replace(tmp, final)
    except OSError:  # another process finished the same timing run first
        shutil.rmtree(tmp, ignore_errors=True)
    return sta.read_report(final / "sta.rpt", osu.top, OSU018_LIBERTY), False


def _path_json(p: sta.TimingPath | None) -> dict[str, Any] | None:
    return None if p is None else p.as_json()


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _parts(ext: dict[str, Any], stock: dict[str, Any], parts: Sequence[tuple[str, str]],
           touched: frozenset[str] | None) -> None:
    """Module-by-module difference of two hierarchical runs, and the parts of the extension.

    A module whose definition is a part (a leaf) counts for that part.  Every other instance is
    compared with the same instance of the stock core: if its definition is in ``touched`` (the
    modules the patch changes; ``None``: all) its change counts for ``core_side``, else it is
    the flow's noise (``untouched_by_module``): Yosys numbers its internal names across the
    whole design, so an unchanged module can reach ABC in another order and map differently.
    """
    by_def = {module: name for name, module in parts}
    by_part = {name: {"module": module, "ge": 0.0, "sequential": 0.0} for name, module in parts}
    core = {"module": None, "ge": 0.0, "sequential": 0.0}
    changed: dict[str, Any] = {}
    noise: dict[str, Any] = {}
    unchanged = 0
    for inst in sorted(set(ext["modules"]) | set(stock["modules"])):
        e = ext["modules"].get(inst)
        if e is not None and e["module"] in by_def:
            part = by_part[by_def[e["module"]]]
            part["ge"] += e["ge"]
            part["sequential"] += e["sequential"]
            continue
        s = stock["modules"].get(inst)
        dge = (e["ge"] if e else 0.0) - (s["ge"] if s else 0.0)
        dseq = (e["sequential"] if e else 0.0) - (s["sequential"] if s else 0.0)
        if abs(dge) < 0.005:
            unchanged += 1
            continue
        module = (e or s)["module"]
        row = {"module": module, "stock_ge": s and s["ge"], "ge": e and e["ge"],
               "delta_ge": _r(dge), "delta_sequential": _r(dseq)}
        if touched is None or module in touched:
            core["ge"] += dge
            core["sequential"] += dseq
            changed[inst] = row
        else:
            noise[inst] = row
    by_part["core_side"] = core
    for v in by_part.values():
        v["ge"], v["sequential"] = _r(v["ge"]), _r(v["sequential"])

    def by_size(rows: dict[str, Any]) -> dict[str, Any]:
        return dict(sorted(rows.items(), key=lambda kv: -abs(kv[1]["delta_ge"])))

    ext["by_part"] = by_part
    ext["core_side_by_module"] = by_size(changed)
    ext["untouched_by_module"] = by_size(noise)
    ext["untouched_delta_ge"] = _r(sum(v["delta_ge"] for v in noise.values()))
    ext["unchanged_modules"] = unchanged
    ext["method"] = ("hierarchical runs of both cores, every module kept (no optimisation "
                     "across module boundaries); a part is the area of its modules, core_side "
                     "the change of the other modules the patch touches, against the same "
                     "instances of the stock core; changes of untouched modules are the "
                     "flow's noise and left out")


def _overhead(ext: dict[str, Any], stock: dict[str, Any], parts: Sequence[tuple[str, str]] = (),
              touched: frozenset[str] | None = None) -> dict[str, Any]:
    """The overhead keys of an extended core's entry (against the stock entry).

    With hierarchical runs of both, ``overhead_ge`` is the sum of the parts (leaves and the
    changes of the touched modules, see :func:`_parts`); the flat difference is
    ``overhead_flat_ge``.
    """
    ge = ext["ge"]["total"] - stock["ge"]["total"]
    um2 = _sub(ext["osu018"] and ext["osu018"]["area_um2"],
               stock["osu018"] and stock["osu018"]["area_um2"])
    f_ext = ext["timing"] and ext["timing"]["fmax_mhz"]
    f_stock = stock["timing"] and stock["timing"]["fmax_mhz"]
    df = _sub(f_ext, f_stock)
    out: dict[str, Any] = {
        "overhead_ge": _r(ge),
        "overhead_pct": _r(100.0 * ge / stock["ge"]["total"], 3),
        "overhead_flat_ge": _r(ge),
        "overhead_flat_pct": _r(100.0 * ge / stock["ge"]["total"], 3),
        "overhead_um2": None if um2 is None else _r(um2),
        "overhead_um2_pct": None if um2 is None else
        _r(100.0 * um2 / stock["osu018"]["area_um2"], 3),
        "fmax_change_mhz": None if df is None else _r(df, 1),
        "fmax_change_pct": None if df is None else _r(100.0 * df / f_stock, 2),
    }
    if ext["parts"] and stock["parts"]:
        _parts(ext["parts"], stock["parts"], parts, touched)
        ext["parts"]["cross_boundary_ge"] = _r(ext["ge"]["total"] - ext["parts"]["total"])
        hier = sum(v["ge"] for v in ext["parts"]["by_part"].values())
        out["overhead_ge"] = _r(hier)
        # Of the stock core's flat GE (host_core.ge), the smaller and so the stricter base.
        out["overhead_pct"] = _r(100.0 * hier / stock["ge"]["total"], 3)
    met = {
        "overhead_pct": out["overhead_pct"] <= TARGETS["max_overhead_pct"],
        "overhead_ge": out["overhead_ge"] <= TARGETS["max_overhead_ge"],
        "fmax_change_pct": None if df is None else
        out["fmax_change_pct"] >= TARGETS["min_fmax_change_pct"],
    }
    out["targets_met"] = met
    return out


_OFF = "\0off"  # key of the extension-off core among the configuration names


def synthesis_jobs() -> int:
    """Core syntheses run at once: ``$XDECIMATE_SYNTH_JOBS`` if set, else the number of CPUs
    this process may use (each Yosys run is single-threaded: the WebAssembly build has none).

    Raises
    ------
    ValueError
        ``$XDECIMATE_SYNTH_JOBS`` is not a positive integer.
    """
    env = os.environ.get("XDECIMATE_SYNTH_JOBS")
    if env is None:
        return max(1, len(os.sched_getaffinity(0)))
    if not env.isdigit() or int(env) < 1:
        raise ValueError(f"XDECIMATE_SYNTH_JOBS must be a positive integer, not {env!r}")
    return int(env)


def host_core(names: Sequence[str] | None = None, *, out: Path, timing: bool = True,
              log: Callable[[str], None] = lambda _msg: None, design: CoreDesign | None = None,
              cache: Path | None = None) -> dict[str, Any]:
    """Measure the stock core and the extended core of each named configuration.

    Parameters
    ----------
    names : configurations (default: all of :data:`xdecimate.hw.configs.CONFIGS`).
    out : folder for ``host_core.json`` (this function's result; the runs themselves live
        in the cache).
    timing : also map onto OSU 0.18 um and run OpenSTA.
    log : progress messages.
    design : what to measure (default :func:`cv32e40p_design`).
    cache : cache folder (default :func:`cache_root`).

    Returns
    -------
    The ``host_core`` part of the area JSON document (``docs/area.md``).
    """
    from xdecimate.hw.configs import CONFIGS

    t0 = time.perf_counter()
    design = design or cv32e40p_design()
    cache = cache or cache_root()
    names = list(names) if names is not None else list(CONFIGS)
    kw: dict[str, Any] = {"clock_port": design.clock_port, "reset_port": design.reset_port,
                          "cache": cache, "timing": timing, "log": log}
    touched = design.touched() if design.touched else None
    # Sources first, one after the other (patching writes to build/); then the syntheses, each
    # a single-threaded Yosys process, on every core of the machine (:func:`synthesis_jobs`).
    sources: dict[str, SvSource] = {"": design.stock(),
                                    **{name: design.extended(name) for name in names}}
    if design.off is not None:
        sources[_OFF] = design.off()
    with ThreadPoolExecutor(max_workers=synthesis_jobs()) as pool:
        futures = {k: pool.submit(measure_core, src, **kw) for k, src in sources.items()}
        done = {k: f.result() for k, f in futures.items()}
    stock = done[""]
    configs: dict[str, Any] = {}
    for name in names:
        ext = done[name]
        ext.update(_overhead(ext, stock, design.parts, touched))
        configs[name] = ext
    off = None
    if design.off is not None:
        off = done[_OFF]
        off.update(_overhead(off, stock, design.parts, touched))
        del off["targets_met"]  # a noise floor, not a design with targets
    all_runs = [r for e in (stock, off, *configs.values()) if e for r in e["runs"].values()]
    doc = {
        "available": True,
        "core": design.name,
        "top": design.top,
        "parameters": dict(design.parameters),
        "clock_gate": "clock gate cv32e40p_clock_gate is replaced by a wire (clk_o = clk_i) in "
                      "every core",
        "ge": stock["ge"]["total"],
        "osu018_um2": stock["osu018"]["area_um2"] if stock["osu018"] else None,
        "fmax_mhz": stock["timing"]["fmax_mhz"] if stock["timing"] else None,
        "targets": dict(TARGETS),
        "touched_modules": None if touched is None else sorted(touched),
        "stock": stock,
        "off": off,
        "configs": configs,
        "cache": str(cache),
        "run": {"seconds": _r(time.perf_counter() - t0, 1),
                "syntheses": len(all_runs),
                "cached": sum(r["cached"] for r in all_runs),
                "synthesis_s": _r(sum(r["synthesis_s"] for r in all_runs if not r["cached"]),
                                  1)},
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "host_core.json").write_text(json.dumps(doc, indent=2) + "\n")
    return doc
