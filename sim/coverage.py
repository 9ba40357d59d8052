"""Functional coverage of the xDecimate testbench: bins defined up front, hits counted.

Equivalent of ``cocotb-coverage`` coverpoints and crosses, written out because the testbench
samples every operation (10^5 to 10^7 samples) and ``cocotb_coverage.CoverCross`` recomputes its
coverage by iterating over *all* its bins on every sample (two passes over ~3600 cross bins per
sample here), which would cost more than the simulation.  Here a sample is one dict update.

Coverage is reported as a number: bins hit / bins defined, overall and per point.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from xdecimate.hw.configs import XdecHwConfig
from xdecimate.sw.model import xdec_spec as spec

from .obi_mem import STALL_KINDS

__all__ = ["CSR_OPS", "CoverPoint", "Coverage", "xdec_coverage"]

#: CSR operations covered, by name.
CSR_OPS = ("write", "set", "clear", "read")


@dataclass
class CoverPoint:
    """One coverpoint (or cross, with tuple bins): a fixed bin set and hit counts."""

    name: str
    bins: tuple[Hashable, ...]
    doc: str = ""
    hits: dict[Hashable, int] = field(init=False)
    unexpected: int = 0

    def __post_init__(self) -> None:
        if len(set(self.bins)) != len(self.bins):
            raise ValueError(f"coverpoint {self.name!r} has duplicate bins")
        self.hits = dict.fromkeys(self.bins, 0)

    def sample(self, value: Hashable) -> None:
        """Count ``value`` (a value outside the bins is counted as unexpected)."""
        if value in self.hits:
            self.hits[value] += 1
        else:
            self.unexpected += 1

    @property
    def covered(self) -> int:
        return sum(1 for v in self.hits.values() if v)

    @property
    def missing(self) -> list[Hashable]:
        return [b for b, v in self.hits.items() if not v]


class Coverage:
    """A set of coverpoints with a combined figure."""

    def __init__(self, points: Iterable[CoverPoint]) -> None:
        self.points = {p.name: p for p in points}

    def __getitem__(self, name: str) -> CoverPoint:
        return self.points[name]

    def sample(self, name: str, value: Hashable) -> None:
        self.points[name].sample(value)

    @property
    def defined(self) -> int:
        return sum(len(p.bins) for p in self.points.values())

    @property
    def covered(self) -> int:
        return sum(p.covered for p in self.points.values())

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.defined if self.defined else 100.0

    def merge(self, other: Coverage) -> None:
        """Add the hits of ``other`` (same points and bins) into this one."""
        for name, p in other.points.items():
            mine = self.points[name]
            for b, v in p.hits.items():
                mine.hits[b] += v
            mine.unexpected += p.unexpected

    def summary(self) -> dict[str, object]:
        """JSON-able summary: totals and per point, with up to 10 missing bins each."""
        return {
            "covered": self.covered,
            "defined": self.defined,
            "percent": round(self.percent, 3),
            "points": {
                n: {"covered": p.covered, "defined": len(p.bins),
                    "unexpected": p.unexpected, "doc": p.doc,
                    "missing": [repr(b) for b in p.missing[:10]]}
                for n, p in self.points.items()
            },
        }

    def table(self) -> str:
        """Markdown table of the points."""
        rows = ["| Coverpoint | Bins hit / defined | What |", "|---|---|---|"]
        rows += [f"| `{n}` | {p.covered} / {len(p.bins)} | {p.doc} |"
                 for n, p in self.points.items()]
        rows.append(f"| **total** | **{self.covered} / {self.defined} "
                    f"({self.percent:.1f} %)** | |")
        return "\n".join(rows)


def _unsupported(cfg: XdecHwConfig) -> list[tuple[str, int]]:
    """Every (field, value) encoding of m_log2, n_log2, p_log2 the configuration traps on."""
    out = []
    for fname, ok in (("m_log2", cfg.m_log2), ("n_log2", cfg.n_log2), ("p_log2", cfg.p_log2)):
        out += [(fname, v) for v in range(1 << spec.field(fname).width) if v not in ok]
    return out


def access_bins(cfg: XdecHwConfig) -> list[tuple[str, int, int, int, str]]:
    """Cross bins pattern × lane × index value × byte offset × stall kind of ``cfg``."""
    return [(f"{n}:{m}", lane, idx, off, stall)
            for n, m in cfg.patterns
            for lane in range(4)
            for idx in range(m)  # idx is taken mod M (xdec_ref)
            for off in range(4)
            for stall in STALL_KINDS]


def xdec_coverage(cfg: XdecHwConfig) -> Coverage:
    """The coverage model of the unit for configuration ``cfg``."""
    pats = [f"{n}:{m}" for n, m in cfg.patterns]
    return Coverage([
        CoverPoint("access", tuple(access_bins(cfg)),
                   "xdec.lb: pattern × lane × index × byte offset × stall kind"),
        CoverPoint("pattern_p", tuple((p, q) for p in pats for q in cfg.p),
                   "xdec.lb: pattern × P"),
        CoverPoint("csr_op", tuple((o, prev) for o in CSR_OPS for prev in ("lb", "csr")),
                   "CSR op × previous request kind (back-to-back rewrites, mid-row)"),
        CoverPoint("illegal", tuple(_unsupported(cfg)),
                   "xdec.lb trapping on every unimplemented field encoding"),
        CoverPoint("held", ("lb", "csr", "illegal"),
                   "response held by o.ready low (rdata captured while stalled)"),
        CoverPoint("row_end", tuple(pats), "last group of an N:M row walked"),
        CoverPoint("cnt_wrap", tuple(pats), "xdec.lb at cnt = 0xFFFF (counter wraps)"),
        CoverPoint("issue", ("back_to_back", "gap"), "requests back to back / after a bubble"),
    ])
