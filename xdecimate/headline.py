"""The report's first screen: each claim of the two papers, the paper's figure, ours, and a link.

What it may import: the standard library only.  It reads the figures the report sections put
into ``ReportContext.figures`` (``"bench"`` from :mod:`xdecimate.sw.bench.report`, ``"memory"``
from :mod:`xdecimate.sw.model.selfcheck`, ``"area"`` from :mod:`xdecimate.synth.report`,
``"networks"`` from :mod:`xdecimate.sw.deploy.report`, ``"accuracy"`` from
:mod:`xdecimate.sw.train.report`) and the
heading of each section (for the links).  Nothing here is a measurement: a claim whose figure no
section produced reads "not measured yet" with the issue that builds it, never a number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["PAPER_CLAIMS", "render", "slug"]

#: The papers' claims, as stated (shared/notes/paper.md).  Only these paper figures are copied.
PAPER_CLAIMS: dict[str, str] = {
    "sw_fc": "1.02× / 1.6× / 2.3×",
    "sw_conv": "0.81× / – / 2.6×",
    "xdec_conv": "1.12× / 1.74× / 2.78×",
    "xdec_fc": "1.8× / 2.2× / 2.9×",
    "xdec_over_sw": "up to 1.9×",
    "area": "≈ 5 % of the core",
    "memory": "68.75 % / 81.25 % / 90.625 %",
    "resnet18": "3.21× at 1:16",
    "vit": "1.81× at 1:16",
    "accuracy": "< 1.5 % Top-1",
    "approx": "21 % lower latency, no Top-1 loss",
}

_N1 = ("1:4", "1:8", "1:16")
#: Section modules the headline links to (keys of the ``headings`` argument of :func:`render`).
BENCH, SELFCHECK, AREA = ("xdecimate.sw.bench.report", "xdecimate.sw.model.selfcheck",
                          "xdecimate.synth.report")
NETWORKS, ACCURACY = "xdecimate.sw.deploy.report", "xdecimate.sw.train.report"
APPROX = "xdecimate.sw.approx.report"


def slug(heading: str) -> str:
    """The anchor GitHub gives a markdown heading (lower case, punctuation dropped, spaces to -)."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def _link(headings: Mapping[str, str], module: str) -> str:
    h = headings.get(module)
    return f"[{h}](#{slug(h)})" if h else "–"


def _triple(cells: Mapping[tuple[str, str, str, str], float], kind: str, fam: str,
            base: str) -> str | None:
    vals = [cells.get((kind, fam, base, p)) for p in _N1]
    if all(v is None for v in vals):
        return None
    return " / ".join("–" if v is None else f"{v:.2f}×" for v in vals)


def render(figures: Mapping[str, Any], headings: Mapping[str, str]) -> str:
    """Markdown: the headline table of one report run.

    Parameters
    ----------
    figures : ``ReportContext.figures`` after every section ran.
    headings : section module -> the text of its first ``##`` heading (for the links).
    """
    todo = "not measured yet"
    rows: list[tuple[str, str, str, str]] = []
    bench = figures.get("bench") or {}
    cells = bench.get("cells") or {}
    ln = _link(headings, BENCH)
    for key, claim, kind, fam, base, note in (
            ("sw_fc", "Software N:M vs dense, FC (1:4 / 1:8 / 1:16)", "fc", "sw", "dense",
             "vs the faster dense kernel"),
            ("sw_conv", "Software N:M vs dense 1×2, conv (1:4 / 1:8 / 1:16)", "conv", "sw",
             "dense_1x2", "vs the faster dense 1×2, im2col or direct"),
            ("xdec_conv", "xDecimate vs dense 4×2 (PULP-NN style), conv", "conv", "xdec",
             "dense_4x2", "vs the faster dense 4×2, im2col or direct"),
            ("xdec_fc", "xDecimate vs dense, FC", "fc", "xdec", "dense",
             "vs the faster dense kernel")):
        ours = _triple(cells, kind, fam, base)
        rows.append((claim, PAPER_CLAIMS[key],
                     f"{ours}" + (f" ({note})" if note and ours else "") if ours else todo,
                     ln))
    xs = bench.get("xdec_over_sw")
    rows.append(("xDecimate over the strongest software-sparse kernel (both with im2col)",
                 PAPER_CLAIMS["xdec_over_sw"],
                 f"up to {xs['max']:.2f}× ({xs['layer']}, {xs['pattern']}); geometric mean "
                 f"{xs['mean']:.2f}× over {xs['count']} layer × pattern cells" if xs else todo,
                 ln))
    rows.append(("Core area overhead of xDecimate", PAPER_CLAIMS["area"],
                 _area(figures.get("area")), _link(headings, AREA)))
    mem = figures.get("memory")
    rows.append(("Weight memory saved vs dense int8 (1:4 / 1:8 / 1:16)", PAPER_CLAIMS["memory"],
                 " / ".join(f"{100 * mem[p]:.3f} %" for p in _N1) + " (our format, K = 16·M)"
                 if mem and all(p in mem for p in _N1) else todo,
                 _link(headings, SELFCHECK)))
    nets = figures.get("networks") or {}
    for key, claim in (("resnet18", "ResNet18 end to end vs dense (1:4 / 1:8 / 1:16)"),
                       ("vit", "ViT-Small end to end vs dense (1:4 / 1:8 / 1:16)")):
        rows.append((claim, PAPER_CLAIMS[key], _network(nets.get(key)),
                     _link(headings, NETWORKS) if nets.get(key) else "–"))
    acc = figures.get("accuracy")
    rows.append(("Top-1 drop vs dense (1:8 / 1:16)", PAPER_CLAIMS["accuracy"],
                 _accuracy(acc), _link(headings, ACCURACY) if acc else "–"))
    apx = figures.get("approx")
    rows.append(("Approximate kernels (Armeniakos et al., seed 002)", PAPER_CLAIMS["approx"],
                 _approx(apx), _link(headings, APPROX) if apx else "–"))
    target = bench.get("target")
    lines = ["## Headlines: the papers' claims and ours", "",
             "Ours: measured by this run on **one** CV32E40P core"
             + (f" (kernels timed on `{target}`, cycle-exact with the extended RTL, see below)"
                if target else "")
             + ", zero-wait-state memory; kernels on single layer tiles and networks with "
             "random pruned weights (networks through L2 and DMA), accuracy with trained "
             "models on real data. The "
             "paper's: an 8-core XpulpV2 cluster with its memory hierarchy (Daghero et al., "
             "MLSys 2025; Armeniakos et al. for the last row). Speedups are geometric means "
             "over our layers of each kind; the strongest of our kernels in each family is "
             "compared.", "",
             "| Claim | Paper | Ours | Measured in |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines) + "\n"


def _network(fig: Any) -> str:
    """The whole-network cell from ``figures["networks"][name]`` (sw/deploy/report.py)."""
    if not isinstance(fig, Mapping) or not fig.get("speedup"):
        return "not measured yet (issue #15)"
    sp = fig["speedup"]
    cell = " / ".join(f"{sp[p]:.2f}×" if sp.get(p) is not None else "–" for p in _N1)
    mem = fig.get("weight_ratio") or {}
    extra = ", weights " + " / ".join(f"{mem[p]:.2f}×" for p in _N1 if p in mem) + " smaller"
    scope = ("full size" if fig.get("scope") == "full"
             else "**quick variant** (full size: `make net-full`)")
    return f"{cell} ({scope}, one core{extra if mem else ''})"


def _accuracy(acc: Any) -> str:
    """The accuracy cell from ``figures["accuracy"]`` (sw/train/report.py)."""
    if not isinstance(acc, Mapping):
        return "not measured yet (issue #16)"
    d8, d16 = acc.get("drop_1_8") or {}, acc.get("drop_1_16") or {}
    names = {"cnn": "CNN", "vit": "ViT"}
    parts = [f"{names[m]} {d8[m]:.2f} / {d16.get(m, float('nan')):.2f} pp"
             for m in ("cnn", "vit") if m in d8]
    n = acc.get("test_images")
    return ("; ".join(parts) + " below int8 dense (Fashion-MNIST"
            + (f", {n:,} test images" if isinstance(n, int) else "")
            + ", small models trained here; the paper: CIFAR, ResNet18 / ViT-S)"
            ) if parts else "not measured yet (issue #16)"


def _approx(apx: Any) -> str:
    """The approximate-computing cell from ``figures["approx"]`` (sw/approx/report.py)."""
    if not isinstance(apx, Mapping) or not apx.get("models"):
        return "not measured yet (issue #17)"
    names = {"cnn": "CNN", "vit": "ViT"}
    parts = []
    for m, f in apx["models"].items():
        z, w = f.get("zero_loss"), f.get("within_1pp")
        parts.append(f"{names.get(m, m)} {'−%.1f %%' % (100 * z) if z is not None else 'none'}"
                     f" at 0 pp, {'−%.1f %%' % (100 * w) if w is not None else 'none'} at "
                     "≤ 1 pp")
    return ("; ".join(parts) + " latency vs int8 dense (`dense_4x2`), measured end to end "
            "(Fashion-MNIST, one core" + (", **quick** DSE" if apx.get("quick") else "") + ")")


def _area(doc: Any) -> str:
    """The core-overhead cell from the area JSON document (docs/area.md), if a core was built."""
    host = (doc or {}).get("host_core") or {}
    if not host.get("available"):
        return "not measured yet (issue #12)"
    out = []
    for name, e in (host.get("configs") or {}).items():
        if not isinstance(e, Mapping) or "overhead_pct" not in e:
            continue
        cell = f"{name}: {e['overhead_pct']:.2f} %"
        if e.get("overhead_ge") is not None:
            cell += f" ({e['overhead_ge']:.0f} GE)"
        if e.get("fmax_change_pct") is not None:
            cell += f", Fmax {e['fmax_change_pct']:+.1f} %"
        out.append(cell)
    off = host.get("off")
    if out and isinstance(off, Mapping) and off.get("fmax_change_pct") is not None:
        out.append(f"flow noise (the same logic, extension off): {off['overhead_pct']:+.2f} %, "
                   f"Fmax {off['fmax_change_pct']:+.1f} %")
    return "; ".join(out) if out else "not measured yet (issue #12)"
