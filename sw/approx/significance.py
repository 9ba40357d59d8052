"""Significance of the groups and weights of an N:M layer, measured on calibration images.

What it is for: deciding, offline, which groups of a layer the approximate kernel skips and
which weights survive a re-pruning to a sparser pattern.  Armeniakos et al. (arXiv 2409.16815)
rank single weight x input products by ``mean |partial / total|`` over calibration images.  The
N:M kernels skip whole *groups* (4 non-zero slots of one row = one inner-loop iteration = the
``span = 4·M/N`` columns ``[g·span, (g+1)·span)`` of row ``r``; :func:`span`), so the ranking is
lifted to a group: with ``x_k`` the uint8 input codes of the layer's K order (im2col in HWC
order for a convolution, as the kernels read them), ``zx`` the input zero point (``w·(x - zx)``
is the real contribution up to the scales), and the expectation ``E`` over calibration images and
output pixels (tokens for a linear layer),

    sig[r, g] = E|Σ_{k∈g} w_rk (x_k − zx)|  /  E|Σ_k w_rk (x_k − zx)|

a **ratio of means**, not a mean of ratios: the per-sample total of a row can be 0 or nearly so,
and one such sample would dominate a mean of ratios.  A row whose mean |total| is exactly 0 is
divided by 1 instead (its groups then rank as significant, the conservative side).  The
*element* significance that re-prunes a layer to a sparser pattern (:func:`reprune`) is the same
normalizer over the magnitude of one weight times its mean input: ``|w_rk|·E|x_k − zx| / E|Σ_k
w_rk (x_k − zx)|``.

Everything is exact integer arithmetic in float64 (every partial sum is an integer far below
2^53) in a fixed order, so the numbers are deterministic.  Inputs come from the batched golden
model (:func:`xdecimate.sw.train.evaluate.run_batch`) on the graph truncated before the layer.

May import: numpy, the standard library, :mod:`xdecimate.sw.train` and the packages below it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..model.nm_format import Pattern
from ..net.ir import Graph
from ..train import evaluate

__all__ = ["SIG_IMAGES", "Significance", "element_significance", "group_significance",
           "layer_columns", "reprune", "span"]

#: Calibration images the significance is measured on (the first ones of the sample given).
SIG_IMAGES = 200
#: Elements of one block of partial sums (float64: 32 MB), so memory stays small for any layer.
_BLOCK = 1 << 22
#: Images per batched golden-model call when collecting a layer's inputs.
_BATCH = 100


def _pattern(pattern: Pattern | str) -> Pattern:
    return pattern if isinstance(pattern, Pattern) else Pattern.parse(pattern)


def span(pattern: Pattern | str) -> int:
    """Columns of one group (4 non-zero slots) of ``pattern``: ``4·M/N`` (16 for 1:4, 32 for
    1:8, 64 for 1:16, 16 for 2:8, 32 for 2:16)."""
    return _pattern(pattern).k_quantum


def layer_columns(graph: Graph, images: np.ndarray, layer: str) -> tuple[np.ndarray, int]:
    """The inputs of conv / linear ``layer`` as the kernel reads them, and their zero point.

    ``images``: uint8 ``(n, *graph.input_shape)`` or, for a one-channel input, ``(n, H, W)``.
    Returns uint8 ``(P, K)`` -- one row per output pixel (conv: im2col rows in HWC order, the
    padding filled with the zero point; linear: one row per token) -- and ``zx``.
    """
    node = graph.node(layer)
    if node.op not in ("conv", "linear"):
        raise ValueError(f"layer {layer!r} is a {node.op}, not a conv or linear layer")
    x = np.asarray(images)
    if x.dtype != np.uint8:
        raise TypeError(f"images must be uint8 codes, not {x.dtype}")
    if x.shape[1:] != tuple(graph.input_shape):
        x = x.reshape(len(x), *graph.input_shape)
    idx = graph.nodes.index(node)
    sub = replace(graph, name=f"{graph.name}[:{layer}]", output=node.inputs[0],
                  nodes=graph.nodes[:idx], shapes={})
    sub.validate()
    zx = graph.qparams[node.inputs[0]].zero_point
    parts = []
    for i in range(0, len(x), _BATCH):
        a = evaluate.run_batch(sub, np.ascontiguousarray(x[i:i + _BATCH]))
        if node.op == "conv":
            w = node.params["w"]
            kh, kw, s, pad = w.shape[1], w.shape[2], node.attrs["stride"], node.attrs["pad"]
            if pad:
                a = np.pad(a, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=zx)
            v = np.lib.stride_tricks.sliding_window_view(a, (kh, kw), axis=(1, 2))[:, ::s, ::s]
            a = v.transpose(0, 1, 2, 4, 5, 3).reshape(-1, kh * kw * a.shape[3])
        parts.append(np.ascontiguousarray(a.reshape(-1, a.shape[-1])))
    return np.concatenate(parts), int(zx)


def _check_k(w: np.ndarray, cols: np.ndarray) -> None:
    if w.ndim != 2 or cols.ndim != 2 or cols.shape[1] != w.shape[1]:
        raise ValueError(f"weights (rows, K) {w.shape} and inputs (P, K) {cols.shape} do not "
                         f"match")


def _blocks(w: np.ndarray, cols: np.ndarray, zx: int, sp: int):
    """Yield (x - zx) float64 blocks of ``cols`` zero-padded to whole groups of ``sp`` columns,
    sized so that one block of partial sums (rows x groups each) stays below :data:`_BLOCK`."""
    k, kp = w.shape[1], -(-w.shape[1] // sp) * sp
    step = max(1, _BLOCK // max(1, w.shape[0] * (kp // sp)))
    for i in range(0, len(cols), step):
        x = np.zeros((min(step, len(cols) - i), kp), np.float64)
        x[:, :k] = cols[i:i + step]
        x[:, :k] -= zx
        yield x


def _normalizer(total_abs_mean: np.ndarray) -> np.ndarray:
    return np.where(total_abs_mean > 0, total_abs_mean, 1.0)


def group_significance(w: np.ndarray, cols: np.ndarray, zx: int, sp: int) -> np.ndarray:
    """``sig[r, g]`` (float64, rows x groups) of weight matrix ``w`` (rows, K) on inputs ``cols``
    (P, K) with zero point ``zx``, for groups of ``sp`` columns (K zero-padded to whole groups).
    """
    _check_k(w, cols)
    rows, k = w.shape
    kp = -(-k // sp) * sp
    ng = kp // sp
    wp = np.zeros((rows, kp), np.float64)
    wp[:, :k] = w
    num = np.zeros((rows, ng))
    tot = np.zeros(rows)
    for x in _blocks(w, cols, zx, sp):
        part = np.empty((len(x), rows, ng))
        for g in range(ng):
            part[:, :, g] = x[:, g * sp:(g + 1) * sp] @ wp[:, g * sp:(g + 1) * sp].T
        num += np.abs(part).sum(axis=0)
        tot += np.abs(part.sum(axis=2)).sum(axis=0)
    n = max(1, len(cols))
    return (num / n) / _normalizer(tot / n)[:, None]


def element_significance(w: np.ndarray, cols: np.ndarray, zx: int) -> np.ndarray:
    """``|w_rk|·E|x_k − zx| / E|Σ_k w_rk (x_k − zx)|`` (float64, rows x K)."""
    _check_k(w, cols)
    ex = np.zeros(w.shape[1])
    tot = np.zeros(w.shape[0])
    wf = w.astype(np.float64)
    for x in _blocks(w, cols, zx, 1):
        ex += np.abs(x).sum(axis=0)
        tot += np.abs(x @ wf.T).sum(axis=0)
    n = max(1, len(cols))
    return np.abs(wf) * (ex / n)[None, :] / _normalizer(tot / n)[:, None]


def reprune(w: np.ndarray, elem: np.ndarray, pattern: Pattern | str) -> np.ndarray:
    """``w`` (int8, rows x K) re-pruned to ``pattern``: in every block of M columns keep the N
    existing non-zeros of highest element significance ``elem`` (ties: the lower column), zero
    the others.  A block with at most N non-zeros is unchanged; nothing new becomes non-zero.
    """
    p = _pattern(pattern)
    rows, k = w.shape
    if elem.shape != w.shape:
        raise ValueError(f"significance has shape {elem.shape}, the weights {w.shape}")
    kb = -(-k // p.m) * p.m
    wb = np.zeros((rows, kb), w.dtype)
    wb[:, :k] = w
    score = np.full((rows, kb), -np.inf)
    score[:, :k] = np.where(w != 0, elem, -np.inf)
    wb, score = wb.reshape(rows, -1, p.m), score.reshape(rows, -1, p.m)
    order = np.argsort(-score, axis=2, kind="stable")   # descending, ties to the lower column
    keep = np.zeros(wb.shape, bool)
    np.put_along_axis(keep, order[:, :, :p.n], True, axis=2)
    return np.where(keep & (wb != 0), wb, 0).reshape(rows, kb)[:, :k].astype(w.dtype)


class Significance:
    """The significance of the layers ``layers`` of quantized ``graph`` (the trained model),
    measured on the first ``max_images`` of ``images`` (uint8 calibration images).

    Keeps each layer's sampled inputs (a few MB) and caches what it computes: :meth:`element`
    per layer, :meth:`reprune` and :meth:`groups` per layer and pattern.  Returned arrays are
    read-only.
    """

    def __init__(self, graph: Graph, images: np.ndarray, layers: tuple[str, ...] | list[str], *,
                 max_images: int = SIG_IMAGES):
        if not graph.quantized:
            raise TypeError(f"graph {graph.name!r} is a float graph: quantize it first")
        if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 1:
            raise ValueError(f"max_images must be a positive int, not {max_images!r}")
        self._layers = tuple(layers)
        x = np.asarray(images)[:max_images]
        self._w: dict[str, np.ndarray] = {}
        self._base: dict[str, Pattern | None] = {}
        self._cols: dict[str, tuple[np.ndarray, int]] = {}
        for name in self._layers:
            node = graph.node(name)
            self._cols[name] = layer_columns(graph, x, name)
            self._w[name] = _frozen(node.params["w"].reshape(node.params["w"].shape[0], -1))
            self._base[name] = node.pattern
        self._elem: dict[str, np.ndarray] = {}
        self._rep: dict[tuple[str, str | None], np.ndarray] = {}
        self._grp: dict[tuple[str, str], np.ndarray] = {}

    @property
    def layers(self) -> tuple[str, ...]:
        return self._layers

    def _check(self, layer: str) -> None:
        if layer not in self._w:
            raise KeyError(f"no significance for layer {layer!r}; measured: {list(self._layers)}")

    def weights(self, layer: str) -> np.ndarray:
        """The trained weight matrix (rows, K) of ``layer``."""
        self._check(layer)
        return self._w[layer]

    def columns(self, layer: str) -> tuple[np.ndarray, int]:
        """The sampled inputs (P, K) of ``layer`` and their zero point."""
        self._check(layer)
        return self._cols[layer]

    def element(self, layer: str) -> np.ndarray:
        """Element significance (rows, K) of the trained weights of ``layer``."""
        self._check(layer)
        if layer not in self._elem:
            cols, zx = self._cols[layer]
            self._elem[layer] = _frozen(element_significance(self._w[layer], cols, zx))
        return self._elem[layer]

    def reprune(self, layer: str, pattern: str | None) -> np.ndarray:
        """The trained weights of ``layer`` re-pruned to ``pattern`` (None or the trained
        pattern: the trained weights).  Reachability is :mod:`.transform`'s concern."""
        self._check(layer)
        base = self._base[layer]
        if pattern is None or (base is not None and str(base) == pattern):
            return self._w[layer]
        key = (layer, pattern)
        if key not in self._rep:
            self._rep[key] = _frozen(reprune(self._w[layer], self.element(layer), pattern))
        return self._rep[key]

    def units(self, layer: str) -> np.ndarray:
        """Unit significance (rows div 4, ⌈K/4⌉) of the trained dense weights of ``layer``: a
        unit is one word (4 columns) of a quad of rows (``dense_4x2_skip``), its significance
        the sum of the four rows' group significances for groups of 4 columns."""
        key = (layer, "units")
        if key not in self._grp:
            cols, zx = self.columns(layer)
            g = group_significance(self._w[layer], cols, zx, 4)
            q = g.shape[0] // 4
            self._grp[key] = _frozen(g[:4 * q].reshape(q, 4, -1).sum(axis=1))
        return self._grp[key]

    def groups(self, layer: str, pattern: str) -> np.ndarray:
        """Group significance (rows, groups of ``span(pattern)`` columns) of ``layer``
        re-pruned to ``pattern``."""
        key = (layer, pattern)
        if key not in self._grp:
            cols, zx = self.columns(layer)
            self._grp[key] = _frozen(group_significance(self.reprune(layer, pattern), cols, zx,
                                                        span(pattern)))
        return self._grp[key]


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.flags.writeable = False
    return a
