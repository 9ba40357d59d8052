"""``sw/kernels/toolchain.py`` and ``sw/kernels/harness.py`` on bad arguments and bad files."""

from __future__ import annotations

import math
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from xdecimate.sw.iss import memmap
from xdecimate.sw.iss.target import RunResult, TargetError
from xdecimate.sw.kernels import harness as ck
from xdecimate.sw.kernels import toolchain
from xdecimate.sw.model.nm_format import PATTERNS, Pattern

OK = [("m.c", "int main(void) { return 0; }\n")]
FC = ck.FCShape(k=32, cout=4, tokens=2)


# --------------------------------------------------------------------------------------------
# toolchain.build_elf
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sources", "exc", "fragment"), [
    ("m.c", TypeError, "sources must be a list or tuple of files or .* not str 'm.c'"),
    (Path("m.c"), TypeError, "sources must be a list or tuple .* not PosixPath"),
    (b"m.c", TypeError, "sources must be a list or tuple .* not bytes"),
    (42, TypeError, "sources must be a list or tuple .* not int 42"),
    ({"m.c": ""}, TypeError, "sources must be a list or tuple .* not dict"),
    ([], ValueError, r"sources must name at least one source file, not \[\]"),
    ([42], TypeError, "a source must be a path or a .* not int 42"),
    ([("m.c",)], TypeError, r"\(file name, text\) pair of str, not \('m.c',\)"),
    ([("m.c", b"int x;")], TypeError, r"\(file name, text\) pair of str"),
    ([("m.c", "", "")], TypeError, r"\(file name, text\) pair of str"),
    ([("dir/m.c", "")], ValueError, "plain file name without a folder, not 'dir/m.c'"),
    ([("/abs/m.c", "")], ValueError, "without a folder, not '/abs/m.c'"),
    ([("..", "")], ValueError, "without a folder, not '..'"),
    ([("", "")], ValueError, "without a folder, not ''"),
    ([("a.c", ""), ("a.c", "")], ValueError, "source file names must be unique"),
    ([("a.txt", "")], ValueError, r"must be \.c, \.S or \.s files, not 'a.txt'"),
])
def test_build_elf_sources(sources, exc, fragment):
    with pytest.raises(exc, match=fragment):
        toolchain.build_elf(sources)


def test_build_elf_missing_source(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"source file not found: {tmp_path}/x.c"):
        toolchain.build_elf([tmp_path / "x.c"])


@pytest.mark.parametrize(("kwargs", "exc", "fragment"), [
    ({"target": "linux"}, ValueError, "target must be one of .* not 'linux'"),
    ({"target": None}, ValueError, "target must be one of .* not None"),
    ({"opt": "-O9"}, ValueError, "opt must be an optimisation flag like '-O2'.* not '-O9'"),
    ({"opt": "O2"}, ValueError, "not 'O2'"),
    ({"opt": "-O2 -g"}, ValueError, "not '-O2 -g'"),
    ({"opt": ""}, ValueError, "not ''"),
    ({"opt": 2}, TypeError, "opt must be a str, not int 2"),
    ({"defines": "NDEBUG"}, TypeError, "defines must be a sequence of str .* not str 'NDEBUG'"),
    ({"defines": ["1X"]}, ValueError, "defines must be 'NAME' or 'NAME=VALUE', not '1X'"),
    ({"defines": ["-DX"]}, ValueError, "not '-DX'"),
    ({"defines": ["X Y"]}, ValueError, "not 'X Y'"),
    ({"defines": [1]}, TypeError, "defines must hold only str, not int 1"),
    ({"flags": "-g"}, TypeError, "flags must be a sequence of str .* not str '-g'"),
    ({"flags": [None]}, TypeError, "flags must hold only str, not NoneType None"),
    ({"name": "../x"}, ValueError, r"name must be a plain file name .* not '\.\./x'"),
    ({"name": "a/b"}, ValueError, "not 'a/b'"),
    ({"name": ""}, ValueError, "not ''"),
    ({"name": ".hidden"}, ValueError, r"not '\.hidden'"),
    ({"name": 1}, TypeError, "name must be a str, not int 1"),
])
def test_build_elf_options(kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        toolchain.build_elf(OK, **kwargs)


def test_build_elf_valid_options_still_build():
    elf = toolchain.build_elf(OK, opt="-Os", defines=["X", "Y=2"], flags=["-g0"], name="p-1.x")
    assert elf.name == "p-1.x.elf"
    assert elf.is_file()


# --------------------------------------------------------------------------------------------
# toolchain.disassemble / run_qemu
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ours", [False, True])
def test_disassemble_missing(tmp_path, ours):
    with pytest.raises(FileNotFoundError, match=f"ELF file not found: {tmp_path}/no.elf"):
        toolchain.disassemble(tmp_path / "no.elf", ours=ours)


def test_disassemble_text_file(tmp_path):
    p = tmp_path / "t.elf"
    p.write_text("hello\n")
    with pytest.raises(toolchain.ToolchainError, match=r"t.elf"):
        toolchain.disassemble(p)
    with pytest.raises(ValueError, match=rf"^{p}: not an ELF file"):
        toolchain.disassemble(p, ours=True)


@pytest.mark.parametrize("path", [None, 42])
def test_disassemble_path_type(path):
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike"):
        toolchain.disassemble(path)


def test_run_qemu_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"ELF file not found: {tmp_path}/q.elf"):
        toolchain.run_qemu(tmp_path / "q.elf")


@pytest.mark.parametrize(("timeout", "exc", "fragment"), [
    (0, ValueError, "timeout must be a positive finite number of seconds, not 0"),
    (-1.0, ValueError, r"not -1\.0"),
    (math.inf, ValueError, "not inf"),
    (math.nan, ValueError, "not nan"),
    ("1", TypeError, "timeout must be a number of seconds, not str '1'"),
    (True, TypeError, "not bool True"),
    (None, TypeError, "not NoneType None"),
])
def test_run_qemu_timeout(tmp_path, timeout, exc, fragment):
    elf = toolchain.build_elf(OK, target="qemu")
    with pytest.raises(exc, match=fragment):
        toolchain.run_qemu(elf, timeout=timeout)


# --------------------------------------------------------------------------------------------
# harness: shapes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "exc", "fragment"), [
    ({"k": "8"}, TypeError, "k must be an integer, not str '8'"),
    ({"k": 8.0}, TypeError, r"k must be an integer, not float 8\.0"),
    ({"k": True}, TypeError, "k must be an integer, not bool True"),
    ({"k": np.bool_(True)}, TypeError, "k must be an integer, not bool"),
    ({"k": None}, TypeError, "k must be an integer, not NoneType"),
    ({"k": 0}, ValueError, "k must be a positive integer, not 0"),
    ({"k": -4}, ValueError, "k must be a positive integer, not -4"),
    ({"k": 30}, ValueError, "FC K must be a multiple of 4"),
    ({"cout": 0}, ValueError, "cout must be a positive integer, not 0"),
    ({"tokens": -1}, ValueError, "tokens must be a positive integer, not -1"),
    ({"tokens": 2.5}, TypeError, "tokens must be an integer"),
    ({"name": 5}, TypeError, "name must be a str, not int 5"),
])
def test_fc_shape(kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        ck.FCShape(**{"k": 8, "cout": 4, "tokens": 2, **kwargs})


@pytest.mark.parametrize(("kwargs", "exc", "fragment"), [
    ({"pad": -1}, ValueError, "pad must be a non-negative integer, not -1"),
    ({"pad": True}, TypeError, "pad must be an integer, not bool True"),
    ({"pad": 1.0}, TypeError, "pad must be an integer, not float"),
    ({"stride": 0}, ValueError, "stride must be a positive integer, not 0"),
    ({"kh": 0}, ValueError, "kh must be a positive integer, not 0"),
    ({"h": "8"}, TypeError, "h must be an integer, not str"),
    ({"cin": 3}, ValueError, "conv Cin must be a multiple of 4"),
    ({"kh": 11, "pad": 0}, ValueError, "kernel does not fit"),
    ({"name": None}, TypeError, "name must be a str, not NoneType"),
])
def test_conv_shape(kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        ck.ConvShape(**{"h": 8, "w": 8, "cin": 4, "cout": 4, **kwargs})


@given(k=st.one_of(st.integers(-10, 40), st.floats(allow_nan=False), st.booleans(),
                   st.text(max_size=3)),
       cout=st.integers(-3, 9), tokens=st.integers(-3, 9))
def test_fc_shape_property(k, cout, tokens):
    """Property: FCShape accepts exactly positive integers with K a multiple of 4; a wrong
    type is a TypeError, a wrong value a ValueError naming the value."""
    is_int = isinstance(k, int) and not isinstance(k, bool)
    if not is_int:
        with pytest.raises(TypeError, match=r"k must be an integer, not"):
            ck.FCShape(k=k, cout=cout, tokens=tokens)
    elif k < 1 or cout < 1 or tokens < 1 or k % 4:
        with pytest.raises(ValueError, match=r"must be a (positive integer|multiple of 4)"):
            ck.FCShape(k=k, cout=cout, tokens=tokens)
    else:
        s = ck.FCShape(k=k, cout=cout, tokens=tokens)
        assert (s.k, s.cout, s.tokens) == (k, cout, tokens)


# --------------------------------------------------------------------------------------------
# harness: cases, fitting DMEM
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "kwargs", "exc", "fragment"), [
    (("fc", "1:8"), {}, TypeError, "shape must be an FCShape or a ConvShape, not str"),
    ((FC, 8), {}, TypeError, "pattern must be a Pattern or 'N:M', not 8"),
    ((FC, "1:3"), {}, ValueError, "N:M pattern must be one of"),
    ((FC, "x"), {}, ValueError, "pattern must look like 'N:M', not 'x'"),
    ((FC, "1:8"), {"seed": -1}, ValueError, "seed must be a non-negative integer, not -1"),
    ((FC, "1:8"), {"seed": 1.5}, TypeError, r"seed must be an integer, not float 1\.5"),
    ((FC, "1:8"), {"seed": True}, TypeError, "seed must be an integer, not bool"),
    ((FC, "1:8"), {"seed": "0"}, TypeError, "seed must be an integer, not str"),
])
def test_make_case(args, kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        ck.make_case(*args, **kwargs)


@pytest.mark.parametrize("shape", [
    ck.FCShape(k=4_000_000, cout=10_000, tokens=1_000),
    ck.ConvShape(h=4096, w=4096, cin=512, cout=512),
    ck.FCShape(k=131072, cout=1, tokens=1),  # the input row alone is DMEM_SIZE
])
def test_make_case_huge_layer_fails_fast(shape):
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=rf"layer {shape.label()}@1:16 needs at least \d+ bytes "
                                         r"of DMEM with any kernel"):
        ck.make_case(shape, "1:16")
    assert time.perf_counter() - t0 < 1  # refused before any array is made


@given(k4=st.integers(1, 96), cout=st.integers(1, 48), tokens=st.integers(1, 16),
       pattern=st.sampled_from([str(p) for p in PATTERNS]))
def test_make_case_refuses_only_what_no_kernel_fits(k4, cout, tokens, pattern):
    """Property: the fail-fast lower bound of ``make_case`` never refuses a layer that some
    kernel fits: with DMEM shrunk to exactly the smallest kernel's need, make_case and that
    kernel's check_fits both pass, and one byte less makes every check_fits fail."""
    case = ck.make_case(ck.FCShape(k=4 * k4, cout=cout, tokens=tokens), pattern)
    need = {k: ck._layout(case, k).total for k in ck.KERNELS}
    best = min(need, key=need.get)
    with mock.patch.object(memmap, "DMEM_SIZE", need[best] + ck.STACK_RESERVE):
        again = ck.make_case(case.shape, pattern)
        ck.check_fits(again, best)
    with mock.patch.object(memmap, "DMEM_SIZE", need[best] + ck.STACK_RESERVE - 1):
        try:
            again, refused = ck.make_case(case.shape, pattern), ""
        except ValueError as exc:
            again, refused = None, str(exc)
        if again is None:
            assert "needs at least" in refused
        else:
            for k in ck.KERNELS:
                with pytest.raises(ValueError, match="bytes of DMEM with kernel"):
                    ck.check_fits(again, k)


@pytest.mark.parametrize(("kernel", "exc", "fragment"), [
    (5, TypeError, "kernel must be a str, one of .* not int 5"),
    (None, TypeError, "kernel must be a str"),
    (["xdec"], TypeError, "kernel must be a str"),
    ("xdec8", ValueError, r"kernel must be one of \['dense_1x2', .*\], not 'xdec8'"),
    ("", ValueError, "not ''"),
    ("XDEC", ValueError, "not 'XDEC'"),
])
@pytest.mark.parametrize("func", [ck.check_fits, ck.build, ck.run_kernel])
def test_kernel_names(func, kernel, exc, fragment):
    with pytest.raises(exc, match=fragment):
        func(ck.make_case(FC, "1:8"), kernel)


@pytest.mark.parametrize("func", [ck.check_fits, ck.build, ck.run_kernel])
def test_case_type(func):
    with pytest.raises(TypeError, match="case must be a LayerCase, not FCShape"):
        func(FC, "xdec")


@pytest.mark.parametrize(("kwargs", "exc", "fragment"), [
    ({"target": 5}, TypeError, "target must be a function run.* or None, not int 5"),
    ({"target": "iss"}, TypeError, "not str 'iss'"),
    ({"cache_key": 5}, TypeError, "cache_key must be a str or None, not int 5"),
    ({"cache_key": ""}, ValueError, "cache_key must be a non-empty str or None, not ''"),
    ({"check": "yes"}, TypeError, "check must be a bool, not str 'yes'"),
    ({"check": 1}, TypeError, "check must be a bool, not int 1"),
])
def test_run_kernel_arguments(kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        ck.run_kernel(ck.make_case(FC, "1:8"), "xdec", **kwargs)


def _result(memory: bytes | None) -> RunResult:
    return RunResult(target="t", exit_code=0, stdout=b"", cycles=1, instret=1, memory=memory)


def test_read_output_bad_results(tmp_path):
    case = ck.make_case(FC, "1:8")
    elf = ck.build(case, "xdec")
    with pytest.raises(TypeError, match="res must be a RunResult, not dict"):
        ck.read_output(elf, {}, case)
    with pytest.raises(TypeError, match="case must be a LayerCase, not FCShape"):
        ck.read_output(elf, _result(b""), FC)
    with pytest.raises(TargetError, match="target 't' returned no data-memory snapshot"):
        ck.read_output(elf, _result(None), case)
    with pytest.raises(TargetError, match=r"outside the snapshot \(16 bytes\)"):
        ck.read_output(elf, _result(bytes(16)), case)
    text = tmp_path / "t.elf"
    text.write_text("not an elf\n")
    with pytest.raises(ValueError, match=rf"^{text}: not an ELF file"):
        ck.read_output(text, _result(bytes(memmap.DMEM_SIZE)), case)


def test_region_totals_and_hot_loop_arguments():
    with pytest.raises(TypeError, match="res must be a RunResult, not str"):
        ck.region_totals("res")
    elf = ck.build(ck.make_case(FC, "1:8"), "xdec")
    with pytest.raises(TypeError, match="pattern must be a Pattern, not str '1:8'"):
        ck.hot_loop(elf, "xdec", "1:8")
    with pytest.raises(ValueError, match=r"kernel must be one of .* not 'nope'"):
        ck.hot_loop(elf, "nope", Pattern(1, 8))
    assert ck.hot_loop(elf, "xdec", Pattern(1, 8)).macs > 0
