"""Random RV32IM test programs for the qemu-vs-ISS differential test.

:func:`asm_program` writes an assembly routine ``run_test(uint32_t *out)`` from a seed: random
ALU/M instructions (with corner values for mul/div: 0, ±1, INT_MIN, INT_MAX), loads and stores
into a 256-byte buffer (aligned and misaligned), forward branches of all six kinds, short counted
loops, ``jal``/``jalr`` with link registers, ``lui``/``auipc``.  Values that depend on absolute
addresses (link registers, auipc) are made position-independent, so the same program gives the
same signature under qemu-riscv32 (Linux user mode, code at 0x10000) and on the bare-metal ISS.

:func:`c_program` writes a random C program over 32- and 64-bit integers (64-bit division and
shifts go through libgcc).  :data:`MAIN_C` prints the signature: the 26 registers x5..x30, and a
hash of the buffer.
"""

from __future__ import annotations

import random

__all__ = ["MAIN_C", "asm_program", "c_program"]

BUF = 256
#: Registers the random code may write: x5..x30 (x31 = buffer base; ra, sp, gp, tp reserved).
POOL = tuple(range(5, 31))
CORNER = (0, 1, 2, 0xFFFF_FFFF, 0xFFFF_FFFE, 0x8000_0000, 0x7FFF_FFFF, 0x8000_0001, 0xFF,
          0x80, 0x7F, 0xFFFF, 0x8000, 31, 32, 33)

_R_OPS = ("add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and", "mul", "mulh",
          "mulhsu", "mulhu", "div", "divu", "rem", "remu")
_I_OPS = ("addi", "slti", "sltiu", "xori", "ori", "andi")
_SH_OPS = ("slli", "srli", "srai")
_LOADS = (("lw", 4), ("lh", 2), ("lhu", 2), ("lb", 1), ("lbu", 1))
_STORES = (("sw", 4), ("sh", 2), ("sb", 1))
_BRANCHES = ("beq", "bne", "blt", "bge", "bltu", "bgeu")

MAIN_C = r"""
#include <stdint.h>
#include "hal.h"
extern void run_test(uint32_t *out);
extern uint8_t test_buf[256];
static uint32_t out[26];
int main(void) {
    run_test(out);
    for (int i = 0; i < 26; i++) {
        hal_put_hex(out[i]);
        hal_putc(i % 8 == 7 ? '\n' : ' ');
    }
    uint32_t h = 2166136261u;
    for (int i = 0; i < 256; i++) h = (h ^ test_buf[i]) * 16777619u;
    hal_puts("\nbuf ");
    hal_put_hex(h);
    hal_putc('\n');
    return 0;
}
"""


def _reg(n: int) -> str:
    return f"x{n}"


class _AsmGen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lines: list[str] = []
        self.label = 0

    def new_label(self) -> str:
        self.label += 1
        return f".Lr{self.label}"

    def value(self) -> int:
        r = self.rng
        return r.choice(CORNER) if r.random() < 0.4 else r.getrandbits(32)

    def src(self) -> str:
        return "x0" if self.rng.random() < 0.05 else _reg(self.rng.choice(POOL))

    def dst(self, avoid: tuple[int, ...] = ()) -> str:
        return _reg(self.rng.choice([p for p in POOL if p not in avoid]))

    def emit(self, line: str) -> None:
        self.lines.append("    " + line)

    def simple(self, avoid: tuple[int, ...] = ()) -> None:
        """One straight-line operation (may expand to a few instructions)."""
        r = self.rng
        k = r.random()
        d = self.dst(avoid)
        if k < 0.35:
            self.emit(f"{r.choice(_R_OPS)} {d}, {self.src()}, {self.src()}")
        elif k < 0.5:
            imm = r.choice((0, 1, -1, 2047, -2048, r.randint(-2048, 2047)))
            self.emit(f"{r.choice(_I_OPS)} {d}, {self.src()}, {imm}")
        elif k < 0.58:
            self.emit(f"{r.choice(_SH_OPS)} {d}, {self.src()}, {r.randint(0, 31)}")
        elif k < 0.62:
            self.emit(f"lui {d}, {r.getrandbits(20)}")
        elif k < 0.64:
            lab = self.new_label()
            t = self.dst((*avoid, int(d[1:])))
            self.lines.append(f"{lab}:")
            self.emit(f"auipc {d}, {r.getrandbits(20)}")
            self.emit(f"la {t}, {lab}")
            self.emit(f"sub {d}, {d}, {t}")
            self.emit(f"li {t}, {self.value():#x}")  # no absolute address stays behind
        elif k < 0.66:
            self.emit(f"li {d}, {self.value():#x}")
        elif k < 0.80:
            op, size = r.choice(_LOADS)
            off = r.randrange(0, BUF - size + 1)
            if r.random() < 0.8:
                off -= off % size
            self.emit(f"{op} {d}, {off}(x31)")
        elif k < 0.86:
            op, size = r.choice(_LOADS)
            t = int(self.dst((*avoid, int(d[1:])))[1:])
            self.emit(f"andi x{t}, {self.src()}, {(BUF - 4) & ~(size - 1)}")
            self.emit(f"add x{t}, x{t}, x31")
            self.emit(f"{op} {d}, 0(x{t})")
            self.emit(f"sub x{t}, x{t}, x31")
        else:
            op, size = r.choice(_STORES)
            off = r.randrange(0, BUF - size + 1)
            if r.random() < 0.8:
                off -= off % size
            self.emit(f"{op} {self.src()}, {off}(x31)")

    def control(self) -> None:
        r = self.rng
        k = r.random()
        if k < 0.5:  # forward branch over a few operations
            lab = self.new_label()
            self.emit(f"{r.choice(_BRANCHES)} {self.src()}, {self.src()}, {lab}")
            for _ in range(r.randint(0, 4)):
                self.simple()
            self.lines.append(f"{lab}:")
        elif k < 0.75:  # counted loop
            c = r.choice(POOL)
            lab = self.new_label()
            self.emit(f"li x{c}, {r.randint(1, 6)}")
            self.lines.append(f"{lab}:")
            for _ in range(r.randint(1, 5)):
                self.simple(avoid=(c,))
            self.emit(f"addi x{c}, x{c}, -1")
            self.emit(f"bnez x{c}, {lab}")
        elif k < 0.88:  # jal with a position-independent link value
            link, t = r.sample(POOL, 2)
            after, target = self.new_label(), self.new_label()
            self.emit(f"jal x{link}, {target}")
            self.lines.append(f"{after}:")
            for _ in range(r.randint(0, 3)):
                self.simple()
            self.lines.append(f"{target}:")
            self.emit(f"la x{t}, {after}")
            self.emit(f"sub x{link}, x{link}, x{t}")
            self.emit(f"li x{t}, {self.value():#x}")
        else:  # jalr through a register
            link, t = r.sample(POOL, 2)
            after, target = self.new_label(), self.new_label()
            self.emit(f"la x{t}, {target}")
            self.emit(f"jalr x{link}, 0(x{t})")
            self.lines.append(f"{after}:")
            for _ in range(r.randint(0, 3)):
                self.simple()
            self.lines.append(f"{target}:")
            self.emit(f"la x{t}, {after}")
            self.emit(f"sub x{link}, x{link}, x{t}")
            self.emit(f"li x{t}, {self.value():#x}")


def asm_program(seed: int, n_ops: int = 300) -> str:
    """Assembly source (``.S``) of ``run_test(uint32_t *out)`` and ``test_buf`` for ``seed``."""
    g = _AsmGen(seed)
    rng = g.rng
    saved = ["x1", "x8", "x9", *(f"x{i}" for i in range(18, 28))]
    frame = 4 * (len(saved) + 2)
    head = [".text", ".globl run_test", ".balign 4", "run_test:"]
    g.lines = []
    g.emit(f"addi sp, sp, -{frame}")
    for i, r in enumerate(saved):
        g.emit(f"sw {r}, {4 * i}(sp)")
    g.emit(f"sw a0, {4 * len(saved)}(sp)")
    g.emit("la x31, test_buf")
    for p in POOL:
        g.emit(f"li x{p}, {g.value():#x}")
    for _ in range(n_ops):
        if rng.random() < 0.15:
            g.control()
        else:
            g.simple()
    g.emit(f"lw x31, {4 * len(saved)}(sp)")
    for i, p in enumerate(POOL):
        g.emit(f"sw x{p}, {4 * i}(x31)")
    for i, r in enumerate(saved):
        g.emit(f"lw {r}, {4 * i}(sp)")
    g.emit(f"addi sp, sp, {frame}")
    g.emit("ret")
    data = [".data", ".globl test_buf", ".balign 4", "test_buf:"]
    data += ["    .byte " + ", ".join(str(rng.getrandbits(8)) for _ in range(16))
             for _ in range(BUF // 16)]
    return "\n".join(head + g.lines + data) + "\n"


_C_TYPES = ("uint32_t", "int32_t", "uint64_t", "int64_t", "int8_t", "uint16_t")
#: Unsigned type in which +, -, *, << are computed (no signed-overflow undefined behaviour).
_C_UNSIGNED = {"uint32_t": "uint32_t", "int32_t": "uint32_t", "uint64_t": "uint64_t",
               "int64_t": "uint64_t", "int8_t": "uint32_t", "uint16_t": "uint32_t"}
_C_BIN = ("+", "-", "*", "&", "|", "^")


def c_program(seed: int, n_stmts: int = 60) -> str:
    """A random C program (defines its own ``main``) printing a signature of 12 variables.

    Arithmetic avoids undefined behaviour (unsigned wrap-around, guarded division), so any
    difference between qemu and the ISS is a simulator (or libgcc) difference.
    """
    rng = random.Random(seed)
    nv = 12
    types = [rng.choice(_C_TYPES) for _ in range(nv)]
    init = ", ".join(f"{rng.choice((*CORNER, rng.getrandbits(32))):#x}u" for _ in range(nv))
    lines = ["#include <stdint.h>", '#include "hal.h"',
             f"static volatile uint32_t seed_in[{nv}] = {{{init}}};", "int main(void) {"]
    for i, t in enumerate(types):
        lines.append(f"    {t} v{i} = ({t})seed_in[{i}];")
    for _ in range(n_stmts):
        d, a, b = rng.randrange(nv), rng.randrange(nv), rng.randrange(nv)
        t, u = types[d], _C_UNSIGNED[types[d]]
        bits = 64 if "64" in u else 32
        ua, ub = f"(({u})({t})v{a})", f"(({u})({t})v{b})"
        k = rng.random()
        if k < 0.45:
            expr = f"{ua} {rng.choice(_C_BIN)} {ub}"
        elif k < 0.6:
            op = rng.choice(("/", "%"))
            ta, tb = f"(({t})v{a})", f"(({t})v{b})"
            if t.startswith("u"):
                expr = f"{tb} == 0 ? {ta} : {ta} {op} {tb}"
            else:
                wide = "int64_t" if "64" in t else "int32_t"
                expr = (f"({tb} == 0 || ((({wide}){ta}) == ({wide})(({u})1 << {bits - 1}) && "
                        f"{tb} == -1)) ? {ta} : ({wide}){ta} {op} ({wide}){tb}")
        elif k < 0.7:
            expr = f"{ua} << (v{b} & {bits - 1})"
        elif k < 0.78:
            expr = f"(({t})v{a}) >> (v{b} & {min(bits, 8 * _size(t)) - 1})"
        elif k < 0.88:
            cmp = rng.choice(("<", "<=", "==", "!=", ">", ">="))
            expr = f"(({t})v{a} {cmp} ({t})v{b}) ? v{a} : v{b}"
        else:
            n = rng.randint(1, 5)
            lines.append(f"    for (int i = 0; i < {n}; i++) v{d} = ({t})(({u})v{d} * 3u + "
                         f"({u})v{a} + ({u})i);")
            continue
        lines.append(f"    v{d} = ({t})({expr});")
    for i, t in enumerate(types):
        if "64" in t:
            lines.append(f"    hal_put_hex((uint32_t)((uint64_t)v{i} >> 32));")
        lines.append(f"    hal_put_hex((uint32_t)v{i}); hal_putc('\\n');")
    lines += ["    return 0;", "}"]
    return "\n".join(lines) + "\n"


def _size(t: str) -> int:
    return {"int8_t": 1, "uint16_t": 2}.get(t, 8 if "64" in t else 4)
