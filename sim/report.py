"""Report section: verification of the xDecimate RTL (cocotb, Verilator and Icarus).

Runs the cocotb testbench of every named configuration on Verilator (directed cases, random
requests, coverage closure) and a smaller run on Icarus, and reports what was checked and how
fast.  ``ctx.quick`` shrinks the random part.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

from xdecimate.hw.configs import CONFIGS

from .runner import SimResult, run_xdec

__all__ = ["report_section"]

#: Random requests per configuration: (full report, quick report).
_OPS = {"full": (60_000, 1_500), "paper": (20_000, 500), "m4only": (20_000, 500)}
_ICARUS_OPS = (20_000, 500)


def _row(r: SimResult) -> str:
    return (f"| {r.config} | {r.sim} | {len(r.summary['tests'])} | {r.ops:,} | {r.reads:,} "
            f"| {r.coverage_covered}/{r.coverage_defined} "
            f"({100 * r.coverage_covered / r.coverage_defined:.1f} %) "
            f"| {r.ops_per_s:,.0f} | {r.cycles_per_s:,.0f} | {r.build_s:.1f} |")


def report_section(ctx: Any) -> str:
    """Run the RTL verification and return its markdown section."""
    quick = bool(getattr(ctx, "quick", False))
    results: list[SimResult] = []
    for name in CONFIGS:
        ops = _OPS.get(name, _OPS["paper"])[1 if quick else 0]
        ctx.log(f"cocotb/verilator: {name}, {ops} random requests")
        results.append(run_xdec(name, ops=ops, seed=11, sim="verilator", tag="report",
                                testcase="xdec_random" if quick else None))
    if shutil.which("iverilog"):
        ops = _ICARUS_OPS[1 if quick else 0]
        ctx.log(f"cocotb/icarus: full, {ops} random requests")
        results.append(run_xdec("full", ops=ops, seed=12, sim="icarus", tag="report",
                                testcase="xdec_random" if quick else None))

    data = [{"config": r.config, "sim": r.sim, "tests": list(r.summary["tests"]),
             "ops": r.ops, "reads": r.reads, "cycles": r.cycles,
             "coverage": [r.coverage_covered, r.coverage_defined],
             "ops_per_s": round(r.ops_per_s), "cycles_per_s": round(r.cycles_per_s),
             "build_s": round(r.build_s, 2)} for r in results]
    (ctx.out / "hw_verification.json").write_text(json.dumps(data, indent=1))

    total = sum(r.ops for r in results)
    by_sim: dict[str, list[SimResult]] = {}
    for r in results:
        by_sim.setdefault(r.sim, []).append(r)
    speed = "; ".join(
        f"{sim}: {sum(r.ops for r in rs) / sum(r.sim_wall_s for r in rs):,.0f} ops/s, "
        f"{sum(r.cycles for r in rs) / sum(r.sim_wall_s for r in rs):,.0f} cycles/s"
        for sim, rs in by_sim.items())
    full = next(r for r in results if r.config == "full")
    lines = [
        "## xDecimate RTL verification (cocotb)",
        "",
        f"The Amaranth RTL (`hw/`) of every named configuration ran the cocotb testbench "
        f"(`sim/tb_xdec_unit.py`): directed cases, random requests (row walks of real N:M "
        f"layers compressed by `nm_format` and fully random requests, with random OBI grant and "
        f"response wait states, issue bubbles and response back-pressure), then coverage "
        f"closure.  Every response and every bus read was compared with the executable "
        f"reference `sw/model/xdec_ref.py`.  **{total:,} requests checked, 0 mismatches.**"
        + (" (quick run)" if quick else ""),
        "",
        "| Config | Simulator | cocotb tests | Requests checked | Bus reads | Coverage bins "
        "| Requests/s | Cycles/s | Build s |",
        "|---|---|---|---|---|---|---|---|---|",
        *[_row(r) for r in results],
        "",
        f"Speed of the simulation loop (Python testbench every cycle, one process): {speed}.",
        "",
        "Functional coverage of configuration `full` on Verilator (every bin must be hit; "
        "the test asserts it):",
        "",
        _coverage_table(full.summary["coverage"]),
    ]
    return "\n".join(lines) + "\n"


def _coverage_table(cov: dict[str, Any]) -> str:
    rows = ["| Coverpoint | Bins hit / defined | What |", "|---|---|---|"]
    for name, p in cov["points"].items():
        rows.append(f"| `{name}` | {p['covered']} / {p['defined']} | {p['doc']} |")
    rows.append(f"| **total** | **{cov['covered']} / {cov['defined']} ({cov['percent']:.1f} %)**"
                f" | |")
    return "\n".join(rows)
