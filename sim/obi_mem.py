"""OBI 1.x memory model backed by a numpy image, with grant and response wait states.

Why not ``cocotbext-obi`` (1.1.0, installed): its ``ObiDevice`` needs an ``rready`` signal (OBI
1.2+; CV32E40P's LSU port has none), never inserts response wait states (its ``delay`` property
is unused by the responder loop), reseeds Python's global ``random`` in its constructor, and runs
its own coroutine with about ten signal accesses per cycle.  This model is cycle-driven by the
testbench (:mod:`xdecimate.sim.testbench`) so one coroutine serves every component, and the wait
states of each read can be forced, which directed coverage closure needs.

Protocol (slave side, as the CV32E40P LSU expects it)
    * ``gnt`` may be high without ``req``; a request is granted in a cycle with ``req`` and
      ``gnt``.  A request waits ``gnt_wait`` cycles (``req`` high, ``gnt`` low) before its grant.
    * ``rvalid`` is high for one cycle, ``1 + rsp_wait`` cycles after the grant, in order, with
      ``rdata`` = the aligned word containing ``addr`` (read at grant time).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["STALL_KINDS", "ObiMemory", "StallProfile", "stall_kind"]

#: Wait-state kinds of one read, as the coverage model names them.
STALL_KINDS = ("none", "gnt", "rsp", "both")


def stall_kind(gnt_wait: int, rsp_wait: int) -> str:
    """Name of the wait-state kind of a read with these waits."""
    return STALL_KINDS[(gnt_wait > 0) + 2 * (rsp_wait > 0)]


@dataclass(frozen=True)
class StallProfile:
    """Random wait-state generator: probabilities and maxima of grant and response waits.

    Also the issue-side idle probability (``i.valid`` bubbles) and the response-side
    back-pressure probability (``o.ready`` low), so one profile describes a whole environment.
    """

    name: str
    p_gnt: float = 0.0
    max_gnt: int = 3
    p_rsp: float = 0.0
    max_rsp: int = 3
    p_idle: float = 0.0
    p_backpressure: float = 0.0

    def draw(self, rng: random.Random) -> tuple[int, int]:
        """(grant wait, response wait) of the next read."""
        g = rng.randint(1, self.max_gnt) if rng.random() < self.p_gnt else 0
        r = rng.randint(1, self.max_rsp) if rng.random() < self.p_rsp else 0
        return g, r


class ObiMemory:
    """Cycle-driven OBI slave over a byte image, addressed modulo the image size.

    Parameters
    ----------
    image : numpy uint8 array whose size is a power of two (address bits above alias).
    rng : random generator for the wait states.
    profile : default wait-state generator.
    """

    def __init__(self, image: np.ndarray, rng: random.Random, profile: StallProfile) -> None:
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 1:
            raise TypeError(f"image must be a 1-D numpy uint8 array, not {image!r}")
        size = image.size
        if size < 4 or size & (size - 1):
            raise ValueError(f"image size must be a power of two >= 4, not {size!r}")
        self.image = image
        self._words = image.view("<u4")
        self._word_mask = size // 4 - 1
        self.rng = rng
        self.profile = profile
        self.plan: tuple[int, int] | None = None  # waits of the next read
        self._wait_left = 0
        self._rsp_wait = 0
        self._due: deque[tuple[int, int]] = deque()  # (cycle, rdata)
        self.gnt = 1
        self.rvalid = 0
        self.rdata = 0
        self.reads = 0
        # per-read observation for the monitor: waits of the read granted last
        self.last_gnt_wait = 0

    def byte(self, addr: int) -> int:
        """The byte at ``addr`` (what the reference model reads)."""
        return int(self.image[addr & (self.image.size - 1)])

    def word(self, addr: int) -> int:
        """The aligned word containing ``addr``."""
        return int(self._words[(addr >> 2) & self._word_mask])

    def expect_read(self, stall: tuple[int, int] | None) -> None:
        """Set the waits of the next read (``None``: draw them from the profile)."""
        self.plan = stall if stall is not None else self.profile.draw(self.rng)
        self._wait_left, self._rsp_wait = self.plan

    def drive(self, cycle: int, set_: Callable[[str, int], None]) -> None:
        """Cycle start: drive ``gnt``, ``rvalid``, ``rdata``."""
        gnt = 1 if self._wait_left == 0 else 0
        if gnt != self.gnt:
            set_("bus__gnt", gnt)
            self.gnt = gnt
        if self._due and self._due[0][0] == cycle:
            _, rdata = self._due.popleft()
            set_("bus__rdata", rdata)
            self.rdata = rdata
            if not self.rvalid:
                set_("bus__rvalid", 1)
                self.rvalid = 1
        elif self.rvalid:
            set_("bus__rvalid", 0)
            self.rvalid = 0

    def sample(self, cycle: int, req: int, addr: int) -> bool:
        """Before the edge: account the request phase; return True if a read was granted."""
        if not req:
            return False
        if not self.gnt:
            self._wait_left -= 1
            return False
        self.last_gnt_wait = self.plan[0] if self.plan is not None else 0
        at = max(cycle + 1 + self._rsp_wait, self._due[-1][0] + 1 if self._due else 0)
        self._due.append((at, self.word(addr)))
        self.reads += 1
        self.plan = None
        self._wait_left = 0
        self._rsp_wait = 0
        return True

    @property
    def busy(self) -> bool:
        """A granted read has not been answered yet."""
        return bool(self._due)
