"""The ISA table (sw/iss/isa.py): encodings vs llvm-mc and the CV32E40P RTL, round trips, header."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from xdecimate.sw.iss import isa
from xdecimate.sw.kernels import toolchain
from xdecimate.sw.model import xdec_spec

LLVM_MC = shutil.which("llvm-mc-19")
LLVM_ATTRS = "+m,+zicsr,+xcvmem,+xcvsimd,+xcvmac,+xcvalu,+xcvbitmanip"
#: Rows llvm-mc cannot check: hardware loops (not in LLVM 19), ours, and operand-less fences.
NOT_IN_LLVM = {"xcvhwlp", "xdec"}


def _random_ops(row: isa.Insn, rng: random.Random) -> dict[str, int]:
    fmt = isa.FORMATS[row.fmt]
    ops = {}
    for name in row.fields:
        lo, hi = fmt.fields[name]
        v = rng.choice((lo, hi, rng.randint(lo, hi)))
        if row.fmt in ("B", "J") and name == "imm":
            v &= ~1
        ops[name] = v
    return ops


def _text(row: isa.Insn, ops: dict[str, int]) -> str:
    vals = {k: (isa.ABI_NAMES[v] if k in ("rd", "rs1", "rs2", "rs3") else str(v))
            for k, v in ops.items()}
    return f"{row.mnemonic} {row.syntax.format(**vals)}".strip()


def _llvm_rows() -> list[isa.Insn]:
    return [r for r in isa.INSTRUCTIONS
            if r.ext not in NOT_IN_LLVM and r.id not in ("fence", "fence.i")]


@pytest.mark.skipif(LLVM_MC is None, reason="llvm-mc-19 not installed (scripts/bootstrap.sh)")
def test_encodings_match_llvm_mc():
    rng = random.Random(1)
    cases = []
    for row in _llvm_rows():
        for _ in range(4):
            ops = _random_ops(row, rng)
            cases.append((row, ops, _text(row, ops)))
    res = subprocess.run([LLVM_MC, "-triple=riscv32", f"-mattr={LLVM_ATTRS}", "-show-encoding"],
                         input="\n".join(t for _, _, t in cases) + "\n", capture_output=True,
                         text=True, check=True)
    encodings = re.findall(r"encoding: \[([^\]]*)\]", res.stdout)
    assert len(encodings) == len(cases), res.stderr
    for (row, ops, text), enc in zip(cases, encodings, strict=True):
        word = int.from_bytes(bytes(int(b, 16) for b in enc.split(",")), "little")
        ours = row.encode(**ops)
        assert ours == word, f"{text}: ours 0x{ours:08x}, llvm 0x{word:08x}"
    checked = {row.ext for row, _, _ in cases}
    assert {"xcvmem", "xcvsimd", "xcvalu", "xcvmac", "xcvbitmanip", "rv32i", "rv32m",
            "zicsr"} <= checked


def _rtl_decoder() -> str:
    pd = pytest.importorskip("pythondata_cpu_cv32e40p")
    path = Path(pd.__file__).parent / "system_verilog" / "rtl" / "cv32e40p_decoder.sv"
    return path.read_text()


def test_custom_encodings_match_rtl_decoder_case_labels():
    """Every CORE-V row's distinguishing bits appear as the RTL decoder's case label for it."""
    rtl = _rtl_decoder()
    for row in isa.INSTRUCTIONS:
        f7 = row.match >> 25
        if row.ext == "xcvalu" and row.fmt in ("R", "RI5", "R1"):
            assert re.search(rf"5'b{f7 & 31:05b}:.*// {re.escape(row.mnemonic)}\b", rtl), row.id
        elif row.ext == "xcvmac":
            assert f"mult_operator_o = MUL_{'MAC' if row.mnemonic == 'cv.mac' else 'MSU'}32" \
                f";                       // {row.mnemonic}" in rtl
        elif row.ext == "xcvsimd" and row.mnemonic in _SIMD_NON_DOT:
            _check_simd_non_dot(rtl, row)
        elif row.ext == "xcvbitmanip":
            # custom-2 funct3 000: {instr[31:30], instr[12]} labels the operation
            label = f"{{2'b{row.match >> 30:02b}, 1'b{(row.match >> 12) & 1}}}: begin"
            assert re.search(rf"{re.escape(label)}\s*// {re.escape(row.mnemonic)}\n", rtl), \
                row.id
            assert row.match & 0x7F == 0x5B, row.id
            assert (row.match >> 12) & 7 == 0, row.id
        elif row.ext == "xcvsimd":
            name = row.mnemonic.removesuffix(".b")
            label = rf"6'b{f7 >> 2:05b}_{(f7 >> 1) & 1}: begin // {re.escape(name)}\n"
            assert re.search(label, rtl), row.id
            assert f7 & 1 == 0  # bit 25: no immediate (.sci) form
            assert (row.match >> 12) & 7 == 0b001  # bit 12: 8-bit vector mode, normal .b form
        elif row.ext == "xcvhwlp":
            f4 = (row.match >> 8) & 0xF
            name = row.mnemonic.replace("cv.", "lp.")
            assert re.search(rf"4'b{f4:04b}: begin\n\s*// {re.escape(name)}:", rtl), row.id
    # Post-increment / indexed memory forms: the RTL decodes size and sign from these bits.
    for row in isa.INSTRUCTIONS:
        if row.ext != "xcvmem" or row.fmt not in ("R", "RS3"):
            continue
        f7 = row.match >> 25
        assert f"7'b{f7:07b}" in rtl, row.id
        assert bool(f7 & 0x04) == row.id.endswith(".rr")  # bit 27: indexed, no post-increment


#: SIMD rows outside the dot products: the RTL decoder's label comment names them in a list,
#: with the funct3 (vector mode / immediate form) that the label's body accepts.
_SIMD_NON_DOT = {
    "cv.pack": ("cv.pack, cv.pack.h", 0b000), "cv.pack.h": ("cv.pack, cv.pack.h", 0b000),
    "cv.packlo.b": ("cv.packhi, cv.packlo", 0b001), "cv.packhi.b": ("cv.packhi, cv.packlo", 0b001),
    "cv.shuffle.b": ("cv.shuffle, cv.shuffleI0", 0b001),
    "cv.shuffle2.b": ("cv.shuffle2", 0b001),
    "cv.extract.b": ("", 0b001), "cv.extractu.b": ("", 0b011), "cv.insert.b": ("", 0b101),
}


def _check_simd_non_dot(rtl: str, row: isa.Insn) -> None:
    f7 = row.match >> 25
    comment, f3 = _SIMD_NON_DOT[row.mnemonic]
    assert (row.match >> 12) & 7 == f3, row.id
    if comment:
        label = f"6'b{f7 >> 2:05b}_{(f7 >> 1) & 1}: begin // {comment}\n"
        assert label in rtl, row.id
        # bit 25 selects pack.h / packhi, as the label's body says (instr_rdata_i[25] ? HI : LO)
        assert bool(f7 & 1) == (row.mnemonic in ("cv.pack.h", "cv.packhi.b")), row.id
        return
    # cv.extract(u).b / cv.insert.b: label 10111_0, operation in instr[14:13], 8-bit in [12]
    assert f"6'b{f7 >> 2:05b}_{(f7 >> 1) & 1}: begin\n" in rtl, row.id
    op = row.mnemonic.removesuffix(".b")
    assert re.search(rf"2'b{(f3 >> 1):02b}: (alu_operator_o = ALU_\w+;|begin)\s*// "
                     rf"{re.escape(op)}\n", rtl), row.id
    assert f3 & 1 == 1  # instr[12]: 8-bit mode, which keeps instr[24:21] zero (Imm6 restriction)
    assert isa.FORMATS[row.fmt].mask & (0xF << 21) == 0xF << 21


def test_xdec_row_derives_from_xdec_spec():
    for enc in xdec_spec.INSTRUCTIONS:
        row = isa.insn(enc.mnemonic)
        assert (row.match, row.mask) == (enc.match, enc.MASK)
        assert row.reads == enc.reads
        assert row.encode(rd=3, rs1=4, rs2=5) == enc.encode(3, 4, 5)


def test_decode_inverts_encode_for_every_row():
    rng = random.Random(2)
    for row in isa.INSTRUCTIONS:
        for _ in range(20):
            ops = _random_ops(row, rng)
            d = isa.decode(row.encode(**ops))
            assert d is not None, row.id
            assert (d.insn, d.ops) == (row, ops)


def test_no_word_matches_two_rows():
    rng = random.Random(3)
    words = [rng.getrandbits(32) for _ in range(20000)]
    words += [r.match | (rng.getrandbits(32) & ~r.mask)
              for r in isa.INSTRUCTIONS for _ in range(50)]
    for w in words:
        assert sum(r.matches(w) for r in isa.INSTRUCTIONS) <= 1, f"0x{w:08x}"


def test_assemble_inverts_disassemble():
    rng = random.Random(4)
    for row in isa.INSTRUCTIONS:
        for _ in range(5):
            ops = _random_ops(row, rng)
            word = row.encode(**ops)
            assert isa.assemble(isa.disassemble(word)) == [word], isa.disassemble(word)


def test_assembler_labels_and_pseudos():
    words = isa.assemble("""
        start: li a0, 0x12345678
               cv.setup 1, a0, end
               j start
        end:   ret
    """, base=0x100)
    assert words[0:2] == isa.assemble("lui a0, 0x12345\naddi a0, a0, 0x678")
    assert isa.decode(words[2]).ops == {"L": 1, "rs1": 10, "uimm": 2}  # (0x110 - 0x108) / 4
    assert isa.decode(words[3]).ops == {"rd": 0, "imm": -12}
    assert words[4] == isa.encode("jalr", rd=0, rs1=1, imm=0)


def test_encode_rejects_bad_operands():
    with pytest.raises(ValueError, match=r"imm must be an integer in -2048\.\.2047, not 4096"):
        isa.encode("addi", rd=1, rs1=2, imm=4096)
    with pytest.raises(ValueError, match="operands must be"):
        isa.encode("add", rd=1, rs1=2)
    with pytest.raises(ValueError, match="branch offset must be even"):
        isa.encode("beq", rs1=1, rs2=2, imm=3)
    with pytest.raises(isa.AsmError, match="line 1"):
        isa.assemble("frobnicate a0")
    with pytest.raises(isa.AsmError, match="expects a number, not register"):
        isa.assemble("addi a0, a1, a2")


def test_decode_unknown_word_is_none():
    assert isa.decode(0xFFFF_FFFF) is None
    assert isa.decode(0x0000_0000) is None
    assert isa.disassemble(0) == ".word 0x00000000"


def test_committed_c_header_is_generated_output():
    assert toolchain.c_header_path().read_text() == isa.c_header(), (
        "sw/kernels/c/xdecimate.h is stale: run `python -m xdecimate.sw.kernels.toolchain header`")
    first = toolchain.c_header_path().read_text().splitlines()[0]
    assert "GENERATED" in first


def test_header_covers_every_custom_row():
    header = isa.c_header()
    for row in isa.INSTRUCTIONS:
        if row.ext in ("rv32i", "rv32m", "zicsr"):
            continue
        assert f"/* {row.mnemonic} " in header, row.id
    assert '"+r"(rd)' in header.split("xdec_lb(")[1]  # xdec.lb reads rd
