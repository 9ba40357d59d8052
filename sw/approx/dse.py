"""Design-space exploration of approximate N:M configurations: accuracy vs cycles per inference.

What it is for: finding, per model, the configurations (one :class:`~.transform.Choice` per
N:M-able layer, ``config.SPARSE_LAYERS``) on the latency / accuracy Pareto front, as the seed
paper does with per-layer significance thresholds (``docs/approx.md``).

* :func:`evaluate` -- correct predictions of one configuration on a range of test images: a
  **pure function** of picklable arguments (it loads the shipped graph and its significance
  inside the worker, cached per process), so it can go to any ``concurrent.futures`` executor,
  a distributed one too.  It resumes from activations cached per process at the input of the
  first layer whose choice (or whose predecessors' choices) it has not seen; the results are
  those of the batched golden model on :func:`~.transform.apply`'s graph, bit for bit (tested).
* Cycles come from a caller's :class:`CycleModel` (``rest`` + one number per layer and choice;
  the ISS-measured one is ``cycles.py``); :func:`predicted_cycles` adds them up.
* :func:`search` -- per trained base model: the exact base, every uniform configuration, then a
  greedy descent (:func:`next_choices`) on the first ``search_images`` test images.
* :func:`pareto`, :func:`finalize` (the front re-measured on all 10,000 test images and the
  fastest configurations at zero and at ≤ 1 pp loss against int8 dense), JSON, a markdown table
  (:func:`pareto_table`) and a plot (:func:`plot_pareto`).

Selection is on the test split, as issue 17 asks (the seed paper does the same): the numbers at
the chosen points are optimistic.

May import: numpy, matplotlib, rich, the standard library, :mod:`xdecimate.sw.train` and the
packages below it.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ..net.ir import Graph
from ..train import config as train_config
from ..train import data, shipped
from ..train import evaluate as golden_batch
from . import transform
from .significance import SIG_IMAGES, Significance
from .transform import Choice

__all__ = [
    "TEST_IMAGES",
    "CycleModel",
    "Final",
    "Record",
    "config_from_json",
    "config_key",
    "config_to_json",
    "describe",
    "evaluate",
    "exact",
    "finalize",
    "model",
    "next_choices",
    "pareto",
    "pareto_table",
    "plot_pareto",
    "predicted_cycles",
    "records_from_json",
    "records_to_json",
    "search",
    "uniform",
]

#: The test split's size: :func:`finalize` re-measures on all of it.
TEST_IMAGES = 10_000
#: Images per batched golden-model call (as ``evaluate.predict``).
_CHUNK = 500
#: Bytes of cached activations one process keeps (least recently used first out).
_CACHE_BYTES = 256 << 20

Config = dict[str, Choice]


# ---------------------------------------------------------------- configurations

def exact(arch: str, base: str | None) -> Config:
    """The trained model itself: every N:M-able layer at ``base``, nothing skipped."""
    return uniform(arch, Choice(base, 0.0))


def uniform(arch: str, choice: Choice) -> Config:
    """The same ``choice`` on every N:M-able layer of ``arch``."""
    return dict.fromkeys(train_config.SPARSE_LAYERS[arch], choice)


def config_key(config: Mapping[str, Choice]) -> tuple:
    """A hashable, order-independent key of ``config``."""
    return tuple(sorted((name, c.pattern, c.skip) for name, c in config.items()))


def config_to_json(config: Mapping[str, Choice]) -> dict[str, list]:
    """``{layer: [pattern, skip]}``."""
    return {name: c.to_json() for name, c in config.items()}


def config_from_json(obj: Mapping[str, Sequence]) -> Config:
    """The inverse of :func:`config_to_json`."""
    return {name: Choice.from_json(v) for name, v in obj.items()}


_ANY = object()


def describe(config: Mapping[str, Choice], base: object = _ANY) -> str:
    """Short text: ``all 1:16/skip 0.25`` for a uniform configuration, else ``layer=choice``
    for each layer -- with ``base`` given, only the layers that differ from the exact base
    (``exact`` if none does)."""
    cs = set(config.values())
    if len(cs) == 1:
        return f"all {next(iter(cs))}"
    ident = None if base is _ANY else Choice(base, 0.0)  # type: ignore[arg-type]
    parts = [f"{name}={c}" for name, c in config.items() if c != ident]
    return ", ".join(parts) if parts else "exact"


# ---------------------------------------------------------------- cycles

@runtime_checkable
class CycleModel(Protocol):
    """Predicted cycles per inference: ``rest`` (every layer the configuration does not touch)
    plus ``layer(name, choice)`` for each N:M-able layer."""

    rest: int

    def layer(self, name: str, choice: Choice) -> int: ...


def predicted_cycles(model: CycleModel, config: Mapping[str, Choice]) -> int:
    """``model.rest + Σ model.layer(name, choice)``."""
    return int(model.rest) + sum(int(model.layer(name, c)) for name, c in config.items())


# ---------------------------------------------------------------- evaluation (pure)

def _check_arch_base(arch: str, base: str | None) -> None:
    if arch not in train_config.ARCH_NAMES:
        raise ValueError(f"arch must be one of {list(train_config.ARCH_NAMES)}, not {arch!r}")
    if base is not None and base not in train_config.PATTERNS:
        raise ValueError(f"base must be None (dense) or one of {list(train_config.PATTERNS)}, "
                         f"not {base!r}")


@lru_cache(maxsize=4)
def model(arch: str, base: str | None) -> tuple[Graph, Significance]:
    """The shipped int8 graph of ``arch`` at ``base`` and its significance (per process)."""
    calib = shipped.calibration_images()
    g = shipped.int8_graph(arch, base, calib)
    g.validate()
    return g, Significance(g, calib, train_config.SPARSE_LAYERS[arch], max_images=SIG_IMAGES)


@lru_cache(maxsize=1)
def _test_split() -> data.Split:
    return data.load("test")


class _ActivationCache:
    """Live tensors at the input of each N:M-able layer, keyed by (model, chunk, layer, the
    choices of the layers before it); least recently used out beyond ``limit`` bytes.  Thread
    safe (a ThreadPoolExecutor shares one)."""

    def __init__(self, limit: int):
        self.limit, self.size = limit, 0
        self._d: collections.OrderedDict[tuple, dict[str, np.ndarray]] = \
            collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> dict[str, np.ndarray] | None:
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
            return v

    def put(self, key: tuple, value: dict[str, np.ndarray]) -> None:
        nbytes = sum(a.nbytes for a in value.values())
        if nbytes > self.limit:
            return
        with self._lock:
            if key in self._d:
                return
            self._d[key] = value
            self.size += nbytes
            while self.size > self.limit:
                _, old = self._d.popitem(last=False)
                self.size -= sum(a.nbytes for a in old.values())


_CACHE = _ActivationCache(_CACHE_BYTES)


@lru_cache(maxsize=8)
def _live(arch: str, base: str | None) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """Per N:M-able layer, in graph order: its node index and the tensors live at its input
    (produced before it -- constants aside -- and read by it or later)."""
    g, _ = model(arch, base)
    out = []
    for name in train_config.SPARSE_LAYERS[arch]:
        i = g.nodes.index(g.node(name))
        made = {g.input} | {n.output for n in g.nodes[:i]}
        used = {t for n in g.nodes[i:] for t in n.inputs} | {g.output}
        out.append((i, tuple(sorted(made & used))))
    return tuple(sorted(out))


def _run_chunk(arch: str, base: str | None, g: Graph, config: Config, lo: int, hi: int
               ) -> np.ndarray:
    """Output codes of ``g`` (the applied graph) on test images [lo, hi), resuming from cached
    activations; the per-node step is the batched golden model's."""
    layers = train_config.SPARSE_LAYERS[arch]
    ident = Choice(base, 0.0)
    eff = [config.get(name, ident) for name in layers]
    order = {g.nodes.index(g.node(name)): j for j, name in enumerate(layers)}
    live = dict(_live(arch, base))
    cuts = sorted(order)

    def key(i: int) -> tuple:
        j = order[i]
        return (arch, base, lo, hi, j, tuple((c.pattern, c.skip) for c in eff[:j]))

    env: dict[str, np.ndarray] | None = None
    start = 0
    for i in reversed(cuts):
        env = _CACHE.get(key(i))
        if env is not None:
            env, start = dict(env), i
            break
    if env is None:
        env = {g.input: np.ascontiguousarray(_test_split().images[lo:hi, :, :, None])}
    bsz = hi - lo
    env.update({c: np.broadcast_to(v, (bsz, *v.shape)) for c, v in g.constants.items()})
    for i in range(start, len(g.nodes)):
        if i in order and i != start:
            _CACHE.put(key(i), {t: env[t] for t in live[i]})
        node = g.nodes[i]
        env[node.output] = golden_batch.run_node(g, node, [env[t] for t in node.inputs])
    return env[g.output]


def evaluate(arch: str, base: str | None, config: Mapping[str, Choice],
             image_range: tuple[int, int]) -> tuple[int, int]:
    """``(correct, n)``: top-1 hits of the shipped ``arch`` model trained at ``base``,
    approximated by ``config`` (layers left out stay exact), on test images
    ``image_range = (start, stop)``.

    A pure function of its arguments (all picklable): give it to any executor.  Equal to
    ``evaluate.predict(transform.apply(graph, config, sig), images)`` scored against the labels.

    Raises
    ------
    ValueError
        Unknown arch, base or layer, a bad image range, or what :func:`.transform.apply` raises.
    """
    _check_arch_base(arch, base)
    unknown = [n for n in config if n not in train_config.SPARSE_LAYERS[arch]]
    if unknown:
        raise ValueError(f"unknown layer(s) {unknown}: the N:M-able layers of {arch} are "
                         f"{list(train_config.SPARSE_LAYERS[arch])}")
    start, stop = (int(v) for v in image_range)
    if not 0 <= start <= stop <= TEST_IMAGES:
        raise ValueError(f"image_range must satisfy 0 ≤ start ≤ stop ≤ {TEST_IMAGES}, not "
                         f"{tuple(image_range)}")
    graph, sig = model(arch, base)
    g = transform.apply(graph, dict(config), sig)
    labels = _test_split().labels
    correct = 0
    for lo in range(start, stop, _CHUNK):
        hi = min(stop, lo + _CHUNK)
        out = _run_chunk(arch, base, g, dict(config), lo, hi)
        correct += int((out.reshape(hi - lo, -1).argmax(axis=1) == labels[lo:hi]).sum())
    return correct, stop - start


# ---------------------------------------------------------------- records

@dataclass
class Record:
    """One evaluated configuration of ``arch`` trained at ``base``."""

    arch: str
    base: str | None
    config: Config
    correct: int
    n: int
    cycles: int | None
    #: "base" (the exact trained model), "uniform", or "greedy" (a move the descent evaluated).
    kind: str
    #: The greedy descent took this move.
    taken: bool = False

    @property
    def accuracy(self) -> float:
        """Top-1 in %."""
        return 100.0 * self.correct / self.n if self.n else float("nan")

    @property
    def key(self) -> tuple:
        return (self.arch, self.base, config_key(self.config))

    def to_json(self) -> dict:
        return {"arch": self.arch, "base": self.base, "config": config_to_json(self.config),
                "correct": self.correct, "n": self.n, "accuracy": self.accuracy,
                "cycles": self.cycles, "kind": self.kind, "taken": self.taken}

    @classmethod
    def from_json(cls, d: Mapping) -> Record:
        return cls(d["arch"], d["base"], config_from_json(d["config"]), d["correct"], d["n"],
                   d["cycles"], d["kind"], d.get("taken", False))


def records_to_json(records: Iterable[Record]) -> list[dict]:
    return [r.to_json() for r in records]


def records_from_json(obj: Iterable[Mapping]) -> list[Record]:
    return [Record.from_json(d) for d in obj]


def pareto(records: Iterable[Record]) -> list[Record]:
    """The non-dominated records (no other has fewer-or-equal cycles and higher-or-equal
    accuracy, one strictly), fastest first; of equal points the first given.  Records without
    cycles are left out."""
    pts = [r for r in records if r.cycles is not None]
    pts.sort(key=lambda r: (r.cycles, -r.correct / r.n))          # stable
    front: list[Record] = []
    for r in pts:
        if not front or r.correct / r.n > front[-1].correct / front[-1].n:
            front.append(r)
    return front


# ---------------------------------------------------------------- search

def next_choices(base: str | None, current: Choice) -> tuple[Choice, ...]:
    """The greedy descent's moves for one layer at ``current``: the next skip ratio, and for
    the next-densest reachable sparser pattern(s) (one density level down; from dense 1:4 and
    2:8) the choice at skip 0 and at the current skip."""
    out = []
    i = transform.SKIPS.index(current.skip)
    if i + 1 < len(transform.SKIPS):
        out.append(Choice(current.pattern, transform.SKIPS[i + 1]))
    sparser = [p for p in transform.reachable(current.pattern)[1:]
               if p in transform.reachable(base)]
    if sparser:
        level = transform.density(sparser[0])
        for p in sparser:
            if transform.density(p) == level:
                out += [Choice(p, s) for s in dict.fromkeys((0.0, current.skip))]
    return tuple(out)


class _Runner:
    """Evaluates batches of configurations on an executor, records each once."""

    def __init__(self, arch: str, executor: Executor, n_images: int, progress):
        self.arch, self.executor, self.n, self.progress = arch, executor, n_images, progress
        self.records: dict[tuple, Record] = {}
        self.task = None
        self.total = 0

    def run(self, base: str | None, cycles: CycleModel, configs: list[Config], kind: str
            ) -> list[Record]:
        todo: dict[tuple, Future] = {}
        for cfg in configs:
            k = (self.arch, base, config_key(cfg))
            if k not in self.records and k not in todo:
                todo[k] = self.executor.submit(evaluate, self.arch, base, cfg, (0, self.n))
        self.total += len(todo)
        if self.progress is not None:
            self.progress.update(self.task, total=self.total)
        cfg_of = {(self.arch, base, config_key(c)): c for c in configs}
        for fut in as_completed(todo.values()):
            if self.progress is not None:
                self.progress.advance(self.task)
            fut.result()                     # raise early
        for k, fut in todo.items():
            correct, n = fut.result()
            self.records[k] = Record(self.arch, base, dict(cfg_of[k]), correct, n,
                                     predicted_cycles(cycles, cfg_of[k]), kind)
        return [self.records[(self.arch, base, config_key(c))] for c in configs]


def _best_move(cur: Record, moves: list[Record]) -> Record | None:
    """Most cycles saved per accuracy point lost; a move that loses nothing (and saves cycles)
    wins outright, the one saving most (ties: more accurate, then the first)."""
    assert cur.cycles is not None
    free = [m for m in moves if m.correct * cur.n >= cur.correct * m.n]
    if free:
        return max(free, key=lambda m: (cur.cycles - m.cycles, m.accuracy))
    if not moves:
        return None
    return max(moves, key=lambda m: (cur.cycles - m.cycles) / (cur.accuracy - m.accuracy))


def search(arch: str, bases: Iterable[str | None], cycle_models: Mapping[str | None, CycleModel],
           *, executor: Executor | None = None, search_images: int = 2000,
           max_drop_pp: float = 5.0, progress: bool = True) -> list[Record]:
    """Explore the approximations of the shipped ``arch`` models trained at each of ``bases``.

    Per base: the exact model, every uniform configuration (:func:`uniform` of every
    :func:`~.transform.choices`), then a greedy descent from the exact model: each step
    evaluates, for every layer, its :func:`next_choices` that save cycles (in parallel on
    ``executor``; default a ``ProcessPoolExecutor`` with ``os.cpu_count()`` workers) and takes
    the move with the most cycles saved per accuracy point lost (:func:`_best_move`); it stops
    after a step that leaves the accuracy more than ``max_drop_pp`` below the base's, or when no
    move is left.  Accuracy is on the first ``search_images`` test images; cycles are
    ``cycle_models[base]``'s.  Returns every evaluated configuration once (bases in order).
    """
    if arch not in train_config.ARCH_NAMES:
        raise ValueError(f"arch must be one of {list(train_config.ARCH_NAMES)}, not {arch!r}")
    bases = list(bases)
    for b in bases:
        _check_arch_base(arch, b)
        if b not in cycle_models:
            raise ValueError(f"no cycle model for base {b or 'dense'}")
    if not 0 < search_images <= TEST_IMAGES:
        raise ValueError(f"search_images must be in 1..{TEST_IMAGES}, not {search_images!r}")
    own = executor is None
    ex = ProcessPoolExecutor(os.cpu_count()) if own else executor
    bar = None
    if progress:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )
        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn())
        bar.start()
    try:
        runner = _Runner(arch, ex, search_images, bar)
        if bar is not None:
            runner.task = bar.add_task(f"approx DSE {arch}", total=0)
        for base in bases:
            cm = cycle_models[base]
            if bar is not None:
                bar.update(runner.task, description=f"approx DSE {arch} {base or 'dense'}")
            start = exact(arch, base)
            (cur,) = runner.run(base, cm, [start], "base")
            runner.run(base, cm, [uniform(arch, c) for c in transform.choices(base)], "uniform")
            floor = cur.accuracy - max_drop_pp
            while True:
                assert cur.cycles is not None
                cands = [{**cur.config, name: c}
                         for name in train_config.SPARSE_LAYERS[arch]
                         for c in next_choices(base, cur.config[name])]
                cands = [c for c in cands if predicted_cycles(cm, c) < cur.cycles]
                if not cands:
                    break
                best = _best_move(cur, runner.run(base, cm, cands, "greedy"))
                assert best is not None
                best.taken = True
                cur = best
                if cur.accuracy < floor:
                    break
        return list(runner.records.values())
    finally:
        if bar is not None:
            bar.stop()
        if own:
            ex.shutdown()


# ---------------------------------------------------------------- final measurement

@dataclass
class Final:
    """The front of one arch re-measured on all test images, and the picks."""

    arch: str
    dense: Record
    front: list[Record]
    zero_loss: Record | None
    within: Record | None
    max_loss_pp: float
    evaluated: int
    wall_s: float

    def to_json(self) -> dict:
        return {"arch": self.arch, "dense": self.dense.to_json(),
                "front": records_to_json(self.front),
                "zero_loss": None if self.zero_loss is None else self.zero_loss.to_json(),
                "within": None if self.within is None else self.within.to_json(),
                "max_loss_pp": self.max_loss_pp, "evaluated": self.evaluated,
                "wall_s": self.wall_s}


def near_front(records: Iterable[Record], margin_pp: float) -> list[Record]:
    """The records no other record beats by more than ``margin_pp`` of accuracy at fewer or as
    many cycles (the front itself for 0), fastest first: the candidates worth re-measuring when
    the accuracies come from a sample (the standard error on 2,000 images is ~0.8 pp)."""
    pts = sorted((r for r in records if r.cycles is not None),
                 key=lambda r: (r.cycles, -r.correct / r.n))
    out, best = [], -1.0
    for r in pts:
        if r.accuracy + margin_pp >= best:
            out.append(r)
        best = max(best, r.accuracy)
    return out


def finalize(records: Iterable[Record], arch: str, *, executor: Executor | None = None,
             max_loss_pp: float = 1.0, dense_cycles: int | None = None,
             margin_pp: float = 1.0) -> Final:
    """Re-measure the candidates of ``arch`` (over all its bases) -- the records within
    ``margin_pp`` of the search front (:func:`near_front`) and every exact base -- and the
    int8 dense model on all :data:`TEST_IMAGES` test images; the front is the Pareto front of
    the re-measured set; pick its fastest point at accuracy ≥ dense (zero loss) and the fastest
    within ``max_loss_pp`` of it (never the int8 dense model itself: None if no approximation
    qualifies).  ``dense_cycles`` (else the dense record's) is only
    recorded."""
    t0 = time.perf_counter()
    recs = [r for r in records if r.arch == arch]
    front = near_front(recs, margin_pp)
    front += [r for r in recs if r.kind == "base" and r not in front]
    dense_cfg = exact(arch, None)
    dense_rec = next((r for r in recs if r.base is None and r.config == dense_cfg), None)
    jobs: list[tuple[str | None, Config]] = [(None, dense_cfg)] + [(r.base, r.config)
                                                                  for r in front]
    own = executor is None
    ex = ProcessPoolExecutor(os.cpu_count()) if own else executor
    try:
        futs = [ex.submit(evaluate, arch, b, c, (0, TEST_IMAGES)) for b, c in jobs]
        results = [f.result() for f in futs]
    finally:
        if own:
            ex.shutdown()
    cyc = dense_cycles if dense_cycles is not None else (dense_rec.cycles if dense_rec else None)
    dense = Record(arch, None, dense_cfg, *results[0], cyc, "base")
    full = pareto([Record(arch, r.base, r.config, *res, r.cycles, r.kind, r.taken)
                   for r, res in zip(front, results[1:], strict=True)])
    # the picks are approximations: the int8 dense model itself is the reference, not a pick
    approx = [r for r in full if not (r.base is None and r.config == dense_cfg)]
    ok0 = [r for r in approx if r.correct * dense.n >= dense.correct * r.n]
    ok1 = [r for r in approx if r.accuracy >= dense.accuracy - max_loss_pp]
    return Final(arch, dense, full, min(ok0, key=lambda r: r.cycles, default=None),
                 min(ok1, key=lambda r: r.cycles, default=None), max_loss_pp, len(jobs),
                 time.perf_counter() - t0)


# ---------------------------------------------------------------- presentation

def pareto_table(records: Iterable[Record], *, reference: Record | None = None) -> str:
    """Markdown table of :func:`pareto` of ``records``, fastest first; with ``reference`` (the
    int8 dense model) also latency relative to it and the accuracy difference in pp."""
    rows = ["| base | configuration | cycles | accuracy (%) | images |"
            + (" latency vs ref | Δ top-1 (pp) |" if reference else ""),
            "|---|---|---:|---:|---:|" + ("---:|---:|" if reference else "")]
    for r in pareto(records):
        line = (f"| {r.base or 'dense'} | {describe(r.config, r.base)} | {r.cycles:,} | "
                f"{r.accuracy:.2f} | {r.n:,} |")
        if reference is not None:
            rel = (f"{r.cycles / reference.cycles:.3f}" if reference.cycles else "–")
            line += f" {rel} | {r.accuracy - reference.accuracy:+.2f} |"
        rows.append(line)
    return "\n".join(rows) + "\n"


def plot_pareto(records: Sequence[Record], path: Path | str | None = None, *,
                anchor: Record | None = None,
                references: Sequence[tuple[str, float, float]] = (),
                title: str | None = None, anchor_label: str = "int8 dense"):
    """Accuracy vs cycles per inference: every record faint (one colour per base), the front
    as a line, each exact trained model marked and named.  With ``anchor`` (the int8 dense
    model, with cycles) the top and right axes read latency relative to it and the loss in pp,
    and ``references`` -- ``(label, relative latency, drop in pp)``, e.g. the seed paper's
    ``("Armeniakos et al.", 0.79, 0.0)`` -- are drawn as stars in those coordinates.  Saves to
    ``path`` if given; returns the matplotlib Figure.  ``anchor_label`` names the anchor on
    the relative axes."""
    from matplotlib.figure import Figure

    if references and (anchor is None or not anchor.cycles):
        raise ValueError("reference points need an anchor record with cycles (int8 dense)")
    fig = Figure(figsize=(7.5, 5))
    ax = fig.add_subplot()
    bases = list(dict.fromkeys(r.base for r in records))
    colors = dict(zip(bases, [f"C{i}" for i in range(10)] * 2, strict=False))
    for b in bases:
        pts = [r for r in records if r.base == b and r.cycles is not None]
        ax.scatter([r.cycles for r in pts], [r.accuracy for r in pts], s=8, alpha=0.25,
                   color=colors[b], label=f"{b or 'dense'} (all evaluated)")
        for r in pts:
            if r.kind == "base":
                ax.scatter(r.cycles, r.accuracy, s=60, marker="D", color=colors[b],
                           edgecolor="k", zorder=3)
                ax.annotate(f"{b or 'dense'} exact", (r.cycles, r.accuracy), fontsize=7,
                            xytext=(4, 4), textcoords="offset points")
    front = pareto(records)
    if front:
        ax.plot([r.cycles for r in front], [r.accuracy for r in front], "-o", color="k",
                ms=3, lw=1, drawstyle="steps-post", label="Pareto front", zorder=4)
    if anchor is not None and anchor.cycles:
        c0, a0 = anchor.cycles, anchor.accuracy
        ax.axhline(a0, color="grey", lw=0.8, ls="--")
        top = ax.secondary_xaxis("top", functions=(lambda x: x / c0, lambda r: r * c0))
        top.set_xlabel(f"latency relative to {anchor_label}")
        right = ax.secondary_yaxis("right", functions=(lambda y: y - a0, lambda d: d + a0))
        right.set_ylabel(f"Δ top-1 vs {anchor_label} (pp)")
        for label, rel, drop in references:
            ax.scatter(rel * c0, a0 - drop, marker="*", s=120, color="crimson", zorder=5)
            ax.annotate(label, (rel * c0, a0 - drop), fontsize=7, color="crimson",
                        xytext=(4, -10), textcoords="offset points")
        # the interesting region: down to 8 pp below dense (the far-off points are counted)
        lo = a0 - 8.0
        below = sum(1 for r in records if r.cycles is not None and r.accuracy < lo)
        ax.set_ylim(lo, max(r.accuracy for r in records) + 1.0)
        if below:
            ax.annotate(f"{below} configurations more than 8 pp below dense: not shown",
                        (0.01, 0.01), xycoords="axes fraction", fontsize=7, color="grey")
    ax.set_xlabel("cycles per inference")
    ax.set_ylabel("top-1 (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig

