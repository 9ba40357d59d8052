"""ISS versus the real CV32E40P RTL: same ELF, same results, same cycle counts.

:func:`compare` runs one bare-metal ELF on the ISS (:func:`xdecimate.sw.iss.iss.run_elf`) and on the
CV32E40P v1.8.3 RTL harness (:func:`xdecimate.sim.cv32e40p.run_elf`) and lists every difference:
stdout, exit code, data memory at exit, total retired instructions, total cycles (after the
RTL's constant start-up offset :data:`RTL_STARTUP_CYCLES`), the sequence of marks, and each
mark's (cycle, instret) -- hence every region between two marks.  The goal is no difference at
all; ``docs/iss.md`` ("Agreement with the CV32E40P RTL") explains each rule that was changed to
get there and the few differences left.

Programs to compare:

* :func:`snippet_program` / :func:`snippet_elf`: directed timing microbenchmarks.  Each snippet
  (ISS assembler syntax, :func:`xdecimate.sw.iss.isa.assemble`, so CORE-V instructions are written
  by name) runs between two marks; :data:`MICROBENCHMARKS` (stock core) and
  :data:`XDEC_MICROBENCHMARKS` (the extended core :data:`XDEC_CORE`) have at least one snippet
  per rule of :mod:`xdecimate.sw.iss.timing`.
* :func:`randprog_elf`: the random differential programs of :mod:`xdecimate.sw.bench.randprog`,
  bare-metal, with marks around the random code.
* :func:`xpulp_program` / :func:`xpulp_elf` / :func:`xpulp_batch_elf`: random XpulpV2 programs
  with hardware loops, optionally with ``xdec.lb`` and ``xdec`` CSR accesses.
* :func:`kernel_agreement` / :func:`bench_cv32e40p`: every C kernel on the ISS and on the
  extended core (``xdecimate bench --target cv32e40p``).

The RTL target is pluggable: ``compare(elf, rtl=...)`` takes any ``run(elf) -> RunResult``.

>>> from xdecimate.sw import crosscheck
>>> c = crosscheck.compare(crosscheck.snippet_elf(["mulh a0, a1, a2"]))   # doctest: +SKIP
>>> c.equal, c.differences                                                  # doctest: +SKIP
(True, ())
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..iss import isa, iss, memmap
from ..iss.target import RunResult
from ..kernels import toolchain
from ..model import xdec_spec
from ..model.xdec_ref import csr_pack
from . import randprog

__all__ = [
    "CSR_ADDRESSES",
    "CSR_TRAP_FLAG",
    "MICROBENCHMARKS",
    "MICRO_SETUP",
    "RTL_KERNELS",
    "RTL_STARTUP_CYCLES",
    "TRAP_RECORDS",
    "Comparison",
    "KernelAgreement",
    "Micro",
    "agreement_markdown",
    "bench_cv32e40p",
    "compare",
    "csr_scan_elf",
    "csr_scan_program",
    "csr_scan_results",
    "kernel_agreement",
    "randprog_elf",
    "rtl_run",
    "snippet_elf",
    "snippet_program",
    "trap_records",
    "xpulp_elf",
    "xpulp_program",
]

#: Cycles from reset release to the first instruction of the RTL harness that the ISS does not
#: count (the core fetches the boot address and fills its pipeline: the first instruction is in
#: EX in cycle 5, docs/cv32e40p.md).  ``rtl.cycles == iss.cycles + RTL_STARTUP_CYCLES`` for
#: every mark and for the exit.
RTL_STARTUP_CYCLES = 5

Runner = Callable[[Path], RunResult]


def _arg_int(name: str, value: object, lo: int | None = None) -> None:
    """``TypeError`` unless ``value`` is an ``int`` (not ``bool``); ``ValueError`` below ``lo``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__} {value!r}")
    if lo is not None and value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, not {value!r}")


#: The extended core the ISS models: CV32E40P with the xDecimate leaves of the ``full``
#: configuration (every M, N, P the spec allows, as the ISS's ``xdec.lb`` reference).
XDEC_CORE = "xdec-full"


def rtl_run(elf: str | Path, core: str = "stock") -> RunResult:
    """Run ``elf`` on the CV32E40P RTL (imported lazily: the ISS side needs no Verilator);
    ``core`` as :data:`xdecimate.sim.cv32e40p.CORES` (default the stock core)."""
    from xdecimate.sim import cv32e40p

    return cv32e40p.run_elf(elf, core=core)


def _iss_run(elf: str | Path) -> RunResult:
    return iss.run_elf(elf)


#: The ISS's three translation modes, as :class:`xdecimate.sw.iss.iss.Iss` arguments (they must
#: agree with each other and with the RTL).
ISS_MODES: dict[str, dict[str, object]] = {
    "loops+blocks": {},
    "blocks": {"compile_loops": False},
    "one-instruction": {"max_block": 1, "compile_loops": False},
}


def iss_runner(mode: str, max_instructions: int = 5_000_000) -> Callable[[str | Path], RunResult]:
    """An ISS runner for :func:`compare` in one of :data:`ISS_MODES`."""
    if mode not in ISS_MODES:
        raise ValueError(f"mode must be one of {list(ISS_MODES)}, not {mode!r}")

    def run(elf: str | Path) -> RunResult:
        return iss.run_elf(elf, max_instructions=max_instructions, **ISS_MODES[mode])
    return run


def assert_agree(c: Comparison) -> None:
    """Raise ``AssertionError`` with the report unless ``c`` is equal and has marks on both."""
    assert c.equal, c.report()
    assert c.iss.marks
    assert len(c.iss.marks) == len(c.rtl.marks)


@dataclass(frozen=True)
class Comparison:
    """Outcome of running one ELF on both targets.

    Attributes
    ----------
    name : what was run (the ELF path unless given).
    iss, rtl : the two results.
    differences : one human-readable line per difference (empty when all is equal).
    """

    name: str
    iss: RunResult
    rtl: RunResult
    differences: tuple[str, ...]

    @property
    def equal(self) -> bool:
        """No difference at all."""
        return not self.differences

    def regions(self) -> list[tuple[int, int, tuple[int, int], tuple[int, int]]]:
        """Each region between consecutive marks: (id from, id to, ISS (cycles, instret),
        RTL (cycles, instret)) (only when both targets recorded the same mark ids)."""
        if [m.id for m in self.iss.marks] != [m.id for m in self.rtl.marks]:
            return []
        out = []
        for k in range(len(self.iss.marks) - 1):
            a, b = self.iss.marks[k], self.iss.marks[k + 1]
            ra, rb = self.rtl.marks[k], self.rtl.marks[k + 1]
            out.append((a.id, b.id, (b.cycle - a.cycle, b.instret - a.instret),
                        (rb.cycle - ra.cycle, rb.instret - ra.instret)))
        return out

    def report(self) -> str:
        """Multi-line summary: totals and the differing regions."""
        lines = [f"{self.name}: {'equal' if self.equal else 'DIFFERENT'}; "
                 f"ISS {self.iss.cycles} cycles / {self.iss.instret} instructions, RTL "
                 f"{self.rtl.cycles} - {RTL_STARTUP_CYCLES} cycles / {self.rtl.instret}"]
        lines += [f"  {d}" for d in self.differences]
        return "\n".join(lines)


def compare(elf: str | Path, *, name: str | None = None, rtl: Runner | None = None,
            iss_run: Runner | None = None, memory: bool = True) -> Comparison:
    """Run ``elf`` on the ISS and on the RTL and list every difference.

    Parameters
    ----------
    elf : a bare-metal ELF (:func:`xdecimate.sw.kernels.toolchain.build_elf`, target
        ``"baremetal"``).
    name : label for reports (default: the file name).
    rtl : the reference target, ``run(elf) -> RunResult`` (default :func:`rtl_run`).
    iss_run : the ISS runner (default :func:`xdecimate.sw.iss.iss.run_elf`).
    memory : also compare the data-memory snapshots at exit (outputs, stack, everything).

    Returns
    -------
    Comparison
        ``differences`` names stdout, exit code, data memory, totals, mark sequence and every
        mark whose (cycle − offset, instret) differs, with the region that precedes it.

    Raises
    ------
    TypeError
        ``elf`` not a path, ``name`` not a str or None, ``rtl``/``iss_run`` not callable or
        None, ``memory`` not a bool.
    FileNotFoundError
        No such ELF file.
    """
    if not isinstance(elf, (str, os.PathLike)):
        raise TypeError(f"elf must be a path (str or os.PathLike), not {type(elf).__name__} "
                        f"{elf!r}")
    for what, f in (("rtl", rtl), ("iss_run", iss_run)):
        if f is not None and not callable(f):
            raise TypeError(f"{what} must be a function run(elf) -> RunResult or None, not "
                            f"{type(f).__name__} {f!r}")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a str or None, not {type(name).__name__} {name!r}")
    if not isinstance(memory, bool):
        raise TypeError(f"memory must be a bool, not {type(memory).__name__} {memory!r}")
    path = Path(elf)
    if not path.is_file():
        raise FileNotFoundError(f"ELF file not found: {path}")
    a = (iss_run or _iss_run)(path)
    b = (rtl or rtl_run)(path)
    diffs: list[str] = []
    if a.stdout != b.stdout:
        diffs.append(f"stdout: ISS {a.stdout[:200]!r} != RTL {b.stdout[:200]!r}")
    if a.exit_code != b.exit_code:
        diffs.append(f"exit code: ISS {a.exit_code} != RTL {b.exit_code}")
    if memory and a.memory != b.memory:
        ma, mb = a.memory or b"", b.memory or b""
        first = next((i for i in range(min(len(ma), len(mb))) if ma[i] != mb[i]),
                     min(len(ma), len(mb)))
        diffs.append(f"data memory differs first at 0x{memmap.DMEM_BASE + first:08x} "
                     f"(ISS {ma[first:first + 4].hex()} != RTL {mb[first:first + 4].hex()})")
    if a.instret != b.instret:
        diffs.append(f"instret: ISS {a.instret} != RTL {b.instret}")
    if a.cycles + RTL_STARTUP_CYCLES != b.cycles:
        diffs.append(f"cycles: ISS {a.cycles} != RTL {b.cycles} - {RTL_STARTUP_CYCLES}")
    ids_a, ids_b = [m.id for m in a.marks], [m.id for m in b.marks]
    if ids_a != ids_b:
        diffs.append(f"marks: ISS {ids_a[:20]} != RTL {ids_b[:20]}")
    else:
        prev = None
        for ma, mb in zip(a.marks, b.marks, strict=True):
            got_a = (ma.cycle, ma.instret)
            got_b = (mb.cycle - RTL_STARTUP_CYCLES, mb.instret)
            if got_a != got_b:
                where = f"mark {ma.id}" if prev is None else f"region {prev[0].id}->{ma.id}"
                detail = ""
                if prev is not None:
                    ra = (ma.cycle - prev[0].cycle, ma.instret - prev[0].instret)
                    rb = (mb.cycle - prev[1].cycle, mb.instret - prev[1].instret)
                    detail = f" (region ISS {ra} vs RTL {rb})"
                diffs.append(f"{where}: ISS (cycle, instret) {got_a} != RTL {got_b}{detail}")
            prev = (ma, mb)
    return Comparison(name=name or path.name, iss=a, rtl=b, differences=tuple(diffs))


# --------------------------------------------------------------------------------------------
# Directed microbenchmarks
# --------------------------------------------------------------------------------------------

#: Registers a snippet must leave alone: t5 = MMIO_MARK address, t6 = mark id, s11 = data
#: buffer, sp/ra/gp/tp (the C runtime's).
RESERVED = ("t5", "t6", "s11", "sp", "ra", "gp", "tp")

_RESERVED_NUMS = frozenset(isa.reg_number(r) for r in RESERVED)
_MARK = "  li t6, {id}\n  sw t6, 0(t5)\n"


def _words(text: str) -> str:
    words = isa.assemble(text, 0)  # pc-relative fields only: position independent
    return "".join(f"  .word 0x{w:08x}\n" for w in words)


#: Most traps the ``handler="record"`` handler of :func:`snippet_program` records.
TRAP_RECORDS = 16


def snippet_program(snippets: Sequence[str], *, setup: str = "", data: bytes = bytes(256),
                    handler: bool | str = False) -> str:
    """GNU assembly of a ``main`` that runs each snippet between marks ``2i`` and ``2i + 1``.

    Parameters
    ----------
    snippets : instruction sequences in :func:`xdecimate.sw.iss.isa.assemble` syntax (CORE-V and
        xDecimate by name; labels local to the snippet).  They must not write
        :data:`RESERVED` registers.
    setup : instructions (same syntax) run once before the first mark.
    data : initial bytes of a 4-byte aligned buffer, whose address is in ``s11``.
    handler : ``True``: define ``xdec_trap`` (called by the runtime's trap entry) to resume
        after the trapping instruction, so ``ecall``/``ebreak``/illegal instructions can be
        timed.  ``"record"``: the same, and the handler also appends ``(mcause, mepc, mtval)``
        to the word array ``xc_traps`` (its first word counts the traps; at most
        :data:`TRAP_RECORDS`, later ones are counted only), read by :func:`trap_records`.

    A region ``2i -> 2i + 1`` holds the snippet plus the ``li``/``sw`` of the closing mark
    (2 cycles, 2 instructions, unless the snippet's last instruction stalls them).
    """
    if isinstance(snippets, (str, bytes)) or not isinstance(snippets, Sequence):
        raise TypeError(f"snippets must be a list or tuple of str, not "
                        f"{type(snippets).__name__} {snippets!r}")
    bad = [x for x in (*snippets, setup) if not isinstance(x, str)]
    if bad:
        raise TypeError(f"snippets and setup must be str, not {type(bad[0]).__name__} "
                        f"{bad[0]!r}")
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    if not (isinstance(handler, bool) or handler == "record"):
        raise ValueError(f"handler must be False, True or 'record', not {handler!r}")
    for s in (*snippets, setup):
        for w in isa.assemble(s, 0):
            d = isa.decode(w)
            bad = [r for r in (d.reg_writes() if d else ()) if r in _RESERVED_NUMS]
            if bad:
                raise ValueError(f"snippet writes reserved register {isa.ABI_NAMES[bad[0]]}: "
                                 f"{isa.disassemble(w)!r} in {s!r}")
    body = ["  .text", "  .globl main", "  .balign 4", "main:",
            "  addi sp, sp, -64"]
    saved = ("ra", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11")
    body += [f"  sw {r}, {4 * i}(sp)" for i, r in enumerate(saved)]
    body += [f"  li t5, 0x{memmap.MMIO_MARK:x}", "  la s11, xc_data"]
    text = "\n".join(body) + "\n" + (_words(setup) if setup.strip() else "")
    for i, s in enumerate(snippets):
        text += _MARK.format(id=2 * i) + _words(s) + _MARK.format(id=2 * i + 1)
    text += "".join(f"  lw {r}, {4 * i}(sp)\n" for i, r in enumerate(saved))
    text += "  addi sp, sp, 64\n  li a0, 0\n  ret\n"
    if handler == "record":
        text += ("  .globl xdec_trap\n  .balign 4\nxdec_trap:\n"
                 "  la t0, xc_traps\n  lw t1, 0(t0)\n  addi t2, t1, 1\n  sw t2, 0(t0)\n"
                 f"  li t2, {TRAP_RECORDS}\n  bgeu t1, t2, 1f\n  slli t2, t1, 2\n"
                 "  slli t1, t1, 3\n  add t1, t1, t2\n  add t1, t1, t0\n  sw a0, 4(t1)\n"
                 "  sw a1, 8(t1)\n  csrr t2, mtval\n  sw t2, 12(t1)\n"
                 "1:\n  addi a0, a1, 4\n  ret\n"
                 f"  .bss\n  .balign 4\n  .globl xc_traps\nxc_traps:\n"
                 f"  .space {4 + 12 * TRAP_RECORDS}\n  .text\n")
    elif handler:
        text += ("  .globl xdec_trap\n  .balign 4\nxdec_trap:\n"
                 "  addi a0, a1, 4\n  ret\n")
    text += "  .data\n  .balign 4\n  .globl xc_data\nxc_data:\n"
    text += "".join(f"  .byte {', '.join(str(b) for b in data[k:k + 16])}\n"
                    for k in range(0, len(data), 16))
    text += "  .balign 4\n  .space 64\n"
    return text


def snippet_elf(snippets: Sequence[str], **kwargs: object) -> Path:
    """Build :func:`snippet_program` into a bare-metal ELF (cached by content)."""
    return toolchain.build_elf([("snippets.S", snippet_program(snippets, **kwargs))])  # type: ignore[arg-type]


def trap_records(elf: str | Path, result: RunResult
                 ) -> tuple[int, list[tuple[int, int, int]]]:
    """``(number of traps, [(mcause, mepc, mtval), ...])`` recorded by the
    ``handler="record"`` handler of :func:`snippet_program` in a run of ``elf``."""
    from ..iss.elf import symbols

    base = symbols(elf)["xc_traps"] - memmap.DMEM_BASE
    mem = result.memory or b""
    w = [int.from_bytes(mem[base + 4 * k:base + 4 * k + 4], "little")
         for k in range(1 + 3 * TRAP_RECORDS)]
    n = w[0]
    return n, [(w[1 + 3 * k], w[2 + 3 * k], w[3 + 3 * k]) for k in range(min(n, TRAP_RECORDS))]


# --------------------------------------------------------------------------------------------
# Random differential programs, bare metal, with marks
# --------------------------------------------------------------------------------------------

_MARKED_MAIN = randprog.MAIN_C.replace(
    "run_test(out);", "hal_mark(1); run_test(out); hal_mark(2);")


def randprog_elf(kind: str, seed: int, size: int | None = None) -> Path:
    """A random program of :mod:`xdecimate.sw.bench.randprog`, bare metal, with marks.

    Parameters
    ----------
    kind : ``"asm"`` (``asm_program``: marks 1 and 2 around ``run_test``) or ``"c"``
        (``c_program``: marks 1 and 2 around the whole computation, before printing).
    seed : generator seed.
    size : ``n_ops`` / ``n_stmts`` (default: the generator's).

    Raises
    ------
    TypeError
        ``seed`` not an int, ``size`` not an int or None (``bool`` is refused).
    ValueError
        ``kind`` unknown, ``size`` below 1.
    """
    _arg_int("seed", seed)
    if size is not None:
        _arg_int("size", size, 1)
    if kind == "asm":
        src = randprog.asm_program(seed) if size is None else \
            randprog.asm_program(seed, n_ops=size)
        return toolchain.build_elf([("test.S", src), ("main.c", _MARKED_MAIN)])
    if kind == "c":
        src = randprog.c_program(seed) if size is None else \
            randprog.c_program(seed, n_stmts=size)
        first = src.index("    hal_put_hex")
        start = src.index("int main(void) {") + len("int main(void) {")
        src = src[:start] + "\n    hal_mark(1);" + src[start:first] + "    hal_mark(2);\n" + \
            src[first:]
        return toolchain.build_elf([("cmain.c", src)])
    raise ValueError(f"kind must be 'asm' or 'c', not {kind!r}")


@dataclass(frozen=True)
class Micro:
    """A directed timing microbenchmark: ``code`` exercises the timing ``rule`` (a name of
    :data:`xdecimate.sw.iss.timing.TIMING` or :data:`~xdecimate.sw.iss.timing.HAZARDS`)."""

    name: str
    rule: str
    code: str


#: Setup of :data:`MICROBENCHMARKS` (a1 = 100, a2 = 7, a3 = the data buffer, word 16 of the
#: buffer = 3).
MICRO_SETUP = "li a1, 100\nli a2, 7\nmv a3, s11\nli a4, 3\nsw a4, 64(s11)"

_T = "auipc a0, 0\naddi a0, a0, {off}\n"  # a0 = address of the instruction at byte `off`

#: Directed microbenchmarks, at least one per timing rule (tests/sw/bench/test_crosscheck.py
#: checks the coverage and that the ISS and the RTL agree on every one).
MICROBENCHMARKS: tuple[Micro, ...] = (
    Micro("alu", "alu", "add a4, a1, a2\nxor a5, a4, a1\nlui a6, 3\ncv.max a7, a1, a2"),
    Micro("mul", "mul", "mul a4, a1, a2\ncv.mac a4, a1, a2\naddi a5, a4, 1"),
    Micro("mulh", "mulh", "mulh a4, a1, a2\nmulhu a5, a4, a2\nmulhsu a6, a5, a1"),
    Micro("div by 7", "div", "divu a4, a1, a2"),
    Micro("div by 0", "div", "rem a4, a1, zero"),
    Micro("div by -1", "div", "li a5, -1\ndiv a4, a1, a5"),
    Micro("load", "load", "lw a4, 0(s11)\nlbu a5, 3(s11)\ncv.lw a6, (a3), 4"),
    Micro("store", "store", "sw a1, 0(s11)\nsb a2, 5(s11)\ncv.sw a2, (a3), 4"),
    Micro("branch not taken", "branch", "bne zero, zero, E\nnop\nE: nop"),
    Micro("jal", "jal", "jal a4, E\nnop\nE: nop"),
    Micro("jalr", "jalr", _T.format(off=16) + "nop\njalr a4, 0(a0)\nnop"),
    Micro("csr fast", "csr", "csrr a4, mscratch\ncsrw mscratch, a1\ncsrr a5, lpcount0"),
    Micro("csr slow", "csr", "csrr a4, mstatus\ncsrr a5, mcycle\ncsrr a6, cycle"),
    Micro("fence", "fence", "fence"),
    Micro("fence.i", "fence_i", "fence.i"),
    Micro("hwloop setup", "hwloop", "cv.setupi 0, 4, E\nnop\nnop\nnop\nE: nop"),
    Micro("hwloop registers", "hwloop",
          _T.format(off=32) + "addi a5, a0, 12\ncv.start 0, a0\ncv.end 0, a5\n"
          "li a6, 3\ncv.count 0, a6\nnop\nnop\nnop\nnop"),
    Micro("simd", "simd", "cv.sdotusp.b a4, a1, a2\ncv.dotsp.b a5, a4, a2"),
    Micro("bit manipulation", "alu",
          "cv.extractu a4, a1, 3, 2\ncv.extract a5, a4, 7, 1\ncv.insert a5, a2, 3, 1"),
    Micro("byte packing", "alu",
          "cv.pack a4, a1, a2\ncv.packlo.b a4, a2, a1\ncv.packhi.b a4, a1, a2\n"
          "cv.pack.h a5, a4, a1\ncv.shuffle2.b a5, a4, a2\ncv.shuffle.b a6, a5, a2"),
    Micro("byte lanes", "alu", "cv.insert.b a4, a1, 2\ncv.extractu.b a5, a4, 2\n"
          "cv.extract.b a6, a4, 3"),
    Micro("ecall", "trap", "ecall"),
    Micro("ebreak", "trap", "ebreak"),
    Micro("illegal CSR", "trap", "csrr a4, 0x7c0"),
    Micro("illegal encoding", "trap_illegal", ".word 0x00003003"),
    Micro("mret", "mret", _T.format(off=16) + "csrw mepc, a0\nmret\nnop"),
    Micro("load-use", "load_use", "lw a4, 0(s11)\naddi a5, a4, 1"),
    Micro("load-use store data", "load_use", "lw a4, 0(s11)\nsw a4, 4(s11)"),
    Micro("load-use accumulator", "load_use", "lw a4, 0(s11)\ncv.sdotusp.b a4, a1, a2"),
    Micro("load-use insert rd", "load_use", "lw a4, 0(s11)\ncv.insert a4, a1, 3, 1"),
    Micro("load-use insert rs1", "load_use", "lhu a4, 0(s11)\ncv.insert a5, a4, 3, 1"),
    Micro("load-use packlo.b rd", "load_use", "lw a4, 0(s11)\ncv.packlo.b a4, a1, a2"),
    Micro("load-use packhi.b rs1", "load_use", "lhu a4, 0(s11)\ncv.packhi.b a5, a4, a2"),
    Micro("load-use shuffle2.b rd", "load_use", "lw a4, 0(s11)\ncv.shuffle2.b a4, a1, a2"),
    Micro("load-use insert.b rd", "load_use", "lw a4, 0(s11)\ncv.insert.b a4, a1, 1"),
    Micro("load-use hwloop count", "load_use",
          "lw a5, 64(s11)\ncv.setup 0, a5, E\nnop\nnop\nnop\nE: nop"),
    Micro("load-use back edge", "load_use",
          "cv.setupi 0, 4, E\naddi a5, a4, 1\nnop\nlw a4, 0(s11)\nE: nop"),
    Micro("load WAW", "load_waw", "lw a4, 0(s11)\naddi a4, a1, 1"),
    Micro("load WAW csr", "load_waw", "lw a4, 0(s11)\ncsrr a4, mscratch"),
    Micro("load WAW post-increment", "load_waw", "cv.lw a4, (a3), 4\nmul a4, a1, a2"),
    Micro("load WAW extractu", "load_waw", "lw a4, 0(s11)\ncv.extractu a4, a1, 3, 4"),
    Micro("load WAW pack", "load_waw", "lw a4, 0(s11)\ncv.pack a4, a1, a2"),
    Micro("load WAW hidden by jal", "load_waw", "lw a4, 0(s11)\njal a4, E\nE: nop"),
    Micro("load WAW back edge", "load_waw",
          "cv.setupi 0, 4, E\nli a4, 1\nnop\nlw a4, 0(s11)\nE: nop"),
    Micro("jalr dependency", "jalr_dep", _T.format(off=12) + "jalr zero, 0(a0)\nnop"),
    Micro("jalr dependency on a load", "jalr_dep",
          _T.format(off=20) + "sw a0, 8(s11)\nlw a0, 8(s11)\njalr zero, 0(a0)\nnop"),
    Micro("jalr rd = rs1", "jalr_self", _T.format(off=16) + "nop\njalr a0, 0(a0)\nnop"),
    Micro("jalr rd = rs1 dependent", "jalr_self", _T.format(off=12) + "jalr a0, 0(a0)\nnop"),
    Micro("jalr load in WB", "jalr_wb",
          _T.format(off=24) + "sw a0, 8(s11)\nlw a0, 8(s11)\nnop\njalr zero, 0(a0)\nnop"),
    Micro("jalr load in WB, misaligned between", "jalr_wb",
          _T.format(off=24) + "sw a0, 8(s11)\nlw a0, 8(s11)\nlw a5, 1(s11)\n"
          "jalr a0, 0(a0)\nnop"),
    Micro("jalr load in WB, multi-cycle between", "jalr_wb",
          _T.format(off=24) + "sw a0, 8(s11)\nlw a0, 8(s11)\nmulh a5, a1, a2\n"
          "jalr zero, 0(a0)\nnop"),
    Micro("jal after mulh", "jump_overlap", "mulh a4, a1, a2\njal zero, E\nE: nop"),
    Micro("jal after div", "jump_overlap", "div a4, a1, a2\njal a5, E\nE: nop"),
    Micro("jalr after mulh", "jump_overlap", _T.format(off=16) + "mulh a4, a1, a2\n"
          "jalr zero, 0(a0)\nnop"),
    Micro("jalr rd = rs1 after mulh", "jump_overlap", _T.format(off=16) + "mulh a4, a1, a2\n"
          "jalr a0, 0(a0)\nnop"),
    Micro("jalr after dependent mulh", "jump_overlap",
          _T.format(off=24) + "slli a5, a0, 1\nlui a6, 0x80000\nmulhu a0, a5, a6\n"
          "jalr zero, 0(a0)\nnop"),
    Micro("jal after misaligned load", "jump_overlap", "lw a4, 1(s11)\njal zero, E\nE: nop"),
    Micro("jal after misaligned store", "jump_overlap", "sw a4, 2(s11)\njal zero, E\nE: nop"),
    Micro("jal writing a misaligned load's rd", "jump_overlap",
          "lw a4, 1(s11)\njal a4, E\nE: nop"),
    Micro("jalr rd = rs1 after misaligned load", "jump_overlap",
          _T.format(off=16) + "lw a4, 1(s11)\njalr a0, 0(a0)\nnop"),
    Micro("jal after a hwloop ending in a misaligned load", "jump_overlap",
          "cv.setupi 0, 3, E\nnop\nnop\nlw a4, 1(s11)\nE: jal zero, F\nF: nop"),
    Micro("jal after a hwloop ending in mulh", "jump_overlap",
          "cv.setupi 0, 3, E\nnop\nnop\nmulh a4, a1, a2\nE: jal zero, F\nF: nop"),
    Micro("branch taken", "branch_taken", "beq zero, zero, E\nnop\nE: nop"),
    Micro("branch taken after load-use", "branch_taken",
          "lw a4, 0(s11)\nbeq a4, a4, E\nnop\nE: nop"),
    Micro("misaligned word", "misaligned", "lw a4, 1(s11)\nsw a4, 6(s11)"),
    Micro("misaligned halfword", "misaligned", "lh a4, 3(s11)\nlh a5, 1(s11)\nsh a5, 7(s11)"),
    Micro("misaligned post-increment", "misaligned",
          "addi a5, s11, 2\ncv.lw a4, (a5), 4\ncv.sw a4, (a5), 4"),
    Micro("hwloop back edge", "hwloop_back_edge",
          "cv.setupi 0, 10, E\naddi a4, a4, 1\nnop\nnop\nE: nop"),
    Micro("nested hwloops", "hwloop_back_edge",
          "cv.setupi 1, 3, E\ncv.setupi 0, 4, F\nnop\nnop\nnop\nF: nop\nnop\nE: nop"),
    Micro("hwloop slow CSR third-to-last", "hwloop_decode",
          "cv.setupi 0, 4, E\nnop\ncsrr a4, mstatus\nnop\nnop\nE: nop"),
    Micro("hwloop slow CSR second-to-last", "hwloop_decode",
          "cv.setupi 0, 4, E\nnop\ncsrr a4, mstatus\nnop\nE: nop"),
    Micro("hwloop slow CSR last (no bubble)", "hwloop_decode",
          "cv.setupi 0, 4, E\nnop\nnop\ncsrr a4, mstatus\nE: nop"),
    Micro("hwloop slow CSR, mulh last", "hwloop_decode",
          "cv.setupi 0, 4, E\nnop\ncsrr a4, mstatus\nnop\nmulh a5, a1, a2\nE: nop"),
    Micro("hwloop slow CSR, bubble hidden by load-use", "hwloop_decode",
          "cv.setupi 0, 4, E\nnop\ncsrr a4, mstatus\nlw a5, 0(s11)\naddi a6, a5, 1\nE: nop"),
    Micro("hwloop slow CSR, bubble hidden by mulh", "hwloop_decode",
          "cv.setupi 0, 4, E\nnop\ncsrr a4, mstatus\nmulh a5, a1, a2\nnop\nE: nop"),
    Micro("hwloop slow CSR, misaligned last", "hwloop_decode",
          "cv.setupi 0, 4, E\nnop\ncsrr a4, mstatus\nnop\nlw a5, 1(s11)\nE: nop"),
    Micro("hwloop slow CSR, bubble hidden by misaligned", "hwloop_decode",
          "cv.setupi 0, 4, E\nnop\ncsrr a4, mstatus\nlw a5, 1(s11)\nnop\nE: nop"),
    Micro("hwloop ecall second-to-last (mret into the last)", "hwloop_decode",
          "cv.setupi 0, 3, E\nnop\necall\nnop\nE: nop"),
)


#: Setup of :data:`XDEC_MICROBENCHMARKS`: s3 = a legal ``xdec`` configuration (M = 8, N = 1,
#: P = 2), s4 = one the core does not implement (m_log2 = 0), a6 = packed indices, word 16 of
#: the buffer = the buffer's address.
XDEC_MICRO_SETUP = ("li s3, 0x2b0000\nli s4, 0x3000\nli a6, 0x76543210\nsw s11, 64(s11)\n"
                    "csrw 0x800, s3")

#: Directed microbenchmarks of ``xdec.lb`` on the extended core (:data:`XDEC_CORE`), at least
#: one per xDecimate timing rule; each snippet leaves a legal configuration in the CSR.
XDEC_MICROBENCHMARKS: tuple[Micro, ...] = (
    Micro("xdec.lb", "xdec.lb", "xdec.lb a5, s11, a6\nxdec.lb a7, s11, a6\nnop"),
    Micro("xdec.lb load-use rs2", "load_use", "lw a6, 0(s11)\nxdec.lb a5, s11, a6\nli a6, 0"),
    Micro("xdec.lb load-use rd", "load_use", "lw a5, 0(s11)\nxdec.lb a5, s11, a6\nnop"),
    Micro("xdec.lb load-use rs1", "load_use", "lw a3, 64(s11)\nxdec.lb a5, a3, a6\nnop"),
    Micro("xdec.lb dependent pair", "load_use", "xdec.lb a5, s11, a6\nxdec.lb a5, s11, a6"),
    Micro("xdec.lb result used", "load_use", "xdec.lb a5, s11, a6\naddi a4, a5, 1"),
    Micro("xdec.lb to x0, then nop", "load_waw", "xdec.lb zero, s11, a6\nnop\nnop"),
    Micro("csrw xdec, then xdec.lb", "xdec_csr", "csrw 0x800, s3\nxdec.lb a5, s11, a6\nnop"),
    Micro("csrrs xdec, then xdec.lb", "xdec_csr",
          "csrrs a4, 0x800, zero\ncsrrsi a4, 0x800, 1\nxdec.lb a5, s11, a6\nnop"),
    Micro("csrr xdec, then xdec.lb (no stall)", "xdec_csr",
          "csrr a4, 0x800\nxdec.lb a5, s11, a6\ncsrr a4, 0x800"),
    Micro("xdec.lb, unimplemented configuration", "trap_illegal",
          "csrw 0x800, s4\nnop\nxdec.lb a5, s11, a6\ncsrw 0x800, s3"),
    Micro("xdec.lb traps right after csrw", "trap_illegal",
          "csrw 0x800, s4\nxdec.lb a5, s11, a6\ncsrw 0x800, s3"),
    Micro("xdec.lb traps after a load-use", "trap_illegal",
          "csrw 0x800, s4\nlw a6, 0(s11)\nxdec.lb a5, s11, a6\ncsrw 0x800, s3\nli a6, 0"),
    Micro("xdec.lb funct7 != 0", "trap_illegal", ".word 0x0304e7ab\nnop"),
    Micro("xdec.lb hwloop last after a flush", "xdec_hwloop_decode",
          "cv.setupi 0, 4, E\nnop\nnop\ncsrr a4, mstatus\nxdec.lb a5, s11, a6\nE: nop"),
    Micro("xdec.lb hwloop last, flush two before", "xdec_hwloop_decode",
          "cv.setupi 0, 4, E\nnop\ncsrr a4, mstatus\nnop\nxdec.lb a5, s11, a6\nE: nop"),
    Micro("xdec.lb hwloop last after a flush, load-use across the back edge",
          "xdec_hwloop_decode",
          "cv.setupi 0, 4, E\nsrl a5, a3, a0\nnop\ncsrr a4, mstatus\nnop\nxdec.lb a0, s11, a6\n"
          "E: nop"),
    Micro("xdec.lb hwloop last after a counter read and a store", "xdec_hwloop_decode",
          "cv.setupi 0, 2, E\nsrl a5, a3, a0\ncv.max t0, a3, a3\ncsrr a4, mcycle\n"
          "sw a4, 200(s11)\nxdec.lb a0, s11, t1\nE: nop"),
    Micro("xdec.lb to x0 hwloop last after a flush (no extra cycle)", "xdec_hwloop_decode",
          "cv.setupi 0, 4, E\nnop\ncsrr a4, mstatus\nnop\nxdec.lb zero, s11, a6\nE: nop"),
    Micro("xdec.lb hwloop", "hwloop_back_edge",
          "cv.setupi 0, 4, E\nxdec.lb a5, s11, a6\nxdec.lb a7, s11, a6\nxdec.lb a5, s11, a6\n"
          "E: nop"),
    Micro("csrw xdec last, xdec.lb first of a hwloop", "xdec_csr",
          "cv.setupi 0, 3, E\nxdec.lb a5, s11, a6\nnop\ncsrw 0x800, s3\nE: nop"),
)


# --------------------------------------------------------------------------------------------
# Random XpulpV2 programs (bare metal only: qemu knows no CORE-V)
# --------------------------------------------------------------------------------------------

#: Data registers of the random XpulpV2 programs (few, so that hazards are frequent).
_XP_POOL = ("t0", "t1", "t2", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "t3", "t4")
#: s0 = post-increment pointer, s1 = small index register, s2 = loop count, s3 = counter read.
_XP_BUF = 1024  # bytes of the data buffer the programs access (s11)
_XP_COUNTS = 1024  # offset of 8 small words (loop counts 1..6) after the buffer


#: Where the xDecimate programs keep the buffer's address (a load of it into rs1 is a load-use).
_XP_BASE_SLOT = _XP_COUNTS + 64 + 4 * len(_XP_POOL)


class _XpGen:
    def __init__(self, seed: int, xdec: bool = False) -> None:
        import random

        self.rng = random.Random(seed)
        self.lines: list[str] = []
        self.label = 0
        self.counters = 0
        self.xdec = xdec

    def xdec_csr_value(self, legal: bool = False) -> int:
        """A random ``xdec`` CSR value: mostly legal configurations with a small counter, some
        unimplemented ones (reserved bits, bad M/N/P) whose ``xdec.lb`` traps (not with
        ``legal``: hardware-loop bodies never trap, see docs/iss.md)."""
        g = self.rng
        # cnt < 4096 keeps every address inside DMEM (rs1 + 16·cnt + 15; the harness has no
        # bus errors): illegal values differ from legal ones only in the configuration fields
        value = csr_pack(m=g.choice((4, 8, 16)), n=g.choice((1, 2)), p=g.choice((1, 2, 4)),
                         cnt=g.choice((0, 0, g.randrange(64), g.randrange(4096))))
        if legal or g.random() < 0.85:
            return value
        name, bad = g.choice((("m_log2", g.choice((0, 1, 5, 6, 7))), ("n_log2", g.choice((2, 3))),
                              ("p_log2", 3), ("reserved", g.randrange(1, 512))))
        f = xdec_spec.field(name)
        mask = ((1 << f.width) - 1) << f.lsb
        return (value & ~mask) | (bad << f.lsb)

    def xdec_op(self, in_loop: bool) -> list[str]:
        """``xdec.lb`` with random register overlaps, dependent pairs and load-use on each
        operand, or an access of the ``xdec`` CSR (the base is the buffer, s0 or a register
        just pointed into it, so every address stays inside DMEM for any counter value)."""
        g, r = self.rng, self.r
        k = g.random()
        if k < 0.18:
            kind = g.choice(("csrw", "csrw", "csrr", "csrrs", "csrrc", "csrrwi", "csrrsi"))
            if kind == "csrr" or (in_loop and kind != "csrw"):
                return [f"csrr {g.choice((*_XP_POOL, 'zero'))}, 0x800"]
            if kind.endswith("i"):
                return [f"{kind} {r()}, 0x800, {g.randrange(32)}"]
            t = r()
            # csrrs never sets cnt bits 12..15 (cnt < 4096, see xdec_csr_value)
            val = self.xdec_csr_value(in_loop) if kind == "csrw" else \
                g.getrandbits(32) & ~(0xF << 12)
            op = "csrw 0x800, {t}" if kind == "csrw" else f"{kind} {r()}, 0x800, {{t}}"
            return [f"li {t}, {val}", op.format(t=t)]
        rd = g.choice((*_XP_POOL, "zero")) if g.random() < 0.95 else "zero"
        rs2 = r()
        base = g.choice(("s11", "s11", "s0", "pool", "loaded"))
        pre: list[str] = []
        if base == "pool":  # rd may be rs1 (and rs2) here
            rs1 = rd if rd != "zero" and g.random() < 0.4 else r()
            pre.append(f"addi {rs1}, s11, {g.randrange(0, 256)}")
            if rs1 == rs2:
                rs2 = rs1
        elif base == "loaded":  # load-use on rs1
            rs1 = r()
            pre.append(f"lw {rs1}, {_XP_BASE_SLOT}(s11)")
        else:
            rs1 = base
        targets = [t for t in (rs2, rd) if t not in ("zero", rs1)]
        if targets and g.random() < 0.2:  # load-use on rs2 or rd (never clobbering the base)
            pre.append(f"lw {g.choice(targets)}, {self.off(4, 0.0)}(s11)")
        if rd == "zero" or g.random() < 0.5:
            rs2 = rd if rd != "zero" and g.random() < 0.2 else rs2  # rd = rs2
        out = [*pre, f"xdec.lb {rd}, {rs1}, {rs2}"]
        if g.random() < 0.3 and rs1 not in _XP_POOL:  # a dependent second one (same rd)
            out.append(f"xdec.lb {rd}, {rs1}, {rs2}")
        return out

    def lab(self) -> str:
        self.label += 1
        return f"L{self.label}"

    def r(self) -> str:
        return self.rng.choice(_XP_POOL)

    def off(self, size: int, misaligned: float = 0.15) -> int:
        o = self.rng.randrange(0, _XP_BUF - 8)
        return o if self.rng.random() < misaligned else o - o % size

    def op(self, in_loop: bool) -> list[str]:
        """One instruction (or a few outside loops) of a random kind."""
        g, r = self.rng, self.r
        if self.xdec and g.random() < 0.25:
            return self.xdec_op(in_loop)
        k = g.random()
        if k < 0.15:
            mn = g.choice(("add", "sub", "xor", "or", "and", "sll", "srl", "sra", "slt", "sltu",
                           "cv.min", "cv.max", "cv.minu", "cv.maxu", "cv.clipr", "cv.clipur"))
            return [f"{mn} {r()}, {r()}, {r()}"]
        if k < 0.22:  # bit manipulation and byte packing (rd read by insert, pack*.b, shuffle2)
            kind = g.random()
            if kind < 0.35:
                mn = g.choice(("cv.extract", "cv.extractu", "cv.insert", "cv.insert"))
                return [f"{mn} {r()}, {r()}, {g.randint(0, 31)}, {g.randint(0, 31)}"]
            if kind < 0.55:
                mn = g.choice(("cv.extract.b", "cv.extractu.b", "cv.insert.b"))
                return [f"{mn} {r()}, {r()}, {g.randint(0, 3)}"]
            mn = g.choice(("cv.pack", "cv.pack.h", "cv.packlo.b", "cv.packhi.b", "cv.shuffle.b",
                           "cv.shuffle2.b"))
            return [f"{mn} {r()}, {r()}, {r()}"]
        if k < 0.30:
            mn = g.choice(("addi", "xori", "andi", "slti"))
            return [f"{mn} {r()}, {r()}, {g.randint(-2048, 2047)}"]
        if k < 0.33:
            return [g.choice((f"cv.clip {r()}, {r()}, {g.randint(1, 20)}",
                              f"cv.clipu {r()}, {r()}, {g.randint(1, 20)}",
                              f"cv.abs {r()}, {r()}", f"lui {r()}, {g.getrandbits(20)}",
                              f"slli {r()}, {r()}, {g.randint(0, 31)}"))]
        if k < 0.40:
            mn = g.choice(("mul", "mul", "mulh", "mulhu", "mulhsu", "cv.mac", "cv.msu"))
            return [f"{mn} {r()}, {r()}, {r()}"]
        if k < 0.43:
            return [f"{g.choice(('div', 'divu', 'rem', 'remu'))} {r()}, {r()}, {r()}"]
        if k < 0.50:
            mn = g.choice(("cv.dotup.b", "cv.dotusp.b", "cv.dotsp.b", "cv.sdotup.b",
                           "cv.sdotusp.b", "cv.sdotsp.b"))
            return [f"{mn} {r()}, {r()}, {r()}"]
        if k < 0.62:
            mn, size = g.choice((("lw", 4), ("lh", 2), ("lhu", 2), ("lb", 1), ("lbu", 1)))
            return [f"{mn} {r()}, {self.off(size)}(s11)"]
        if k < 0.70:
            mn, size = g.choice((("sw", 4), ("sh", 2), ("sb", 1)))
            return [f"{mn} {r()}, {self.off(size)}(s11)"]
        if k < 0.80:  # post-increment load or store through s0 (drifts at most 4 per use)
            mn = g.choice(("cv.lw", "cv.lw", "cv.lbu", "cv.lh", "cv.sw", "cv.sb"))
            inc = g.choice((1, 2, 4, 4, -4)) if not in_loop else g.choice((1, 2, 4))
            pre = [] if in_loop else [f"addi s0, s11, {self.off(4, 0.2) // 2}"]
            if mn.startswith("cv.s"):
                return [*pre, f"{mn} {r()}, (s0), {inc}"]
            return [*pre, f"{mn} {g.choice(list(_XP_POOL))}, (s0), {inc}"]
        if k < 0.86:  # register-indexed / register post-increment (s1: 0..63)
            form = g.choice(("rr", "rr", "pr", "srr"))
            pre = [] if in_loop or g.random() < 0.5 else [f"andi s1, {r()}, 63"]
            if form == "rr":
                return [*pre, f"{g.choice(('cv.lw', 'cv.lbu', 'cv.lh'))} {r()}, s1(s11)"]
            if form == "pr":
                return [*pre, f"cv.lw {r()}, (s0), s1"] if in_loop else \
                    [*pre, "mv s0, s11", f"cv.lw {r()}, (s0), s1"]
            return [*pre, f"cv.sw {r()}, s1(s11)"]
        if k < 0.90:
            csr = g.choice(("mscratch", "mscratch", "mstatus", "mcycle", "minstret", "mcause",
                            "lpcount0", "cycle"))
            if csr == "mscratch" and g.random() < 0.5:
                return [f"csrw mscratch, {r()}"]
            if csr in ("mcycle", "minstret", "cycle"):  # stored, never computed with
                self.counters += 1
                return [f"csrr s3, {csr}", f"sw s3, {_XP_COUNTS + 32 + 4 * (self.counters % 8)}"
                        "(s11)"]
            return [f"csrr {r()}, {csr}"]
        if k < 0.93 and not in_loop:
            return [g.choice(("fence", f"csrr {r()}, mtvec", f"csrr {r()}, mhartid"))]
        return [f"li {r()}, {g.getrandbits(32) if g.random() < 0.5 else g.randint(-40, 40)}"]

    def body(self, n: int) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            out += self.op(True)
        return out

    def loop(self, level: int) -> None:
        g = self.rng
        end = self.lab()
        count = g.randint(1, 6 if level == 0 else 4)
        form = g.random()
        if form < 0.5:
            head = [f"cv.setupi {level}, {count}, {end}"]
        elif form < 0.75:
            head = [f"li s2, {count}", f"cv.setup {level}, s2, {end}"]
        else:  # count loaded right before the setup (load-use into cv.setup)
            head = [f"lw s2, {_XP_COUNTS + 4 * (count - 1)}(s11)", f"cv.setup {level}, s2, {end}"]
        if self.xdec:
            # a legal configuration before the loop: no xdec.lb traps inside a body
            self.lines += [f"li s3, {self.xdec_csr_value(True)}", "csrw 0x800, s3"]
        self.lines += [f"addi s0, s11, {g.randrange(0, 256, 4)}", *head]
        if level == 1:
            self.lines += self.body(g.randint(0, 2))
            self.loop(0)
            self.lines += self.body(g.randint(2, 4))  # outer end >= inner end + 8
        else:
            self.lines += self.body(g.randint(3, 10))
        self.lines.append(f"{end}:")

    def control(self) -> None:
        g = self.rng
        k = g.random()
        if k < 0.4:
            lab = self.lab()
            mn = g.choice(("beq", "bne", "blt", "bge", "bltu", "bgeu"))
            self.lines.append(f"{mn} {self.r()}, {self.r()}, {lab}")
            for _ in range(g.randint(0, 3)):
                self.lines += self.op(False)
            self.lines.append(f"{lab}:")
        elif k < 0.6:
            lab = self.lab()
            self.lines.append(f"jal {g.choice((*_XP_POOL, 'zero'))}, {lab}")
            for _ in range(g.randint(0, 2)):
                self.lines += self.op(False)
            self.lines.append(f"{lab}:")
        elif k < 0.7:
            n = g.randint(0, 2)
            t = self.r()
            ops = [x for _ in range(n) for x in self.op(False)]
            # skip the ops' words (a `li` of a large value is two): landing inside them would
            # skip the reload of an xdec.lb base pointer and load outside the memory map
            words = len(isa.assemble("\n".join(ops), 0)) if ops else 0
            self.lines += [f"auipc {t}, 0", f"addi {t}, {t}, {4 * (words + 3)}",
                           f"jalr {g.choice((*_XP_POOL, 'zero'))}, 0({t})", *ops,
                           f"{self.lab()}:"]  # where the jalr lands (checked by a test)
        else:
            self.loop(1 if g.random() < 0.3 else 0)


def xpulp_program(seed: int, n_ops: int = 150, *, xdec: bool = False
                  ) -> tuple[str, str, bytes]:
    """A random XpulpV2 program for :func:`snippet_program`: ``(code, setup, data)``.

    RV32IM plus post-increment, register-indexed and register-post-increment loads and stores,
    SIMD dot products, ``cv.mac``/``msu``, ``cv.min``/``max``/``clip``/``abs``, fast and slow
    CSR accesses, ``fence``, forward branches, ``jal``/``jalr``, and hardware loops (immediate,
    register and loaded counts; nested, with loads, multi-cycle and misaligned accesses at the
    body's ends) with few data registers, so that every hazard shows up.  The code ends by
    storing its registers into the data buffer, so memory snapshots compare the results.
    ``xdec``: a quarter of the operations are ``xdec.lb`` (random register overlaps rd = rs1,
    rd = rs2, rd = x0; dependent pairs; load-use on rs1, rs2 and rd; at every position of
    hardware-loop bodies) and reads and writes of the ``xdec`` CSR with legal and unimplemented
    configurations (those ``xdec.lb`` trap: run with a trap handler, see :func:`xpulp_elf`).

    Raises
    ------
    TypeError, ValueError
        ``seed`` not an int; ``n_ops`` not an int >= 1.
    """
    _arg_int("seed", seed)
    _arg_int("n_ops", n_ops, 1)
    if not isinstance(xdec, bool):
        raise TypeError(f"xdec must be a bool, not {type(xdec).__name__} {xdec!r}")
    g = _XpGen(seed, xdec)
    rng = g.rng
    setup = [f"li {r}, {rng.getrandbits(32)}" for r in _XP_POOL] + \
        ["li s1, 12", "mv s0, s11", f"sw s11, {_XP_BASE_SLOT}(s11)"]
    if xdec:
        setup += [f"li s3, {g.xdec_csr_value()}", "csrw 0x800, s3"]
    for _ in range(n_ops):
        if rng.random() < 0.12:
            g.control()
        else:
            g.lines += g.op(False)
    g.lines += [f"sw {r}, {_XP_COUNTS + 64 + 4 * i}(s11)" for i, r in enumerate(_XP_POOL)]
    data = bytes(rng.getrandbits(8) for _ in range(_XP_BUF))
    data += b"".join(c.to_bytes(4, "little") for c in range(1, 9))  # loop counts
    data += bytes(32 + 4 * len(_XP_POOL) + 4)  # counters, final registers, the base slot
    if xdec:
        g.lines += ["csrr s3, 0x800", f"sw s3, {_XP_BASE_SLOT}(s11)"]  # the final CSR
    return "\n".join(g.lines), "\n".join(setup), data


def xpulp_batch_elf(seeds: Sequence[int], n_ops: int = 60, *, xdec: bool = False) -> Path:
    """Several :func:`xpulp_program` programs in one ELF, one marked region each (so that many
    random programs cost one build and one run per target).

    Each program starts from its own setup (registers, ``s0``/``s1``, the ``xdec`` CSR) and
    ends by folding its data registers and the ``xdec`` CSR into a running hash in ``s4``,
    stored at the end: every program's results reach the compared memory.  The data buffer is
    the first program's and is shared (later programs see what earlier ones stored).

    Raises
    ------
    TypeError, ValueError
        ``seeds`` not a non-empty list or tuple of ints; ``n_ops`` as :func:`xpulp_program`.
    """
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (list, tuple, range)):
        raise TypeError(f"seeds must be a list, tuple or range of ints, not "
                        f"{type(seeds).__name__} {seeds!r}")
    if len(seeds) == 0:
        raise ValueError("seeds must name at least one program")
    snippets, data = [], b""
    fold = [f"slli s5, s4, 5\nadd s4, s4, s5\nxor s4, s4, {r}" for r in _XP_POOL]
    if xdec:
        fold.append("csrr s3, 0x800\nxor s4, s4, s3")
    for k, seed in enumerate(seeds):
        code, setup, d = xpulp_program(seed, n_ops, xdec=xdec)
        data = data or d
        snippets.append("\n".join((setup, code, *fold,
                                   f"sw s4, {_XP_BASE_SLOT + 4}(s11)" if k == len(seeds) - 1
                                   else "")))
    return snippet_elf(snippets, setup="li s4, 0", data=data + bytes(4), handler=xdec)


def xpulp_elf(seed: int, n_ops: int = 150, *, xdec: bool = False) -> Path:
    """:func:`xpulp_program` built as a one-snippet program (marks 0 and 1 around it); with
    ``xdec``, a trap handler resumes after each trapping ``xdec.lb``."""
    code, setup, data = xpulp_program(seed, n_ops, xdec=xdec)
    return snippet_elf([code], setup=setup, data=data, handler=xdec)


# --------------------------------------------------------------------------------------------
# CSR scans: every address read (and written) on both targets

#: Every CSR address (the 12-bit ``csr`` field).
CSR_ADDRESSES = range(0x1000)

#: A trap recorded by the scan handler is stored as ``CSR_TRAP_FLAG | mcause``.
CSR_TRAP_FLAG = 0x100

_CSR_HANDLER = """\
  .globl xdec_trap
  .balign 4
xdec_trap:              # a0 = mcause, a1 = mepc, a2 = the saved registers (crt0.S)
  lw t0, 28(a2)         # the trapping access's a3: its result slot
  li t1, {flags}
  add t0, t0, t1
  ori a0, a0, {flag}
  sw a0, 0(t0)          # flag[slot] = CSR_TRAP_FLAG | mcause
  sw zero, 16(a2)       # a0, a1, a2 read as 0 after a trapping access
  sw zero, 20(a2)
  sw zero, 24(a2)
  addi a0, a1, 4
  ret
"""


def csr_scan_program(addrs: Sequence[int], *, write: bool = False) -> str:
    """GNU assembly of a ``main`` that accesses each CSR of ``addrs`` once, in order.

    ``write=False``: ``csrr a0, csr`` (``csrrs`` with ``x0``: a read that writes nothing) and
    the value is stored in the slot of that CSR.  ``write=True``: ``csrrw a0, csr, -1``, then
    ``csrrw a1, csr, x0``, then ``csrrw a2, csr, a0`` (restores the original value): the slot
    holds ``a1`` (the value read back after writing all ones) and ``a2`` (after writing zero).
    A trapping access is skipped by the handler, which records ``CSR_TRAP_FLAG | mcause`` in
    the flag word at the same offset past the slots (0 when nothing trapped) and zeroes
    a0-a2.  Read the results with :func:`csr_scan_results`.

    Raises
    ------
    TypeError
        If an address is not an integer (a bool is not).
    ValueError
        If an address is not in 0..0xfff.
    """
    addrs = list(addrs)
    for a in addrs:
        if isinstance(a, bool) or not isinstance(a, int):
            raise TypeError(f"CSR addresses must be integers in 0..0xfff, not {a!r}")
        if not 0 <= a < 0x1000:
            raise ValueError(f"CSR addresses must be integers in 0..0xfff, not {a!r}")
    words = 2 if write else 1
    lines = ["  .text", "  .globl main", "  .balign 4", "main:", "  la a3, csr_scan_slots",
             "  li a5, -1"]
    for a in addrs:
        if write:
            lines += [f"  csrrw a0, 0x{a:03x}, a5", f"  csrrw a1, 0x{a:03x}, zero",
                      f"  csrrw a2, 0x{a:03x}, a0", "  sw a1, 0(a3)", "  sw a2, 4(a3)",
                      "  addi a3, a3, 8"]
        else:
            lines += [f"  csrr a0, 0x{a:03x}", "  sw a0, 0(a3)", "  addi a3, a3, 4"]
    lines += ["  li a0, 0", "  ret",
              _CSR_HANDLER.format(flags=4 * words * len(addrs), flag=CSR_TRAP_FLAG),
              "  .bss", "  .balign 4", "  .globl csr_scan_slots", "csr_scan_slots:",
              f"  .space {8 * words * len(addrs)}"]  # the slots, then as many flag words
    return "\n".join(lines) + "\n"


def csr_scan_elf(addrs: Sequence[int] = CSR_ADDRESSES, *, write: bool = False) -> Path:
    """Build :func:`csr_scan_program` into a bare-metal ELF (cached by content)."""
    return toolchain.build_elf([("csrscan.S", csr_scan_program(addrs, write=write))])


def csr_scan_results(elf: str | Path, result: RunResult, addrs: Sequence[int] = CSR_ADDRESSES,
                     *, write: bool = False) -> dict[int, tuple[int, ...] | int]:
    """The outcome per CSR of a :func:`csr_scan_elf` run: the value(s) read (a tuple of one
    value, or of the values read back after writing all ones and zero), or the ``mcause`` of
    the trap (an ``int``)."""
    from ..iss.elf import symbols

    base = symbols(elf)["csr_scan_slots"] - memmap.DMEM_BASE
    mem = result.memory or b""
    words = 2 if write else 1
    flags = base + 4 * words * len(addrs)

    def word(off: int) -> int:
        return int.from_bytes(mem[off:off + 4], "little")

    out: dict[int, tuple[int, ...] | int] = {}
    for i, a in enumerate(addrs):
        flag = word(flags + 4 * words * i)
        out[a] = flag & ~CSR_TRAP_FLAG if flag else tuple(
            word(base + 4 * (words * i + k)) for k in range(words))
    return out


# --------------------------------------------------------------------------------------------
# C kernels on both targets (for `xdecimate bench --target cv32e40p` and the report)

#: The kernels the CV32E40P can run (no xDecimate instruction).
#: Kernels :func:`kernel_agreement` runs on both targets: all of them (the xDecimate ones on the
#: extended core :data:`XDEC_CORE`).
RTL_KERNELS = ("dense_1x2", "dense_4x2", "dense_1x2_direct", "dense_4x2_direct", "sw", "sw_rq",
               "sw4", "xdec", "xdec4", "xdec_direct", "xdec4_direct")
#: The kernels without xDecimate instructions (those the stock core runs too).
STOCK_KERNELS = ("dense_1x2", "dense_4x2", "dense_1x2_direct", "dense_4x2_direct", "sw",
                 "sw_rq", "sw4")


@dataclass(frozen=True)
class KernelAgreement:
    """One kernel on one layer, on the ISS and on the RTL.

    Attributes
    ----------
    iss_cycles, rtl_cycles : cycles of the marked whole-kernel region.
    instret : retired instructions of that region on the RTL.
    bit_exact : the RTL's output equals the golden model bit for bit.
    equal : :func:`compare` found no difference at all (every region, memory, totals).
    """

    layer: str
    kind: str
    kernel: str
    pattern: str
    iss_cycles: int
    rtl_cycles: int
    instret: int
    bit_exact: bool
    equal: bool
    differences: tuple[str, ...] = ()


def kernel_agreement(layers: dict[str, object], patterns: Sequence[str], *,
                     kernels: Sequence[str] = RTL_KERNELS, core: str = XDEC_CORE,
                     log: Callable[[str], None] = print) -> list[KernelAgreement]:
    """Run ``kernels`` on ``layers`` (name -> :class:`xdecimate.sw.kernels.harness.FCShape` or
    ``ConvShape``) on the ISS and on the RTL ``core`` (default the extended core; ``"stock"``
    runs only :data:`STOCK_KERNELS`).  Dense kernels run once per layer (with the first
    pattern's data), the sparse kernels once per pattern.

    Raises
    ------
    TypeError, ValueError
        ``layers``/``patterns`` as :func:`xdecimate.sw.bench.suite.check_layers` /
        ``check_patterns`` (non-empty, no bare str, patterns distinct and supported);
        ``kernels`` not a non-empty list/tuple of names of :data:`RTL_KERNELS`; ``log`` not
        callable.
    """
    import numpy as np

    from ..kernels import harness as ck
    from . import suite

    layers = suite.check_layers(layers)  # type: ignore[assignment]
    patterns = suite.check_patterns(patterns)
    if isinstance(kernels, str) or not isinstance(kernels, (list, tuple)):
        raise TypeError(f"kernels must be a tuple or list of kernel names, not "
                        f"{type(kernels).__name__} {kernels!r}")
    if not kernels:
        raise ValueError(f"kernels must name at least one of {RTL_KERNELS}, not {kernels!r}")
    if not callable(log):
        raise TypeError(f"log must be callable, not {type(log).__name__} {log!r}")
    allowed = STOCK_KERNELS if core in ("stock", "xdec-off") else RTL_KERNELS
    bad = [k for k in kernels if k not in allowed]
    if bad:
        raise ValueError(f"kernels must be among {allowed} (no xDecimate on the {core} core), "
                         f"not {bad!r}")
    rtl = functools.partial(rtl_run, core=core)
    out = []
    dense_kernels = (*ck.DENSE_KERNELS, *ck.DENSE_DIRECT_KERNELS)
    direct = (*ck.DIRECT_KERNELS, *ck.DENSE_DIRECT_KERNELS)
    for name, shape in layers.items():
        for kernel in kernels:
            if kernel in direct and shape.kind != "conv":
                continue  # on a fully connected layer a direct kernel is the plain one
            for pattern in (patterns if kernel not in dense_kernels else patterns[:1]):
                case = ck.make_case(shape, pattern)  # type: ignore[arg-type]
                elf = ck.build(case, kernel)
                c = compare(elf, name=f"{name} {kernel} {pattern}", rtl=rtl)
                ri = ck.region_totals(c.iss)["kernel"]
                rr = ck.region_totals(c.rtl)["kernel"]
                exact = bool(np.array_equal(ck.read_output(elf, c.rtl, case), case.golden))
                row = KernelAgreement(
                    layer=name, kind=shape.kind, kernel=kernel,  # type: ignore[attr-defined]
                    pattern="dense" if kernel in dense_kernels else pattern,
                    iss_cycles=ri.cycles, rtl_cycles=rr.cycles, instret=rr.instret,
                    bit_exact=exact, equal=c.equal, differences=c.differences)
                log(f"{name} {row.pattern} {kernel}: ISS {ri.cycles}, CV32E40P RTL "
                    f"{rr.cycles} cycles{'' if c.equal else ' DIFFERENT'}"
                    f"{'' if exact else ', RTL output NOT bit-exact'}")
                out.append(row)
    return out


def agreement_markdown(rows: Sequence[KernelAgreement]) -> str:
    """Markdown table: kernel cycles on the ISS next to the CV32E40P RTL."""
    lines = ["| Layer | Kind | Pattern | Kernel | ISS cycles | CV32E40P RTL cycles | RTL − ISS "
             "| Instructions | RTL output bit-exact | Every region and memory equal |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r.layer} | {r.kind} | {r.pattern} | {r.kernel} | {r.iss_cycles} "
              f"| {r.rtl_cycles} | {r.rtl_cycles - r.iss_cycles:+d} | {r.instret} "
              f"| {'yes' if r.bit_exact else '**no**'} | {'yes' if r.equal else '**no**'} |"
              for r in rows]
    return "\n".join(lines)


def bench_cv32e40p(*, quick: bool = False, patterns: Sequence[str] | None = None,
                   out: Path | None = None, log: Callable[[str], None] = print
                   ) -> tuple[str, bool]:
    """The benchmark layers (:mod:`xdecimate.sw.bench.suite`) with the kernels the CV32E40P runs, on
    the ISS and on the RTL: ``(markdown, all equal and bit-exact)``; writes
    ``cv32e40p.md``/``cv32e40p.json`` into ``out`` when given.

    Raises
    ------
    TypeError, ValueError
        ``patterns`` not ``None`` or a valid list (:func:`xdecimate.sw.bench.suite.
        check_patterns`: an empty list is refused, ``None`` means the default); ``quick`` not
        a bool; ``out`` not ``None`` or a path.
    FileExistsError
        ``out`` exists and is not a folder.
    """
    import json
    import os

    from . import suite as bench

    if not isinstance(quick, bool):
        raise TypeError(f"quick must be a bool, not {type(quick).__name__} {quick!r}")
    if out is not None:
        if not isinstance(out, (str, os.PathLike)):
            raise TypeError(f"out must be a path or None, not {type(out).__name__} {out!r}")
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise FileExistsError(f"output folder {str(out)!r} exists and is not a folder")
    layers = bench.QUICK_LAYERS if quick else bench.LAYERS
    pats = bench.check_patterns(patterns) if patterns is not None else (
        bench.QUICK_PATTERNS if quick else ("1:4", "1:8", "1:16", "2:8"))
    rows = kernel_agreement(layers, pats, log=log)  # type: ignore[arg-type]
    ok = all(r.equal and r.bit_exact for r in rows)
    md = (f"Kernel cycles (marked whole-kernel region) of every C kernel, on the ISS and on the "
          f"CV32E40P v1.8.3 RTL extended with xDecimate (`{XDEC_CORE}`: the project's patch "
          f"`hw/cv32e40p/`, `sim/cv32e40p.py`), same ELF; {sum(r.equal for r in rows)} of "
          f"{len(rows)} runs agree exactly (every marked region, retired instructions, data "
          f"memory).\n\n" + agreement_markdown(rows))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "cv32e40p.md").write_text("# ISS vs CV32E40P RTL\n\n" + md + "\n")
        (out / "cv32e40p.json").write_text(json.dumps(
            [r.__dict__ | {"differences": list(r.differences)} for r in rows], indent=1))
    return md, ok
