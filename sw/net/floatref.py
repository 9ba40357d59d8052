"""Float reference execution of a float :class:`~xdecimate.sw.net.ir.Graph` (numpy float64).

What it is for: calibration (activation ranges for the quantizer) and the reference the integer
golden model is compared against.  Same layouts as the IR (HWC images, no batch dimension).
GELU is the exact erf form; layer norm uses the biased variance plus ``eps`` (ONNX semantics).

May import: numpy, the standard library and :mod:`xdecimate.sw.net.ir`.
"""

from __future__ import annotations

import math

import numpy as np

from .ir import Graph, Node

__all__ = ["run_float"]

_ERF = np.vectorize(math.erf, otypes=[np.float64])


def _windows(x: np.ndarray, k: int, stride: int, pad: int, fill: float) -> np.ndarray:
    """(Ho, Wo, k, k, C) windows of a padded (H, W, C) array."""
    xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0)), constant_values=fill)
    v = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(0, 1))  # (Ho', Wo', C, k, k)
    return v[::stride, ::stride].transpose(0, 1, 3, 4, 2)


def _conv(x: np.ndarray, node: Node) -> np.ndarray:
    w, b = node.params["w"], node.params["b"]
    kh, kw = w.shape[1:3]
    s, p = node.attrs["stride"], node.attrs["pad"]
    xp = np.pad(x, ((p, p), (p, p), (0, 0)))
    v = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(0, 1))[::s, ::s]
    cols = v.transpose(0, 1, 3, 4, 2).reshape(v.shape[0], v.shape[1], -1)
    return cols @ w.reshape(w.shape[0], -1).T + b


def eval_node(node: Node, xs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
    """(output, pre-activation or None) of one float node."""
    op, a = node.op, node.attrs
    x = xs[0]
    pre = None
    if op == "conv":
        pre = _conv(x, node)
    elif op == "linear":
        pre = x @ node.params["w"].T + node.params["b"]
    elif op == "matmul":
        b = np.swapaxes(xs[1], -1, -2) if a["transpose_b"] else xs[1]
        return x @ b, None
    elif op == "add":
        pre = x + xs[1]
    elif op == "relu":
        return np.maximum(x, 0), None
    elif op == "maxpool":
        return _windows(x, a["k"], a["stride"], a["pad"], -np.inf).max(axis=(2, 3)), None
    elif op == "avgpool":
        return _windows(x, a["k"], a["stride"], 0, 0.0).mean(axis=(2, 3)), None
    elif op == "gap":
        return x.mean(axis=(0, 1), keepdims=True), None
    elif op == "reshape":
        return x.reshape(a["shape"]), None
    elif op == "transpose":
        return np.ascontiguousarray(x.transpose(a["perm"])), None
    elif op == "slice":
        idx = [slice(None)] * x.ndim
        idx[a["axis"]] = slice(a["start"], a["stop"])
        return x[tuple(idx)], None
    elif op == "concat":
        return np.concatenate(xs, axis=a["axis"]), None
    elif op == "scale":
        return x * a["factor"], None
    elif op == "layernorm":
        mu = x.mean(axis=-1, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
        return ((x - mu) / np.sqrt(var + a["eps"]) * node.params["gamma"]
                + node.params["beta"]), None
    elif op == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True), None
    elif op == "gelu":
        return x * 0.5 * (1 + _ERF(x / math.sqrt(2))), None
    else:
        raise ValueError(f"node {node.name!r}: unknown op {op!r}")
    assert pre is not None
    return (np.maximum(pre, 0) if a.get("relu") else pre), pre


def run_float(graph: Graph, x: np.ndarray, *, keep_pre: bool = False
              ) -> dict[str, np.ndarray]:
    """Every tensor of a float graph for input ``x`` (float, shape ``graph.input_shape``).

    With ``keep_pre``, the pre-activation (before a folded ReLU) of conv / linear / add nodes
    is also returned under ``"<output>:pre"``.

    Raises ``TypeError`` for a quantized graph and ``ValueError`` for an input of the wrong
    shape.
    """
    if graph.quantized:
        raise TypeError(f"run_float takes a float graph; {graph.name!r} is quantized "
                        "(use golden.run)")
    x = np.asarray(x, dtype=np.float64)
    if x.shape != tuple(graph.input_shape):
        raise ValueError(f"input must have shape {tuple(graph.input_shape)}, not {x.shape}")
    env: dict[str, np.ndarray] = {graph.input: x, **graph.constants}
    for node in graph.nodes:
        y, pre = eval_node(node, [env[t] for t in node.inputs])
        env[node.output] = y
        if keep_pre and pre is not None:
            env[node.output + ":pre"] = pre
    return env
