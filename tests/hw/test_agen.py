# amaranth: UnusedElaboratable=no
"""hw/agen.py against the reference: rtl_agen(case) == ref_agen(case)."""

import random

import pytest
from xdecimate.hw.agen import XdecAgen
from xdecimate.hw.configs import CONFIGS
from xdecimate.hw.decompress import offset_width
from xdecimate.sim.hwsim import rtl_comb
from xdecimate.sw.model import xdec_spec as spec
from xdecimate.sw.model.xdec_ref import csr_pack, xdec_access

WIDTH = offset_width(CONFIGS["full"])


def rtl_agen(cases: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """(addr, byte_off, be) of the RTL for each (csr, rs1, rs2), fed the reference offset."""
    outs = rtl_comb(XdecAgen(offset_width=WIDTH),
                    ({"base": rs1, "offset": xdec_access(csr, rs1, rs2).offset}
                     for csr, rs1, rs2 in cases),
                    ("addr", "byte_off", "be"))
    return [(o["addr"], o["byte_off"], o["be"]) for o in outs]


def ref_agen(case: tuple[int, int, int]) -> tuple[int, int, int]:
    """The byte address of ``xdec_ref.xdec_access``, its byte in the word, a one-hot enable."""
    addr = xdec_access(*case).addr
    return (addr, addr % 4, 1 << (addr % 4))


def _cases() -> list[tuple[int, int, int]]:
    rng = random.Random(3)
    bases = [0, 1, 2, 3, 0x100000, 0x7FFFFFFF, 0xFFFFFFFC, 0xFFFFFFFF, 0xFFF00001]
    cases = []
    for n, m in spec.PATTERNS:
        for p in (1, 2, 4):
            for cnt in (0, 1, 5, 0xFFFF, 0xFFFE, rng.randrange(1 << 16)):
                csr = csr_pack(m=m, n=n, p=p, cnt=cnt)
                cases += [(csr, rs1, rng.getrandbits(32))
                          for rs1 in [*bases, *(rng.getrandbits(32) for _ in range(4))]]
    return cases


def test_agen_matches_reference():
    cases = _cases()
    want = [ref_agen(c) for c in cases]
    assert rtl_agen(cases) == want
    assert any(a < c[1] for (a, _, _), c in zip(want, cases, strict=True))  # wrap-around seen
    assert {w[1] for w in want} == {0, 1, 2, 3}


def test_maximum_offset_wraps_modulo_2_32():
    csr = csr_pack(m=16, n=1, p=1, cnt=0xFFFF)
    case = (csr, 0xFFFFFFFF, 0xF000)  # lane 3, idx 15: offset 0xFFFFF
    assert rtl_agen([case]) == [ref_agen(case)] == [(0xFFFFE, 2, 0b0100)]


@pytest.mark.parametrize(("width", "exc", "msg"), [
    (0, ValueError, "offset_width must be in 1..32, not 0"),
    (33, ValueError, "offset_width must be in 1..32, not 33"),
    ("20", TypeError, "offset_width must be an integer, not '20'"),
    (True, TypeError, "offset_width must be an integer, not True"),
])
def test_offset_width_validated(width, exc, msg):
    with pytest.raises(exc, match=msg.replace(".", r"\.")):
        XdecAgen(offset_width=width)


def test_offset_width_is_read_only():
    a = XdecAgen(offset_width=12)
    assert a.offset_width == 12
    assert len(a.offset) == 12
    with pytest.raises(AttributeError):
        a.offset_width = 13
