"""Whole-network runs of the built-in networks: dense baseline and N:M patterns, one result.

What it is for: :func:`run_net` deploys a built-in network (:mod:`xdecimate.sw.net.builtins`,
seeded random weights; ``quick``: the reduced variant) at the dense baseline (``dense_4x2`` on
every layer) and at each N:M pattern with a kernel policy, through the L2 flow (default) or the
DMEM flow, and returns one JSON-ready dict (schema: ``docs/net.md``); :func:`net_markdown`
renders it.  ``xdecimate net`` and the report's networks section call them.

May import: the standard library, rich, and :mod:`xdecimate.sw.deploy` (and what it may).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..net.ir import Graph

__all__ = ["DEFAULT_PATTERNS", "NETWORKS", "net_markdown", "run_net"]

NETWORKS = ("resnet18", "vit")
#: Patterns run by default (besides the dense network).
DEFAULT_PATTERNS = ("1:4", "1:8", "1:16")


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True, cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


#: Encoder blocks of the built-in ViT (full, quick): what a per-block derivation multiplies.
VIT_DEPTH = {False: 12, True: 2}


def _graph(network: str, pattern: str | None, quick: bool = True,
           depth: int | None = None) -> Graph:
    from ..net import builtins

    if network == "resnet18":
        return builtins.resnet18_cifar(pattern=pattern, quick=quick)
    return builtins.vit_s16(pattern=pattern, quick=quick, depth=depth)


def _derive(d: dict, extra: int, sb_layers: list[int] | None) -> None:
    """Scale a one-block ViT run ``d`` to ``1 + extra`` blocks in place: the block's layers
    (``blk0.*``) count ``1 + extra`` times; the measured totals stay under ``"measured"``."""
    blk = [j for j, lr in enumerate(d["layers"]) if lr["node"].startswith("blk0.")]
    d["measured"] = {k: d[k] for k in ("network", "cycles", "weight_bytes",
                                        "dense_weight_bytes", "dma_cycles")}
    for k, lk in (("cycles", "cycles"), ("weight_bytes", "weight_bytes"),
                  ("dense_weight_bytes", "dense_weight_bytes"), ("dma_cycles", "dma_cycles")):
        d[k] += extra * sum(d["layers"][j][lk] for j in blk)
    if sb_layers is not None:
        d["cycles_single_buffer"] += extra * sum(sb_layers[j] for j in blk)
    d["derived"] = f"one encoder block measured, counted {1 + extra} times"


def run_net(network: str, patterns: tuple[str, ...], policy: str, target: str, *,
            check_layers: bool = False, progress: bool = True, quick: bool = True,
            flow: str = "l2", single_buffer: bool = False, skip_dense: bool = False,
            derive_blocks: bool = False) -> dict[str, object]:
    """Run the dense baseline and ``policy`` at every pattern; the results as a JSON dict.

    Keys: ``network``, ``policy``, ``target``, ``flow``, ``quick``, ``baseline`` (the dense
    network, policy
    ``dense_4x2``; absent if it does not fit the DMEM), ``runs`` (one per pattern, ``"dense"``
    first, each with its ``speedup`` over the baseline -- None without one -- and
    ``weight_ratio`` = dense / stored weight bytes) and ``skipped`` (the runs that do not fit
    the DMEM, with the error).  ``skip_dense``: only the patterns (no baseline, speedups None).
    ``derive_blocks`` (ViT, L2 flow): every configuration runs with one encoder block and its
    totals count that block :data:`VIT_DEPTH` times (``"derived"`` says so; the measured
    totals stay under ``"measured"``) -- exact for every layer but layer norm and softmax,
    whose divisions take data-dependent cycles (``tests/sw/deploy/test_l2flow.py``).

    Raises
    ------
    ValueError
        An unknown ``flow``; the DMEM flow for a full-size network; no run fits.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from . import run

    t_start = time.perf_counter()
    commit = _git_commit()  # the code that runs (taken before the runs, not after)

    jobs = [(None, "dense_4x2")] + [(None if p == "dense" else p, policy)
                                    for p in ("dense", *patterns)]
    if skip_dense:
        jobs = [(p, policy) for p in patterns if p != "dense"]
    if derive_blocks and (network != "vit" or flow != "l2"):
        raise ValueError("derive_blocks needs the ViT (repeated encoder blocks) and the L2 flow")
    if flow not in ("l2", "dmem"):
        raise ValueError(f"flow must be 'l2' or 'dmem', not {flow!r}")
    if flow == "dmem" and not quick:
        raise ValueError("full-size networks do not fit the 128 kB DMEM: use the L2 flow "
                         "(--flow l2, the default)")
    out: dict[str, object] = {"network": network, "policy": policy, "target": target,
                              "flow": flow, "quick": quick}
    if derive_blocks:
        out["derived"] = {"blocks": VIT_DEPTH[quick], "measured_blocks": 1}
    runs: list[dict] = []
    skipped: list[dict] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
                  "{task.total}"), TimeElapsedColumn(), disable=not progress) as bar:
        task = bar.add_task("network runs", total=len(jobs))
        for i, (pat, pol) in enumerate(jobs):
            name = pat or "dense"

            def log(msg: str, name: str = name, pol: str = pol) -> None:
                bar.update(task, description=f"{name} {pol}: {msg}"[:90])

            log("building the network")
            graph = _graph(network, pat, quick, 1 if derive_blocks else None)
            try:
                if flow == "l2":
                    r = run.run_network_l2(graph, policy=pol, target=target, log=log)
                else:
                    r = run.run_network(graph, policy=pol, target=target,
                                        check_layers=check_layers, log=log)
            except ValueError as exc:
                if "DMEM" not in str(exc):
                    raise
                bar.advance(task)
                skipped.append({"pattern": name, "policy": pol, "error": str(exc)})
                continue
            d = r.to_json()
            d["pattern"] = name
            sb_layers = None
            if flow == "l2" and single_buffer:
                log("again without double buffering")
                sb = run.run_network_l2(graph, policy=pol, target=target, dbuf=False, log=log)
                d["cycles_single_buffer"] = sb.cycles
                sb_layers = [lr.cycles for lr in sb.layers]
            if derive_blocks:
                _derive(d, VIT_DEPTH[quick] - 1, sb_layers)
            if i == 0 and not skip_dense:
                out["baseline"] = d
            else:
                base = out.get("baseline")
                d["speedup"] = (base["cycles"] / d["cycles"] if isinstance(base, dict)
                                else None)
                d["weight_ratio"] = d["dense_weight_bytes"] / d["weight_bytes"]
                runs.append(d)
            bar.advance(task)
    out["runs"] = runs
    out["skipped"] = skipped
    out["seconds"] = round(time.perf_counter() - t_start, 1)
    out["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out["commit"] = commit
    if not runs:
        raise ValueError(f"no run of {network} fits the DMEM: {skipped[0]['error']}")
    return out


def net_markdown(res: dict) -> str:
    """The report: one per-layer table (cycles per pattern, kernel, share) and the totals."""
    base, runs = res.get("baseline"), res["runs"]
    ref = base or runs[0]
    l2 = ref.get("flow") == "l2"
    lines = [f"# {ref['network']} on {res['target']}: policy {res['policy']!r}, "
             f"{'L2 flow (DMA-fed L1 tiles)' if l2 else 'DMEM flow'}", "",
             "Cycles per layer (marked region around each step); baseline = dense network, "
             "`dense_4x2` on every layer. Outputs bit-exact with the golden model"
             + (" (every layer)." if ref["layers_checked"] else " (final output).")
             + (" DMA: cycles the engine is busy with the layer's transfers (overlapped with "
                "compute where double buffering allows)." if l2 else ""), ""]
    if res.get("derived"):
        dv = res["derived"]
        lines += [f"**Derived totals:** every configuration ran with {dv['measured_blocks']} "
                  f"encoder block; the per-layer table shows that run, and the totals count "
                  f"its block {dv['blocks']} times (layer cycles do not depend on values, but "
                  f"for the divisions of layer norm and softmax).", ""]
    per = ["kernel", "cycles", "share"] + (["DMA"] if l2 else [])
    head = "| layer | op | MACs | baseline | " + " | ".join(
        f"{r['pattern']} {c}" for r in runs for c in per) + " |"
    lines += [head, "|" + "---|" * (4 + len(per) * len(runs))]
    for j, rl in enumerate(ref["layers"]):
        cells = [rl["node"], rl["op"], str(rl["macs"]),
                 str(base["layers"][j]["cycles"]) if base else "-"]
        for r in runs:
            lr = r["layers"][j]
            cells += [lr["kernel"] or "", str(lr["cycles"]), f"{lr['cycles'] / r['cycles']:.1%}"]
            if l2:
                cells.append(str(lr["dma_cycles"]))
        lines.append("| " + " | ".join(cells) + " |")
    if l2:
        lines += ["", "| pattern | cycles | speedup vs baseline | without double buffering | "
                  "DMA cycles (transfers) | weights B (stored, L2) | dense B | ratio | L2 used B "
                  "| L1 peak B (budget) |", "|---|---|---|---|---|---|---|---|---|---|"]
    else:
        lines += ["", "| pattern | cycles | speedup vs baseline | weights B (stored) | dense B | "
                  "ratio | DMEM static B | arena peak B (no reuse) |",
                  "|---|---|---|---|---|---|---|---|"]
    rows = ([dict(base, pattern="baseline", speedup=1.0, weight_ratio=1.0)] if base else [])
    for r in rows + runs:
        sp = "-" if r["speedup"] is None else f"{r['speedup']:.2f}×"
        if l2:
            sb = r.get("cycles_single_buffer")
            lines.append(f"| {r['pattern']} | {r['cycles']} | {sp} | "
                         f"{sb if sb is not None else 'not run'} | {r['dma_cycles']} "
                         f"({r['dma_transfers']}) | {r['weight_bytes']} | "
                         f"{r['dense_weight_bytes']} | {r['weight_ratio']:.2f}× | {r['l2_used']} "
                         f"| {r['arena_peak']} ({r['arena_total']}) |")
        else:
            lines.append(f"| {r['pattern']} | {r['cycles']} | {sp} | {r['weight_bytes']} | "
                         f"{r['dense_weight_bytes']} | {r['weight_ratio']:.2f}× | "
                         f"{r['dmem_static']} | {r['arena_peak']} ({r['arena_total']}) |")
    for sk in res.get("skipped", []):
        lines.append(f"\nNot run ({sk['pattern']}, policy {sk['policy']}): {sk['error']}")
    lines += ["", "Weights: int8 matrices as the program stores them (dense rows padded to 4 "
              "bytes; N:M images with their indices); biases and descriptors not included. "
              "DMEM static: data + bss of the ELF (the stack's 2 kB reserve comes on top).", ""]
    return "\n".join(lines)


