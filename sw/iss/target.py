"""What running a bare-metal program on a target returns: one type for the ISS and the RTL.

Every execution target (the Python ISS, the CV32E40P RTL harness, later our own core) returns a
:class:`RunResult`, so that results compare field by field.  Region markers are stores to
``memmap.MMIO_MARK``; a target records the cycle and retired-instruction counts at that store.
Absolute counts may differ by a constant start-up offset between targets; the cycle count of a
region is the difference of two marks and must not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Mark", "RunResult", "TargetError"]


class TargetError(RuntimeError):
    """The program did not run to its exit (timeout, trap loop, bad ELF, simulator failure)."""


@dataclass(frozen=True)
class Mark:
    """A region marker: the value stored to ``MMIO_MARK`` and the counters when it retired."""

    id: int
    cycle: int
    instret: int


@dataclass
class RunResult:
    """Outcome of one program run.

    Attributes
    ----------
    target : name of the target ("iss", "cv32e40p", ...).
    exit_code : value stored to ``MMIO_EXIT`` (or the qemu exit status).
    stdout : bytes written through ``MMIO_PUTC``.
    cycles, instret : counts from reset to the exit store.
    marks : region markers in program order.
    memory : optional snapshot of data memory at exit (``bytes``), for reading back outputs.
    interrupts : interrupts the program took (only a target with an interrupt source, the RTL
        harness with ``irqs=``, raises any; 0 elsewhere).
    l2 : optional snapshot of the first bytes of L2 at exit (``memmap.L2_BASE`` on).
    dma_transfers, dma_cycles : DMA transfers started and the cycles they kept the engine busy.
    """

    target: str
    exit_code: int
    stdout: bytes
    cycles: int
    instret: int
    marks: list[Mark] = field(default_factory=list)
    memory: bytes | None = None
    interrupts: int = 0
    l2: bytes | None = None
    dma_transfers: int = 0
    dma_cycles: int = 0

    def region(self, start_id: int, end_id: int) -> tuple[int, int]:
        """(cycles, instructions) between the first mark ``start_id`` and the next ``end_id``."""
        start = next((m for m in self.marks if m.id == start_id), None)
        if start is None:
            raise KeyError(f"no mark {start_id!r} in {[m.id for m in self.marks]}")
        end = next((m for m in self.marks[self.marks.index(start):] if m.id == end_id), None)
        if end is None:
            raise KeyError(f"no mark {end_id!r} after mark {start_id!r}")
        return end.cycle - start.cycle, end.instret - start.instret
