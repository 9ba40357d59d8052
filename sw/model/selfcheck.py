"""Golden-model self-check for ``make report``: round trips, sparse == dense, footprints.

Runs real layers of every pattern through prune -> compress -> decompress and through the sparse
kernels (the ``xdec.lb`` walk and the vectorised gather), compares bit for bit with the dense
kernels, and tabulates the memory footprint per pattern.  Every figure is measured by this run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ._checks import as_int
from .kernels import conv2d_dense, conv2d_sparse, fc_dense, fc_sparse, fc_sparse_gather
from .nm_format import PATTERNS, Pattern, compress, decompress, footprint
from .prune import prune_nm
from .quant import choose_requant

__all__ = ["LAYERS", "SelfCheck", "report_section", "run_selfcheck"]

#: (name, kind, shape) of the layers checked and tabulated.  FC: (Cout, K); conv: (H, W, Cin,
#: Cout, kh, kw, stride, pad).  Shapes after the paper's ResNet18/ViT layer classes, scaled down
#: for a Python walk.
LAYERS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("fc 64x256", "fc", (64, 256)),
    ("fc 32x1024 (MLP-like)", "fc", (32, 1024)),
    ("conv 8x8x32 -> 32, 3x3", "conv", (8, 8, 32, 32, 3, 3, 1, 1)),
    ("conv 8x8x16 -> 16, 3x3 s2", "conv", (8, 8, 16, 16, 3, 3, 2, 1)),
)


@dataclass
class SelfCheck:
    """Outcome of one layer × pattern check."""

    layer: str
    pattern: Pattern
    outputs: int
    xdec_ops: int
    exact: bool
    seconds: float


def _check(name: str, kind: str, shape: tuple[int, ...], pattern: Pattern,
           rng: np.random.Generator, quick: bool) -> SelfCheck:
    t0 = time.perf_counter()
    if kind == "fc":
        cout, k = shape
        w = prune_nm(rng.integers(-128, 128, (cout, k)).astype(np.int8), pattern)
        img = compress(w, pattern)
        x = rng.integers(0, 256, (2 if quick else 4, k)).astype(np.uint8)
        dense = fc_dense(x, w)
        rq = choose_requant(int(np.abs(dense).max()) or 1)
        sparse = fc_sparse(x, img, rq=rq)
        exact = (np.array_equal(decompress(img), w)
                 and np.array_equal(sparse, fc_dense(x, w, rq=rq))
                 and np.array_equal(fc_sparse_gather(x, img), dense))
        ops = x.shape[0] * img.rows * img.nnz_row
        outputs = sparse.size
    else:
        h, wd, cin, cout, kh, kw, stride, pad = shape
        if quick:
            h, wd = 4, 4
        wt = rng.integers(-128, 128, (cout, kh * kw * cin)).astype(np.int8)
        wm = prune_nm(wt, pattern)
        img = compress(wm, pattern)
        x = rng.integers(0, 256, (h, wd, cin)).astype(np.uint8)
        w4 = wm.reshape(cout, kh, kw, cin)
        dense = conv2d_dense(x, w4, stride=stride, pad=pad)
        sparse = conv2d_sparse(x, img, kh, kw, stride=stride, pad=pad, p=2)
        exact = np.array_equal(decompress(img), wm) and np.array_equal(sparse, dense)
        ops = dense.shape[0] * dense.shape[1] * img.rows * img.nnz_row
        outputs = sparse.size
    return SelfCheck(name, pattern, outputs, ops, exact, time.perf_counter() - t0)


def run_selfcheck(*, quick: bool = False, seed: int = 2025) -> list[SelfCheck]:
    """Check every layer of :data:`LAYERS` at every pattern; returns one row per pair.

    ``quick`` must be a bool and ``seed`` an integer ≥ 0 (``TypeError`` / ``ValueError``).
    """
    if not isinstance(quick, bool):
        raise TypeError(f"quick must be a bool, not {type(quick).__name__} {quick!r}")
    rng = np.random.default_rng(as_int("seed", seed, 0, rule="a non-negative integer"))
    return [_check(name, kind, shape, p, rng, quick)
            for name, kind, shape in LAYERS for p in PATTERNS]


def _footprint_table() -> list[str]:
    rows = ["| Layer | Dense bytes | " + " | ".join(f"{p} bytes (saving)" for p in PATTERNS)
            + " |", "|---|---|" + "---|" * len(PATTERNS)]
    shapes = [(name, (s[0], s[1]) if kind == "fc" else (s[3], s[2] * s[4] * s[5]))
              for name, kind, s in LAYERS]
    shapes.append(("ideal: K = 16·M (no padding)", None))
    for name, shp in shapes:
        cells = []
        dense = None
        for p in PATTERNS:
            rows_, k = shp if shp else (64, 16 * p.m)
            f = footprint(rows_, k, p)
            dense = f.dense_bytes if shp else "64 × 16·M"
            cells.append(f"{f.sparse_bytes} ({100 * f.saving:.3f} %)")
        rows.append(f"| {name} | {dense} | " + " | ".join(cells) + " |")
    return rows


def report_section(ctx) -> str:
    """Markdown section for ``make report``; ``ctx`` needs a bool attribute ``quick``."""
    t0 = time.perf_counter()
    quick = getattr(ctx, "quick", None)
    if not isinstance(quick, bool):
        raise TypeError(f"report context must have a bool attribute quick, not "
                        f"{type(ctx).__name__} with quick = {quick!r}")
    results = run_selfcheck(quick=quick)
    ok = all(r.exact for r in results)
    lines = ["## Golden model self-check", "",
             f"{len(results)} layer × pattern checks, **{'all bit-exact' if ok else 'MISMATCH'}**"
             f" ({time.perf_counter() - t0:.1f} s). Each check prunes random int8 weights, "
             "compresses them, verifies `decompress` is the exact inverse, and compares the sparse "
             "kernel — walking the image with the executable `xdec.lb` reference — with the dense "
             "kernel on the same weights.", "",
             "| Layer | Pattern | Outputs | xdec.lb executed | Bit-exact | Time (s) |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r.layer} | {r.pattern} | {r.outputs} | {r.xdec_ops} | "
              f"{'yes' if r.exact else '**NO**'} | {r.seconds:.2f} |" for r in results]
    lines += ["", "### Memory footprint per pattern", "",
              "Compressed image bytes (row records incl. K padding and 4-byte row alignment) vs "
              "dense int8. Paper (N = 1): 68.75 % / 81.25 % / 90.625 %.", ""]
    lines += _footprint_table()
    figures = getattr(ctx, "figures", None)
    if isinstance(figures, dict):  # for the report's headline: the format's saving, K = 16·M
        figures["memory"] = {str(p): footprint(64, 16 * p.m, p).saving for p in PATTERNS}
    if not ok:
        raise RuntimeError("golden-model self-check failed: " + ", ".join(
            f"{r.layer} {r.pattern}" for r in results if not r.exact))
    return "\n".join(lines) + "\n"
