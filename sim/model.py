"""Transaction-level model of the xDecimate unit, built on the executable reference.

:class:`XdecModel` holds the architectural state the unit owns (the ``xdec`` CSR) and the
issuer's register file, and predicts the response and the bus read of every request.  The
instruction semantics are *not* restated here: ``xdec.lb`` is ``xdec_ref.xdec_lb``, CSR writes are
``xdec_ref.csr_write``.  The only addition is the hardware configuration rule of
``hw/configs.py``: a value the configuration does not implement traps.

This module is plain Python (no cocotb); the cocotb and the Amaranth testbenches share it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xdecimate.hw.configs import XdecHwConfig, supports
from xdecimate.sw.model import xdec_spec as spec
from xdecimate.sw.model.xdec_ref import (
    IllegalInstruction,
    XdecAccess,
    csr_write,
    xdec_access,
    xdec_lb,
)

__all__ = ["OP_CLEAR", "OP_LB", "OP_READ", "OP_SET", "OP_WRITE", "Expected", "Op", "XdecModel"]

# Issue-side operation codes: the values of ``hw.interfaces.CsrOp`` (a test keeps them equal;
# this module does not import Amaranth).
OP_LB = 0
OP_WRITE = 1
OP_SET = 2
OP_CLEAR = 3
OP_READ = 4

#: Registers of the issuer's register file the streams may name.
NREGS = 32

_M = spec.field("m_log2")
_N = spec.field("n_log2")
_P = spec.field("p_log2")
#: CSR bits that decide whether xdec.lb traps (everything but the counter).
_CONFIG_MASK = ((1 << spec.XLEN) - 1) & ~spec.field("cnt").mask


@dataclass
class Op:
    """One issue-side request as a stream generator describes it.

    ``rd`` names a register of the model's register file: its *current* value is sent (the
    issuer forwards results like a core does).  ``stall`` forces the memory's (grant wait,
    response wait) for this op's bus read; ``None`` lets the stall generator choose.  ``hold``
    forces the sink to keep ``o.ready`` low for that many cycles of this op's valid response.
    """

    op: int
    rs1: int = 0
    rs2: int = 0
    rd: int = 1
    wdata: int = 0
    tag: str = ""
    stall: tuple[int, int] | None = None
    hold: int = 0


@dataclass
class Expected:
    """What the unit must do for one accepted request."""

    rd: int
    csr: int
    illegal: int
    addr: int | None
    access: XdecAccess | None
    csr_before: int


class XdecModel:
    """The unit's architectural state and its next-state function.

    Parameters
    ----------
    config : the hardware configuration (what traps).
    mem : byte memory, ``addr -> int``.
    """

    def __init__(self, config: XdecHwConfig, mem: Callable[[int], int]) -> None:
        if not isinstance(config, XdecHwConfig):
            raise TypeError(f"config must be an XdecHwConfig, not {config!r}")
        self.config = config
        self.mem = mem
        self.csr = spec.CSR_RESET
        self.regs = [0] * NREGS
        self._traps: dict[int, bool] = {}  # configuration bits -> traps (a cache)

    def reset(self) -> None:
        """Reset the CSR (the register file is the issuer's and survives)."""
        self.csr = spec.CSR_RESET

    def traps(self, csr: int | None = None) -> bool:
        """True if ``xdec.lb`` traps with CSR value ``csr`` (default: the current one)."""
        csr = self.csr if csr is None else csr
        key = csr & _CONFIG_MASK
        hit = self._traps.get(key)
        if hit is None:
            hit = not supports(self.config, csr)
            if not hit:
                xdec_access(csr, 0, 0)  # implemented, so the spec must allow it (else raises)
            self._traps[key] = hit
        return hit

    def step(self, op: Op) -> Expected:
        """Apply ``op`` (accepted by the unit) and return the expected response."""
        before = self.csr
        rd_value = self.regs[op.rd]
        if op.op == OP_LB:
            if self.traps():
                # By-spec illegal values must also trap in the reference.
                spec_illegal = any(f.legal is not None and f.get(before) not in f.legal
                                   for f in spec.CSR_FIELDS)
                if spec_illegal:
                    try:
                        xdec_access(before, op.rs1, op.rs2)
                    except IllegalInstruction:
                        pass
                    else:  # pragma: no cover - a reference bug
                        raise AssertionError(f"xdec_ref does not trap on csr 0x{before:08x}")
                return Expected(rd=rd_value, csr=before, illegal=1, addr=None, access=None,
                                csr_before=before)
            acc = xdec_access(before, op.rs1, op.rs2)
            res = xdec_lb(before, op.rs1, op.rs2, rd_value, self.mem)
            self.csr = res.csr
            self.regs[op.rd] = res.rd
            return Expected(rd=res.rd, csr=before, illegal=0, addr=res.addr, access=acc,
                            csr_before=before)
        if op.op == OP_WRITE:
            self.csr = csr_write(op.wdata)
        elif op.op == OP_SET:
            self.csr = csr_write(before | op.wdata)
        elif op.op == OP_CLEAR:
            self.csr = csr_write(before & ~op.wdata)
        elif op.op != OP_READ:
            raise ValueError(f"op must be one of OP_LB..OP_READ, not {op.op!r}")
        return Expected(rd=rd_value, csr=before, illegal=0, addr=None, access=None,
                        csr_before=before)

    def pattern(self, csr: int | None = None) -> tuple[int, int, int]:
        """(N, M, P) encoded in a CSR value (no legality check)."""
        csr = self.csr if csr is None else csr
        return (1 << _N.get(csr), 1 << _M.get(csr), 1 << _P.get(csr))
