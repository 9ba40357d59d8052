"""Kernel benchmark: dense vs software-sparse vs xDecimate on representative layer tiles.

Every run goes through :func:`xdecimate.sw.kernels.harness.run_kernel` (bit-exact check against the
golden model included).  Cycles are those of the marked whole-kernel region (im2col, matmul and
requantization of every pixel pair; no start-up code).  Speedup = dense cycles / sparse cycles
on the same layer.  Dense kernels run once per layer (their timing does not depend on the
weight values: no data-dependent instruction in their loops, ``tests/sw/bench/test_suite.py``
checks it).

Layer tiles (all data in the 128 kB DMEM, like the paper's L1; ``docs/kernels.md``):

* ResNet18 for CIFAR (32×32 input; the paper prunes only its 3×3 convolutions), one tile per
  stage.  Stages 1-3: an 8×8-output tile from the inside of the feature map, i.e. a 10×10
  input with its 1-pixel halo and no zero padding (what a tiling DMA brings into L1), with as
  many output channels as keep the dense weights at or below 72 kB: ``rn18-l1`` 64→64 ch
  (K = 576), ``rn18-l2`` 128→64 (K = 1152), ``rn18-l3`` 256→32 (K = 2304).  Stage 4 works on
  a 4×4 map, so its tile is the whole map with its zero padding: ``rn18-l4`` 512→16
  (K = 4608, pad 1).
* ViT-Small (d = 384, MLP 1536; the paper prunes only the MLP), 16 tokens:
  ``vit-fc1`` 384→192 and ``vit-fc2`` 1536→48.

The im2col-free kernels (:data:`~xdecimate.sw.kernels.harness.DIRECT_KERNELS`,
:data:`~xdecimate.sw.kernels.harness.DENSE_DIRECT_KERNELS`) run on the convolutions only (on
an FC layer they are the plain kernels).  The speedup columns keep the im2col dense kernels as
the baselines (PULP-NN, as in the paper); the targets table also gives the ratio against the
faster dense 4x2 of the two (im2col or direct).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..kernels import harness as ck
from ..model.nm_format import PATTERNS, Pattern

__all__ = [
    "LAYERS",
    "PAPER",
    "QUICK_LAYERS",
    "TARGETS",
    "BenchResult",
    "breakdown",
    "check_layers",
    "check_patterns",
    "markdown",
    "plot",
    "run_bench",
    "write_outputs",
]

#: Full benchmark layers (name -> shape).
LAYERS: dict[str, ck.FCShape | ck.ConvShape] = {
    "rn18-l1": ck.ConvShape(h=10, w=10, cin=64, cout=64, pad=0, name="rn18-l1"),
    "rn18-l2": ck.ConvShape(h=10, w=10, cin=128, cout=64, pad=0, name="rn18-l2"),
    "rn18-l3": ck.ConvShape(h=10, w=10, cin=256, cout=32, pad=0, name="rn18-l3"),
    "rn18-l4": ck.ConvShape(h=4, w=4, cin=512, cout=16, pad=1, name="rn18-l4"),
    "vit-fc1": ck.FCShape(k=384, cout=192, tokens=16, name="vit-fc1"),
    "vit-fc2": ck.FCShape(k=1536, cout=48, tokens=16, name="vit-fc2"),
}
#: ``--quick`` layers: the same K as rn18-l1 / vit-fc1, fewer pixels and channels.
QUICK_LAYERS: dict[str, ck.FCShape | ck.ConvShape] = {
    "rn18-l1-q": ck.ConvShape(h=6, w=6, cin=64, cout=16, pad=0, name="rn18-l1-q"),
    "vit-fc1-q": ck.FCShape(k=384, cout=32, tokens=4, name="vit-fc1-q"),
}
QUICK_PATTERNS = ("1:4", "1:8", "1:16")

#: The paper's speedups (Daghero et al., MLSys 2025; /work/shared/notes/paper.md, "Results to put
#: side by side with ours").  Key: (layer kind, kernel, baseline) -> {pattern: speedup}.
#: The paper's FC baseline is "dense (avg)", not split into 1x2 / 4x2.
PAPER: dict[tuple[str, str, str], dict[str, float]] = {
    ("conv", "xdec", "dense_4x2"): {"1:4": 1.12, "1:8": 1.74, "1:16": 2.78},
    ("conv", "xdec", "dense_1x2"): {"1:4": 1.50, "1:8": 2.4, "1:16": 3.9},
    ("conv", "sw", "dense_1x2"): {"1:4": 0.81, "1:16": 2.6},
    ("fc", "sw", "dense"): {"1:4": 1.02, "1:8": 1.6, "1:16": 2.3},
    ("fc", "xdec", "dense"): {"1:4": 1.8, "1:8": 2.2, "1:16": 2.9},
}


#: Issue 14's targets for the best xDecimate kernel per layer over dense 4x2 (geometric mean
#: over the layers of a kind).  Reported as measured, met or not; never asserted.
TARGETS: dict[tuple[str, str], float] = {
    ("conv", "1:4"): 1.15, ("conv", "1:8"): 2.2, ("conv", "1:16"): 4.2,
    ("fc", "1:4"): 1.16, ("fc", "1:8"): 2.3, ("fc", "1:16"): 4.4,
}


def paper_value(kind: str, kernel: str, baseline: str, pattern: str) -> float | None:
    """The paper's speedup for this cell, or None (FC: "dense" stands for either baseline)."""
    for key in ((kind, kernel, baseline), (kind, kernel, "dense")):
        if key in PAPER:
            return PAPER[key].get(pattern)
    return None


@dataclass
class BenchResult:
    """All runs of one benchmark, plus the speedup rows derived from them."""

    runs: list[ck.KernelRun]
    quick: bool
    target: str
    seconds: float = 0.0
    rows: list[dict[str, object]] = field(default_factory=list)

    def dense(self, layer: str, kernel: str) -> ck.KernelRun:
        return next(r for r in self.runs if r.layer == layer and r.kernel == kernel)

    def summary(self) -> list[dict[str, object]]:
        """Geometric-mean speedup per (kind, kernel, pattern) over the layers."""
        out = []
        keys = sorted({(r["kind"], r["kernel"], r["pattern"]) for r in self.rows},
                      key=lambda k: (k[0], k[1], _pat_order(str(k[2]))))
        for kind, kernel, pattern in keys:
            sel = [r for r in self.rows if (r["kind"], r["kernel"], r["pattern"])
                   == (kind, kernel, pattern)]
            row: dict[str, object] = {"kind": kind, "kernel": kernel, "pattern": pattern,
                                      "layers": len(sel)}
            for base in ck.DENSE_KERNELS:
                vals = [float(r[f"speedup_{base}"]) for r in sel]
                row[f"speedup_{base}"] = math.exp(sum(map(math.log, vals)) / len(vals))
                row[f"paper_{base}"] = paper_value(str(kind), str(kernel), base, str(pattern))
            out.append(row)
        return out

    def targets(self) -> list[dict[str, object]]:
        """The :data:`TARGETS` next to the measured figures, one row per (kind, pattern).

        ``ours``: geometric mean over the layers of dense 4x2 cycles over the fastest
        :data:`XDEC_FAMILY` kernel's on that layer (im2col dense 4x2, the paper's baseline);
        ``ours_best_dense``: the same against the faster of dense 4x2 and ``dense_4x2_direct``
        (None where that was not run, e.g. FC); ``chosen``: the fastest kernel per layer.
        """
        by = {(r.layer, r.pattern, r.kernel): r.kernel_cycles for r in self.runs}
        layers = {r.layer: r.kind for r in self.runs}
        out = []
        for (kind, pattern), target in TARGETS.items():
            vals, best_vals, chosen = [], [], {}
            for layer in (n for n, k in layers.items() if k == kind):
                cands = {k: by[(layer, pattern, k)] for k in XDEC_FAMILY
                         if (layer, pattern, k) in by}
                d4 = by.get((layer, "dense", "dense_4x2"))
                if not cands or d4 is None:
                    continue
                k_best = min(cands, key=lambda k: (cands[k], k))
                chosen[layer] = k_best
                vals.append(d4 / cands[k_best])
                d4d = by.get((layer, "dense", "dense_4x2_direct"))
                if d4d is not None:
                    best_vals.append(min(d4, d4d) / cands[k_best])
            if not vals:
                continue
            ours = _geomean(vals)
            best = _geomean(best_vals) if len(best_vals) == len(vals) else None
            out.append({"kind": kind, "pattern": pattern, "target": target, "ours": ours,
                        "met": ours >= target, "ours_best_dense": best,
                        "met_best_dense": None if best is None else best >= target,
                        "layers": len(vals), "chosen": chosen})
        return out


#: Kernel families of the headline: the strongest member of each is compared (per layer: the
#: im2col and the direct variants are both measured and the faster one counts).
XDEC_FAMILY = ("xdec", "xdec4", *ck.DIRECT_KERNELS)


def _geomean(vals: list[float]) -> float:
    return math.exp(sum(map(math.log, vals)) / len(vals))


def headline_figures(res: BenchResult) -> dict[str, object]:
    """The figures the report's headline compares with the paper, all from ``res``.

    ``cells[(kind, family, baseline, pattern)]``: geometric mean over the layers of kind
    ``kind`` of the dense baseline's cycles over the family's best kernel's cycles, per layer
    (``family``: ``"sw"`` = the fastest of :data:`~xdecimate.sw.kernels.harness.SW_KERNELS`,
    ``"xdec"`` = the fastest of :data:`XDEC_FAMILY`; ``baseline``: ``"dense_1x2"``,
    ``"dense_4x2"`` or ``"dense"`` = the faster of the two on that layer).
    Each dense baseline is the faster of its im2col and its im2col-free variant on the layer
    (the strongest baseline we have, which the paper's PULP-NN column is not).
    ``xdec_over_sw``: per (layer, pattern), the best software-sparse cycles over the best
    im2col xDecimate kernel's (``xdec``, ``xdec4``: like for like, the software-sparse kernels
    have no im2col-free variant): ``max`` with its layer and pattern, the geometric mean
    ``mean``.
    """
    by = {(r.layer, r.pattern, r.kernel): r.kernel_cycles for r in res.runs}
    layers = {r.layer: r.kind for r in res.runs}
    patterns = sorted({r.pattern for r in res.runs if r.kernel in ck.SPARSE_KERNELS},
                      key=_pat_order)
    fams = {"sw": tuple(k for k in ck.SW_KERNELS if k not in ck.SKIP_KERNELS),
            "xdec": XDEC_FAMILY}

    def best(layer: str, pattern: str, kernels: tuple[str, ...]) -> int | None:
        c = [by[(layer, pattern, k)] for k in kernels if (layer, pattern, k) in by]
        return min(c) if c else None

    # a baseline is the faster of its im2col and its direct (im2col-free) variant
    dense_of = {b: (b, f"{b}_direct") for b in ck.DENSE_KERNELS}
    dense_of["dense"] = (*ck.DENSE_KERNELS, *ck.DENSE_DIRECT_KERNELS)
    cells: dict[tuple[str, str, str, str], float] = {}
    ratios: list[tuple[float, str, str]] = []
    for kind in sorted(set(layers.values())):
        for fam, kernels in fams.items():
            for pattern in patterns:
                for base in (*ck.DENSE_KERNELS, "dense"):
                    vals = []
                    for layer in (n for n, k in layers.items() if k == kind):
                        f = best(layer, pattern, kernels)
                        dense = best(layer, "dense", dense_of[base])
                        if f and dense:
                            vals.append(dense / f)
                    if vals:
                        cells[(kind, fam, base, pattern)] = _geomean(vals)
    for layer in layers:
        for pattern in patterns:
            # like for like: both families with im2col (software-sparse has no direct variant)
            s, x = best(layer, pattern, fams["sw"]), best(layer, pattern, ("xdec", "xdec4"))
            if s and x:
                ratios.append((s / x, layer, pattern))
    top = max(ratios) if ratios else None
    return {
        "target": res.target,
        "cells": cells,
        "xdec_over_sw": None if top is None else {
            "max": top[0], "layer": top[1], "pattern": top[2],
            "mean": _geomean([r for r, _, _ in ratios]), "count": len(ratios)},
    }


def _pat_order(p: str) -> tuple[int, int]:
    n, m = (int(t) for t in p.split(":"))
    return (n, m)


def check_patterns(patterns: object) -> tuple[str, ...]:
    """``patterns`` as a tuple of N:M strings, each supported, written canonically, once.

    Raises
    ------
    TypeError
        Not a list/tuple of str (a bare ``"1:8"`` is refused: it would be read character by
        character).
    ValueError
        Empty; an item that is not a supported ``N:M`` pattern or not written as ``str`` of its
        :class:`Pattern` (``"1:08"``: rows and the paper columns are keyed by ``"1:8"``); an
        item given twice.
    """
    if isinstance(patterns, (str, bytes)) or not isinstance(patterns, (list, tuple)):
        raise TypeError(f"patterns must be a tuple or list of 'N:M' str, not "
                        f"{type(patterns).__name__} {patterns!r}")
    if not patterns:
        raise ValueError("patterns must hold at least one 'N:M' pattern, not an empty "
                         "sequence (pass None for the default)")
    for p in patterns:
        if not isinstance(p, str):
            raise TypeError(f"patterns must hold 'N:M' str, not {type(p).__name__} {p!r}")
        canonical = str(Pattern.parse(p))
        if canonical != p:
            raise ValueError(f"pattern must be written {canonical!r}, not {p!r}")
    dup = sorted({p for p in patterns if patterns.count(p) > 1})
    if dup:
        raise ValueError(f"patterns must be distinct, not {list(patterns)!r} ({dup[0]!r} twice)")
    return tuple(patterns)


def check_layers(layers: object) -> dict[str, ck.FCShape | ck.ConvShape]:
    """``layers``: a non-empty dict of layer name (str) -> ``FCShape``/``ConvShape``.

    Raises
    ------
    TypeError
        Not a dict, a name that is not a str, a shape that is not an FCShape/ConvShape.
    ValueError
        An empty dict (pass None for the default).
    """
    if not isinstance(layers, dict):
        raise TypeError(f"layers must be a dict name -> FCShape/ConvShape, not "
                        f"{type(layers).__name__} {layers!r}")
    if not layers:
        raise ValueError("layers must hold at least one layer, not {} (pass None for the "
                         "default)")
    for name, shape in layers.items():
        if not isinstance(name, str):
            raise TypeError(f"layer names must be str, not {type(name).__name__} {name!r}")
        if not isinstance(shape, (ck.FCShape, ck.ConvShape)):
            raise TypeError(f"layer {name!r} must be an FCShape or a ConvShape, not "
                            f"{type(shape).__name__} {shape!r}")
    return layers


def run_bench(*, quick: bool = False, patterns: tuple[str, ...] | None = None,
              layers: dict[str, ck.FCShape | ck.ConvShape] | None = None,
              target: ck.Target | None = None, cache_key: str | None = None,
              log: Callable[[str], None] = print) -> BenchResult:
    """Run every kernel on every layer and pattern; return runs and speedup rows.

    ``target``/``cache_key`` as in :func:`xdecimate.sw.kernels.harness.run_kernel` (default: the
    ISS).  ``patterns``/``layers``: ``None`` for the defaults (``quick`` or full).

    Raises
    ------
    TypeError, ValueError
        Bad ``patterns`` (:func:`check_patterns`) or ``layers`` (:func:`check_layers`),
        ``quick`` not a bool, ``log``/``target`` not callable; a layer that does not fit in
        DMEM.  All checked before the first run.
    AssertionError
        If any kernel output is not bit-exact.
    """
    if not isinstance(quick, bool):
        raise TypeError(f"quick must be a bool, not {type(quick).__name__} {quick!r}")
    for what, f in (("log", log), ("target", target)):
        if f is not None and not callable(f):
            raise TypeError(f"{what} must be callable, not {type(f).__name__} {f!r}")
    layers = check_layers(layers) if layers is not None else (
        QUICK_LAYERS if quick else LAYERS)
    patterns = check_patterns(patterns) if patterns is not None else (
        QUICK_PATTERNS if quick else tuple(str(p) for p in PATTERNS))
    # every case made and checked against DMEM before the first (long) run
    cases = {(name, p): ck.make_case(shape, p) for name, shape in layers.items()
             for p in patterns}
    for (name, p), case in cases.items():
        dense = _dense_kernels(layers[name]) if p == patterns[0] else ()
        for kernel in _sparse_kernels(layers[name]) + dense:
            ck.check_fits(case, kernel)
    t0 = time.perf_counter()
    res = BenchResult(runs=[], quick=quick, target="")
    for name, shape in layers.items():
        dense = {}
        for kernel in _dense_kernels(shape):
            t = time.perf_counter()
            run = ck.run_kernel(cases[(name, patterns[0])], kernel, target=target,
                                cache_key=cache_key)
            res.target = run.target
            run.pattern = "dense"
            res.runs.append(run)
            dense[kernel] = run
            log(f"{name} {kernel}: {run.kernel_cycles} cycles ({time.perf_counter() - t:.1f} s)")
        for pattern in patterns:
            case = cases[(name, pattern)]
            for kernel in _sparse_kernels(shape):
                t = time.perf_counter()
                run = ck.run_kernel(case, kernel, target=target, cache_key=cache_key)
                res.runs.append(run)
                row: dict[str, object] = {
                    "layer": name, "kind": shape.kind, "pattern": pattern, "kernel": kernel,
                    "k": shape.k, "cout": shape.cout, "pixels": shape.npix,
                    "cycles": run.kernel_cycles, "loop_instr_per_8mac": run.loop.per_8_macs,
                    "direct": kernel in ck.DIRECT_KERNELS
                    and ck.direct_walkable(shape, Pattern.parse(pattern)),
                }
                for base, d in dense.items():
                    row[f"speedup_{base}"] = d.kernel_cycles / run.kernel_cycles
                    if base in ck.DENSE_KERNELS:
                        row[f"paper_{base}"] = paper_value(shape.kind, kernel, base, pattern)
                for region in ("im2col", "pad", "matmul", "requant"):
                    r = run.regions.get(region)
                    row[f"share_{region}"] = r.cycles / run.kernel_cycles if r else 0.0
                res.rows.append(row)
                log(f"{name} {pattern} {kernel}: {run.kernel_cycles} cycles, "
                    f"{row['speedup_dense_1x2']:.2f}x vs 1x2, {row['speedup_dense_4x2']:.2f}x "
                    f"vs 4x2 ({time.perf_counter() - t:.1f} s)")
    res.seconds = time.perf_counter() - t0
    return res


def _dense_kernels(shape: ck.FCShape | ck.ConvShape) -> tuple[str, ...]:
    """Dense kernels run on ``shape``: the baselines, plus the direct ones on a convolution."""
    return ck.DENSE_KERNELS + (ck.DENSE_DIRECT_KERNELS if shape.kind == "conv" else ())


def _sparse_kernels(shape: ck.FCShape | ck.ConvShape) -> tuple[str, ...]:
    """Sparse kernels run on ``shape`` (the direct ones on convolutions only; the skip kernels
    never: the benchmark's exact weights have nothing to skip, the approximate layers of
    ``sw/approx`` measure them)."""
    exact = tuple(k for k in ck.SPARSE_KERNELS if k not in ck.SKIP_KERNELS)
    if shape.kind == "conv":
        return exact
    return tuple(k for k in exact if k not in ck.DIRECT_KERNELS)


def im2col_coverage(shape: ck.ConvShape, pattern: str) -> tuple[float, float]:
    """Fractions of the im2col bytes and words that some NZ weight of the layer reads.

    A "decimate im2col" that copies only these could save at most the rest; the bench data
    (random weights, magnitude-pruned) is used.
    """
    w = ck.make_case(shape, pattern).w
    used = (w != 0).any(axis=0)
    k4 = -(-used.size // 4) * 4
    padded = list(used) + [False] * (k4 - used.size)
    words = [any(padded[i:i + 4]) for i in range(0, k4, 4)]
    return float(used.mean()), sum(words) / len(words)


def _check_result(res: object) -> None:
    if not isinstance(res, BenchResult):
        raise TypeError(f"res must be a BenchResult, not {type(res).__name__}")


def _check_path(what: str, path: object) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a path (str or os.PathLike), not "
                        f"{type(path).__name__} {path!r}")
    return Path(path)


def _fmt(v: object, spec: str = ".2f") -> str:
    return "–" if v is None else format(v, spec)


def markdown(res: BenchResult) -> str:
    """Markdown tables: per-layer runs, dense baselines, and the summary next to the paper."""
    _check_result(res)
    lines = [
        f"Target `{res.target}`; cycles of the whole marked kernel (im2col + matmul + requant). "
        "Speedup = dense cycles / sparse cycles on the same layer tile. Paper columns: "
        "Daghero et al., MLSys 2025 (FC: the paper's \"vs dense, average\"). Not measured the "
        "same way: ours is one core with zero-wait-state memory (all data in the 128 kB L1) on "
        "layer tiles with random pruned weights (cycles do not depend on weight values); the "
        "paper's is an 8-core XpulpV2 cluster with its memory hierarchy on whole layers. Compare "
        "ratios, not cycles.", "",
        "### Summary (geometric mean over the layers) next to the paper", "",
        "| Kind | Kernel | Pattern | vs 1×2 (ours) | vs 1×2 (paper) | vs 4×2 (ours) "
        "| vs 4×2 (paper) |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {s['kind']} | {s['kernel']} | {s['pattern']} "
              f"| {_fmt(s['speedup_dense_1x2'])}× | {_fmt(s['paper_dense_1x2'])} "
              f"| {_fmt(s['speedup_dense_4x2'])}× | {_fmt(s['paper_dense_4x2'])} |"
              for s in res.summary()]
    tg = res.targets()
    if tg:
        lines += ["", "### Targets (issue 14): fastest xDecimate kernel per layer vs dense 4×2",
                  "", "Geometric mean over the layers of each kind; per layer the fastest of "
                  f"{', '.join(f'`{k}`' for k in XDEC_FAMILY)} counts (im2col or direct walk, "
                  "whichever measured faster). \"vs best dense 4×2\": against the faster of "
                  "`dense_4x2` and `dense_4x2_direct` (convolutions only).", "",
                  "| Kind | Pattern | Target | vs dense 4×2 | Met | vs best dense 4×2 | Met "
                  "| Kernel chosen per layer |",
                  "|---|---|---|---|---|---|---|---|"]
        for t in tg:
            chosen = ", ".join(f"{la}: {k}" for la, k in dict(t["chosen"]).items())
            met2 = "–" if t["met_best_dense"] is None else ("yes" if t["met_best_dense"]
                                                             else "**no**")
            lines.append(f"| {t['kind']} | {t['pattern']} | ≥ {t['target']:.2f}× "
                         f"| {_fmt(t['ours'])}× | {'yes' if t['met'] else '**no**'} "
                         f"| {_fmt(t['ours_best_dense'])}{'×' if t['ours_best_dense'] else ''} "
                         f"| {met2} | {chosen} |")
    lines += _direct_table(res)
    lines += ["", "### Dense baselines", "",
              "| Layer | K | Cout | Pixels | Kernel | Cycles | MACs/cycle | Loop instr / 8 MACs |",
              "|---|---|---|---|---|---|---|---|"]
    for r in res.runs:
        if r.pattern == "dense":
            lines.append(f"| {r.layer} | {r.k} | {r.cout} | {r.pixels} | {r.kernel} "
                         f"| {r.kernel_cycles} | {r.macs / r.kernel_cycles:.2f} "
                         f"| {r.loop.per_8_macs:.1f} |")
    lines += ["", "### Sparse kernels per layer", "",
              "| Layer | Pattern | Kernel | Cycles | vs 1×2 | vs 4×2 | Loop instr / 8 MACs "
              "| im2col | pad copy | matmul | requant |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res.rows:
        lines.append(
            f"| {r['layer']} | {r['pattern']} | {r['kernel']} | {r['cycles']} "
            f"| {_fmt(r['speedup_dense_1x2'])}× | {_fmt(r['speedup_dense_4x2'])}× "
            f"| {_fmt(r['loop_instr_per_8mac'], '.0f')} | {_fmt(r['share_im2col'], '.0%')} "
            f"| {_fmt(r.get('share_pad', 0.0), '.0%')} "
            f"| {_fmt(r['share_matmul'], '.0%')} | {_fmt(r['share_requant'], '.0%')} |")
    convs = {r["layer"]: r for r in res.rows if r["kind"] == "conv"}
    pats = [p for p in ("1:4", "1:8", "1:16") if any(r["pattern"] == p for r in res.rows)]
    shapes = {**LAYERS, **QUICK_LAYERS}
    if convs and pats:
        lines += ["", "### Decimate im2col: share of the im2col buffer the NZ weights read", "",
                  "A word-granular selective im2col can skip only words no row reads; a "
                  "byte-granular one costs 2+ instructions per byte instead of 0.5 (word "
                  "copies). Not kept: see `docs/kernels.md`.", "",
                  "| Layer | Cout | " + " | ".join(f"{p} bytes / words" for p in pats) + " |",
                  "|---|---|" + "---|" * len(pats)]
        for name in convs:
            shape = shapes.get(name)
            if not isinstance(shape, ck.ConvShape):
                continue
            cells = []
            for p in pats:
                b, w = im2col_coverage(shape, p)
                cells.append(f"{b:.1%} / {w:.1%}")
            lines.append(f"| {name} | {shape.cout} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


#: (im2col kernel, its direct variant) pairs compared by :func:`_direct_table`.
DIRECT_PAIRS = (("dense_1x2", "dense_1x2_direct"), ("dense_4x2", "dense_4x2_direct"),
                ("xdec", "xdec_direct"), ("xdec4", "xdec4_direct"))


def direct_gains(res: BenchResult) -> list[dict[str, object]]:
    """Per convolution layer, pattern and :data:`DIRECT_PAIRS` pair: im2col and direct cycles,
    ``gain`` = im2col cycles / direct cycles (> 1: the direct walk is faster)."""
    by = {(r.layer, r.pattern, r.kernel): r for r in res.runs if r.kind == "conv"}
    out = []
    for (layer, pattern, kernel), run in by.items():
        for a, b in DIRECT_PAIRS:
            if kernel == a and (layer, pattern, b) in by:
                d = by[(layer, pattern, b)]
                out.append({"layer": layer, "pattern": pattern, "kernel": a,
                            "im2col": run.kernel_cycles, "direct": d.kernel_cycles,
                            "gain": run.kernel_cycles / d.kernel_cycles,
                            "walked": "im2col" not in d.regions,
                            "im2col_share": run.regions["im2col"].cycles / run.kernel_cycles
                            if "im2col" in run.regions else 0.0})
    return out


def _direct_table(res: BenchResult) -> list[str]:
    rows = direct_gains(res)
    if not rows:
        return []
    lines = ["", "### im2col vs the direct walk (convolutions)", "",
             "Same block loop; the direct kernels skip im2col and read each patch from the "
             "input, one `xdec` counter write (xDecimate) or two pointer adds (dense) per kernel "
             "row; padded layers first copy the input into a zero-padded buffer (region `pad`). "
             "Gain = im2col cycles / direct cycles; \"im2col share\": of the im2col kernel's "
             "cycles. Faster kernel kept per layer.", "",
             "| Layer | Pattern | Kernel | im2col share | im2col cycles | direct cycles | Gain "
             "| Faster |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        faster = ("direct" if r["gain"] > 1 else "im2col") if r["walked"] else \
            "im2col (not walkable)"
        lines.append(f"| {r['layer']} | {r['pattern']} | {r['kernel']} "
                     f"| {r['im2col_share']:.1%} | {r['im2col']} | {r['direct']} "
                     f"| {r['gain']:.3f}× | {faster} |")
    return lines


#: Cycle categories of :func:`breakdown` (bottom to top) and their colours.
BREAKDOWN = (("im2col / pad copy", "C3"), ("interleave", "C4"), ("matmul", "C0"),
             ("requant", "C2"), ("setup / loop control", "C7"))


def cycle_breakdown(run: ck.KernelRun) -> dict[str, int]:
    """Cycles of ``run`` per :data:`BREAKDOWN` category (they sum to its kernel cycles):
    im2col + pad copy, the SW kernels' interleave (inside matmul), the rest of matmul,
    requant, and what no region covers (per-chunk marks, driver loop, calls)."""
    reg = {k: v.cycles for k, v in run.regions.items()}
    ilv = reg.get("interleave", 0)
    parts = {"im2col / pad copy": reg.get("im2col", 0) + reg.get("pad", 0),
             "interleave": ilv, "matmul": reg.get("matmul", 0) - ilv,
             "requant": reg.get("requant", 0)}
    parts["setup / loop control"] = run.kernel_cycles - sum(parts.values())
    return parts


def breakdown(res: BenchResult, path: Path) -> Path:
    """Stacked bars: where every kernel's cycles go, per layer and N = 1 pattern.

    Bars are normalised to the layer's ``dense_4x2`` cycles (1.0), so a bar's height is the
    inverse of its speedup over PULP-NN 4x2.  The paper gives speedups only, no breakdown:
    its figures appear as markers at the height they imply (1 / speedup vs 4x2; vs 1x2 as our
    1x2 cycles / speedup; FC "vs dense" against our 4x2).
    """
    _check_result(res)
    path = _check_path("path", path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pats = [p for p in ("1:4", "1:8", "1:16") if any(r.pattern == p for r in res.runs)]
    layers = list(dict.fromkeys(r.layer for r in res.runs))
    kind = {r.layer: r.kind for r in res.runs}
    by = {(r.layer, r.pattern, r.kernel): r for r in res.runs}
    nrow, ncol = max(1, len(pats)), max(1, len(layers))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 3.3 * nrow), squeeze=False)
    marks = {"xdec": (("dense_4x2", "v", "k"), ("dense_1x2", "^", "m")),
             "sw": (("dense_1x2", "^", "m"),)}
    for i, pattern in enumerate(pats or ["–"]):
        for j, layer in enumerate(layers):
            ax = axes[i][j]
            d4 = by.get((layer, "dense", "dense_4x2"))
            runs = [r for r in res.runs if r.layer == layer and r.pattern == "dense"]
            runs += [by[(layer, pattern, k)] for k in ck.SPARSE_KERNELS
                     if (layer, pattern, k) in by]
            if d4 is None or not runs:
                ax.set_axis_off()
                continue
            xs = range(len(runs))
            bottom = [0.0] * len(runs)
            for cat, color in BREAKDOWN:
                h = [cycle_breakdown(r)[cat] / d4.kernel_cycles for r in runs]
                ax.bar(xs, h, bottom=bottom, color=color, width=0.75,
                       label=cat if (i, j) == (0, 0) else None)
                bottom = [b + v for b, v in zip(bottom, h, strict=True)]
            fc = kind[layer] == "fc"
            for x, r in zip(xs, runs, strict=True):
                for base, m, c in marks.get(r.kernel, ()):
                    pv = paper_value(kind[layer], r.kernel, base, pattern)
                    ref = by.get((layer, "dense", base))
                    if pv is None or ref is None or (fc and base == "dense_1x2"):
                        continue
                    name = "dense (FC)" if fc else base.split("_")[1]
                    ax.plot([x], [ref.kernel_cycles / pv / d4.kernel_cycles], m, color=c,
                            ms=6, mfc="none", mew=1.5, label=f"paper: vs {name}")
            ax.set_xticks(list(xs), [r.kernel.replace("_direct", "_d") for r in runs],
                          rotation=90, fontsize=6)
            ax.tick_params(axis="y", labelsize=7)
            ax.set_title(f"{layer} @ {pattern}", fontsize=8)
            ax.grid(axis="y", alpha=0.3)
            if j == 0:
                ax.set_ylabel("cycles / dense 4×2 cycles", fontsize=7)
    legend: dict[str, object] = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(lab, h)
    labels = list(legend)
    fig.legend(list(legend.values()), labels, loc="lower center",
               ncol=min(8, len(labels) or 1), fontsize=8)
    fig.suptitle(f"Cycle breakdown per kernel ({res.target}); markers: the paper's speedups "
                 "as the cycles they imply (the paper gives no breakdown)", fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot(res: BenchResult, path: Path) -> Path:
    """Speedup vs sparsity (N = 1 patterns): ours (lines) and the paper's (hollow markers)."""
    _check_result(res)
    path = _check_path("path", path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pats = [p for p in ("1:4", "1:8", "1:16") if any(r["pattern"] == p for r in res.rows)]
    xs = list(range(len(pats)))
    summ = {(s["kind"], s["kernel"], s["pattern"]): s for s in res.summary()}
    kinds = [k for k in ("conv", "fc") if any(r["kind"] == k for r in res.rows)]
    fig, axes = plt.subplots(1, len(kinds), figsize=(6 * len(kinds), 4.2), squeeze=False)
    styles = {("xdec", "dense_1x2"): ("C0", "-"), ("xdec", "dense_4x2"): ("C1", "-"),
              ("sw", "dense_1x2"): ("C2", "--"), ("sw", "dense_4x2"): ("C3", "--"),
              ("xdec4", "dense_4x2"): ("C4", "-."), ("sw4", "dense_4x2"): ("C5", "-.")}
    names = {"xdec": "xDecimate", "xdec4": "xDecimate 1x4", "sw": "SW sparse",
             "sw4": "SW sparse 1x4"}
    for ax, kind in zip(axes[0], kinds, strict=True):
        for (kernel, base), (color, ls) in styles.items():
            ys = [summ.get((kind, kernel, p), {}).get(f"speedup_{base}") for p in pats]
            if not any(y is not None for y in ys):
                continue
            label = f"ours: {names[kernel]} vs {base.split('_')[1]}"
            ax.plot(xs, ys, ls, color=color, marker="o", label=label)
            pv = [paper_value(kind, kernel, base, p) for p in pats]
            if kind == "fc" and base == "dense_4x2":
                continue  # the paper's FC numbers have one dense baseline: drawn once
            if any(v is not None for v in pv):
                bl = "dense avg" if kind == "fc" else base.split("_")[1]
                ax.plot([x for x, v in zip(xs, pv, strict=True) if v is not None],
                        [v for v in pv if v is not None], ":", color=color, marker="s",
                        mfc="none", label=f"paper: {'xDecimate' if kernel == 'xdec' else 'SW'}"
                        f" vs {bl}")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_xticks(xs, pats)
        ax.set_xlabel("N:M pattern")
        ax.set_ylabel("speedup over dense (×)")
        ax.set_title(f"{'Convolution' if kind == 'conv' else 'Fully connected'} "
                     f"({res.target}; geo-mean over layers)")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_outputs(res: BenchResult, out: Path) -> dict[str, Path]:
    """Write ``bench.json``, ``bench.md``, ``speedup.png`` and ``breakdown.png`` into ``out``.

    Raises
    ------
    TypeError
        ``res`` not a :class:`BenchResult`, ``out`` not a path.
    FileExistsError
        ``out`` exists and is not a folder.
    """
    _check_result(res)
    out = _check_path("out", out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"output folder {str(out)!r} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "bench.json", "md": out / "bench.md", "png": out / "speedup.png",
             "breakdown": out / "breakdown.png"}
    paths["json"].write_text(json.dumps({
        "target": res.target, "quick": res.quick, "seconds": res.seconds,
        "layers": {n: s.__dict__ | {"kind": s.kind, "k": s.k, "macs": s.macs}
                   for n, s in (QUICK_LAYERS if res.quick else LAYERS).items()},
        "paper": {"|".join(k): v for k, v in PAPER.items()},
        "summary": res.summary(), "targets": res.targets(),
        "direct_gains": direct_gains(res), "rows": res.rows,
        "runs": [r.to_json() for r in res.runs]}, indent=1, default=str))
    paths["md"].write_text("# Kernel benchmark\n\n" + markdown(res))
    plot(res, paths["png"])
    breakdown(res, paths["breakdown"])
    return paths
