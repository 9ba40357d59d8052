"""The two trained models, in pure JAX: a ResNet-style CNN and a small ViT for 28x28 images.

What it is for: the float models that :mod:`.train` trains and :mod:`.export` writes to ONNX.
Parameters are a flat ``dict[str, jax.Array]`` keyed ``"<layer>.w"`` / ``"<layer>.b"`` (and
``"cls"``, ``"pos"``, ``"<ln>.g"`` / ``"<ln>.b"``), so that the N:M layers are named once
(:attr:`Arch.sparse`) and the same names reach the ONNX graph and the IR.

Weights are stored as the kernels see them: a conv weight is ``(Cout, kh, kw, Cin)`` (OHWI,
HWC order), a linear weight ``(Cout, K)``; the N:M blocks run along the flattened
``(Cout, kh·kw·Cin)`` / ``(Cout, K)`` rows (``docs/format.md``).  Inputs are NHWC float32,
pixel / 255.

* ``cnn`` (paper: ResNet18 with its 3x3 convolutions N:M): 3x3 stem 1→16 + ReLU, 2x2 max pool,
  three basic blocks (16 ch at 14x14; 32 ch at 7x7, stride 2; 64 ch at 4x4, stride 2; 1x1
  stride-2 projections), global average pool, FC 64→10.  N:M: the six 3x3 convolutions of the
  blocks (K = 144, 144, 144, 288, 288, 576); the stem (K = 9, one input channel), the
  projections and the FC stay dense.  No batch norm (nothing to fold; per-tensor int8 weights).
* ``vit`` (paper: ViT-S with its MLP layers N:M): 7x7 patches (16 tokens) embedded by a stride-7
  conv to d = 48, class token, position embedding, 3 pre-norm blocks (3 heads of 16; MLP 192
  with exact GELU), final layer norm, class-token head.  N:M: ``fc1`` (K = 48) and ``fc2``
  (K = 192) of every block.

May import: jax, numpy, the standard library and :mod:`.config`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .config import CNN_WIDTHS, SPARSE_LAYERS, VIT_DEPTH, VIT_DIM, VIT_HEADS, VIT_MLP, VIT_PATCH

__all__ = [
    "ARCHS",
    "CNN",
    "VIT",
    "Arch",
    "apply_cnn",
    "apply_vit",
    "init_cnn",
    "init_vit",
    "to_numpy",
]

Params = dict[str, jax.Array]

LN_EPS = 1e-5


@dataclass(frozen=True)
class Arch:
    """One model: its name, initializer, forward function and the names of its N:M layers."""

    name: str
    init: Callable[[int], Params]
    apply: Callable[[Params, jax.Array], jax.Array]
    sparse: tuple[str, ...]


def _he(key: jax.Array, shape: tuple[int, ...], fan_in: int) -> jax.Array:
    return jax.random.normal(key, shape, jnp.float32) * math.sqrt(2.0 / fan_in)


def _conv(x: jax.Array, w: jax.Array, b: jax.Array, stride: int = 1, pad: int = 0
          ) -> jax.Array:
    y = jax.lax.conv_general_dilated(x, w, (stride, stride), [(pad, pad), (pad, pad)],
                                     dimension_numbers=("NHWC", "OHWI", "NHWC"))
    return y + b


def init_cnn(seed: int) -> Params:
    """He-initialized CNN parameters (zero biases; each block's second conv scaled by 0.2 so
    the residual branches start small, which trains without batch norm)."""
    keys = iter(jax.random.split(jax.random.PRNGKey(seed), 16))
    p: Params = {}

    def conv(name: str, cout: int, k: int, cin: int, gain: float = 1.0) -> None:
        p[name + ".w"] = gain * _he(next(keys), (cout, k, k, cin), k * k * cin)
        p[name + ".b"] = jnp.zeros(cout, jnp.float32)

    conv("stem", CNN_WIDTHS[0], 3, 1)
    cin = CNN_WIDTHS[0]
    for i, c in enumerate(CNN_WIDTHS, start=1):
        conv(f"b{i}.conv1", c, 3, cin)
        conv(f"b{i}.conv2", c, 3, c, gain=0.2)
        if c != cin:
            conv(f"b{i}.down", c, 1, cin)
        cin = c
    p["fc.w"] = jax.random.normal(next(keys), (10, cin)) * math.sqrt(1.0 / cin)
    p["fc.b"] = jnp.zeros(10, jnp.float32)
    return p


def apply_cnn(p: Params, x: jax.Array) -> jax.Array:
    """Logits (B, 10) of NHWC images ``x`` (B, 28, 28, 1)."""
    h = jax.nn.relu(_conv(x, p["stem.w"], p["stem.b"], pad=1))
    h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    cin = CNN_WIDTHS[0]
    for i, c in enumerate(CNN_WIDTHS, start=1):
        s = 1 if c == cin else 2
        r = jax.nn.relu(_conv(h, p[f"b{i}.conv1.w"], p[f"b{i}.conv1.b"], s, 1))
        r = _conv(r, p[f"b{i}.conv2.w"], p[f"b{i}.conv2.b"], 1, 1)
        sc = h if c == cin else _conv(h, p[f"b{i}.down.w"], p[f"b{i}.down.b"], s, 0)
        h = jax.nn.relu(r + sc)
        cin = c
    h = h.mean(axis=(1, 2))
    return h @ p["fc.w"].T + p["fc.b"]


def init_vit(seed: int) -> Params:
    """ViT parameters: truncated-normal(0.02) linears and embeddings, unit layer norms."""
    d, m = VIT_DIM, VIT_MLP
    keys = iter(jax.random.split(jax.random.PRNGKey(seed), 8 + 8 * VIT_DEPTH))
    p: Params = {}

    def tn(shape: tuple[int, ...], std: float = 0.02) -> jax.Array:
        return std * jax.random.truncated_normal(next(keys), -2.0, 2.0, shape, jnp.float32)

    def lin(name: str, cout: int, cin: int) -> None:
        p[name + ".w"] = tn((cout, cin), math.sqrt(1.0 / cin))
        p[name + ".b"] = jnp.zeros(cout, jnp.float32)

    def ln(name: str) -> None:
        p[name + ".g"] = jnp.ones(d, jnp.float32)
        p[name + ".b"] = jnp.zeros(d, jnp.float32)

    k = VIT_PATCH
    p["patch.w"] = tn((d, k, k, 1), math.sqrt(1.0 / (k * k)))
    p["patch.b"] = jnp.zeros(d, jnp.float32)
    n = (28 // k) ** 2
    p["cls"] = tn((1, d))
    p["pos"] = tn((n + 1, d))
    for i in range(VIT_DEPTH):
        ln(f"blk{i}.ln1")
        for nm in ("q", "k", "v", "proj"):
            lin(f"blk{i}.{nm}", d, d)
        ln(f"blk{i}.ln2")
        lin(f"blk{i}.fc1", m, d)
        lin(f"blk{i}.fc2", d, m)
    ln("norm")
    lin("head", 10, d)
    return p


def _ln(x: jax.Array, g: jax.Array, b: jax.Array) -> jax.Array:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / jnp.sqrt(var + LN_EPS) * g + b


def apply_vit(p: Params, x: jax.Array) -> jax.Array:
    """Logits (B, 10) of NHWC images ``x`` (B, 28, 28, 1)."""
    d, nh = VIT_DIM, VIT_HEADS
    dh = d // nh
    h = _conv(x, p["patch.w"], p["patch.b"], VIT_PATCH)              # (B, 4, 4, d)
    bsz = h.shape[0]
    h = h.reshape(bsz, -1, d)
    h = jnp.concatenate([jnp.broadcast_to(p["cls"][None], (bsz, 1, d)), h], axis=1)
    h = h + p["pos"][None]
    t = h.shape[1]

    def lin(name: str, v: jax.Array) -> jax.Array:
        return v @ p[name + ".w"].T + p[name + ".b"]

    def heads(v: jax.Array) -> jax.Array:                           # (B, nh, T, dh)
        return v.reshape(bsz, t, nh, dh).transpose(0, 2, 1, 3)

    for i in range(VIT_DEPTH):
        pre = f"blk{i}"
        a = _ln(h, p[f"{pre}.ln1.g"], p[f"{pre}.ln1.b"])
        q, k, v = (heads(lin(f"{pre}.{nm}", a)) for nm in "qkv")
        s = jax.nn.softmax((q @ k.transpose(0, 1, 3, 2)) * (1.0 / math.sqrt(dh)), axis=-1)
        o = (s @ v).transpose(0, 2, 1, 3).reshape(bsz, t, d)
        h = h + lin(f"{pre}.proj", o)
        a = _ln(h, p[f"{pre}.ln2.g"], p[f"{pre}.ln2.b"])
        h = h + lin(f"{pre}.fc2", jax.nn.gelu(lin(f"{pre}.fc1", a), approximate=False))
    h = _ln(h, p["norm.g"], p["norm.b"])
    return lin("head", h[:, 0])


CNN = Arch("cnn", init_cnn, apply_cnn, SPARSE_LAYERS["cnn"])
VIT = Arch("vit", init_vit, apply_vit, SPARSE_LAYERS["vit"])
#: The models by name.
ARCHS: dict[str, Arch] = {"cnn": CNN, "vit": VIT}


def to_numpy(p: Params) -> dict[str, np.ndarray]:
    """A copy of the parameters as float32 numpy arrays."""
    return {k: np.asarray(v, np.float32) for k, v in p.items()}
