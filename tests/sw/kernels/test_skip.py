"""Skipping kernels (xdec_skip, xdec4_skip, sw4_skip, dense_4x2_skip): bit-exact, and what a
skipped unit saves.

The skip kernels walk the skip image (sw/model/nm_skip.py) and never visit an all-zero group
of 4 NZ slots.  Measured on the ISS (cycle-exact with the CV32E40P RTL, tests/sim): a group
skipped at the end of a run saves exactly one loop-0 body per row and pixel chunk (12 cycles
for the 1 x 2 loop, 22 for the 1 x 4, 28 for the software-sparse 1 x 4), one that splits a run
saves the body minus the new run's set-up (6 cycles with a counter re-base, 5 for sw4_skip's
group-base add); docs/kernels.md "Group skipping".
"""

from __future__ import annotations

import numpy as np
import pytest
from xdecimate.sw.kernels import harness as ck
from xdecimate.sw.model.nm_format import Pattern
from xdecimate.sw.model.quant import choose_requant

#: M = 4 (byte index units), M = 16 (halfword units) and N = 2: every path of the loops (the
#: skip image is pattern-agnostic, tests/sw/model/test_nm_skip.py walks all six).
PATTERNS = ("1:4", "1:16", "2:8")
BODY = {"xdec_skip": 12, "xdec4_skip": 22, "sw4_skip": 28}
RUN_COST = {"xdec_skip": 6, "xdec4_skip": 6, "sw4_skip": 5}


def zero_groups(case: ck.LayerCase, groups: list[tuple[int, int]] | float, seed: int = 0
                ) -> ck.LayerCase:
    """``case`` with the (row, group) spans of 4·M/N columns zeroed (a float: that share of
    all groups at random), a requantization with headroom for the changed sums."""
    w = case.w.copy()
    span = case.pattern.k_quantum
    ngroups = -(-w.shape[1] // span)
    if isinstance(groups, float):
        rng = np.random.default_rng(seed)
        groups = [(r, g) for r in range(w.shape[0]) for g in range(ngroups)
                  if rng.random() < groups]
    for r, g in groups:
        w[r, g * span:(g + 1) * span] = 0
    rq = choose_requant(max(1, 4 * int(np.abs(case.w.astype(np.int64)).sum(axis=1).max())
                            * 255))
    return ck.LayerCase(case.shape, case.pattern, case.x, w, case.bias, rq)


SHAPES = (ck.FCShape(k=200, cout=9, tokens=7, name="fc_odd"),
          ck.ConvShape(h=5, w=5, cin=16, cout=6, kh=3, kw=3, pad=1, name="conv3"))


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_skip_kernels_are_bit_exact(shape, pattern):
    case = zero_groups(ck.make_case(shape, pattern), 0.4, seed=len(pattern))
    case.w[0] = 0  # a row of zero groups: the kernels still run one (zero) group
    case = ck.LayerCase(case.shape, case.pattern, case.x, case.w, case.bias, case.rq)
    assert case.skip.skipped_groups > 0
    for kernel in ck.SKIP_KERNELS:
        assert ck.run_kernel(case, kernel).bit_exact


@pytest.mark.parametrize(("kernel", "tokens"), [("xdec_skip", 2), ("xdec4_skip", 4),
                                               ("sw4_skip", 4)])
@pytest.mark.parametrize("pattern", ["1:4", "2:16"])
def test_a_skipped_group_costs_nothing_and_a_new_run_a_few_cycles(kernel, tokens, pattern):
    span = Pattern.parse(pattern).k_quantum
    rows = 5
    case = ck.make_case(ck.FCShape(k=8 * span, cout=rows, tokens=tokens), pattern)

    def cycles(groups: list[int]) -> int:
        c = zero_groups(case, [(r, g) for r in range(rows) for g in groups])
        return ck.run_kernel(c, kernel).kernel_cycles

    full = cycles([])
    body = BODY[kernel]
    assert full - cycles([7]) == rows * body          # the run gets shorter
    assert full - cycles([6, 7]) == rows * 2 * body
    assert full - cycles([0]) == rows * body          # the run starts later
    run = RUN_COST[kernel]
    assert full - cycles([3]) == rows * (body - run)        # two runs
    assert full - cycles([2, 5]) == rows * 2 * (body - run)  # three runs


def test_skip_overhead_over_the_plain_kernels_is_per_row():
    """With nothing to skip, a skip kernel pays its header, one re-base and the row branch."""
    for kernel, plain, tokens in (("xdec_skip", "xdec", 2), ("xdec4_skip", "xdec4", 4)):
        extra = []
        for rows in (4, 8):
            case = ck.make_case(ck.FCShape(k=64, cout=rows, tokens=tokens), "1:8")
            extra.append(ck.run_kernel(case, kernel).kernel_cycles
                         - ck.run_kernel(case, plain).kernel_cycles)
        per_row = (extra[1] - extra[0]) / 4
        assert per_row == 16, (kernel, extra)


# --------------------------------------------------------------------------------------------
# dense_4x2_skip: the unit is one word (4 columns) of a quad of rows


def zero_units(case: ck.LayerCase, units: list[tuple[int, int]] | float, seed: int = 0
               ) -> ck.LayerCase:
    """``case`` with the (quad, word) units zeroed (a float: that share at random)."""
    w = case.w.copy()
    nw = -(-w.shape[1] // 4)
    if isinstance(units, float):
        rng = np.random.default_rng(seed)
        units = [(q, j) for q in range(w.shape[0] // 4) for j in range(nw)
                 if rng.random() < units]
    for q, j in units:
        w[4 * q:4 * q + 4, 4 * j:4 * j + 4] = 0
    rq = choose_requant(max(1, 4 * int(np.abs(case.w.astype(np.int64)).sum(axis=1).max())
                            * 255))
    return ck.LayerCase(case.shape, case.pattern, case.x, w, case.bias, rq)


@pytest.mark.parametrize("shape", [*SHAPES, ck.FCShape(k=32, cout=3, tokens=3, name="fc_tiny")],
                         ids=lambda s: s.name)
def test_dense_skip_kernel_is_bit_exact(shape):
    """Dense weights (make_case prunes to 1:4; the dense kernels read the plain matrix), a
    quad of zero words, leftover rows (cout mod 4) on the exact 1x2 loop."""
    case = zero_units(ck.make_case(shape, "1:4"), 0.4)
    if shape.cout >= 4:
        case.w[:4] = 0
        assert case.dense_skip.skipped_units > 0
    assert ck.run_kernel(case, "dense_4x2_skip").bit_exact


def test_dense_skip_costs():
    """Per quad of rows and pixel pair: a skipped word at a run's end saves the 14-cycle body,
    one that splits a run saves 14 − 5 (the new run's lhu, 2 adds, cv.setup, next lhu)."""
    quads = 3
    case = ck.make_case(ck.FCShape(k=64, cout=4 * quads, tokens=2), "1:4")

    def cycles(words: list[int]) -> int:
        c = zero_units(case, [(q, j) for q in range(quads) for j in words])
        return ck.run_kernel(c, "dense_4x2_skip").kernel_cycles

    full = cycles([])
    assert full - cycles([15]) == quads * 14
    assert full - cycles([0, 1]) == quads * 2 * 14
    assert full - cycles([7]) == quads * (14 - 5)
    assert full - cycles([3, 9]) == quads * 2 * (14 - 5)
    # with nothing to skip: 11 cycles per quad and pixel pair over dense_4x2 (header, bias,
    # one run, the branch), measured on 3 and 6 quads
    extra = []
    for q in (quads, 2 * quads):
        c = ck.make_case(ck.FCShape(k=64, cout=4 * q, tokens=2), "1:4")
        extra.append(ck.run_kernel(c, "dense_4x2_skip").kernel_cycles
                     - ck.run_kernel(c, "dense_4x2").kernel_cycles)
    assert extra[1] - extra[0] == quads * 11, extra


def test_skip_policy_candidates():
    from xdecimate.sw.deploy import policy

    case = ck.make_case(ck.FCShape(k=64, cout=8, tokens=4), "1:8")
    assert policy.candidates(case, True, "skip") == ("xdec4",)
    assert "xdec4_skip" not in policy.candidates(case, True)
    zeroed = zero_groups(case, [(0, 0), (3, 1)])
    assert policy.candidates(zeroed, True, "skip") == ("xdec4", "xdec4_skip")
    assert {"xdec_skip", "xdec4_skip"} <= set(policy.candidates(zeroed, True))
    dense = ck.make_case(ck.FCShape(k=64, cout=8, tokens=4), "1:4")
    dense = ck.LayerCase(dense.shape, dense.pattern, dense.x, np.ones((8, 64), np.int8),
                         dense.bias, dense.rq)
    assert policy.candidates(dense, False, "skip") == ("dense_4x2",)
    assert policy.candidates(zero_units(dense, [(1, 2)]), False, "skip") == (
        "dense_4x2", "dense_4x2_skip")
    assert "dense_4x2_skip" in policy.candidates(zero_units(dense, [(1, 2)]), False)
    kernel, measured = policy.choose(zeroed, True, "skip")
    assert set(measured) == {"xdec4", "xdec4_skip"}
    assert kernel == min(measured, key=measured.get)
