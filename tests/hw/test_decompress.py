# amaranth: UnusedElaboratable=no
"""hw/decompress.py against the reference: rtl_decompress(case) == ref_decompress(case)."""

import random

import pytest
from xdecimate.hw.configs import CONFIGS, XdecHwConfig, supports
from xdecimate.hw.decompress import XdecDecompress, offset_width
from xdecimate.sim.hwsim import rtl_comb
from xdecimate.sw.model import xdec_spec as spec
from xdecimate.sw.model.xdec_ref import IllegalInstruction, xdec_access

_M = spec.field("m_log2")
_N = spec.field("n_log2")
_P = spec.field("p_log2")
_CNT = spec.field("cnt")


def rtl_decompress(cfg: XdecHwConfig, cases: list[tuple[int, int]]) -> list[tuple]:
    """(lane, idx, offset) of the RTL per (csr, rs2) case, or "illegal"."""
    outs = rtl_comb(XdecDecompress(config=cfg),
                    ({"state": csr, "rs2": rs2} for csr, rs2 in cases),
                    ("lane", "idx", "offset", "illegal"))
    return [("illegal",) if o["illegal"] else (o["lane"], o["idx"], o["offset"]) for o in outs]


def ref_decompress(cfg: XdecHwConfig, case: tuple[int, int]) -> tuple:
    """The same from ``xdec_ref.xdec_access`` (rs1 = 0), trapping where ``cfg`` does."""
    csr, rs2 = case
    try:
        acc = xdec_access(csr, 0, rs2)
    except IllegalInstruction:
        return ("illegal",)
    if not supports(cfg, csr):
        return ("illegal",)
    return (acc.lane, acc.idx, acc.offset)


def _cases(seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    cnts = [0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 31, 0x7FFF, 0x8000, 0xFFFC, 0xFFFF]
    rs2s = [0, 0xFFFFFFFF, 0x76543210, 0xE4E4E4E4]
    cases = []
    # every m_log2, n_log2, p_log2 encoding (legal or not), directed counters and index words
    for m_log2 in range(1 << _M.width):
        for n_log2 in range(1 << _N.width):
            for p_log2 in range(1 << _P.width):
                cfg = _P.put(_N.put(_M.put(0, m_log2), n_log2), p_log2)
                for cnt in cnts + [rng.randrange(1 << 16) for _ in range(3)]:
                    rs2 = rng.choice([*rs2s, rng.getrandbits(32)])
                    cases.append((_CNT.put(cfg, cnt), rs2))
    # reserved bits set: illegal whatever the rest
    cases += [(spec.field("reserved").put(0x00020000, 1 << b), 0) for b in range(9)]
    return cases


@pytest.mark.parametrize("name", list(CONFIGS))
def test_decompress_matches_reference(name):
    cfg = CONFIGS[name]
    cases = _cases(seed=hash(name) & 0xFFFF)
    got = rtl_decompress(cfg, cases)
    want = [ref_decompress(cfg, c) for c in cases]
    bad = [(hex(c[0]), hex(c[1]), g, w) for c, g, w in zip(cases, got, want, strict=True)
           if g != w]
    assert not bad, f"{len(bad)} mismatches (csr, rs2, rtl, ref), first: {bad[:5]}"
    # the test exercised both outcomes
    assert any(w == ("illegal",) for w in want)
    assert sum(w != ("illegal",) for w in want) > 100


@pytest.mark.parametrize(("m", "n"), [(m, n) for n, m in spec.PATTERNS])
def test_every_lane_and_index_value(m, n):
    cfg = CONFIGS["full"]
    b = spec.INDEX_BITS[m]
    cases = []
    for p in (1, 2, 4):
        for cnt in range(4 * p * 3):  # three groups, every lane of every stream
            for idx in range(1 << b):
                rs2 = sum(idx << (b * lane) for lane in range(4))
                csr = _CNT.put(_P.put(_N.put(_M.put(0, m.bit_length() - 1), n.bit_length() - 1),
                                      p.bit_length() - 1), cnt)
                cases.append((csr, rs2))
    assert rtl_decompress(cfg, cases) == [ref_decompress(cfg, c) for c in cases]


def test_offset_width_bounds_the_largest_offset():
    for cfg in CONFIGS.values():
        top = ((1 << _CNT.width) - 1) * max(cfg.m) + max(cfg.m) - 1
        assert top < (1 << offset_width(cfg)) <= 2 * top + 1


def test_config_must_be_a_config():
    with pytest.raises(TypeError, match="config must be an XdecHwConfig, not 'full'"):
        XdecDecompress(config="full")


def test_config_is_read_only():
    d = XdecDecompress(config=CONFIGS["paper"])
    assert d.config is CONFIGS["paper"]
    with pytest.raises(AttributeError):
        d.config = CONFIGS["full"]
