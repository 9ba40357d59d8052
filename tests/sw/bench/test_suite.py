"""`xdecimate bench`: speedup rows, outputs, report section, and the timing facts it relies on."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest
from xdecimate.sw.bench import suite as bench
from xdecimate.sw.bench.report import report_section
from xdecimate.sw.kernels import harness as ck

from xdecimate.cli import main

TINY = {
    "conv-t": ck.ConvShape(h=4, w=4, cin=16, cout=8, pad=0, name="conv-t"),
    "fc-t": ck.FCShape(k=128, cout=8, tokens=4, name="fc-t"),
}


@pytest.fixture
def tiny_quick(monkeypatch):
    monkeypatch.setattr(bench, "QUICK_LAYERS", TINY)
    monkeypatch.setattr(bench, "QUICK_PATTERNS", ("1:4", "1:16"))


def test_run_bench_rows_and_outputs(tmp_path, tiny_quick):
    res = bench.run_bench(quick=True, log=lambda m: None)
    # conv: every exact kernel; FC: no direct (im2col-free) variant; skip kernels: none (the
    # benchmark's exact weights have nothing to skip)
    n_conv = len(ck.SPARSE_KERNELS) - len(ck.SKIP_KERNELS)
    n_fc = n_conv - len(ck.DIRECT_KERNELS)
    assert len(res.runs) == (4 + 2 * n_conv) + (2 + 2 * n_fc)
    assert len(res.rows) == 2 * n_conv + 2 * n_fc
    assert not {r.kernel for r in res.runs} & set(ck.SKIP_KERNELS)
    by = {(r["layer"], r["pattern"], r["kernel"]): r for r in res.rows}
    for layer in TINY:
        xdec16 = by[(layer, "1:16", "xdec")]
        assert xdec16["speedup_dense_1x2"] > xdec16["speedup_dense_4x2"] > 1.5
        assert xdec16["loop_instr_per_8mac"] == 12
        assert by[(layer, "1:16", "xdec")]["cycles"] < by[(layer, "1:4", "xdec")]["cycles"]
    assert by[("conv-t", "1:16", "xdec")]["paper_dense_4x2"] == 2.78
    assert by[("conv-t", "1:16", "xdec")]["share_im2col"] > 0
    assert by[("fc-t", "1:16", "xdec")]["share_im2col"] == 0
    summ = {(s["kind"], s["kernel"], s["pattern"]): s for s in res.summary()}
    assert summ[("fc", "xdec", "1:16")]["paper_dense_1x2"] == 2.9
    paths = bench.write_outputs(res, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert {"summary", "rows", "runs", "paper", "layers"} <= set(data)
    assert "| conv | xdec | 1:16 |" in paths["md"].read_text()
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"
    assert paths["breakdown"].read_bytes()[:4] == b"\x89PNG"
    assert {"targets", "direct_gains"} <= set(data)


def test_breakdown_targets_and_direct_gains(tiny_quick):
    res = bench.run_bench(quick=True, log=lambda m: None)
    for run in res.runs:  # the breakdown accounts for every cycle, none negative
        parts = bench.cycle_breakdown(run)
        assert set(parts) == {c for c, _ in bench.BREAKDOWN}
        assert sum(parts.values()) == run.kernel_cycles
        assert min(parts.values()) >= 0
    by = {(r.layer, r.pattern, r.kernel): r for r in res.runs}
    # conv-t (Cin 16): walkable at 1:4 (16-byte groups), not at 1:16 (64-byte groups)
    assert bench.cycle_breakdown(by[("conv-t", "1:4", "xdec_direct")])["im2col / pad copy"] == 0
    assert "im2col" in by[("conv-t", "1:16", "xdec_direct")].regions
    gains = {(g["layer"], g["pattern"], g["kernel"]): g for g in bench.direct_gains(res)}
    g = gains[("conv-t", "1:4", "xdec4")]
    assert g["walked"]
    assert g["gain"] == pytest.approx(by[("conv-t", "1:4", "xdec4")].kernel_cycles
                                      / by[("conv-t", "1:4", "xdec4_direct")].kernel_cycles)
    assert not gains[("conv-t", "1:16", "xdec")]["walked"]
    assert gains[("conv-t", "dense", "dense_4x2")]["walked"]
    tg = {(t["kind"], t["pattern"]): t for t in res.targets()}
    assert set(tg) == {(k, p) for k in ("conv", "fc") for p in ("1:4", "1:16")}
    for (kind, pattern), t in tg.items():
        best = min(by[(kind + "-t", pattern, k)].kernel_cycles for k in bench.XDEC_FAMILY
                   if (kind + "-t", pattern, k) in by)
        d4 = by[(kind + "-t", "dense", "dense_4x2")].kernel_cycles
        assert t["ours"] == pytest.approx(d4 / best)
        assert t["met"] == (t["ours"] >= bench.TARGETS[(kind, pattern)])
        assert (t["ours_best_dense"] is None) == (kind == "fc")
    md = bench.markdown(res)
    assert "### Targets (issue 14)" in md
    assert "### im2col vs the direct walk" in md


def test_headline_figures_compare_the_strongest_kernel_of_each_family(tiny_quick):
    res = bench.run_bench(quick=True, log=lambda m: None)
    fig = bench.headline_figures(res)
    cyc = {(r.layer, r.pattern, r.kernel): r.kernel_cycles for r in res.runs}
    best_x = min(cyc[("fc-t", "1:16", k)] for k in ("xdec", "xdec4"))
    best_s = min(cyc[("fc-t", "1:16", k)] for k in ck.SW_KERNELS if k not in ck.SKIP_KERNELS)
    dense = {k: cyc[("fc-t", "dense", k)] for k in ck.DENSE_KERNELS}
    cells = fig["cells"]
    assert cells[("fc", "xdec", "dense_4x2", "1:16")] == pytest.approx(dense["dense_4x2"] / best_x)
    assert cells[("fc", "sw", "dense", "1:16")] == pytest.approx(min(dense.values()) / best_s)
    assert ("fc", "xdec", "dense", "1:8") not in cells  # not run: no figure made up
    ratios = [min(cyc[(la, p, k)] for k in ck.SW_KERNELS if k not in ck.SKIP_KERNELS)
              / min(cyc[(la, p, k)] for k in ("xdec", "xdec4"))
              for la in TINY for p in ("1:4", "1:16")]
    assert fig["xdec_over_sw"]["max"] == pytest.approx(max(ratios))
    assert fig["xdec_over_sw"]["count"] == 4
    assert fig["target"] == "iss"


def test_paper_values():
    assert bench.paper_value("conv", "xdec", "dense_1x2", "1:8") == 2.4
    assert bench.paper_value("conv", "sw", "dense_1x2", "1:8") is None
    assert bench.paper_value("fc", "xdec", "dense_4x2", "1:4") == 1.8  # one "dense" baseline
    assert bench.paper_value("conv", "xdec4", "dense_1x2", "1:4") is None


def test_dense_timing_does_not_depend_on_the_weights():
    """The benchmark runs each dense kernel once per layer: its cycles must not depend on
    the weight values."""
    shape = ck.ConvShape(h=4, w=4, cin=8, cout=6, pad=1)
    for kernel in ck.DENSE_KERNELS:
        cyc = {ck.run_kernel(ck.make_case(shape, p, seed=s), kernel).kernel_cycles
               for p, s in (("1:4", 1), ("2:16", 2))}
        assert len(cyc) == 1


def test_xdec_timing_depends_only_on_the_nz_count():
    shape = ck.FCShape(k=128, cout=4, tokens=2)
    a, b = (ck.run_kernel(ck.make_case(shape, p), "xdec").kernel_cycles for p in ("1:8", "2:16"))
    assert a == b


def test_cli_bench_quick(tmp_path, tiny_quick, capsys):
    assert main(["bench", "--iss", "--quick", "--silent", "--patterns", "1:8",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "xdec4" in out
    assert "conv-t" in out
    assert (tmp_path / "bench.json").is_file()
    assert (tmp_path / "speedup.png").is_file()


def test_cli_bench_rejects_bad_pattern(tmp_path, tiny_quick, capsys):
    # a usage error since the CLI hardening: argparse's message and exit status 2, no exception
    assert main(["bench", "--quick", "--silent", "--patterns", "1/8",
                 "--out", str(tmp_path)]) == 2
    assert "pattern must look like 'N:M'" in capsys.readouterr().err


def test_report_section(tmp_path, tiny_quick):
    class Ctx:
        out, quick = tmp_path, True
        figures: ClassVar[dict] = {}

        @staticmethod
        def log(msg: str) -> None:
            pass

    md = report_section(Ctx())
    assert md.startswith("## Kernel benchmark")
    assert Ctx.figures["bench"]["section"] == md.splitlines()[0][3:]
    assert ("conv", "xdec", "dense_4x2", "1:16") in Ctx.figures["bench"]["cells"]
    assert "![speedup vs sparsity](bench/speedup.png)" in md
    assert "![cycle breakdown](bench/breakdown.png)" in md
    assert "vs 4×2 (paper)" in md
    assert (tmp_path / "bench" / "bench.json").is_file()


@pytest.mark.slow
def test_full_bench_is_bit_exact_and_beats_dense(tmp_path):
    """The benchmark's full layer set (about 4 minutes on the ISS): every run bit-exact, and
    xDecimate 1x2 faster than the 4x2 dense kernel at every N = 1 pattern."""
    res = bench.run_bench(quick=False, log=lambda m: None)
    assert all(r.bit_exact for r in res.runs)
    for r in res.rows:
        if r["kernel"] == "xdec" and r["pattern"] in ("1:4", "1:8", "1:16"):
            assert r["speedup_dense_4x2"] > 1.0, r
    bench.write_outputs(res, tmp_path)
