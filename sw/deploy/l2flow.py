"""The L2 flow: one C program that runs a whole network of any size from L2, tile by tile.

What it is for: :func:`generate_l2` turns a quantized graph, an input and a kernel policy into a
bare-metal program for networks whose weights and activations do not fit the 128 kB DMEM
(``docs/net.md``, "The L2 flow"):

* **L2 image.** The input (channels padded to a multiple of 4 with the input zero point), the
  constants, every conv / linear layer's weight *tiles* -- per tile of output channels its int32
  bias, then its rows (dense int8 rows, or the N:M row records whose values and packed indices
  are already interleaved), so one DMA transfer brings all three -- and the layer-norm
  parameters, linked into the ELF's ``.l2`` section; after it, one L2 buffer per tensor (no reuse:
  the run's L2 snapshot holds every layer's output for the per-layer check).
* **L1 tiles.** A conv / linear layer runs in bands of output rows (tokens) and tiles of output
  channels chosen under the L1 budget :data:`L1_BYTES` (the indices' bytes count in each weight
  row), with two slots per buffer for double buffering (``c/xdn_tile.c``: ``xdn_mac_run``);
  element- and row-wise ops stream in chunks (``xdn_stream_run``); activation x activation
  matmuls run per batch item in bands (``xdn_mm_run``, single-buffered); transposes keeping the
  last axis, slices and concatenations without rescaling are L2 -> L2 transfers
  (``xdn_move``); pooling loads the whole tensor (it must fit L1).
* **Kernels** per layer by the same policies as the DMEM flow (:mod:`.policy`), measured on the
  layer's first tile.

Every :class:`L2Step` lists the transfers the C runtime makes (so the DMA cycles of every layer
are known and their sum is checked against the target's count).

May import: numpy, the standard library, :mod:`xdecimate.sw.net`, :mod:`xdecimate.sw.kernels`,
:mod:`xdecimate.sw.iss` and :mod:`xdecimate.sw.model`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..iss import memmap
from ..kernels import harness
from ..kernels.harness import ConvShape, FCShape, LayerCase
from ..model import nm_format
from ..model.nm_format import is_nm
from ..net import golden, intops
from ..net.ir import Graph, Node
from . import policy as pol
from .program import _DENSE_CASE_PATTERN, ALIASES, C_DIR, SUPPORTED_OPS, Step, _headers_key

__all__ = ["L1_BYTES", "MEASURE_PIXELS", "L2Program", "L2Step", "build_l2", "generate_l2",
           "measure_by_geometry"]

#: L1 bytes the tiles of one step may use (the DMEM less the stack and the runtime's data).
L1_BYTES = memmap.DMEM_SIZE - harness.STACK_RESERVE - 4096
_ALIGN = 64
#: Output pixels (tokens) of the probe on which policy "fastest" measures a layer's kernels.
MEASURE_PIXELS = 16
_GEOMETRY_CYCLES: dict[tuple[object, ...], int] = {}


def measure_by_geometry(case: LayerCase, kernel: str) -> int:
    """:func:`.policy.measure`, remembered by the layer's geometry, pattern and kernel only: the
    kernels' cycles do not depend on the values (``tests/sw/deploy/test_l2flow.py`` checks it),
    so layers of one shape (ViT's twelve blocks) are measured once."""
    key = (repr(dataclasses.replace(case.shape, name="")), str(case.pattern), kernel)
    if key not in _GEOMETRY_CYCLES:
        _GEOMETRY_CYCLES[key] = pol.measure(case, kernel)
    return _GEOMETRY_CYCLES[key]


#: The skipping kernels (variable-length weight records): not run by the L2 flow.
_SKIP = (*harness.SKIP_KERNELS, *harness.DENSE_SKIP_KERNELS)


def _al(n: int, a: int = _ALIGN) -> int:
    return -(-n // a) * a


@dataclass
class L2Step(Step):
    """One node of an L2 program (a :class:`~.program.Step`): also its tiling, L1 bytes and
    DMA transfers -- ``(length, rows)`` of every transfer the step makes, as the runtime does.
    """

    tiling: str = ""
    l1: int = 0
    transfers: list[tuple[int, int]] = field(default_factory=list)

    @property
    def dma_cycles(self) -> int:
        return sum(memmap.dma_cycles(n, r) for n, r in self.transfers)

    @property
    def dma_bytes(self) -> int:
        return sum(n * r for n, r in self.transfers)


@dataclass
class L2Program:
    """A generated L2 program: C source, the L2 image, steps and where every tensor lives."""

    graph: Graph
    policy: str
    dbuf: bool
    source: str
    l2_image: bytes
    l2_used: int
    steps: list[L2Step]
    tensors: dict[str, int]  # tensor -> L2 address
    golden: dict[str, np.ndarray]

    @property
    def weight_bytes(self) -> int:
        return sum(s.weight_bytes for s in self.steps)

    @property
    def dense_weight_bytes(self) -> int:
        return sum(s.dense_weight_bytes for s in self.steps)


class _L2:
    """The L2 layout: an image (initialised data) and buffers after it."""

    def __init__(self) -> None:
        self.image = bytearray()

    def put(self, data: bytes | np.ndarray) -> int:
        off = _al(len(self.image))
        b = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
        self.image += bytes(off - len(self.image)) + b
        return memmap.L2_BASE + off


def _scratch(kernels: tuple[str, ...], bc: int, kp: int, conv: bool) -> int:
    """L1 bytes of kernel scratch (accumulators, im2col, SW interleave) for a tile of ``bc``
    channels: the most any of ``kernels`` needs (direct kernels read the padded band)."""
    need = 0
    for k in kernels:
        quad = k in harness.QUAD_KERNELS
        col = 4 if (not conv or k.endswith("_direct")) else (4 if quad else 2) * kp
        ilv = (4 if quad else 2) * kp + 64 if k in harness.SW_KERNELS else 4
        need = max(need, _al((16 if quad else 8) * bc) + _al(col) + _al(ilv))
    return need


def _mac_tiling(conv: bool, h: int, wd: int, c: int, ho: int, wo: int, cout: int, kh: int,
                stride: int, pad: int, wrow: int, kp: int, slack: int, name: str,
                kernels: tuple[str, ...]) -> tuple[int, int, int, int, dict[str, int]]:
    """(bh, nb, bc, nct, slot sizes): the largest channel tile, then the largest band, that fit
    :data:`L1_BYTES` with the scratch of any of ``kernels``."""
    wp = wd + 2 * pad
    step = 4 if cout >= 4 else 1
    for nct in range(1, cout + 1):
        bc = min(cout, _al(-(-cout // nct), step))
        nct_real = -(-cout // bc)
        if nct_real != nct:
            continue
        wslot = _al(bc * (wrow + 4))
        scratch = _scratch(kernels, bc, kp, conv)
        for bh in range(ho, 0, -1):
            nb = -(-ho // bh)
            rows_in = (bh - 1) * stride + kh if conv else bh
            xslot = _al(rows_in * wp * c + slack)
            yslot = _al(bh * wo * bc)
            need = ((1 if nct == 1 else 2) * wslot + (1 if nb == 1 else 2) * xslot
                    + 2 * yslot + scratch)
            if need <= L1_BYTES:
                return bh, nb, bc, nct, {"x": xslot, "w": wslot, "y": yslot, "need": need}
    raise ValueError(f"node {name!r}: not even one output row of one 4-channel tile fits the "
                     f"L1 budget of {L1_BYTES} bytes (weight row {wrow} bytes, input row "
                     f"{wp * c} bytes)")


def _mac_transfers(conv: bool, h: int, wd: int, c: int, ho: int, wo: int, cout: int, kh: int,
                   stride: int, pad: int, wrow: int, bh: int, nb: int, bc: int, nct: int
                   ) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for i in range(nb * nct):
        t, b = divmod(i, nb)
        r0 = b * bh
        rows = min(bh, ho - r0)
        cn = min(bc, cout - t * bc)
        if b == 0 and (nct > 1 or i == 0):
            out.append((cn * (wrow + 4), 1))
        if nb > 1 or i == 0:
            lo = r0 * stride - pad
            n = (rows - 1) * stride + kh if conv else rows
            a, e = max(lo, 0), min(lo + n, h)
            if e > a:
                out.append((wd * c, e - a) if pad else ((e - a) * wd * c, 1))
        npix = rows * wo
        out.append((npix * cout, 1) if nct == 1 else (cn, npix))
    return out


def _stream_transfers(n: int, chunk: int, ua: int, uy: int, two: bool) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for u0 in range(0, n, chunk):
        k = min(chunk, n - u0)
        out += [(k * ua, 1)] * (2 if two else 1) + [(k * uy, 1)]
    return out


def generate_l2(graph: Graph, x: np.ndarray, *, policy: str = "fastest", dbuf: bool = True,
                measure_fn: Callable[[LayerCase, str], int] | None = None,
                log: Callable[[str], None] | None = None) -> L2Program:
    """The L2-flow program running ``graph`` on input codes ``x`` with ``policy``.

    Parameters
    ----------
    graph : a quantized graph (ops of :data:`~.program.SUPPORTED_OPS`).
    x : uint8 input codes of the graph's input shape.
    policy : ``"fastest"`` (kernels measured on each layer's first tile) or a kernel name.
    dbuf : double-buffer DMA against compute (``False``: every transfer is waited for at once).
    measure_fn : ``(case, kernel) -> cycles`` for policy ``"fastest"`` (default:
        :func:`measure_by_geometry`, the ISS).
    log : progress messages.

    Raises
    ------
    TypeError
        A float graph, ``x`` not uint8.
    ValueError
        Unknown policy or op, a linear layer whose K is not a multiple of 4, a layer or op that
        does not fit the L1 budget even in its smallest tile (the message names it), an L2
        layout larger than ``memmap.L2_SIZE``.
    """
    pol.check_policy(policy)
    if policy == "skip" or policy in _SKIP:
        raise ValueError(f"policy {policy!r}: the L2 flow tiles fixed-stride weight rows; the "
                         f"skip kernels' records have variable length (use the DMEM flow)")
    if measure_fn is None:
        measure_fn = measure_by_geometry
    if not isinstance(graph, Graph) or not graph.quantized:
        raise TypeError(f"graph must be a quantized ir.Graph, not {graph!r}")
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8:
        raise TypeError(f"x must be a uint8 array, not {type(x).__name__}")
    if not graph.shapes:
        graph.validate()
    for n in graph.nodes:
        if n.op not in SUPPORTED_OPS:
            raise ValueError(f"node {n.name!r}: op {n.op!r} cannot be deployed yet "
                             f"(supported: {list(SUPPORTED_OPS)})")
    env = golden.run(graph, x)
    qp, sh = graph.qparams, graph.shapes
    assert qp is not None
    l2 = _L2()

    root: dict[str, str] = {}
    for n in graph.nodes:
        if n.op in ALIASES:
            root[n.output] = root.get(n.inputs[0], n.inputs[0])

    def base(t: str) -> str:
        return root.get(t, t)

    # the input, channels padded to 4 for a conv reading it (the border code is its zero point)
    addr: dict[str, int] = {}
    x_in = x
    if x.ndim == 3 and x.shape[2] % 4:
        c4 = -(-x.shape[2] // 4) * 4
        x_in = np.full((*x.shape[:2], c4), qp[graph.input].zero_point, np.uint8)
        x_in[..., :x.shape[2]] = x
    addr[graph.input] = l2.put(x_in)
    for n in graph.nodes:
        if x_in is not x and graph.input in n.inputs and n.op != "conv":
            raise ValueError(f"node {n.name!r} ({n.op}) reads the network input, whose "
                             f"{x.shape[2]} channels the L2 flow stores padded to 4: only a "
                             f"conv may read it")
        if (n.op == "conv" and n.inputs[0] != graph.input
                and sh[n.inputs[0]][-1] % 4):
            raise ValueError(f"node {n.name!r} (conv): {sh[n.inputs[0]][-1]} input channels; "
                             f"the L2 flow needs a multiple of 4 (except for the network input)")
    for c, v in graph.constants.items():
        addr[c] = l2.put(np.asarray(v, np.uint8))

    decls: list[str] = []
    body: list[str] = []
    steps: list[L2Step] = []
    pending_bufs: list[tuple[str, int]] = []
    for n in graph.nodes:
        if n.op in ALIASES:
            continue
        size = math.prod(sh[n.output])
        pending_bufs.append((n.output, size + 64))  # + slack: N:M FC reads past the last row

    # L2 weights first (image), then every tensor's buffer
    mac_info: dict[str, dict] = {}
    for i, n in enumerate(graph.nodes):
        if n.op in ("conv", "linear"):
            mac_info[n.name] = _lower_mac_l2(graph, n, env[n.inputs[0]], policy, measure_fn,
                                             log, l2, i, dbuf)
    ln_params: dict[str, int] = {}
    for n in graph.nodes:
        if n.op == "layernorm":
            p = n.params
            ln_params[n.name] = l2.put(np.concatenate([np.asarray(p["g"], np.int32),
                                                       np.asarray(p["b"], np.int32)]))
    etabs: dict[str, int] = {}
    for n in graph.nodes:
        if n.op == "softmax":
            p = n.params
            etabs[n.name] = l2.put(intops.iexp_table(intops.SoftmaxParams(
                p["k"], p["q_ln2"], p["q_b"], p["q_c"], p["r"])))
    image_end = _al(len(l2.image))
    free = memmap.L2_BASE + image_end
    for t, size in pending_bufs:
        addr[t] = free
        free += _al(size)
    used = free - memmap.L2_BASE
    if used > memmap.L2_SIZE:
        raise ValueError(f"network {graph.name!r} needs {used} bytes of L2 (image {image_end}, "
                         f"activations {used - image_end}), more than memmap.L2_SIZE = "
                         f"{memmap.L2_SIZE}")

    def a(t: str) -> int:
        return addr[base(t)]

    for i, n in enumerate(graph.nodes):
        if n.op in ALIASES:
            continue
        st = L2Step(i, n.name, n.op)
        xs, ys = sh[n.inputs[0]], sh[n.output]
        zx, zy = qp[n.inputs[0]].zero_point, qp[n.output].zero_point
        px, py = a(n.inputs[0]), a(n.output)
        p = n.params
        code: list[str] = []
        pre = f"xdn_s{i}"
        if n.op in ("conv", "linear"):
            m = mac_info[n.name]
            decls += [d.replace("@X@", f"0x{px:08x}u").replace("@Y@", f"0x{py:08x}u")
                      for d in m["decls"]]
            code.append(f"xdn_mac_run(&{m['name']});")
            for k in ("kernel", "measured", "macs", "macs_executed", "pattern", "weight_bytes",
                      "dense_weight_bytes", "tiling", "l1", "note"):
                setattr(st, k, m[k])
            st.transfers = m["transfers"]
        elif n.op in ("add", "relu", "gelu", "layernorm", "softmax"):
            two = n.op == "add"
            rowwise = n.op in ("layernorm", "softmax")
            unit = xs[-1] if rowwise else 1
            units = math.prod(xs) // unit
            pbytes = (8 * xs[-1] if n.op == "layernorm" else 1024 if n.op == "softmax"
                      else 0)
            per = (3 if two else 2) * unit
            chunk = max(1, min(units, (L1_BYTES - pbytes - 4 * _ALIGN) // (2 * per)))
            if chunk < 1 or 2 * per > L1_BYTES - pbytes:
                raise ValueError(f"node {n.name!r} ({n.op}): one row of {unit} codes does not "
                                 f"fit the L1 budget")
            aslot = _al(chunk * unit)
            off = 0
            pl1 = None
            if pbytes:
                pl1 = off
                off += _al(pbytes)
            ab = off
            off += 2 * aslot
            bb = off
            if two:
                off += 2 * aslot
            yb = off
            off += 2 * aslot
            st.l1 = off
            if n.op == "add":
                zb = qp[n.inputs[1]].zero_point
                decls.append(f"static const xdn_add_p {pre}_p = {{{zx}, {zb}, {p['ma']}, "
                             f"{p['mb']}, {p['shift']}, {zy}}};")
                fn = "xdn_add_chunk"
            elif n.op == "relu":
                decls.append(f"static const xdn_rescale_p {pre}_p = {{{zx}, 0, 0, 0}};")
                fn = "xdn_relu_chunk"
            elif n.op == "gelu":
                decls.append(harness._c_bytes(f"{pre}_lut", np.asarray(p["lut"], np.uint8),
                                              const=True))
                decls.append(f"static const xdn_lut_p {pre}_p = {{{pre}_lut}};")
                fn = "xdn_lut_chunk"
            elif n.op == "layernorm":
                d = xs[-1]
                decls.append(f"static const xdn_ln_p {pre}_p = {{{d}, {p['f']}, {p['eps_int']}, "
                             f"{p['shift']}, (const int32_t *)(xdn_l1 + {pl1}), "
                             f"(const int32_t *)(xdn_l1 + {pl1 + 4 * d})}};")
                code.append(f"xdn_load(0x{ln_params[n.name]:08x}u, xdn_l1 + {pl1}, {pbytes});")
                st.transfers.append((pbytes, 1))
                fn = "xdn_ln_chunk"
            else:
                decls.append(f"static const xdn_softmax_p {pre}_p = {{{xs[-1]}, {p['r']}, "
                             f"(const uint32_t *)(xdn_l1 + {pl1})}};")
                code.append(f"xdn_load(0x{etabs[n.name]:08x}u, xdn_l1 + {pl1}, 1024);")
                st.transfers.append((1024, 1))
                fn = "xdn_softmax_chunk"
            pb = a(n.inputs[1]) if two else 0
            decls.append(
                f"static const xdn_stream {pre} = {{{fn}, &{pre}_p, 0x{px:08x}u, 0x{pb:08x}u, "
                f"0x{py:08x}u, {unit}, {unit}, {units}, {chunk}, xdn_l1 + {ab}, xdn_l1 + {bb}, "
                f"xdn_l1 + {yb}, {aslot}, {aslot}, {int(dbuf)}}};")
            code.append(f"xdn_stream_run(&{pre});")
            st.transfers += _stream_transfers(units, chunk, unit, unit, two)
            st.tiling = f"{-(-units // chunk)} chunk(s) of {chunk} {'rows' if rowwise else 'codes'}"
        elif n.op == "matmul":
            t_, k_ = xs[-2:]
            nn = ys[-1]
            batch = math.prod(xs[:-2])
            k4 = -(-k_ // 4) * 4
            rq = p["rq"]
            fixed = _al(k_ * nn) + _al(nn * k4) + _al(4 * nn) + _al(8 * nn)
            per_row = k_ + (k4 if k4 != k_ else 0) + nn
            tb = min(t_, (L1_BYTES - fixed - 4 * _ALIGN) // per_row)
            if tb < 1:
                raise ValueError(f"node {n.name!r} (matmul): its b operand ({k_} x {nn}) "
                                 f"does not fit the L1 budget")
            off = 0
            parts = {}
            for nm_, sz in (("al", tb * k_), ("bl", k_ * nn), ("yl", tb * nn),
                            ("apad", tb * k4 if k4 != k_ else 4), ("w", nn * k4),
                            ("bias", 4 * nn), ("acc", 8 * nn)):
                parts[nm_] = off
                off += _al(sz)
            st.l1 = off
            decls.append(
                f"static const xdn_mm {pre} = {{0x{px:08x}u, 0x{a(n.inputs[1]):08x}u, "
                f"0x{py:08x}u, {batch}, {t_}, {k_}, {nn}, {int(bool(n.attrs['transpose_b']))}, "
                f"{tb}, {zx}, {rq.mult}, {harness.requant_rounding(rq)}, {rq.shift}, "
                f"xdn_l1 + {parts['al']}, xdn_l1 + {parts['bl']}, xdn_l1 + {parts['yl']}, "
                f"xdn_l1 + {parts['apad']}, (int8_t *)(xdn_l1 + {parts['w']}), "
                f"(int32_t *)(xdn_l1 + {parts['bias']}), (int32_t *)(xdn_l1 + {parts['acc']})}};")
            code.append(f"xdn_mm_run(&{pre});")
            for _ in range(batch):
                st.transfers.append((k_ * nn, 1))
                for r0 in range(0, t_, tb):
                    rows = min(tb, t_ - r0)
                    st.transfers += [(rows * k_, 1), (rows * nn, 1)]
            st.kernel = "dense_4x2"
            st.macs = st.macs_executed = math.prod(ys) * k_
            st.tiling = f"{batch} x {-(-t_ // tb)} band(s) of {tb} rows"
        elif n.op == "transpose":
            perm = list(n.attrs["perm"])
            r = len(xs)
            if perm[-1] != r - 1:
                raise ValueError(f"node {n.name!r} (transpose): the L2 flow moves rows of the "
                                 f"last axis; perm {perm} moves the last axis")
            d = [1] * (4 - r) + list(xs)
            pm = list(range(4 - r)) + [q + 4 - r for q in perm]
            e = [d[q] for q in pm]
            istr = [math.prod(d[j + 1:]) for j in range(4)]
            ostr = [math.prod(e[j + 1:]) for j in range(4)]
            jr = max(range(3), key=lambda j: e[j])
            o0, o1 = (j for j in range(3) if j != jr)
            code.append(f"xdn_move(0x{px:08x}u, 0x{py:08x}u, {d[3]}, {e[jr]}, "
                        f"{istr[pm[jr]]}, {ostr[jr]}, {e[o0]}, {istr[pm[o0]]}, {ostr[o0]}, "
                        f"{e[o1]}, {istr[pm[o1]]}, {ostr[o1]});")
            st.transfers = [(d[3], e[jr])] * (e[o0] * e[o1])
            st.tiling = f"{e[o0] * e[o1]} L2->L2 transfers of {e[jr]} rows"
        elif n.op == "slice":
            ax = n.attrs["axis"]
            inner = math.prod(xs[ax + 1:])
            outer = math.prod(xs[:ax])
            ln_ = (n.attrs["stop"] - n.attrs["start"]) * inner
            code.append(f"xdn_move(0x{px + n.attrs['start'] * inner:08x}u, 0x{py:08x}u, {ln_}, "
                        f"{outer}, {xs[ax] * inner}, {ln_}, 1, 0, 0, 1, 0, 0);")
            st.transfers = [(ln_, outer)]
        elif n.op == "concat":
            ax = n.attrs["axis"]
            inner = math.prod(ys[ax + 1:])
            outer = math.prod(ys[:ax])
            off = 0
            for j, (t, resc) in enumerate(zip(n.inputs, p["rescale"], strict=True)):
                ln_ = sh[t][ax] * inner
                if resc is None:
                    code.append(f"xdn_move(0x{a(t):08x}u, 0x{py + off:08x}u, {ln_}, {outer}, "
                                f"{ln_}, {ys[ax] * inner}, 1, 0, 0, 1, 0, 0);")
                    st.transfers.append((ln_, outer))
                elif outer == 1:
                    chunk = max(1, min(ln_, (L1_BYTES - 2 * _ALIGN) // 4))
                    aslot = _al(chunk)
                    decls.append(f"static const xdn_rescale_p {pre}_{j}_p = {{"
                                 f"{qp[t].zero_point}, {resc[0]}, {resc[2]}, {zy}}};")
                    decls.append(
                        f"static const xdn_stream {pre}_{j} = {{xdn_rescale_chunk, "
                        f"&{pre}_{j}_p, 0x{a(t):08x}u, 0u, 0x{py + off:08x}u, 1, 1, {ln_}, "
                        f"{chunk}, xdn_l1, xdn_l1, xdn_l1 + {2 * aslot}, {aslot}, {aslot}, "
                        f"{int(dbuf)}}};")
                    code.append(f"xdn_stream_run(&{pre}_{j});")
                    st.transfers += _stream_transfers(ln_, chunk, 1, 1, False)
                    st.l1 = max(st.l1, 4 * aslot)
                else:
                    raise ValueError(f"node {n.name!r} (concat): rescaling inputs of a concat "
                                     f"along axis {ax} > 0 is not supported by the L2 flow")
                off += ln_
        elif n.op in ("maxpool", "avgpool", "gap"):
            nin, nout = math.prod(xs), math.prod(ys)
            if _al(nin) + _al(nout) > L1_BYTES:
                raise ValueError(f"node {n.name!r} ({n.op}): input and output ({nin} + {nout} "
                                 f"bytes) must fit the L1 budget of {L1_BYTES} bytes")
            yl = _al(nin)
            code.append(f"xdn_load(0x{px:08x}u, xdn_l1, {nin});")
            a_ = n.attrs
            if n.op == "maxpool":
                code.append(f"xdn_maxpool(xdn_l1, xdn_l1 + {yl}, {xs[0]}, {xs[1]}, {xs[2]}, "
                            f"{a_['k']}, {a_['stride']}, {a_['pad']}, {ys[0]}, {ys[1]});")
            else:
                rq = p["rq"]
                kh, kw, stride = (a_["k"], a_["k"], a_["stride"]) if n.op == "avgpool" \
                    else (xs[0], xs[1], 1)
                code.append(f"xdn_avgpool(xdn_l1, xdn_l1 + {yl}, {xs[1]}, {xs[2]}, {kh}, {kw}, "
                            f"{stride}, {ys[0]}, {ys[1]}, {zx}, {rq.mult}, "
                            f"{harness.requant_rounding(rq)}, {rq.shift});")
            code.append(f"xdn_store(xdn_l1 + {yl}, 0x{py:08x}u, {nout});")
            st.transfers = [(nin, 1), (nout, 1)]
            st.l1 = yl + _al(nout)
        else:
            raise ValueError(f"node {n.name!r}: op {n.op!r} has no L2-flow lowering")
        body.append(f"    hal_mark(XDN_MARK({i})); /* {n.name} ({n.op}"
                    f"{', ' + st.kernel if st.kernel else ''}) */")
        body += [f"    {c}" for c in code]
        body.append(f"    hal_mark(XDN_MARK({i}) + 1u);")
        steps.append(st)

    image = bytes(l2.image)
    src = [f"/* GENERATED by xdecimate.sw.deploy.l2flow: network {graph.name}, policy {policy}, "
           f"{'double' if dbuf else 'single'} buffering; L2 image {len(image)} bytes */",
           "#include <stdint.h>", '#include "xdn_tile.h"', "",
           f"__attribute__((aligned(64))) uint8_t xdn_l1[{L1_BYTES}];", *decls, "",
           "int main(void) {", *body, "    return 0;", "}", ""]
    tensors = {t: a(t) for t in env}
    return L2Program(graph=graph, policy=policy, dbuf=dbuf, source="\n".join(src),
                     l2_image=image, l2_used=used, steps=steps, tensors=tensors, golden=env)


def _lower_mac_l2(g: Graph, n: Node, x: np.ndarray, policy: str,
                  measure_fn: Callable[[LayerCase, str], int],
                  log: Callable[[str], None] | None, l2: _L2, i: int, dbuf: bool) -> dict:
    """Tiling, kernel, weight tiles (into ``l2``) and C descriptors of one conv / linear."""
    assert g.qparams is not None
    p = n.params
    zx = g.qparams[n.inputs[0]].zero_point
    conv = n.op == "conv"
    note = ""
    if conv:
        w = p["w"]
        cout, kh, kw, c = w.shape
        h, wd = x.shape[:2]
        pad, stride = n.attrs["pad"], n.attrs["stride"]
        c4 = -(-c // 4) * 4
        if c4 != c:
            wp_ = np.zeros((cout, kh, kw, c4), np.int8)
            wp_[..., :c] = w
            w = wp_
            xp = np.full((h, wd, c4), zx, np.uint8)
            xp[..., :c] = x
            x = xp
            note = f"channels {c} -> {c4}"
        ho, wo = g.shapes[n.output][:2]
        wm = w.reshape(cout, -1)
    else:
        k = x.shape[-1]
        if k % 4:
            raise ValueError(f"node {n.name!r} (linear): input length K={k} must be a multiple "
                             f"of 4 (the FC kernels read word-aligned activation rows)")
        wm = p["w"]
        cout = wm.shape[0]
        c4, kh, kw, pad, stride = k, 1, 1, 0, 1
        h = math.prod(x.shape[:-1])
        wd, ho, wo = 1, h, 1
        x = x.reshape(h, k)
    pattern = n.pattern
    sparse = pattern is not None and is_nm(wm, pattern)
    if pattern is not None and not sparse:
        note += ("; " if note else "") + f"zero channels break the {pattern} blocks: dense kernels"
    kk = wm.shape[1]
    k4 = -(-kk // 4) * 4
    bias = np.asarray(p["bias"], np.int32)
    case_pattern = pattern if sparse else _DENSE_CASE_PATTERN
    xpad = x
    if conv and pad:
        xpad = np.full((h + 2 * pad, wd + 2 * pad, c4), zx, np.uint8)
        xpad[pad:pad + h, pad:pad + wd] = x
    # the kernel's choice: measured on a probe of the layer -- its first MEASURE_PIXELS output
    # pixels (tokens) and first 16 channels, real weights and inputs (cycles grow with both;
    # they do not depend on the values) -- then the weights' format and the tiles follow it
    pc = min(cout, 16)
    mrows = max(1, min(ho, -(-MEASURE_PIXELS // wo)))
    if conv:
        mrin = (mrows - 1) * stride + kh
        mcase = LayerCase(ConvShape(mrin, wd + 2 * pad, c4, pc, kh, kw, stride, 0,
                                    name=f"{n.name}.probe"), case_pattern, xpad[:mrin], wm[:pc],
                          bias[:pc], p["rq"])
    else:
        mcase = LayerCase(FCShape(kk, pc, mrows, name=f"{n.name}.probe"), case_pattern,
                          x[:mrows], wm[:pc], bias[:pc], p["rq"])
    kernel, measured = pol.choose(mcase, sparse, policy, measure_fn=measure_fn, log=log)
    if kernel in _SKIP:  # "fastest" on weights with zero units: not a tiled format (yet)
        kernel = min((k for k in measured if k not in _SKIP), key=lambda k: measured[k])
    if kernel in harness.SPARSE_KERNELS:
        assert pattern is not None
        img = nm_format.compress(wm, pattern)
        wrow, kp = img.row_stride, img.k_pad
        rows_bytes = np.frombuffer(img.data, np.uint8).reshape(cout, wrow)
    else:
        wrow = kp = k4
        wd_ = np.zeros((cout, k4), np.int8)
        wd_[:, :kk] = wm
        rows_bytes = wd_.view(np.uint8)
    slack = kp - kk if not conv else 0
    bh, nb, bc, nct, slots = _mac_tiling(conv, h, wd, c4, ho, wo, cout, kh, stride, pad, wrow,
                                         kp, slack, n.name, (kernel,))
    # weight tiles: [bias (bc int32)][bc rows], tile t at t * wtile
    wtile = _al(bc * (wrow + 4), 4)
    blob = bytearray()
    for t in range(nct):
        r0, r1 = t * bc, min(cout, (t + 1) * bc)
        part = bias[r0:r1].tobytes() + rows_bytes[r0:r1].tobytes()
        blob += part + bytes(wtile - len(part)) if t + 1 < nct else part
    w_addr = l2.put(bytes(blob))
    # the kernel's descriptor: the first band of the first tile
    rows_in = (bh - 1) * stride + kh if conv else bh
    if conv:
        shape: ConvShape | FCShape = ConvShape(rows_in, wd + 2 * pad, c4, bc, kh, kw, stride, 0,
                                               name=f"{n.name}.tile")
        xcase = xpad[:rows_in]
    else:
        shape = FCShape(kk, bc, bh, name=f"{n.name}.tile")
        xcase = x[:bh]
    case = LayerCase(shape, case_pattern, xcase, wm[:bc], bias[:bc], p["rq"])
    pre = f"xdn_m{i}"
    desc = harness.c_descriptor(case, kernel, name=f"{pre}_L", wgt="0", bias="0",
                                ilv="(uint8_t *)(xdn_l1 + XDN_ILV_OFF_" + str(i) + ")")
    lay = harness.layer_layout(case, kernel)
    off = 0
    parts = {}
    for nm_, sz, cnt in (("x", slots["x"], 1 if nb == 1 else 2), ("w", slots["w"],
                         1 if nct == 1 else 2), ("y", slots["y"], 2),
                         ("acc", _al(lay.acc_bytes), 1), ("col", _al(max(4, lay.col_bytes)), 1),
                         ("ilv", _al(max(4, lay.ilv_bytes)), 1)):
        parts[nm_] = off
        off += sz * cnt
    assert off <= L1_BYTES, (n.name, off)
    desc = desc.replace(f"XDN_ILV_OFF_{i}", str(parts["ilv"]))
    desc = "static const " + desc.replace(".wgt = 0", ".wgt = (const void *)0")
    kern = harness.KERNELS[kernel]
    decl = (f"static const xdn_mac {pre} = {{&{pre}_L, &{kern}, {int(conv)}, "
            f"@X@, @Y@, 0x{w_addr:08x}u, {h}, {wd}, {c4}, {ho}, {wo}, {cout}, {kh}, {stride}, "
            f"{pad}, {zx}, {bh}, {nb}, {bc}, {nct}, {wrow}, {wtile}, {slots['x']}, "
            f"{slots['w']}, {slots['y']}, xdn_l1 + {parts['x']}, xdn_l1 + {parts['w']}, "
            f"xdn_l1 + {parts['y']}, (int32_t *)(xdn_l1 + {parts['acc']}), "
            f"xdn_l1 + {parts['col']}, {int(dbuf)}}};")
    w_real = p["w"]
    ys = g.shapes[n.output]
    macs = math.prod(ys) * math.prod(w_real.shape[1:])
    transfers = _mac_transfers(conv, h, wd, c4, ho, wo, cout, kh, stride, pad, wrow, bh, nb, bc,
                               nct)
    return {
        "name": pre, "decls": [desc, decl], "kernel": kernel, "measured": measured,
        "macs": macs,
        "macs_executed": macs * pattern.n // pattern.m if sparse and pattern else macs,
        "pattern": str(pattern) if pattern is not None else None,
        "weight_bytes": cout * wrow, "dense_weight_bytes": cout * k4,
        "tiling": f"{nb} band(s) of {bh} {'rows' if conv else 'tokens'} x {nct} tile(s) of "
                  f"{bc} channels", "l1": off, "note": note, "transfers": transfers,
    }


def build_l2(prog: L2Program, *, opt: str = "-O2") -> Path:
    """Build ``prog`` (kernels, ``c/xdn_ops.c``, ``c/xdn_tile.c``; the L2 image through
    ``.incbin``); the (cached) ELF path.

    Raises
    ------
    ToolchainError
        The build fails (the message holds the compiler's output).
    """
    from ..kernels.toolchain import _build_root, build_elf

    digest = hashlib.sha256(prog.l2_image).hexdigest()[:24]
    blob_dir = _build_root() / "l2-images"
    blob_dir.mkdir(parents=True, exist_ok=True)
    blob = blob_dir / f"{digest}.bin"
    if not blob.exists():
        tmp = blob.with_suffix(f".tmp{id(prog)}")
        tmp.write_bytes(prog.l2_image)
        tmp.replace(blob)
    incbin = (f"/* the L2 image ({len(prog.l2_image)} bytes, sha256 {digest}) */\n"
              f'    .section .l2, "aw"\n    .balign 64\n    .globl xdn_l2_image\n'
              f'xdn_l2_image:\n    .incbin "{blob}"\n')
    sources: list[Path | tuple[str, str]] = [harness.KERNEL_DIR / nm_
                                             for nm_ in harness.KERNEL_SOURCES]
    sources += [C_DIR / "xdn_ops.c", C_DIR / "xdn_tile.c", ("xdn_main.c", prog.source),
                ("xdn_l2.S", incbin)]
    return build_elf(sources, opt=opt, flags=[f"-I{harness.KERNEL_DIR}", f"-I{C_DIR}"],
                     defines=[f"XDN_HEADERS_KEY={_headers_key()}"], name="xdn_l2")
