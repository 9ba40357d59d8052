"""The L2 and the DMA engine (sw/iss/memmap.py): the ISS and the CV32E40P RTL harness agree on
every byte and every cycle, the timing is the documented formula, and races and bad transfers
stop both targets with a message naming the cause."""

from __future__ import annotations

from pathlib import Path

import pytest
from xdecimate.sim import cv32e40p
from xdecimate.sw.iss import iss, memmap
from xdecimate.sw.iss.target import TargetError
from xdecimate.sw.kernels import toolchain

HEAD = """#include <stdint.h>
#include "hal.h"
__attribute__((section(".l2"), aligned(4))) uint8_t l2src[4096] = {%s};
__attribute__((aligned(4))) uint8_t buf[4096];
"""
SRC_BYTES = ", ".join(str((i * 37 + 11) % 256) for i in range(4096))


def elf_of(body: str) -> Path:
    text = HEAD % SRC_BYTES + "int main(void) {\n" + body + "\n}\n"
    return toolchain.build_elf([("prog.c", text)], target="baremetal", name="dma")


TIMING = """
    hal_mark(1);
    hal_dma_start((uint32_t)l2src, (uint32_t)buf, 1000, 1, 0, 0);
    hal_mark(2);
    hal_dma_wait();
    hal_mark(3);
    hal_dma_start((uint32_t)buf + 3, (uint32_t)l2src + 2048, 13, 10, 16, 24);
    hal_dma_start((uint32_t)l2src, (uint32_t)l2src + 3000, 64, 2, 100, 200);
    volatile uint32_t s = 0;
    for (int i = 0; i < 20; i++) s += i;
    hal_mark(4);
    hal_dma_wait();
    hal_mark(5);
    hal_dma_wait();
    hal_mark(6);
    uint32_t acc = 0;
    for (int i = 0; i < 64; i++) acc += buf[i];
    return acc & 0xff;
"""


def _region(res, a: int, b: int) -> int:
    return res.region(a, b)[0]


@pytest.fixture(scope="module")
def timing_runs():
    elf = elf_of(TIMING)
    return iss.run_elf(elf, l2_dump=4096), cv32e40p.run_elf(elf, l2_dump=4096)


def test_iss_and_rtl_agree_on_bytes_and_cycles(timing_runs) -> None:
    a, b = timing_runs
    assert a.exit_code == b.exit_code
    assert a.memory == b.memory
    assert a.l2 == b.l2
    assert (a.dma_transfers, a.dma_cycles) == (b.dma_transfers, b.dma_cycles) == (
        3, sum(memmap.dma_cycles(n, r) for n, r in ((1000, 1), (13, 10), (64, 2))))
    for r in range(1, 6):
        assert _region(a, r, r + 1) == _region(b, r, r + 1), r


def test_copies_are_the_2d_rows(timing_runs) -> None:
    res = timing_runs[0]
    src = bytes((i * 37 + 11) % 256 for i in range(4096))
    dm = res.memory
    assert src[:1000] in dm  # buf: found by its content
    off = dm.index(src[:1000])
    buf = dm[off:off + 4096]
    for r in range(10):
        assert res.l2[2048 + 24 * r:2048 + 24 * r + 13] == buf[3 + 16 * r:3 + 16 * r + 13]
    for r in range(2):
        assert res.l2[3000 + 200 * r:3000 + 200 * r + 64] == src[100 * r:100 * r + 64]


def test_wait_stalls_until_the_last_transfer_ends(timing_runs) -> None:
    a = timing_runs[0]
    # a wait right after a start: the transfer (1000 bytes, one row) minus the cycles between
    # the start store and the wait store
    n1 = memmap.dma_cycles(1000, 1)
    assert _region(a, 2, 3) >= n1 - 5
    # a second wait with nothing in flight costs what a store costs
    assert _region(a, 5, 6) <= 3
    assert n1 == memmap.DMA_SETUP_CYCLES + memmap.DMA_ROW_CYCLES + 125


RACES = {
    "load of a destination": ("hal_dma_start((uint32_t)l2src, (uint32_t)buf, 64, 1, 0, 0);\n"
                              "volatile uint8_t x = buf[10]; (void)x; hal_dma_wait(); return 0;",
                              "DMA race"),
    "store into a source": ("hal_dma_start((uint32_t)buf, (uint32_t)l2src, 64, 1, 0, 0);\n"
                            "((volatile uint8_t *)buf)[63] = 1; hal_dma_wait(); return 0;",
                            "DMA race"),
    "outside the memory": ("hal_dma_start((uint32_t)l2src, 0x00000100u, 64, 1, 0, 0);\n"
                           "hal_dma_wait(); return 0;", "not inside DMEM or L2"),
    "empty transfer": ("hal_dma_start((uint32_t)l2src, (uint32_t)buf, 0, 1, 0, 0);\n"
                       "hal_dma_wait(); return 0;", "at least 1|empty"),
}


@pytest.mark.parametrize("case", list(RACES))
def test_races_and_bad_transfers_stop_both_targets(case: str) -> None:
    body, msg = RACES[case]
    elf = elf_of(body)
    with pytest.raises(TargetError, match=msg):
        iss.run_elf(elf)
    with pytest.raises(TargetError, match=msg):
        cv32e40p.run_elf(elf)


def test_reading_a_source_and_touching_other_rows_is_not_a_race() -> None:
    body = ("hal_dma_start((uint32_t)buf, (uint32_t)l2src, 8, 4, 16, 8);\n"
            "volatile uint8_t x = buf[0]; buf[8] = 5; buf[100] = x; (void)x;\n"
            "hal_dma_wait(); return buf[8];")
    elf = elf_of(body)
    a, b = iss.run_elf(elf), cv32e40p.run_elf(elf)
    assert a.exit_code == b.exit_code == 5
    assert a.memory == b.memory


def test_the_core_cannot_load_from_l2() -> None:
    elf = elf_of("return ((volatile uint8_t *)l2src)[0];")
    with pytest.raises(TargetError, match="outside the memory map"):
        cv32e40p.run_elf(elf)
    res = iss.run_elf(elf)  # the ISS traps (load access fault, mcause 5): 128 + mcause
    assert res.exit_code == 128 + 5
    assert b"trap mcause=00000005" in res.stdout


@pytest.mark.parametrize("jump", ["", '__asm__ volatile("j 1f\\n1:");', '__asm__ volatile("nop");'])
def test_wait_stall_of_every_length_then_a_jump(jump: str) -> None:
    """A WAIT that stalls 0..6 cycles, followed by ret (jalr), j (jal) or a nop then ret: the
    jump resolves in ID during the stall (one cycle less), cycle-equal on ISS and RTL."""
    fns = []
    for k in range(17, 25):
        nops = "nop\\n" * k
        fns.append(f"__attribute__((noinline)) void ld{k}(void) {{ hal_dma_start((uint32_t)l2src, "
                   f"(uint32_t)buf, 8, 1, 0, 0); __asm__ volatile(\"{nops}\"); hal_dma_wait(); "
                   f"{jump} }}")
    calls = " ".join(f"hal_mark({2 * k}); ld{k}(); hal_mark({2 * k + 1});" for k in range(17, 25))
    text = HEAD % "1" + "\n".join(fns) + "\nint main(void) {\n" + calls + " return 0; }\n"
    elf = toolchain.build_elf([("prog.c", text)], target="baremetal", name="dmaj")
    a, b = iss.run_elf(elf), cv32e40p.run_elf(elf)
    got = [(_region(a, 2 * k, 2 * k + 1), _region(b, 2 * k, 2 * k + 1)) for k in range(17, 25)]
    assert all(x == y for x, y in got), got
    # the nops first only shorten the stall (same total), then add a cycle each
    steps = [got[j + 1][0] - got[j][0] for j in range(len(got) - 1)]
    assert steps[0] == 0, steps
    assert steps[-1] == 1, steps
    assert set(steps) == {0, 1}, steps
