"""The networks section's tables and notes (sw/deploy/report.py), on a made-up result: the
paper's Table 2 beside ours, the memory sentence, and the derived-totals note that compares
with an end-to-end run."""

from __future__ import annotations

import json

from xdecimate.sw.deploy import report


def _run(pattern: str, cycles: int, wbytes: int, **kw) -> dict:
    layers = [{"node": "blk0.fc1", "op": "linear", "cycles": cycles // 2, "dma_cycles": 10},
              {"node": "head", "op": "linear", "cycles": cycles // 2, "dma_cycles": 5}]
    return {"pattern": pattern, "policy": kw.get("policy", "fastest"), "network": "vit-s16",
            "cycles": cycles, "dma_cycles": 15, "dma_transfers": 3, "weight_bytes": wbytes,
            "dense_weight_bytes": 1000, "weight_ratio": 1000 / wbytes, "layers": layers,
            "speedup": kw.get("speedup"), **kw}


def _result() -> dict:
    base = _run("dense", 1000, 1000, policy="dense_4x2")
    return {"network": "vit", "policy": "fastest", "target": "iss",
            "baseline": base,
            "runs": [_run("dense", 900, 1000, speedup=1000 / 900),
                     _run("1:16", 500, 400, speedup=2.0, cycles_single_buffer=520)],
            "derived": {"blocks": 12, "measured_blocks": 1}}


def test_table_puts_the_paper_beside_ours() -> None:
    md = "\n".join(report._table(_result(), "vit", "full"))
    assert ("| dense 4×2 (baseline) | 1,000 | 1.00× | 0.90× | 975.23 | 1.00× | – | 15 | "
            "1,000 B |") in md
    assert "| 1:16 (fastest) | 500 | 2.00× | 1.80× | 540.23 | 1.81× | 520 | 15 | 400 B | 2.50× |" \
        in md
    # the dense row is ours only: the paper's dense is the baseline
    assert "| dense (fastest) | 900 | 1.11× | 1.00× | – | – |" in md
    assert "Weight memory at 1:16: paper 2.34× less than dense; ours 2.50×" in md


def test_derived_note_compares_with_the_end_to_end_run(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(report, "FULL_DIR", tmp_path)
    assert "No end-to-end run backs it" in report._derived_note(_result(), "vit")
    (tmp_path / "vit-e2e").mkdir()
    e2e = {"target": "iss", "seconds": 1800, "runs": [_run("1:16", 502, 400)]}
    (tmp_path / "vit-e2e" / "net.json").write_text(json.dumps(e2e))
    note = report._derived_note(_result(), "vit")
    assert "count that block 12 times" in note
    assert "1:16: 502 cycles measured end to end (30 min on the iss" in note
    assert "vs 500 derived (-0.398 %)" in note


def test_plot_draws_every_configuration(tmp_path) -> None:
    path = report._plot(_result(), tmp_path / "p.png")
    assert path.stat().st_size > 5000
