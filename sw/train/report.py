"""Report section: accuracy on real data (Fashion-MNIST), int8 and N:M, measured on the core.

What it is for: ``xdecimate report`` (``xdecimate/report.py`` lists
``xdecimate.sw.train.report:report_section``).  It never trains: it verifies the shipped models
against their manifest (:mod:`.shipped`), quantizes each one (:func:`.shipped.int8_graph`),
measures top-1 with the batched golden model (:mod:`.evaluate`; on all 10,000 test images, the
first 1,000 with ``--quick``; cached by content under ``build/train/eval-cache``), runs every
(model, pattern, kernel) on the ISS (one test image each, every output code compared with the
golden model; runs cached by ELF content; ``--quick``: the default kernels of dense and 1:8
only) and a sample of test images on the CV32E40P RTL (:mod:`.oncore`; cycles compared with the
ISS's on the same ELF).

``ctx.figures["accuracy"]`` (top-1 in percent; drops in percentage points, int8 dense minus
int8 N:M, positive = worse)::

    {"models": {"cnn": {"float_dense": top1, "int8_dense": top1,
                        "patterns": {"1:4": top1, "1:8": top1, ...}},
                "vit": {...}},
     "drop_1_8": {"cnn": pp, "vit": pp}, "drop_1_16": {"cnn": pp, "vit": pp},
     "test_images": 10000, "section": HEADING}

May import: numpy, matplotlib, the standard library, :mod:`xdecimate.sw.deploy` and below, and
this package's numpy-only modules (not JAX: the report needs no training library).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..deploy.run import rtl_target
from ..kernels import harness
from ..net import golden
from ..net.ir import Graph, totals
from . import data, evaluate, oncore, shipped
from .config import ARCH_NAMES, PATTERNS

__all__ = ["DEFAULT_KERNEL", "HEADING", "KERNELS", "PAPER", "accuracy_table", "plot_curves",
           "report_section"]

HEADING = "Accuracy on real data: N:M training, int8, on the core (Fashion-MNIST)"
#: Kernel policies measured per model: dense models, N:M models (N:M kernels on the N:M layers,
#: ``dense_4x2`` on the others).
KERNELS = {"dense": ("dense_4x2", "dense_1x2"), "nm": ("xdec4", "xdec", "sw4", "sw")}
#: The kernel of the accuracy-on-core runs.
DEFAULT_KERNEL = {"dense": "dense_4x2", "nm": "xdec4"}
#: The paper's accuracy figures (shared/notes/paper.md; only these are copied).
PAPER = ("< 1.5 % Top-1 drop; ResNet18 CIFAR-100 ≈ 75.3 % → 73.79 % at 1:16, ViT-S "
         "CIFAR-10 ≈ 95.6 % → 95.17 % at 1:16")
_CODE = ("sw/net", "sw/model", "sw/train/export.py", "sw/train/evaluate.py",
         "sw/train/shipped.py")


def _code_hash() -> str:
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for rel in _CODE:
        p = root.parent / rel if rel.startswith("sw/") else root / rel
        files = sorted(p.glob("*.py")) if p.is_dir() else [p]
        for f in files:
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def _cached_predict(arch: str, pattern: str | None, g: Graph, images: np.ndarray,
                    cache: Path) -> np.ndarray:
    f = shipped.TRAINED_DIR / shipped.artifact_name(arch, pattern)
    key = hashlib.sha256(f"{shipped.sha256(f)}-{_code_hash()}-{shipped.CALIB_IMAGES}-"
                         f"{shipped.CALIB_SEED}-{len(images)}".encode()).hexdigest()[:24]
    path = cache / f"{arch}-{pattern or 'dense'}-{key}.npy"
    if path.is_file():
        return np.load(path)
    pred = evaluate.predict(g, images)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, pred)
    return pred


@dataclass
class CoreRun:
    """One (model, pattern, kernel) on a target: the images run and what they gave."""

    arch: str
    pattern: str | None
    kernel: str
    target: str
    runs: list[oncore.ImageRun]

    @property
    def cycles(self) -> int:
        return int(np.median([r.cycles for r in self.runs]))

    @property
    def all_match(self) -> bool:
        return all(r.codes_match for r in self.runs)


def accuracy_table(top1: dict[str, dict[str | None, float]], floats: dict[str, float]
                   ) -> str:
    """Markdown: one row per model, float dense, int8 dense, every pattern and the drops."""
    head = ["model", "float dense", "int8 dense", *PATTERNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for a, row in top1.items():
        cells = [a, f"{floats[a]:.2f} %", f"{row[None]:.2f} %"]
        cells += [f"{row[p]:.2f} % ({row[p] - row[None]:+.2f})" for p in PATTERNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_curves(manifest: dict, out: Path) -> Path:
    """Training curves of every run of ``manifest`` (float test top-1 per epoch) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = manifest["runs"]
    arches = sorted({r["arch"] for r in runs.values()})
    fig, axes = plt.subplots(1, len(arches), figsize=(6 * len(arches), 4), squeeze=False)
    for ax, a in zip(axes[0], arches, strict=True):
        start = 0
        dense = next((r for r in runs.values() if r["arch"] == a and r["pattern"] is None), None)
        if dense is not None:
            xs = [h["epoch"] for h in dense["history"]]
            ax.plot(xs, [h["test_top1"] for h in dense["history"]], "k-o", ms=3, label="dense")
            start = xs[-1] if xs else 0
        for r in sorted(runs.values(), key=lambda r: str(r["pattern"])):
            if r["arch"] != a or r["pattern"] is None:
                continue
            ax.plot([start + h["epoch"] for h in r["history"]],
                    [h["test_top1"] for h in r["history"]], "-o", ms=3,
                    label=f"SR-STE {r['pattern']}")
        ax.set_title(f"{a}: float test top-1 per epoch (SR-STE from dense)", fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel("top-1 (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _plots(out: Path, top1: dict, core: list[CoreRun], conf: dict[str, np.ndarray],
           grid: list[tuple[np.ndarray, int, int, str]]) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = {}
    markers = {"dense_4x2": "s", "dense_1x2": "D", "xdec4": "o", "xdec": "^", "sw4": "v",
               "sw": "x"}
    colors = dict(zip([None, *PATTERNS], plt.cm.tab10.colors, strict=False))
    fig, axes = plt.subplots(1, len(top1), figsize=(6.5 * len(top1), 4.5), squeeze=False)
    for ax, a in zip(axes[0], top1, strict=True):
        for c in core:
            if c.arch != a or c.target != "iss":
                continue
            ax.scatter(c.cycles / 1e6, top1[a][c.pattern], marker=markers.get(c.kernel, "o"),
                       color=colors[c.pattern], s=40)
        for p in [None, *PATTERNS]:
            ax.scatter([], [], color=colors[p], label=p or "dense")
        for k, mk in markers.items():
            ax.scatter([], [], marker=mk, color="grey", label=k)
        ax.axhline(top1[a][None], color="k", lw=0.8)
        ax.axhline(top1[a][None] - 1.5, color="k", lw=0.8, ls="--",
                   label="int8 dense − 1.5 pp (paper)")
        ax.set_title(f"{a}: int8 top-1 vs ISS cycles per inference", fontsize=10)
        ax.set_xlabel("cycles per inference (M)")
        ax.set_ylabel("top-1 (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    paths["acc_cycles"] = out / "accuracy_vs_cycles.png"
    fig.savefig(paths["acc_cycles"], dpi=100)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(conf), figsize=(5.5 * len(conf), 5), squeeze=False)
    for ax, (title, m) in zip(axes[0], conf.items(), strict=True):
        ax.imshow(m, cmap="Blues")
        for i in range(10):
            for j in range(10):
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if m[i, j] > m.max() / 2 else "black")
        ax.set_xticks(range(10), [c[:7] for c in data.CLASSES], rotation=60, fontsize=7)
        ax.set_yticks(range(10), [c[:7] for c in data.CLASSES], fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    paths["confusion"] = out / "confusion.png"
    fig.savefig(paths["confusion"], dpi=100)
    plt.close(fig)

    if grid:
        cols = min(10, len(grid))
        rows = -(-len(grid) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.6 * rows), squeeze=False)
        for ax in axes.ravel():
            ax.axis("off")
        for ax, (img, label, pred, tag) in zip(axes.ravel(), grid, strict=False):
            ax.imshow(img, cmap="gray_r")
            ax.set_title(f"{data.CLASSES[pred][:9]}\n{tag}", fontsize=6,
                         color="green" if pred == label else "red")
        fig.tight_layout()
        paths["grid"] = out / "core_predictions.png"
        fig.savefig(paths["grid"], dpi=110)
        plt.close(fig)
    return paths


def _verdict(drops: dict[str, float]) -> str:
    miss = [a for a, d in drops.items() if d > 1.5]
    return "met by both models" if not miss else f"missed by {', '.join(miss)}"


def _kernels(pattern: str | None) -> tuple[str, ...]:
    return KERNELS["dense" if pattern is None else "nm"]


def report_section(ctx) -> str:
    """Markdown of the section; puts ``ctx.figures["accuracy"]`` (see the module docstring).

    Raises
    ------
    AssertionError
        A shipped file does not match its manifest hash, or an output computed on the ISS or
        the RTL differs from the golden model (the report must not show such a run).
    """
    t0 = time.perf_counter()
    out = Path(ctx.out) / "train"
    out.mkdir(parents=True, exist_ok=True)
    bad = shipped.verify()
    assert not bad, f"shipped models do not match sw/train/trained/manifest.json: {bad}"
    man = shipped.load_manifest()
    train, test = data.load("train"), data.load("test")
    n_test = 1000 if ctx.quick else len(test)
    images, labels = test.images[:n_test], test.labels[:n_test]
    calib = shipped.calibration_images(train)
    cache = Path("build/train/eval-cache")

    graphs: dict[tuple[str, str | None], Graph] = {}
    top1: dict[str, dict[str | None, float]] = {}
    preds: dict[tuple[str, str | None], np.ndarray] = {}
    floats = {a: man["runs"][shipped.artifact_name(a, None)]["float_top1"] for a in ARCH_NAMES}
    for a in ARCH_NAMES:
        top1[a] = {}
        for p in [None, *PATTERNS]:
            ctx.log(f"accuracy: {a} {p or 'dense'} on {n_test} test images")
            g = graphs[(a, p)] = shipped.int8_graph(a, p, calib)
            preds[(a, p)] = _cached_predict(a, p, g, images, cache)
            top1[a][p] = round(100.0 * float((preds[(a, p)] == labels).mean()), 2)
    # the batched evaluator against golden.run_output, image by image, on a sample
    n_eq = 10 if ctx.quick else 100
    for (a, p), g in graphs.items():
        x = np.ascontiguousarray(images[:n_eq, :, :, None])
        want = np.stack([golden.run_output(g, xi) for xi in x])
        assert np.array_equal(evaluate.run_batch(g, x), want), \
            f"batched evaluation of {a} {p} differs from golden.run_output"
    t_eval = time.perf_counter() - t0

    # every (model, pattern, kernel) on the ISS, one test image each (different images)
    core: list[CoreRun] = []
    elf_dir = Path("build/train/elf")
    img_i = 0
    deployed: dict[tuple[str, str | None, str], oncore.Deployed] = {}
    t1 = time.perf_counter()
    for a in ARCH_NAMES:
        for p in [None, *PATTERNS]:
            ks = _kernels(p)
            if ctx.quick:
                if p not in (None, "1:8"):
                    continue
                ks = (DEFAULT_KERNEL["dense" if p is None else "nm"],)
            for k in ks:
                x0 = test.images[0][:, :, None]
                dep = deployed[(a, p, k)] = oncore.deploy(graphs[(a, p)], x0, k)
                i = img_i % len(test)
                img_i += 1
                ctx.log(f"ISS: {a} {p or 'dense'} {k} on test image {i}")
                r = oncore.run_image(dep, test.images[i][:, :, None], index=i,
                                     label=int(test.labels[i]), target="iss", out_dir=elf_dir)
                assert r.codes_match, f"ISS: {a} {p} {k} image {i}: output differs from golden"
                core.append(CoreRun(a, p, k, "iss", [r]))
    t_iss = time.perf_counter() - t1

    # a sample on the RTL, and the same ELFs on the ISS (cycles must agree)
    t2 = time.perf_counter()
    rtl_cfg = [("cnn", "1:8")] if ctx.quick else [("cnn", "1:8"), ("vit", "1:8")]
    n_rtl = 2 if ctx.quick else 10
    grid: list[tuple[np.ndarray, int, int, str]] = []
    rtl_rows = []
    for a, p in rtl_cfg:
        dep = deployed[(a, p, DEFAULT_KERNEL["nm"])]
        rr, ri = [], []
        for j in range(n_rtl):
            i = 1000 + j
            x = test.images[i][:, :, None]
            ctx.log(f"RTL: {a} {p} xdec4 on test image {i}")
            r = oncore.run_image(dep, x, index=i, label=int(test.labels[i]), target=rtl_target,
                                 out_dir=elf_dir)
            s = oncore.run_image(dep, x, index=i, label=int(test.labels[i]),
                                 target=harness.iss_target, out_dir=elf_dir)
            assert r.codes_match, f"RTL: {a} {p} image {i}: output differs from golden"
            assert s.codes_match, f"ISS: {a} {p} image {i}: output differs from golden"
            rr.append(r)
            ri.append(s)
            grid.append((test.images[i], int(test.labels[i]), r.pred, f"{a} {p} RTL"))
        core.append(CoreRun(a, p, "xdec4", "cv32e40p", rr))
        core.append(CoreRun(a, p, "xdec4", "iss-rtl-sample", ri))
        same = sum(x.cycles == y.cycles for x, y in zip(rr, ri, strict=True))
        rtl_rows.append((a, p, rr, ri, same))
    t_rtl = time.perf_counter() - t2

    conf = {}
    for a in ARCH_NAMES:
        m = np.zeros((10, 10), np.int64)
        np.add.at(m, (labels, preds[(a, "1:8")]), 1)
        conf[f"{a} int8 1:8 (golden = core), {n_test} test images"] = m
    paths = _plots(out, top1, core, conf, grid)
    paths["curves"] = plot_curves(man, out / "training_curves.png")

    drop = {key: {a: round(top1[a][None] - top1[a][p], 2) for a in ARCH_NAMES}
            for key, p in (("drop_1_8", "1:8"), ("drop_1_16", "1:16"))}
    ctx.figures["accuracy"] = {
        "section": HEADING, "test_images": n_test, **drop,
        "models": {a: {"float_dense": floats[a], "int8_dense": top1[a][None],
                       "patterns": {p: top1[a][p] for p in PATTERNS}} for a in ARCH_NAMES}}

    base = {a: next(c.cycles for c in core if c.arch == a and c.pattern is None
                    and c.kernel == "dense_4x2" and c.target == "iss") for a in ARCH_NAMES}
    rows = ["| model | pattern | kernel | int8 top-1 | drop vs int8 dense | ISS cycles / "
            "inference | speedup vs dense 4×2 | weight B (stored) | test image |",
            "|---|---|---|---|---|---|---|---|---|"]
    for c in core:
        if c.target != "iss":
            continue
        g = graphs[(c.arch, c.pattern)]
        wb = totals(g)["stored_bytes"]
        rows.append(f"| {c.arch} | {c.pattern or 'dense'} | `{c.kernel}` | "
                    f"{top1[c.arch][c.pattern]:.2f} % | "
                    f"{top1[c.arch][None] - top1[c.arch][c.pattern]:+.2f} pp | "
                    f"{c.cycles:,} | {base[c.arch] / c.cycles:.2f}× | {int(wb):,} | "
                    f"{c.runs[0].index} |")
    rtl_lines = []
    for a, p, rr, ri, same in rtl_rows:
        hits = sum(r.pred == r.label for r in rr)
        cyc = [r.cycles for r in rr]
        rtl_lines.append(
            f"* {a} {p} (`xdec4`): {len(rr)} test images (indices 1000–{999 + len(rr)}) on the "
            f"CV32E40P RTL: every output code equals the golden model's "
            f"({sum(r.codes_match for r in rr)}/{len(rr)}), {hits}/{len(rr)} correct; cycles "
            f"{min(cyc):,}–{max(cyc):,}, equal to the ISS's on the same ELF for {same}/"
            f"{len(rr)}; {np.mean([r.seconds for r in rr]):.1f} s per RTL run, "
            f"{np.mean([r.seconds for r in ri]):.1f} s per ISS run (uncached, on this "
            "machine's load).")
    runs = man["runs"]
    train_s = sum(r["seconds"] for r in runs.values())
    train_rows = ["| file | pattern | epochs | training s | float top-1 (stored weights) |",
                  "|---|---|---|---|---|"]
    for name, r in sorted(runs.items()):
        train_rows.append(f"| `{name}` | {r['pattern'] or 'dense'} | {r['epochs']} | "
                          f"{r['seconds']:.0f} | {r['float_top1']:.2f} % |")
    n_core = sum(len(c.runs) for c in core if c.target == "iss")
    lines = [
        f"## {HEADING}", "",
        "Fashion-MNIST (Debian `dataset-fashion-mnist`; 60,000 training / 10,000 test images, "
        "28×28, 10 classes). Two models mirror the paper's (`docs/train.md`): a ResNet-style "
        "CNN whose six 3×3 block convolutions are N:M (stem, projections and FC dense) and a "
        "3-block ViT (d 48, 3 heads, 7×7 patches) whose MLP layers are N:M. Trained by "
        f"`make train` ({train_s / 60:.0f} min of training recorded in the manifest; JAX "
        f"{man.get('jax', '?')} + optax on the CPU): dense, then SR-STE (Zhou et al., ICLR "
        "2021) from the dense model per pattern. Not trained here: the shipped files were "
        "checked against their sha256 in `sw/train/trained/manifest.json`. Int8: ONNX export "
        "→ `import` → N:M marking → `quantize` (weights int8 per tensor, activations uint8 "
        f"min/max over {shipped.CALIB_IMAGES} training images), no quantization-aware "
        "fine-tuning.", "",
        f"**Top-1 on {n_test:,} test images** (int8 by the batched golden model — equal to "
        f"`golden.run_output` on the first {n_eq} images of every model, checked by this run — "
        "and, on every image run below, to the core; float by "
        "JAX on the stored weights, recorded by `make train`; in parentheses: percentage "
        f"points against int8 dense). Paper: {PAPER}.", "",
        accuracy_table(top1, floats), "",
        f"Drop below int8 dense (a negative drop is a gain) at 1:8: CNN "
        f"{drop['drop_1_8']['cnn']:.2f} pp, ViT {drop['drop_1_8']['vit']:.2f} pp (target ≤ 1.5 "
        f"pp: {_verdict(drop['drop_1_8'])}); at 1:16: CNN {drop['drop_1_16']['cnn']:.2f} pp, "
        f"ViT {drop['drop_1_16']['vit']:.2f} pp.", "",
        f"![accuracy vs cycles]({paths['acc_cycles'].relative_to(ctx.out)})", "",
        f"**On the core.** Every (model, pattern, kernel) below was built once and run on the "
        f"ISS on one test image ({n_core} runs, every output code equal to the golden "
        f"model's; {t_iss:.0f} s with the builds; ISS runs cached by ELF content in "
        "`build/`); cycles are those of the marked inference "
        "steps and vary by a few hundred between images. N:M kernels run the N:M layers, "
        "`dense_4x2` the others; the speedup baseline is the dense model with `dense_4x2`.", "",
        *rows, "", *rtl_lines, "",
        f"![core predictions]({paths['grid'].relative_to(ctx.out)})" if "grid" in paths
        else "", "",
        f"![confusion matrices]({paths['confusion'].relative_to(ctx.out)})", "",
        "Training (`make train`, SR-STE from the dense model; curves: float test top-1 per "
        "epoch, for information only — no model selection on the test split, the last epoch "
        "is shipped):", "",
        *train_rows, "",
        f"![training curves]({paths['curves'].relative_to(ctx.out)})", "",
        f"Section time: {time.perf_counter() - t0:.0f} s (evaluation {t_eval:.0f} s, ISS "
        f"{t_iss:.0f} s, RTL {t_rtl:.0f} s).",
    ]
    return "\n".join(lines)
