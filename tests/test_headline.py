"""The report's headline table: every claim of the papers, ours only where a section measured it."""

from __future__ import annotations

import re

from xdecimate import headline


def test_slug_is_githubs_anchor():
    assert headline.slug("Kernel benchmark: dense vs software sparse vs xDecimate") == (
        "kernel-benchmark-dense-vs-software-sparse-vs-xdecimate")
    assert headline.slug("ISS vs the CV32E40P RTL (xdec-full)") == (
        "iss-vs-the-cv32e40p-rtl-xdec-full")


def test_without_figures_every_claim_reads_not_measured_and_carries_no_number_of_ours():
    md = headline.render({}, {})
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("| Claim")]
    assert len(rows) == len(headline.PAPER_CLAIMS)
    for row in rows:
        ours = row.split(" | ")[2]
        assert ours.startswith("not measured yet"), row
        assert not re.search(r"\d+\.\d+", ours.replace("#1", "")), row
    assert "issue #12" in md
    assert "issue #15" in md


def test_figures_fill_the_rows_and_link_the_sections():
    cells = {("conv", "xdec", "dense_4x2", p): v for p, v in (("1:4", 1.25), ("1:8", 1.5),
                                                             ("1:16", 2.125))}
    figures = {
        "bench": {"target": "iss", "cells": cells,
                  "xdec_over_sw": {"max": 1.515, "layer": "fc-x", "pattern": "1:8",
                                   "mean": 1.3, "count": 6}},
        "memory": {"1:4": 0.6875, "1:8": 0.8125, "1:16": 0.90625},
        "area": {"host_core": {"available": True, "configs": {
            "full": {"overhead_ge": 812.4, "overhead_pct": 1.234, "fmax_change_pct": -0.5}},
            "off": {"overhead_ge": 20.0, "overhead_pct": 0.03, "fmax_change_pct": 9.25}}},
    }
    heads = {headline.BENCH: "Kernel benchmark: x", headline.SELFCHECK: "Golden model self-check",
             headline.AREA: "Area"}
    md = headline.render(figures, heads)
    assert "| 1.25× / 1.50× / 2.12× (vs the faster dense 4×2, im2col or direct) |" in md
    assert "up to 1.51× (fc-x, 1:8)" in md
    assert "68.750 % / 81.250 % / 90.625 %" in md
    assert "full: 1.23 % (812 GE), Fmax -0.5 %" in md
    assert "flow noise (the same logic, extension off): +0.03 %, Fmax +9.2 %" in md
    assert "[Kernel benchmark: x](#kernel-benchmark-x)" in md
    assert "[Golden model self-check](#golden-model-self-check)" in md
    # the software rows have no figures in this input: still "not measured"
    assert ("| Software N:M vs dense, FC (1:4 / 1:8 / 1:16) | 1.02× / 1.6× / 2.3× "
            "| not measured") in md


def test_a_host_core_without_overheads_is_not_a_figure():
    md = headline.render({"area": {"host_core": {"available": False}}}, {})
    assert ("| Core area overhead of xDecimate | ≈ 5 % of the core "
            "| not measured yet (issue #12)") in md


def test_network_and_accuracy_rows_say_scope_and_units():
    figures = {
        "networks": {"resnet18": {"scope": "quick", "speedup": {"1:4": 1.2, "1:8": 1.9,
                                                                "1:16": 2.5},
                                  "weight_ratio": {"1:8": 3.5}},
                     "vit": {"scope": "full", "speedup": {"1:16": 1.5}}},
        "accuracy": {"drop_1_8": {"cnn": -0.4, "vit": 0.8}, "drop_1_16": {"cnn": -1.25}},
    }
    heads = {headline.NETWORKS: "Whole networks: x", headline.ACCURACY: "Accuracy: y"}
    md = headline.render(figures, heads)
    assert "| 1.20× / 1.90× / 2.50× (**quick variant** (full size: `make net-full`), one core, " \
           "weights 3.50× smaller) | [Whole networks: x](#whole-networks-x) |" in md
    assert "| – / – / 1.50× (full size, one core) |" in md
    assert "CNN -0.40 / -1.25 pp; ViT 0.80 / nan pp below int8 dense" in md
    assert "[Accuracy: y](#accuracy-y)" in md


def test_approx_row_gives_both_models_reductions_and_links():
    md = headline.render({}, {})
    assert "| Approximate kernels (Armeniakos et al., seed 002) | 21 % lower latency, no " \
           "Top-1 loss | not measured yet (issue #17) | – |" in md
    figures = {"approx": {"models": {"cnn": {"zero_loss": 0.123, "within_1pp": 0.4567},
                                     "vit": {"zero_loss": None, "within_1pp": 0.05}},
                          "quick": True}}
    md = headline.render(figures, {headline.APPROX: "Approximate kernels: z"})
    assert "CNN −12.3 % at 0 pp, −45.7 % at ≤ 1 pp; ViT none at 0 pp, −5.0 % at ≤ 1 pp " \
           "latency vs int8 dense (`dense_4x2`), measured end to end (Fashion-MNIST, one core, " \
           "**quick** DSE) | [Approximate kernels: z](#approximate-kernels-z) |" in md
