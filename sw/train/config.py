"""The two models' sizes and their N:M layers, in one place (no JAX needed to read them).

What it is for: :mod:`.models` (JAX) builds the models from these constants; :mod:`.export`,
:mod:`.evaluate` and the report (numpy only) need the same names without importing JAX.

May import: the standard library.
"""

from __future__ import annotations

__all__ = ["ARCH_NAMES", "CNN_WIDTHS", "PATTERNS", "SPARSE_LAYERS", "VIT_DEPTH", "VIT_DIM",
           "VIT_HEADS", "VIT_MLP", "VIT_PATCH"]

#: Channels of the CNN's three basic blocks (14x14, 7x7, 4x4); the stem has the first.
CNN_WIDTHS = (16, 32, 64)
#: ViT: token width, heads, blocks, MLP width, patch size (28x28 -> 4x4 = 16 patches).
VIT_DIM, VIT_HEADS, VIT_DEPTH, VIT_MLP, VIT_PATCH = 48, 3, 3, 192, 7
#: The models.
ARCH_NAMES = ("cnn", "vit")
#: The N:M layers of each model (their ``(Cout, kh·kw·Cin)`` rows are pruned along K).
SPARSE_LAYERS = {
    "cnn": tuple(f"b{i}.conv{j}" for i in range(1, len(CNN_WIDTHS) + 1) for j in (1, 2)),
    "vit": tuple(f"blk{i}.fc{j}" for i in range(VIT_DEPTH) for j in (1, 2)),
}
#: The trained N:M patterns: the paper's N = 1 patterns and the project's 2:8 and 2:16 (of
#: ``xdecimate.sw.model.xdec_spec.PATTERNS`` only 2:4 is left out: 50 % sparsity, no news).
PATTERNS = ("1:4", "1:8", "1:16", "2:8", "2:16")
