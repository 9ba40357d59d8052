"""Run a deployed network on a target, check it against the golden model, measure every layer.

What it is for: :func:`run_network` generates the program of a (network, kernel policy)
(:func:`.program.generate`), builds it, runs it on the ISS (default; results cached by ELF
content) or on the CV32E40P RTL with the xDecimate extension (``target="cv32e40p"``), reads the
output -- and with ``check_layers`` every tensor, from a second program that keeps every buffer
-- back from the data memory and compares it bit for bit with :func:`xdecimate.sw.net.golden.run`.
Per-layer cycles come from the marks around each step.

May import: numpy, the standard library, :mod:`xdecimate.sw.net`, :mod:`xdecimate.sw.kernels`,
:mod:`xdecimate.sw.iss`, :mod:`xdecimate.sw.model` and :mod:`xdecimate.sim`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..iss import memmap
from ..iss.target import RunResult, TargetError
from ..kernels import harness
from ..kernels.harness import LayerCase
from ..net.ir import Graph
from . import policy as pol
from .program import Program, Step, build, generate

if TYPE_CHECKING:
    from .l2flow import L2Step

__all__ = ["TARGETS", "LayerResult", "NetRun", "golden_input", "read_tensor", "rtl_target",
           "run_network", "run_network_l2", "run_program", "step_cycles"]

#: Target names of :func:`run_network`.
TARGETS = ("iss", "cv32e40p")
#: The RTL core the network programs run on (every pattern of the spec, as the ISS).
RTL_CORE = "xdec-full"


def rtl_target(elf: Path) -> RunResult:
    """The CV32E40P RTL with the xDecimate extension (core :data:`RTL_CORE`), 100 M cycles."""
    from xdecimate.sim import cv32e40p

    return cv32e40p.run_elf(elf, core=RTL_CORE, max_cycles=100_000_000)


def golden_input(graph: Graph, seed: int = 0) -> np.ndarray:
    """Deterministic input codes: N(0, 1) values quantized with the graph's input QParams."""
    assert graph.qparams is not None
    rng = np.random.default_rng([seed, 0x5EED])
    return graph.qparams[graph.input].quantize(rng.normal(0, 1, graph.input_shape))


@dataclass(frozen=True)
class LayerResult:
    """One step of a run: its cycles and what it computed."""

    index: int
    node: str
    op: str
    kernel: str | None
    cycles: int
    instret: int
    macs: int
    macs_executed: int
    pattern: str | None
    weight_bytes: int
    dense_weight_bytes: int
    bit_exact: bool | None
    note: str = ""
    measured: dict[str, int] = field(default_factory=dict)
    #: L2 flow: DMA cycles and bytes of the step's transfers, its tiling and L1 bytes
    dma_cycles: int = 0
    dma_bytes: int = 0
    tiling: str = ""
    l1: int = 0


@dataclass
class NetRun:
    """A whole-network run: per-layer results, totals, memory, the golden comparison."""

    network: str
    policy: str
    target: str
    layers: list[LayerResult]
    cycles_run: int
    output_bit_exact: bool
    layers_checked: bool
    dmem: dict[str, int]
    dmem_static: int
    arena_peak: int
    arena_total: int
    elf: Path
    seconds: float
    #: "dmem" (everything in the 128 kB DMEM) or "l2" (the L2/DMA flow, :mod:`.l2flow`)
    flow: str = "dmem"
    double_buffered: bool = False
    dma_transfers: int = 0
    dma_cycles: int = 0
    l2_image: int = 0
    l2_used: int = 0

    @property
    def cycles(self) -> int:
        """Cycles of every marked step together (the inference)."""
        return sum(r.cycles for r in self.layers)

    @property
    def weight_bytes(self) -> int:
        return sum(r.weight_bytes for r in self.layers)

    @property
    def dense_weight_bytes(self) -> int:
        return sum(r.dense_weight_bytes for r in self.layers)

    def to_json(self) -> dict[str, object]:
        return {
            "network": self.network, "policy": self.policy, "target": self.target,
            "cycles": self.cycles, "cycles_run": self.cycles_run,
            "output_bit_exact": self.output_bit_exact, "layers_checked": self.layers_checked,
            "weight_bytes": self.weight_bytes, "dense_weight_bytes": self.dense_weight_bytes,
            "dmem": self.dmem, "dmem_static": self.dmem_static, "arena_peak": self.arena_peak,
            "arena_total": self.arena_total, "seconds": round(self.seconds, 2),
            "flow": self.flow, "double_buffered": self.double_buffered,
            "dma_transfers": self.dma_transfers, "dma_cycles": self.dma_cycles,
            "l2_image": self.l2_image, "l2_used": self.l2_used,
            "layers": [r.__dict__ for r in self.layers],
        }


def run_program(elf: Path, target: str | Callable[[Path], RunResult] = "iss") -> RunResult:
    """Run ``elf`` on ``target`` ("iss": cached by ELF content; "cv32e40p": the RTL; or any
    ``run(elf) -> RunResult``).

    Raises
    ------
    ValueError
        An unknown target name.
    TargetError
        The program did not exit with code 0.
    """
    if target == "iss":
        res = harness._run_cached(elf, harness.iss_target, harness.iss_cache_key())
    elif target == "cv32e40p":
        res = rtl_target(elf)
    elif callable(target):
        res = target(elf)
    else:
        raise ValueError(f"target must be one of {list(TARGETS)} or a function run(elf), "
                         f"not {target!r}")
    if res.exit_code != 0:
        raise TargetError(f"{elf}: exit code {res.exit_code}, stdout {res.stdout[:200]!r}")
    return res


def read_tensor(prog: Program, elf: Path, res: RunResult, tensor: str) -> np.ndarray:
    """The codes of ``tensor`` in the data-memory snapshot of ``res`` (its golden shape)."""
    from ..iss.elf import symbols

    if res.memory is None:
        raise TargetError(f"target {res.target!r} returned no data-memory snapshot")
    sym, off = prog.tensors[tensor]
    addr = symbols(elf)[sym] - memmap.DMEM_BASE + off
    shape = prog.golden[tensor].shape
    n = int(np.prod(shape))
    return np.frombuffer(res.memory, np.uint8, n, addr).reshape(shape).copy()


def _layer_cycles(res: RunResult, steps: Sequence[Step | L2Step]
                  ) -> dict[int, tuple[int, int]]:
    begin: dict[int, tuple[int, int]] = {}
    out: dict[int, tuple[int, int]] = {}
    marks = {s.mark: s.index for s in steps}
    ends = {s.mark + 1: s.index for s in steps}
    for m in res.marks:
        if m.id in marks:
            begin[marks[m.id]] = (m.cycle, m.instret)
        elif m.id in ends:
            i = ends[m.id]
            c0, i0 = begin.pop(i)
            out[i] = (m.cycle - c0, m.instret - i0)
    missing = [s.node for s in steps if s.index not in out]
    if missing:
        raise TargetError(f"the run has no begin/end marks for {missing}")
    return out


def step_cycles(res: RunResult, steps: Sequence[Step | L2Step]) -> dict[str, int]:
    """Cycles of every step of a run, by node name (``TargetError`` if a mark is missing)."""
    cyc = _layer_cycles(res, steps)
    return {s.node: cyc[s.index][0] for s in steps}


def _mismatch(prog: Program, elf: Path, res: RunResult, tensor: str) -> str | None:
    got, want = read_tensor(prog, elf, res, tensor), prog.golden[tensor]
    bad = np.argwhere(got != want)
    if not len(bad):
        return None
    i = tuple(int(v) for v in bad[0])
    return (f"{len(bad)} of {want.size} codes differ from the golden model, first at {i}: "
            f"{int(got[i])} != {int(want[i])}")


def _check_groups(graph: Graph, x: np.ndarray, policy: str, tensors: list[str],
                  measure_fn: Callable[[LayerCase, str], int]) -> list[list[str]]:
    """Split ``tensors`` into consecutive groups whose programs (every tensor of the group
    kept to the end) fit the DMEM: all at once if they fit, else halves, recursively."""
    try:
        generate(graph, x, policy=policy, keep=tensors, measure_fn=measure_fn)
    except ValueError as exc:
        if len(tensors) == 1 or "DMEM" not in str(exc):
            raise
        h = len(tensors) // 2
        return (_check_groups(graph, x, policy, tensors[:h], measure_fn)
                + _check_groups(graph, x, policy, tensors[h:], measure_fn))
    return [tensors]


def run_network(graph: Graph, *, policy: str = "fastest",
                target: str | Callable[[Path], RunResult] = "iss", seed: int = 0,
                check_layers: bool = False,
                measure_fn: Callable[[LayerCase, str], int] = pol.measure,
                log: Callable[[str], None] | None = None) -> NetRun:
    """Deploy ``graph`` with ``policy``, run it on ``target``, check it, measure every layer.

    ``check_layers``: also build programs that keep every step's output to the end (all in one
    program if it fits the DMEM, else in groups of consecutive steps), run them on the same
    target and compare every tensor (the first differing one is named).  The input is
    :func:`golden_input` of ``seed``.

    Raises
    ------
    AssertionError
        The output (or, with ``check_layers``, a tensor) differs from the golden model; the
        message names the tensor, the count and the first difference.
    ValueError, TypeError
        See :func:`.program.generate`; an unknown target.
    TargetError
        A run failed.
    """
    t0 = time.perf_counter()
    x = golden_input(graph, seed)
    prog = generate(graph, x, policy=policy, measure_fn=measure_fn, log=log)
    elf = build(prog)
    if log is not None:
        log(f"running {graph.name} ({policy}) on {target if isinstance(target, str) else 'custom'}")
    res = run_program(elf, target)
    bad = _mismatch(prog, elf, res, graph.output)
    if bad is not None:
        raise AssertionError(f"{graph.name} ({policy}): output {graph.output!r}: {bad}")
    exact: dict[str, bool] = {}
    if check_layers:
        outs = [graph.node(s.node).output for s in prog.steps]
        for group in _check_groups(graph, x, policy, outs, measure_fn):
            keep = generate(graph, x, policy=policy, keep=group, measure_fn=measure_fn)
            kelf = build(keep)
            kres = run_program(kelf, target)
            for t in group:
                bad = _mismatch(keep, kelf, kres, t)
                if bad is not None:
                    n = graph.producer(t)
                    raise AssertionError(f"{graph.name} ({policy}): layer {n.name!r} "
                                         f"({n.op}), tensor {t!r}: {bad}")
                exact[t] = True
    cyc = _layer_cycles(res, prog.steps)
    from ..iss.elf import symbols

    static = symbols(elf)["__bss_end"] - memmap.DMEM_BASE
    if static + harness.STACK_RESERVE > memmap.DMEM_SIZE:
        raise ValueError(f"{graph.name} ({policy}): the program's data ends at DMEM offset "
                         f"{static}, leaving less than {harness.STACK_RESERVE} bytes of stack")
    layers = [LayerResult(s.index, s.node, s.op, s.kernel, *cyc[s.index], s.macs,
                          s.macs_executed, s.pattern, s.weight_bytes, s.dense_weight_bytes,
                          exact.get(graph.node(s.node).output) if check_layers else None,
                          s.note, s.measured)
              for s in prog.steps]
    return NetRun(network=graph.name, policy=policy, target=res.target, layers=layers,
                  cycles_run=res.cycles, output_bit_exact=True, layers_checked=check_layers,
                  dmem=prog.dmem, dmem_static=static, arena_peak=prog.plan.peak,
                  arena_total=prog.plan.total, elf=elf, seconds=time.perf_counter() - t0)


def run_network_l2(graph: Graph, *, policy: str = "fastest",
                   target: str | Callable[[Path, int], RunResult] = "iss", seed: int = 0,
                   dbuf: bool = True, max_cycles: int = 4_000_000_000,
                   measure_fn: Callable[[LayerCase, str], int] | None = None,
                   log: Callable[[str], None] | None = None) -> NetRun:
    """Deploy ``graph`` with the L2 flow (:mod:`.l2flow`), run it, check every tensor.

    Every tensor has its own L2 buffer, so the L2 snapshot of one run holds every layer's
    output: all are compared with the golden model (``layers_checked`` is always true).
    ``target``: ``"iss"``, ``"cv32e40p"`` (the RTL core :data:`RTL_CORE`) or ``run(elf,
    l2_bytes) -> RunResult``.  The DMA cycles of every step (restated from its transfers) must
    add up to the target's count.

    Raises
    ------
    AssertionError
        A tensor differs from the golden model (named with the count and first difference), or
        the DMA cycles do not add up.
    ValueError, TypeError
        See :func:`.l2flow.generate_l2`; an unknown target.
    TargetError
        A run failed (a DMA race names the access).
    """
    from .l2flow import L1_BYTES, build_l2, generate_l2

    t0 = time.perf_counter()
    x = golden_input(graph, seed)
    prog = generate_l2(graph, x, policy=policy, dbuf=dbuf, measure_fn=measure_fn, log=log)
    elf = build_l2(prog)
    from ..iss.elf import symbols

    syms = symbols(elf)
    if syms.get("xdn_l2_image") != memmap.L2_BASE:
        raise TargetError(f"{elf}: the L2 image is not at L2_BASE (linker placement)")
    if log is not None:
        log(f"running {graph.name} ({policy}, L2 flow) on "
            f"{target if isinstance(target, str) else 'custom'}")
    if target == "iss":
        from ..iss.iss import run_elf

        res = run_elf(elf, max_instructions=max_cycles, l2_dump=prog.l2_used)
    elif target == "cv32e40p":
        from xdecimate.sim import cv32e40p

        res = cv32e40p.run_elf(elf, core=RTL_CORE, max_cycles=max_cycles, l2_dump=prog.l2_used)
    elif callable(target):
        res = target(elf, prog.l2_used)
    else:
        raise ValueError(f"target must be one of {list(TARGETS)} or a function "
                         f"run(elf, l2_bytes), not {target!r}")
    if res.exit_code != 0:
        raise TargetError(f"{elf}: exit code {res.exit_code}, stdout {res.stdout[:200]!r}")
    assert res.l2 is not None
    for t, want in prog.golden.items():
        if t == graph.input or t in graph.constants:
            continue
        off = prog.tensors[t] - memmap.L2_BASE
        got = np.frombuffer(res.l2, np.uint8, want.size, off).reshape(want.shape)
        bad = np.argwhere(got != want)
        if len(bad):
            i = tuple(int(v) for v in bad[0])
            n = graph.producer(t)
            raise AssertionError(
                f"{graph.name} ({policy}, L2 flow): layer {n.name!r} ({n.op}), tensor {t!r}: "
                f"{len(bad)} of {want.size} codes differ from the golden model, first at {i}: "
                f"{int(got[i])} != {int(want[i])}")
    planned = sum(st.dma_cycles for st in prog.steps)
    if planned != res.dma_cycles:
        raise AssertionError(f"{graph.name}: the steps' DMA transfers add up to {planned} "
                             f"cycles, the target counted {res.dma_cycles}")
    cyc = _layer_cycles(res, prog.steps)
    static = syms["__bss_end"] - memmap.DMEM_BASE
    if static + harness.STACK_RESERVE > memmap.DMEM_SIZE:
        raise ValueError(f"{graph.name} ({policy}): the program's data ends at DMEM offset "
                         f"{static}, leaving less than {harness.STACK_RESERVE} bytes of stack")
    layers = [LayerResult(s.index, s.node, s.op, s.kernel, *cyc[s.index], s.macs,
                          s.macs_executed, s.pattern, s.weight_bytes, s.dense_weight_bytes,
                          True, s.note, s.measured, s.dma_cycles, s.dma_bytes, s.tiling, s.l1)
              for s in prog.steps]
    l1_peak = max((s.l1 for s in prog.steps), default=0)
    return NetRun(network=graph.name, policy=policy, target=res.target, layers=layers,
                  cycles_run=res.cycles, output_bit_exact=True, layers_checked=True,
                  dmem={"l1_budget": L1_BYTES, "l1_peak": l1_peak, "static": static,
                        "stack": harness.STACK_RESERVE},
                  dmem_static=static, arena_peak=l1_peak, arena_total=L1_BYTES, elf=elf,
                  seconds=time.perf_counter() - t0, flow="l2", double_buffered=dbuf,
                  dma_transfers=res.dma_transfers, dma_cycles=res.dma_cycles,
                  l2_image=len(prog.l2_image), l2_used=prog.l2_used)
