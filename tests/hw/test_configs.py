"""hw/configs.py: the named configuration table and its validation."""

import pytest
from xdecimate.hw.configs import CONFIGS, DEFAULT_CONFIG, XdecHwConfig, config, supports
from xdecimate.sw.model import xdec_spec as spec
from xdecimate.sw.model.xdec_ref import csr_pack


def test_table():
    assert set(CONFIGS) == {"full", "paper", "m4only"}
    assert DEFAULT_CONFIG in CONFIGS
    full = CONFIGS["full"]
    assert full.patterns == spec.PATTERNS
    assert (full.m, full.n, full.p) == ((4, 8, 16), (1, 2), (1, 2, 4))
    assert CONFIGS["paper"].patterns == ((1, 4), (1, 8), (1, 16))
    assert CONFIGS["paper"].p == (1, 2)
    assert CONFIGS["m4only"].index_bits == (2,)
    assert full.m_log2 == (2, 3, 4)


@pytest.mark.parametrize(("kw", "exc", "msg"), [
    ({"name": "x y"}, TypeError, "configuration name must be an identifier string, not 'x y'"),
    ({"m": (4, 32)}, ValueError, r"M set may only hold values in \(4, 8, 16\), not \(4, 32\)"),
    ({"n": ()}, ValueError, r"N set must not be empty, not \(\)"),
    ({"p": (2, 1)}, ValueError, r"P set must be sorted without duplicates, not \(2, 1\)"),
    ({"p": [1, 2]}, TypeError, r"P set must be a tuple of ints, not \[1, 2\]"),
])
def test_validation(kw, exc, msg):
    args = {"name": "t", "m": (4,), "n": (1,), "p": (1,), **kw}
    with pytest.raises(exc, match=msg):
        XdecHwConfig(**args)


def test_lookup():
    assert config("paper") is CONFIGS["paper"]
    with pytest.raises(ValueError, match=r"configuration must be one of .*, not 'huge'"):
        config("huge")


def test_supports_is_the_trap_rule():
    paper = CONFIGS["paper"]
    assert supports(paper, csr_pack(m=16, n=1, p=2, cnt=77))
    assert not supports(paper, csr_pack(m=16, n=2, p=2))  # N = 2 is legal, not implemented
    assert not supports(paper, csr_pack(m=16, n=1, p=4))
    assert not supports(CONFIGS["m4only"], csr_pack(m=8, n=1))
    assert not supports(CONFIGS["full"], spec.CSR_RESET)  # m_log2 = 0
    assert not supports(CONFIGS["full"], csr_pack(m=4, n=1) | 1 << 31)  # reserved bit
