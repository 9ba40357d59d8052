"""Many test images on the core: one build per model and kernel policy, the input patched in.

What it is for: accuracy measured *on the core*.  :func:`deploy` generates and builds the
deployment program of a quantized graph once (:func:`xdecimate.sw.deploy.program.generate`,
:func:`~xdecimate.sw.deploy.program.build`) and finds the file offset of the input tensor's
bytes in the ELF (``Program.tensors[graph.input]`` gives the symbol and the offset inside it;
the symbol's address comes from :func:`xdecimate.sw.iss.elf.symbols`, the section that holds it
from pyelftools; it must be a ``PROGBITS`` section, i.e. initialized data that the loader copies
from the file).  :func:`run_image` writes a copy of the ELF with another image's codes at that
offset, runs it (:func:`xdecimate.sw.deploy.run.run_program`: the ISS, the CV32E40P RTL, or any
target function), reads the output back (:func:`~xdecimate.sw.deploy.run.read_tensor`) and
compares every output code with :func:`xdecimate.sw.net.golden.run_output` on the same image.
The kernel choice does not depend on the image for a forced policy (a kernel name); a
``"fastest"`` program is chosen on the build image and reused as it is.

Cycles per inference are those of the marked steps (the inference, without start-up), as
``NetRun.cycles`` counts them.

May import: numpy, the standard library, pyelftools, :mod:`xdecimate.sw.deploy`,
:mod:`xdecimate.sw.net`, :mod:`xdecimate.sw.iss` and :mod:`xdecimate.sw.model`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..deploy.program import Program, build, generate
from ..deploy.run import read_tensor, run_program
from ..iss.elf import symbols
from ..iss.target import RunResult
from ..net import golden
from ..net.ir import Graph

__all__ = ["Deployed", "ImageRun", "deploy", "patched_elf", "run_image"]


@dataclass(frozen=True)
class Deployed:
    """A built network program and where its input bytes sit in the ELF file."""

    graph: Graph
    policy: str
    prog: Program
    elf: Path
    input_offset: int
    input_size: int


@dataclass(frozen=True)
class ImageRun:
    """One image on one target: predicted class, golden class, whether every output code
    matched, cycles of the inference (marked steps), wall-clock seconds of the run."""

    index: int
    label: int
    pred: int
    golden_pred: int
    codes_match: bool
    cycles: int
    seconds: float


def _file_offset(elf: Path, addr: int, size: int) -> int:
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        for sec in ELFFile(f).iter_sections():
            lo = sec["sh_addr"]
            if sec["sh_flags"] & 2 and lo <= addr and addr + size <= lo + sec["sh_size"]:
                if sec["sh_type"] != "SHT_PROGBITS":
                    raise ValueError(f"{elf}: the input bytes at {addr:#x} are in section "
                                     f"{sec.name!r} of type {sec['sh_type']}, not PROGBITS: "
                                     "they are not in the file and cannot be patched")
                return sec["sh_offset"] + addr - lo
    raise ValueError(f"{elf}: no allocated section holds the {size} input bytes at {addr:#x}")


def deploy(graph: Graph, x: np.ndarray, policy: str, *,
           log: Callable[[str], None] | None = None) -> Deployed:
    """Generate and build ``graph``'s program with input codes ``x`` (HWC uint8) and
    ``policy``; locate the input bytes in the ELF and check they hold ``x``.

    Raises
    ------
    ValueError
        What :func:`~xdecimate.sw.deploy.program.generate` raises (a network that does not
        fit the DMEM, ...), or the input bytes are not in the file as ``x``.
    """
    prog = generate(graph, x, policy=policy, log=log)
    elf = build(prog)
    sym, off = prog.tensors[graph.input]
    addr = symbols(elf)[sym] + off
    fo = _file_offset(elf, addr, x.size)
    raw = elf.read_bytes()[fo:fo + x.size]
    if raw != np.ascontiguousarray(x).tobytes():
        raise ValueError(f"{elf}: the bytes at file offset {fo} are not the input codes")
    return Deployed(graph, policy, prog, elf, fo, x.size)


def patched_elf(dep: Deployed, x: np.ndarray, out_dir: Path) -> Path:
    """A copy of ``dep.elf`` with input codes ``x`` (content-addressed under ``out_dir``)."""
    if x.dtype != np.uint8 or x.shape != tuple(dep.graph.input_shape):
        raise ValueError(f"input must be uint8 of shape {tuple(dep.graph.input_shape)}, not "
                         f"{x.dtype} {x.shape}")
    data = bytearray(dep.elf.read_bytes())
    data[dep.input_offset:dep.input_offset + dep.input_size] = np.ascontiguousarray(x).tobytes()
    h = hashlib.sha256(data).hexdigest()[:24]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{h}.elf"
    if not path.is_file():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(data))
        tmp.replace(path)
    return path


def inference_cycles(res: RunResult, prog: Program) -> int:
    """Cycles of every marked step of ``prog`` in ``res`` (the inference)."""
    begin = {s.mark: s for s in prog.steps}
    open_at: dict[int, int] = {}
    total, done = 0, 0
    for m in res.marks:
        if m.id in begin:
            open_at[m.id] = m.cycle
        elif m.id - 1 in open_at:
            total += m.cycle - open_at.pop(m.id - 1)
            done += 1
    if done != len(prog.steps):
        raise ValueError(f"the run has {done} complete step marks, the program {len(prog.steps)}")
    return total


def run_image(dep: Deployed, x: np.ndarray, *, index: int = -1, label: int = -1,
              target: str | Callable[[Path], RunResult] = "iss",
              out_dir: Path = Path("build/train/elf")) -> ImageRun:
    """Run image codes ``x`` (HWC uint8) on ``target`` and compare with the golden model."""
    elf = patched_elf(dep, x, out_dir)
    t0 = time.perf_counter()
    res = run_program(elf, target)
    secs = time.perf_counter() - t0
    got = read_tensor(dep.prog, elf, res, dep.graph.output)
    want = golden.run_output(dep.graph, x)
    return ImageRun(index, label, int(got.ravel().argmax()), int(want.ravel().argmax()),
                    bool(np.array_equal(got, want)), inference_cycles(res, dep.prog), secs)


def main(argv: list[str] | None = None) -> int:
    """``python -m xdecimate.sw.train.oncore``: many test images of the shipped models on a
    target, each compared with the golden model; a JSON summary per (model, pattern)."""
    import argparse
    import json

    from ..deploy.run import rtl_target
    from ..kernels import harness
    from . import data, shipped
    from .config import ARCH_NAMES, PATTERNS

    ap = argparse.ArgumentParser(prog="python -m xdecimate.sw.train.oncore",
                                 description="Run test images of the shipped int8 models on "
                                             "the ISS or the RTL, built once per model.")
    ap.add_argument("--images", type=int, default=50, help="images per model (default 50)")
    ap.add_argument("--start", type=int, default=0, help="first test image index")
    ap.add_argument("--target", choices=("iss", "cv32e40p"), default="iss")
    ap.add_argument("--arch", default=",".join(ARCH_NAMES))
    ap.add_argument("--patterns", default=",".join(["dense", *PATTERNS]))
    ap.add_argument("--json", type=Path, default=Path("build/train/oncore.json"))
    args = ap.parse_args(argv)
    if args.images < 1 or not 0 <= args.start <= 10000 - args.images:
        ap.error(f"--start {args.start} + --images {args.images} must lie in 1..10000 images")
    pats = [None if p == "dense" else p for p in args.patterns.split(",")]
    bad = [p for p in pats if p is not None and p not in PATTERNS]
    if bad:
        ap.error(f"--patterns: {bad} not in dense,{','.join(PATTERNS)}")
    target = harness.iss_target if args.target == "iss" else rtl_target
    test = data.load("test")
    calib = shipped.calibration_images()
    summary = []
    for a in args.arch.split(","):
        for p in pats:
            g = shipped.int8_graph(a, p, calib)
            kernel = "dense_4x2" if p is None else "xdec4"
            dep = deploy(g, test.images[0][:, :, None], kernel)
            runs = [run_image(dep, test.images[i][:, :, None], index=i,
                              label=int(test.labels[i]), target=target)
                    for i in range(args.start, args.start + args.images)]
            row = {"arch": a, "pattern": p, "kernel": kernel, "target": args.target,
                   "images": len(runs), "first": args.start,
                   "codes_match": sum(r.codes_match for r in runs),
                   "pred_match": sum(r.pred == r.golden_pred for r in runs),
                   "core_correct": sum(r.pred == r.label for r in runs),
                   "cycles_min": min(r.cycles for r in runs),
                   "cycles_max": max(r.cycles for r in runs),
                   "cycles_mean": round(float(np.mean([r.cycles for r in runs]))),
                   "seconds_mean": round(float(np.mean([r.seconds for r in runs])), 3)}
            summary.append(row)
            print(json.dumps(row), flush=True)
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(summary, indent=1) + "\n")
    ok = all(r["codes_match"] == r["images"] for r in summary)
    print(f"{'all' if ok else 'NOT all'} outputs equal the golden model's; {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
