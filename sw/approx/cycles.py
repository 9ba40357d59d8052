"""Cycles per inference of approximate configurations, measured on the ISS layer by layer.

What it is for: the DSE (:mod:`.dse`) needs the cycles of thousands of configurations; building
and running each whole network would take hours, so the cycles are measured per layer and
choice and added up.  For one trained model (``arch``, ``base``):

1. the exact model is deployed with policy ``"skip"`` (:mod:`xdecimate.sw.deploy.policy`: on an
   N:M layer the faster of ``xdec4`` and ``xdec4_skip``, ``dense_4x2`` on a dense one) and run
   on the ISS on test image 0 (whole program, output compared with the golden model): the
   cycles of every step and the inference's total ``T``;
2. every search layer and every choice (:func:`.transform.choices`) is deployed alone -- its
   weights transformed by the choice, its input the exact model's activations on the same
   image -- under the same policy (:func:`xdecimate.sw.deploy.program.layer_kernel`, the ISS on
   the single-layer program, checked bit for bit): the kernel's cycles ``k(layer, choice)``
   (the plain kernels, :data:`PLAIN`, whose cycles do not depend on the values, once per
   layer and pattern; the skip kernels per choice);
3. ``layer(name, c) = step(name) + k(name, c) − k(name, exact)`` and
   ``rest = T − Σ step(search layers)``.

The layer's own step in the network and its single-layer program run the same kernel call;
what differs (the call, a padded input copy) does not depend on the weights, so the sum is the
whole network's count -- :func:`check_prediction` compares it with whole-network runs of the
configurations the report chooses (the MAC kernels' cycles do not depend on the data; layer
norm and softmax divide, so a changed activation can move them by a few cycles).

Measurements run in a process pool (``workers``; the ISS runs and builds are cached on disk by
content under ``build/``, so a second table costs little).

May import: numpy, rich, the standard library, :mod:`xdecimate.sw.train` and below, and this
package's :mod:`.transform`, :mod:`.significance` and :mod:`.dse`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..deploy import policy as pol
from ..deploy import program
from ..deploy.run import read_tensor, run_program, step_cycles
from ..net import golden
from ..train import config as train_config
from ..train import data
from . import dse
from .transform import SKIPS, Choice, apply, reachable

__all__ = ["PLAIN", "POLICY", "CycleTable", "check_prediction", "measure_table", "run_config"]

#: The deployment policy of every approximate configuration.
POLICY = "skip"
#: The test image whose activations feed the per-layer measurements.
IMAGE = 0


def _choice_key(c: Choice) -> str:
    return f"{c.pattern or 'dense'}@{c.skip:g}"


@dataclass
class CycleTable:
    """A measured :class:`.dse.CycleModel`: ``rest`` + ``layer(name, choice)``.

    ``steps``: every step of the exact model's run (cycles); ``kernel``: the kernel the policy
    chose per (layer, choice key) and ``kcycles`` its cycles; ``exact``: the exact choice of
    each search layer.
    """

    arch: str
    base: str | None
    total: int
    steps: dict[str, int]
    exact: dict[str, Choice]
    kcycles: dict[str, dict[str, int]] = field(default_factory=dict)
    kernel: dict[str, dict[str, str]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rest(self) -> int:
        return self.total - sum(self.steps[n] for n in self.exact)

    def layer(self, name: str, choice: Choice) -> int:
        k = self.kcycles[name]
        key = _choice_key(choice)
        if key not in k:
            raise KeyError(f"layer {name!r}: choice {key} was not measured "
                           f"(measured: {sorted(k)})")
        return self.steps[name] + k[key] - k[_choice_key(self.exact[name])]

    def to_json(self) -> dict[str, object]:
        return {"arch": self.arch, "base": self.base, "total": self.total, "rest": self.rest,
                "steps": self.steps, "kcycles": self.kcycles, "kernel": self.kernel,
                "seconds": round(self.seconds, 1)}


@lru_cache(maxsize=1)
def _image() -> np.ndarray:
    return np.ascontiguousarray(data.load("test").images[IMAGE][:, :, None])


def run_config(arch: str, base: str | None, config: dict[str, Choice], *,
               target: str | Callable = "iss") -> tuple[int, dict[str, int], dict[str, str]]:
    """Deploy the model of ``config`` (policy :data:`POLICY`), run it on ``target`` on test
    image :data:`IMAGE`, check every output code against the golden model; the inference's
    cycles, the cycles per step and the kernel per step.

    Raises
    ------
    AssertionError
        The output differs from the golden model (the count is named).
    """
    g0, sig = dse.model(arch, base)
    g = apply(g0, dict(config), sig) if config else g0
    x = _image()
    prog = program.generate(g, x, policy=POLICY)
    elf = program.build(prog)
    res = run_program(elf, target)
    got = read_tensor(prog, elf, res, g.output)
    want = golden.run_output(g, x)
    if not np.array_equal(got, want):
        raise AssertionError(f"{arch} {base or 'dense'} {dse.describe(config)}: "
                             f"{int((got != want).sum())} output codes differ from the golden "
                             f"model")
    steps = step_cycles(res, prog.steps)
    return sum(steps.values()), steps, {s.node: s.kernel or "" for s in prog.steps}


#: Kernels whose cycles depend on the layer's shape and pattern only, not on the values of its
#: weights or inputs (no data-dependent branch or division in them): measured once per layer
#: and pattern.  The skip kernels' cycles depend on which units are zero: measured per choice.
PLAIN = ("xdec4", "dense_4x2")


def _measure(arch: str, base: str | None, name: str, pattern: str | None
             ) -> dict[float, tuple[str, int]]:
    """(kernel, cycles) of layer ``name`` at ``pattern`` for every skip ratio (worker of
    :func:`measure_table`): what policy :data:`POLICY` chooses, the plain kernel measured once
    (:data:`PLAIN`)."""
    g0, sig = dse.model(arch, base)
    env = _activations(arch, base)
    plain: dict[str, int] = {}

    def measure(case, kernel: str) -> int:
        if kernel in PLAIN and kernel in plain:
            return plain[kernel]
        c = pol.measure(case, kernel)
        if kernel in PLAIN:
            plain[kernel] = c
        return c

    out = {}
    for skip in SKIPS:
        g = apply(g0, {name: Choice(pattern, skip)}, sig)
        kernel, measured = program.layer_kernel(g, name, env[g.node(name).inputs[0]], POLICY,
                                                measure_fn=measure)
        out[skip] = (kernel, measured[kernel])
    return out


@lru_cache(maxsize=2)
def _activations(arch: str, base: str | None) -> dict[str, np.ndarray]:
    g0, _ = dse.model(arch, base)
    return golden.run(g0, _image())


def measure_table(arch: str, base: str | None, *, executor: Executor | None = None,
                  workers: int | None = None, progress: bool = True,
                  layers: Iterable[str] | None = None) -> CycleTable:
    """The :class:`CycleTable` of trained model (``arch``, ``base``): the exact run plus every
    (search layer, choice) measured (module docstring).  ``executor``: any
    :class:`concurrent.futures.Executor` (default: a process pool of ``workers`` or
    ``os.cpu_count()``)."""
    t0 = time.perf_counter()
    names = tuple(layers) if layers is not None else train_config.SPARSE_LAYERS[arch]
    total, steps, _ = run_config(arch, base, {})
    ex = dse.exact(arch, base)
    table = CycleTable(arch, base, total, steps, {n: ex[n] for n in names})
    jobs = [(n, p) for n in names for p in reachable(base)]
    own = executor is None
    pool = executor or ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1)
    try:
        futs = [pool.submit(_measure, arch, base, n, p) for n, p in jobs]
        it: Iterable = zip(jobs, futs, strict=True)
        if progress:
            from rich.progress import track

            it = track(list(it), description=f"cycles {arch} {base or 'dense'}")
        for (n, p), f in it:
            for skip, (kernel, cyc) in f.result().items():
                key = _choice_key(Choice(p, skip))
                table.kcycles.setdefault(n, {})[key] = cyc
                table.kernel.setdefault(n, {})[key] = kernel
    finally:
        if own:
            pool.shutdown()
    table.seconds = time.perf_counter() - t0
    return table


def check_prediction(table: CycleTable, config: dict[str, Choice], *,
                     target: str | Callable = "iss") -> dict[str, object]:
    """Run ``config`` end to end (:func:`run_config`) and compare its cycles with the table's
    prediction; the figures (predicted, measured, difference, kernels)."""
    predicted = dse.predicted_cycles(table, config)
    measured, _, kernels = run_config(table.arch, table.base, config, target=target)
    return {"predicted": predicted, "measured": measured, "diff": measured - predicted,
            "rel": (measured - predicted) / measured,
            "kernels": {n: kernels[n] for n in config}}
