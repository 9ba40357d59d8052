"""The CV32E40P reference target: bare-metal programs on the real RTL (sim/cv32e40p.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from xdecimate.sim import cv32e40p
from xdecimate.sw.iss import memmap
from xdecimate.sw.iss.target import TargetError
from xdecimate.sw.kernels import toolchain
from xdecimate.sw.model.kernels import sdotusp_b

GCC = toolchain.GCC
ARCH = list(toolchain.ARCH_FLAGS)

# Programs are built with the project runtime (sw/kernels/toolchain.py, target "baremetal"): crt0
# clears mcountinhibit, calls main and stores its return value to MMIO_EXIT; traps report and exit
# with 128 + mcause.  Assembly programs define `main` (see asm_main) and use the macros below.

#: Assembly helpers shared by the programs below (t0 = MMIO base is set by MMIO_INIT).
_ASM_MACROS = f"""
  .macro MMIO_INIT
  li t0, 0x{memmap.MMIO_BASE:x}
  .endm
  .macro MARK id
  li t1, \\id
  sw t1, 0x{memmap.MMIO_MARK - memmap.MMIO_BASE:x}(t0)
  .endm
  /* cv.setupi L=0: count = uimm12 (bits 31:20), end = pc + 4*uimm5 (bits 19:15),
     funct4 = 0110 + L in bits 11:7 (x12), funct3 = 100, custom-1 (cv32e40p_decoder.sv) */
  .macro CV_SETUPI0 count, end_words
  .insn i 0x2B, 4, x12, x\\end_words, \\count
  .endm
  /* cv.setupi L=1 (x13: funct4 = 0110, L = 1) */
  .macro CV_SETUPI1 count, end_words
  .insn i 0x2B, 4, x13, x\\end_words, \\count
  .endm
  /* cv.setup L=0: count = rs1, end = pc + 4*uimm12; funct4 = 0111 + L (x14) */
  .macro CV_SETUP0 rs1, end_words
  .insn i 0x2B, 4, x14, \\rs1, \\end_words
  .endm
  /* cv.lw rd, (rs1), imm: post-increment load, custom-0 funct3 = 010 */
  .macro CV_LW_PI rd, rs1, imm
  .insn i 0x0B, 2, \\rd, \\imm(\\rs1)
  .endm
  /* cv.sdotusp.b rd, rs1, rs2: custom-3, funct7 = 1010000, funct3 = 001 */
  .macro CV_SDOTUSP_B rd, rs1, rs2
  .insn r 0x7B, 1, 0x50, \\rd, \\rs1, \\rs2
  .endm
"""


def build_elf(source: str, *, lang: str = "S") -> Path:
    """Build one source (assembly with the macros above, or C) with the bare-metal runtime."""
    text = _ASM_MACROS + source if lang == "S" else source
    return toolchain.build_elf([(f"prog.{lang}", text)], target="baremetal")


def asm_main(body: str, data: str = "") -> str:
    """An assembly `main` (t0 = MMIO base) that runs ``body`` and returns a0."""
    return (f"  .text\n  .globl main\n  .balign 4\nmain:\n  MMIO_INIT\n{body}\n  ret\n"
            f"  .data\n  .balign 4\n{data}\n")


# ---------------------------------------------------------------------------------------------


def test_rtl_manifest_is_the_package_core() -> None:
    incdirs, files = cv32e40p.rtl_files()
    names = [f.name for f in files]
    assert names[-1] == "cv32e40p_sim_clock_gate.sv"
    assert "cv32e40p_top.sv" in names
    assert "cv32e40p_tb_wrapper.sv" not in names
    assert all(d.is_dir() for d in incdirs)


def test_hello_world_stdout_and_exit_code() -> None:
    src = """
    #include "hal.h"
    int main(void) {
        hal_puts("Hello from CV32E40P!\\n");
        return 3;
    }
    """
    res = cv32e40p.run_elf(build_elf(src, lang="c"))
    assert res.target == "cv32e40p"
    assert res.stdout == b"Hello from CV32E40P!\n"
    assert res.exit_code == 3
    assert 0 < res.instret < res.cycles
    assert res.memory is not None
    assert len(res.memory) == memmap.DMEM_SIZE


def test_marks_count_straight_line_code_exactly() -> None:
    # Between the marks: 10 ALU instructions, then the `li` and `sw` of MARK 2.  All are
    # single-cycle with TCDM timing, so the region is 12 cycles and 12 instructions.
    body = "  MARK 1\n" + "  addi a0, a0, 1\n" * 10 + "  MARK 2\n  MARK 3\n  li a0, 0\n"
    res = cv32e40p.run_elf(build_elf(asm_main(body)))
    assert res.exit_code == 0
    assert [m.id for m in res.marks] == [1, 2, 3]
    assert res.region(1, 2) == (12, 12)
    assert res.region(2, 3) == (2, 2)
    assert res.marks[-1].cycle < res.cycles
    assert res.marks[-1].instret < res.instret


def _dot_program(acts: bytes, wts: bytes) -> str:
    groups = len(acts) // 4
    body = f"""
  la a2, acts
  la a3, wts
  li a4, 0
  li a5, {groups}
  MARK 1
  CV_SETUP0 a5, 4          # body = the next 3 instructions, a5 iterations
  CV_LW_PI a6, a2, 4
  CV_LW_PI a7, a3, 4
  CV_SDOTUSP_B a4, a6, a7
  MARK 2
  la t2, out
  sw a4, 0(t2)
  sw a2, 4(t2)
  sw a3, 8(t2)
  li a0, 0
"""
    data = (f"acts: .byte {', '.join(map(str, acts))}\n"
            f"wts: .byte {', '.join(map(str, wts))}\n"
            "  .balign 4\n  .globl out\nout: .word 0, 0, 0\n")
    return asm_main(body, data)


def test_xpulp_hwloop_postinc_sdotusp() -> None:
    acts = bytes((37 * i + 5) % 256 for i in range(32))
    wts = bytes((91 * i + 200) % 256 for i in range(32))  # read as int8 by the core
    elf = build_elf(_dot_program(acts, wts))
    res = cv32e40p.run_elf(elf)
    assert res.exit_code == 0

    expect = 0
    for g in range(8):
        expect = sdotusp_b(expect, int.from_bytes(acts[4 * g:4 * g + 4], "little"),
                           int.from_bytes(wts[4 * g:4 * g + 4], "little"))
    out, _ = cv32e40p.symbol(elf, "out")
    acts_addr, _ = cv32e40p.symbol(elf, "acts")
    wts_addr, _ = cv32e40p.symbol(elf, "wts")
    mem = res.memory
    assert mem is not None
    words = [int.from_bytes(mem[out - memmap.DMEM_BASE + 4 * i:][:4], "little", signed=i == 0)
             for i in range(3)]
    assert words == [expect, acts_addr + 32, wts_addr + 32]  # result and post-incremented ptrs
    # Timing: setup 1 + 8 × (lw, lw, sdotusp + 1 load-use stall) + MARK 2 = 1 + 32 + 2.
    assert res.region(1, 2) == (35, 27)


def test_xpulp_insn_encodings_match_llvm(tmp_path: Path) -> None:
    llvm_mc = shutil.which("llvm-mc-19")
    if llvm_mc is None:
        pytest.fail("llvm-mc-19 not found: run scripts/bootstrap.sh")
    gnu = tmp_path / "gnu.S"
    gnu.write_text(_ASM_MACROS + "CV_LW_PI a0, a1, 4\nCV_SDOTUSP_B a2, a3, a4\n")
    obj = tmp_path / "gnu.o"
    subprocess.run([GCC, *ARCH, "-c", str(gnu), "-o", str(obj)], check=True)
    objcopy = shutil.which("riscv64-unknown-elf-objcopy") or "riscv64-unknown-elf-objcopy"
    raw = tmp_path / "gnu.bin"
    subprocess.run([objcopy, "-O", "binary", "-j", ".text", str(obj), str(raw)], check=True)
    out = subprocess.run(
        [llvm_mc, "-triple=riscv32", "-mattr=+xcvmem,+xcvsimd", "-show-encoding"],
        input="cv.lw a0, (a1), 4\ncv.sdotusp.b a2, a3, a4\n",
        capture_output=True, text=True, check=True).stdout
    llvm = bytes(int(b, 16) for line in out.splitlines() if "encoding:" in line
                 for b in line.split("[")[1].rstrip("]").split(","))
    assert raw.read_bytes() == llvm
    assert len(llvm) == 8


def test_hwloop_setupi_encoding_fields(tmp_path: Path) -> None:
    # LLVM 19 has no CORE-V hardware loops; check the fields against cv32e40p_decoder.sv.
    src = tmp_path / "h.S"
    src.write_text(_ASM_MACROS + "CV_SETUPI0 1000, 7\n")
    obj = tmp_path / "h.o"
    subprocess.run([GCC, *ARCH, "-c", str(src), "-o", str(obj)], check=True)
    raw = tmp_path / "h.bin"
    subprocess.run(["riscv64-unknown-elf-objcopy", "-O", "binary", "-j", ".text", str(obj),
                    str(raw)], check=True)
    word = int.from_bytes(raw.read_bytes(), "little")
    assert word & 0x7F == 0x2B  # OPCODE_CUSTOM_1
    assert (word >> 12) & 7 == 0b100  # Plane B: hardware loops
    assert (word >> 8) & 0xF == 0b0110  # lp.setupi
    assert (word >> 7) & 1 == 0  # loop 0
    assert (word >> 15) & 0x1F == 7  # end offset in words
    assert word >> 20 == 1000  # iteration count


INTRINSICS_C = r"""
#include "hal.h"
#include "xdecimate.h"
static const uint8_t act[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static const int8_t wts[8] = {1, -1, 2, -2, 3, -3, 4, -4};
static uint8_t out[2];
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
    hal_put_dec((int32_t)xcv_mac(10, 3, (uint32_t)-4)); hal_putc(' ');
    uint8_t *po = out;
    xcv_sb_pi(po, 7, 1);
    xcv_sb_pi(po, 9, 1);
    hal_put_dec(out[0] * 100 + out[1] + (int32_t)(po - out)); hal_putc(' ');
    register uint32_t n __asm__("t0") = 5;
    uint32_t s = 0;
    __asm__ volatile(XCV_SETUP(0, 5, "1f")
                     "addi %[s], %[s], 1\n addi %[s], %[s], 2\n addi %[s], %[s], 3\n"
                     "1:\n" : [s] "+r"(s) : "r"(n));
    __asm__ volatile(XCV_SETUPI(1, 4, "2f")
                     "addi %[s], %[s], 10\n addi %[s], %[s], 10\n addi %[s], %[s], 10\n"
                     "2:\n" : [s] "+r"(s));
    hal_put_dec((int32_t)s);
    return 0;
}
"""


def test_project_corev_intrinsics_run_on_the_rtl() -> None:
    # sw/kernels/c/xdecimate.h is generated from our ISA table; the real core is the judge.
    res = cv32e40p.run_elf(build_elf(INTRINSICS_C, lang="c"))
    assert res.exit_code == 0
    acc = 0
    for g in range(2):
        acc = sdotusp_b(acc, int.from_bytes(bytes([1, 2, 3, 4, 5, 6, 7, 8][4 * g:4 * g + 4]),
                                            "little"),
                        int.from_bytes(bytes([1, 255, 2, 254, 3, 253, 4, 252][4 * g:4 * g + 4]),
                                       "little"))
    assert res.stdout.decode().split() == [str(acc), "127", "0", str(10 + 3 * -4), "711",
                                           str(5 * 6 + 4 * 30)]


@pytest.mark.parametrize("k", [3, 5])
def test_hwloop_body_costs_n_times_k_cycles(k: int) -> None:
    counts = (10, 100, 2000)
    body = ""
    for i, n in enumerate(counts):
        body += (f"  MARK {10 + i}\n  CV_SETUPI0 {n}, {k + 1}\n" + "  addi a0, a0, 1\n" * k
                 + f"  MARK {20 + i}\n")
    body += "  andi a0, a0, 0\n"
    res = cv32e40p.run_elf(build_elf(asm_main(body)))
    assert res.exit_code == 0
    for i, n in enumerate(counts):
        # setupi (1) + N·k body cycles (back edge free) + MARK's li and sw (2)
        assert res.region(10 + i, 20 + i) == (n * k + 3, n * k + 3)


#: Measured CV32E40P timing (TCDM memories, no compressed code): snippet -> (cycles, instret).
#: Setup before the snippets: a5 -> a scratch word holding a pointer, 4(a5) = 3, a3 = 12345,
#: a4 = 3, a6 = 1, a7 = 7.  docs/cv32e40p.md quotes this table.
TIMING_FACTS: dict[str, tuple[str, int, int]] = {
    "alu": ("addi a2, a2, 1", 1, 1),
    "lw": ("lw a2, 0(a5)", 1, 1),
    "lw, use": ("lw a2, 0(a5); addi a2, a2, 1", 3, 2),
    "lw, use as store data": ("lw a2, 0(a5); sw a2, 8(a5)", 3, 2),
    "lw, use in taken branch": ("lw a2, 0(a5); beq a2, a2, 1f; 1:", 5, 2),
    "cv.lw post-inc, use": ("CV_LW_PI a2, a5, 4; addi a2, a2, 1; addi a5, a5, -4", 4, 3),
    "cv.lw post-inc, use base": ("CV_LW_PI a2, a5, 4; addi a5, a5, -4", 2, 2),
    "lw misaligned": ("lw a2, 2(a5)", 2, 1),
    "lh crossing a word": ("lh a2, 3(a5)", 2, 1),
    "sw misaligned": ("sw a4, 10(a5)", 2, 1),
    "jal": ("jal x0, 1f; 1:", 2, 1),
    "jalr": ("la t2, 1f; nop; jalr x0, 0(t2); 1:", 5, 4),
    "jalr right after its rs1": ("la t2, 1f; jalr x0, 0(t2); 1:", 5, 3),
    "branch taken": ("beq x0, x0, 1f; 1:", 3, 1),
    "branch not taken": ("bne x0, x0, 1f; 1:", 1, 1),
    "mul": ("mul a2, a3, a4", 1, 1),
    "mul, use": ("mul a2, a3, a4; addi a2, a2, 1", 2, 2),
    "mulh": ("mulh a2, a3, a4", 5, 1),
    "div by 1": ("div a2, a3, a6", 34, 1),
    "divu by 7": ("divu a2, a3, a7", 32, 1),
    "rem by 0": ("rem a2, a3, x0", 35, 1),
    "csrr mscratch": ("csrr a2, mscratch", 1, 1),
    "csrr mcycle": ("csrr a2, mcycle", 4, 1),
    "csrr mstatus": ("csrr a2, mstatus", 4, 1),
    "cv.sdotusp.b": ("CV_SDOTUSP_B a2, a3, a4", 1, 1),
    "lw, cv.sdotusp.b accumulating into it": ("lw a2, 0(a5); CV_SDOTUSP_B a2, a3, a4", 3, 2),
    "fence": ("fence", 4, 1),
    "fence.i": (".insn i 0x0F, 1, x0, 0(x0)", 4, 1),
    "hwloop 10 x 3 nop": ("CV_SETUPI0 10, 4; nop; nop; nop", 31, 31),
    "hwloop, load-use across the back edge": (
        "CV_SETUPI0 10, 4; addi a2, a2, 1; nop; lw a2, 0(a5)", 40, 31),
    "hwloop, mulh last in body": ("CV_SETUPI0 10, 4; nop; nop; mulh a2, a3, a4", 71, 31),
    "hwloop count from a load": ("lw t3, 4(a5); CV_SETUP0 t3, 4; nop; nop; nop", 12, 11),
    "hwloop nested 5 x (setupi + 4 x 3)": (
        "CV_SETUPI1 5, 6; CV_SETUPI0 4, 4; nop; nop; nop; nop", 71, 71),
}


def test_timing_facts() -> None:
    body = """
  addi a5, sp, -64
  sw a5, 0(a5)
  li a4, 3
  sw a4, 4(a5)
  li a3, 12345
  li a6, 1
  li a7, 7
"""
    for i, (snippet, _, _) in enumerate(TIMING_FACTS.values()):
        body += f"  MARK {2 * i}\n  " + snippet.replace("; ", "\n  ") + f"\n  MARK {2 * i + 1}\n"
    res = cv32e40p.run_elf(build_elf(asm_main(body + "  li a0, 0\n")))
    assert res.exit_code == 0
    measured = {name: tuple(a - b for a, b in zip(res.region(2 * i, 2 * i + 1), (2, 2),
                                                   strict=True))
                for i, name in enumerate(TIMING_FACTS)}  # minus MARK's li + sw
    assert measured == {name: (c, n) for name, (_, c, n) in TIMING_FACTS.items()}


def test_docs_timing_table_matches_tests() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cv32e40p.md").read_text()
    table = doc.split("| Snippet | Cycles | Instret |")[1].split("\n\n")[0]
    rows = [line.split("|")[-3:-1] for line in table.strip().splitlines()[1:]]
    assert [(int(c), int(n)) for c, n in rows] == [(c, n) for _, c, n in TIMING_FACTS.values()]


def test_trap_entry_and_mret_timing() -> None:
    # mtvec keeps bits 7:0 fixed: the handler must be 256-byte aligned.
    body = """
  la t2, handler
  csrw mtvec, t2
  MARK 1
  ecall
  MARK 5
  li a0, 0
  ret
  .balign 256
handler:
  MARK 2
  csrr t3, mepc
  addi t3, t3, 4
  csrw mepc, t3
  MARK 4
  mret
"""
    res = cv32e40p.run_elf(build_elf(asm_main(body)))
    assert res.exit_code == 0
    # ecall to the handler's first instruction: 4 cycles; ecall is not counted in minstret.
    assert res.region(1, 2) == (4 + 2, 0 + 2)
    assert res.region(2, 4) == (4 + 1 + 4 + 2, 3 + 2)  # csrr, addi, csrw: 4, 1, 4
    # mret back to the instruction after the ecall: 5 cycles.
    assert res.region(4, 5) == (5 + 2, 1 + 2)


def test_csr_counters_agree_with_testbench_counters() -> None:
    body = """
  csrwi mcountinhibit, 0
  MARK 1
  li a1, 50
1:lw a2, -4(sp)
  addi a2, a2, 1      # load-use stall
  addi a1, a1, -1
  bnez a1, 1b         # taken branch
  div a3, a1, a1
  MARK 2
  csrr a4, mcycle
  MARK 3
  li a0, 0
"""
    elf = build_elf(asm_main(body))
    tb = cv32e40p.run_elf(elf)
    csr = cv32e40p.run_elf(elf, counters="csr")
    assert tb.region(1, 2) == csr.region(1, 2)
    assert tb.region(2, 3) == csr.region(2, 3)
    # lw 1 + addi 2 (load-use) + addi 1 + taken bnez 3 = 7 per iteration; the last bnez falls
    # through (1 instead of 3).  li + 50·7 − 2 + div(0/0 → 35) + MARK 2.
    assert tb.region(1, 2)[1] == 1 + 50 * 4 + 1 + 2
    assert tb.region(1, 2)[0] == 1 + 50 * 7 - 2 + 35 + 2
    assert tb.region(2, 3)[0] == 4 + 2  # CSR counter read is 4 cycles
    # The CSR counters start when mcountinhibit is cleared, the testbench's at reset release.
    assert csr.marks[0].cycle < tb.marks[0].cycle


def test_random_stalls_change_timing_not_results() -> None:
    acts = bytes(range(100, 132))
    wts = bytes((7 * i) % 256 for i in range(32))
    elf = build_elf(_dot_program(acts, wts))
    base = cv32e40p.run_elf(elf)
    for seed in (1, 2):
        res = cv32e40p.run_elf(elf, stalls=cv32e40p.Stalls(seed=seed))
        assert (res.exit_code, res.stdout, res.memory) == (base.exit_code, base.stdout,
                                                          base.memory)
        assert res.instret == base.instret
        assert res.cycles > base.cycles


def test_cycle_limit_raises() -> None:
    elf = build_elf(asm_main("9: j 9b"))
    with pytest.raises(TargetError, match=r"cycle limit 2000 reached \(pc_id 0x"):
        cv32e40p.run_elf(elf, max_cycles=2000)


def test_store_outside_memory_map_raises() -> None:
    elf = build_elf(asm_main("  li t2, 0x30000000\n  sw t2, 0(t2)"))
    with pytest.raises(TargetError,
                       match=r"bus error: store of 0x30000000 .* outside the memory map"):
        cv32e40p.run_elf(elf)


def test_illegal_instruction_traps_to_runtime_handler() -> None:
    res = cv32e40p.run_elf(build_elf(asm_main("  .word 0xFFFFFFFF\n")))
    assert res.exit_code == 128 + 2  # runtime's default handler: 128 + mcause (illegal)
    assert res.stdout.startswith(b"trap mcause=00000002")


def test_bad_arguments_are_rejected(tmp_path: Path) -> None:
    elf = build_elf(asm_main("  li a0, 0"))
    with pytest.raises(ValueError, match="max_cycles must be a positive integer, not 0"):
        cv32e40p.run_elf(elf, max_cycles=0)
    with pytest.raises(ValueError, match="counters must be 'tb' or 'csr', not 'x'"):
        cv32e40p.run_elf(elf, counters="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"gnt_percent must be an integer in 1\.\.100, not 0"):
        cv32e40p.Stalls(gnt_percent=0)
    not_elf = tmp_path / "x.elf"
    not_elf.write_bytes(b"nope")
    with pytest.raises(ValueError, match="is not an ELF file"):
        cv32e40p.run_elf(not_elf)


def test_elf_entry_must_be_boot_addr(tmp_path: Path) -> None:
    src = tmp_path / "e.S"
    src.write_text("  .text\n  .globl _start\n_start:\n  j _start\n")
    elf = tmp_path / "e.elf"
    subprocess.run([GCC, *ARCH, "-nostdlib", "-Wl,-Ttext=0x200", str(src), "-o", str(elf)],
                   check=True)
    with pytest.raises(ValueError, match="entry point must be BOOT_ADDR 0x80, not 0x200"):
        cv32e40p.load_elf(elf)


def test_build_is_cached() -> None:
    first = cv32e40p.build()
    assert first.is_file()
    assert cv32e40p.build() == first
    assert first.parent.parent == Path(cv32e40p.__file__).resolve().parent.parent / "build" / \
        "cv32e40p"
