"""Float parameters of :mod:`.models` → ONNX → the project's quantized IR graph.

What it is for: the bridge from training to deployment.  :func:`to_onnx` writes a model's
float parameters (numpy, as :mod:`.models` names them) as an ONNX graph made only of the
operators ``docs/net.md`` lists (Conv, Relu, MaxPool, Add, GlobalAveragePool, Flatten, Gemm,
MatMul + Add, Reshape, Transpose, Concat, LayerNormalization, Softmax, Mul, Gelu, Gather),
each node named after its layer.  :func:`quantized_graph` imports it
(:func:`xdecimate.sw.net.onnx_import.onnx_to_float`), marks the N:M layers with their pattern
through :func:`xdecimate.sw.net.sparsify.sparsify` -- whose magnitude pruning is a no-op on
weights that already satisfy the pattern, which :func:`quantized_graph` checks -- and
quantizes with a calibration set (:func:`xdecimate.sw.net.quantize.quantize`; weights int8 per
tensor, activations uint8 from min/max ranges).  Input: pixel / 255, so with a calibration set
that holds black and white pixels the input codes are the raw pixels (:func:`input_codes`).

May import: numpy, onnx, the standard library, :mod:`xdecimate.sw.net`,
:mod:`xdecimate.sw.model` and :mod:`.config`.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import TensorProto
from onnx import helper as oh
from onnx import numpy_helper as onh

from ..model.nm_format import Pattern
from ..net.ir import Graph
from ..net.onnx_import import onnx_to_float
from ..net.quantize import quantize
from ..net.sparsify import sparsify
from .config import SPARSE_LAYERS, VIT_HEADS

__all__ = ["ARCH_SPARSE", "OPSET", "check_nm", "input_codes", "quantized_graph", "to_onnx"]

#: ONNX opset of the exported models.
OPSET = 20
#: The N:M layers of each model.
ARCH_SPARSE = SPARSE_LAYERS


def _matrix(w: np.ndarray) -> np.ndarray:
    return w.reshape(w.shape[0], -1)


def check_nm(params: dict[str, np.ndarray], arch: str, pattern: Pattern | str | None) -> None:
    """Raise ``ValueError`` naming the layer if a sparse layer of ``params`` breaks ``pattern``
    along K of its ``(Cout, kh·kw·Cin)`` matrix (None: nothing to check)."""
    if pattern is None:
        return
    pat = Pattern.parse(pattern) if isinstance(pattern, str) else pattern
    for name in ARCH_SPARSE[arch]:
        w = _matrix(params[name + ".w"])
        blocks = -(-w.shape[1] // pat.m)
        padded = np.zeros((w.shape[0], blocks * pat.m), w.dtype)
        padded[:, :w.shape[1]] = w
        nz = (padded.reshape(w.shape[0], blocks, pat.m) != 0).sum(axis=2)
        if nz.max() > pat.n:
            raise ValueError(f"layer {name!r}: weights {w.shape} are not {pat}-sparse along K "
                             f"(every block of {pat.m} must hold at most {pat.n} non-zeros; "
                             f"{blocks} blocks per row)")


class _G:
    """A small ONNX graph builder."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.n = 0

    def init(self, name: str, a: np.ndarray) -> str:
        self.inits.append(onh.from_array(np.asarray(a), name))
        return name

    def f32(self, name: str, a: np.ndarray) -> str:
        return self.init(name, np.asarray(a, np.float32))

    def i64(self, name: str, a: list[int]) -> str:
        return self.init(name, np.asarray(a, np.int64))

    def node(self, op: str, inputs: list[str], name: str, **attrs: object) -> str:
        out = f"{name}:out"
        self.nodes.append(oh.make_node(op, inputs, [out], name=name, **attrs))
        return out


def _conv(g: _G, x: str, p: dict[str, np.ndarray], name: str, stride: int = 1, pad: int = 0
          ) -> str:
    w = p[name + ".w"]                                   # OHWI -> OIHW
    k = w.shape[1]
    return g.node("Conv", [x, g.f32(name + ".w", w.transpose(0, 3, 1, 2)),
                           g.f32(name + ".b", p[name + ".b"])], name,
                  kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)


def _cnn(g: _G, p: dict[str, np.ndarray]) -> str:
    h = g.node("Relu", [_conv(g, "input", p, "stem", pad=1)], "stem.relu")
    h = g.node("MaxPool", [h], "pool", kernel_shape=[2, 2], strides=[2, 2])
    cin = p["stem.w"].shape[0]
    for i in (1, 2, 3):
        c = p[f"b{i}.conv1.w"].shape[0]
        s = 1 if c == cin else 2
        r = g.node("Relu", [_conv(g, h, p, f"b{i}.conv1", s, 1)], f"b{i}.relu1")
        r = _conv(g, r, p, f"b{i}.conv2", 1, 1)
        sc = h if c == cin else _conv(g, h, p, f"b{i}.down", s, 0)
        h = g.node("Relu", [g.node("Add", [r, sc], f"b{i}.add")], f"b{i}.relu2")
        cin = c
    h = g.node("Flatten", [g.node("GlobalAveragePool", [h], "gap")], "flatten")
    return g.node("Gemm", [h, g.f32("fc.w", p["fc.w"]), g.f32("fc.b", p["fc.b"])], "fc",
                  transB=1)


def _vit(g: _G, p: dict[str, np.ndarray]) -> str:
    d = p["patch.w"].shape[0]
    t = p["pos"].shape[0]
    nh = VIT_HEADS
    dh = d // nh
    depth = sum(1 for k in p if k.endswith(".fc1.w"))
    h = _conv(g, "input", p, "patch", stride=p["patch.w"].shape[1])   # (1, d, 4, 4)
    h = g.node("Reshape", [h, g.i64("shape.tokens_chw", [1, d, t - 1])], "tokens_chw")
    h = g.node("Transpose", [h], "tokens", perm=[0, 2, 1])
    h = g.node("Concat", [g.f32("cls", p["cls"][None]), h], "cat_cls", axis=1)
    h = g.node("Add", [h, g.f32("pos", p["pos"][None])], "add_pos")
    g.i64("shape.heads", [1, t, nh, dh])
    g.i64("shape.merge", [1, t, d])
    g.f32("attn_scale", np.array(1.0 / math.sqrt(dh)))

    def lin(x: str, name: str) -> str:
        y = g.node("MatMul", [x, g.f32(name + ".w", p[name + ".w"].T)], name)
        return g.node("Add", [y, g.f32(name + ".b", p[name + ".b"])], name + ".bias")

    def ln(x: str, name: str) -> str:
        return g.node("LayerNormalization",
                      [x, g.f32(name + ".g", p[name + ".g"]), g.f32(name + ".b", p[name + ".b"])],
                      name, axis=-1, epsilon=1e-5)

    for i in range(depth):
        pre = f"blk{i}"
        a = ln(h, f"{pre}.ln1")
        q, k, v = (g.node("Reshape", [lin(a, f"{pre}.{nm}"), "shape.heads"], f"{pre}.{nm}_heads")
                   for nm in "qkv")
        q = g.node("Transpose", [q], f"{pre}.q_t", perm=[0, 2, 1, 3])     # (1, nh, T, dh)
        k = g.node("Transpose", [k], f"{pre}.k_t", perm=[0, 2, 3, 1])     # (1, nh, dh, T)
        v = g.node("Transpose", [v], f"{pre}.v_t", perm=[0, 2, 1, 3])
        s = g.node("MatMul", [q, k], f"{pre}.scores")
        s = g.node("Mul", [s, "attn_scale"], f"{pre}.scaled")
        s = g.node("Softmax", [s], f"{pre}.softmax", axis=-1)
        o = g.node("MatMul", [s, v], f"{pre}.attn")
        o = g.node("Transpose", [o], f"{pre}.attn_t", perm=[0, 2, 1, 3])
        o = g.node("Reshape", [o, "shape.merge"], f"{pre}.merge")
        h = g.node("Add", [h, lin(o, f"{pre}.proj")], f"{pre}.add1")
        a = ln(h, f"{pre}.ln2")
        f = g.node("Gelu", [lin(a, f"{pre}.fc1")], f"{pre}.gelu")
        h = g.node("Add", [h, lin(f, f"{pre}.fc2")], f"{pre}.add2")
    h = ln(h, "norm")
    h = g.node("Gather", [h, g.init("cls_index", np.array(0, np.int64))], "cls_out", axis=1)
    return g.node("Gemm", [h, g.f32("head.w", p["head.w"]), g.f32("head.b", p["head.b"])],
                  "head", transB=1)


def to_onnx(params: dict[str, np.ndarray], arch: str, *, name: str | None = None
            ) -> onnx.ModelProto:
    """The ONNX model (opset :data:`OPSET`, input ``input`` (1, 1, 28, 28), output ``logits``
    (1, 10)) of ``arch`` ("cnn" or "vit") with float ``params``.

    Raises ``ValueError`` for an unknown ``arch`` and what ``onnx.checker`` finds.
    """
    if arch not in ARCH_SPARSE:
        raise ValueError(f"arch must be one of {sorted(ARCH_SPARSE)}, not {arch!r}")
    g = _G()
    out = _cnn(g, params) if arch == "cnn" else _vit(g, params)
    g.nodes.append(oh.make_node("Identity", [out], ["logits"], name="output"))
    graph = oh.make_graph(
        g.nodes, name or arch,
        [oh.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 28, 28])],
        [oh.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], g.inits)
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", OPSET)],
                          producer_name="xdecimate.sw.train")
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model


def input_codes(images: np.ndarray) -> np.ndarray:
    """The float model input of uint8 images (n, 28, 28): NCHW float, pixel / 255."""
    return (np.asarray(images, np.float64) / 255.0)[:, None]


def quantized_graph(params: dict[str, np.ndarray], arch: str, pattern: Pattern | str | None,
                    calib_images: np.ndarray, *, name: str | None = None) -> Graph:
    """The quantized IR graph of ``params``: ONNX export, import, N:M marking, quantization.

    ``pattern``: None for the dense model, else the pattern its :data:`ARCH_SPARSE` layers
    already satisfy (they are marked with it; ``sparsify``'s re-pruning must leave them
    unchanged).  ``calib_images``: uint8 (n, 28, 28) calibration images (training split).

    Raises
    ------
    ValueError
        The sparse layers do not satisfy ``pattern`` (named), or re-pruning changed them, or
        what the importer and the quantizer raise.
    """
    check_nm(params, arch, pattern)
    nm = name or f"{arch}-{pattern or 'dense'}"
    fg, fixed, fixed_w = onnx_to_float(to_onnx(params, arch, name=nm))
    if fixed or fixed_w:  # pragma: no cover - the export writes no QDQ pairs
        raise AssertionError("a float export must not carry quantization")
    if pattern is not None:
        sg = sparsify(fg, pattern, ARCH_SPARSE[arch])
        for layer in ARCH_SPARSE[arch]:
            before, after = fg.node(layer).params["w"], sg.node(layer).params["w"]
            if not np.array_equal(before, after):
                raise ValueError(f"layer {layer!r}: re-pruning to {pattern} changed "
                                 f"{int((before != after).sum())} weights: the trained weights "
                                 "were not N:M as exported")
        fg = sg
    fg.name = nm
    xs = [x.transpose(1, 2, 0) for x in input_codes(calib_images)]
    return quantize(fg, xs, name=nm)
