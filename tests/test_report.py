"""`xdecimate report` writes the report; `xdecimate spec` checks the docs."""

from xdecimate.sw.model.selfcheck import report_section, run_selfcheck

from xdecimate.cli import main


def test_selfcheck_quick_is_exact():
    results = run_selfcheck(quick=True)
    assert len(results) == 4 * 6
    assert all(r.exact for r in results)
    assert all(r.xdec_ops > 0 for r in results)


def test_report_section_has_footprint_table(tmp_path):
    class Ctx:
        out, quick = tmp_path, True

    md = report_section(Ctx())
    assert "68.750 %" in md
    assert "81.250 %" in md
    assert "90.625 %" in md
    assert "all bit-exact" in md


def test_cli_spec_check_docs(capsys):
    assert main(["spec", "--check-docs"]) == 0
    assert "agrees" in capsys.readouterr().out
