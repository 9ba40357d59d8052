"""The whole approximate-computing study of one or both models: cycle tables, DSE, picks, core.

What it is for: ``xdecimate dse`` (``xdecimate/cmd_dse.py``) and the report's DSE section
(:mod:`.report`) run the same pipeline, per model (``arch``):

1. a :class:`.cycles.CycleTable` per trained base model (every layer x choice measured on the
   ISS), and the int8 dense model's cycles (policy ``skip``: ``dense_4x2`` everywhere) -- the
   reference latency, as CMSIS-NN's exact kernels are the seed paper's;
2. :func:`.dse.search` over the bases, then :func:`.dse.finalize`: the front on all 10,000 test
   images, the fastest configuration at zero loss and at ≤ 1 pp against int8 dense;
3. each pick and each exact base run end to end: predicted vs measured cycles (ISS, whole
   program), then ``core_images`` test images on the ISS and ``rtl_images`` on the CV32E40P RTL
   (:mod:`xdecimate.sw.train.oncore`: one build, the image patched in) -- every prediction and
   every output code must equal the golden model's;
4. what skipping adds on top of each trained model: the fastest configuration of each base at
   no loss against that base's exact model (search images);
5. JSON (``dse-<arch>.json``), markdown, the Pareto plot (``pareto-<arch>.png``).

May import: numpy, matplotlib, rich, the standard library, :mod:`xdecimate.sw.train` and below,
and this package.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ..deploy.run import rtl_target
from ..train import config as train_config
from ..train import data, oncore
from . import cycles, dse
from .transform import apply

__all__ = ["BASES", "PAPER_POINTS", "QUICK", "markdown", "run_arch"]

#: Every trained base model (None: dense).
BASES: tuple[str | None, ...] = (None, *train_config.PATTERNS)
#: Reference points of the Pareto plots: (label, latency relative to dense, Top-1 drop in pp).
#: Seed 002: 21 % lower latency at no loss (Armeniakos et al., average over two CIFAR-10 CNNs);
#: xDecimate at 1:16 (Daghero et al., Table 2: ResNet18 15.48 / 49.71 Mcycles, 75.3 → 73.79 %;
#: ViT-S 540.23 / 975.23, 95.6 → 95.17 %).
PAPER_POINTS = {
    "cnn": (("Armeniakos et al.: −21 %, 0 pp", 0.79, 0.0),
            ("xDecimate ResNet18 1:16 (paper)", 15.48 / 49.71, 1.51)),
    "vit": (("Armeniakos et al.: −21 %, 0 pp", 0.79, 0.0),
            ("xDecimate ViT-S 1:16 (paper)", 540.23 / 975.23, 0.43)),
}
#: ``--quick``: fewer bases, images and steps.
QUICK = {"bases": (None, "1:8"), "search_images": 500, "max_drop_pp": 3.0, "core_images": 2,
         "rtl_images": 1}


def _on_core(arch: str, rec: dse.Record, n_iss: int, n_rtl: int, log: Callable[[str], None]
             ) -> dict[str, object]:
    """Run ``rec``'s configuration on ``n_iss`` test images on the ISS and ``n_rtl`` on the RTL;
    every prediction and output code compared with the golden model."""
    g0, sig = dse.model(arch, rec.base)
    g = apply(g0, dict(rec.config), sig) if rec.config else g0
    test = data.load("test")
    dep = oncore.deploy(g, test.images[0][:, :, None], cycles.POLICY)
    out: dict[str, object] = {}
    for name, n, target in (("iss", n_iss, "iss"), ("rtl", n_rtl, rtl_target)):
        runs = []
        for i in range(n):
            log(f"{arch} {dse.describe(rec.config)} on the {name.upper()}: test image {i}")
            runs.append(oncore.run_image(dep, test.images[i][:, :, None], index=i,
                                         label=int(test.labels[i]), target=target))
        bad = [r.index for r in runs if not r.codes_match or r.pred != r.golden_pred]
        assert not bad, f"{arch}: test images {bad} differ from the golden model on {name}"
        out[name] = {"images": n, "all_equal": True,
                     "cycles": [r.cycles for r in runs],
                     "correct": sum(r.pred == r.label for r in runs)}
    kernels = {s.node: s.kernel for s in dep.prog.steps if s.kernel}
    out["kernels"] = {n: kernels[n] for n in train_config.SPARSE_LAYERS[arch]}
    return out


def _closest(final: dse.Final) -> dict[str, object] | None:
    """The most accurate approximation on the re-measured front (not int8 dense itself)."""
    dense_cfg = final.dense.config
    cands = [r for r in final.front if not (r.base is None and r.config == dense_cfg)]
    if not cands:
        return None
    r = max(cands, key=lambda q: (q.correct / q.n, -q.cycles))
    return {**r.to_json(), "describe": dse.describe(r.config)}


def _skip_gain(records: Sequence[dse.Record]) -> dict[str, dict[str, object]]:
    """Per base: the fastest configuration at no loss against the base's exact model (search
    images), and its latency against the exact model's."""
    out: dict[str, dict[str, object]] = {}
    for base in dict.fromkeys(r.base for r in records):
        rs = [r for r in records if r.base == base and r.cycles is not None]
        exact = next(r for r in rs if r.kind == "base")
        ok = [r for r in rs if r.correct >= exact.correct]
        best = min(ok, key=lambda r: r.cycles)
        out[base or "dense"] = {"exact_cycles": exact.cycles, "exact_accuracy": exact.accuracy,
                                "best": best.to_json(),
                                "reduction": 1.0 - best.cycles / exact.cycles}
    return out


def run_arch(arch: str, *, out: Path, bases: Sequence[str | None] = BASES,
             search_images: int = 2000, max_drop_pp: float = 5.0, core_images: int = 20,
             rtl_images: int = 2, workers: int | None = None,
             log: Callable[[str], None] = print) -> dict[str, object]:
    """The study of ``arch`` (module docstring); writes ``out/dse-<arch>.json`` and the plot and
    returns the JSON document."""
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        tables = {}
        for b in bases:
            log(f"cycle table: {arch} {b or 'dense'}")
            tables[b] = cycles.measure_table(arch, b, executor=pool)
        t_tables = time.perf_counter() - t0
        dense_total = (tables[None].total if None in tables
                       else cycles.run_config(arch, None, {})[0])
        log(f"DSE: {arch} over {[b or 'dense' for b in bases]}")
        t1 = time.perf_counter()
        records = dse.search(arch, bases, tables, executor=pool, search_images=search_images,
                             max_drop_pp=max_drop_pp)
        t_search = time.perf_counter() - t1
        final = dse.finalize(records, arch, executor=pool, dense_cycles=dense_total)
    t_final = time.perf_counter() - t0 - t_tables - t_search
    picks: dict[str, object] = {}
    for label, rec in (("zero_loss", final.zero_loss), ("within_1pp", final.within)):
        if rec is None:
            picks[label] = None
            continue
        log(f"{arch} {label}: {dse.describe(rec.config)} end to end")
        table = tables[rec.base]
        pred = cycles.check_prediction(table, dict(rec.config))
        picks[label] = {"record": rec.to_json(), "describe": dse.describe(rec.config),
                        "reduction": 1.0 - pred["measured"] / dense_total,
                        "prediction": pred,
                        "core": _on_core(arch, rec, core_images, rtl_images, log)}
    exact_runs = {}
    for b in bases:
        rec = next(r for r in records if r.base == b and r.kind == "base")
        exact_runs[b or "dense"] = {"cycles": tables[b].total, "accuracy_search": rec.accuracy}
    fig_path = out / f"pareto-{arch}.png"
    # the plot's points are search accuracies: anchor it on the dense model's on the same images
    ref = next((r for r in records if r.base is None and r.kind == "base"), final.dense)
    dense_rec = dse.Record(arch, None, ref.config, ref.correct, ref.n, dense_total, "base")
    dse.plot_pareto(records, fig_path, anchor=dense_rec, references=PAPER_POINTS[arch],
                    title=f"{arch.upper()} (Fashion-MNIST): every evaluated configuration, "
                          f"{search_images:,} test images")
    doc = {
        "arch": arch, "bases": [b or "dense" for b in bases], "search_images": search_images,
        "max_drop_pp": max_drop_pp, "evaluated": len(records),
        "final_evaluated": final.evaluated,
        "dense": {"cycles": dense_total, "accuracy": final.dense.accuracy,
                  "correct": final.dense.correct, "n": final.dense.n},
        "front": dse.records_to_json(final.front), "picks": picks,
        "closest": _closest(final),
        "skip_gain": _skip_gain(records), "exact": exact_runs,
        "tables": {b or "dense": t.to_json() for b, t in tables.items()},
        "records": dse.records_to_json(records),
        "seconds": {"tables": round(t_tables, 1), "search": round(t_search, 1),
                    "final": round(t_final, 1), "total": round(time.perf_counter() - t0, 1)},
        "plot": fig_path.name,
    }
    (out / f"dse-{arch}.json").write_text(json.dumps(doc, indent=1))
    return doc


def markdown(doc: dict[str, object]) -> str:
    """The markdown of one arch's study: the front (all 10,000 test images), the picks, what
    skipping adds per base, the cost of the search."""
    arch = doc["arch"]
    dense = doc["dense"]
    d_c, d_a = dense["cycles"], dense["accuracy"]
    lines = [f"### {str(arch).upper()}", "",
             f"Reference: int8 dense, `dense_4x2` on every layer: **{d_c:,} cycles**, top-1 "
             f"**{d_a:.2f} %** ({dense['n']:,} test images).", "",
             "Pareto front (every point re-measured on all test images; cycles from the "
             "per-layer table):", "",
             "| base | configuration | cycles | vs dense | top-1 (%) | Δ vs dense (pp) |",
             "|---|---|---:|---:|---:|---:|"]
    for r in doc["front"]:
        cfg = dse.config_from_json(r["config"])
        lines.append(f"| {r['base'] or 'dense'} | {dse.describe(cfg)} | {r['cycles']:,} | "
                     f"{r['cycles'] / d_c:.3f} | {r['accuracy']:.2f} | "
                     f"{r['accuracy'] - d_a:+.2f} |")
    lines += ["", "| pick | configuration | cycles (measured, whole program) | latency vs "
              "dense | top-1 (%) | predicted cycles | on the core |",
              "|---|---|---:|---:|---:|---:|---|"]
    for label, name in (("zero_loss", "zero loss"), ("within_1pp", "≤ 1 pp loss")):
        p = doc["picks"].get(label)
        if p is None:
            lines.append(f"| {name} | none: no approximation on the front reaches it | – | – "
                         f"| – | – | – |")
            continue
        pr, core = p["prediction"], p["core"]
        lines.append(
            f"| {name} | {p['describe']} (base {p['record']['base'] or 'dense'}) | "
            f"{pr['measured']:,} | **−{100 * p['reduction']:.1f} %** | "
            f"{p['record']['accuracy']:.2f} | {pr['predicted']:,} ({pr['diff']:+,}) | "
            f"{core['iss']['images']} images ISS, {core['rtl']['images']} RTL: every "
            f"prediction = golden |")
    closest = doc.get("closest")
    if closest is not None:
        lines += ["", f"Most accurate approximation on the front: "
                  f"{closest['describe']} (base {closest['base'] or 'dense'}): top-1 "
                  f"{closest['accuracy']:.2f} % ({closest['accuracy'] - d_a:+.2f} pp) at "
                  f"{closest['cycles']:,} cycles ({closest['cycles'] / d_c - 1:+.1%} latency, "
                  f"from the table)."]
    lines += ["", "What skipping adds on top of each trained model (fastest configuration at "
              f"no loss against that model's exact version, first {doc['search_images']:,} test "
              "images):", "", "| base | exact cycles | top-1 (%) | best at no loss | cycles | "
              "reduction |", "|---|---:|---:|---|---:|---:|"]
    for b, g in doc["skip_gain"].items():
        best = g["best"]
        lines.append(f"| {b} | {g['exact_cycles']:,} | {g['exact_accuracy']:.2f} | "
                     f"{dse.describe(dse.config_from_json(best['config']))} | "
                     f"{best['cycles']:,} | −{100 * g['reduction']:.1f} % |")
    s = doc["seconds"]
    lines += ["", f"Evaluated **{doc['evaluated']}** configurations on {doc['search_images']:,}"
              f" test images (+ {doc['final_evaluated']} on all of them); time: cycle tables "
              f"{s['tables']:.0f} s, search {s['search']:.0f} s, front {s['final']:.0f} s, "
              f"total {s['total']:.0f} s.", "", f"![Pareto front {arch}]({doc['plot']})", ""]
    return "\n".join(lines)
