"""The activation buffer plan of a deployed network: offsets in one arena, buffers reused.

What it is for: every activation tensor of the program gets a byte range of the arena
``xdn_arena`` for the steps during which it is live -- from the step that writes it to the last
step that reads it (the graph output: to the end).  Buffers are placed first-fit in the order
they are written, so a chain of layers ping-pongs between two buffers, a residual input stays
where it is until its add has read it, and a step's output never overlaps its inputs (they are
live in the same step).  ``reuse=False`` keeps every buffer for the whole run (every tensor can
be read back after the run: the per-layer check).

May import: the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ALIGN", "Buffer", "BufferPlan", "Request", "plan_buffers"]

#: Alignment of every buffer (word-wise copies of im2col and the kernels' word loads).
ALIGN = 4


@dataclass(frozen=True)
class Request:
    """A buffer to place: ``size`` bytes, live from step ``first`` to step ``last``."""

    name: str
    size: int
    first: int
    last: int

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"buffer {self.name!r}: size must be >= 1 byte, not {self.size}")
        if self.last < self.first:
            raise ValueError(f"buffer {self.name!r}: live range {self.first}..{self.last} is "
                             f"empty (last step before first)")


@dataclass(frozen=True)
class Buffer:
    """A placed buffer: bytes ``offset .. offset + size`` of the arena."""

    name: str
    offset: int
    size: int
    first: int
    last: int

    def overlaps_in_time(self, r: Request | Buffer) -> bool:
        return not (self.last < r.first or r.last < self.first)


@dataclass(frozen=True)
class BufferPlan:
    """The placed buffers by name and the arena size (``peak``, bytes)."""

    buffers: dict[str, Buffer]
    peak: int
    reuse: bool

    @property
    def total(self) -> int:
        """Bytes without any reuse (the sum of every buffer)."""
        return sum(b.size for b in self.buffers.values())


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def plan_buffers(requests: list[Request], *, reuse: bool = True) -> BufferPlan:
    """Place ``requests`` first-fit in order of their first step (ties: list order).

    Two buffers share bytes only if their live ranges are disjoint (``reuse=False``: never).

    Raises
    ------
    ValueError
        Two requests with one name.
    """
    names = [r.name for r in requests]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"buffer names must be unique, {dup} appear twice")
    placed: list[Buffer] = []
    peak = 0
    for r in sorted(requests, key=lambda q: q.first):
        live = sorted((b for b in placed if not reuse or b.overlaps_in_time(r)),
                      key=lambda b: b.offset)
        off = 0
        for b in live:
            if off + r.size <= b.offset:
                break
            off = max(off, _align(b.offset + b.size))
        placed.append(Buffer(r.name, off, r.size, r.first, r.last))
        peak = max(peak, _align(off + r.size))
    return BufferPlan({b.name: b for b in placed}, peak, reuse)
