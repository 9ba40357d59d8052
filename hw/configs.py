"""Named hardware configurations of the xDecimate unit: one table, the area flow iterates over it.

A configuration chooses which *legal-by-spec* values of the ``xdec`` CSR fields the hardware
implements: the block sizes M, the non-zeros per block N and the pixel streams P.  Everything else
(counter width, data width, field positions, index widths) comes from
:mod:`xdecimate.sw.model.xdec_spec` and is the same in every configuration.

A configuration that leaves out a value the spec allows **traps on it**: ``xdec.lb`` with that
value in the CSR raises the unit's illegal-instruction output and changes no state, exactly like a
value the spec itself forbids.  Software written for a smaller configuration therefore never runs
silently wrong on it; it traps.  :func:`supports` is the executable form of this rule and the
testbenches use it to predict traps.

| Name | M | N | P | Why |
|---|---|---|---|---|
| ``full`` | 4, 8, 16 | 1, 2 | 1, 2, 4 | everything the spec allows |
| ``paper`` | 4, 8, 16 | 1 | 1, 2 | the paper's patterns (1:M) and its 1×2 kernels |
| ``m4only`` | 4 | 1, 2 | 1, 2, 4 | smallest useful datapath: 2-bit indices only |
"""

from __future__ import annotations

from dataclasses import dataclass

from xdecimate.sw.model import xdec_spec as spec

__all__ = ["CONFIGS", "DEFAULT_CONFIG", "XdecHwConfig", "config", "supports"]


def _legal(name: str) -> tuple[int, ...]:
    """Legal values (as M, N or P, not log2) of CSR field ``name`` according to the spec."""
    legal = spec.field(name).legal
    assert legal is not None
    return tuple(1 << v for v in legal)


@dataclass(frozen=True)
class XdecHwConfig:
    """One hardware configuration: the subsets of M, N and P the datapath implements.

    Parameters
    ----------
    name : identifier used for build folders, Verilog file names and area reports.
    m : supported block sizes M (a non-empty subset of the spec's legal M).
    n : supported non-zeros per block N (a non-empty subset of the spec's legal N).
    p : supported pixel streams P (a non-empty subset of the spec's legal P).
    doc : one line saying what the configuration is for.

    Raises
    ------
    TypeError
        If ``name`` is not a string or a set is not a tuple of ints.
    ValueError
        If a set is empty, unsorted, has duplicates, or holds a value the spec does not allow.
    """

    name: str
    m: tuple[int, ...]
    n: tuple[int, ...]
    p: tuple[int, ...]
    doc: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise TypeError(f"configuration name must be an identifier string, not {self.name!r}")
        for label, values, fname in (("M", self.m, "m_log2"), ("N", self.n, "n_log2"),
                                     ("P", self.p, "p_log2")):
            if not isinstance(values, tuple) or not all(isinstance(v, int) for v in values):
                raise TypeError(f"{label} set must be a tuple of ints, not {values!r}")
            legal = _legal(fname)
            if not values:
                raise ValueError(f"{label} set must not be empty, not {values!r}")
            if list(values) != sorted(set(values)):
                raise ValueError(f"{label} set must be sorted without duplicates, not {values!r}")
            bad = [v for v in values if v not in legal]
            if bad:
                raise ValueError(f"{label} set may only hold values in {legal}, not {values!r}")

    @property
    def m_log2(self) -> tuple[int, ...]:
        """Supported ``m_log2`` CSR field values."""
        return tuple(v.bit_length() - 1 for v in self.m)

    @property
    def n_log2(self) -> tuple[int, ...]:
        """Supported ``n_log2`` CSR field values."""
        return tuple(v.bit_length() - 1 for v in self.n)

    @property
    def p_log2(self) -> tuple[int, ...]:
        """Supported ``p_log2`` CSR field values."""
        return tuple(v.bit_length() - 1 for v in self.p)

    @property
    def patterns(self) -> tuple[tuple[int, int], ...]:
        """Supported (N, M) patterns, in the order of ``xdec_spec.PATTERNS``."""
        return tuple((n, m) for n, m in spec.PATTERNS if n in self.n and m in self.m)

    @property
    def index_bits(self) -> tuple[int, ...]:
        """Distinct index-field widths the datapath needs, ascending."""
        return tuple(sorted({spec.INDEX_BITS[m] for m in self.m}))


#: Every named configuration; the area flow and ``xdecimate verilog`` iterate over this.
CONFIGS: dict[str, XdecHwConfig] = {
    c.name: c
    for c in (
        XdecHwConfig(name="full", m=(4, 8, 16), n=(1, 2), p=(1, 2, 4),
                     doc="everything the spec allows"),
        XdecHwConfig(name="paper", m=(4, 8, 16), n=(1,), p=(1, 2),
                     doc="the paper's 1:M patterns and its 1x2 kernels"),
        XdecHwConfig(name="m4only", m=(4,), n=(1, 2), p=(1, 2, 4),
                     doc="smallest useful datapath: M = 4, 2-bit indices only"),
    )
}

#: The configuration used when none is named.
DEFAULT_CONFIG = "full"


def config(name: str) -> XdecHwConfig:
    """Look up a named configuration.

    Raises
    ------
    ValueError
        If ``name`` is not in :data:`CONFIGS`.
    """
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"configuration must be one of {sorted(CONFIGS)}, "
                         f"not {name!r}") from None


def supports(cfg: XdecHwConfig, csr: int) -> bool:
    """True if configuration ``cfg`` implements the M, N, P encoded in CSR value ``csr``.

    A CSR whose fields are illegal by the spec is never supported.  ``xdec.lb`` traps exactly
    when this is false.
    """
    m_log2 = spec.field("m_log2").get(csr)
    n_log2 = spec.field("n_log2").get(csr)
    p_log2 = spec.field("p_log2").get(csr)
    reserved = spec.field("reserved").get(csr)
    return (m_log2 in cfg.m_log2 and n_log2 in cfg.n_log2 and p_log2 in cfg.p_log2
            and reserved == 0)
