"""Request streams for the xDecimate testbench, generated from the golden model.

* :func:`row_walks` -- real compressed layers (``nm_format.compress`` of ``prune_nm``-pruned
  random int8 weights), walked exactly as the 1×P inner loop does (``kernels.fc_sparse``): per row a
  CSR write (``cnt = 0``), then per group of four NZ slots 4·P ``xdec.lb`` with the streams
  interleaved lane by lane.  After every group the gathered registers are checked against the
  activations at ``NMImage.columns()`` -- a check of the reference and the format against each
  other, independent of the RTL.  Optionally a context switch (CSR read, foreign configuration,
  CSR restore) is injected mid-row.
* :func:`random_ops` -- random requests: any rs1/rs2/rd, CSR writes of legal, unimplemented,
  spec-illegal and random values, set/clear/read.
* :func:`directed_ops` -- the directed cases (every M, N, P, lane, index 0 and max, word and row
  boundaries, counter and address wrap, CSR rewrites mid-row, read-back, traps).
* :func:`closure_ops` -- one targeted request per coverage bin still missing.

Streams are generators: they are resumed only after the previous request was accepted, so they
may read the model's state (the register file) to check results.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
from xdecimate.sw.model import xdec_spec as spec
from xdecimate.sw.model.nm_format import NMImage, Pattern, compress
from xdecimate.sw.model.prune import prune_nm
from xdecimate.sw.model.xdec_ref import csr_pack

from .coverage import Coverage
from .model import OP_CLEAR, OP_LB, OP_READ, OP_SET, OP_WRITE, Op, XdecModel
from .obi_mem import STALL_KINDS

__all__ = ["GoldenModelError", "closure_ops", "directed_ops", "random_ops", "row_walks"]

_MASK = (1 << spec.XLEN) - 1
_M = spec.field("m_log2")
_N = spec.field("n_log2")
_P = spec.field("p_log2")
_CNT = spec.field("cnt")
_CNT_MAX = (1 << _CNT.width) - 1
#: Registers the streams use: row walks 10..13 (pixel streams), foreign code 20..23, random 1..8.
_ROW_REGS = 10
_FOREIGN_REGS = 20


class GoldenModelError(AssertionError):
    """The reference gathered other activations than the compressed format says (model bug)."""


def _csr(m: int, n: int, p: int, cnt: int = 0) -> int:
    return csr_pack(m=m, n=n, p=p, cnt=cnt)


def _layer(rng: random.Random, pattern: Pattern, rows: int, k: int) -> tuple[np.ndarray, NMImage]:
    nprng = np.random.default_rng(rng.getrandbits(32))
    w = nprng.integers(-128, 128, size=(rows, k), dtype=np.int16)
    w[nprng.random((rows, k)) < 0.15] = 0  # some blocks with fewer than N non-zeros
    w = prune_nm(w.astype(np.int8), pattern)
    return w, compress(w, pattern)


def row_walks(model: XdecModel, image: np.ndarray, rng: random.Random, *,
              layers: int, n_m: tuple[int, int] | None = None, p: int | None = None,
              max_k: int = 160, rows: tuple[int, int] = (1, 3),
              p_switch: float = 0.05) -> Iterator[Op]:
    """Walk ``layers`` random compressed layers row by row (patterns/P of the model's config).

    Parameters
    ----------
    model : the testbench model (its register file is checked after every group).
    image : the memory image the activations are written into (aliased modulo its size).
    rng : random source.
    layers : number of layers.
    n_m, p : force the pattern (N, M) and P; default random among the configuration's.
    max_k : largest K drawn.
    rows : (min, max) rows per layer.
    p_switch : probability per group of a mid-row context switch.
    """
    cfg = model.config
    size = image.size
    for _ in range(layers):
        n, m = n_m if n_m is not None else rng.choice(cfg.patterns)
        pp = p if p is not None else rng.choice(cfg.p)
        pattern = Pattern(n, m)
        _, img = _layer(rng, pattern, rng.randint(*rows), rng.randint(1, max_k))
        kp = img.k_pad
        x = np.random.default_rng(rng.getrandbits(32)).integers(0, 256, (pp, kp), np.uint8)
        region = rng.randrange(size)
        if rng.random() < 0.1:  # a buffer right below 2^32: the addresses wrap
            region = (1 << spec.XLEN) - rng.randint(1, pp * kp)
        bases = [(region + s * kp) & _MASK for s in range(pp)]
        for s, base in enumerate(bases):
            for c in range(kp):
                image[(base + c) & (size - 1)] = x[s, c]
        cols = img.columns()
        for r in range(img.rows):
            yield Op(OP_WRITE, wdata=_csr(m, n, pp), tag="row_start")
            units = img.index_units(r)
            for g, unit in enumerate(units):
                last = g == len(units) - 1
                for lane in range(4):
                    for s in range(pp):
                        if rng.random() < p_switch / (4 * pp):
                            cnt = 4 * pp * g + lane * pp + s
                            yield from _context_switch(rng, cfg, _csr(m, n, pp, cnt))
                        yield Op(OP_LB, rs1=bases[s], rs2=unit, rd=_ROW_REGS + s,
                                 tag="row_end" if last else "row")
                # resumed after the last xdec.lb of the group was accepted: check the gather
                for s in range(pp):
                    got = model.regs[_ROW_REGS + s]
                    want = int.from_bytes(bytes(int(x[s, c]) for c in
                                                cols[r, 4 * g:4 * g + 4]), "little")
                    if got != want:
                        raise GoldenModelError(
                            f"{n}:{m} P={pp} row {r} group {g} stream {s}: reference gathered "
                            f"0x{got:08x}, format columns give 0x{want:08x}")


def _context_switch(rng: random.Random, cfg, saved: int) -> Iterator[Op]:
    """Save the CSR, run foreign xDecimate code (other configuration), restore."""
    yield Op(OP_READ, tag="ctx_save")
    n, m = rng.choice(cfg.patterns)
    yield Op(OP_WRITE, wdata=_csr(m, n, rng.choice(cfg.p), rng.randrange(_CNT_MAX + 1)),
             tag="ctx_foreign")
    for _ in range(rng.randint(0, 5)):
        yield Op(OP_LB, rs1=rng.getrandbits(32), rs2=rng.getrandbits(32),
                 rd=_FOREIGN_REGS + rng.randrange(4), tag="foreign")
    if rng.random() < 0.5:  # a second rewrite back to back
        yield Op(OP_WRITE, wdata=rng.getrandbits(32), tag="ctx_foreign")
    yield Op(OP_WRITE, wdata=saved, tag="ctx_restore")


def _legal_csr(rng: random.Random, cfg) -> int:
    n, m = rng.choice(cfg.patterns)
    r = rng.random()
    if r < 0.15:
        cnt = _CNT_MAX - rng.randrange(8)  # about to wrap
    elif r < 0.5:
        cnt = rng.randrange(64)
    else:
        cnt = rng.randrange(_CNT_MAX + 1)
    return _csr(m, n, rng.choice(cfg.p), cnt)


def random_ops(model: XdecModel, rng: random.Random, count: int) -> Iterator[Op]:
    """``count`` random requests (mostly ``xdec.lb`` under a legal configuration)."""
    cfg = model.config
    for _ in range(count):
        r = rng.random()
        if model.traps() and r < 0.6:
            yield Op(OP_WRITE, wdata=_legal_csr(rng, cfg), tag="rand_fix")
            continue
        if r < 0.04:
            yield Op(OP_WRITE, wdata=_legal_csr(rng, cfg), tag="rand_w")
        elif r < 0.05:
            # any value: random (often illegal or unimplemented) configuration fields
            yield Op(OP_WRITE, wdata=rng.getrandbits(spec.XLEN), tag="rand_w")
        elif r < 0.06:
            f = rng.choice((_M, _N, _P, _CNT))
            yield Op(OP_SET, wdata=rng.getrandbits(spec.XLEN) & f.mask, tag="rand_s")
        elif r < 0.07:
            f = rng.choice((_M, _N, _P, _CNT))
            yield Op(OP_CLEAR, wdata=rng.getrandbits(spec.XLEN) & f.mask, tag="rand_c")
        elif r < 0.08:
            yield Op(OP_READ, tag="rand_r")
        else:
            rs1 = rng.getrandbits(spec.XLEN)
            if rng.random() < 0.05:
                rs1 = _MASK - rng.randrange(1 << 12)
            yield Op(OP_LB, rs1=rs1, rs2=rng.getrandbits(spec.XLEN), rd=1 + rng.randrange(8),
                     tag="rand_lb")


def directed_ops(model: XdecModel, image: np.ndarray, rng: random.Random) -> Iterator[Op]:
    """The directed cases (see the module docstring)."""
    cfg = model.config
    # reset value reads back and traps
    yield Op(OP_READ, tag="reset_read")
    yield Op(OP_LB, rs1=0x100, rs2=0, rd=1, tag="reset_trap")
    # every pattern, P, lane; index 0, max field value, max in-block value; every byte offset
    for n, m in cfg.patterns:
        b = spec.INDEX_BITS[m]
        for p in cfg.p:
            for idx in sorted({0, m - 1, (1 << b) - 1, m // 2}):
                rs2 = sum(idx << (b * lane) for lane in range(4))
                for off in range(4):
                    yield Op(OP_WRITE, wdata=_csr(m, n, p), tag="dir_cfg")
                    for _ in range(8 * p):  # two groups: every lane of every stream
                        yield Op(OP_LB, rs1=0x1000 + off, rs2=rs2, rd=2, tag="dir_lane")
    # word boundary: base at the last byte of a word, offsets 1..M-1 cross it
    n, m = cfg.patterns[-1]
    yield Op(OP_WRITE, wdata=_csr(m, n, 1), tag="dir_cfg")
    for idx in range(m):
        yield Op(OP_LB, rs1=0x2003, rs2=idx * 0x1111_1111 & _MASK, rd=3, tag="dir_word")
    # counter wrap and maximum offset, address wrap past 2^32
    for n, m in cfg.patterns:
        yield Op(OP_WRITE, wdata=_csr(m, n, cfg.p[0], _CNT_MAX), tag="dir_wrap")
        yield Op(OP_LB, rs1=_MASK, rs2=_MASK, rd=4, tag="dir_wrap")
        yield Op(OP_READ, tag="dir_wrap_read")  # cnt = 0 again
        yield Op(OP_LB, rs1=_MASK - 3, rs2=_MASK, rd=4, tag="dir_wrap")
    # rows and their last groups, each pattern and P, back to back
    for n, m in cfg.patterns:
        for p in cfg.p:
            yield from row_walks(model, image, rng, layers=1, n_m=(n, m), p=p, max_k=64,
                                 rows=(2, 3), p_switch=0.0)
    # back-to-back CSR rewrites mid-row, set/clear on fields, read-back
    n, m = cfg.patterns[0]
    p = cfg.p[-1]
    yield Op(OP_WRITE, wdata=_csr(m, n, p), tag="dir_mid")
    for k in range(6):
        yield Op(OP_LB, rs1=0x3000, rs2=0xE4E4E4E4, rd=5, tag="dir_mid")
        if k == 2:
            yield Op(OP_READ, tag="dir_mid")
            yield Op(OP_WRITE, wdata=_csr(m, n, cfg.p[0], 40), tag="dir_mid")
            yield Op(OP_WRITE, wdata=_csr(m, n, p, 7), tag="dir_mid")
            yield Op(OP_READ, tag="dir_mid")
    yield Op(OP_CLEAR, wdata=_CNT.mask, tag="dir_clear")  # cnt = 0, config kept
    yield Op(OP_READ, tag="dir_clear")
    yield Op(OP_SET, wdata=_P.mask, tag="dir_set")  # p_log2 = 3: illegal everywhere
    yield Op(OP_LB, rs1=0x3000, rs2=0, rd=5, tag="dir_trap")
    yield Op(OP_READ, tag="dir_trap_read")  # counter unchanged by the trap
    yield Op(OP_WRITE, wdata=_MASK, tag="dir_reserved")  # reserved bits dropped
    yield Op(OP_READ, tag="dir_reserved")
    # every unimplemented encoding of every field traps and changes nothing
    n, m = cfg.patterns[0]
    good = _csr(m, n, cfg.p[0], 5)
    for f, ok in ((_M, cfg.m_log2), (_N, cfg.n_log2), (_P, cfg.p_log2)):
        for v in range(1 << f.width):
            if v in ok:
                continue
            yield Op(OP_WRITE, wdata=f.put(good, v), tag="dir_illegal")
            yield Op(OP_LB, rs1=0x4000, rs2=_MASK, rd=6, tag="dir_illegal")
            yield Op(OP_LB, rs1=0x4000, rs2=_MASK, rd=6, tag="dir_illegal")
            yield Op(OP_READ, tag="dir_illegal")
            yield Op(OP_WRITE, wdata=good, tag="dir_illegal")
            yield Op(OP_LB, rs1=0x4000, rs2=_MASK, rd=6, tag="dir_illegal")


def closure_ops(model: XdecModel, image: np.ndarray, rng: random.Random,
                coverage: Coverage) -> Iterator[Op]:
    """One targeted request (with its setup) per bin of ``coverage`` not hit yet."""
    cfg = model.config
    for pat, lane, idx, off, stall in coverage["access"].missing:
        n, m = (int(t) for t in pat.split(":"))
        b = spec.INDEX_BITS[m]
        p = rng.choice(cfg.p)
        cnt = lane * p  # group 0, stream 0
        j = lane
        offset = (j // n) * m + idx
        rs2 = (rng.getrandbits(spec.XLEN) & ~(((1 << b) - 1) << (b * lane))) | (idx << (b * lane))
        rs1 = (rng.getrandbits(spec.XLEN) & ~3) | ((off - offset) & 3)
        k = STALL_KINDS.index(stall)
        waits = (rng.randint(1, 3) if k & 1 else 0, rng.randint(1, 3) if k & 2 else 0)
        yield Op(OP_WRITE, wdata=_csr(m, n, p, cnt), tag="close_cfg")
        yield Op(OP_LB, rs1=rs1, rs2=rs2, rd=7, tag="close", stall=waits)
    for pat, p in coverage["pattern_p"].missing:
        n, m = (int(t) for t in pat.split(":"))
        yield Op(OP_WRITE, wdata=_csr(m, n, p), tag="close_cfg")
        yield Op(OP_LB, rs1=rng.getrandbits(32), rs2=rng.getrandbits(32), rd=7, tag="close")
    for name, prev in coverage["csr_op"].missing:
        if prev == "lb":
            yield Op(OP_WRITE, wdata=_legal_csr(rng, cfg), tag="close_cfg")
            yield Op(OP_LB, rs1=rng.getrandbits(32), rs2=rng.getrandbits(32), rd=7, tag="close")
        else:
            yield Op(OP_READ, tag="close")
        code = {"write": OP_WRITE, "set": OP_SET, "clear": OP_CLEAR, "read": OP_READ}[name]
        yield Op(code, wdata=0, tag="close")
    for fname, v in coverage["illegal"].missing:
        f = spec.field(fname)
        yield Op(OP_WRITE, wdata=f.put(_legal_csr(rng, cfg), v), tag="close_cfg")
        yield Op(OP_LB, rs1=rng.getrandbits(32), rs2=rng.getrandbits(32), rd=7, tag="close")
    for kind in coverage["held"].missing:
        if kind == "csr":
            yield Op(OP_READ, tag="close", hold=2)
        else:
            yield Op(OP_WRITE, wdata=_legal_csr(rng, cfg) if kind == "lb" else _P.mask,
                     tag="close_cfg")
            yield Op(OP_LB, rs1=rng.getrandbits(32), rs2=rng.getrandbits(32), rd=7, tag="close",
                     hold=2)
    for pat in coverage["row_end"].missing:
        n, m = (int(t) for t in pat.split(":"))
        yield from row_walks(model, image, rng, layers=1, n_m=(n, m), max_k=32, rows=(1, 1),
                             p_switch=0.0)
    for pat in coverage["cnt_wrap"].missing:
        n, m = (int(t) for t in pat.split(":"))
        yield Op(OP_WRITE, wdata=_csr(m, n, rng.choice(cfg.p), _CNT_MAX), tag="close_cfg")
        yield Op(OP_LB, rs1=rng.getrandbits(32), rs2=rng.getrandbits(32), rd=7, tag="close")
