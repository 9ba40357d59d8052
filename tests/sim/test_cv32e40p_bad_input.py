"""``sim/cv32e40p.py`` (the RTL target) on bad files and bad arguments.

Everything here is refused before the Verilator harness is built or run, so no test needs it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from xdecimate.sim import cv32e40p
from xdecimate.sw.kernels import toolchain

SRC = "int main(void) { return 3; }\n"
U64 = 2**64 - 1


@pytest.fixture(autouse=True)
def no_simulator(monkeypatch):
    """The harness must not be built: bad input is refused first."""
    def boom(**_kwargs):
        raise AssertionError("the simulator was built although the input was bad")

    monkeypatch.setattr(cv32e40p, "build", boom)


@pytest.fixture(scope="module")
def good() -> Path:
    return toolchain.build_elf([("m.c", SRC)])


def _write(tmp_path: Path, data: bytes) -> Path:
    p = tmp_path / "bad.elf"
    p.write_bytes(data)
    return p


def _load_end(path: Path) -> int:
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as f:
        return max(s["p_offset"] + s["p_filesz"] for s in ELFFile(f).iter_segments()
                   if s["p_type"] == "PT_LOAD" and s["p_filesz"])


FILE_FUNCS = {"load_elf": cv32e40p.load_elf, "run_elf": cv32e40p.run_elf,
              "symbol": lambda p: cv32e40p.symbol(p, "main")}


@pytest.mark.parametrize("func", FILE_FUNCS.values(), ids=FILE_FUNCS)
@pytest.mark.parametrize("path", [None, 42, b"x.elf", ["x.elf"]])
def test_path_type(func, path):
    with pytest.raises(TypeError, match=r"ELF path must be a str or os.PathLike, not"):
        func(path)


@pytest.mark.parametrize("func", FILE_FUNCS.values(), ids=FILE_FUNCS)
def test_missing_and_folder(func, tmp_path):
    with pytest.raises(FileNotFoundError, match=f"ELF file not found: {tmp_path}/no.elf$"):
        func(tmp_path / "no.elf")
    with pytest.raises(FileNotFoundError, match=rf"ELF file not found: {tmp_path} \(a folder\)"):
        func(tmp_path)


@pytest.mark.parametrize("func", FILE_FUNCS.values(), ids=FILE_FUNCS)
@pytest.mark.parametrize(("data", "fragment"), [
    (b"", "is not an ELF file: the file is empty"),
    (b"hello world\n", "is not an ELF file: Magic number does not match"),
    (b"\x7fELF\x01\x01\x01" + bytes(20), "is not an ELF file"),
])
def test_not_an_elf(func, tmp_path, data, fragment):
    p = _write(tmp_path, data)
    with pytest.raises(ValueError, match=f"^{p} {fragment}"):
        func(p)


@pytest.mark.parametrize("func", [cv32e40p.load_elf, cv32e40p.run_elf])
def test_other_architectures(func, tmp_path, good):
    host = Path(sys.executable).resolve()
    if host.read_bytes()[:4] == b"\x7fELF":
        with pytest.raises(ValueError, match=r"must be a 32-bit little-endian RISC-V ELF, not "
                                             r"64-bit little-endian"):
            func(host)
    data = bytearray(good.read_bytes())
    data[5] = 2  # big-endian
    with pytest.raises(ValueError, match="not 32-bit big-endian"):
        func(_write(tmp_path, bytes(data)))
    src = tmp_path / "s.S"
    src.write_text("  .text\n  .globl _start\n_start:\n  j _start\n")
    rv64 = tmp_path / "rv64.elf"
    subprocess.run([toolchain.GCC, "-march=rv64i", "-mabi=lp64", "-nostdlib", str(src), "-o",
                    str(rv64)], check=True)
    with pytest.raises(ValueError, match="not 64-bit little-endian EM_RISCV"):
        func(rv64)


@pytest.mark.parametrize("func", [cv32e40p.load_elf, cv32e40p.run_elf])
def test_truncated_segment(func, tmp_path, good):
    p = _write(tmp_path, good.read_bytes()[:_load_end(good) - 1])
    with pytest.raises(ValueError, match=rf"^{p}: truncated ELF: segment at 0x.* the file has"):
        func(p)


@given(cut=st.integers(min_value=0))
def test_any_truncation_is_an_error_or_harmless(tmp_path_factory, cut):
    """Property: a prefix of a good ELF raises ValueError naming the file whenever the cut lies
    inside the loadable bytes, and loads exactly as the whole file otherwise."""
    good = toolchain.build_elf([("m.c", SRC)])
    data = good.read_bytes()
    cut %= len(data)
    p = _write(tmp_path_factory.mktemp("cut"), data[:cut])
    if cut < _load_end(good):
        with pytest.raises(ValueError, match=f"^{p}"):
            cv32e40p.load_elf(p)
    else:
        assert cv32e40p.load_elf(p) == cv32e40p.load_elf(good)
    # the section headers sit at the end of the file: any cut loses some of them
    with pytest.raises(ValueError, match=f"^{p}"):
        cv32e40p.symbol(p, "main")


def test_symbol_arguments(good):
    with pytest.raises(TypeError, match="symbol name must be a str, not int 5"):
        cv32e40p.symbol(good, 5)
    with pytest.raises(KeyError, match="no symbol 'nope'"):
        cv32e40p.symbol(good, "nope")


@pytest.mark.parametrize(("max_cycles", "exc", "fragment"), [
    (0, ValueError, "max_cycles must be a positive integer, not 0"),
    (-1, ValueError, "max_cycles must be a positive integer, not -1"),
    (-(2**70), ValueError, "max_cycles must be a positive integer"),
    (U64 + 1, ValueError, r"max_cycles must be at most 2\*\*64 - 1 .*, not 18446744073709551616"),
    (True, TypeError, "max_cycles must be an int, not bool True"),
    (1e6, TypeError, r"max_cycles must be an int, not float 1000000\.0"),
    ("100", TypeError, "max_cycles must be an int, not str '100'"),
    (None, TypeError, "max_cycles must be an int, not NoneType"),
])
def test_run_elf_max_cycles(good, max_cycles, exc, fragment):
    with pytest.raises(exc, match=fragment):
        cv32e40p.run_elf(good, max_cycles=max_cycles)


def test_run_elf_other_arguments(good):
    with pytest.raises(ValueError, match="counters must be 'tb' or 'csr', not 'x'"):
        cv32e40p.run_elf(good, counters="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="stalls must be a Stalls or None, not 7"):
        cv32e40p.run_elf(good, stalls=7)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kwargs", "exc", "fragment"), [
    ({"gnt_percent": 0}, ValueError, r"gnt_percent must be an integer in 1\.\.100, not 0"),
    ({"gnt_percent": 101}, ValueError, "not 101"),
    ({"gnt_percent": True}, TypeError, "gnt_percent must be an int, not bool True"),
    ({"gnt_percent": 50.0}, TypeError, "gnt_percent must be an int, not float"),
    ({"max_extra_latency": -1}, ValueError, r"max_extra_latency must be an integer in 0\.\.64"),
    ({"max_extra_latency": 65}, ValueError, "not 65"),
    ({"seed": -1}, ValueError, r"seed must be an integer in 0\.\.18446744073709551615, not -1"),
    ({"seed": U64 + 1}, ValueError, "not 18446744073709551616"),
    ({"seed": "1"}, TypeError, "seed must be an int, not str '1'"),
])
def test_stalls(kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        cv32e40p.Stalls(**kwargs)


def test_stalls_limits_accepted():
    assert cv32e40p.Stalls(seed=U64, gnt_percent=100, max_extra_latency=64).seed == U64
    assert cv32e40p.Stalls(seed=0, gnt_percent=1, max_extra_latency=0).gnt_percent == 1


# --------------------------------------------------------------------------------------------
# python -m xdecimate.sim.cv32e40p
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "fragment"), [
    (["x.elf", "--max-cycles=-5"], "argument --max-cycles: must be in 1..18446744073709551615, "
                                   "not '-5'"),
    (["x.elf", "--max-cycles", "0"], "must be in 1..18446744073709551615, not '0'"),
    (["x.elf", "--max-cycles", "abc"], "argument --max-cycles: must be an integer, not 'abc'"),
    (["x.elf", "--max-cycles", str(U64 + 1)], "must be in 1..18446744073709551615"),
    (["x.elf", "--stall-seed=-1"], "argument --stall-seed: must be in 0..18446744073709551615"),
    ([], "the following arguments are required: elf"),
])
def test_main_usage_errors(capsys, argv, fragment):
    with pytest.raises(SystemExit) as info:
        cv32e40p.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err.strip().splitlines()[-1]


def test_main_bad_files(capsys, tmp_path):
    assert cv32e40p.main([str(tmp_path / "no.elf")]) == 1
    assert capsys.readouterr().err == f"error: ELF file not found: {tmp_path}/no.elf\n"
    text = _write(tmp_path, b"hello\n")
    assert cv32e40p.main([str(text)]) == 1
    assert capsys.readouterr().err.startswith(f"error: {text} is not an ELF file")
