"""Batched golden model: the integer network on many images at once, bit-exact with golden.run.

What it is for: top-1 of every int8 model on the 10,000 test images.  ``golden.run_output``
takes one HWC image; :func:`run_batch` runs the same integer arithmetic on a batch (a leading
axis on every tensor): conv / linear / act x act matmul accumulate exactly -- the products are
formed in float64, exact because every partial sum is an integer far below 2^53 (checked) --
then the int32 check and :func:`xdecimate.sw.model.quant.requantize` of the golden kernels; the
other ops call the same :mod:`xdecimate.sw.net.intops` functions as :mod:`xdecimate.sw.net.golden`
(they work on the last axis).  N:M layers use their pruned dense matrix, which the golden model
proves equal to the compressed image (``sparse="dense"``).  ``tests/sw/train`` checks the
equality with ``golden.run_output`` image by image.

The predicted class is the argmax of the output codes (ties: the lowest class index), the same
rule :mod:`.oncore` applies to what the core leaves in memory.

May import: numpy, the standard library, :mod:`xdecimate.sw.net` and :mod:`xdecimate.sw.model`.
"""

from __future__ import annotations

import numpy as np

from ..model.quant import requantize
from ..net import intops
from ..net.ir import Graph, Node

__all__ = ["predict", "run_batch", "run_node"]

_I32 = (-(1 << 31), (1 << 31) - 1)


def _acc32(acc: np.ndarray, node: Node) -> np.ndarray:
    if acc.size and (acc.min() < _I32[0] or acc.max() > _I32[1]):
        bad = int(acc[(acc < _I32[0]) | (acc > _I32[1])].flat[0])
        raise OverflowError(f"node {node.name!r} ({node.op}): accumulator {bad} leaves int32")
    return acc.astype(np.int32)


def _exact_matmul(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """``a @ b`` of integer-valued arrays via float64 BLAS, exact below 2^53 (checked)."""
    bound = k * float(np.abs(a).max(initial=0)) * float(np.abs(b).max(initial=0))
    if bound >= 2.0 ** 52:
        raise OverflowError(f"a float64 dot product of length {k} may not be exact "
                            f"(bound {bound:.3g})")
    return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)


def _fc(node: Node, cols: np.ndarray) -> np.ndarray:
    """uint8 (P, K) -> uint8 (P, Cout), as ``kernels.fc_dense`` with bias and requant."""
    w = node.params["w"].reshape(node.params["w"].shape[0], -1)
    acc = _exact_matmul(cols, w.T, w.shape[1]) + node.params["bias"].astype(np.int64)
    return requantize(_acc32(acc, node), node.params["rq"])


def run_node(g: Graph, node: Node, xs: list[np.ndarray]) -> np.ndarray:
    """The output codes (B, ...) of one ``node`` of quantized ``g`` on its batched inputs."""
    qp = g.qparams
    assert qp is not None
    op, a, p = node.op, node.attrs, node.params
    x = xs[0]
    bsz = x.shape[0]
    zx = qp[node.inputs[0]].zero_point
    if op == "conv":
        w = p["w"]
        kh, kw, s, pad = w.shape[1], w.shape[2], a["stride"], a["pad"]
        if pad:  # code zx is real 0 (golden pads explicitly when zx != 0, the kernel with 0)
            x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=zx)
        v = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::s, ::s]
        ho, wo = v.shape[1], v.shape[2]
        cols = v.transpose(0, 1, 2, 4, 5, 3).reshape(bsz * ho * wo, kh * kw * x.shape[3])
        return _fc(node, cols).reshape(bsz, ho, wo, w.shape[0])
    if op == "linear":
        return _fc(node, x.reshape(-1, x.shape[-1])).reshape(*x.shape[:-1], -1)
    if op == "matmul":
        wi = xs[1].astype(np.int16) - 128                       # the int8 operand
        wkn = np.swapaxes(wi, -1, -2) if a["transpose_b"] else wi   # (..., K, N)
        k = wkn.shape[-2]
        bias = -zx * wkn.astype(np.int64).sum(axis=-2)[..., None, :]
        acc = _exact_matmul(x, wkn, k) + bias
        return requantize(_acc32(acc, node), p["rq"])
    if op == "add":
        zb = qp[node.inputs[1]].zero_point
        return intops.add_int(x, zx, xs[1], zb, intops.AddParams(p["ma"], p["mb"], p["shift"]),
                              qp[node.output].zero_point)
    if op == "relu":
        return np.maximum(x, np.uint8(zx))
    if op == "maxpool":
        k, s, pad = a["k"], a["stride"], a["pad"]
        xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        v = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(1, 2))[:, ::s, ::s]
        return v.max(axis=(4, 5))
    if op == "avgpool":
        k, s = a["k"], a["stride"]
        v = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[:, ::s, ::s]
        acc = v.astype(np.int32).sum(axis=(4, 5), dtype=np.int32) - np.int32(k * k * zx)
        return requantize(acc, p["rq"])
    if op == "gap":
        acc = x.astype(np.int32).sum(axis=(1, 2), keepdims=True, dtype=np.int32)
        return requantize(acc - np.int32(x.shape[1] * x.shape[2] * zx), p["rq"])
    if op == "reshape":
        return x.reshape(bsz, *a["shape"])
    if op == "transpose":
        return np.ascontiguousarray(x.transpose(0, *(q + 1 for q in a["perm"])))
    if op == "slice":
        idx = [slice(None)] * x.ndim
        idx[a["axis"] + 1] = slice(a["start"], a["stop"])
        return np.ascontiguousarray(x[tuple(idx)])
    if op == "concat":
        zy = qp[node.output].zero_point
        parts = [xi if r is None else
                 intops.rescale_int(xi, qp[t].zero_point, intops.AddParams(*r), zy)
                 for xi, t, r in zip(xs, node.inputs, p["rescale"], strict=True)]
        return np.concatenate(parts, axis=a["axis"] + 1)
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
    raise ValueError(f"node {node.name!r}: op {op!r} has no batched evaluation")


def run_batch(graph: Graph, x: np.ndarray) -> np.ndarray:
    """Output codes (B, *output shape) of quantized ``graph`` for uint8 inputs ``x`` of shape
    (B, *input shape); row ``i`` equals ``golden.run_output(graph, x[i])``.

    Raises
    ------
    TypeError
        ``graph`` is a float graph or ``x`` is not uint8.
    ValueError
        ``x`` has the wrong shape.
    OverflowError
        An accumulator leaves int32 (the node is named), as in the golden model.
    """
    if not graph.quantized:
        raise TypeError(f"graph {graph.name!r} is a float graph: quantize it first")
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8:
        raise TypeError(f"inputs must be uint8 codes, not {getattr(x, 'dtype', type(x))}")
    if x.shape[1:] != tuple(graph.input_shape):
        raise ValueError(f"inputs must have shape (B, *{tuple(graph.input_shape)}), not "
                         f"{x.shape}")
    if not graph.shapes:
        graph.validate()
    bsz = x.shape[0]
    env: dict[str, np.ndarray] = {graph.input: x}
    env.update({c: np.broadcast_to(v, (bsz, *v.shape)) for c, v in graph.constants.items()})
    for node in graph.nodes:
        y = run_node(graph, node, [env[t] for t in node.inputs])
        if y.dtype != np.uint8 or y.shape != (bsz, *graph.shapes[node.output]):
            raise AssertionError(f"node {node.name!r}: got {y.dtype} {y.shape}, want uint8 "
                                 f"{(bsz, *graph.shapes[node.output])}")
        env[node.output] = y
    return env[graph.output]


def predict(graph: Graph, images: np.ndarray, *, batch: int = 500) -> np.ndarray:
    """Predicted classes (int64, n) of uint8 images (n, 28, 28): argmax of the output codes."""
    out = [run_batch(graph, np.ascontiguousarray(images[i:i + batch, :, :, None]))
           .reshape(min(batch, len(images) - i), -1).argmax(axis=1)
           for i in range(0, len(images), batch)]
    return np.concatenate(out) if out else np.zeros(0, np.int64)
