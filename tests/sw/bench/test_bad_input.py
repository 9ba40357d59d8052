"""``sw/bench/suite.py`` and the argument checks of ``sw/bench/crosscheck.py``: bad arguments are
refused before the first (long) kernel run."""

from __future__ import annotations

import re

import pytest
from xdecimate.sw.bench import crosscheck, suite
from xdecimate.sw.kernels import harness as ck

FC = ck.FCShape(k=32, cout=4, tokens=2, name="fc")
#: compare() itself, before the tripwire replaces it.
REAL_COMPARE = crosscheck.compare
#: Fits DMEM with the sparse kernels only (test_harness.py::test_layer_too_big_for_dmem_rejected).
DENSE_TOO_BIG = ck.FCShape(k=1024, cout=160, tokens=2, name="big")


@pytest.fixture(autouse=True)
def tripwire(monkeypatch):
    def boom(*_a, **_k):
        raise AssertionError("a kernel ran although the arguments were bad")

    monkeypatch.setattr(ck, "run_kernel", boom)
    monkeypatch.setattr(crosscheck, "compare", boom)


PATTERN_CASES = [
    ("1:8", TypeError, "patterns must be a tuple or list of 'N:M' str, not str '1:8'"),
    (b"1:8", TypeError, "not bytes"),
    ({"1:8"}, TypeError, "not set"),
    (8, TypeError, "not int 8"),
    ((), ValueError, r"patterns must hold at least one 'N:M' pattern, not an empty sequence"),
    ([], ValueError, "at least one"),
    ((8,), TypeError, "patterns must hold 'N:M' str, not int 8"),
    (("1:8", None), TypeError, "not NoneType None"),
    (("3:4",), ValueError, "N:M pattern must be one of"),
    (("1:3",), ValueError, "N:M pattern must be one of"),
    (("abc",), ValueError, "pattern must look like 'N:M', not 'abc'"),
    (("",), ValueError, "pattern must look like 'N:M', not ''"),
    (("1:08",), ValueError, "pattern must be written '1:8', not '1:08'"),
    ((" 1:8",), ValueError, "pattern must be written '1:8', not ' 1:8'"),
    (("1:8", "1:4", "1:8"), ValueError, r"patterns must be distinct, .* \('1:8' twice\)"),
]


@pytest.mark.parametrize(("patterns", "exc", "fragment"), PATTERN_CASES)
def test_check_patterns(patterns, exc, fragment):
    with pytest.raises(exc, match=fragment):
        suite.check_patterns(patterns)


@pytest.mark.parametrize(("patterns", "exc", "fragment"), PATTERN_CASES)
def test_run_bench_patterns(patterns, exc, fragment):
    with pytest.raises(exc, match=fragment):
        suite.run_bench(patterns=patterns, layers={"fc": FC}, log=lambda m: None)


@pytest.mark.parametrize(("patterns", "exc", "fragment"), PATTERN_CASES)
def test_bench_cv32e40p_patterns(patterns, exc, fragment):
    with pytest.raises(exc, match=fragment):
        crosscheck.bench_cv32e40p(quick=True, patterns=patterns, log=lambda m: None)


@pytest.mark.parametrize(("patterns", "exc", "fragment"), PATTERN_CASES)
def test_kernel_agreement_patterns(patterns, exc, fragment):
    with pytest.raises(exc, match=fragment):
        crosscheck.kernel_agreement({"fc": FC}, patterns, log=lambda m: None)


LAYER_CASES = [
    ([FC], TypeError, "layers must be a dict name -> FCShape/ConvShape, not list"),
    ({}, ValueError, r"layers must hold at least one layer, not \{\}"),
    ({1: FC}, TypeError, "layer names must be str, not int 1"),
    ({"fc": "fc"}, TypeError, "layer 'fc' must be an FCShape or a ConvShape, not str"),
    ({"fc": (32, 4, 2)}, TypeError, "not tuple"),
]


@pytest.mark.parametrize(("layers", "exc", "fragment"), LAYER_CASES)
def test_run_bench_layers(layers, exc, fragment):
    with pytest.raises(exc, match=fragment):
        suite.run_bench(patterns=("1:8",), layers=layers, log=lambda m: None)


@pytest.mark.parametrize(("layers", "exc", "fragment"), LAYER_CASES)
def test_kernel_agreement_layers(layers, exc, fragment):
    with pytest.raises(exc, match=fragment):
        crosscheck.kernel_agreement(layers, ("1:8",), log=lambda m: None)


@pytest.mark.parametrize(("kwargs", "exc", "fragment"), [
    ({"quick": "yes"}, TypeError, "quick must be a bool, not str 'yes'"),
    ({"quick": 1}, TypeError, "quick must be a bool, not int 1"),
    ({"log": 5}, TypeError, "log must be callable, not int 5"),
    ({"target": "iss"}, TypeError, "target must be callable, not str 'iss'"),
])
def test_run_bench_other_arguments(kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        suite.run_bench(**{"patterns": ("1:8",), "layers": {"fc": FC}, **kwargs})


def test_run_bench_layer_too_big_fails_before_any_run():
    # the sparse kernels would fit; the dense baselines (run first) do not: refused up front
    with pytest.raises(ValueError, match=r"layer big@1:8 needs \d+ bytes of DMEM with kernel "
                                         r"'dense_1x2'"):
        suite.run_bench(patterns=("1:8",), layers={"fc": FC, "big": DENSE_TOO_BIG},
                        log=lambda m: None)


def test_run_bench_huge_layer_fails_fast():
    with pytest.raises(ValueError, match=r"needs at least .* bytes of DMEM with any kernel"):
        suite.run_bench(patterns=("1:16",),
                        layers={"huge": ck.FCShape(k=4_000_000, cout=10_000, tokens=1_000)},
                        log=lambda m: None)


@pytest.mark.parametrize(("kernels", "exc", "fragment"), [
    ("sw", TypeError, "kernels must be a tuple or list of kernel names, not str 'sw'"),
    ({"sw"}, TypeError, "not set"),
    ((), ValueError, r"kernels must name at least one of \('dense_1x2', 'dense_4x2', "),
    (("xdec8",), ValueError, r"not \['xdec8'\]"),
    (("sw", 5), ValueError, r"not \[5\]"),
])
def test_kernel_agreement_kernels(kernels, exc, fragment):
    with pytest.raises(exc, match=fragment):
        crosscheck.kernel_agreement({"fc": FC}, ("1:8",), kernels=kernels, log=lambda m: None)


def test_kernel_agreement_no_xdec_on_the_stock_core():
    with pytest.raises(ValueError, match=r"no xDecimate on the stock core\), not \['xdec'\]"):
        crosscheck.kernel_agreement({"fc": FC}, ("1:8",), kernels=("xdec",), core="stock",
                                    log=lambda m: None)


def test_kernel_agreement_log():
    with pytest.raises(TypeError, match="log must be callable, not NoneType None"):
        crosscheck.kernel_agreement({"fc": FC}, ("1:8",), log=None)  # type: ignore[arg-type]


def test_bench_cv32e40p_other_arguments(tmp_path):
    with pytest.raises(TypeError, match="quick must be a bool, not int 1"):
        crosscheck.bench_cv32e40p(quick=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="out must be a path or None, not int 5"):
        crosscheck.bench_cv32e40p(quick=True, out=5)  # type: ignore[arg-type]
    f = tmp_path / "f"
    f.write_text("")
    with pytest.raises(FileExistsError, match=f"output folder '{f}' exists and is not a folder"):
        crosscheck.bench_cv32e40p(quick=True, out=f)


def test_outputs_arguments(tmp_path):
    res = suite.BenchResult(runs=[], quick=True, target="iss")
    for call in (lambda: suite.markdown("res"), lambda: suite.plot("res", tmp_path / "p.png"),
                 lambda: suite.write_outputs({}, tmp_path)):
        with pytest.raises(TypeError, match="res must be a BenchResult, not"):
            call()
    with pytest.raises(TypeError, match=r"out must be a path .* not int 5"):
        suite.write_outputs(res, 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"path must be a path .* not NoneType"):
        suite.plot(res, None)  # type: ignore[arg-type]
    f = tmp_path / "f"
    f.write_text("")
    with pytest.raises(FileExistsError, match=f"output folder '{f}' exists and is not a folder"):
        suite.write_outputs(res, f)


# --------------------------------------------------------------------------------------------
# crosscheck: program generators and compare
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "exc", "fragment"), [
    (lambda: crosscheck.snippet_program("addi a0, a0, 1"), TypeError,
     "snippets must be a list or tuple of str, not str"),
    (lambda: crosscheck.snippet_program([1]), TypeError, "snippets and setup must be str, not int"),
    (lambda: crosscheck.snippet_program([], setup=None), TypeError,
     "snippets and setup must be str, not NoneType"),
    (lambda: crosscheck.snippet_program([], data="abc"), TypeError, "data must be bytes, not str"),
    (lambda: crosscheck.snippet_program([], handler="x"), ValueError,
     "handler must be False, True or 'record', not 'x'"),
    (lambda: crosscheck.randprog_elf("asm", "1"), TypeError, "seed must be an int, not str '1'"),
    (lambda: crosscheck.randprog_elf("asm", True), TypeError, "seed must be an int, not bool"),
    (lambda: crosscheck.randprog_elf("asm", 1, 0), ValueError,
     "size must be an integer >= 1, not 0"),
    (lambda: crosscheck.randprog_elf("c", 1, 2.0), TypeError, "size must be an int, not float"),
    (lambda: crosscheck.randprog_elf("x", 1), ValueError, "kind must be 'asm' or 'c', not 'x'"),
    (lambda: crosscheck.xpulp_program(1.5), TypeError, "seed must be an int, not float 1.5"),
    (lambda: crosscheck.xpulp_program(1, 0), ValueError, "n_ops must be an integer >= 1, not 0"),
    (lambda: crosscheck.xpulp_elf(1, -3), ValueError, "n_ops must be an integer >= 1, not -3"),
])
def test_program_generators(call, exc, fragment):
    with pytest.raises(exc, match=re.escape(fragment)):
        call()


@pytest.mark.parametrize(("kwargs", "exc", "fragment"), [
    ({"rtl": "cv32e40p"}, TypeError, "rtl must be a function run(elf) -> RunResult or None, not "
                                     "str 'cv32e40p'"),
    ({"iss_run": 5}, TypeError, "iss_run must be a function run(elf) -> RunResult or None"),
    ({"name": 5}, TypeError, "name must be a str or None, not int 5"),
    ({"memory": "yes"}, TypeError, "memory must be a bool, not str 'yes'"),
])
def test_compare_arguments(tmp_path, kwargs, exc, fragment):
    elf = tmp_path / "e.elf"
    elf.write_bytes(b"")
    with pytest.raises(exc, match=re.escape(fragment)):
        REAL_COMPARE(elf, **kwargs)


def test_compare_files(tmp_path):
    with pytest.raises(TypeError, match=r"elf must be a path \(str or os.PathLike\), not int"):
        REAL_COMPARE(5)
    with pytest.raises(FileNotFoundError, match=f"ELF file not found: {tmp_path}/no.elf"):
        REAL_COMPARE(tmp_path / "no.elf")
