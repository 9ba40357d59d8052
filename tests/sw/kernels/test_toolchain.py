"""The toolchain driver: cached builds, runtime, intrinsics header, ELF loading, qemu target."""

from __future__ import annotations

import shutil

import pytest
from xdecimate.sw.iss import elf as elf_file
from xdecimate.sw.iss import memmap
from xdecimate.sw.iss.iss import run_elf
from xdecimate.sw.kernels import toolchain
from xdecimate.sw.model import xdec_ref

pytestmark = pytest.mark.skipif(shutil.which(toolchain.GCC) is None,
                                reason="riscv64-unknown-elf-gcc not installed")

INTRINSICS_C = r"""
#include "hal.h"
#include "xdecimate.h"
static const uint8_t act[16] = {1, 2, 3, 4, 5, 6, 7, 8, 200, 201, 202, 203, 9, 10, 11, 12};
static int8_t wts[8] = {1, -1, 2, -2, 3, -3, 4, -4};
static uint8_t out[8];
volatile int32_t big = 100000;
int main(void) {
    const uint32_t *pa = (const uint32_t *)act, *pw = (const uint32_t *)wts;
    uint32_t acc = 0;
    for (int i = 0; i < 2; i++) {
        uint32_t a = xcv_lw_pi(pa, 4);
        uint32_t w = xcv_lw_pi(pw, 4);
        acc = xcv_sdotusp_b(acc, a, w);
    }
    hal_put_dec((int32_t)acc); hal_putc(' ');
    hal_put_dec(xcv_clip(big, 8)); hal_putc(' ');
    hal_put_dec(xcv_clipu(-big, 9)); hal_putc(' ');
    hal_put_dec((int32_t)xcv_max(3, (uint32_t)-5)); hal_putc(' ');
    uint8_t *po = out;
    xcv_sb_pi(po, 7, 1);
    xcv_sb_pi(po, 9, 1);
    hal_put_dec(out[0] * 100 + out[1]); hal_putc(' ');
    /* xDecimate: 1:4, one stream; indices 2, 1, 3, 0 select act[2], act[4+1], act[8+3], act[12] */
    xdec_csr_write(XDEC_CSR_PACK(2, 0, 0, 0));
    uint32_t r = 0, idx = 2u | (1u << 2) | (3u << 4) | (0u << 6);
    for (int l = 0; l < 4; l++) r = xdec_lb(r, act, idx);
    hal_put_hex(r); hal_putc(' ');
    hal_put_hex(xdec_csr_read());
    register uint32_t n __asm__("t0") = 5;
    uint32_t s = 0;
    __asm__ volatile(XCV_SETUP(0, 5, "1f")
                     "addi %[s], %[s], 1\n addi %[s], %[s], 2\n addi %[s], %[s], 3\n"
                     "1:\n" : [s] "+r"(s) : "r"(n));
    __asm__ volatile(XCV_SETUPI(1, 4, "2f")
                     "addi %[s], %[s], 10\n addi %[s], %[s], 10\n addi %[s], %[s], 10\n"
                     "2:\n" : [s] "+r"(s));
    hal_putc(' '); hal_put_dec((int32_t)s);
    hal_putc('\n');
    return 3;
}
"""


def test_intrinsics_program_on_the_iss():
    elf = toolchain.build_elf([("intr.c", INTRINSICS_C)])
    res = run_elf(elf)
    assert res.exit_code == 3
    words = res.stdout.decode().split()
    acc = sum(a * w for a, w in zip([1, 2, 3, 4, 5, 6, 7, 8], [1, -1, 2, -2, 3, -3, 4, -4],
                                    strict=True))
    ref = 0
    csr = xdec_ref.csr_pack(m=4, n=1)
    idx = 2 | 1 << 2 | 3 << 4
    act = bytes([1, 2, 3, 4, 5, 6, 7, 8, 200, 201, 202, 203, 9, 10, 11, 12])
    for _ in range(4):
        r = xdec_ref.xdec_lb(csr, 0, idx, ref, act.__getitem__)
        ref, csr = r.rd, r.csr
    assert words == [str(acc), "127", "0", "3", "709", f"{ref:08x}", f"{csr:08x}",
                     str(5 * 6 + 4 * 30)]


def test_builds_are_cached_by_content(tmp_path):
    src = tmp_path / "m.c"
    src.write_text("int main(void) { return 1; }\n")
    a = toolchain.build_elf([src])
    mtime = a.stat().st_mtime_ns
    assert toolchain.build_elf([src]) == a
    assert a.stat().st_mtime_ns == mtime
    src.write_text("int main(void) { return 2; }\n")
    b = toolchain.build_elf([src])
    assert b != a
    assert run_elf(b).exit_code == 2
    assert run_elf(a).exit_code == 1
    assert toolchain.build_elf([src], opt="-O0") != b


def test_elf_layout_follows_the_memory_map():
    elf = toolchain.build_elf([("m.c", "int x = 5; int y; int main(void) { return x + y; }\n")])
    entry, segments = elf_file.load_elf(elf)
    assert entry == memmap.BOOT_ADDR
    syms = elf_file.symbols(elf)
    assert syms["__vectors"] == memmap.IMEM_BASE
    assert memmap.DMEM_BASE <= syms["x"] < memmap.DMEM_BASE + memmap.DMEM_SIZE
    assert syms["__stack_top"] == memmap.DMEM_BASE + memmap.DMEM_SIZE
    for addr, data in segments:
        assert any(b <= addr and addr + len(data) <= b + s for _, b, s in memmap.REGIONS[:2])
    assert f"MMIO_EXIT 0x{memmap.MMIO_EXIT:08x}" in toolchain.memmap_header()
    assert f"ORIGIN = 0x{memmap.DMEM_BASE:08x}" in toolchain.linker_script()
    text = toolchain.disassemble(elf, ours=True)
    assert "_start:" in text
    assert "csrrw zero, mcountinhibit, zero" in text
    assert "<main>:" in toolchain.disassemble(elf)


def test_default_trap_handler_reports_and_exits():
    elf = toolchain.build_elf([("t.c", "int main(void) { __asm__ volatile(\"ebreak\"); "
                                        "return 0; }\n")])
    res = run_elf(elf)
    assert res.exit_code == 128 + 3
    assert res.stdout.startswith(b"trap mcause=00000003 mepc=")


def test_trap_handler_can_be_overridden_to_resume():
    src = r"""
    #include "hal.h"
    static int count;
    uint32_t xdec_trap(uint32_t mcause, uint32_t mepc, uint32_t *saved) {
        (void)saved; count += (int)mcause; return mepc + 4;
    }
    int main(void) { __asm__ volatile("ecall\n ecall\n .word 0"); return count; }
    """
    assert run_elf(toolchain.build_elf([("t.c", src)])).exit_code == 11 + 11 + 2


@pytest.mark.skipif(shutil.which(toolchain.QEMU) is None, reason="qemu-riscv32 not installed")
def test_qemu_target_runs_the_same_c():
    src = r"""
    #include "hal.h"
    int main(void) { hal_puts("hi "); hal_put_dec(-42); hal_put_hex(0xBEEFu); return 9; }
    """
    code, out = toolchain.run_qemu(toolchain.build_elf([("q.c", src)], target="qemu"))
    res = run_elf(toolchain.build_elf([("q.c", src)]))
    assert (code, out) == (9, b"hi -420000beef") == (res.exit_code, res.stdout)


def test_bad_inputs():
    with pytest.raises(ValueError, match="target must be one of"):
        toolchain.build_elf([("a.c", "")], target="linux")
    with pytest.raises(ValueError, match=r"must be \.c, \.S or \.s"):
        toolchain.build_elf([("a.txt", "")])
    with pytest.raises(FileNotFoundError):
        toolchain.build_elf(["/nonexistent/x.c"])
    with pytest.raises(toolchain.ToolchainError, match="build failed"):
        toolchain.build_elf([("bad.c", "int main(void) { return }\n")])


BITMANIP_C = r"""
#include "hal.h"
#include "xdecimate.h"
static volatile uint32_t x = 0x89ABCDEFu, y = 0x01234567u, r = 0xF0F0F0F0u;
int main(void) {
    uint32_t bad = 0, a = x, b = y, d = r;
    bad |= (xcv_extractu(a, 3, 4) != ((a >> 4) & 15u)) << 0;
    bad |= (xcv_extract(a, 7, 24) != (uint32_t)(int32_t)(int8_t)(a >> 24)) << 1;
    bad |= (xcv_insert(d, b, 3, 8) != ((d & ~0xF00u) | ((b & 15u) << 8))) << 2;
    bad |= (xcv_pack(a, b) != ((a << 16) | (b & 0xFFFFu))) << 3;
    bad |= (xcv_pack_h(a, b) != ((a & 0xFFFF0000u) | (b >> 16))) << 4;
    bad |= (xcv_packlo_b(d, a, b) != ((d & 0xFFFF0000u) | (a & 255u) << 8 | (b & 255u))) << 5;
    bad |= (xcv_packhi_b(d, a, b) != ((d & 0xFFFFu) | (a & 255u) << 24 | (b & 255u) << 16)) << 6;
    bad |= (xcv_shuffle_b(a, 0x00010203u) != 0xEFCDAB89u) << 7;
    bad |= (xcv_shuffle2_b(d, a, 0x07030400u) != 0x89F0EFF0u) << 8;
    bad |= (xcv_insert_b(d, b, 2) != 0xF067F0F0u) << 9;
    bad |= (xcv_extractu_b(a, 1) != 0xCDu) << 10;
    bad |= (xcv_extract_b(a, 3) != 0xFFFFFF89u) << 11;
    return (int)bad;
}
"""


def test_bitmanip_and_packing_intrinsics_on_the_iss():
    """The generated C intrinsics of the bit-manipulation and byte-packing rows compute what
    plain C computes (exit code = bit mask of the failing checks)."""
    assert run_elf(toolchain.build_elf([("bm.c", BITMANIP_C)])).exit_code == 0
