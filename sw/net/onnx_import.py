"""ONNX import: a float model plus a calibration set, or an int8 QDQ model, onto the IR.

What it is for: bring an exported network into the flow.  Each supported ONNX node becomes one
or a few IR nodes of a float :class:`~xdecimate.sw.net.ir.Graph` (layouts converted: NCHW
images become HWC, the batch dimension of 1 is dropped); :func:`import_onnx` then quantizes it
(:mod:`.quantize`) with calibrated ranges, or with the scales of the model's
QuantizeLinear / DequantizeLinear pairs.  Every operator, attribute or value outside the
supported set raises ``ValueError`` naming the node, the op, the attribute and its value, and
the rule (``docs/net.md`` lists them).

May import: numpy, onnx, the standard library, :mod:`xdecimate.sw.model` and this package.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from .ir import Builder, Graph, QParams
from .quantize import quantize

__all__ = ["SUPPORTED_OPS", "import_onnx", "onnx_to_float"]

#: ONNX operators the importer maps (QuantizeLinear / DequantizeLinear: pairs and weights).
SUPPORTED_OPS = (
    "Add", "AveragePool", "Concat", "Constant", "Conv", "DequantizeLinear", "Div", "Dropout",
    "Erf", "Flatten", "Gather", "Gelu", "Gemm", "GlobalAveragePool", "Identity",
    "LayerNormalization", "MatMul", "MaxPool", "Mul", "QuantizeLinear", "Relu", "Reshape",
    "Slice", "Softmax", "Transpose",
)


def _fail(node: onnx.NodeProto, rule: str) -> ValueError:
    return ValueError(f"ONNX node {node.name or node.output[0]!r} ({node.op_type}): {rule}")


def _attrs(node: onnx.NodeProto, allowed: dict[str, object]) -> dict[str, object]:
    """Attribute values with defaults; any attribute not in ``allowed`` is an error."""
    out = dict(allowed)
    for a in node.attribute:
        if a.name not in allowed:
            raise _fail(node, f"attribute {a.name}={onnx.helper.get_attribute_value(a)!r} is "
                              f"not supported (supported: {sorted(allowed) or 'none'})")
        v = onnx.helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _need(node: onnx.NodeProto, cond: bool, attr: str, value: object, rule: str) -> None:
    if not cond:
        raise _fail(node, f"attribute {attr}={value!r} is not supported: {rule}")


class _Importer:
    def __init__(self, model: onnx.ModelProto):
        self.model = model
        g = model.graph
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
        if opset < 13:
            raise ValueError(f"ONNX opset {opset} is not supported: the importer needs opset >= "
                             "13 (Softmax and Reshape semantics)")
        self.init: dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i)
                                            for i in g.initializer}
        self.dq_w: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.fixed: dict[str, QParams] = {}
        self.fixed_w: dict[str, tuple[np.ndarray, float]] = {}
        self.users: dict[str, int] = {}
        for n in g.node:
            for t in n.input:
                self.users[t] = self.users.get(t, 0) + 1
        inputs = [i for i in g.input if i.name not in self.init]
        if len(inputs) != 1 or len(g.output) != 1:
            raise ValueError(f"the model must have one input and one output, not "
                             f"{[i.name for i in inputs]} -> {[o.name for o in g.output]}")
        vi = inputs[0]
        dims = [d.dim_value if d.HasField("dim_value") else 1
                for d in vi.type.tensor_type.shape.dim]
        if not dims or dims[0] != 1 or any(d < 1 for d in dims):
            raise ValueError(f"input {vi.name!r} must have a static shape with batch 1, not "
                             f"{dims}")
        if len(dims) == 4:
            shape, layout = (dims[2], dims[3], dims[1]), "nchw"
        else:
            shape, layout = tuple(dims[1:]), "plain"
        self.b = Builder(g.name or "onnx", shape, input_name="input")
        self.env: dict[str, tuple[str, str]] = {vi.name: ("input", layout)}
        self.onnx_input = vi.name
        self.out_name = g.output[0].name
        self.flat: dict[str, str] = {}
        self.names: set[str] = {"input"}
        self.alias: list[tuple[str, str]] = []
        self.done: set[int] = set()

    # -- tensors ---------------------------------------------------------------------------
    def name(self, node: onnx.NodeProto) -> str:
        base = "".join(c if c.isalnum() or c in "._-" else "_"
                       for c in (node.name or node.output[0])) or node.op_type
        n, i = base, 1
        while n in self.names:
            n, i = f"{base}_{i}", i + 1
        self.names.add(n)
        return n

    def act(self, node: onnx.NodeProto, t: str) -> tuple[str, str]:
        if t not in self.env:
            if t in self.init:
                raise _fail(node, f"input {t!r} is a constant where an activation is expected")
            raise _fail(node, f"input {t!r} is not produced by a supported node")
        return self.env[t]

    def plain(self, node: onnx.NodeProto, t: str) -> str:
        """The IR tensor of ``t`` in plain (ONNX order, no batch) layout."""
        ir, layout = self.act(node, t)
        if layout == "plain":
            return ir
        if ir not in self.flat:
            self.flat[ir] = self.b.transpose(ir, (2, 0, 1), name=f"{ir}.chw")
        return self.flat[ir]

    def image(self, node: onnx.NodeProto, t: str) -> str:
        """The IR tensor of ``t`` as an HWC image."""
        ir, layout = self.act(node, t)
        if layout == "nchw":
            return ir
        if len(self.b.shape(ir)) != 3:
            raise _fail(node, f"input {t!r} must be a (1, C, H, W) image, not shape "
                              f"(1, *{self.b.shape(ir)})")
        return self.b.transpose(ir, (1, 2, 0), name=f"{ir}.hwc")

    def const(self, node: onnx.NodeProto, t: str) -> np.ndarray:
        if t not in self.init:
            raise _fail(node, f"input {t!r} must be a constant (initializer)")
        return self.init[t]

    def weight(self, node: onnx.NodeProto, t: str) -> np.ndarray:
        w = self.const(node, t)
        if t in self.dq_w:
            q, s, z = self.dq_w[t]
            if s.size != 1:
                raise _fail(node, f"weight {t!r} has per-channel scales (shape {s.shape}): the "
                                  "C kernels take one requantization per layer, so weights "
                                  "must be quantized per tensor")
            if q.dtype != np.int8 or np.any(z != 0):
                raise _fail(node, f"weight {t!r} must be int8 with zero point 0 (symmetric), "
                                  f"not {q.dtype} with zero point {z.ravel()[:4]}")
        return w.astype(np.float64)

    def set_fixed_w(self, node: onnx.NodeProto, t: str, ir_node: str, f) -> None:
        if t in self.dq_w:
            q, s, _ = self.dq_w[t]
            if np.abs(q.astype(np.int16)).max() > 127:
                raise _fail(node, f"weight {t!r} uses -128: the scheme is symmetric "
                                  "(-127..127)")
            self.fixed_w[ir_node] = (np.ascontiguousarray(f(q)), float(s.ravel()[0]))

    def put(self, onnx_t: str, ir: str, layout: str) -> None:
        self.env[onnx_t] = (ir, layout)

    # -- the walk ---------------------------------------------------------------------------
    def _prepass(self, nodes: list[onnx.NodeProto]) -> set[int]:
        """Constants, DequantizeLinear of weights, and Q -> DQ pairs (aliases + fixed QParams)."""
        skip = set()
        by_in: dict[str, list[int]] = {}
        for i, n in enumerate(nodes):
            for t in n.input:
                by_in.setdefault(t, []).append(i)
        for i, n in enumerate(nodes):
            if n.op_type == "Constant":
                a = {x.name: x for x in n.attribute}
                if "value" not in a:
                    raise _fail(n, f"only Constant(value=tensor) is supported, not "
                                   f"{sorted(a)}")
                self.init[n.output[0]] = numpy_helper.to_array(a["value"].t)
                skip.add(i)
            elif n.op_type == "DequantizeLinear" and n.input[0] in self.init:
                q = self.init[n.input[0]]
                s = self.init[n.input[1]]
                z = self.init[n.input[2]] if len(n.input) > 2 and n.input[2] else np.zeros(1)
                ax = _attrs(n, {"axis": 1, "block_size": 0})["axis"]
                shape = [1] * q.ndim
                if s.size > 1:
                    shape[int(ax) % q.ndim] = -1
                try:
                    self.init[n.output[0]] = ((q.astype(np.float64) - z.reshape(shape))
                                              * s.reshape(shape))
                except ValueError:
                    raise _fail(n, f"scale of shape {s.shape} does not fit weights of shape "
                                   f"{q.shape} on axis {ax}") from None
                self.dq_w[n.output[0]] = (q, s, z)
                skip.add(i)
            elif n.op_type == "QuantizeLinear":
                users = by_in.get(n.output[0], [])
                if not users or any(nodes[j].op_type != "DequantizeLinear" for j in users):
                    raise _fail(n, "a QuantizeLinear must feed DequantizeLinear nodes only "
                                   "(a QDQ pair around one float tensor)")
                skip.add(i)
                for j in users:
                    skip.add(j)
                    self._pair(n, nodes[j])
        return skip

    def _pair(self, qn: onnx.NodeProto, dqn: onnx.NodeProto) -> None:
        _attrs(qn, {"axis": 1, "saturate": 1, "block_size": 0, "output_dtype": 0})
        s = self.const(qn, qn.input[1])
        z = self.const(qn, qn.input[2]) if len(qn.input) > 2 and qn.input[2] else \
            np.zeros((), np.uint8)
        if s.size != 1:
            raise _fail(qn, f"per-axis activation scales (shape {s.shape}) are not supported: "
                            "activations are quantized per tensor")
        if z.dtype == np.uint8:
            zp = int(z.ravel()[0])
        elif z.dtype == np.int8:
            zp = int(z.ravel()[0]) + 128  # int8 code c is uint8 code c + 128, same scale
        else:
            raise _fail(qn, f"zero point type {z.dtype} is not supported (uint8 or int8)")
        self.fixed[qn.input[0]] = QParams(float(s.ravel()[0]), zp)
        self.alias.append((dqn.output[0], qn.input[0]))

    # -- operators ---------------------------------------------------------------------------
    def op_Identity(self, n: onnx.NodeProto) -> None:
        _attrs(n, {})
        self.put(n.output[0], *self.act(n, n.input[0]))

    def op_Dropout(self, n: onnx.NodeProto) -> None:
        _attrs(n, {"seed": 0})
        if len(n.output) > 1 and n.output[1]:
            raise _fail(n, "the mask output of Dropout is not supported")
        self.put(n.output[0], *self.act(n, n.input[0]))

    def op_Conv(self, n: onnx.NodeProto) -> None:
        w = self.weight(n, n.input[1])
        a = _attrs(n, {"dilations": [1, 1], "group": 1, "strides": [1, 1], "pads": [0] * 4,
                       "auto_pad": "NOTSET", "kernel_shape": list(w.shape[2:])})
        _need(n, w.ndim == 4, "kernel_shape", list(w.shape[2:]), "only 2-D convolutions")
        _need(n, list(a["dilations"]) == [1, 1], "dilations", a["dilations"],
              "dilations must be 1")
        _need(n, a["group"] == 1, "group", a["group"], "grouped / depthwise convolutions are "
              "not supported (group must be 1)")
        _need(n, a["auto_pad"] == "NOTSET", "auto_pad", a["auto_pad"], "give explicit pads")
        _need(n, len(set(a["strides"])) == 1, "strides", a["strides"], "strides must be equal")
        _need(n, len(set(a["pads"])) == 1, "pads", a["pads"], "pads must be equal on all sides")
        _need(n, list(a["kernel_shape"]) == list(w.shape[2:]), "kernel_shape", a["kernel_shape"],
              f"must match the weights {list(w.shape[2:])}")
        b = self.const(n, n.input[2]).astype(np.float64) if len(n.input) > 2 and n.input[2] \
            else None
        x = self.image(n, n.input[0])
        name = self.name(n)
        out = self.b.conv(x, w.transpose(0, 2, 3, 1), b, stride=a["strides"][0],
                          pad=a["pads"][0], name=name)
        self.set_fixed_w(n, n.input[1], name, lambda q: q.transpose(0, 2, 3, 1))
        self.put(n.output[0], out, "nchw")

    def _linear(self, n: onnx.NodeProto, x: str, w: np.ndarray, b: np.ndarray | None,
                wname: str, f) -> None:
        name = self.name(n)
        out = self.b.linear(x, w, b, name=name)
        self.set_fixed_w(n, wname, name, f)
        self.put(n.output[0], out, "plain")

    def op_Gemm(self, n: onnx.NodeProto) -> None:
        a = _attrs(n, {"alpha": 1.0, "beta": 1.0, "transA": 0, "transB": 0})
        _need(n, a["transA"] == 0, "transA", a["transA"], "A must not be transposed")
        _need(n, a["alpha"] == 1.0, "alpha", a["alpha"], "alpha must be 1")
        _need(n, a["beta"] == 1.0, "beta", a["beta"], "beta must be 1")
        w = self.weight(n, n.input[1])
        tb = bool(a["transB"])
        b = None
        if len(n.input) > 2 and n.input[2]:
            b = self.const(n, n.input[2]).astype(np.float64).reshape(-1)
        x = self.plain(n, n.input[0])
        self._linear(n, x, w if tb else w.T, b, n.input[1], (lambda q: q) if tb else
                     (lambda q: q.T))

    def op_MatMul(self, n: onnx.NodeProto) -> None:
        _attrs(n, {})
        if n.input[0] in self.init:
            raise _fail(n, "a constant left operand is not supported (x @ W only)")
        x = self.plain(n, n.input[0])
        if n.input[1] in self.init:
            w = self.weight(n, n.input[1])
            if w.ndim != 2:
                raise _fail(n, f"a constant right operand must be 2-D, not shape {w.shape}")
            self._linear(n, x, w.T, None, n.input[1], lambda q: q.T)
            return
        y = self.plain(n, n.input[1])
        out = self.b.matmul(x, y, name=self.name(n))
        self.put(n.output[0], out, "plain")

    def _const_like(self, n: onnx.NodeProto, c: np.ndarray, layout: str,
                    shape: tuple[int, ...]) -> str:
        c = c.astype(np.float64)
        while c.ndim > len(shape) and c.shape[0] == 1:
            c = c[0]
        if layout == "nchw" and c.ndim == 3:
            c = c.transpose(1, 2, 0)
        if c.shape != shape:
            raise _fail(n, f"constant of shape {c.shape} cannot be used with an activation of "
                           f"shape {shape}: broadcasting is not supported")
        return self.b.const(self.name(n) + ".const", c)

    def op_Add(self, n: onnx.NodeProto) -> None:
        _attrs(n, {})
        ca, cb = (t in self.init for t in n.input)
        if ca and cb:
            raise _fail(n, "both operands are constants")
        if ca or cb:
            t, c = (n.input[1], self.init[n.input[0]]) if ca else (n.input[0],
                                                                  self.init[n.input[1]])
            ir, layout = self.act(n, t)
            src = next((m for m in self.b._g.nodes if m.output == ir), None)
            if (src is not None and src.op == "linear" and self.users.get(t) == 1
                    and c.size == src.params["w"].shape[0] and not src.params["b"].any()
                    and c.ndim == 1):
                src.params["b"] = c.astype(np.float64)   # MatMul + Add(bias) = one linear
                self.put(n.output[0], ir, layout)
                return
            k = self._const_like(n, c, layout, self.b.shape(ir))
            self.put(n.output[0], self.b.add(ir, k, name=self.name(n)), layout)
            return
        (a, la), (b, lb) = self.act(n, n.input[0]), self.act(n, n.input[1])
        if la != lb:
            a, b, la = self.plain(n, n.input[0]), self.plain(n, n.input[1]), "plain"
        if self.b.shape(a) != self.b.shape(b):
            raise _fail(n, f"operand shapes {self.b.shape(a)} and {self.b.shape(b)} differ: "
                           "broadcasting is not supported")
        self.put(n.output[0], self.b.add(a, b, name=self.name(n)), la)

    def op_Relu(self, n: onnx.NodeProto) -> None:
        _attrs(n, {})
        ir, layout = self.act(n, n.input[0])
        self.put(n.output[0], self.b.relu(ir, name=self.name(n)), layout)

    def _pool_attrs(self, n: onnx.NodeProto, extra: dict) -> tuple[int, int, int]:
        a = _attrs(n, {"kernel_shape": None, "strides": None, "pads": [0] * 4,
                       "auto_pad": "NOTSET", "ceil_mode": 0, "dilations": [1, 1], **extra})
        k = a["kernel_shape"]
        _need(n, k is not None and len(k) == 2 and k[0] == k[1], "kernel_shape", k,
              "a square 2-D kernel is required")
        s = a["strides"] or [1, 1]
        _need(n, len(set(s)) == 1, "strides", s, "strides must be equal")
        _need(n, len(set(a["pads"])) == 1, "pads", a["pads"], "pads must be equal")
        _need(n, a["auto_pad"] == "NOTSET", "auto_pad", a["auto_pad"], "give explicit pads")
        _need(n, a["ceil_mode"] == 0, "ceil_mode", a["ceil_mode"], "ceil_mode must be 0")
        _need(n, list(a["dilations"]) == [1, 1], "dilations", a["dilations"],
              "dilations must be 1")
        if len(n.output) > 1 and n.output[1]:
            raise _fail(n, "the Indices output is not supported")
        return k[0], s[0], a["pads"][0]

    def op_MaxPool(self, n: onnx.NodeProto) -> None:
        k, s, p = self._pool_attrs(n, {"storage_order": 0})
        out = self.b.maxpool(self.image(n, n.input[0]), k, s, p, name=self.name(n))
        self.put(n.output[0], out, "nchw")

    def op_AveragePool(self, n: onnx.NodeProto) -> None:
        k, s, p = self._pool_attrs(n, {"count_include_pad": 0})
        _need(n, p == 0, "pads", p, "average pooling without padding only")
        out = self.b.avgpool(self.image(n, n.input[0]), k, s, name=self.name(n))
        self.put(n.output[0], out, "nchw")

    def op_GlobalAveragePool(self, n: onnx.NodeProto) -> None:
        _attrs(n, {})
        self.put(n.output[0], self.b.gap(self.image(n, n.input[0]), name=self.name(n)), "nchw")

    def _onnx_shape(self, n: onnx.NodeProto, t: str) -> tuple[int, ...]:
        ir, layout = self.act(n, t)
        sh = self.b.shape(ir)
        return (1, sh[2], sh[0], sh[1]) if layout == "nchw" else (1, *sh)

    def _reshape_to(self, n: onnx.NodeProto, t: str, target: tuple[int, ...]) -> None:
        ir, layout = self.act(n, t)
        if layout == "nchw" and self.b.shape(ir)[:2] == (1, 1) and len(target) == 1:
            src = ir  # (1, 1, C) HWC is already C-ordered
        else:
            src = self.plain(n, t)
        self.put(n.output[0], self.b.reshape(src, target, name=self.name(n)), "plain")

    def op_Flatten(self, n: onnx.NodeProto) -> None:
        a = _attrs(n, {"axis": 1})
        _need(n, a["axis"] == 1, "axis", a["axis"], "only axis=1 (flatten all but the batch)")
        self._reshape_to(n, n.input[0], (math.prod(self._onnx_shape(n, n.input[0])[1:]),))

    def op_Reshape(self, n: onnx.NodeProto) -> None:
        a = _attrs(n, {"allowzero": 0})
        _need(n, a["allowzero"] == 0, "allowzero", a["allowzero"], "allowzero must be 0")
        src = self._onnx_shape(n, n.input[0])
        tgt = [int(v) for v in self.const(n, n.input[1]).ravel()]
        tgt = [src[i] if v == 0 else v for i, v in enumerate(tgt)]
        if tgt.count(-1) == 1:
            known = math.prod(v for v in tgt if v != -1)
            tgt[tgt.index(-1)] = math.prod(src) // max(1, known)
        if math.prod(tgt) != math.prod(src) or not tgt or tgt[0] != 1:
            raise _fail(n, f"cannot reshape {src} to {tgt}: the batch dimension must stay 1 "
                           "and the element count must not change")
        self._reshape_to(n, n.input[0], tuple(tgt[1:]))

    def op_Transpose(self, n: onnx.NodeProto) -> None:
        rank = len(self._onnx_shape(n, n.input[0]))
        a = _attrs(n, {"perm": list(range(rank))[::-1]})
        perm = list(a["perm"])
        _need(n, perm and perm[0] == 0, "perm", perm, "the batch axis must stay first")
        out = self.b.transpose(self.plain(n, n.input[0]), tuple(p - 1 for p in perm[1:]),
                               name=self.name(n))
        self.put(n.output[0], out, "plain")

    def _last_axis(self, n: onnx.NodeProto, axis: int) -> None:
        rank = len(self._onnx_shape(n, n.input[0]))
        _need(n, axis in (-1, rank - 1), "axis", axis, "only the last axis is supported")

    def op_LayerNormalization(self, n: onnx.NodeProto) -> None:
        a = _attrs(n, {"axis": -1, "epsilon": 1e-5, "stash_type": 1})
        self._last_axis(n, a["axis"])
        if len(n.output) > 1 and any(n.output[1:]):
            raise _fail(n, "the Mean / InvStdDev outputs are not supported")
        g = self.const(n, n.input[1]).astype(np.float64).reshape(-1)
        b = (self.const(n, n.input[2]).astype(np.float64).reshape(-1)
             if len(n.input) > 2 and n.input[2] else np.zeros_like(g))
        out = self.b.layernorm(self.plain(n, n.input[0]), g, b, eps=float(a["epsilon"]),
                               name=self.name(n))
        self.put(n.output[0], out, "plain")

    def op_Softmax(self, n: onnx.NodeProto) -> None:
        a = _attrs(n, {"axis": -1})
        self._last_axis(n, a["axis"])
        self.put(n.output[0], self.b.softmax(self.plain(n, n.input[0]), name=self.name(n)),
                 "plain")

    def op_Gelu(self, n: onnx.NodeProto) -> None:
        a = _attrs(n, {"approximate": "none"})
        _need(n, a["approximate"] == "none", "approximate", a["approximate"],
              "only the exact (erf) GELU is supported")
        ir, layout = self.act(n, n.input[0])
        self.put(n.output[0], self.b.gelu(ir, name=self.name(n)), layout)

    def op_Erf(self, n: onnx.NodeProto) -> None:
        raise _fail(n, "Erf is supported only inside the GELU pattern "
                       "Mul(Mul(x, Add(Erf(Div(x, sqrt(2))), 1)), 0.5)")

    def _scalar(self, n: onnx.NodeProto) -> tuple[str, float] | None:
        a, b = n.input
        if b in self.init and self.init[b].size == 1 and a not in self.init:
            return a, float(self.init[b].ravel()[0])
        if a in self.init and self.init[a].size == 1 and n.op_type == "Mul":
            return b, float(self.init[a].ravel()[0])
        return None

    def op_Mul(self, n: onnx.NodeProto) -> None:
        self._mul(n, False)

    def op_Div(self, n: onnx.NodeProto) -> None:
        self._mul(n, True)

    def _mul(self, n: onnx.NodeProto, div: bool) -> None:
        _attrs(n, {})
        if self._gelu_pattern(n):
            return
        sc = self._scalar(n)
        if sc is None or not (math.isfinite(sc[1]) and sc[1] > 0):
            raise _fail(n, "only multiplication / division by a positive scalar constant is "
                           "supported (it rescales the quantization)")
        t, c = sc
        ir, layout = self.act(n, t)
        self.put(n.output[0], self.b.scale(ir, 1 / c if div else c, name=self.name(n)), layout)

    def _gelu_pattern(self, n: onnx.NodeProto) -> bool:
        """Div(x, √2) -> Erf -> Add(1) -> Mul(x, .) -> Mul(., 0.5), matched from its Div."""
        if n.op_type != "Div" or n.input[1] not in self.init or \
                not math.isclose(float(self.init[n.input[1]].ravel()[0]), math.sqrt(2),
                                 rel_tol=1e-3):
            return False
        nodes = list(self.model.graph.node)

        def only_user(t: str, op: str) -> onnx.NodeProto | None:
            us = [m for m in nodes if t in m.input]
            return us[0] if len(us) == 1 and us[0].op_type == op else None

        erf = only_user(n.output[0], "Erf")
        add = erf and only_user(erf.output[0], "Add")
        mul = add and only_user(add.output[0], "Mul")
        half = mul and only_user(mul.output[0], "Mul")
        x = n.input[0]
        if not (erf and add and mul and half):
            return False
        one = [t for t in add.input if t != erf.output[0]]
        c = [t for t in half.input if t != mul.output[0]]
        if not (one and one[0] in self.init and float(self.init[one[0]].ravel()[0]) == 1.0
                and x in mul.input and c and c[0] in self.init
                and float(self.init[c[0]].ravel()[0]) == 0.5):
            return False
        ir, layout = self.act(n, x)
        self.put(half.output[0], self.b.gelu(ir, name=self.name(n)), layout)
        self.done |= {id(m) for m in (erf, add, mul, half)}
        return True

    def op_Concat(self, n: onnx.NodeProto) -> None:
        a = _attrs(n, {"axis": None})
        act = next((t for t in n.input if t not in self.init), None)
        if act is None:
            raise _fail(n, "all inputs are constants")
        rank = len(self._onnx_shape(n, act))
        ax = a["axis"] % rank if a["axis"] is not None else None
        _need(n, ax is not None and ax >= 1, "axis", a["axis"], "cannot concatenate batches")
        parts = []
        for t in n.input:
            if t in self.init:
                c = self.init[t].astype(np.float64)
                if c.ndim != rank or c.shape[0] != 1:
                    raise _fail(n, f"constant {t!r} of shape {c.shape} must have the rank "
                                   f"{rank} and batch 1")
                parts.append(self.b.const(self.name(n) + ".const", c[0]))
            else:
                parts.append(self.plain(n, t))
        self.put(n.output[0], self.b.concat(parts, ax - 1, name=self.name(n)), "plain")

    def op_Slice(self, n: onnx.NodeProto) -> None:
        _attrs(n, {})
        shape = self._onnx_shape(n, n.input[0])
        vals = [self.const(n, t).ravel().astype(np.int64) if t else None
                for t in list(n.input[1:]) + [""] * (5 - len(n.input))]
        starts, ends, axes, steps = vals[:4]
        axes = list(range(len(starts))) if axes is None else list(axes)
        if len(axes) != 1 or (steps is not None and any(steps != 1)):
            raise _fail(n, f"only one axis with step 1 is supported, not axes {axes}, steps "
                           f"{None if steps is None else list(steps)}")
        ax = int(axes[0]) % len(shape)
        _need(n, ax >= 1, "axes", axes, "cannot slice the batch axis")
        lo, hi, _ = slice(int(starts[0]), int(ends[0])).indices(shape[ax])
        out = self.b.slice(self.plain(n, n.input[0]), ax - 1, lo, hi, name=self.name(n))
        self.put(n.output[0], out, "plain")

    def op_Gather(self, n: onnx.NodeProto) -> None:
        a = _attrs(n, {"axis": 0})
        shape = self._onnx_shape(n, n.input[0])
        idx = self.const(n, n.input[1])
        ax = a["axis"] % len(shape)
        _need(n, ax >= 1 and idx.ndim == 0, "axis", a["axis"],
              "only a scalar index on a non-batch axis is supported")
        i = int(idx) % shape[ax]
        sl = self.b.slice(self.plain(n, n.input[0]), ax - 1, i, i + 1,
                          name=self.name(n) + ".slice")
        tgt = tuple(d for j, d in enumerate(shape[1:]) if j != ax - 1)
        self.put(n.output[0], self.b.reshape(sl, tgt, name=self.name(n)), "plain")


def _load(model: onnx.ModelProto | str | Path) -> onnx.ModelProto:
    """The model from a path, or a private copy (the import rewrites node inputs)."""
    if isinstance(model, (str, Path)):
        return onnx.load(str(model))
    if not isinstance(model, onnx.ModelProto):
        raise TypeError(f"model must be an onnx.ModelProto or a path, not "
                        f"{type(model).__name__}")
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy


def onnx_to_float(model: onnx.ModelProto | str | Path
                  ) -> tuple[Graph, dict[str, QParams], dict[str, tuple[np.ndarray, float]]]:
    """Map an ONNX model onto a float IR graph.

    Returns ``(graph, fixed, fixed_weights)``: the float graph, the QParams of the tensors that
    the model quantizes (QuantizeLinear / DequantizeLinear pairs; empty for a float model), and
    the int8 weights and scales of its DequantizeLinear weights.

    Raises ``ValueError`` naming the node, the op, the attribute and its value and the rule for
    anything unsupported; ``TypeError`` for a model that is neither a ``ModelProto`` nor a path.
    """
    imp = _Importer(_load(model))
    # Q -> DQ pairs are resolved during the walk: the DQ output aliases the Q input.
    nodes = list(imp.model.graph.node)
    skip = imp._prepass(nodes)
    aliases = dict(imp.alias)
    for i, node in enumerate(nodes):
        if i in skip or id(node) in imp.done:
            continue
        for j, t in enumerate(node.input):
            while t in aliases:
                t = aliases[t]
            node.input[j] = t
        handler = getattr(imp, "op_" + node.op_type, None)
        if handler is None or node.domain not in ("", "ai.onnx"):
            raise _fail(node, f"operator {node.domain + '.' if node.domain else ''}"
                              f"{node.op_type} is not supported (supported: "
                              f"{', '.join(SUPPORTED_OPS)})")
        handler(node)
    out = imp.out_name
    while out in aliases:
        out = aliases[out]
    if out not in imp.env:
        raise ValueError(f"the model output {imp.out_name!r} is not produced")
    fg = imp.b.finish(imp.env[out][0])
    fixed = {imp.env[t][0]: q for t, q in imp.fixed.items() if t in imp.env}
    return fg, fixed, imp.fixed_w


def import_onnx(model: onnx.ModelProto | str | Path,
                calib: np.ndarray | Sequence[np.ndarray] | None = None, *,
                percentile: float | None = None, name: str | None = None) -> Graph:
    """Import an ONNX model as a quantized IR graph.

    A float model needs ``calib``: inputs in the *ONNX* layout with the batch axis (an
    ``(n, C, H, W)`` or ``(n, ...)`` array, or a sequence of ``(1, ...)`` arrays).  A QDQ model
    uses its own scales and zero points (``calib`` optional; it fills in tensors the model
    leaves unquantized and sizes the requantization multipliers).  The result's input and
    output are in IR layout (HWC images, no batch axis).

    Raises ``ValueError`` as :func:`onnx_to_float` and :func:`~xdecimate.sw.net.quantize.quantize`.
    """
    fg, fixed, fixed_w = onnx_to_float(model)
    xs = None
    if calib is not None:
        ish = fg.input_shape
        onnx_shape = (ish[2], ish[0], ish[1]) if len(ish) == 3 else tuple(ish)
        seq = [calib] if isinstance(calib, np.ndarray) else list(calib)
        try:
            batch = np.concatenate([np.asarray(c, np.float64).reshape(-1, *onnx_shape)
                                    for c in seq])
        except ValueError:
            raise ValueError(f"calibration inputs must have the model's input shape "
                             f"(n, *{onnx_shape}) in ONNX layout, not "
                             f"{[np.shape(c) for c in seq]}") from None
        xs = [to_ir_layout(b, fg) for b in batch]
    return quantize(fg, xs, percentile=percentile, fixed=fixed, fixed_weights=fixed_w,
                    name=name)


def to_ir_layout(x: np.ndarray, graph: Graph) -> np.ndarray:
    """One ONNX-layout input without its batch axis -> the IR layout (CHW -> HWC)."""
    x = np.asarray(x)
    if len(graph.input_shape) == 3 and x.ndim == 3:
        return np.ascontiguousarray(x.transpose(1, 2, 0))
    return x
