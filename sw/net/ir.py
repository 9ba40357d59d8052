"""The network IR: a small graph of int8 inference ops, float (to quantize) or quantized.

What it is for: one representation for the whole-network flow.  A *float* graph (built by
:class:`Builder`, by :mod:`.builtins` or by :mod:`.onnx_import`) carries float weights; the
quantizer (:mod:`.quantize`) turns it into a *quantized* graph whose every tensor is uint8 with
:class:`QParams`, whose MAC layers hold int8 weights, int32 biases and a
:class:`~xdecimate.sw.model.quant.Requant`, and which the golden model (:mod:`.golden`) runs
bit-exactly.  Layouts: images are HWC (no batch dimension: one inference at a time, as on the
MCU); token sequences are (T, D); every op works on the last axis as "channels".

The op table :data:`OPS` is the contract: one row per op, with its operands, attributes and
parameters; :meth:`Graph.validate` checks a graph against it and raises ``ValueError`` naming the
node, the op and the rule (``TypeError`` for a wrong type).

May import: numpy, the standard library and :mod:`xdecimate.sw.model`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..model.kernels import conv2d_out_shape
from ..model.nm_format import Pattern, footprint, is_nm
from ..model.quant import Requant

__all__ = [
    "OPS",
    "Builder",
    "Graph",
    "LayerStats",
    "Node",
    "OpSpec",
    "QParams",
    "layer_stats",
    "totals",
]


@dataclass(frozen=True)
class QParams:
    """Quantization of a uint8 tensor: real value of code ``q`` is ``scale·(q − zero_point)``."""

    scale: float
    zero_point: int = 0

    def __post_init__(self) -> None:
        s = self.scale
        if isinstance(s, bool) or not isinstance(s, (int, float, np.integer, np.floating)):
            raise TypeError(f"QParams scale must be a real number, not {type(s).__name__}")
        if not (math.isfinite(float(s)) and float(s) > 0):
            raise ValueError(f"QParams scale must be a finite number > 0, not {s!r}")
        z = self.zero_point
        if isinstance(z, bool) or not isinstance(z, (int, np.integer)):
            raise TypeError(f"QParams zero_point must be an integer, not {type(z).__name__}")
        if not 0 <= int(z) <= 255:
            raise ValueError(f"QParams zero_point must be in 0..255 (uint8), not {z!r}")
        object.__setattr__(self, "scale", float(s))
        object.__setattr__(self, "zero_point", int(z))

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """``clip(round_half_even(x / scale) + zero_point, 0, 255)`` as uint8 (float64 math)."""
        if not np.isfinite(x).all():
            raise ValueError("values to quantize contain NaN or inf")
        q = np.round(np.asarray(x, dtype=np.float64) / self.scale) + self.zero_point
        return np.clip(q, 0, 255).astype(np.uint8)

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        """``scale·(q − zero_point)`` in float64."""
        return self.scale * (np.asarray(q).astype(np.float64) - self.zero_point)


@dataclass(frozen=True)
class OpSpec:
    """One row of the op table.

    ``arity`` is the number of activation inputs (None: one or more); ``attrs`` the required
    attributes; ``float_params`` / ``int_params`` the parameters of a float / quantized node;
    ``same_q`` says the output has the input's :class:`QParams` (data movement, max, ReLU).
    """

    arity: int | None
    attrs: tuple[str, ...]
    float_params: tuple[str, ...]
    int_params: tuple[str, ...]
    same_q: bool
    doc: str


#: The op table (``docs/net.md`` gives the integer formula of every row).
OPS: dict[str, OpSpec] = {
    "conv": OpSpec(1, ("stride", "pad", "relu"), ("w", "b"), ("w", "bias", "rq"), False,
                   "2-D convolution, HWC, w (Cout, kh, kw, Cin), square stride and symmetric pad"),
    "linear": OpSpec(1, ("relu",), ("w", "b"), ("w", "bias", "rq"), False,
                     "fully connected on the last axis, w (Cout, K)"),
    "matmul": OpSpec(2, ("transpose_b",), (), ("rq",), False,
                     "activation x activation: a (..., T, K) @ b (..., K, N) [or b^T]"),
    "add": OpSpec(2, ("relu",), (), ("ma", "mb", "shift"), False,
                  "element-wise sum of two tensors of one shape, each with its own scale"),
    "relu": OpSpec(1, (), (), (), True, "max(x, 0) when it cannot be folded"),
    "maxpool": OpSpec(1, ("k", "stride", "pad"), (), (), True, "k x k max pooling, HWC"),
    "avgpool": OpSpec(1, ("k", "stride"), (), ("rq",), False, "k x k average pooling, no pad"),
    "gap": OpSpec(1, (), (), ("rq",), False, "global average pooling (H, W, C) -> (1, 1, C)"),
    "reshape": OpSpec(1, ("shape",), (), (), True, "row-major reshape"),
    "transpose": OpSpec(1, ("perm",), (), (), True, "axis permutation"),
    "slice": OpSpec(1, ("axis", "start", "stop"), (), (), True, "x[start:stop] on one axis"),
    "concat": OpSpec(None, ("axis",), (), ("rescale",), False, "concatenation on one axis"),
    "scale": OpSpec(1, ("factor",), (), (), False,
                    "multiplication by a constant > 0: codes unchanged, scale x factor"),
    "layernorm": OpSpec(1, ("eps",), ("gamma", "beta"), ("f", "eps_int", "g", "b", "shift"),
                        False, "layer normalization on the last axis (I-BERT integer)"),
    "softmax": OpSpec(1, (), (), ("k", "q_ln2", "q_b", "q_c", "r"), False,
                      "softmax on the last axis (I-BERT i-exp), output scale 1/r"),
    "gelu": OpSpec(1, (), (), ("lut",), False, "GELU (I-BERT i-GELU, tabulated per code)"),
}

_MAC_OPS = ("conv", "linear")


@dataclass
class Node:
    """One op: ``output = op(*inputs)`` with ``attrs`` (shape-level) and ``params`` (data)."""

    op: str
    name: str
    inputs: tuple[str, ...]
    output: str
    attrs: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    @property
    def pattern(self) -> Pattern | None:
        """The N:M pattern of a sparse conv / linear layer, else None."""
        return self.attrs.get("pattern")


def _err(node: Node, rule: str) -> ValueError:
    return ValueError(f"node {node.name!r} ({node.op}): {rule}")


def out_shape(node: Node, shapes: list[tuple[int, ...]], w_shape: tuple[int, ...] | None
              ) -> tuple[int, ...]:
    """Output shape of ``node`` from its input shapes (``ValueError`` naming the rule)."""
    op, a = node.op, node.attrs
    x = shapes[0]
    if op == "conv":
        if len(x) != 3:
            raise _err(node, f"input must be (H, W, Cin), not shape {x}")
        if w_shape is None or len(w_shape) != 4 or w_shape[3] != x[2]:
            raise _err(node, f"weights must be (Cout, kh, kw, Cin={x[2]}), not {w_shape}")
        try:
            ho, wo = conv2d_out_shape(x[0], x[1], w_shape[1], w_shape[2], a["stride"], a["pad"])
        except (TypeError, ValueError) as e:
            raise _err(node, str(e)) from None
        return (ho, wo, w_shape[0])
    if op == "linear":
        if w_shape is None or len(w_shape) != 2 or w_shape[1] != x[-1]:
            raise _err(node, f"weights must be (Cout, K={x[-1]}), not {w_shape}")
        return (*x[:-1], w_shape[0])
    if op == "matmul":
        b = shapes[1]
        if len(x) < 2 or len(b) != len(x) or b[:-2] != x[:-2]:
            raise _err(node, f"operands must have equal batch dimensions and rank >= 2, not "
                             f"{x} and {b}")
        kb, n = (b[-1], b[-2]) if a["transpose_b"] else (b[-2], b[-1])
        if kb != x[-1]:
            raise _err(node, f"inner dimensions differ: {x} @ {b} "
                             f"(transpose_b={a['transpose_b']})")
        return (*x[:-1], n)
    if op in ("add",):
        if shapes[1] != x:
            raise _err(node, f"operands must have one shape (no broadcasting), not {x} and "
                             f"{shapes[1]}")
        return x
    if op in ("relu", "scale", "layernorm", "softmax", "gelu"):
        return x
    if op in ("maxpool", "avgpool", "gap"):
        if len(x) != 3:
            raise _err(node, f"input must be (H, W, C), not shape {x}")
        if op == "gap":
            return (1, 1, x[2])
        try:
            ho, wo = conv2d_out_shape(x[0], x[1], a["k"], a["k"], a["stride"], a.get("pad", 0))
        except (TypeError, ValueError) as e:
            raise _err(node, str(e)) from None
        return (ho, wo, x[2])
    if op == "reshape":
        shape = tuple(int(d) for d in a["shape"])
        if any(d < 1 for d in shape) or math.prod(shape) != math.prod(x):
            raise _err(node, f"cannot reshape {x} ({math.prod(x)} elements) to {shape}")
        return shape
    if op == "transpose":
        perm = tuple(int(p) for p in a["perm"])
        if sorted(perm) != list(range(len(x))):
            raise _err(node, f"perm {perm} is not a permutation of the {len(x)} axes of {x}")
        return tuple(x[p] for p in perm)
    if op == "slice":
        ax, lo, hi = a["axis"], a["start"], a["stop"]
        if not (0 <= ax < len(x) and 0 <= lo < hi <= x[ax]):
            raise _err(node, f"slice axis {ax} [{lo}:{hi}] is outside shape {x}")
        return tuple(hi - lo if i == ax else d for i, d in enumerate(x))
    if op == "concat":
        ax = a["axis"]
        if not 0 <= ax < len(x):
            raise _err(node, f"axis {ax} is outside shape {x}")
        for s in shapes[1:]:
            if len(s) != len(x) or any(d != e for i, (d, e) in enumerate(zip(s, x, strict=True))
                                       if i != ax):
                raise _err(node, f"shapes {shapes} differ outside axis {ax}")
        return tuple(sum(s[ax] for s in shapes) if i == ax else d for i, d in enumerate(x))
    raise _err(node, f"unknown op; known: {sorted(OPS)}")


@dataclass
class Graph:
    """A network: nodes in execution order from one input tensor to one output tensor.

    ``constants`` are float arrays in a float graph and uint8 codes (with an entry in
    ``qparams``) in a quantized one; ``qparams`` is None for a float graph.  ``shapes`` is
    filled by :meth:`validate`, which every producer of a graph calls.
    """

    name: str
    input: str
    input_shape: tuple[int, ...]
    output: str
    nodes: list[Node]
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    qparams: dict[str, QParams] | None = None
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def quantized(self) -> bool:
        return self.qparams is not None

    def node(self, name: str) -> Node:
        """The node called ``name`` (``KeyError`` naming the known ones otherwise)."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node {name!r} in graph {self.name!r}")

    def producer(self, tensor: str) -> Node | None:
        return next((n for n in self.nodes if n.output == tensor), None)

    def consumers(self, tensor: str) -> list[Node]:
        return [n for n in self.nodes if tensor in n.inputs]

    def validate(self) -> None:
        """Check every node against :data:`OPS`; fill :attr:`shapes`.

        Raises ``ValueError`` (``TypeError`` for a parameter of the wrong type) naming the node,
        the op and the rule: unknown op, wrong operand count, missing attribute or parameter,
        undefined or redefined tensor, inconsistent shapes, int8/int32 dtypes, N:M pattern not
        met, and the quantization rules of ``docs/net.md`` (a folded ReLU needs output zero
        point 0; the b operand of a matmul zero point 128; ops that keep the quantization keep
        it; softmax output scale 1/r).
        """
        shapes: dict[str, tuple[int, ...]] = {self.input: tuple(self.input_shape)}
        for cname, c in self.constants.items():
            if cname in shapes:
                raise ValueError(f"constant {cname!r} redefines a tensor")
            shapes[cname] = tuple(c.shape)
            if self.quantized and c.dtype != np.uint8:
                raise TypeError(f"constant {cname!r} of a quantized graph must be uint8 codes, "
                                f"not {c.dtype}")
        names = set()
        for node in self.nodes:
            spec = OPS.get(node.op)
            if spec is None:
                raise _err(node, f"unknown op; known: {sorted(OPS)}")
            if node.name in names:
                raise _err(node, "node name used twice")
            names.add(node.name)
            if (spec.arity is not None and len(node.inputs) != spec.arity) or not node.inputs:
                raise _err(node, f"takes {spec.arity or 'one or more'} input(s), not "
                                 f"{len(node.inputs)}")
            for t in node.inputs:
                if t not in shapes:
                    raise _err(node, f"input {t!r} is not defined before it is used")
            if node.output in shapes:
                raise _err(node, f"output {node.output!r} is already defined")
            missing = [a for a in spec.attrs if a not in node.attrs]
            if missing:
                raise _err(node, f"missing attribute(s) {missing}")
            need = spec.int_params if self.quantized else spec.float_params
            missing = [p for p in need if p not in node.params and p != "b"]
            if missing:
                raise _err(node, f"missing parameter(s) {missing}")
            w = node.params.get("w")
            in_shapes = [shapes[t] for t in node.inputs]
            shapes[node.output] = out_shape(node, in_shapes, None if w is None else w.shape)
            self._check_params(node, w)
            if self.quantized:
                self._check_q(node)
        if self.output not in shapes:
            raise ValueError(f"graph output {self.output!r} is not produced by any node")
        self.shapes = shapes

    def _check_params(self, node: Node, w: np.ndarray | None) -> None:
        pat = node.attrs.get("pattern")
        if pat is not None:
            if node.op not in _MAC_OPS:
                raise _err(node, "only conv and linear layers can be N:M-sparse")
            if not isinstance(pat, Pattern):
                raise TypeError(f"node {node.name!r}: pattern must be a Pattern, not "
                                f"{type(pat).__name__}")
        if node.op not in _MAC_OPS:
            return
        assert w is not None
        if self.quantized:
            if w.dtype != np.int8:
                raise TypeError(f"node {node.name!r} ({node.op}): weights must be int8, not "
                                f"{w.dtype}")
            b = node.params["bias"]
            if not isinstance(b, np.ndarray) or b.dtype != np.int32 or b.shape != (w.shape[0],):
                raise TypeError(f"node {node.name!r} ({node.op}): bias must be int32 of shape "
                                f"({w.shape[0]},), not {getattr(b, 'dtype', type(b))} "
                                f"{getattr(b, 'shape', '')}")
            if not isinstance(node.params["rq"], Requant):
                raise TypeError(f"node {node.name!r}: rq must be a Requant")
            if pat is not None and not is_nm(w.reshape(w.shape[0], -1), pat):
                raise _err(node, f"weights are not {pat}-sparse along K (prune them first)")
        elif not np.issubdtype(w.dtype, np.floating):
            raise TypeError(f"node {node.name!r} ({node.op}): float graph weights must be "
                            f"float, not {w.dtype}")

    def _check_q(self, node: Node) -> None:
        qp = self.qparams
        assert qp is not None
        for t in (*node.inputs, node.output):
            if t not in qp:
                raise _err(node, f"tensor {t!r} has no QParams")
        out = qp[node.output]
        if OPS[node.op].same_q and out != qp[node.inputs[0]]:
            raise _err(node, f"output QParams {out} must equal the input's "
                             f"{qp[node.inputs[0]]} ({node.op} keeps the quantization)")
        if node.attrs.get("relu") and out.zero_point != 0:
            raise _err(node, f"a folded ReLU needs output zero point 0, not {out.zero_point}")
        if node.op == "matmul" and qp[node.inputs[1]].zero_point != 128:
            raise _err(node, f"operand b {node.inputs[1]!r} must have zero point 128 (int8 "
                             f"stored with offset 128, so b - 128 is the int8 weight operand "
                             f"of the dense kernel), not {qp[node.inputs[1]].zero_point}")
        if node.op == "softmax" and (out.zero_point != 0 or
                                     not math.isclose(out.scale, 1 / node.params["r"])):
            raise _err(node, f"output must be QParams(1/{node.params['r']}, 0), not {out}")
        if node.op == "scale":
            want = QParams(qp[node.inputs[0]].scale * node.attrs["factor"],
                           qp[node.inputs[0]].zero_point)
            if not (math.isclose(out.scale, want.scale) and out.zero_point == want.zero_point):
                raise _err(node, f"output QParams {out} must be the input's scaled by "
                                 f"{node.attrs['factor']}: {want}")
        if node.op == "gelu":
            lut = node.params["lut"]
            if not isinstance(lut, np.ndarray) or lut.dtype != np.uint8 or lut.shape != (256,):
                raise TypeError(f"node {node.name!r}: gelu lut must be uint8 of shape (256,)")


def _auto(names: Iterable[str], prefix: str) -> str:
    used = set(names)
    i = 0
    while f"{prefix}{i}" in used:
        i += 1
    return f"{prefix}{i}"


class Builder:
    """Build a float :class:`Graph` op by op; each method returns its output tensor's name.

    Shapes are checked as nodes are added (``ValueError`` naming the node and the rule).
    """

    def __init__(self, name: str, input_shape: tuple[int, ...], *, input_name: str = "input"):
        self._g = Graph(name=name, input=input_name, input_shape=tuple(input_shape), output="",
                        nodes=[])
        self._shapes: dict[str, tuple[int, ...]] = {input_name: tuple(input_shape)}

    def shape(self, tensor: str) -> tuple[int, ...]:
        return self._shapes[tensor]

    def const(self, name: str, value: np.ndarray) -> str:
        """A float constant tensor (e.g. a class token, a position embedding)."""
        if name in self._shapes:
            raise ValueError(f"tensor {name!r} already exists")
        self._g.constants[name] = np.asarray(value, dtype=np.float64)
        self._shapes[name] = tuple(self._g.constants[name].shape)
        return name

    def _add(self, op: str, inputs: tuple[str, ...], attrs: dict, params: dict,
             name: str | None) -> str:
        name = name or _auto((n.name for n in self._g.nodes), op)
        for t in inputs:
            if t not in self._shapes:
                raise ValueError(f"node {name!r} ({op}): input {t!r} is not defined")
        node = Node(op, name, inputs, name, attrs, params)
        w = params.get("w")
        self._shapes[name] = out_shape(node, [self._shapes[t] for t in inputs],
                                       None if w is None else w.shape)
        self._g.nodes.append(node)
        return name

    def conv(self, x: str, w: np.ndarray, b: np.ndarray | None = None, *, stride: int = 1,
             pad: int = 0, relu: bool = False, name: str | None = None) -> str:
        """Convolution; ``w`` is (Cout, kh, kw, Cin) float, ``b`` (Cout,) or None."""
        return self._add("conv", (x,), {"stride": stride, "pad": pad, "relu": relu},
                         {"w": np.asarray(w, np.float64), "b": _fbias(b, w)}, name)

    def linear(self, x: str, w: np.ndarray, b: np.ndarray | None = None, *, relu: bool = False,
               name: str | None = None) -> str:
        """Fully connected on the last axis; ``w`` is (Cout, K) float."""
        return self._add("linear", (x,), {"relu": relu},
                         {"w": np.asarray(w, np.float64), "b": _fbias(b, w)}, name)

    def matmul(self, a: str, b: str, *, transpose_b: bool = False, name: str | None = None
               ) -> str:
        return self._add("matmul", (a, b), {"transpose_b": transpose_b}, {}, name)

    def add(self, a: str, b: str, *, relu: bool = False, name: str | None = None) -> str:
        return self._add("add", (a, b), {"relu": relu}, {}, name)

    def relu(self, x: str, *, name: str | None = None) -> str:
        return self._add("relu", (x,), {}, {}, name)

    def maxpool(self, x: str, k: int, stride: int, pad: int = 0, *, name: str | None = None
                ) -> str:
        return self._add("maxpool", (x,), {"k": k, "stride": stride, "pad": pad}, {}, name)

    def avgpool(self, x: str, k: int, stride: int, *, name: str | None = None) -> str:
        return self._add("avgpool", (x,), {"k": k, "stride": stride}, {}, name)

    def gap(self, x: str, *, name: str | None = None) -> str:
        return self._add("gap", (x,), {}, {}, name)

    def reshape(self, x: str, shape: tuple[int, ...], *, name: str | None = None) -> str:
        return self._add("reshape", (x,), {"shape": tuple(int(d) for d in shape)}, {}, name)

    def transpose(self, x: str, perm: tuple[int, ...], *, name: str | None = None) -> str:
        return self._add("transpose", (x,), {"perm": tuple(int(p) for p in perm)}, {}, name)

    def slice(self, x: str, axis: int, start: int, stop: int, *, name: str | None = None
              ) -> str:
        return self._add("slice", (x,), {"axis": axis, "start": start, "stop": stop}, {}, name)

    def concat(self, xs: list[str], axis: int, *, name: str | None = None) -> str:
        return self._add("concat", tuple(xs), {"axis": axis}, {}, name)

    def scale(self, x: str, factor: float, *, name: str | None = None) -> str:
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"scale factor must be a finite number > 0, not {factor!r}")
        return self._add("scale", (x,), {"factor": float(factor)}, {}, name)

    def layernorm(self, x: str, gamma: np.ndarray, beta: np.ndarray, *, eps: float = 1e-5,
                  name: str | None = None) -> str:
        d = self._shapes[x][-1]
        gamma, beta = np.asarray(gamma, np.float64), np.asarray(beta, np.float64)
        if gamma.shape != (d,) or beta.shape != (d,):
            raise ValueError(f"layernorm gamma/beta must have shape ({d},), not {gamma.shape}, "
                             f"{beta.shape}")
        return self._add("layernorm", (x,), {"eps": float(eps)},
                         {"gamma": gamma, "beta": beta}, name)

    def softmax(self, x: str, *, name: str | None = None) -> str:
        return self._add("softmax", (x,), {}, {}, name)

    def gelu(self, x: str, *, name: str | None = None) -> str:
        return self._add("gelu", (x,), {}, {}, name)

    def finish(self, output: str) -> Graph:
        """The validated float graph with ``output`` as its result."""
        self._g.output = output
        self._g.validate()
        return self._g


def _fbias(b: np.ndarray | None, w: np.ndarray) -> np.ndarray:
    n = np.asarray(w).shape[0]
    if b is None:
        return np.zeros(n)
    b = np.asarray(b, np.float64)
    if b.shape != (n,):
        raise ValueError(f"bias must have shape ({n},), not {b.shape}")
    return b


@dataclass(frozen=True)
class LayerStats:
    """Cost of one node: MACs (dense and executed) and bytes of its parameters."""

    name: str
    op: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    macs: int             #: multiply-accumulates of the dense layer
    macs_executed: int    #: MACs the kernel performs (N/M of them for an N:M layer)
    pattern: str | None   #: "1:8" etc. for a sparse layer, else None
    weight_bytes: int     #: int8 weights stored dense
    stored_bytes: int     #: int8 weights as stored: N:M image (nm_format.footprint) or dense
    other_bytes: int      #: int32 biases, layer-norm parameters, constants


def layer_stats(graph: Graph) -> list[LayerStats]:
    """Per-node MACs and parameter bytes of a validated graph (float or quantized).

    Constants (class token, position embedding) count 1 byte per element in ``other_bytes`` of
    a pseudo-row named after them (op ``"const"``).
    """
    if not graph.shapes:
        graph.validate()
    sh = graph.shapes
    out = []
    for name, c in graph.constants.items():
        out.append(LayerStats(name, "const", (), tuple(c.shape), 0, 0, None, 0, 0, c.size))
    for n in graph.nodes:
        x, y = sh[n.inputs[0]], sh[n.output]
        macs = wb = sb = ob = 0
        pat = n.pattern
        if n.op in _MAC_OPS:
            w = n.params["w"]
            k = math.prod(w.shape[1:])
            macs = math.prod(y) * k
            wb = w.shape[0] * k
            sb = footprint(w.shape[0], k, pat).sparse_bytes if pat else wb
            ob = 4 * w.shape[0]
        elif n.op == "matmul":
            macs = math.prod(y) * x[-1]
        elif n.op == "layernorm":
            ob = 8 * x[-1]
        elif n.op == "gelu":
            ob = 256
        executed = macs * pat.n // pat.m if pat else macs
        out.append(LayerStats(n.name, n.op, x, y, macs, executed, str(pat) if pat else None,
                              wb, sb, ob))
    return out


def totals(graph: Graph) -> dict[str, int | float]:
    """Whole-network sums of :func:`layer_stats` and the weight-memory ratios.

    Keys: ``macs``, ``macs_executed``, ``weight_bytes``, ``stored_bytes``, ``other_bytes``,
    ``weight_ratio`` (dense / stored int8 weights) and ``memory_ratio`` (the same with the
    other parameter bytes added to both sides).
    """
    st = layer_stats(graph)
    t: dict[str, int | float] = {k: sum(getattr(s, k) for s in st) for k in
                                 ("macs", "macs_executed", "weight_bytes", "stored_bytes",
                                  "other_bytes")}
    t["weight_ratio"] = t["weight_bytes"] / t["stored_bytes"]
    t["memory_ratio"] = ((t["weight_bytes"] + t["other_bytes"]) /
                         (t["stored_bytes"] + t["other_bytes"]))
    return t
