"""hw/csr.py against the reference: a random sequence of software ops and increments."""

import random

from xdecimate.hw.csr import XdecCsr
from xdecimate.hw.interfaces import CsrOp
from xdecimate.sim.hwsim import rtl_sync
from xdecimate.sw.model import xdec_spec as spec
from xdecimate.sw.model.xdec_ref import csr_pack, csr_write, xdec_lb

_CNT = spec.field("cnt")

Op = tuple[CsrOp, int, bool]  # (software op, wdata, inc)


def rtl_csr(ops: list[Op]) -> list[int]:
    """``rdata`` seen before each op, then the final value; reset first."""
    dut = XdecCsr()
    seen: list[int] = []

    async def bench(ctx):
        ctx.set(dut.op, CsrOp.NONE)
        await ctx.tick().repeat(2)
        for op, wdata, inc in ops:
            ctx.set(dut.op, op)
            ctx.set(dut.wdata, wdata)
            ctx.set(dut.inc, inc)
            seen.append(ctx.get(dut.rdata))
            await ctx.tick()
        seen.append(ctx.get(dut.rdata))

    rtl_sync(dut, bench)
    return seen


def ref_csr(ops: list[Op]) -> list[int]:
    """The same from the reference: ``csr_write`` for software writes, ``xdec_lb`` increments."""
    csr = spec.CSR_RESET
    seen = []
    for op, wdata, inc in ops:
        seen.append(csr)
        if op == CsrOp.WRITE:
            csr = csr_write(wdata)
        elif op == CsrOp.SET:
            csr = csr_write(csr | wdata)
        elif op == CsrOp.CLEAR:
            csr = csr_write(csr & ~wdata)
        elif inc:
            # the increment of an executed xdec.lb (the unit only increments legal ones; the
            # counter arithmetic does not depend on the configuration, so use a legal one)
            legal = csr_pack(m=4, n=1, p=1, cnt=_CNT.get(csr))
            csr = _CNT.put(csr, _CNT.get(xdec_lb(legal, 0, 0, 0, lambda a: 0).csr))
    seen.append(csr)
    return seen


def test_reset_value_and_reserved_bits():
    ops = [(CsrOp.READ, 0, False), (CsrOp.WRITE, 0xFFFFFFFF, False), (CsrOp.READ, 0, False)]
    got = rtl_csr(ops)
    assert got == ref_csr(ops)
    assert got[0] == spec.CSR_RESET
    assert got[2] == spec.CSR_WRITE_MASK  # reserved bits read 0


def test_counter_wraps():
    ops = [(CsrOp.WRITE, csr_pack(m=8, n=2, p=4, cnt=0xFFFE), False)] + \
          [(CsrOp.NONE, 0, True)] * 3
    got = rtl_csr(ops)
    assert got == ref_csr(ops)
    assert _CNT.get(got[-1]) == 1


def test_software_write_wins_over_increment():
    ops = [(CsrOp.WRITE, 0x5, True), (CsrOp.SET, 0x30000, True), (CsrOp.CLEAR, 0x1, True)]
    got = rtl_csr(ops)
    assert got[1:] == [0x5, 0x30005, 0x30004]


def test_random_ops_match_reference():
    rng = random.Random(11)
    ops = []
    for _ in range(3000):
        op = rng.choice(list(CsrOp))
        inc = rng.random() < 0.6
        wdata = rng.choice([rng.getrandbits(32), 1 << rng.randrange(32), 0xFFFFFFFF, 0])
        if op in (CsrOp.WRITE, CsrOp.SET, CsrOp.CLEAR):
            inc = False  # the unit never writes and increments in the same cycle
        ops.append((op, wdata, inc))
    got = rtl_csr(ops)
    assert got == ref_csr(ops)
    assert len(set(got)) > 500
