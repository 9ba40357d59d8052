"""SR-STE: N:M-sparse training with the sparse-refined straight-through estimator.

What it is for: the N:M training method (A. Zhou, Y. Ma, J. Zhu, J. Liu, Z. Zhang, K. Yuan,
W. Sun, H. Li, "Learning N:M Fine-grained Structured Sparse Neural Networks From Scratch",
ICLR 2021).  Each step keeps dense weights ``W``; the forward pass uses ``W̃ = W ⊙ mask(W)``,
where the mask keeps the N largest magnitudes in every block of M weights along K of the
``(Cout, kh·kw·Cin)`` / ``(Cout, K)`` row (the project's order, ``docs/format.md``; ties go to
the lower index, as :func:`xdecimate.sw.model.prune.prune_nm`); the backward pass hands the
gradient with respect to ``W̃`` straight to ``W`` (STE) and adds the *sparse-refined* term
``λ_W·(1 − mask) ⊙ W``, which pulls the pruned weights towards zero so the mask settles
(λ_W = 2·10⁻⁴ as in the paper).  :func:`hard_prune` gives the final N:M weights.

May import: jax, numpy and the standard library.
"""

from __future__ import annotations

from collections.abc import Iterable

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["LAMBDA_W", "hard_prune", "nm_mask", "parse_pattern", "sparse_params"]

#: The sparse-refined decay of the paper (its default λ_W).
LAMBDA_W = 2e-4


def parse_pattern(pattern: str) -> tuple[int, int]:
    """``"1:8"`` -> ``(1, 8)``; ``ValueError`` naming the text unless ``0 < N < M``."""
    try:
        n, m = (int(v) for v in pattern.split(":"))
    except ValueError:
        raise ValueError(f"pattern must be 'N:M' with integers, not {pattern!r}") from None
    if not 0 < n < m:
        raise ValueError(f"pattern {pattern!r}: need 0 < N < M")
    return n, m


def nm_mask(w: jax.Array, n: int, m: int) -> jax.Array:
    """0/1 mask (``w``'s shape and dtype) keeping the ``n`` largest |w| of every block of ``m``
    along K of the ``(rows, K)`` view of ``w`` (K padded with zeros to a multiple of ``m``).
    Ties go to the lower index."""
    rows = w.shape[0]
    flat = w.reshape(rows, -1)
    k = flat.shape[1]
    kb = -(-k // m) * m
    a = jnp.abs(jnp.pad(flat, ((0, 0), (0, kb - k)))).reshape(rows, kb // m, m)
    # rank of each element inside its block: how many beat it (larger, or equal and earlier)
    gt = a[..., None, :] > a[..., :, None]
    eq = (a[..., None, :] == a[..., :, None]) & (jnp.arange(m)[None, :] < jnp.arange(m)[:, None])
    rank = (gt | eq).sum(-1)
    mask = (rank < n).reshape(rows, kb)[:, :k]
    return mask.reshape(w.shape).astype(w.dtype)


def _srste(w: jax.Array, n: int, m: int, lam: float) -> jax.Array:
    @jax.custom_vjp
    def f(w: jax.Array) -> jax.Array:
        return w * nm_mask(w, n, m)

    def fwd(w: jax.Array) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
        mask = nm_mask(w, n, m)
        return w * mask, (w, mask)

    def bwd(res: tuple[jax.Array, jax.Array], g: jax.Array) -> tuple[jax.Array]:
        w, mask = res
        return (g + lam * (1.0 - mask) * w,)

    f.defvjp(fwd, bwd)
    return f(w)


def sparse_params(params: dict[str, jax.Array], layers: Iterable[str], pattern: str | None,
                  lam: float = LAMBDA_W) -> dict[str, jax.Array]:
    """The parameters the forward pass uses: ``"<layer>.w"`` of every layer in ``layers``
    replaced by its SR-STE sparse view (identity when ``pattern`` is None)."""
    if pattern is None:
        return params
    n, m = parse_pattern(pattern)
    out = dict(params)
    for name in layers:
        out[name + ".w"] = _srste(params[name + ".w"], n, m, lam)
    return out


def hard_prune(params: dict[str, np.ndarray], layers: Iterable[str], pattern: str | None
               ) -> dict[str, np.ndarray]:
    """A numpy copy of ``params`` with the ``layers`` pruned to their N:M mask (exactly what the
    last forward pass used)."""
    out = {k: np.asarray(v, np.float32).copy() for k, v in params.items()}
    if pattern is None:
        return out
    n, m = parse_pattern(pattern)
    for name in layers:
        w = out[name + ".w"]
        out[name + ".w"] = (w * np.asarray(nm_mask(jnp.asarray(w), n, m))).astype(np.float32)
    return out
