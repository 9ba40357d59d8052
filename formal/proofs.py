"""The catalogue of proofs: every block for every named configuration, its method and depth.

==============  =================================  ======  =====  =====================
Block           Method                             Mode    Depth  Mutations (BMC depth)
==============  =================================  ======  =====  =====================
``decompress``  equivalence (combinational)        bmc     1      1
``agen``        equivalence (combinational)        bmc     1      1
``merge``       equivalence (combinational)        bmc     1      1
``csr``         1-induction                        prove   1      4
``unit``        1-induction with lemmas            prove   1      6
==============  =================================  ======  =====  =====================

A combinational harness has no state, so one step with every input free *is* the complete
equivalence check.  For the two sequential blocks ``prove`` runs the base case (the properties
hold in the reset state) and the inductive step (a state where they hold goes only to states
where they hold, for any input) -- together: in every reachable state.  ``docs/formal.md`` says
why each property is inductive.  A mutation is checked by BMC from reset, deep enough to reach
the first cycle it can show itself in; it must FAIL with a counterexample trace.

May import: amaranth, ``xdecimate.hw``, ``xdecimate.formal``, the standard library.
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from amaranth.back import rtlil
from xdecimate.hw.configs import CONFIGS, config

from .harness import HARNESSES
from .mutations import MUTATIONS
from .probe import Mutation
from .runner import run_sby

__all__ = [
    "METHODS",
    "MUTATION_DEPTH",
    "ProofResult",
    "all_proofs",
    "run_all",
    "run_mutation",
    "run_proof",
]

#: Block -> (method, sby mode, depth) of its proof.
METHODS: dict[str, tuple[str, str, int]] = {
    "decompress": ("equivalence (combinational, every input)", "bmc", 1),
    "agen": ("equivalence (combinational, every input)", "bmc", 1),
    "merge": ("equivalence (combinational, every input)", "bmc", 1),
    "csr": ("1-induction (every reachable state)", "prove", 1),
    "unit": ("1-induction with internal-state lemmas (every reachable state)", "prove", 1),
}

#: Block -> BMC depth used to find the counterexample of a mutation.
MUTATION_DEPTH: dict[str, int] = {"decompress": 1, "agen": 1, "merge": 1, "csr": 4, "unit": 6}


@dataclass(frozen=True)
class ProofResult:
    """One line of the formal report.

    ``status`` is ``PASS`` for a proof that holds, ``FAIL`` when the solver found a
    counterexample; for a mutation the expected outcome is ``FAIL`` (``caught``).
    """

    block: str
    config: str
    mutation: str | None
    what: str
    claim: str
    properties: tuple[str, ...]
    method: str
    mode: str
    depth: int
    status: str
    seconds: float
    failed: tuple[str, ...]
    step: int | None
    trace: str | None

    @property
    def ok(self) -> bool:
        """The expected outcome: a proof passes, a mutation is caught."""
        return self.caught if self.mutation else self.status == "PASS"

    @property
    def caught(self) -> bool:
        """A mutation was rejected with a counterexample trace from reset."""
        return self.status == "FAIL" and self.trace is not None and bool(self.failed)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``ok`` included)."""
        return {**asdict(self), "ok": self.ok}


def all_proofs(configs: list[str] | None = None) -> list[tuple[str, str]]:
    """(block, configuration) of every proof, configurations in ``CONFIGS`` order."""
    names = list(CONFIGS) if configs is None else configs
    return [(block, name) for name in names for block in METHODS]


def _run(block: str, cfg_name: str, mutation: Mutation | None, mode: str, depth: int,
         method: str, workdir: Path | None, timeout: float) -> ProofResult:
    harness = HARNESSES[block](config(cfg_name), mutation)
    text = rtlil.convert(harness, ports=[])
    t0 = time.perf_counter()
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix=f"xdec-formal-{block}-") as tmp:
            outcome = run_sby(text, mode=mode, depth=depth, workdir=Path(tmp), timeout=timeout)
            trace = str(outcome.trace.relative_to(tmp)) if outcome.trace else None
    else:
        outcome = run_sby(text, mode=mode, depth=depth, workdir=workdir, timeout=timeout)
        trace = str(outcome.trace) if outcome.trace else None
    if outcome.status in ("ERROR", "TIMEOUT") or (outcome.status == "FAIL" and
                                                  not outcome.failed and mutation is None):
        # A proof that could not run is a defect, not a result: show why.
        raise RuntimeError(f"formal {block}/{cfg_name}"
                           f"{'/' + mutation.name if mutation else ''}: {outcome.status}\n"
                           + outcome.log[-4000:])
    return ProofResult(
        block=block, config=cfg_name, mutation=mutation.name if mutation else None,
        what=mutation.what if mutation else "the design as in hw/",
        claim=type(harness).claim, properties=tuple(harness.properties), method=method,
        mode=mode, depth=depth, status=outcome.status,
        seconds=round(time.perf_counter() - t0, 2), failed=outcome.failed, step=outcome.step,
        trace=trace)


def run_proof(block: str, cfg_name: str, *, workdir: Path | None = None,
              timeout: float = 600) -> ProofResult:
    """Prove one block of one named configuration against the model.

    Parameters
    ----------
    block : one of :data:`METHODS`.
    cfg_name : a name of ``hw.configs.CONFIGS``.
    workdir : where SymbiYosys works (kept); a temporary folder if ``None``.
    timeout : seconds.

    Raises
    ------
    KeyError
        For an unknown block.
    RuntimeError
        If the tools fail to run (not when the proof fails: that is ``status == "FAIL"``).
    """
    method, mode, depth = METHODS[block]
    return _run(block, cfg_name, None, mode, depth, method, workdir, timeout)


def run_mutation(name: str | Mutation, *, workdir: Path | None = None,
                 timeout: float = 600) -> ProofResult:
    """Run the proof of a mutation's block on the mutated design, by BMC from reset.

    The result's :attr:`ProofResult.caught` says whether the proof rejected it.
    """
    mu = MUTATIONS[name] if isinstance(name, str) else name
    depth = MUTATION_DEPTH[mu.block]
    method = f"BMC from reset, {depth} cycle{'s' if depth > 1 else ''}"
    return _run(mu.block, mu.config, mu, "bmc", depth, method, workdir, timeout)


def _job(job: tuple[str, str, str | None, Path | None]) -> ProofResult:
    kind, name, cfg_name, root = job
    if kind == "proof":
        assert cfg_name is not None
        return run_proof(name, cfg_name, workdir=root / f"{name}-{cfg_name}" if root else None)
    return run_mutation(name, workdir=root / f"mutation-{name}" if root else None)


def run_all(configs: list[str] | None = None, mutations: list[str] | None = None, *,
            jobs: int | None = None, workdir: Path | None = None) -> list[ProofResult]:
    """Every proof of ``configs`` (default: all) and every mutation of ``mutations``.

    Parameters
    ----------
    configs : configuration names (default: every one of ``CONFIGS``).
    mutations : mutation names (default: all of :data:`~.mutations.MUTATIONS`).
    jobs : parallel SymbiYosys runs (processes; default: the CPU count, at most 4).
    workdir : if given, each run works in (and keeps) ``workdir/<block>-<config>`` or
        ``workdir/mutation-<name>``, counterexample traces included; else temporary folders.

    Returns
    -------
    list[ProofResult]
        Proofs first (configuration by configuration), then the mutations.
    """
    work: list[tuple[str, str, str | None, Path | None]] = [
        ("proof", b, c, workdir) for b, c in all_proofs(configs)]
    work += [("mutation", n, None, workdir) for n in (list(MUTATIONS) if mutations is None
                                                      else mutations)]
    jobs = jobs or min(4, os.cpu_count() or 1)
    if jobs == 1:
        return [_job(w) for w in work]
    # Processes, not threads: a mutation patches module globals of hw/ while it elaborates.
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_job, work))
