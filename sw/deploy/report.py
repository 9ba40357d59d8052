"""Report section: whole networks (ResNet18-CIFAR, ViT-S/16) end to end, next to Table 2.

What it is for: ``xdecimate report`` calls :func:`report_section`.  It runs the quick variant of
both built-in networks through the L2 flow on the ISS -- dense baseline (``dense_4x2`` on every
layer), the dense network and each pattern of :data:`PATTERNS` with policy ``"fastest"``, each
also without double buffering -- and every one of them again on the CV32E40P RTL with
xDecimate, requiring the same cycles on every layer.  The full-size networks take minutes to
hours on the ISS, so the report quotes their last ``make net-full`` results
(:data:`FULL_DIR`, with date and commit) when present and says so when not.

May import: the standard library, numpy, matplotlib, and :mod:`xdecimate.sw.deploy` (and what
it may).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import suite

__all__ = ["FULL_DIR", "HEADING", "PAPER", "PATTERNS", "report_section"]

HEADING = "Whole networks: ResNet18 and ViT-S end to end"
#: Patterns of the report's runs (besides dense).
PATTERNS = ("1:4", "1:8", "1:16", "2:8")
#: Where ``make net-full`` leaves the full-size results (``<network>/net.json``).
FULL_DIR = Path(__file__).resolve().parents[2] / "build" / "net-full"
#: The paper's Table 2 (8-core cluster, MATCH compiler; shared/notes/paper.md), Mcycles, and
#: its weight-memory reduction.
PAPER: dict[str, dict[str, Any]] = {
    "resnet18": {"name": "ResNet18 (CIFAR-100, 32×32; 3×3 convs N:M)",
                 "mcyc": {"dense": 49.71, "1:4": 37.67, "1:8": 24.01, "1:16": 15.48},
                 "memory": ("1:8", 3.77)},
    "vit": {"name": "ViT-S/16 (224×224; MLP layers N:M)",
            "mcyc": {"dense": 975.23, "1:4": 681.19, "1:8": 606.99, "1:16": 540.23},
            "memory": ("1:16", 2.34)},
}


def _by_pattern(res: dict) -> dict[str, dict]:
    return {r["pattern"]: r for r in res["runs"]}


def _table(res: dict, network: str, scope: str) -> list[str]:
    """Our totals next to the paper's, per pattern."""
    paper = PAPER[network]
    base = res["baseline"]
    runs = _by_pattern(res)
    fast = runs.get("dense")
    lines = [f"| {scope} {network} | cycles | speedup vs dense 4×2 | vs the fastest dense | "
             "paper Mcyc (8 cores) | paper speedup | without double buffering | DMA busy "
             "cycles | weights stored (L2) | vs dense int8 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    pd = paper["mcyc"]["dense"]
    bsb = base.get("cycles_single_buffer")
    fb = f"{fast['cycles'] / base['cycles']:.2f}×" if fast else "–"
    lines.append(f"| dense 4×2 (baseline) | {base['cycles']:,} | 1.00× | {fb} | {pd} | 1.00× | "
                 f"{f'{bsb:,}' if bsb is not None else '–'} | {base['dma_cycles']:,} | "
                 f"{base['weight_bytes']:,} B | 1.00× |")
    for pat, r in runs.items():
        pm = paper["mcyc"].get(pat) if pat != "dense" else None
        vf = f"{fast['cycles'] / r['cycles']:.2f}×" if fast else "–"
        sb = r.get("cycles_single_buffer")
        lines.append(
            f"| {pat} ({res['policy']}) | {r['cycles']:,} | {r['speedup']:.2f}× | "
            f"{vf} | "
            f"{pm if pm is not None else '–'} | {f'{pd / pm:.2f}×' if pm else '–'} | "
            f"{f'{sb:,}' if sb is not None else '–'} | {r['dma_cycles']:,} | "
            f"{r['weight_bytes']:,} B | {r['weight_ratio']:.2f}× |")
    mp, mr = paper["memory"]
    ours = runs.get(mp)
    lines += ["", f"Weight memory at {mp}: paper {mr:.2f}× less than dense; ours "
              + (f"{ours['weight_ratio']:.2f}× (N:M values and their packed indices, interleaved "
                 "per row; the dense layers stay dense)." if ours else "not run.")]
    return lines


def _plot(res: dict, path: Path) -> Path:
    """Per-layer cycles of the baseline and every pattern (grouped bars, log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    series = [("dense 4×2", res["baseline"])] + [(r["pattern"], r) for r in res["runs"]]
    names = [lr["node"] for lr in res["baseline"]["layers"]]
    x = np.arange(len(names))
    wdt = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.32 * len(names)), 4.2))
    for j, (label, r) in enumerate(series):
        ax.bar(x + j * wdt - 0.4 + wdt / 2, [lr["cycles"] for lr in r["layers"]], wdt,
               label=f"{label}: {r['cycles'] / 1e6:.2f} Mcyc")
    ax.set_yscale("log")
    ax.set_xticks(x, names, rotation=90, fontsize=7)
    ax.set_ylabel("cycles (one core, log)")
    ax.set_title(f"{res['baseline']['network']}: cycles per layer (L2 flow, ISS = RTL)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _rtl_check(res: dict, network: str, log: Any) -> tuple[int, list[str]]:
    """Run every configuration of ``res`` on the RTL; (runs compared, mismatches)."""
    from . import run

    bad: list[str] = []
    n = 0
    for r in [res["baseline"], *res["runs"]]:
        pat = None if r["pattern"] in ("dense", "baseline") else r["pattern"]
        graph = suite._graph(network, pat, True)
        layers = r["layers"]
        log(f"RTL: {graph.name} ({r['policy']})")
        rr = run.run_network_l2(graph, policy=r["policy"], target="cv32e40p")
        n += 1
        got = [lr.cycles for lr in rr.layers]
        want = [lr["cycles"] for lr in layers]
        if got != want or rr.dma_cycles != r["dma_cycles"]:
            diff = [(lr["node"], a, b) for lr, a, b in zip(layers, want, got, strict=True)
                    if a != b]
            bad.append(f"{graph.name} ({r['policy']}): {diff[:3]}")
    return n, bad


def _rtl_full_note(full: dict, network: str) -> str:
    """Whether the full network's RTL run (``make net-full``) matches the ISS on every layer."""
    path = FULL_DIR / f"{network}-rtl" / "net.json"
    if not path.exists():
        return "*RTL:* the full network has not run on the CV32E40P RTL on this machine."
    rtl = json.loads(path.read_text())
    iss = _by_pattern(full)
    out = []
    for r in rtl["runs"]:
        i = iss.get(r["pattern"])
        if i is None or i.get("derived"):
            continue
        same = [a["cycles"] for a in r["layers"]] == [b["cycles"] for b in i["layers"]]
        verdict = "equal to" if same else "NOT equal to"
        out.append(f"{r['pattern']}: {r['cycles']:,} cycles on the RTL "
                   f"({rtl.get('seconds', 0) / 60:.0f} min of simulation, every tensor "
                   f"bit-exact), {verdict} the ISS on every layer")
    return "*RTL (CV32E40P with xDecimate):* " + ("; ".join(out) if out else "no matching run.")


def _derived_note(full: dict, network: str) -> str:
    """How the derived totals were made, and the end-to-end run that backs them."""
    dv = full["derived"]
    text = (f"*Derived:* each configuration ran with {dv['measured_blocks']} encoder block "
            f"(every tensor bit-exact); its totals count that block {dv['blocks']} times "
            "(layer cycles do not depend on values except the divisions of layer norm and "
            "softmax: `tests/sw/deploy/test_l2flow.py`).")
    e2e_path = FULL_DIR / f"{network}-e2e" / "net.json"
    if not e2e_path.exists():
        return text + " No end-to-end run backs it on this machine yet (`make net-full`)."
    e2e = json.loads(e2e_path.read_text())
    derived = _by_pattern(full)
    notes = []
    for r in e2e["runs"]:
        d = derived.get(r["pattern"])
        if d is None:
            continue
        notes.append(f"{r['pattern']}: {r['cycles']:,} cycles measured end to end "
                     f"({e2e.get('seconds', 0) / 60:.0f} min on the {e2e['target']}, every "
                     f"tensor bit-exact) vs {d['cycles']:,} derived "
                     f"({100 * (d['cycles'] - r['cycles']) / r['cycles']:+.3f} %)")
    return text + (" Backed by the whole network: " + "; ".join(notes) + "." if notes else "")


def report_section(ctx: Any) -> str:
    """Markdown of the networks section; writes ``net/<network>.json|.md|.png`` into
    ``ctx.out`` and ``ctx.figures["networks"]`` (``{network: {"scope": "quick"|"full",
    "speedup": {pattern: x}, "weight_ratio": {pattern: x}}}``).

    Raises ``AssertionError`` (failing the report) if a run is not bit-exact (raised inside
    the runs) or the RTL's cycles differ from the ISS's on any layer.
    """
    out = ctx.out / "net"
    out.mkdir(parents=True, exist_ok=True)
    patterns = ("1:8",) if ctx.quick else PATTERNS
    figures: dict[str, dict] = {}
    lines = [f"## {HEADING}", "",
             "The deployment flow (`sw/deploy`, [docs/net.md](../../docs/net.md)): the built-in "
             "networks (random weights: cycles do not depend on values; accuracy is measured "
             "in its own section) are quantized, N:M-pruned as the paper did, and compiled into "
             "one C program per configuration. Everything lives in a 64 MB **L2** that only "
             "the **DMA engine** reaches (modelled cycle-identically by the ISS and the RTL "
             "harness: 20 cycles per transfer + 2 per row + 8 bytes per cycle, "
             "[docs/iss.md](../../docs/iss.md#dma)); each conv / linear layer runs in L1 tiles "
             "(bands of output rows × tiles of output channels under a 122 kB budget) whose "
             "weights, packed indices and bias arrive in one transfer, double-buffered against "
             "compute. Every tensor of every run is compared with the golden model.", "",
             "**Not the paper's measurement:** ours is **one** CV32E40P core, the paper's an "
             "8-core cluster (MATCH/TVM compiler, its own tiling and DMA): compare speedups, "
             "not cycles. Baseline: the same flow with `dense_4x2` (PULP-NN style) on every "
             "layer; ours: policy `fastest` (per layer the kernel measured fastest on a probe "
             "of the layer, dense or N:M).", ""]
    for network in suite.NETWORKS:
        ctx.log(f"networks: quick {network}")
        res = suite.run_net(network, patterns, "fastest", "iss", quick=True, flow="l2",
                            single_buffer=True, progress=False)
        (out / f"{network}-quick.json").write_text(json.dumps(res, indent=1) + "\n")
        (out / f"{network}-quick.md").write_text(suite.net_markdown(res))
        png = _plot(res, out / f"{network}-quick.png")
        n_rtl, bad = _rtl_check(res, network, ctx.log)
        assert not bad, f"ISS and RTL cycles differ: {bad}"
        full_path = FULL_DIR / network / "net.json"
        full = json.loads(full_path.read_text()) if full_path.exists() else None
        scope, main = ("full", full) if full else ("quick", res)
        figures[network] = {
            "scope": scope,
            "speedup": {r["pattern"]: r["speedup"] for r in main["runs"]},
            "weight_ratio": {r["pattern"]: r["weight_ratio"] for r in main["runs"]},
        }
        lines += [f"### {PAPER[network]['name']}", ""]
        if full:
            fpng = _plot(full, out / f"{network}-full.png")
            lines += [f"**Full size** (`make net-full`, measured {full.get('date')} at commit "
                      f"{full.get('commit')}, {full.get('seconds', 0) / 60:.0f} min on the "
                      f"{full['target']}; quoted, not re-run by this report):", ""]
            if full.get("derived"):
                lines += [_derived_note(full, network), ""]
            lines += [*_table(full, network, "full"), "", _rtl_full_note(full, network), "",
                      f"![per-layer cycles, full]({fpng.relative_to(ctx.out)})", ""]
        else:
            lines += ["**Full size:** not measured on this machine yet: `make net-full` "
                      "runs it (ISS; see the README for its run time) and this section then "
                      "quotes it.", ""]
        lines += [f"**Quick variant** (this run: {res['seconds']:.0f} s on the ISS; all "
                  f"{n_rtl} configurations re-run on the CV32E40P RTL with xDecimate: every "
                  "layer's cycles equal):", "", *_table(res, network, "quick"), "",
                  f"![per-layer cycles]({png.relative_to(ctx.out)})", "",
                  f"Per-layer table: [net/{network}-quick.md](net/{network}-quick.md).", ""]
    ctx.figures["networks"] = figures
    return "\n".join(lines)
