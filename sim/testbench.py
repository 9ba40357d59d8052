"""The xDecimate unit testbench: driver, OBI memory, sink, monitor, model, checker, coverage.

The testbench is *cycle-driven* and simulator-agnostic: each clock cycle the simulator loop calls
:meth:`XdecTB.drive` once after the rising edge (drive inputs for this cycle) and
:meth:`XdecTB.sample` once when signals have settled (cocotb ``ReadOnly``; Amaranth: after the
``ctx.set`` calls), through a tiny port adapter (``set(name, int)`` / ``get(name) -> int``).
One coroutine and two triggers per cycle serve every component, which is what makes 10^7
operations affordable; the same class runs under cocotb (Verilator, Icarus) and under the
Amaranth simulator (``tests/hw/test_xdec_unit.py``).

Components (all in :class:`XdecTB`)
    * **driver** -- presents :class:`~.model.Op` requests from a stream on ``i``, holding
      ``valid``/``payload`` until accepted, with random idle bubbles; the ``rd`` value sent is the
      register file's current value (forwarding, as a core would).
    * **memory** -- :class:`~.obi_mem.ObiMemory`, grant and response wait states.
    * **sink** -- drives ``o.ready`` with random (or forced) back-pressure.
    * **monitor** -- OBI address-phase stability, one-hot ``be``, ``we = 0``, no request
      without an accepted legal ``xdec.lb``; stream rules on ``o``; response latency.
    * **model/checker** -- :class:`~.model.XdecModel` predicts every response and bus read; the
      checker compares in order and stops at the first mismatch with the cycle and the op.
    * **coverage** -- :func:`~.coverage.xdec_coverage`, sampled per completed request.
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from xdecimate.hw.configs import XdecHwConfig
from xdecimate.sw.model import xdec_spec as spec

from .coverage import CSR_OPS, xdec_coverage
from .model import OP_LB, Expected, Op, XdecModel
from .obi_mem import ObiMemory, StallProfile, stall_kind

__all__ = ["PORTS", "PROFILES", "CheckError", "PortIO", "XdecTB", "pack_request",
           "unpack_response"]

#: Verilog port names of the unit the testbench drives or reads (besides clk, rst).
PORTS = ("i__valid", "i__ready", "i__payload", "o__valid", "o__ready", "o__payload",
         "bus__req", "bus__gnt", "bus__addr", "bus__we", "bus__be", "bus__wdata",
         "bus__rvalid", "bus__rdata")

#: Environments the random phase rotates through.
PROFILES: dict[str, StallProfile] = {p.name: p for p in (
    StallProfile("fast"),
    StallProfile("gnt", p_gnt=0.5, max_gnt=3),
    StallProfile("rsp", p_rsp=0.5, max_rsp=3),
    StallProfile("mixed", p_gnt=0.3, p_rsp=0.3, p_idle=0.2, p_backpressure=0.2),
    StallProfile("heavy", p_gnt=0.6, max_gnt=6, p_rsp=0.6, max_rsp=6, p_idle=0.4,
                 p_backpressure=0.5),
)}

_XLEN = spec.XLEN
_MASK = (1 << _XLEN) - 1
# Payload bit positions: hw.interfaces.XdecRequest / XdecResponse (a test checks they agree).
_REQ = {"csr_op": (0, 3), "rs1": (3, 32), "rs2": (35, 32), "rd": (67, 32), "wdata": (99, 32)}
_RSP = {"rd": (0, 32), "csr": (32, 32), "illegal": (64, 1)}
_CNT = spec.field("cnt")


def pack_request(op: int, rs1: int, rs2: int, rd: int, wdata: int) -> int:
    """The ``i__payload`` bits of a request."""
    return (op | (rs1 & _MASK) << _REQ["rs1"][0] | (rs2 & _MASK) << _REQ["rs2"][0]
            | (rd & _MASK) << _REQ["rd"][0] | (wdata & _MASK) << _REQ["wdata"][0])


def unpack_response(bits: int) -> tuple[int, int, int]:
    """(rd, csr, illegal) of an ``o__payload`` value."""
    return bits & _MASK, (bits >> _RSP["csr"][0]) & _MASK, (bits >> _RSP["illegal"][0]) & 1


class PortIO(Protocol):
    """What the testbench needs from a simulator: set and get a port as an int."""

    def set(self, name: str, value: int) -> None: ...

    def get(self, name: str) -> int: ...


class CheckError(AssertionError):
    """The design under test disagreed with the model or broke a protocol rule."""


@dataclass
class _Record:
    op: Op
    exp: Expected
    present: int
    accept: int
    gnt_wait: int
    kind: str            # "lb", "illegal", "csr"
    prev_kind: str
    back_to_back: bool
    rsp_wait: int = -1   # set when rvalid comes
    held: bool = False
    hold_left: int = 0


class XdecTB:
    """Testbench of one :class:`~xdecimate.hw.xdec_unit.XdecUnit` configuration.

    Parameters
    ----------
    io : port adapter of the simulator.
    config : the hardware configuration under test.
    seed : seeds every random choice (runs are reproducible).
    mem_bits : log2 of the memory image size (addresses alias modulo it).
    """

    def __init__(self, io: PortIO, config: XdecHwConfig, *, seed: int,
                 mem_bits: int = 20) -> None:
        self.io = io
        self.config = config
        self.seed = seed
        self.rng = random.Random(seed)
        image = np.random.default_rng(seed).integers(0, 256, 1 << mem_bits, dtype=np.uint8)
        self.profile = PROFILES["fast"]
        self.memory = ObiMemory(image, self.rng, self.profile)
        self.model = XdecModel(config, self.memory.byte)
        self.model.regs = [self.rng.getrandbits(32) for _ in self.model.regs]
        self.coverage = xdec_coverage(config)
        self.cycle = 0
        self.ops_checked = 0
        self.reads = 0
        self.fault_at: int | None = None  # testing the checker: corrupt this op's expectation
        # driver
        self._source: Iterator[Op] | None = None
        self._cur: Op | None = None
        self._cur_reads = False
        self._cur_present = 0
        self._cur_gnt_wait = 0
        self._i_valid = 0
        self._last_accept = -10
        self._prev_kind = "csr"
        # sink
        self._o_ready = 0
        # monitor
        self._pending: deque[_Record] = deque()
        self._req_waiting: tuple[int, int, int] | None = None  # (addr, be, we) not yet granted
        self._o_held: int | None = None  # payload held by o.ready low last cycle
        self._last_progress = 0

    # ---------------------------------------------------------------- control
    def set_profile(self, profile: StallProfile) -> None:
        """Use another wait-state / idle / back-pressure environment from now on."""
        self.profile = profile
        self.memory.profile = profile

    def start_stream(self, source: Iterable[Op]) -> None:
        """Feed requests from ``source`` (the previous source must be exhausted)."""
        self._source = iter(source)

    @property
    def finished(self) -> bool:
        """The source is exhausted and every accepted request has been answered."""
        return self._source is None and self._cur is None and not self._pending

    def idle_inputs(self) -> None:
        """Drive every input to its idle value (before reset)."""
        for name in ("i__valid", "o__ready", "bus__gnt", "bus__rvalid"):
            self.io.set(name, 0)
        self.io.set("i__payload", 0)
        self.io.set("bus__rdata", 0)
        self.memory.gnt = 0
        self.memory.rvalid = 0
        self._i_valid = 0
        self._o_ready = 0

    def after_reset(self) -> None:
        """The unit was reset: reset the model (nothing may be in flight)."""
        if self._pending or self._cur is not None:
            raise CheckError("reset with requests in flight is not modelled")
        self.model.reset()

    # ---------------------------------------------------------------- per cycle
    def drive(self) -> None:
        """After the rising edge: drive this cycle's inputs."""
        self.cycle += 1
        io = self.io
        rng = self.rng
        # driver
        if self._cur is None and self._source is not None and rng.random() >= self.profile.p_idle:
            op = next(self._source, None)
            if op is None:
                self._source = None
            else:
                self._present(op)
        valid = 1 if self._cur is not None else 0
        if valid != self._i_valid:
            io.set("i__valid", valid)
            self._i_valid = valid
        # memory
        self.memory.drive(self.cycle, io.set)
        # sink
        ready = 0 if rng.random() < self.profile.p_backpressure else 1
        if self._pending and self._pending[0].hold_left > 0:
            ready = 0
        if ready != self._o_ready:
            io.set("o__ready", ready)
            self._o_ready = ready

    def _present(self, op: Op) -> None:
        self._cur = op
        self._cur_present = self.cycle
        self._cur_gnt_wait = 0
        self._cur_reads = op.op == OP_LB and not self.model.traps()
        self.io.set("i__payload", pack_request(op.op, op.rs1, op.rs2, self.model.regs[op.rd],
                                               op.wdata))
        self.memory.expect_read(op.stall if self._cur_reads else (0, 0))

    def sample(self) -> None:
        """Signals settled, before the next edge: monitor, check, account."""
        io = self.io
        cyc = self.cycle
        mem = self.memory
        # ---- bus address phase
        req = io.get("bus__req")
        if req:
            addr = io.get("bus__addr")
            be = io.get("bus__be")
            we = io.get("bus__we")
            if self._req_waiting is not None and self._req_waiting != (addr, be, we):
                self._fail(f"OBI address phase changed before gnt: {self._req_waiting} -> "
                           f"{(addr, be, we)}")
            if not self._cur_reads:
                self._fail(f"bus request 0x{addr:08x} but no legal xdec.lb is presented "
                           f"(presented: {self._cur})")
        elif self._req_waiting is not None:
            self._fail("OBI req dropped before gnt")
        granted = mem.sample(cyc, req, addr if req else 0)
        if req and not granted:
            self._req_waiting = (addr, be, we)
            self._cur_gnt_wait += 1
        else:
            self._req_waiting = None
        # ---- issue handshake
        accepted = False
        if self._cur is not None and io.get("i__ready"):
            accepted = True
            self._accept(granted, addr if granted else 0, be if granted else 0,
                         we if granted else 0)
        elif granted:
            self._fail("bus read granted but the request was not accepted")
        # ---- response side
        answered = None
        if mem.rvalid:
            waiting = [r for r in self._pending if r.kind == "lb" and r.rsp_wait < 0]
            if not waiting:
                self._fail("rvalid with no read outstanding (model)")
            answered = waiting[0]
            answered.rsp_wait = cyc - answered.accept - 1
        o_valid = io.get("o__valid")
        if self._o_held is not None and not o_valid:
            self._fail("o.valid dropped before o.ready")
        if o_valid:
            payload = io.get("o__payload")
            if self._o_held is not None and payload != self._o_held:
                self._fail(f"o.payload changed while held: 0x{self._o_held:x} -> 0x{payload:x}")
            if not self._pending:
                self._fail(f"response 0x{payload:x} with no request accepted")
            head = self._pending[0]
            if head.kind == "lb" and head.rsp_wait < 0:
                self._fail("xdec.lb response valid before its rvalid")
            if self._o_ready:
                self._pending.popleft()
                self._o_held = None
                self._check(head, payload)
            else:
                head.held = True
                if head.hold_left:
                    head.hold_left -= 1
                self._o_held = payload
        else:
            self._o_held = None
            if self._pending:
                head = self._pending[0]
                if (head.kind != "lb" and cyc > head.accept) or head is answered:
                    self._fail(f"response of {head.op} not valid when due")
        if accepted or o_valid:
            self._last_progress = cyc
        elif cyc - self._last_progress > 500 and not self.finished:
            self._fail("no progress for 500 cycles (deadlock)")

    def _accept(self, granted: bool, addr: int, be: int, we: int) -> None:
        op = self._cur
        assert op is not None
        exp = self.model.step(op)
        if self.fault_at is not None and self.ops_checked + len(self._pending) == self.fault_at:
            exp.rd ^= 1 << 7  # deliberately wrong expectation: the checker must catch it
        kind = "csr" if op.op != OP_LB else ("illegal" if exp.illegal else "lb")
        if exp.addr is not None:
            if not granted:
                self._fail(f"{op} accepted without its bus read being granted")
            if addr != exp.addr:
                self._fail(f"bus address 0x{addr:08x}, expected 0x{exp.addr:08x} for {op}")
            if be != 1 << (addr & 3) or we != 0:
                self._fail(f"bus be={be:04b} we={we} for a byte read at 0x{addr:08x}")
            self.reads += 1
        elif granted:
            self._fail(f"bus read for {op}, which must not access memory")
        rec = _Record(op=op, exp=exp, present=self._cur_present, accept=self.cycle,
                      gnt_wait=self._cur_gnt_wait, kind=kind, prev_kind=self._prev_kind,
                      back_to_back=self._cur_present == self._last_accept + 1,
                      hold_left=op.hold)
        self._pending.append(rec)
        self._prev_kind = "csr" if kind == "csr" else "lb"
        self._last_accept = self.cycle
        self._cur = None
        self._cur_reads = False

    def _check(self, rec: _Record, payload: int) -> None:
        rd, csr, illegal = unpack_response(payload)
        exp = rec.exp
        if (rd, csr, illegal) != (exp.rd, exp.csr, exp.illegal):
            self._fail(f"response mismatch for {rec.op}: got rd=0x{rd:08x} csr=0x{csr:08x} "
                       f"illegal={illegal}, expected rd=0x{exp.rd:08x} csr=0x{exp.csr:08x} "
                       f"illegal={exp.illegal}")
        self.ops_checked += 1
        self._cover(rec)

    def _cover(self, rec: _Record) -> None:
        cov = self.coverage
        op = rec.op
        cov.sample("issue", "back_to_back" if rec.back_to_back else "gap")
        if rec.held:
            cov.sample("held", rec.kind)
        if rec.kind == "lb":
            n, m, p = self.model.pattern(rec.exp.csr_before)
            pat = f"{n}:{m}"
            acc = rec.exp.access
            assert acc is not None
            assert rec.exp.addr is not None
            cov.sample("access", (pat, acc.lane, acc.idx, rec.exp.addr & 3,
                                  stall_kind(rec.gnt_wait, rec.rsp_wait)))
            cov.sample("pattern_p", (pat, p))
            if op.tag == "row_end":
                cov.sample("row_end", pat)
            if _CNT.get(rec.exp.csr_before) == _CNT.mask >> _CNT.lsb:
                cov.sample("cnt_wrap", pat)
        elif rec.kind == "illegal":
            csr = rec.exp.csr_before
            for fname, ok in (("m_log2", self.config.m_log2), ("n_log2", self.config.n_log2),
                              ("p_log2", self.config.p_log2)):
                v = spec.field(fname).get(csr)
                if v not in ok:
                    cov.sample("illegal", (fname, v))
        else:
            cov.sample("csr_op", (CSR_OPS[op.op - 1], rec.prev_kind))

    def _fail(self, msg: str) -> None:
        raise CheckError(f"[{self.config.name} seed={self.seed} cycle={self.cycle}] {msg}")

    # ---------------------------------------------------------------- sessions
    def _with_profile(self, name: str, ops: Iterable[Op]) -> Iterator[Op]:
        self.set_profile(PROFILES[name])
        yield from ops

    def session(self, n_random: int, *, directed: bool = True, closure: bool = True,
                segment: int = 2000) -> Iterator[Op]:
        """The standard run: directed cases, ``n_random`` random requests, coverage closure.

        The random phase rotates through :data:`PROFILES` every ``segment`` requests and mixes
        row walks of real compressed layers with fully random requests.
        """
        from .streams import closure_ops, directed_ops, random_ops, row_walks

        image = self.memory.image
        if directed:
            yield from self._with_profile("fast", directed_ops(self.model, image, self.rng))
            yield from self._with_profile("mixed", directed_ops(self.model, image, self.rng))
        names = list(PROFILES)
        done = 0
        seg = 0
        while done < n_random:
            self.set_profile(PROFILES[names[seg % len(names)]])
            seg += 1
            quota = min(segment, n_random - done)
            walks = row_walks(self.model, image, self.rng, layers=1 << 30)
            rand = random_ops(self.model, self.rng, 1 << 30)
            src = walks if seg % 2 else rand
            yield from itertools.islice(src, quota)
            done += quota
        if closure:
            for profile in ("mixed", "fast", "heavy"):
                if self.coverage.covered == self.coverage.defined:
                    break
                yield from self._with_profile(
                    profile, closure_ops(self.model, image, self.rng, self.coverage))

    # ---------------------------------------------------------------- summary
    def summary(self) -> dict[str, object]:
        """Operations checked, bus reads, cycles and coverage, JSON-able."""
        return {"config": self.config.name, "seed": self.seed, "ops": self.ops_checked,
                "reads": self.reads, "cycles": self.cycle,
                "coverage": self.coverage.summary()}
