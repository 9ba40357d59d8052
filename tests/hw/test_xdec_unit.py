# amaranth: UnusedElaboratable=no
"""hw/xdec_unit.py in the Amaranth simulator: the shared testbench (model, OBI memory, checker)."""

import pytest
from xdecimate.hw.configs import CONFIGS
from xdecimate.hw.interfaces import CsrOp, XdecRequest, XdecResponse, field_slices
from xdecimate.hw.xdec_unit import XdecUnit
from xdecimate.sim import model as sim_model
from xdecimate.sim import testbench as sim_tb
from xdecimate.sim.hwsim import AmaranthIO, rtl_sync
from xdecimate.sim.model import OP_LB, OP_READ, OP_WRITE, Op
from xdecimate.sim.testbench import CheckError, XdecTB
from xdecimate.sw.model.xdec_ref import csr_pack


def rtl_run(name: str, ops, *, seed: int = 1, profile: str = "mixed",
            fault_at: int | None = None) -> XdecTB:
    """Run ``ops`` (a list or a callable tb -> iterator) through the unit; return the testbench."""
    dut = XdecUnit(config=CONFIGS[name])
    box = {}

    async def bench(ctx):
        tb = XdecTB(AmaranthIO(ctx, dut), CONFIGS[name], seed=seed)
        tb.fault_at = fault_at
        box["tb"] = tb
        tb.idle_inputs()
        await ctx.tick()
        tb.set_profile(sim_tb.PROFILES[profile])
        tb.start_stream(ops(tb) if callable(ops) else ops)
        while not tb.finished:
            await ctx.tick()
            tb.drive()
            tb.sample()

    rtl_sync(dut, bench)
    return box["tb"]


def test_payload_layouts_match_testbench_packing():
    assert field_slices(XdecRequest) == sim_tb._REQ
    assert field_slices(XdecResponse) == sim_tb._RSP
    assert [(o.name.lower(), o.value) for o in CsrOp] == [
        ("none", sim_model.OP_LB), ("write", sim_model.OP_WRITE), ("set", sim_model.OP_SET),
        ("clear", sim_model.OP_CLEAR), ("read", sim_model.OP_READ)]


@pytest.mark.parametrize("name", list(CONFIGS))
def test_directed_random_and_closure_match_model(name):
    tb = rtl_run(name, lambda tb: tb.session(1500), seed=7)
    assert tb.ops_checked > 5000
    assert tb.reads > 4000
    missing = {n: p.missing[:5] for n, p in tb.coverage.points.items() if p.missing}
    assert tb.coverage.covered == tb.coverage.defined, f"bins not hit: {missing}"


def test_back_to_back_throughput_is_one_per_cycle():
    csr = csr_pack(m=8, n=1, p=2)
    ops = [Op(OP_WRITE, wdata=csr)] + [Op(OP_LB, rs1=0x100, rs2=0x7531, rd=3)] * 64
    tb = rtl_run("full", ops, profile="fast")
    assert tb.ops_checked == 65
    assert tb.cycle == 65 + 1  # one request per cycle, plus the last response


def test_checker_catches_a_wrong_expectation():
    ops = [Op(OP_WRITE, wdata=csr_pack(m=4, n=1))] + [Op(OP_LB, rs1=9, rs2=0xE4, rd=2)] * 8
    with pytest.raises(CheckError, match="response mismatch"):
        rtl_run("full", ops, fault_at=5)


def test_unimplemented_pattern_traps_without_state_change():
    ops = [Op(OP_WRITE, wdata=csr_pack(m=8, n=1, p=1, cnt=3)), Op(OP_LB, rs1=0, rs2=0, rd=1),
           Op(OP_READ)]
    tb = rtl_run("m4only", ops)
    assert tb.reads == 0
    assert tb.coverage["illegal"].hits[("m_log2", 3)] == 1
    assert tb.model.csr == csr_pack(m=8, n=1, p=1, cnt=3)
