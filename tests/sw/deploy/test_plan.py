"""The buffer plan: reuse of dead buffers, residual inputs kept alive, no reuse when asked."""

from __future__ import annotations

import pytest
from xdecimate.sw.deploy.plan import Request, plan_buffers


def _disjoint_when_live(plan) -> bool:
    bs = list(plan.buffers.values())
    for i, a in enumerate(bs):
        for b in bs[i + 1:]:
            if a.overlaps_in_time(b) and not (a.offset + a.size <= b.offset
                                              or b.offset + b.size <= a.offset):
                return False
    return True


def test_chain_ping_pongs_between_two_buffers():
    reqs = [Request(f"t{i}", 100, i, i + 1) for i in range(6)]
    plan = plan_buffers(reqs)
    assert {b.offset for b in plan.buffers.values()} == {0, 100}
    assert plan.peak == 200
    assert plan.total == 600
    assert _disjoint_when_live(plan)


def test_residual_input_stays_alive_until_its_add():
    # x (step 0) is read by the block (steps 1, 2) and by the add at step 3
    reqs = [Request("x", 64, 0, 3), Request("h1", 64, 1, 2), Request("h2", 64, 2, 3),
            Request("y", 64, 3, 4)]
    plan = plan_buffers(reqs)
    assert _disjoint_when_live(plan)
    assert plan.buffers["x"].offset not in (plan.buffers["h2"].offset,
                                            plan.buffers["y"].offset)
    assert plan.peak == 192


def test_no_reuse_keeps_every_buffer_apart():
    reqs = [Request(f"t{i}", 10, i, i) for i in range(4)]
    plan = plan_buffers(reqs, reuse=False)
    assert sorted(b.offset for b in plan.buffers.values()) == [0, 12, 24, 36]  # word aligned
    assert plan.peak == 48


def test_bad_requests_are_refused():
    with pytest.raises(ValueError, match="size must be >= 1 byte, not 0"):
        Request("a", 0, 0, 0)
    with pytest.raises(ValueError, match=r"live range 3\.\.2 is empty"):
        Request("a", 4, 3, 2)
    with pytest.raises(ValueError, match=r"\['a'\] appear twice"):
        plan_buffers([Request("a", 4, 0, 0), Request("a", 4, 1, 1)])
