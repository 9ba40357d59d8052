"""Equivalence of the patched CV32E40P (extension off) with the stock core: the flow's pieces
fast, the proof itself and its planted bug under ``-m slow`` (about 35 minutes each)."""

from __future__ import annotations

import pytest
from xdecimate.formal import core_equiv as ce
from xdecimate.formal import report


def test_sources_replace_the_clock_gate_and_add_only_the_leaves():
    gold, gate = ce.core_sources("stock"), ce.core_sources("xdec-off")
    assert "cv32e40p_sim_clock_gate.sv" not in gold
    assert "assign clk_o = clk_i;" in gold["cv32e40p_clock_gate.sv"]
    assert gold["cv32e40p_clock_gate.sv"] == gate["cv32e40p_clock_gate.sv"]
    assert sorted(set(gate) - set(gold)) == ["cv32e40p_xdec_merge.v", "cv32e40p_xdec_side.v"]
    assert next(iter(gold)).endswith("_pkg.sv")  # the manifest's order: packages first
    changed = sorted(n for n in gold if gold[n] != gate[n])
    assert "cv32e40p_decoder.sv" in changed
    assert "cv32e40p_alu.sv" not in changed


def test_the_planted_bug_changes_one_line_of_the_patched_decoder():
    gate = ce.core_sources("xdec-off")
    bad = ce.core_sources("xdec-off", "xdec_csr_legal_when_off")
    assert [n for n in gate if gate[n] != bad[n]] == ["cv32e40p_decoder.sv"]
    with pytest.raises(ValueError, match="mutation must be one of"):
        ce.core_sources("stock", "xdec_csr_legal_when_off")
    with pytest.raises(ValueError, match="core must be 'stock' or 'xdec-off'"):
        ce.core_sources("xdec-full")


def test_script_reads_both_cores_and_asserts_the_status():
    s = ce.equiv_script(["a_pkg.sv", "b.sv"], ["a_pkg.sv", "b.sv", "x.v"])
    assert "gold/a_pkg.sv gold/b.sv" in s
    assert "-G COREV_XDEC=0 gate/a_pkg.sv gate/b.sv gate/x.v" in s
    for cmd in ("async2sync", "equiv_make gold gate equiv", "equiv_simple -seq 2",
                "equiv_induct -seq 2", "equiv_status -assert"):
        assert cmd in s.splitlines()


def test_fingerprint_changes_with_every_input():
    gold, gate = {"a.sv": "module a; endmodule"}, {"a.sv": "module a; endmodule"}
    base = ce.fingerprint(gold, gate, "script")
    assert ce.fingerprint(gold, gate, "script") == base
    assert ce.fingerprint(gold, {"a.sv": "module a;  endmodule"}, "script") != base
    assert ce.fingerprint(gold, {"b.sv": "module a; endmodule"}, "script") != base
    assert ce.fingerprint(gold, gate, "script2") != base


def test_parse_log():
    ok = ("Found 7537 $equiv cells in equiv:\n  Of those cells 7537 are proven and 0 are "
          "unproven.\n  Equivalence successfully proven!\n")
    assert ce.parse_log(ok) == (True, 7537, 0)
    bad = ("Found 7537 $equiv cells in equiv:\n  Of those cells 7500 are proven and 37 are "
           "unproven.\n")
    assert ce.parse_log(bad) == (False, 7537, 37)
    with pytest.raises(ValueError, match="stopped early"):
        ce.parse_log("ERROR: syntax error\n")


def test_report_quotes_the_cache_and_never_runs_the_proof(tmp_path):
    md = report.core_equiv_markdown(cache=tmp_path)
    assert md.count("not run for these inputs") == 1 + len(ce.MUTATIONS)
    assert "python -m xdecimate.formal.core_equiv" in md


@pytest.mark.slow
def test_patched_core_with_the_extension_off_is_equivalent_to_the_stock_core():
    res = ce.prove()
    assert res is not None
    assert res.proven
    assert res.unproven == 0
    assert res.cells > 5000


@pytest.mark.slow
@pytest.mark.parametrize("mutation", sorted(ce.MUTATIONS))
def test_a_patch_that_touches_a_stock_path_is_rejected(mutation):
    res = ce.prove(mutation=mutation)
    assert res is not None
    assert not res.proven
    assert res.unproven > 0
