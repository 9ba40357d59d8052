"""sim/report.py: the verification section of the report (quick run)."""

import json

from xdecimate.sim.report import report_section


def test_report_section_quick(tmp_path):
    class Ctx:
        out, quick = tmp_path, True

        @staticmethod
        def log(msg):
            pass

    md = report_section(Ctx())
    assert md.startswith("## xDecimate RTL verification (cocotb)")
    assert "0 mismatches" in md
    assert "| full | verilator |" in md
    data = json.loads((tmp_path / "hw_verification.json").read_text())
    assert {d["config"] for d in data} >= {"full", "paper", "m4only"}
    assert all(d["coverage"][0] == d["coverage"][1] for d in data)
    assert all(d["ops_per_s"] > 0 and d["cycles_per_s"] > 0 for d in data)
