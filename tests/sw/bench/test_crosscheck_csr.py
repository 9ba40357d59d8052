"""Every CSR address on the ISS and on the CV32E40P RTL (sw/bench/crosscheck.py CSR scans):
which ones exist, what they read, what their writes keep (write masks), and exactly the
differences docs/iss.md lists ("CSRs")."""

from __future__ import annotations

import struct
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st
from xdecimate.sw.bench import crosscheck as xc
from xdecimate.sw.iss import isa, iss, memmap
from xdecimate.sw.iss.iss import Iss
from xdecimate.sw.model import xdec_spec

MISA, MEPC, XDEC = 0x301, 0x341, xdec_spec.CSR_ADDR
#: The documented differences (docs/iss.md): misa's C bit, mepc bit 1 (IALIGN = 32 on the
#: ISS, 16 on the CV32E40P), and the xDecimate CSR (the CV32E40P has none).
DIFFERENT = (MISA, MEPC, XDEC)
MODES = {"loops+blocks": {}, "blocks": {"compile_loops": False},
         "one-instruction": {"max_block": 1, "compile_loops": False}}
#: mhpmevent3..31 go last in the write scan: selecting events (writing all ones to
#: mhpmevent3) makes the RTL's mhpmcounter3 count, which the ISS does not model.
EVENTS = range(0x323, 0x340)


@cache
def _read_scan(addrs: tuple[int, ...]) -> xc.Comparison:
    return xc.compare(xc.csr_scan_elf(addrs))


@cache
def _existing() -> tuple[int, ...]:
    """Every CSR that a read does not trap on, on the RTL or on the ISS."""
    elf = xc.csr_scan_elf()
    c = _read_scan(tuple(xc.CSR_ADDRESSES))
    rtl, got = xc.csr_scan_results(elf, c.rtl), xc.csr_scan_results(elf, c.iss)
    return tuple(a for a in xc.CSR_ADDRESSES
                 if not isinstance(rtl[a], int) or not isinstance(got[a], int))


def _write_order(addrs) -> tuple[int, ...]:
    addrs = list(addrs)
    return tuple([a for a in addrs if a not in EVENTS] + [a for a in addrs if a in EVENTS])


@cache
def _write_scan(addrs: tuple[int, ...], mode: str = "loops+blocks") -> xc.Comparison:
    def run(elf):
        return iss.run_elf(elf, **MODES[mode])
    return xc.compare(xc.csr_scan_elf(addrs, write=True), iss_run=run)


def test_read_scan_of_every_csr_agrees_exactly():
    addrs = tuple(a for a in xc.CSR_ADDRESSES if a not in DIFFERENT)
    c = _read_scan(addrs)
    assert c.equal, c.report()  # exit, stdout, every value read (memory), instret, cycles
    res = xc.csr_scan_results(xc.csr_scan_elf(addrs), c.iss, addrs)
    exist = {a for a, v in res.items() if not isinstance(v, int)}
    assert all(res[a] == 2 for a in set(addrs) - exist)  # the others are illegal instructions
    # what the CV32E40P v1.8.3 (COREV_PULP, 1 hpm counter, triggers) has, and the ISS now too
    assert exist == ({0x300, 0x304, 0x305, 0x320, 0x340, 0x342, 0x343, 0x344}
                     | set(range(0x323, 0x340)) | {0x7A0, 0x7A1, 0x7A2, 0x7A3, 0x7A4, 0x7A8, 0x7AA}
                     | set(range(0xB00, 0xB20)) - {0xB01} | set(range(0xB80, 0xBA0)) - {0xB81}
                     | set(range(0xC00, 0xC20)) - {0xC01} | set(range(0xC80, 0xCA0)) - {0xC81}
                     | {0xCC0, 0xCC1, 0xCC2, 0xCC4, 0xCC5, 0xCC6, 0xCD0, 0xCD1, 0xCD2}
                     | {0xF11, 0xF12, 0xF13, 0xF14})
    assert [res[a] for a in (0xF11, 0xF12, 0xF13, 0xF14)] == [(0x602,), (4,), (1,), (0,)]
    assert [res[a] for a in (0x7A1, 0x7A4, 0xCD1)] == [(0x2800_1040,), (4,), (3,)]
    assert res[0x7B0] == 2  # dcsr: only in debug mode


def test_read_scan_documented_differences():
    addrs = (MISA, XDEC)
    elf = xc.csr_scan_elf(addrs)
    c = _read_scan(addrs)
    rtl, got = xc.csr_scan_results(elf, c.rtl, addrs), xc.csr_scan_results(elf, c.iss, addrs)
    assert rtl[MISA] == (iss.MISA | 1 << 2,)  # C: the CV32E40P has compressed instructions
    assert got[MISA] == (iss.MISA,)
    assert (rtl[XDEC], got[XDEC]) == (2, (xdec_spec.CSR_RESET,))  # xDecimate is ours
    # the RTL's extra trap is its only other consequence (handler instructions and cycles)
    assert [d.split(" (")[0].split(":")[0] for d in c.differences] == [
        "data memory differs first at 0x00100000", "instret", "cycles"]


def test_write_scan_of_every_csr_agrees_exactly():
    addrs = _write_order(a for a in _existing() if a not in DIFFERENT)
    assert len(addrs) == len(_existing()) - len(DIFFERENT) == 181
    c = _write_scan(addrs)
    assert c.equal, c.report()
    res = xc.csr_scan_results(xc.csr_scan_elf(addrs, write=True), c.rtl, addrs, write=True)
    # (read back after writing all ones, after writing zero), measured on the RTL
    assert res[0x300] == (0x1888, 0x1800)  # mstatus: MIE, MPIE; MPP fixed to M
    assert res[0x304] == (0xFFFF_0888, 0)  # mie
    assert res[0x305] == (0xFFFF_FF01, 0)  # mtvec: base[31:8], vectored mode bit
    assert res[0x342] == (0x8000_001F, 0)  # mcause
    assert res[0x323] == (0xFFFF, 0)  # mhpmevent3
    assert res[0xB03] == res[0xB83] == (0xFFFF_FFFF, 0)  # mhpmcounter3(h)
    assert res[0xB04] == res[0x324] == res[0x7A2] == (0, 0)  # writes ignored
    assert res[0x7A1] == (0x2800_1040, 0x2800_1040)  # tdata1: writable in debug mode only
    assert all(res[a] == 2 for a in addrs if a >= 0xC00)  # read-only: a write traps


@pytest.mark.parametrize("mode", ["blocks", "one-instruction"])
def test_write_scan_agrees_in_every_iss_mode(mode):
    addrs = _write_order(a for a in _existing() if a not in DIFFERENT)
    assert _write_scan(addrs, mode).equal


def test_write_scan_documented_differences():
    addrs = DIFFERENT
    elf = xc.csr_scan_elf(addrs, write=True)
    c = _write_scan(addrs)
    rtl = xc.csr_scan_results(elf, c.rtl, addrs, write=True)
    got = xc.csr_scan_results(elf, c.iss, addrs, write=True)
    assert (rtl[MISA], got[MISA]) == ((iss.MISA | 4,) * 2, (iss.MISA,) * 2)
    assert (rtl[MEPC], got[MEPC]) == ((0xFFFF_FFFE, 0), (0xFFFF_FFFC, 0))  # IALIGN 16 vs 32
    assert (rtl[XDEC], got[XDEC]) == (2, (xdec_spec.CSR_WRITE_MASK, 0))


def test_hpm_events_count_on_the_rtl_only():
    # mhpmevent3 selects events for mhpmcounter3; the ISS keeps the selection but counts
    # nothing (docs/iss.md).  Event 0 = cycles, 1 = retired instructions.
    code = ("csrw mhpmcounter3, zero\nli a4, 1\ncsrw mhpmevent3, a4\nnop\nnop\nnop\n"
            "csrw mhpmevent3, zero\ncsrr a5, mhpmcounter3\nsw a5, 0(s11)\n"
            "li a4, 2\ncsrw mhpmevent3, a4\nnop\nnop\ncsrw mhpmevent3, zero\n"
            "csrr a5, hpmcounter3\nsw a5, 4(s11)\ncsrr a5, mhpmevent3\nsw a5, 8(s11)")
    c = xc.compare(xc.snippet_elf([code]))
    iss_words = struct.unpack("<3I", c.iss.memory[:12])
    rtl_words = struct.unpack("<3I", c.rtl.memory[:12])
    # RTL: 3 nops + the 4 cycles of the slow csrw until its write; then + 3 instructions
    assert rtl_words == (3 + 4, 3 + 4 + 3, 0)
    assert iss_words == (0, 0, 0)
    assert [d.split(" (")[0] for d in c.differences] == [
        "data memory differs first at 0x00100000"]


@cache
def _masks() -> dict[int, tuple[int, int]]:
    """(ones, zeros) read back on the RTL for the CSRs whose contents do not change by
    themselves (no counters)."""
    addrs = tuple(a for a in _write_order(_existing())
                  if a not in DIFFERENT and not 0xB00 <= a < 0xBA0 and a != 0x320)
    res = xc.csr_scan_results(xc.csr_scan_elf(addrs, write=True), _write_scan(addrs).rtl,
                              addrs, write=True)
    return {a: v for a, v in res.items() if not isinstance(v, int)}


@given(data=st.data())
def test_iss_write_masks_match_the_rtl_for_any_value(data):
    # WARL: the value read back is (v & mask) | fixed, with mask and fixed from the RTL scan
    masks = _masks()
    addr = data.draw(st.sampled_from(sorted(masks)))
    value = data.draw(st.integers(0, 0xFFFF_FFFF))
    ones, zeros = masks[addr]
    sim = Iss()
    prog = f"li a1, {value}\ncsrw 0x{addr:03x}, a1\ncsrr a2, 0x{addr:03x}\n" \
           f"li t6, {memmap.MMIO_EXIT}\nsw a2, 0(t6)"
    sim.load_words(isa.assemble(prog, memmap.BOOT_ADDR))
    assert sim.run(max_instructions=100).exit_code == (value & ones & ~zeros) | zeros


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda: xc.csr_scan_program([0x1000]), ValueError, r"in 0..0xfff, not 4096"),
    (lambda: xc.csr_scan_program([0x300, -1]), ValueError, r"in 0..0xfff, not -1"),
    (lambda: xc.csr_scan_program(["0x300"]), TypeError, r"in 0..0xfff, not '0x300'"),
    (lambda: xc.csr_scan_program([True]), TypeError, r"in 0..0xfff, not True"),
    (lambda: xc.snippet_program(["nop"], handler=1), ValueError,
     r"handler must be False, True or 'record', not 1"),
    (lambda: xc.snippet_program(["nop"], handler="log"), ValueError,
     r"handler must be False, True or 'record', not 'log'"),
])
def test_scan_and_snippet_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
