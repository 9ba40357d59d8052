"""The golden model of a whole quantized network: numpy, integers, bit-exact with the core.

What it is for: the reference every deployed network is checked against.  Conv and linear
layers call the project's golden kernels (:func:`~xdecimate.sw.model.kernels.conv2d_dense`,
:func:`~xdecimate.sw.model.kernels.fc_dense`, and for N:M layers
:func:`~xdecimate.sw.model.kernels.fc_sparse_gather` on the compressed
:class:`~xdecimate.sw.model.nm_format.NMImage`), so those layers are bit-exact with the C
kernels by construction; the other ops follow the integer formulas of ``docs/net.md``
(:mod:`.intops`).  An ``OverflowError`` (an accumulator or requantized value leaving int32) is
re-raised naming the node.

May import: numpy, the standard library, :mod:`xdecimate.sw.model` and this package.
"""

from __future__ import annotations

import numpy as np

from ..model.kernels import conv2d_dense, fc_dense, fc_sparse_gather, im2col
from ..model.nm_format import NMImage, compress
from ..model.quant import requantize
from . import intops
from .ir import Graph, Node

__all__ = ["nm_image", "run", "run_output"]


def nm_image(node: Node) -> NMImage:
    """The compressed image of an N:M conv / linear node's (Cout, K) int8 weight matrix (cached
    in the node while ``params["w"]`` is the same array: replace weights, never edit them in
    place)."""
    if node.pattern is None:
        raise ValueError(f"node {node.name!r} ({node.op}) is dense: it has no N:M image")
    # cached with the weight array and pattern it was made from: a copy of the node whose
    # weights were replaced (sw/approx re-prunes and zeroes them) makes its own image
    w = node.params["w"]
    cached = node.params.get("_golden_image")
    if cached is not None and cached[0] is w and cached[1] == node.pattern:
        return cached[2]
    img = compress(w.reshape(w.shape[0], -1), node.pattern)
    node.params["_golden_image"] = (w, node.pattern, img)
    return img


def _mac(node: Node, cols: np.ndarray, sparse: str) -> np.ndarray:
    p = node.params
    if node.pattern is not None and sparse == "image":
        return fc_sparse_gather(cols, nm_image(node), p["bias"], p["rq"])
    return fc_dense(cols, p["w"].reshape(p["w"].shape[0], -1), p["bias"], p["rq"])


def _node(g: Graph, node: Node, xs: list[np.ndarray], sparse: str) -> np.ndarray:
    qp = g.qparams
    assert qp is not None
    op, a, p = node.op, node.attrs, node.params
    x = xs[0]
    zx = qp[node.inputs[0]].zero_point
    if op == "conv":
        w = p["w"]
        s, pad = a["stride"], a["pad"]
        if pad and zx:  # real 0 is code zx: pad explicitly (the kernels pad with code 0)
            x = np.pad(x, ((pad, pad), (pad, pad), (0, 0)), constant_values=zx)
            pad = 0
        if node.pattern is None or sparse != "image":
            return conv2d_dense(x, w, p["bias"], p["rq"], stride=s, pad=pad)
        ho = (x.shape[0] + 2 * pad - w.shape[1]) // s + 1
        wo = (x.shape[1] + 2 * pad - w.shape[2]) // s + 1
        cols = im2col(x, w.shape[1], w.shape[2], stride=s, pad=pad)
        return _mac(node, cols, sparse).reshape(ho, wo, w.shape[0])
    if op == "linear":
        return _mac(node, x.reshape(-1, x.shape[-1]), sparse).reshape(*x.shape[:-1], -1)
    if op == "matmul":
        b = xs[1]
        lead = x.shape[:-2]
        xa = x.reshape(-1, *x.shape[-2:])
        xb = b.reshape(-1, *b.shape[-2:])
        outs = []
        for i in range(xa.shape[0]):
            wi = (xb[i].astype(np.int16) - 128).astype(np.int8)  # the int8 operand
            wi = wi if a["transpose_b"] else wi.T                # (N, K) as fc_dense wants
            bias = (-zx * wi.astype(np.int64).sum(axis=1)).astype(np.int32)
            outs.append(fc_dense(xa[i], np.ascontiguousarray(wi), bias, p["rq"]))
        return np.stack(outs).reshape(*lead, *outs[0].shape)
    if op == "add":
        zb = qp[node.inputs[1]].zero_point
        return intops.add_int(x, zx, xs[1], zb,
                              intops.AddParams(p["ma"], p["mb"], p["shift"]),
                              qp[node.output].zero_point)
    if op == "relu":
        return np.maximum(x, np.uint8(zx))
    if op == "maxpool":
        k, s, pad = a["k"], a["stride"], a["pad"]
        xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))  # code 0 is the smallest value
        v = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(0, 1))[::s, ::s]
        return v.max(axis=(3, 4))
    if op == "avgpool":
        k, s = a["k"], a["stride"]
        v = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(0, 1))[::s, ::s]
        acc = v.astype(np.int32).sum(axis=(3, 4), dtype=np.int32) - np.int32(k * k * zx)
        return requantize(acc, p["rq"])
    if op == "gap":
        acc = x.astype(np.int32).sum(axis=(0, 1), keepdims=True, dtype=np.int32)
        return requantize(acc - np.int32(x.shape[0] * x.shape[1] * zx), p["rq"])
    if op == "reshape":
        return x.reshape(a["shape"])
    if op == "transpose":
        return np.ascontiguousarray(x.transpose(a["perm"]))
    if op == "slice":
        idx = [slice(None)] * x.ndim
        idx[a["axis"]] = slice(a["start"], a["stop"])
        return np.ascontiguousarray(x[tuple(idx)])
    if op == "concat":
        zy = qp[node.output].zero_point
        parts = [xi if r is None else
                 intops.rescale_int(xi, qp[t].zero_point, intops.AddParams(*r), zy)
                 for xi, t, r in zip(xs, node.inputs, p["rescale"], strict=True)]
        return np.concatenate(parts, axis=a["axis"])
    if op == "scale":
        return x.copy()
    if op == "layernorm":
        return intops.layernorm_int(x, intops.LNParams(p["f"], p["eps_int"], p["g"], p["b"],
                                                       p["shift"]))
    if op == "softmax":
        return intops.softmax_int(x, intops.SoftmaxParams(p["k"], p["q_ln2"], p["q_b"],
                                                          p["q_c"], p["r"]))
    if op == "gelu":
        return p["lut"][x]
    raise ValueError(f"node {node.name!r}: unknown op {op!r}")


def run(graph: Graph, x: np.ndarray, *, sparse: str = "image") -> dict[str, np.ndarray]:
    """Every tensor (uint8 codes) of a quantized graph for input codes ``x``.

    ``sparse="image"`` runs N:M layers from their compressed image (as the core does);
    ``"dense"`` runs them on the pruned dense matrix -- the same numbers, a cross-check.

    Raises
    ------
    TypeError
        ``graph`` is a float graph, or ``x`` is not uint8.
    ValueError
        ``x`` has the wrong shape, or ``sparse`` is neither "image" nor "dense".
    OverflowError
        An accumulator or intermediate value leaves int32 (the node is named).
    """
    if not graph.quantized:
        raise TypeError(f"graph {graph.name!r} is a float graph: quantize it first")
    if sparse not in ("image", "dense"):
        raise ValueError(f"sparse must be 'image' or 'dense', not {sparse!r}")
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8:
        raise TypeError(f"input must be uint8 codes, not {getattr(x, 'dtype', type(x))}")
    if x.shape != tuple(graph.input_shape):
        raise ValueError(f"input must have shape {tuple(graph.input_shape)}, not {x.shape}")
    if not graph.shapes:
        graph.validate()
    env: dict[str, np.ndarray] = {graph.input: x, **graph.constants}
    for node in graph.nodes:
        try:
            y = _node(graph, node, [env[t] for t in node.inputs], sparse)
        except OverflowError as e:
            raise OverflowError(f"node {node.name!r} ({node.op}): {e}") from None
        assert y.dtype == np.uint8, node.name
        assert y.shape == graph.shapes[node.output], (node.name, y.shape)
        env[node.output] = y
    return env


def run_output(graph: Graph, x: np.ndarray, *, sparse: str = "image") -> np.ndarray:
    """The output codes of :func:`run`."""
    return run(graph, x, sparse=sparse)[graph.output]
