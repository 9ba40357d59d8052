"""Differential test: random RV32IM programs on qemu-riscv32 (user mode) and on the ISS.

The same generated program (sw/bench/randprog.py) is built twice, for qemu (Linux syscalls) and
for the bare-metal ISS; both must print the same signature (26 registers and a buffer hash for
assembly programs, 12 variables for C programs) and exit with the same code.
"""

from __future__ import annotations

import shutil

import pytest
from xdecimate.sw.bench import randprog
from xdecimate.sw.iss.iss import run_elf
from xdecimate.sw.kernels import toolchain

pytestmark = pytest.mark.skipif(
    shutil.which(toolchain.QEMU) is None or shutil.which(toolchain.GCC) is None,
    reason="qemu-riscv32 or riscv64-unknown-elf-gcc not installed")


def _compare(sources: list[tuple[str, str]]) -> int:
    code, out = toolchain.run_qemu(toolchain.build_elf(sources, target="qemu"))
    res = run_elf(toolchain.build_elf(sources))
    assert out, "qemu printed nothing"
    assert (res.exit_code, res.stdout.decode()) == (code, out.decode())
    return res.instret


@pytest.mark.parametrize("seed", range(6))
def test_random_asm_program(seed):
    assert _compare([("test.S", randprog.asm_program(seed)),
                     ("main.c", randprog.MAIN_C)]) > 1000


@pytest.mark.parametrize("seed", range(4))
def test_random_c_program(seed):
    assert _compare([("cmain.c", randprog.c_program(seed))]) > 100


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1000, 1060))
def test_random_asm_program_more_seeds(seed):
    _compare([("test.S", randprog.asm_program(seed, n_ops=1000)),
              ("main.c", randprog.MAIN_C)])


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1000, 1040))
def test_random_c_program_more_seeds(seed):
    _compare([("cmain.c", randprog.c_program(seed, n_stmts=200))])


def test_generator_is_deterministic_and_seed_dependent():
    assert randprog.asm_program(3) == randprog.asm_program(3)
    assert randprog.asm_program(3) != randprog.asm_program(4)
    assert randprog.c_program(3) != randprog.c_program(4)
