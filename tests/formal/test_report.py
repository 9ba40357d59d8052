"""formal/report.py: the report section renders every proof and mutation line."""

from xdecimate.formal import report
from xdecimate.formal.proofs import run_mutation, run_proof


def test_report_section_writes_json_and_markdown(tmp_path, monkeypatch):
    results = [run_proof("merge", "full"), run_mutation("lane_off_by_one")]
    monkeypatch.setattr(report, "run_report", lambda quick, workdir: results)

    class Ctx:
        out, quick = tmp_path, True

        @staticmethod
        def log(msg):
            pass

    md = report.report_section(Ctx())
    assert "1/1 proofs hold; 1/1 planted bugs caught" in md
    assert "| `merge` | full |" in md
    assert "| `lane_off_by_one` | `merge` | full |" in md
    assert "| caught |" in md
    assert (tmp_path / "formal" / "formal.json").exists()
    assert (tmp_path / "formal" / "formal.md").read_text().startswith("# Formal proofs")


def test_markdown_flags_what_went_wrong():
    passed = run_proof("merge", "full")
    broken = passed.__class__(**{**passed.__dict__, "status": "FAIL", "failed": ("result",),
                                 "step": 0})
    md = report.render_markdown([broken])
    assert "0/1 proofs hold" in md
    assert "**Not as expected:** merge/full: FAIL" in md


def test_quick_plants_one_mutation_per_block():
    names = report._quick_mutations()
    assert len(names) == 5
