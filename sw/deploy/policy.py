"""Per-layer kernel choice of a deployed network: the policies and the measurement behind them.

Policies (``docs/net.md``, "Deployment"):

* ``"fastest"`` (default): every candidate kernel of the layer is built and run on the ISS on
  the layer itself (its real weights, bias, requantization and golden input, in the
  single-layer program of :func:`xdecimate.sw.kernels.harness.run_kernel`, which checks it bit
  for bit), and the one with the fewest cycles in the marked kernel region wins (ties: the
  first in :data:`DENSE_CANDIDATES` / :data:`SPARSE_CANDIDATES` order).  Builds and ISS runs
  are cached on disk by content (``build/``), so a second deployment measures nothing again.
  Candidates: the dense kernels for a dense layer; the dense and every N:M kernel for an N:M
  layer (the dense kernels run its pruned dense matrix); the direct (im2col-free) variants
  only where :func:`~xdecimate.sw.kernels.harness.direct_walkable` says they walk the layer.
* ``"skip"``: the approximate layers of :mod:`xdecimate.sw.approx` -- on an N:M layer the faster of
  ``xdec4`` and ``xdec4_skip`` (measured as above; ``xdec4_skip`` is a candidate only if the
  layer's image has an all-zero group of 4 NZ slots to skip), on a dense layer the faster of
  ``dense_4x2`` and ``dense_4x2_skip`` (only with an all-zero word of a quad of rows).
* a kernel name of :data:`xdecimate.sw.kernels.harness.KERNELS`: that kernel on every layer it
  can run -- a dense kernel on every conv / linear layer; an N:M kernel on the N:M layers, and
  ``dense_4x2`` (the dense baseline) on the dense ones.  ``"dense_4x2"`` everywhere is the
  baseline of the speedups.

May import: the standard library, :mod:`xdecimate.sw.kernels` and :mod:`xdecimate.sw.model`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ..kernels import harness
from ..kernels.harness import LayerCase

__all__ = ["DENSE_CANDIDATES", "DENSE_SKIP_CANDIDATES", "POLICIES", "SKIP_CANDIDATES",
           "SPARSE_CANDIDATES", "candidates", "check_policy", "choose", "measure"]

#: Candidate kernels of a dense layer, in tie-break order.
DENSE_CANDIDATES = ("dense_4x2", "dense_1x2", "dense_4x2_direct", "dense_1x2_direct")
#: Candidate kernels of an N:M layer besides the dense ones, in tie-break order.
SPARSE_CANDIDATES = ("xdec4", "xdec", "xdec4_direct", "xdec_direct", "sw4", "sw", "sw_rq")
#: Candidates of the ``"skip"`` policy on an N:M layer (``xdec4_skip`` only with a group to skip)
#: and on a dense one (``dense_4x2_skip`` only with a word to skip).
SKIP_CANDIDATES = ("xdec4", "xdec4_skip")
DENSE_SKIP_CANDIDATES = ("dense_4x2", "dense_4x2_skip")
#: Every policy name.
POLICIES = ("fastest", "skip", *harness.KERNELS)

_DIRECT = (*harness.DIRECT_KERNELS, *harness.DENSE_DIRECT_KERNELS)


def check_policy(policy: object) -> str:
    """``policy`` if it is one of :data:`POLICIES` (``TypeError`` / ``ValueError`` naming the
    value and the choices otherwise)."""
    if not isinstance(policy, str):
        raise TypeError(f"policy must be a str, one of {list(POLICIES)}, not "
                        f"{type(policy).__name__} {policy!r}")
    if policy not in POLICIES:
        raise ValueError(f"policy must be 'fastest', 'skip' or a kernel name, one of "
                         f"{list(POLICIES)}, "
                         f"not {policy!r}")
    return policy


def _has_zero_group(case: LayerCase) -> bool:
    return case.skip.skipped_groups > 0


def _has_zero_unit(case: LayerCase) -> bool:
    return case.dense_skip.skipped_units > 0


def candidates(case: LayerCase, sparse: bool, policy: str = "fastest") -> tuple[str, ...]:
    """The kernels that can run ``case`` under ``policy`` ("fastest" or "skip"): for
    "fastest" dense ones always, N:M ones if ``sparse`` (direct variants only on layers they
    walk without im2col, the skip kernels only on weights with a unit to skip: the N:M ones
    on an N:M layer, ``dense_4x2_skip`` on a dense one); for "skip"
    :data:`SKIP_CANDIDATES` on an N:M layer, :data:`DENSE_SKIP_CANDIDATES` on a dense one (the
    skip kernel only with a unit to skip)."""
    dskip = not sparse and _has_zero_unit(case)
    if policy == "skip":
        if not sparse:
            return DENSE_SKIP_CANDIDATES if dskip else DENSE_SKIP_CANDIDATES[:1]
        return SKIP_CANDIDATES if _has_zero_group(case) else SKIP_CANDIDATES[:1]
    if not sparse:
        pool = (*DENSE_CANDIDATES, *(harness.DENSE_SKIP_KERNELS if dskip else ()))
    else:  # an N:M layer: N:M skipping (its pruned zeros would feed dense_4x2_skip too)
        skip = _has_zero_group(case)
        pool = (*DENSE_CANDIDATES, *SPARSE_CANDIDATES, *(harness.SKIP_KERNELS if skip else ()))
    out = []
    for k in pool:
        if k in _DIRECT:
            pat = case.pattern if k in harness.DIRECT_KERNELS else None
            if not harness.direct_walkable(case.shape, pat):
                continue
        out.append(k)
    return tuple(out)


_MEASURED: dict[tuple[str, str], int] = {}


def _case_key(case: LayerCase) -> str:
    h = hashlib.sha256(repr((case.shape, str(case.pattern), case.rq)).encode())
    for a in (case.x, case.w, case.bias):
        h.update(a.tobytes())
    return h.hexdigest()


def measure(case: LayerCase, kernel: str) -> int:
    """Cycles of the marked kernel region of ``kernel`` on ``case`` (ISS, single-layer program,
    checked bit for bit against the golden model; cached in memory and on disk)."""
    key = (_case_key(case), kernel)
    if key not in _MEASURED:
        _MEASURED[key] = harness.run_kernel(case, kernel).kernel_cycles
    return _MEASURED[key]


def choose(case: LayerCase, sparse: bool, policy: str, *,
           measure_fn: Callable[[LayerCase, str], int] = measure,
           log: Callable[[str], None] | None = None) -> tuple[str, dict[str, int]]:
    """The kernel for ``case`` under ``policy`` and the cycles measured per candidate (empty
    for a forced kernel).  ``sparse``: the layer is N:M and its image can feed the N:M kernels.

    Raises
    ------
    TypeError, ValueError
        ``policy`` is not one of :data:`POLICIES`.
    """
    check_policy(policy)
    if policy not in ("fastest", "skip"):
        if policy in harness.SPARSE_KERNELS and not sparse:
            return "dense_4x2", {}
        return policy, {}
    cycles = {}
    for k in candidates(case, sparse, policy):
        if log is not None:
            log(f"measuring {case.shape.label()} with {k}")
        cycles[k] = measure_fn(case, k)
    best = min(cycles, key=lambda k: cycles[k])
    return best, cycles
