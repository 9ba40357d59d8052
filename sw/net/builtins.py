"""The paper's two networks, with random (seeded) weights: ResNet18 for CIFAR-100 and ViT-S/16.

What it is for: the whole-network workloads of the deployment flow.  Cycles do not depend on
weight values, so random weights are enough here (accuracy is a later issue); the requant
parameters come from real accumulator ranges on a random calibration input, so activations use
their uint8 range.  Sparsified as the paper did: ResNet18 -- every 3x3 convolution (rule
``"3x3-convs"``); ViT-S -- the MLP layers (rule ``"mlp-fcs"``); everything else dense.
``quick=True`` gives a reduced variant of the same structure that runs in well under a second.

May import: numpy, the standard library, :mod:`xdecimate.sw.model` and this package.
"""

from __future__ import annotations

import math

import numpy as np

from ..model.nm_format import Pattern
from .ir import Builder, Graph
from .quantize import quantize
from .sparsify import sparsify

__all__ = ["resnet18_cifar", "resnet18_cifar_float", "vit_s16", "vit_s16_float"]


def _conv_w(rng: np.random.Generator, cout: int, k: int, cin: int) -> np.ndarray:
    return rng.normal(0, math.sqrt(2 / (k * k * cin)), (cout, k, k, cin))


def resnet18_cifar_float(num_classes: int = 100, *, quick: bool = False, seed: int = 0
                         ) -> Graph:
    """Float ResNet18-CIFAR (dense): 3x3 stem (no max pool), 4 stages of 2 basic blocks
    (64/128/256/512 channels, 1x1 stride-2 projection shortcuts), global average pool, FC.

    Batch norm is folded into the convolutions (a bias per channel).  ``quick``: 16x16 input,
    8/16/32/64 channels, one block per stage.
    """
    rng = np.random.default_rng(seed)
    size, widths, blocks = (16, (8, 16, 32, 64), 1) if quick else (32, (64, 128, 256, 512), 2)
    b = Builder("resnet18-cifar" + ("-quick" if quick else ""), (size, size, 3))
    x = b.conv("input", _conv_w(rng, widths[0], 3, 3), rng.normal(0, 0.05, widths[0]),
               pad=1, relu=True, name="stem")
    cin = widths[0]
    for si, c in enumerate(widths):
        for bi in range(blocks):
            stride = 2 if si > 0 and bi == 0 else 1
            pre = f"s{si + 1}b{bi + 1}"
            h = b.conv(x, _conv_w(rng, c, 3, cin), rng.normal(0, 0.05, c), stride=stride, pad=1,
                       relu=True, name=f"{pre}.conv1")
            h = b.conv(h, _conv_w(rng, c, 3, c), rng.normal(0, 0.05, c), pad=1,
                       name=f"{pre}.conv2")
            sc = x
            if stride != 1 or cin != c:
                sc = b.conv(x, _conv_w(rng, c, 1, cin), rng.normal(0, 0.05, c), stride=stride,
                            name=f"{pre}.down")
            x = b.add(h, sc, relu=True, name=f"{pre}.add")
            cin = c
    x = b.gap(x, name="gap")
    x = b.reshape(x, (cin,), name="flatten")
    x = b.linear(x, rng.normal(0, math.sqrt(1 / cin), (num_classes, cin)),
                 rng.normal(0, 0.05, num_classes), name="fc")
    return b.finish(x)


def vit_s16_float(num_classes: int = 10, *, quick: bool = False, seed: int = 0,
                  depth: int | None = None) -> Graph:
    """Float ViT-S/16 at 224x224 (dense): 16x16 patch embedding (a conv), class token,
    position embedding, 12 pre-norm blocks (d = 384, 6 heads, MLP 1536 with GELU), final layer
    norm, class-token head.  ``quick``: 32x32 input, patch 8, d = 64, 2 heads, 2 blocks,
    MLP 256.  ``depth``: that many blocks instead (for per-block measurements); the name says
    so.
    """
    rng = np.random.default_rng(seed)
    if quick:
        size, patch, d, heads, depth_, mlp = 32, 8, 64, 2, 2, 256
    else:
        size, patch, d, heads, depth_, mlp = 224, 16, 384, 6, 12, 1536
    if depth is not None:
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth must be a positive int, not {depth!r}")
        depth_ = depth
    dh, n = d // heads, (size // patch) ** 2
    t = n + 1

    def lin(cout: int, cin: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.normal(0, math.sqrt(1 / cin), (cout, cin)), rng.normal(0, 0.02, cout)

    def ln(x: str, name: str) -> str:
        return b.layernorm(x, rng.normal(1, 0.1, d), rng.normal(0, 0.05, d), eps=1e-6,
                           name=name)

    b = Builder("vit-s16" + ("-quick" if quick else "") + (f"-depth{depth}" if depth else ""),
                (size, size, 3))
    x = b.conv("input", rng.normal(0, math.sqrt(1 / (patch * patch * 3)), (d, patch, patch, 3)),
               rng.normal(0, 0.02, d), stride=patch, name="patch_embed")
    x = b.reshape(x, (n, d), name="tokens")
    cls = b.const("cls_token", rng.normal(0, 0.5, (1, d)))
    x = b.concat([cls, x], axis=0, name="cat_cls")
    pos = b.const("pos_embed", rng.normal(0, 0.5, (t, d)))
    x = b.add(x, pos, name="add_pos")
    for i in range(depth_):
        p = f"blk{i}"
        h = ln(x, f"{p}.ln1")
        qkv = b.linear(h, *lin(3 * d, d), name=f"{p}.qkv")
        qkv = b.reshape(qkv, (t, 3, heads, dh), name=f"{p}.qkv_split")
        qkv = b.transpose(qkv, (1, 2, 0, 3), name=f"{p}.qkv_heads")      # (3, H, T, dh)
        q, k, v = (b.reshape(b.slice(qkv, 0, j, j + 1, name=f"{p}.{nm}_sl"), (heads, t, dh),
                             name=f"{p}.{nm}") for j, nm in enumerate("qkv"))
        s = b.matmul(q, k, transpose_b=True, name=f"{p}.scores")        # (H, T, T)
        s = b.scale(s, 1 / math.sqrt(dh), name=f"{p}.scaled")
        a = b.softmax(s, name=f"{p}.softmax")
        o = b.matmul(a, v, name=f"{p}.attn")                            # (H, T, dh)
        o = b.reshape(b.transpose(o, (1, 0, 2), name=f"{p}.attn_t"), (t, d),
                      name=f"{p}.merge")
        x = b.add(x, b.linear(o, *lin(d, d), name=f"{p}.proj"), name=f"{p}.add1")
        h = ln(x, f"{p}.ln2")
        h = b.gelu(b.linear(h, *lin(mlp, d), name=f"{p}.fc1"), name=f"{p}.gelu")
        x = b.add(x, b.linear(h, *lin(d, mlp), name=f"{p}.fc2"), name=f"{p}.add2")
    x = ln(x, "norm")
    x = b.reshape(b.slice(x, 0, 0, 1, name="cls_out"), (d,), name="cls_vec")
    x = b.linear(x, *lin(num_classes, d), name="head")
    return b.finish(x)


def _build(fg: Graph, pattern: Pattern | str | None, rule: str, seed: int,
           calib: int) -> Graph:
    if pattern is not None:
        fg = sparsify(fg, pattern, rule)
        fg.name = f"{fg.name}-{pattern}"
    rng = np.random.default_rng(seed + 1)
    xs = rng.normal(0, 1, (calib, *fg.input_shape))
    return quantize(fg, xs)


def resnet18_cifar(num_classes: int = 100, pattern: Pattern | str | None = None, *,
                   quick: bool = False, seed: int = 0, calib: int = 2) -> Graph:
    """Quantized ResNet18-CIFAR (:func:`resnet18_cifar_float`), its 3x3 convolutions
    N:M-pruned to ``pattern`` (None: dense), calibrated on ``calib`` random N(0, 1) images."""
    return _build(resnet18_cifar_float(num_classes, quick=quick, seed=seed), pattern,
                  "3x3-convs", seed, calib)


def vit_s16(num_classes: int = 10, pattern: Pattern | str | None = None, *, quick: bool = False,
            seed: int = 0, calib: int = 1, depth: int | None = None) -> Graph:
    """Quantized ViT-S/16 (:func:`vit_s16_float`), its MLP layers N:M-pruned to ``pattern``
    (None: dense), calibrated on ``calib`` random N(0, 1) images."""
    return _build(vit_s16_float(num_classes, quick=quick, seed=seed, depth=depth), pattern,
                  "mlp-fcs", seed, calib)
