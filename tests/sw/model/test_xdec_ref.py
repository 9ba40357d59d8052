"""The executable xDecimate reference: directed cases, properties, traps."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from xdecimate.sw.model import xdec_spec as spec
from xdecimate.sw.model.xdec_ref import (
    IllegalInstruction,
    XdecConfig,
    csr_pack,
    csr_write,
    xdec_access,
    xdec_lb,
)

CONFIGS = [(m, n, p) for n, m in spec.PATTERNS for p in (1, 2, 4)]
MEM = bytes((i * 7 + 3) & 0xFF for i in range(1 << 16))


def test_csr_pack_field_positions():
    csr = csr_pack(m=16, n=2, p=4, cnt=0x1234)
    assert csr == 0x1234 | (4 << 16) | (1 << 19) | (2 << 21)


@pytest.mark.parametrize(("kw", "msg"), [
    ({"m": 5, "n": 1}, "M must be one of"),
    ({"m": 32, "n": 1}, "M must be one of"),
    ({"m": 4, "n": 4}, "N must be one of"),
    ({"m": 4, "n": 1, "p": 3}, "P must be one of"),
    ({"m": 4, "n": 1, "cnt": 1 << 16}, "cnt must be in"),
    ({"m": 4, "n": 1, "cnt": -1}, "cnt must be in"),
])
def test_csr_pack_rejects(kw, msg):
    with pytest.raises(ValueError, match=msg):
        csr_pack(**kw)


def test_p1_sequence_1_8():
    # Row of 1:8 with index unit 0x7013: lanes take positions 3, 1, 0, 7 of blocks 0..3.
    csr = csr_pack(m=8, n=1, p=1)
    rd, addrs = 0, []
    for _ in range(4):
        r = xdec_lb(csr, 0x100, 0x7013, rd, MEM)
        rd, csr = r.rd, r.csr
        addrs.append(r.addr)
    assert addrs == [0x100 + 3, 0x100 + 8 + 1, 0x100 + 16 + 0, 0x100 + 24 + 7]
    assert rd == int.from_bytes(bytes(MEM[a] for a in addrs), "little")
    assert csr == csr_pack(m=8, n=1, p=1, cnt=4)
    # next group: block offset continues at 4·M
    assert xdec_access(csr, 0x100, 0x0).addr == 0x100 + 32


def test_p2_interleaves_streams_lane_by_lane():
    csr = csr_pack(m=4, n=1, p=2)
    seen = []
    for _ in range(8):
        a = xdec_access(csr, 0, 0b11100100)  # fields 0, 1, 2, 3
        seen.append((a.lane, a.j, a.offset))
        csr = xdec_lb(csr, 0, 0b11100100, 0, MEM).csr
    assert seen == [(0, 0, 0), (0, 0, 0), (1, 1, 5), (1, 1, 5),
                    (2, 2, 10), (2, 2, 10), (3, 3, 15), (3, 3, 15)]
    assert xdec_access(csr, 0, 0).j == 4  # group 1 starts after 4·P instructions


def test_p4_group_length():
    csr = csr_pack(m=16, n=1, p=4, cnt=15)
    assert xdec_access(csr, 0, 0).j == 3
    assert xdec_access(csr_pack(m=16, n=1, p=4, cnt=16), 0, 0).j == 4


def test_n2_two_slots_per_block():
    csr = csr_pack(m=4, n=2, p=1)
    offs = []
    for _ in range(4):
        offs.append(xdec_access(csr, 0, 0b11_00_10_01).offset)  # fields 1, 2, 0, 3
        csr = xdec_lb(csr, 0, 0b11_00_10_01, 0, MEM).csr
    assert offs == [1, 2, 4, 7]


def test_m8_ignores_reserved_top_bit_of_field():
    csr = csr_pack(m=8, n=1, p=1)
    assert xdec_access(csr, 0, 0xF).idx == 7
    assert xdec_access(csr_pack(m=16, n=1, p=1), 0, 0xF).idx == 15


@pytest.mark.parametrize("lane", range(4))
def test_lane_merge_keeps_other_lanes(lane):
    csr = csr_pack(m=4, n=1, p=1, cnt=lane)
    r = xdec_lb(csr, 0, 0, 0x11223344, lambda a: 0xAB)
    expect = (0x11223344 & ~(0xFF << 8 * lane)) | (0xAB << 8 * lane)
    assert r.rd == expect


def test_counter_wraps_mod_2_16():
    csr = csr_pack(m=4, n=1, cnt=0xFFFF)
    assert xdec_lb(csr, 0, 0, 0, lambda a: 0).csr == csr_pack(m=4, n=1, cnt=0)


def test_address_wraps_mod_2_32():
    csr = csr_pack(m=16, n=1, cnt=4)  # j = 4: block 4, offset 64
    assert xdec_access(csr, 0xFFFF_FFF8, 0).addr == (0xFFFF_FFF8 + 64) & 0xFFFF_FFFF


@pytest.mark.parametrize(("field_name", "value"), [
    ("m_log2", 0), ("m_log2", 1), ("m_log2", 5), ("m_log2", 7),
    ("n_log2", 2), ("n_log2", 3), ("p_log2", 3)])
def test_illegal_config_traps_without_side_effects(field_name, value):
    csr = spec.field(field_name).put(csr_pack(m=4, n=1), value)
    touched = []
    with pytest.raises(IllegalInstruction, match=f"xdec.{field_name} = {value}"):
        xdec_lb(csr, 0, 0, 0, lambda a: touched.append(a) or 0)
    assert touched == []  # no memory access before the trap


def test_reset_value_traps():
    with pytest.raises(IllegalInstruction, match="m_log2 = 0"):
        xdec_lb(spec.CSR_RESET, 0, 0, 0, MEM)


def test_csr_write_drops_reserved_bits_and_keeps_illegal_values():
    assert csr_write(0xFFFF_FFFF) == spec.CSR_WRITE_MASK
    stored = csr_write(7 << 16)  # m_log2 = 7 is stored (writes never trap) ...
    with pytest.raises(IllegalInstruction):  # ... and traps at use
        XdecConfig.from_csr(stored)


def test_memory_must_return_bytes():
    with pytest.raises(ValueError, match="not a byte"):
        xdec_lb(csr_pack(m=4, n=1), 0, 0, 0, lambda a: 300)


@given(cfg=st.sampled_from(CONFIGS), groups=st.integers(1, 64), rs1=st.integers(0, 2**31),
       rs2=st.integers(0, 2**32 - 1), data=st.data())
def test_address_bound_holds_for_any_index_data(cfg, groups, rs1, rs2, data):
    m, n, p = cfg
    nnz = 4 * groups
    k_pad = nnz // n * m
    cnt = data.draw(st.integers(0, p * nnz - 1))
    a = xdec_access(csr_pack(m=m, n=n, p=p, cnt=cnt), rs1, rs2)
    assert rs1 <= a.addr <= rs1 + k_pad - 1


@given(cfg=st.sampled_from(CONFIGS), cnt=st.integers(0, 2**16 - 1),
       rs1=st.integers(0, 2**32 - 1), rs2=st.integers(0, 2**32 - 1),
       rd=st.integers(0, 2**32 - 1))
def test_exactly_one_lane_changes_and_counter_increments(cfg, cnt, rs1, rs2, rd):
    m, n, p = cfg
    csr = csr_pack(m=m, n=n, p=p, cnt=cnt)
    r = xdec_lb(csr, rs1, rs2, rd, lambda a: (a * 31 + 1) & 0xFF)
    lane = (cnt // p) % 4
    assert (r.rd ^ rd) & ~(0xFF << 8 * lane) == 0
    assert (r.rd >> 8 * lane) & 0xFF == (r.addr * 31 + 1) & 0xFF
    assert spec.field("cnt").get(r.csr) == (cnt + 1) % (1 << 16)
    assert r.csr & ~0xFFFF == csr & ~0xFFFF


@given(cfg=st.sampled_from(CONFIGS), cnt=st.integers(0, 2**16 - 1),
       rs1=st.integers(0, 2**32 - 1), rs2=st.integers(0, 2**32 - 1))
def test_fast_path_equals_reference_arithmetic(cfg, cnt, rs1, rs2):
    from xdecimate.sw.model.xdec_ref import _agen

    csr = csr_pack(m=cfg[0], n=cfg[1], p=cfg[2], cnt=cnt)
    lane, _, _, _, addr = _agen(csr, rs1, rs2)
    r = xdec_lb(csr, rs1, rs2, 0, lambda a: 0xFF)  # xdec_lb's inlined shift arithmetic
    assert (r.addr, r.rd) == (addr, 0xFF << 8 * lane)
