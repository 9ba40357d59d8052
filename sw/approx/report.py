"""Report section: approximate kernels and the design-space exploration (seed 002).

What it is for: ``xdecimate report`` (``xdecimate/report.py`` lists
``xdecimate.sw.approx.report:report_section``).  It runs :func:`.explore.run_arch` for both
models (``--quick``: :data:`.explore.QUICK`) into ``<out>/approx`` and shows, per model, the
Pareto plot, the front, the picks at zero and at ≤ 1 pp loss (measured end to end, on the ISS
and the RTL) and what skipping adds on top of each trained model, next to seed 002's claim.

``ctx.figures["approx"]`` (latency reductions as fractions of the int8 dense model's cycles,
None where the front has no such point)::

    {"models": {"cnn": {"zero_loss": r, "within_1pp": r, "evaluated": n,
                        "seconds": s}, "vit": {...}},
     "quick": bool, "section": HEADING}

May import: numpy, matplotlib, the standard library, :mod:`xdecimate.sw.train` and below, and
this package.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import explore

__all__ = ["HEADING", "report_section"]

HEADING = "Approximate kernels and design-space exploration (seed 002)"

_ABOUT = """\
The second seed paper (Armeniakos et al., arXiv 2409.16815) skips the weight × input products
that matter least — ranked offline by their significance, the mean |partial / total| over
calibration images — with per-layer thresholds chosen by a design-space exploration: **21 %
lower latency at no Top-1 loss** on two CIFAR-10 CNNs on an STM32 (CMSIS-NN baseline). Here
(`docs/approx.md`): the unit of skipping is what our loops consume per iteration — a group of 4
non-zero slots of a row (`xdec4_skip`), or a word of a quad of rows for the dense 4×2 loop
(`dense_4x2_skip`); the kernels never visit a zeroed unit (`docs/kernels.md`, "Group
skipping": a skipped unit saves its loop body, a new run costs 5–6 cycles, measured). Per
layer, the DSE chooses an N:M pattern at least as sparse as the trained model's (re-pruned by
significance) and a share of units to skip; accuracy comes from the golden model on the
Fashion-MNIST test split, cycles from a per-layer table measured on the ISS. The chosen
configurations run end to end on the core. Differences from the paper: one CV32E40P core with
xDecimate instead of a Cortex-M; our small Fashion-MNIST models (`docs/train.md`) instead of
CIFAR-10 CNNs; our baseline is the int8 dense model on the `dense_4x2` kernel (PULP-NN style);
like the paper, selection uses the test split, so the picks' accuracies are optimistic.
"""


def report_section(ctx) -> str:
    """Markdown of the section; puts ``ctx.figures["approx"]`` (module docstring).

    Raises
    ------
    AssertionError
        An on-core run of a chosen configuration differs from the golden model.
    """
    t0 = time.perf_counter()
    out = Path(ctx.out) / "approx"
    kw = dict(explore.QUICK) if ctx.quick else {}
    parts = [f"## {HEADING}", "", _ABOUT]
    if ctx.quick:
        parts.append("**Quick run** (`--quick`): bases dense and 1:8 only, 500 search images, "
                     "3 pp budget. `make dse` (or `make report`) runs all six trained models.\n")
    models: dict[str, dict[str, object]] = {}
    for arch in ("cnn", "vit"):
        ctx.log(f"approx: {arch}")
        doc = explore.run_arch(arch, out=out, log=ctx.log, **kw)
        md = explore.markdown(doc).replace(f"]({doc['plot']})", f"](approx/{doc['plot']})")
        parts.append(md)
        picks = doc["picks"]
        models[arch] = {k: (picks[k]["reduction"] if picks.get(k) else None)
                        for k in ("zero_loss", "within_1pp")}
        models[arch].update(evaluated=doc["evaluated"], seconds=doc["seconds"]["total"])
    ctx.figures["approx"] = {"models": models, "quick": bool(ctx.quick), "section": HEADING}
    parts.append(f"Section time: {time.perf_counter() - t0:.0f} s.\n")
    return "\n".join(parts)
