"""One layer's approximation choice, and the approximate graph of a configuration.

What it is for: a *configuration* maps N:M-able layers to a :class:`Choice` -- the pattern the
layer runs at and the ratio of its groups to skip.  :func:`apply` turns the trained graph into
the approximate one, in two steps per layer:

1. **re-pruning** to a pattern at least as sparse as the trained one (:func:`reachable`): in
   every block of M' columns keep the N' existing non-zeros of highest element significance
   (ties: the lower column; :func:`.significance.reprune`);
2. **skipping**: of the G groups of the layer that hold any non-zero weight (a group = one row's
   ``span = 4·M'/N'`` columns ``[g·span, (g+1)·span)``, 4 non-zero slots, one inner-loop
   iteration), zero the ``round(skip·G)`` of lowest group significance, ranked across the whole
   layer (ties: (row, group) order; ``round`` is half up, :func:`n_skipped`).

The ``xdec4_skip`` kernel skips exactly the groups whose weights are all zero, so the golden
model of the result *is* the approximate kernel's result, bit for bit.  A dense layer (pattern
None) skips *units* instead: one word (4 columns) of a quad of rows, what ``dense_4x2_skip``
leaves out (its 4x2 loop loads each activation word once for four rows); their significance is
the sum of the four rows' group significances for 4-column groups, the ``rows mod 4`` leftover
rows never skip (:func:`skip_units`).

May import: numpy, the standard library, :mod:`xdecimate.sw.train` and the packages below it.
"""

from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass

import numpy as np

from ..model.nm_format import Pattern
from ..net.ir import Graph
from ..train import config as train_config
from .significance import Significance, span

__all__ = ["SKIPS", "Choice", "apply", "choices", "density", "n_skipped", "nonzero_groups",
           "reachable", "skip_groups", "skip_units"]

#: The skip ratios of the search.
SKIPS = (0.0, 0.125, 0.25, 0.375, 0.5)


def _check_pattern(what: str, pattern: object) -> None:
    if pattern is not None and pattern not in train_config.PATTERNS:
        raise ValueError(f"{what} must be None (dense) or one of {list(train_config.PATTERNS)}, "
                         f"not {pattern!r}")


@dataclass(frozen=True)
class Choice:
    """One layer's approximation: ``pattern`` ("1:8"; None = dense) and ``skip``, the ratio in
    [0, 1) of the layer's non-zero groups (dense: units of a word x a quad of rows) to skip."""

    pattern: str | None = None
    skip: float = 0.0

    def __post_init__(self) -> None:
        _check_pattern("Choice pattern", self.pattern)
        if isinstance(self.skip, bool) or not isinstance(self.skip, numbers.Real):
            raise TypeError(f"Choice skip must be a real number, not {type(self.skip).__name__}")
        skip = float(self.skip)
        if not 0.0 <= skip < 1.0:
            raise ValueError(f"Choice skip must be in [0, 1), not {self.skip!r}")
        object.__setattr__(self, "skip", skip)

    def to_json(self) -> list:
        """``[pattern, skip]``."""
        return [self.pattern, self.skip]

    @classmethod
    def from_json(cls, v: list | tuple) -> Choice:
        """The inverse of :meth:`to_json`."""
        pattern, skip = v
        return cls(pattern, skip)

    def __str__(self) -> str:
        return f"{self.pattern or 'dense'}" + (f"/skip {self.skip:g}" if self.skip else "")


def density(pattern: str | None) -> float:
    """N/M (1 for dense)."""
    if pattern is None:
        return 1.0
    p = Pattern.parse(pattern)
    return p.n / p.m


def reachable(base: str | None) -> tuple[str | None, ...]:
    """The patterns a layer trained at ``base`` may run at, densest first: ``base`` itself and
    every pattern of ``config.PATTERNS`` of lower density whose M is a multiple of base's M
    (from dense: dense and every pattern)."""
    _check_pattern("base pattern", base)
    ordered = sorted(train_config.PATTERNS, key=lambda p: -density(p))   # stable
    if base is None:
        return (None, *ordered)
    m = Pattern.parse(base).m
    return (base, *(p for p in ordered
                    if density(p) < density(base) and Pattern.parse(p).m % m == 0))


def choices(base: str | None) -> tuple[Choice, ...]:
    """Every :class:`Choice` of a layer trained at ``base``: each reachable pattern (dense
    included) at each skip ratio of :data:`SKIPS`."""
    return tuple(Choice(p, s) for p in reachable(base) for s in SKIPS)


def n_skipped(skip: float, groups: int) -> int:
    """``round(skip · groups)``, half up."""
    return math.floor(skip * groups + 0.5)


def nonzero_groups(w: np.ndarray, sp: int) -> np.ndarray:
    """bool (rows, groups): which groups of ``sp`` columns of ``w`` (rows, K; K zero-padded to
    whole groups) hold any non-zero weight."""
    rows, k = w.shape
    wp = np.zeros((rows, -(-k // sp) * sp), bool)
    wp[:, :k] = w != 0
    return wp.reshape(rows, -1, sp).any(axis=2)


def skip_groups(w: np.ndarray, gsig: np.ndarray, sp: int, skip: float) -> np.ndarray:
    """``w`` (rows, K) with the ``n_skipped(skip, G)`` non-zero groups of lowest significance
    ``gsig`` (rows, groups) zeroed (G: groups with any non-zero weight; ties: (row, group)
    order)."""
    nz = nonzero_groups(w, sp)
    if gsig.shape != nz.shape:
        raise ValueError(f"group significance has shape {gsig.shape}, the layer has groups "
                         f"{nz.shape}")
    idx = np.flatnonzero(nz)                                     # (row, group) order
    kill = idx[np.argsort(gsig.ravel()[idx], kind="stable")][:n_skipped(skip, len(idx))]
    rows, k = w.shape
    out = np.zeros((rows, nz.shape[1] * sp), w.dtype)
    out[:, :k] = w
    out = out.reshape(rows, -1, sp)
    out[kill // nz.shape[1], kill % nz.shape[1], :] = 0
    return out.reshape(rows, -1)[:, :k].copy()


def skip_units(w: np.ndarray, usig: np.ndarray, skip: float) -> np.ndarray:
    """Dense ``w`` (rows, K) with the ``n_skipped(skip, U)`` units of lowest significance
    ``usig`` (rows div 4, ⌈K/4⌉) zeroed -- a unit is a word (4 columns) of a quad of rows; U:
    units with any non-zero weight; ties: (quad, word) order.  Leftover rows are kept."""
    rows, k = w.shape
    q, kw = rows // 4, -(-k // 4)
    if usig.shape != (q, kw):
        raise ValueError(f"unit significance has shape {usig.shape}, the layer has units "
                         f"{(q, kw)}")
    wp = np.zeros((rows, 4 * kw), w.dtype)
    wp[:, :k] = w
    quads = wp[:4 * q].reshape(q, 4, kw, 4)
    nz = (quads != 0).any(axis=(1, 3))
    idx = np.flatnonzero(nz)
    kill = idx[np.argsort(usig.ravel()[idx], kind="stable")][:n_skipped(skip, len(idx))]
    quads[kill // kw, :, kill % kw, :] = 0
    return wp[:, :k].copy()


def apply(graph: Graph, config: dict[str, Choice], sig: Significance) -> Graph:
    """A deep copy of quantized ``graph`` (the trained model ``sig`` was measured on) with every
    layer of ``config`` re-pruned to its choice's pattern and the choice's share of its groups
    zeroed; ``attrs["pattern"]`` follows the choice.  Layers not in ``config`` are unchanged.

    Raises
    ------
    TypeError
        ``config`` is not a dict of layer name -> :class:`Choice`.
    ValueError
        A layer is unknown (not a conv / linear node of ``graph``, or not measured by ``sig``),
        its weights are not the ones ``sig`` measured, the pattern is not reachable from the
        layer's trained pattern, or the layer's Cin (K of a linear layer) is not a multiple of
        4 and the choice is N:M.
    """
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict of layer name -> Choice, not "
                        f"{type(config).__name__}")
    out = copy.deepcopy(graph)
    for name, choice in config.items():
        if not isinstance(choice, Choice):
            raise TypeError(f"config[{name!r}] must be a Choice, not {type(choice).__name__}")
        try:
            node = out.node(name)
        except KeyError:
            raise ValueError(f"unknown layer {name!r}: graph {graph.name!r} has no such node")\
                from None
        if node.op not in ("conv", "linear"):
            raise ValueError(f"unknown layer {name!r}: a {node.op}, not a conv or linear layer")
        if name not in sig.layers:
            raise ValueError(f"unknown layer {name!r}: the significance covers "
                             f"{list(sig.layers)}")
        w = node.params["w"]
        if not np.array_equal(w.reshape(w.shape[0], -1), sig.weights(name)):
            raise ValueError(f"layer {name!r}: the significance was measured on other weights "
                             f"(another model?)")
        base = None if node.pattern is None else str(node.pattern)
        if choice.pattern not in reachable(base):
            raise ValueError(f"layer {name!r}: pattern {choice.pattern or 'dense'} is not "
                             f"reachable from the trained {base or 'dense'}; reachable: "
                             f"{[p or 'dense' for p in reachable(base)]}")
        if choice.pattern is not None and w.shape[-1] % 4:
            raise ValueError(f"layer {name!r}: Cin = {w.shape[-1]} is not a multiple of 4 "
                             f"(the N:M kernels need it)")
        wm = np.array(sig.reprune(name, choice.pattern))
        if choice.skip and choice.pattern is None:
            wm = skip_units(wm, sig.units(name), choice.skip)
        elif choice.skip:
            wm = skip_groups(wm, sig.groups(name, choice.pattern), span(choice.pattern),
                             choice.skip)
        node.params["w"] = wm.reshape(w.shape)
        if choice.pattern is None:
            node.attrs.pop("pattern", None)
        else:
            node.attrs["pattern"] = Pattern.parse(choice.pattern)
    out.shapes = {}
    out.validate()
    return out
