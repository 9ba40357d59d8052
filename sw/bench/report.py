"""Report section: kernel speedups (dense vs software-sparse vs xDecimate) next to the paper."""

from __future__ import annotations

from . import suite as bench

__all__ = ["HEADING", "report_section"]

HEADING = "Kernel benchmark: dense vs software sparse vs xDecimate"


def report_section(ctx) -> str:
    """Markdown for ``xdecimate report``; writes ``bench.json``/``speedup.png``/``breakdown.png``
    into ``ctx.out`` and the headline figures (:func:`suite.headline_figures`) into
    ``ctx.figures["bench"]``.

    Raises ``AssertionError`` (failing the report) if any kernel output is not bit-exact.
    """
    res = bench.run_bench(quick=ctx.quick, log=ctx.log)
    paths = bench.write_outputs(res, ctx.out / "bench")
    ctx.figures["bench"] = {"section": HEADING, **bench.headline_figures(res)}
    layers = bench.QUICK_LAYERS if ctx.quick else bench.LAYERS
    shapes = ", ".join(f"`{n}` (K = {s.k}, Cout = {s.cout}, {s.npix} "
                       f"{'pixels' if s.kind == 'conv' else 'tokens'})"
                       for n, s in layers.items())
    lines = [
        f"## {HEADING}", "",
        f"C kernels (`sw/kernels/c/kernels`, `docs/kernels.md`) on the ISS, every output "
        f"bit-exact with the golden model; {len(res.runs)} runs in {res.seconds:.0f} s. "
        f"Layers: {shapes}.", "",
        f"![speedup vs sparsity]({paths['png'].relative_to(ctx.out)})", "",
        "Where every kernel's cycles go, per layer and pattern (stacked: im2col or its "
        "replacement, the zero-padded input copy of the direct kernels; the SW kernels' "
        "interleave; matmul; requant; setup and loop control outside the regions), normalised "
        "to the layer's dense 4×2 cycles. The paper gives speedups only, no breakdown: its "
        "figures are drawn as markers at the cycles they imply.", "",
        f"![cycle breakdown]({paths['breakdown'].relative_to(ctx.out)})", "",
        bench.markdown(res),
    ]
    from . import crosscheck  # every kernel on the CV32E40P RTL extended with xDecimate

    md, ok = crosscheck.bench_cv32e40p(quick=ctx.quick, out=ctx.out / "bench", log=ctx.log)
    assert ok, "ISS and CV32E40P RTL disagree on a kernel (see bench/cv32e40p.md)"
    lines += ["", "### ISS vs the CV32E40P RTL with xDecimate", "",
              "Every kernel below ran on the real CV32E40P v1.8.3 pipeline extended with "
              "`xdec.lb` (`hw/cv32e40p/`), and every cycle count equals the ISS's: the speedups "
              "above are the real core's (one core, zero-wait-state memory).", "", md]
    return "\n".join(lines)
