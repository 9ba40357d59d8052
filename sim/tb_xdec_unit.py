"""cocotb tests of the xDecimate unit (run through :mod:`xdecimate.sim.runner`, not directly).

Parameters come from the environment (the runner sets them):

``XDEC_CONFIG``   configuration name (``hw/configs.py``)
``XDEC_OPS``      random requests of :func:`xdec_random` (default 1000)
``XDEC_SEED``     seed (default 1)
``XDEC_SUMMARY``  JSON file the cumulative results are written to
``XDEC_FAULT_AT`` corrupt the expectation of this request (tests the checker and the waves)
``XDEC_TESTS``    not read here: the runner selects tests with ``testcase``
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge
from cocotb.utils import get_sim_time
from xdecimate.hw.configs import config
from xdecimate.sw.model.xdec_ref import csr_pack

from .coverage import Coverage
from .model import OP_LB, OP_READ, OP_WRITE, Op
from .testbench import PORTS, PROFILES, CheckError, XdecTB

_PERIOD_NS = 10
#: Results of the tests run so far in this simulator process (merged into one summary).
_RESULTS: dict[str, object] = {"tests": {}, "ops": 0, "reads": 0, "cycles": 0, "wall_s": 0.0}
_COVERAGE: Coverage | None = None


class CocotbIO:
    """Port adapter of :class:`~.testbench.XdecTB` for cocotb handles.

    Reads take the GPI's binary string directly (``handle._handle``) when cocotb exposes it: the
    public ``handle.value`` builds a ``LogicArray`` per read, which costs a third of the
    simulation loop at 5 reads per cycle.  A value with X or Z fails loudly either way.
    """

    def __init__(self, dut) -> None:
        self._h = {name: getattr(dut, name) for name in PORTS}
        self._raw = {name: getattr(getattr(h, "_handle", None), "get_signal_val_binstr", None)
                     for name, h in self._h.items()}

    def set(self, name: str, value: int) -> None:
        self._h[name].value = value

    def get(self, name: str) -> int:
        raw = self._raw[name]
        if raw is None:
            v = self._h[name].value
            return v.to_unsigned() if len(v) > 1 else int(v)
        bits = raw()
        try:
            return int(bits, 2)
        except ValueError:
            raise CheckError(f"{name} is {bits!r} (X or Z)") from None


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from None


class CocotbXdecTB(XdecTB):
    """:class:`~.testbench.XdecTB` on a cocotb DUT: adds the clock, the reset and the run loop."""

    def __init__(self, dut, cfg_name: str, *, seed: int) -> None:
        super().__init__(CocotbIO(dut), config(cfg_name), seed=seed)
        self.dut = dut
        self._edge = RisingEdge(dut.clk)
        self._ro = ReadOnly()

    async def start(self) -> None:
        """Start the clock, drive idle inputs, reset."""
        Clock(self.dut.clk, _PERIOD_NS, unit="ns").start()
        self.idle_inputs()
        await self.reset()

    async def reset(self, cycles: int = 2) -> None:
        """Synchronous reset (``rst`` high for ``cycles`` edges), then the model's reset."""
        self.dut.rst.value = 1
        for _ in range(cycles):
            await self._edge
        self.dut.rst.value = 0
        self.after_reset()

    async def run(self, ops) -> float:
        """Clock ``ops`` through the unit until every response is checked; return wall seconds.

        One coroutine, two triggers per cycle: drive after ``RisingEdge``, sample at
        ``ReadOnly``.
        """
        edge, ro = self._edge, self._ro
        self.start_stream(ops)
        t0 = time.perf_counter()
        try:
            while not self.finished:
                await edge
                self.drive()
                await ro
                self.sample()
        except CheckError as e:
            raise CheckError(f"{e} (sim time {get_sim_time('ns')} ns)") from None
        await edge  # leave the ReadOnly phase
        return time.perf_counter() - t0


async def _setup(dut, *, seed: int) -> CocotbXdecTB:
    tb = CocotbXdecTB(dut, os.environ.get("XDEC_CONFIG", "full"), seed=seed)
    fault = os.environ.get("XDEC_FAULT_AT", "")
    tb.fault_at = int(fault) if fault else None
    await tb.start()
    return tb


def _record(name: str, tb: XdecTB, wall: float) -> None:
    global _COVERAGE
    ops, reads, cycles = tb.ops_checked, tb.reads, tb.cycle
    _RESULTS["tests"][name] = {"ops": ops, "reads": reads, "cycles": cycles,
                               "wall_s": round(wall, 3)}
    _RESULTS["ops"] += ops
    _RESULTS["reads"] += reads
    _RESULTS["cycles"] += cycles
    _RESULTS["wall_s"] += wall
    if _COVERAGE is None:
        _COVERAGE = tb.coverage
    elif _COVERAGE is not tb.coverage:
        _COVERAGE.merge(tb.coverage)
    _RESULTS["config"] = tb.config.name
    _RESULTS["coverage"] = _COVERAGE.summary()
    out = os.environ.get("XDEC_SUMMARY")
    if out:
        Path(out).write_text(json.dumps(_RESULTS, indent=1))


@cocotb.test()
async def xdec_directed(dut) -> None:
    """Directed cases, a reset in the middle, then the one-request-per-cycle throughput."""
    tb = await _setup(dut, seed=_env_int("XDEC_SEED", 1))
    tb.set_profile(PROFILES["fast"])
    from .streams import directed_ops

    wall = await tb.run(directed_ops(tb.model, tb.memory.image, tb.rng))
    tb.set_profile(PROFILES["mixed"])
    wall += await tb.run(directed_ops(tb.model, tb.memory.image, tb.rng))

    # reset while idle: the CSR returns to its reset value, the next xdec.lb traps
    n, m = tb.config.patterns[0]
    wall += await tb.run([Op(OP_WRITE, wdata=csr_pack(m=m, n=n, cnt=9))])
    await tb.reset()
    illegal0 = tb.coverage["illegal"].hits[("m_log2", 0)]
    wall += await tb.run([Op(OP_READ), Op(OP_LB, rs1=4, rs2=0, rd=1)])  # checked: reads reset
    assert tb.coverage["illegal"].hits[("m_log2", 0)] == illegal0 + 1  # the xdec.lb trapped

    # throughput: zero-wait memory, always-ready sink: one xdec.lb per cycle
    tb.set_profile(PROFILES["fast"])
    ops = [Op(OP_WRITE, wdata=csr_pack(m=m, n=n, p=tb.config.p[-1]))]
    ops += [Op(OP_LB, rs1=0x40, rs2=0x1B1B1B1B, rd=2)] * 256
    c0 = tb.cycle
    wall += await tb.run(ops)
    # one cycle per request, plus the last response one cycle after its acceptance
    assert tb.cycle - c0 == len(ops) + 1, f"{len(ops)} requests took {tb.cycle - c0} cycles"
    _record("xdec_directed", tb, wall)


@cocotb.test()
async def xdec_random(dut) -> None:
    """``XDEC_OPS`` random requests (row walks and random ops), then coverage closure."""
    tb = await _setup(dut, seed=_env_int("XDEC_SEED", 1) + 1000)
    if _COVERAGE is not None:  # close the coverage of every test of this run together
        tb.coverage = _COVERAGE
    n = _env_int("XDEC_OPS", 1000)
    wall = await tb.run(tb.session(n, directed=False))
    _record("xdec_random", tb, wall)
    cov = tb.coverage
    missing = {k: p.missing[:5] for k, p in cov.points.items() if p.missing}
    assert cov.covered == cov.defined, (
        f"coverage {cov.covered}/{cov.defined}: bins not hit {missing}")
