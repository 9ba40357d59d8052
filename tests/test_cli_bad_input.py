"""The ``xdecimate`` command line on bad input: one message, exit status 2 (usage) or 1 (failure).

Most cases call :func:`xdecimate.cli.main` in process (fast); two spawn the console script to
prove that the real entry point prints one line and no traceback.  Expensive work (report,
bench, area, verilog) is replaced by a tripwire: a bad argument must be refused before it runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from xdecimate.sw.iss.target import TargetError
from xdecimate.sw.kernels.toolchain import ToolchainError

import xdecimate.cmd_spec
import xdecimate.report
from xdecimate import cli
from xdecimate.cli import main

COMMANDS = sorted(cli.COMMANDS)
SCRIPT = Path(sys.executable).parent / "xdecimate"


@pytest.fixture
def tripwire(monkeypatch):
    """Every long-running entry point of the subcommands fails the test if it is reached."""
    from xdecimate.hw import export
    from xdecimate.sw.bench import crosscheck, suite
    from xdecimate.synth import area

    def boom(*_a, **_k):
        raise AssertionError("the long work started although the arguments were bad")

    monkeypatch.setattr(suite, "run_bench", boom)
    monkeypatch.setattr(crosscheck, "bench_cv32e40p", boom)
    monkeypatch.setattr(area, "run_area", boom)
    monkeypatch.setattr(export, "write_verilog", boom)
    monkeypatch.setattr(xdecimate.report, "write_report", boom)


def usage_error(capsys, argv: list[str], fragment: str) -> str:
    """Run ``argv``; assert exit status 2, the fragment in the last stderr line, no traceback."""
    t0 = time.perf_counter()
    assert main(argv) == 2
    assert time.perf_counter() - t0 < 5  # refused before any work
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err
    assert cap.out == ""
    lines = cap.err.strip().splitlines()
    assert lines[0].startswith("usage: xdecimate")
    assert fragment in lines[-1], cap.err
    return lines[-1]


def failure(capsys, argv: list[str], fragment: str) -> str:
    """Run ``argv``; assert exit status 1 and exactly one stderr line with the fragment."""
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("xdecimate: error: ")
    assert fragment in lines[0], err
    return lines[0]


# --------------------------------------------------------------------------------------------
# argparse level: commands, options, help
# --------------------------------------------------------------------------------------------


def test_no_command(capsys):
    usage_error(capsys, [], "the following arguments are required: COMMAND")


def test_unknown_command(capsys):
    usage_error(capsys, ["frobnicate"], "invalid choice: 'frobnicate'")


@pytest.mark.parametrize("command", COMMANDS)
def test_unknown_option(capsys, tripwire, command):
    argv = [command, "--no-such-option"] + (["--out", "x"] if command == "verilog" else [])
    usage_error(capsys, argv, "unrecognized arguments: --no-such-option")


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_exits_0(capsys, command):
    assert main(([command] if command else []) + ["--help"]) == 0
    cap = capsys.readouterr()
    assert cap.out.startswith("usage: xdecimate")
    assert cap.err == ""


def test_verilog_requires_out(capsys, tripwire):
    usage_error(capsys, ["verilog"], "the following arguments are required: --out")


def test_spec_options_exclusive(capsys):
    usage_error(capsys, ["spec", "--check-docs", "--write-docs"], "not allowed with argument")


@pytest.mark.parametrize(("argv", "fragment"), [
    (["bench", "--target", "qemu"], "invalid choice: 'qemu'"),
    (["area", "--config", "huge"], "configuration must be one of ['full', 'm4only', 'paper'], "
                                   "not 'huge'"),
    (["area", "--config", ""], "not ''"),
    (["verilog", "--out", "x", "--config", "huge"], "invalid choice: 'huge'"),
    (["report", "--quick=yes"], "ignored explicit argument 'yes'"),
    (["bench", "--patterns"], "expected one argument"),
    (["dse", "--arch", "resnet"], "invalid choice: 'resnet'"),
    (["dse", "--bases", "3:8"], "invalid choice: '3:8'"),
    (["dse", "--search-images", "0"], "must be a positive integer, not 0"),
    (["dse", "--search-images", "20000"], "the test split has 10,000 images, not 20000"),
    (["dse", "--workers", "two"], "must be a positive integer, not 'two'"),
])
def test_bad_values(capsys, tripwire, argv, fragment):
    usage_error(capsys, argv, fragment)


# --------------------------------------------------------------------------------------------
# --patterns
# --------------------------------------------------------------------------------------------

PATTERN_CASES = [
    ("3:4", "N:M pattern must be one of"),
    ("1:3", "N:M pattern must be one of"),
    ("1:32", "N:M pattern must be one of"),
    ("0:4", "N:M pattern must be one of"),
    ("-1:4", "N:M pattern must be one of"),
    ("abc", "pattern must look like 'N:M', not 'abc'"),
    ("1/8", "pattern must look like 'N:M', not '1/8'"),
    ("1:4:8", "pattern must look like 'N:M', not '1:4:8'"),
    ("1:8,", "without empty items, not '1:8,'"),
    (",1:8", "without empty items, not ',1:8'"),
    ("1:8,,1:4", "without empty items"),
    (",", "without empty items"),
    ("", "without empty items, not ''"),
    (" ", "without empty items"),
    ("1:8,1:8", "pattern '1:8' is given twice in '1:8,1:8'"),
    ("1:4,1:8,1:4", "pattern '1:4' is given twice"),
]


@pytest.mark.parametrize("target", ["iss", "cv32e40p"])
@pytest.mark.parametrize(("value", "fragment"), PATTERN_CASES)
def test_bad_patterns(capsys, tripwire, tmp_path, target, value, fragment):
    line = usage_error(capsys, ["bench", "--target", target, f"--patterns={value}",
                                "--out", str(tmp_path)], fragment)
    assert line.startswith("xdecimate bench: error: argument --patterns: ")
    assert not any(tmp_path.iterdir())  # nothing written


def test_patterns_arg_accepts_and_normalises():
    assert cli.patterns_arg("1:4,2:8") == ("1:4", "2:8")
    assert cli.patterns_arg("1:16") == ("1:16",)


# --------------------------------------------------------------------------------------------
# --out
# --------------------------------------------------------------------------------------------

OUT_COMMANDS = [["report"], ["bench", "--quick"], ["area", "--no-timing"], ["verilog"], ["dse"]]


@pytest.mark.parametrize("argv", OUT_COMMANDS, ids=lambda a: a[0])
def test_out_is_a_file(capsys, tripwire, tmp_path, argv):
    f = tmp_path / "f"
    f.write_text("")
    usage_error(capsys, [*argv, "--out", str(f)], f"output folder {str(f)!r} exists and is not "
                                                  "a folder")


@pytest.mark.parametrize("argv", OUT_COMMANDS, ids=lambda a: a[0])
def test_out_below_a_file(capsys, tripwire, tmp_path, argv):
    f = tmp_path / "f"
    f.write_text("")
    usage_error(capsys, [*argv, "--out", str(f / "a" / "b")],
                f"cannot be created: {str(f)!r} is not a folder")


@pytest.mark.parametrize("argv", OUT_COMMANDS, ids=lambda a: a[0])
def test_out_empty(capsys, tripwire, argv):
    usage_error(capsys, [*argv, "--out", ""], "output folder must be a path, not ''")


@pytest.mark.parametrize("argv", OUT_COMMANDS, ids=lambda a: a[0])
def test_out_parent_not_writable(capsys, tripwire, tmp_path, monkeypatch, argv):
    # tests may run as root, for whom every folder is writable: the check is what is tested
    real = os.access
    monkeypatch.setattr(cli.os, "access",
                        lambda p, mode: False if Path(p) == tmp_path else real(p, mode))
    usage_error(capsys, [*argv, "--out", str(tmp_path / "new")],
                f"cannot be created: {str(tmp_path)!r} is not writable")


@pytest.mark.parametrize("argv", OUT_COMMANDS, ids=lambda a: a[0])
def test_out_cannot_be_created(capsys, tripwire, argv):
    # /proc exists and passes the parse-time check as root, but no folder can be made in it;
    # as another user the parse-time check refuses it (exit 2): both are one clear line
    out = "/proc/xdecimate-no-such/out"
    rc = main([*argv, "--out", out])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if rc == 1:
        assert err.strip() == (f"xdecimate: error: cannot create output folder {out!r}: "
                               "No such file or directory")
    else:
        assert rc == 2
        assert "'/proc' is not writable" in err


def test_out_mkdir_failure_is_one_line(capsys, tripwire, tmp_path, monkeypatch):
    def denied(self, *a, **k):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    failure(capsys, ["report", "--out", str(tmp_path / "r")],
            f"cannot create output folder {str(tmp_path / 'r')!r}: Permission denied")


def test_ensure_out_dir_not_writable(tmp_path, monkeypatch):
    monkeypatch.setattr(cli.os, "access", lambda p, mode: False)
    with pytest.raises(cli.CliError, match=r"output folder '.*' is not writable"):
        cli.ensure_out_dir(tmp_path)


# --------------------------------------------------------------------------------------------
# Failures while running: one line, exit 1; bugs keep their traceback
# --------------------------------------------------------------------------------------------


def _failing_report(exc: BaseException):
    def write_report(out, *, quick=False):
        raise exc
    return write_report


@pytest.mark.parametrize(("exc", "line"), [
    (TargetError("prog.elf on cv32e40p: timeout"),
     "xdecimate: error: prog.elf on cv32e40p: timeout"),
    (ToolchainError("build failed (gcc ...):\nx.c:1: error: expected ';'\n1 error"),
     "xdecimate: error: build failed (gcc ...): (2 more lines: XDECIMATE_TRACEBACK=1 shows them)"),
    (cli.CliError("something the user can fix"), "xdecimate: error: something the user can fix"),
])
def test_project_errors_are_one_line(capsys, tmp_path, monkeypatch, exc, line):
    monkeypatch.delenv(cli.TRACEBACK_ENV, raising=False)
    monkeypatch.setattr(xdecimate.report, "write_report", _failing_report(exc))
    assert main(["report", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == line + "\n"


def test_traceback_env_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv(cli.TRACEBACK_ENV, "1")
    monkeypatch.setattr(xdecimate.report, "write_report", _failing_report(TargetError("boom")))
    with pytest.raises(TargetError, match="boom"):
        main(["report", "--out", str(tmp_path)])


@pytest.mark.parametrize("exc", [KeyError("bug"), ValueError("bug"), AssertionError("bug"),
                                 RuntimeError("bug")])
def test_bugs_keep_their_traceback(tmp_path, monkeypatch, exc):
    monkeypatch.delenv(cli.TRACEBACK_ENV, raising=False)
    monkeypatch.setattr(xdecimate.report, "write_report", _failing_report(exc))
    with pytest.raises(type(exc), match="bug"):
        main(["report", "--out", str(tmp_path)])


def test_spec_docs_missing(capsys, tmp_path, monkeypatch):
    missing = tmp_path / "nope.md"
    monkeypatch.setattr(xdecimate.cmd_spec, "DOC", missing)
    failure(capsys, ["spec", "--check-docs"], f"cannot read {missing}: No such file")


def test_spec_docs_without_blocks(capsys, tmp_path, monkeypatch):
    doc = tmp_path / "doc.md"
    doc.write_text("no tables here\n")
    monkeypatch.setattr(xdecimate.cmd_spec, "DOC", doc)
    failure(capsys, ["spec", "--write-docs"], "docs lack the generated blocks")
    assert doc.read_text() == "no tables here\n"  # not rewritten


# --------------------------------------------------------------------------------------------
# The real console script
# --------------------------------------------------------------------------------------------


def _script(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_console_script_usage_error():
    proc = _script(["bench", "--patterns", "3:4"])
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "xdecimate bench: error: argument --patterns: N:M pattern must be one of "
        "['1:4', '1:8', '1:16', '2:4', '2:8', '2:16'], not 3:4")


def test_console_script_failure_is_one_line(tmp_path):
    # no RISC-V compiler on PATH: the first build fails with a ToolchainError
    proc = _script(["bench", "--quick", "--silent", "--out", str(tmp_path / "b")],
                   PATH=str(tmp_path), XDECIMATE_BUILD=str(tmp_path / "build"))
    assert proc.returncode == 1
    assert proc.stderr == ("xdecimate: error: riscv64-unknown-elf-gcc not found: install Debian "
                           "gcc-riscv64-unknown-elf (scripts/bootstrap.sh)\n")
