"""Post-training quantization of a float graph onto the project's integer scheme.

What it is for: float :class:`~xdecimate.sw.net.ir.Graph` + calibration inputs -> quantized
graph the golden model runs.  The scheme (``docs/net.md``):

* weights int8, symmetric, **per tensor** (:func:`~xdecimate.sw.model.quant.quantize_weights`)
  -- the C kernels take one requantization per layer, so per-channel scales are not used;
* activations uint8 with a per-tensor scale and zero point from the calibrated range
  (min/max over the calibration set, or the ``percentile``-th / ``(100−percentile)``-th
  percentile of all calibration values): zero point 0 for a non-negative tensor (folded ReLU,
  softmax), 128 with a symmetric scale for the ``b`` operand of an activation x activation
  matmul, else asymmetric ``[min(lo, 0), max(hi, 0)]`` over 0..255;
* ops that keep the quantization (reshape, transpose, slice, max pooling, ReLU) share one
  scale and zero point with their input (a union of the calibrated ranges);
* a ReLU right after a conv / linear / add whose output has no other use is folded into that
  node's requantization (output zero point 0);
* the input zero point of a conv / linear layer is folded into its int32 bias; requantization
  parameters come from :func:`~xdecimate.sw.net.intops.requant_for` with an accumulator bound
  ``min(worst case, max(margin × calibrated |acc|, 2 × the saturating accumulator))``.

May import: numpy, the standard library, :mod:`xdecimate.sw.model` and this package.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from ..model.nm_format import is_nm
from ..model.quant import quantize_weights
from . import intops
from .floatref import run_float
from .ir import OPS, Graph, Node, QParams

__all__ = ["fold_relus", "quantize"]

_SAME_Q = tuple(op for op, spec in OPS.items() if spec.same_q)


def fold_relus(graph: Graph, keep: frozenset[str] = frozenset()) -> tuple[Graph, dict[str, str]]:
    """Fold every foldable ReLU into its producer; returns (new graph, node -> pre tensor).

    A ReLU folds into the conv / linear / add that produces its input when that tensor has no
    other consumer and is not the graph output; ReLUs whose output is in ``keep`` stay.
    The second result maps a folding node's name to its original output tensor (the
    pre-activation, for calibration).
    """
    g = copy.copy(graph)
    g.nodes = [copy.copy(n) for n in graph.nodes]
    for n in g.nodes:
        n.attrs = dict(n.attrs)
    pre: dict[str, str] = {}
    out: list[Node] = []
    by_out = {n.output: n for n in g.nodes}
    for n in g.nodes:
        if n.op == "relu" and n.output not in keep:
            src = by_out.get(n.inputs[0])
            users = [m for m in g.nodes if n.inputs[0] in m.inputs]
            if (src is not None and src.op in ("conv", "linear", "add")
                    and not src.attrs.get("relu") and len(users) == 1
                    and src.output != g.output):
                pre[src.name] = src.output
                src.output = n.output
                src.attrs["relu"] = True
                continue
        out.append(n)
    g.nodes = out
    g.shapes = {}
    g.validate()
    return g, pre


class _Ranges:
    def __init__(self, percentile: float | None):
        self.p = percentile
        self.lo: dict[str, float] = {}
        self.hi: dict[str, float] = {}
        self.vals: dict[str, list[np.ndarray]] = {}

    def add(self, name: str, v: np.ndarray) -> None:
        if self.p is not None:
            self.vals.setdefault(name, []).append(v.ravel())
            return
        self.lo[name] = min(self.lo.get(name, math.inf), float(v.min()))
        self.hi[name] = max(self.hi.get(name, -math.inf), float(v.max()))

    def get(self, name: str) -> tuple[float, float] | None:
        if self.p is not None and name in self.vals:
            allv = np.concatenate(self.vals[name])
            return (float(np.percentile(allv, 100 - self.p)),
                    float(np.percentile(allv, self.p)))
        if name not in self.lo:
            return None
        return self.lo[name], self.hi[name]


def _find(parent: dict[str, str], t: str) -> str:
    while parent.setdefault(t, t) != t:
        parent[t] = parent[parent[t]]
        t = parent[t]
    return t


def _qp_from_range(lo: float, hi: float, kind: str) -> QParams:
    if kind == "symmetric":
        m = max(abs(lo), abs(hi))
        return QParams(m / 127 if m > 0 else 1.0, 128)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo <= 0:
        return QParams(1.0, 0)
    s = (hi - lo) / 255
    return QParams(s, int(min(255, max(0, round(-lo / s)))))


def quantize(graph: Graph, calib: np.ndarray | Sequence[np.ndarray] | None, *,
             percentile: float | None = None, fixed: dict[str, QParams] | None = None,
             fixed_weights: dict[str, tuple[np.ndarray, float]] | None = None,
             acc_margin: float = 4.0, name: str | None = None) -> Graph:
    """Quantize a float graph; returns a validated quantized graph with the same tensor names.

    Parameters
    ----------
    graph : float graph (N:M layers already pruned, see :mod:`.sparsify`).
    calib : calibration inputs, one array of ``graph.input_shape`` or a sequence of them (an
        array with one more leading axis is a batch); None only if ``fixed`` covers every
        tensor (QDQ import).
    percentile : None for min/max ranges, else p in (50, 100]: ranges from the p-th and
        (100−p)-th percentiles.
    fixed : QParams imposed on tensors (QDQ import); they win over calibration.
    fixed_weights : ``node name -> (int8 weights, scale)`` imposed instead of
        ``quantize_weights`` (QDQ import).
    acc_margin : factor on the calibrated accumulator magnitude when sizing ``mult``.

    Raises
    ------
    TypeError
        ``graph`` is already quantized.
    ValueError
        A tensor has neither fixed QParams nor calibration data; imposed QParams conflict
        inside a group that must share them; a parameter cannot be represented (the node is
        named); a sparse layer's weights are not N:M after quantization.
    """
    if graph.quantized:
        raise TypeError(f"graph {graph.name!r} is already quantized")
    if percentile is not None and not 50 < percentile <= 100:
        raise ValueError(f"percentile must be in (50, 100], not {percentile!r}")
    fixed = dict(fixed or {})
    fixed_weights = fixed_weights or {}
    # A ReLU whose output has imposed QParams with a non-zero zero point cannot fold.
    keep = frozenset(t for t, q in fixed.items() if q.zero_point != 0)
    g, pre = fold_relus(graph, keep)

    ranges = _Ranges(percentile)
    samples: list[np.ndarray] = []
    if calib is not None:
        arr = calib if isinstance(calib, np.ndarray) else None
        if arr is not None and arr.shape == tuple(graph.input_shape):
            samples = [arr]
        elif arr is not None and arr.shape[1:] == tuple(graph.input_shape):
            samples = list(arr)
        elif arr is None:
            samples = [np.asarray(s) for s in calib]
        else:
            raise ValueError(f"calibration data must have shape {tuple(graph.input_shape)} or "
                             f"(n, *{tuple(graph.input_shape)}), not {arr.shape}")
        if not samples:
            raise ValueError("the calibration set is empty")
    for x in samples:
        env = run_float(graph, x, keep_pre=True)
        for t, v in env.items():
            ranges.add(t, v)
    for c, v in graph.constants.items():
        if not samples:
            ranges.add(c, v)

    # Groups of tensors that share QParams.
    parent: dict[str, str] = {}
    for n in g.nodes:
        if n.op in _SAME_Q:
            parent[_find(parent, n.output)] = _find(parent, n.inputs[0])
    kind: dict[str, str] = {}
    for n in g.nodes:
        if n.op == "matmul":
            kind[_find(parent, n.inputs[1])] = "symmetric"
    members: dict[str, list[str]] = {}
    for t in [g.input, *g.constants, *(n.output for n in g.nodes)]:
        members.setdefault(_find(parent, t), []).append(t)
    derived: dict[str, QParams] = {}
    for n in g.nodes:
        if n.op == "softmax":
            derived[n.output] = fixed.get(n.output, QParams(1 / 256, 0))
    qp: dict[str, QParams] = {}

    def group_qp(t: str) -> QParams:
        root = _find(parent, t)
        if root in qp:
            return qp[root]
        ms = members[root]
        imposed = {fixed[m] for m in ms if m in fixed} | {derived[m] for m in ms if m in derived}
        if len(imposed) > 1:
            raise ValueError(f"tensors {ms} must share one quantization (they are related by "
                             f"reshape/transpose/slice/max-pool/ReLU) but are given {imposed}")
        if imposed:
            q = imposed.pop()
        else:
            rs = [r for r in (ranges.get(m) for m in ms) if r is not None]
            if not rs:
                raise ValueError(f"tensor {t!r} has no QuantizeLinear scale and no "
                                 "calibration data: give a calibration set")
            q = _qp_from_range(min(r[0] for r in rs), max(r[1] for r in rs),
                               kind.get(root, "asymmetric"))
        qp[root] = q
        return q

    nodes: list[Node] = []
    for n in g.nodes:
        if n.op == "scale" and n.output not in fixed:
            qin = group_qp(n.inputs[0])
            derived[n.output] = QParams(qin.scale * n.attrs["factor"], qin.zero_point)
        qin = [group_qp(t) for t in n.inputs]
        qout = group_qp(n.output)
        try:
            params = _int_params(g, n, qin, qout, ranges, pre, fixed_weights, acc_margin)
        except ValueError as e:
            raise ValueError(f"node {n.name!r} ({n.op}): {e}") from None
        nodes.append(Node(n.op, n.name, n.inputs, n.output, dict(n.attrs), params))
    tensors = [g.input, *g.constants, *(n.output for n in g.nodes)]
    qparams = {t: group_qp(t) for t in tensors}
    consts = {c: qparams[c].quantize(v) for c, v in g.constants.items()}
    out = Graph(name=name or graph.name, input=g.input, input_shape=g.input_shape,
                output=g.output, nodes=nodes, constants=consts, qparams=qparams)
    out.validate()
    return out


def _int_params(g: Graph, n: Node, qin: list[QParams], qout: QParams, ranges: _Ranges,
                pre: dict[str, str], fixed_weights: dict, margin: float) -> dict:
    op = n.op
    sx, zx = qin[0].scale, qin[0].zero_point
    sy, zy = qout.scale, qout.zero_point
    r = ranges.get(pre.get(n.name, n.output + ":pre")) or ranges.get(n.output)
    absmax = 0.0 if r is None else max(abs(r[0]), abs(r[1]))
    if op in ("conv", "linear"):
        w = n.params["w"]
        if n.name in fixed_weights:
            wq, sw = fixed_weights[n.name]
        else:
            wq, sw = quantize_weights(w)
        if n.pattern is not None and not is_nm(wq.reshape(wq.shape[0], -1), n.pattern):
            raise ValueError(f"weights are not {n.pattern}-sparse: prune before quantizing")
        w2 = wq.reshape(wq.shape[0], -1).astype(np.int64)
        bias = np.round(n.params["b"] / (sx * sw)).astype(np.int64) - zx * w2.sum(axis=1)
        if np.abs(bias).max() > intops._I32:
            raise ValueError(f"the int32 bias overflows ({int(np.abs(bias).max())})")
        m = sx * sw / sy
        worst = int((np.abs(w2).sum(axis=1) * 255 + np.abs(bias)).max())
        lim = min(worst, max(margin * absmax / (sx * sw), 2 * 512 / m))
        return {"w": wq, "bias": bias.astype(np.int32), "rq": intops.requant_for(m, lim, zy)}
    if op == "matmul":
        k = g.shapes[n.inputs[0]][-1]
        m = sx * qin[1].scale / sy
        worst = 2 * k * 255 * 128
        lim = min(worst, max(margin * absmax / (sx * qin[1].scale), 2 * 512 / m))
        return {"rq": intops.requant_for(m, lim, zy)}
    if op == "add":
        p = intops.add_params(sx, qin[1].scale, sy)
        return {"ma": p.ma, "mb": p.mb, "shift": p.shift}
    if op in ("avgpool", "gap"):
        shape = g.shapes[n.inputs[0]]
        cnt = n.attrs["k"] ** 2 if op == "avgpool" else shape[0] * shape[1]
        return {"rq": intops.requant_for(sx / (sy * cnt), 255 * cnt, zy)}
    if op == "concat":
        return {"rescale": [None if q == qout else
                            dataclasses.astuple(intops.rescale_params(q.scale, sy))
                            for q in qin]}
    if op == "layernorm":
        p = intops.layernorm_params(g.shapes[n.inputs[0]][-1], sx, n.params["gamma"],
                                    n.params["beta"], n.attrs["eps"], sy, zy)
        return {"f": p.f, "eps_int": p.eps_int, "g": p.g, "b": p.b, "shift": p.shift}
    if op == "softmax":
        r_out = 1 / sy
        if zy != 0 or abs(r_out - round(r_out)) > 1e-6 * r_out or not 1 <= round(r_out) <= 256:
            raise ValueError(f"softmax output must be QParams(1/r, 0) with an integer r in "
                             f"1..256, not {qout}")
        p = intops.softmax_params(sx, g.shapes[n.inputs[0]][-1], round(r_out))
        return {"k": p.k, "q_ln2": p.q_ln2, "q_b": p.q_b, "q_c": p.q_c, "r": p.r}
    if op == "gelu":
        return {"lut": intops.gelu_lut(sx, zx, sy, zy)}
    return {}
