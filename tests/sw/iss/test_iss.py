"""The instruction-set simulator: semantics, traps, hardware loops, markers, translation modes."""

from __future__ import annotations

import random

import numpy as np
import pytest
from xdecimate.sw.iss import isa, memmap
from xdecimate.sw.iss.iss import Iss
from xdecimate.sw.iss.target import TargetError
from xdecimate.sw.kernels import toolchain
from xdecimate.sw.model import xdec_ref

D = memmap.DMEM_BASE
EXIT = f"li t6, {memmap.MMIO_EXIT}\nsw a0, 0(t6)\n"
MODES = [(64, True), (64, False), (1, False)]


def run_asm(src: str, *, data: bytes = b"", mode: tuple[int, bool] = (64, True),
            regs: dict[int, int] | None = None, handler: str = "") -> tuple[Iss, object]:
    """Assemble ``src`` at BOOT_ADDR (and ``handler`` at IMEM_BASE = mtvec 0) and run it."""
    iss = Iss(max_block=mode[0], compile_loops=mode[1])
    iss.load_words(isa.assemble(src, memmap.BOOT_ADDR), memmap.BOOT_ADDR)
    if handler:
        iss.load_words(isa.assemble(handler, memmap.IMEM_BASE), memmap.IMEM_BASE)
    if data:
        iss.write(D, data)
    for r, v in (regs or {}).items():
        iss.regs[r] = v & 0xFFFF_FFFF
    return iss, iss.run(max_instructions=1_000_000)


def s32(x: int) -> int:
    return (x ^ 0x8000_0000) - 0x8000_0000


@pytest.mark.parametrize("mode", MODES)
def test_base_arithmetic(mode):
    iss, res = run_asm(f"""
        li a1, -7
        li a2, 3
        div a3, a1, a2
        rem a4, a1, a2
        divu a5, a1, a2
        mulh a6, a1, a1
        sra a7, a1, a2
        sltu s2, a2, a1
        li s3, 0x80000000
        li s4, -1
        div s5, s3, s4
        rem s6, s3, s4
        div s7, a1, zero
        remu s8, a1, zero
        add a0, a3, a4
        {EXIT}""", mode=mode)
    r = iss.regs
    assert (s32(r[13]), s32(r[14]), r[15]) == (-2, -1, (2**32 - 7) // 3)
    assert (r[16], s32(r[17]), r[18]) == (0, -1, 1)
    assert (r[21], r[22], r[23], r[24]) == (0x8000_0000, 0, 0xFFFF_FFFF, 2**32 - 7)
    assert s32(res.exit_code) == -3


def _rand_word(rng: random.Random) -> int:
    return rng.choice((0, 0xFFFF_FFFF, 0x8000_0000, 0x7F7F_7F7F, 0x8080_8080, rng.getrandbits(32)))


def _bytes(x: int, signed: bool) -> np.ndarray:
    return np.frombuffer(x.to_bytes(4, "little"), np.int8 if signed else np.uint8).astype(np.int64)


@pytest.mark.parametrize("mn", ["cv.dotup.b", "cv.dotusp.b", "cv.dotsp.b", "cv.sdotup.b",
                                "cv.sdotusp.b", "cv.sdotsp.b"])
def test_simd_dot_products_against_numpy(mn):
    rng = random.Random(mn)
    sa = mn.split(".")[1].removeprefix("s").removeprefix("dot") == "sp"
    sb = not mn.split(".")[1].endswith("up")
    acc = mn.startswith("cv.sdot")
    for _ in range(30):
        a, b, c = _rand_word(rng), _rand_word(rng), _rand_word(rng)
        iss, _ = run_asm(f"{mn} a0, a1, a2\n{EXIT}", regs={11: a, 12: b, 10: c})
        expect = int(np.dot(_bytes(a, sa), _bytes(b, sb))) + (c if acc else 0)
        assert iss.regs[10] == expect & 0xFFFF_FFFF, (mn, hex(a), hex(b), hex(c))


def test_clip_min_max_abs_mac():
    rng = random.Random(5)
    for _ in range(40):
        a, b, c = _rand_word(rng), _rand_word(rng), _rand_word(rng)
        n = rng.randint(0, 31)
        iss, _ = run_asm(f"""
            cv.clip s2, a1, {n}
            cv.clipu s3, a1, {n}
            cv.min s4, a1, a2
            cv.minu s5, a1, a2
            cv.max s6, a1, a2
            cv.maxu s7, a1, a2
            cv.abs s8, a1
            mv a0, a3
            cv.mac a0, a1, a2
            mv a4, a3
            cv.msu a4, a1, a2
            {EXIT}""", regs={11: a, 12: b, 13: c})
        r = iss.regs
        hi = (2 ** n - 1) >> 1  # manual: clip to [-2^(n-1), 2^(n-1) - 1]; n = 0 gives [-1, 0]
        assert s32(r[18]) == min(max(s32(a), -hi - 1), hi)
        assert s32(r[19]) == min(max(s32(a), 0), hi)
        assert (s32(r[20]), r[21]) == (min(s32(a), s32(b)), min(a, b))
        assert (s32(r[22]), r[23]) == (max(s32(a), s32(b)), max(a, b))
        assert r[24] == abs(s32(a)) & 0xFFFF_FFFF
        assert r[10] == (c + a * b) & 0xFFFF_FFFF
        assert r[14] == (c - a * b) & 0xFFFF_FFFF


@pytest.mark.parametrize("mode", MODES)
def test_post_increment_and_indexed_memory(mode):
    data = bytes(range(0x80, 0x80 + 64))
    iss, _ = run_asm(f"""
        li a1, {D}
        cv.lw s2, (a1), 4
        cv.lbu s3, (a1), -1
        cv.lb s4, (a1), 2
        li a2, 3
        cv.lh s5, (a1), a2
        cv.lhu s6, a2(a1)
        li a3, {D + 32}
        li a4, 0x11223344
        cv.sw a4, (a3), 4
        cv.sh a4, (a3), 2
        cv.sb a4, (a3), a2
        li a5, 8
        cv.sw a4, (a3), a5
        cv.sb a4, a2(a3)
        cv.lw a1, (a1), 4
        {EXIT}""", data=data, mode=mode)
    r = iss.regs
    assert r[18] == int.from_bytes(data[0:4], "little")
    assert r[19] == data[4]
    assert r[20] == (data[3] - 256) & 0xFFFF_FFFF
    assert r[21] == (int.from_bytes(data[5:7], "little") - 65536) & 0xFFFF_FFFF
    assert r[22] == int.from_bytes(data[11:13], "little")
    mem = iss.read(D + 32, 24)
    assert mem[0:4] == bytes.fromhex("44332211")
    assert mem[4:6] == bytes.fromhex("4433")
    assert mem[6] == 0x44
    assert mem[9:13] == bytes.fromhex("44332211")
    assert mem[20] == 0x44
    assert mem[13:20] == data[45:52]
    assert r[13] == D + 32 + 4 + 2 + 3 + 8
    # rd == rs1: the loaded data wins over the incremented address (manual note).
    assert r[11] == int.from_bytes(data[8:12], "little")


def test_xdec_lb_matches_reference():
    rng = random.Random(7)
    mem = bytes(rng.getrandbits(8) for _ in range(4096))
    for _ in range(60):
        m, n, p = rng.choice((4, 8, 16)), rng.choice((1, 2)), rng.choice((1, 2, 4))
        csr = xdec_ref.csr_pack(m=m, n=n, p=p, cnt=rng.randrange(0, 64))
        idx, rd = rng.getrandbits(32), rng.getrandbits(32)
        iss, _ = run_asm(f"csrw xdec, a3\nxdec.lb a0, a1, a2\ncsrr a4, xdec\n{EXIT}",
                         data=mem, regs={11: D + 512, 12: idx, 13: csr, 10: rd})
        ref = xdec_ref.xdec_lb(csr, D + 512, idx, rd, lambda a: mem[a - D])
        assert (iss.regs[10], iss.regs[14]) == (ref.rd, ref.csr)


TRAP_HANDLER = """
        csrr s10, mcause
        csrr s11, mepc
        addi t5, t5, 1
        addi s11, s11, 4
        csrw mepc, s11
        mret
"""


@pytest.mark.parametrize("mode", MODES)
def test_traps_set_mcause_mepc_and_resume(mode):
    iss, res = run_asm(f"""
        csrw mtvec, zero
        ecall
        mv s2, s10
        ebreak
        mv s3, s10
    bad: .word 0xffffffff
        mv s4, s10
        mv s5, s11
        li a3, 0
        csrw xdec, a3
        xdec.lb a0, a1, a2
        mv s6, s10
        csrw 0xc00, a3
        mv s7, s10
        mv a0, t5
        {EXIT}""", mode=mode, handler=TRAP_HANDLER)
    r = iss.regs
    assert (r[18], r[19], r[20], r[22], r[23]) == (11, 3, 2, 2, 2)
    assert res.exit_code == 5


def test_default_handler_without_mtvec_setup_loops_into_error():
    with pytest.raises(TargetError, match="trap loop"):
        run_asm(".word 0\n")  # mtvec = 0 holds the illegal word 0 itself


@pytest.mark.parametrize("mode", MODES)
def test_nested_hardware_loops_manual_example(mode):
    # corev_hw_loop.rst: i = 300, j = 40 after a 10 x 10 nest.
    iss, _res = run_asm(f"""
        li s2, 0
        li s3, 0
        li a2, 10
        cv.starti 1, start1
        cv.endi 1, end1
        cv.count 1, a2
        cv.starti 0, start0
        cv.endi 0, end0
    start1:
        cv.count 0, a2
    start0:
        addi s2, s2, 1
        addi s2, s2, 1
        addi s2, s2, 1
    end0:
        addi s3, s3, 2
        addi s3, s3, 2
    end1:
        cv.setupi 0, 7, end2
        addi s4, s4, 1
        addi s4, s4, 2
        addi s4, s4, 3
    end2:
        cv.setup 1, zero, end3
        addi s5, s5, 1
        addi s5, s5, 1
        addi s5, s5, 1
    end3:
        {EXIT}""", mode=mode)
    r = iss.regs
    assert (r[18], r[19], r[20], r[21]) == (300, 40, 42, 3)
    assert [iss.hw[0].count, iss.hw[1].count] == [0, 0]


def test_hardware_loop_constraint_violation_is_reported():
    with pytest.raises(TargetError, match="at least 3 instructions"):
        run_asm("li a0, 4\ncv.setup 0, a0, e\naddi a1, a1, 1\ne: nop\n")


def _fault_program() -> str:
    # A hardware loop whose 6th iteration loads from an unmapped address (load access fault);
    # the handler records state and exits.
    return f"""
        li a1, {D}
        li a2, 10
        li a3, 0x1000
        cv.setup 0, a2, end
        addi s2, s2, 1
        lw s3, 0(a1)
        add a1, a1, a3
        cv.sdotusp.b s4, s3, a3
        addi s5, s5, 7
    end:
        nop
    """


FAULT_HANDLER = f"""
        csrr a0, mcause
        csrr s10, mepc
        csrr s11, 0xcc2
        {EXIT}"""


def test_precise_trap_inside_compiled_hardware_loop():
    results = []
    for mode in MODES:
        # DMEM is 128 kB: the 33rd 4 kB step leaves it; use a bigger stride to fault early.
        src = _fault_program().replace("li a3, 0x1000", "li a3, 0x5000")
        iss, res = run_asm(src, mode=mode, handler=FAULT_HANDLER)
        results.append((tuple(iss.regs), res.cycles, res.instret, iss.hw[0].count))
    assert results[0] == results[1] == results[2]
    regs = results[0][0]
    assert regs[10] == 5  # load access fault
    assert regs[18] == 8
    assert regs[21] == 7 * 7
    assert regs[26] == memmap.BOOT_ADDR + 4 * 7  # mepc: the lw of the body
    assert regs[27] == 3  # lpcount0 = remaining iterations including the faulting one


def test_marks_putc_and_exit():
    _iss, res = run_asm(f"""
        li t0, {memmap.MMIO_MARK}
        li t1, {memmap.MMIO_PUTC}
        li a0, 72
        sw a0, 0(t1)
        li a0, 105
        sw a0, 0(t1)
        li a1, 1
        sw a1, 0(t0)
        nop
        nop
        li a1, 2
        sw a1, 0(t0)
        li a0, 42
        {EXIT}""")
    assert res.stdout == b"Hi"
    assert res.exit_code == 42
    assert res.region(1, 2) == (4, 4)
    assert res.marks[0].instret == 10
    assert res.instret == 18
    assert res.cycles == res.instret


def test_counters_and_mcountinhibit():
    iss, _ = run_asm(f"""
        csrr s2, mcycle
        csrw 0x320, zero
        csrr s3, mcycle
        csrr s4, mcycle
        csrr s5, minstret
        csrwi 0x320, 1
        csrr s6, mcycle
        csrr s7, mcycle
        {EXIT}""")
    r = iss.regs
    assert r[18] == 0  # mcountinhibit resets to 0xD on CV32E40P: counters stopped
    assert r[20] - r[19] == 4  # a CSR counter read takes 4 cycles
    assert r[22] == r[23]  # inhibited again: frozen


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="max_block must be a positive integer, not 0"):
        Iss(max_block=0)
    with pytest.raises(ValueError, match="not inside IMEM, DMEM or L2"):
        Iss().write(memmap.MMIO_BASE, b"x")
    iss = Iss()
    iss.load_words(isa.assemble("l: j l"))
    with pytest.raises(TargetError, match="no exit after 100 instructions"):
        iss.run(max_instructions=100)


def test_translation_modes_agree_on_compiled_programs():
    """Random base-ISA programs (the qemu differential ones) and a C program with hardware
    loops give identical state and counts with blocks, one instruction per block, and
    compiled hardware loops."""
    from xdecimate.sw.bench import randprog as rp

    elfs = [toolchain.build_elf([("test.S", rp.asm_program(s)), ("main.c", rp.MAIN_C)])
            for s in (100, 101)]
    elfs.append(toolchain.build_elf([("hl.c", _HWLOOP_C)]))
    for elf in elfs:
        out = []
        for mb, cl in MODES:
            iss = Iss(max_block=mb, compile_loops=cl)
            iss.load_elf(elf)
            res = iss.run()
            out.append((res.stdout, res.cycles, res.instret, res.marks, res.memory,
                        tuple(iss.regs)))
        assert out[0] == out[1] == out[2]


_HWLOOP_C = r"""
#include "hal.h"
#include "xdecimate.h"
static uint8_t a[256];
static int8_t w[256];
int main(void) {
    for (int i = 0; i < 256; i++) { a[i] = (uint8_t)(i * 7); w[i] = (int8_t)(i * 13 - 100); }
    const uint8_t *pa = a; const int8_t *pw = w;
    uint32_t acc = 0;
    register uint32_t n __asm__("t0") = 64;
    /* marks inside the asm statement: the region is exactly setup + loop + second mark */
    __asm__ volatile("sw %[one], 0(%[mark])\n"
                     XCV_SETUP(0, 5, "1f")
                     ".insn i 0x0b, 2, t1, %[pa], 4\n"
                     ".insn i 0x0b, 2, t2, %[pw], 4\n"
                     ".insn r 0x7b, 1, 0x50, %[acc], t1, t2\n"
                     "1:\n"
                     "sw %[two], 0(%[mark])\n"
                     : [acc] "+r"(acc), [pa] "+r"(pa), [pw] "+r"(pw)
                     : "r"(n), [one] "r"(1), [two] "r"(2), [mark] "r"(MMIO_MARK)
                     : "t1", "t2", "memory");
    int32_t ref = 0;
    for (int i = 0; i < 256; i++) ref += a[i] * w[i];
    hal_put_dec((int32_t)acc); hal_putc(' '); hal_put_dec(ref); hal_putc('\n');
    return (int32_t)acc == ref ? 0 : 1;
}
"""


def test_c_hardware_loop_kernel_runs_and_matches_c_reference():
    from xdecimate.sw.iss.iss import run_elf

    res = run_elf(toolchain.build_elf([("hl.c", _HWLOOP_C)]))
    assert res.exit_code == 0, res.stdout
    cycles, instret = res.region(1, 2)
    # cv.setup + 64 iterations x (2 loads + 1 dot product, which uses the second load: +1
    # stall) + the second mark store; hardware-loop back edges are free.
    assert instret == 1 + 64 * 3 + 1
    assert cycles == 1 + 64 * 4 + 1


DENSE_LOOP = f"""
    li t0, {memmap.MMIO_EXIT}
    li s0, 200
outer:
    li a3, {D}
    li a4, {D + 0x4000}
    li a5, {D + 0x8000}
    li a2, 500
    cv.setup 0, a2, end
    cv.lw t1, (a3), 4
    cv.lw t2, (a4), 4
    cv.lw t3, (a5), 4
    cv.sdotusp.b a0, t2, t1
    cv.sdotusp.b a1, t3, t1
end:
    addi s0, s0, -1
    bne s0, zero, outer
    sw a0, 0(t0)
"""


@pytest.mark.slow
def test_speed_dense_kernel_loop():
    """>= 1 M instructions/s on a 1x2 dense SIMD kernel loop (hardware loop, post-increment
    loads, dot products): 200 rows x 500 iterations x 5 instructions."""
    import time

    iss = Iss()
    iss.load_words(isa.assemble(DENSE_LOOP, memmap.BOOT_ADDR))
    iss.write(D, bytes(range(256)) * 192)
    t = time.perf_counter()
    res = iss.run()
    rate = res.instret / (time.perf_counter() - t)
    print(f"dense kernel loop: {res.instret} instructions, {rate / 1e6:.2f} M instr/s")
    assert res.instret > 500_000
    assert rate >= 1e6


# --------------------------------------------------------------------------------------------
# Arguments: no silent coercion

_ELF_ARGS = [
    ({"max_instructions": -1}, ValueError, r"max_instructions must be >= 0, not -1"),
    ({"max_instructions": 1.5}, TypeError, r"max_instructions must be an integer, not 1.5"),
    ({"max_instructions": 1e6}, TypeError, r"max_instructions must be an integer, not 1000000.0"),
    ({"max_instructions": True}, TypeError, r"max_instructions must be an integer, not True"),
    ({"max_instructions": "10"}, TypeError, r"max_instructions must be an integer, not '10'"),
    ({"max_block": True}, TypeError, r"max_block must be a positive integer, not True"),
    ({"max_block": 2.0}, TypeError, r"max_block must be a positive integer, not 2.0"),
    ({"max_block": -3}, ValueError, r"max_block must be a positive integer, not -3"),
    ({"compile_loops": 0}, TypeError, r"compile_loops must be a bool, not 0"),
    ({"compile_loops": "no"}, TypeError, r"compile_loops must be a bool, not 'no'"),
    ({"bogus": 1}, TypeError, r"unexpected keyword argument 'bogus'"),
]


@pytest.mark.parametrize(("kwargs", "exc", "match"), _ELF_ARGS)
def test_run_elf_rejects_bad_arguments(kwargs, exc, match):
    from xdecimate.sw.iss.iss import run_elf

    with pytest.raises(exc, match=match):
        run_elf("does-not-matter.elf", **kwargs)  # checked before the file is opened


@pytest.mark.parametrize(("value", "exc", "match"), [
    (-1, ValueError, "max_instructions must be >= 0, not -1"),
    (10.0, TypeError, "max_instructions must be an integer, not 10.0"),
    (None, TypeError, "max_instructions must be an integer, not None"),
])
def test_run_rejects_bad_instruction_limits(value, exc, match):
    iss = Iss()
    iss.load_words(isa.assemble("l: j l"))
    with pytest.raises(exc, match=match):
        iss.run(max_instructions=value)
    assert (iss.pc, iss.cycles, iss.instret) == (memmap.BOOT_ADDR, 0, 0)  # nothing ran
    with pytest.raises(TargetError, match="no exit after 0 instructions"):
        iss.run(max_instructions=0)  # zero is a valid limit


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda i: i.load_words([-1]), ValueError, r"word 0 must be in 0..0xffffffff, not -1"),
    (lambda i: i.load_words([0, 1 << 32]), ValueError, r"word 1 must be in 0..0xffffffff"),
    (lambda i: i.load_words([1.0]), TypeError, r"word 0 must be an integer, not 1.0"),
    (lambda i: i.load_words([0], base=128.0), TypeError,
     r"addr must be an integer, not 128.0"),
    (lambda i: i.write(-4, b"x"), ValueError, r"addr must be >= 0, not -4"),
    (lambda i: i.write(D, "text"), TypeError, r"data must be bytes-like, not str"),
    (lambda i: i.write(D, [1, 2]), TypeError, r"data must be bytes-like, not list"),
    (lambda i: i.read(D, -1), ValueError, r"size must be >= 0, not -1"),
    (lambda i: i.read(D, 2.0), TypeError, r"size must be an integer, not 2.0"),
    (lambda i: i.read(memmap.MMIO_BASE, 4), ValueError, r"not inside IMEM, DMEM or L2"),
    (lambda i: i.read(D + memmap.DMEM_SIZE - 2, 4), ValueError, r"not inside IMEM, DMEM or L2"),
    (lambda i: Iss(compile_loops=None), TypeError, r"compile_loops must be a bool, not None"),
])
def test_loader_and_memory_access_reject_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call(Iss())


def test_path_must_be_a_path():
    from xdecimate.sw.iss.iss import run_elf

    with pytest.raises(TypeError, match=r"path must be a str or a path, not 3"):
        run_elf(3)


# --------------------------------------------------------------------------------------------
# A jump to a target that is not 4-byte aligned traps at the jump (IALIGN = 32)

MIS_HANDLER = """
        csrr s10, mcause
        csrr s11, mepc
        csrr s9, mtval
        addi t5, t5, 1
        addi s11, s11, 4
        csrw mepc, s11
        mret
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("jump", "hazard"), [
    ("jal a4, 6", 0),
    ("lw a5, 0(a6)\njalr a4, 2(a5)", 2),  # load_use + jalr_dep before it traps
    ("lw a5, 0(a6)\nnop\njalr a4, 2(a5)", 1),  # jalr_wb
    ("mulh a3, a1, a2\njal a4, 6", -1),  # the jump_overlap credit of a jump after mulh
    ("addi a5, a5, 0\nbeq a5, a5, 6", 0),
])
def test_jump_to_halfword_target_traps_at_the_jump(mode, jump, hazard):
    def run(insn: str):
        src = f"li a4, 85\nli a6, {D}\n{insn}\nnop\nnop\nmv a0, t5\n{EXIT}"
        return run_asm(src, mode=mode, handler=MIS_HANDLER,
                       data=(memmap.BOOT_ADDR).to_bytes(4, "little"))

    iss, res = run(jump)
    _, ref = run(jump.rsplit("\n", 1)[0] + "\necall" if "\n" in jump else "ecall")
    r = iss.regs
    at = memmap.BOOT_ADDR + 4 * (len(isa.assemble(f"li a4, 85\nli a6, {D}\n{jump}")) - 1)
    assert (r[26], r[27] - 4, r[25]) == (0, at, 0)  # mcause 0, mepc = the jump, mtval 0
    assert r[14] == 85  # rd not written
    assert res.exit_code == 1
    assert res.instret == ref.instret  # the jump does not retire, like ecall
    assert res.cycles == ref.cycles + hazard


@pytest.mark.parametrize("mode", MODES)
def test_jumps_that_do_not_trap(mode):
    # not-taken branch with a 2-byte offset; jalr to an odd address (bit 0 is cleared)
    iss, res = run_asm(f"""
        bne zero, zero, 6
        auipc a5, 0
        addi a5, a5, 13
        jalr a4, 0(a5)
        nop
        mv a0, t5
        {EXIT}""", mode=mode, handler=MIS_HANDLER)
    assert res.exit_code == 0
    assert iss.regs[14] == memmap.BOOT_ADDR + 16


def _bytes_of(x: int) -> list[int]:
    return [(x >> (8 * i)) & 255 for i in range(4)]


def _word(bs: list[int]) -> int:
    return sum((b & 255) << (8 * i) for i, b in enumerate(bs))


def _ref_bitmanip(mn: str, rd: int, a: int, b: int, i3: int, i2: int) -> int:
    """Bit by bit, as the CV32E40P manual states them (not the ISS's mask arithmetic)."""
    bits = [(a >> k) & 1 for k in range(32)]
    if mn in ("cv.extract", "cv.extractu"):
        field = [bits[k] if k < 32 else (bits[31] if mn == "cv.extract" else 0)
                 for k in range(i2, i2 + i3 + 1)]
        v = sum(bit << k for k, bit in enumerate(field))
        if mn == "cv.extract" and field[-1]:
            v -= 1 << len(field)
        return v & 0xFFFF_FFFF
    if mn == "cv.insert":
        out = [(rd >> k) & 1 for k in range(32)]
        for k in range(i3 + 1):
            if i2 + k < 32:
                out[i2 + k] = bits[k]
        return sum(bit << k for k, bit in enumerate(out))
    ab, bb, db = _bytes_of(a), _bytes_of(b), _bytes_of(rd)
    if mn == "cv.pack":
        return _word([bb[0], bb[1], ab[0], ab[1]])
    if mn == "cv.pack.h":
        return _word([bb[2], bb[3], ab[2], ab[3]])
    if mn == "cv.packlo.b":
        return _word([bb[0], ab[0], db[2], db[3]])
    if mn == "cv.packhi.b":
        return _word([db[0], db[1], bb[0], ab[0]])
    if mn == "cv.shuffle.b":
        return _word([ab[bb[i] & 3] for i in range(4)])
    if mn == "cv.shuffle2.b":
        return _word([(ab if bb[i] & 4 else db)[bb[i] & 3] for i in range(4)])
    if mn == "cv.extract.b":
        return (ab[i2] - 256 * (ab[i2] >> 7)) & 0xFFFF_FFFF
    if mn == "cv.extractu.b":
        return ab[i2]
    if mn == "cv.insert.b":
        db[i2] = ab[0]
        return _word(db)
    raise AssertionError(mn)


BITMANIP_ROWS = ("cv.extract", "cv.extractu", "cv.insert", "cv.pack", "cv.pack.h",
                 "cv.packlo.b", "cv.packhi.b", "cv.shuffle.b", "cv.shuffle2.b", "cv.extract.b",
                 "cv.extractu.b", "cv.insert.b")


@pytest.mark.parametrize("mode", MODES)
def test_bitmanip_and_byte_packing_match_the_manual(mode):
    """cv.extract/extractu/insert and the SIMD pack/shuffle/lane rows, random operands and
    every corner of Is3 + Is2 > 31, against a bit-by-bit restatement of the manual."""
    rng = random.Random(7)
    cases = []
    for mn in BITMANIP_ROWS:
        for _ in range(12):
            a, b, rd = (rng.choice((0, 0xFFFF_FFFF, 0x8000_0000, rng.getrandbits(32)))
                        for _ in range(3))
            i3, i2 = rng.randint(0, 31), rng.randint(0, 31)
            if mn.endswith((".b",)) and "pack" not in mn and "shuffle" not in mn:
                i2 = rng.randint(0, 3)
            cases.append((mn, rd, a, b, i3, i2))
    lines = []
    for n, (mn, rd, a, b, i3, i2) in enumerate(cases):
        row = isa.insn(mn)
        ops = {"rd": "a2", "rs1": "a3", "rs2": "a4"}
        if row.fmt == "BM":
            text = f"{mn} a2, a3, {i3}, {i2}"
        elif row.fmt == "VI6":
            text = f"{mn} a2, a3, {i2}"
        else:
            text = f"{mn} {ops['rd']}, {ops['rs1']}, {ops['rs2']}"
        lines += [f"li a2, {rd}", f"li a3, {a}", f"li a4, {b}", text,
                  f"li t0, {D + 4 * n}", "sw a2, 0(t0)"]
    iss, res = run_asm("\n".join(lines) + "\nli a0, 0\n" + EXIT, mode=mode)
    assert res.exit_code == 0
    got = np.frombuffer(iss.read(D, 4 * len(cases)), dtype="<u4")
    for (mn, rd, a, b, i3, i2), g in zip(cases, got, strict=True):
        assert int(g) == _ref_bitmanip(mn, rd, a, b, i3, i2), (mn, hex(rd), hex(a), hex(b),
                                                                i3, i2)
