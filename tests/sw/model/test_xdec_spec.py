"""The spec table is self-consistent and the docs quote it verbatim."""

import pytest
from xdecimate.sw.model import xdec_spec as spec

from xdecimate.cmd_spec import DOC, render_doc


def test_docs_quote_the_table():
    text = DOC.read_text()
    assert render_doc(text) == text, "docs/xdecimate.md is stale: xdecimate spec --write-docs"


def test_trap_table_names_every_illegal_field_value():
    """The (hand-written) trap table of the docs lists every CSR field with a legal set."""
    traps = DOC.read_text().split("## Traps", 1)[1].split("\n## ", 1)[0]
    for f in spec.CSR_FIELDS:
        if f.legal == (0,):
            assert f"`{f.name} ≠ 0`" in traps, f.name
        elif f.legal is not None:
            assert f"`{f.name} ∉ {{{','.join(map(str, f.legal))}}}`" in traps, f.name


def test_docs_tables_mention_every_field_and_instruction():
    text = DOC.read_text()
    for f in spec.CSR_FIELDS:
        assert f"`{f.name}`" in text
    for e in spec.INSTRUCTIONS:
        assert f"`{e.mnemonic} {e.operands}`" in text


def test_csr_fields_tile_32_bits_without_overlap():
    covered = 0
    for f in spec.CSR_FIELDS:
        assert covered & f.mask == 0, f.name
        covered |= f.mask
    assert covered == 0xFFFFFFFF


def test_reset_is_illegal_so_unconfigured_use_traps():
    m = spec.field("m_log2")
    assert m.get(spec.CSR_RESET) not in m.legal


def test_encoding_roundtrip_and_mask():
    e = spec.instruction("xdec.lb")
    word = e.encode(rd=5, rs1=10, rs2=31)
    assert e.matches(word)
    assert (word >> 7) & 31 == 5
    assert (word >> 15) & 31 == 10
    assert (word >> 20) & 31 == 31
    assert word & 0x7F == 0x2B
    assert (word >> 12) & 7 == 0b110
    assert not e.matches(word | (1 << 25))  # funct7 != 0 is reserved


def test_encoding_matches_gnu_insn_form():
    # `.insn r CUSTOM_1, 6, 0, t4, a2, t3` assembles to this word (riscv64-unknown-elf-as 2.40).
    assert spec.instruction("xdec.lb").encode(rd=29, rs1=12, rs2=28) == 0x01C66EAB


@pytest.mark.parametrize(("bad", "exc", "msg"), [
    (-1, ValueError, "rd must be a register number 0..31, not -1"),
    (32, ValueError, "rd must be a register number 0..31, not 32"),
    (3.0, TypeError, "rd must be an integer, not float 3.0"),
    (None, TypeError, "rd must be an integer, not NoneType None"),
    (True, TypeError, "rd must be an integer, not the bool True"),
])
def test_encode_rejects_bad_registers(bad, exc, msg):
    with pytest.raises(exc, match=msg):
        spec.instruction("xdec.lb").encode(rd=bad, rs1=1, rs2=2)


def test_unknown_names():
    with pytest.raises(KeyError, match="nope"):
        spec.instruction("nope")
    with pytest.raises(KeyError, match="nope"):
        spec.field("nope")


def test_patterns_and_index_bits():
    assert {m for _, m in spec.PATTERNS} == set(spec.INDEX_BITS) == {4, 8, 16}
    assert spec.INDEX_BITS == {4: 2, 8: 4, 16: 4}
