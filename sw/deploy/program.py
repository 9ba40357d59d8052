"""One C program that runs a whole quantized network on the core.

What it is for: :func:`generate` turns a quantized :class:`~xdecimate.sw.net.ir.Graph`, an input
and a kernel policy into the source of one bare-metal program (``docs/net.md``, "Deployment"):

* the input (HWC codes), the constants (class token, position embedding), every conv / linear
  layer's weights -- the dense int8 matrix or the N:M image of
  :func:`xdecimate.sw.model.nm_format.compress`, as the layer's kernel reads it -- biases,
  layer-norm parameters and GELU tables as C arrays in DMEM;
* the activations in one arena ``xdn_arena`` placed by :func:`.plan.plan_buffers` (buffers
  reused once dead; ``reuse=False`` keeps them all for the per-layer check), plus the kernels'
  shared scratch (``xdn_acc``, ``xdn_col``, ``xdn_ilv``, each the largest any layer needs);
* ``main``: one step per node between ``hal_mark(XDN_MARK(i))`` and ``hal_mark(XDN_MARK(i) + 1)``
  (``i`` the node's position; reshape and scale move no data and have no step).  A conv /
  linear step is one ``xdk_conv`` / ``xdk_fc`` call with the layer descriptor made by
  :func:`xdecimate.sw.kernels.harness.c_descriptor` (the single-layer harness's code); the
  other ops call ``c/xdn_ops.c``.

Lowering rules: a conv whose input zero point is not 0 and that pads, or whose input channels
are not a multiple of 4, first copies its input into a padded buffer (border code = the input
zero point, extra channels with zero weights) and runs with pad 0 -- if the zero channels break
the N:M blocks of its weights (the 3-channel stem), the layer runs a dense kernel (its step says
so).  An output zero point goes into the requantization's rounding constant
(:func:`~xdecimate.sw.kernels.harness.requant_rounding`).  Activation x activation matmuls run
the dense 4x2 kernel on an int8 operand built at run time.  Everything must fit the 128 kB DMEM:
:func:`generate` refuses a network that does not with a ``ValueError`` naming the sizes.

May import: numpy, the standard library, :mod:`xdecimate.sw.net`, :mod:`xdecimate.sw.kernels`,
:mod:`xdecimate.sw.iss` and :mod:`xdecimate.sw.model`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..iss import memmap
from ..kernels import harness
from ..kernels.harness import ConvShape, FCShape, LayerCase
from ..model.nm_format import Pattern, is_nm
from ..net import golden, intops
from ..net.ir import Graph, Node
from . import policy as pol
from .plan import BufferPlan, Request, plan_buffers

__all__ = ["ALIASES", "C_DIR", "MARK_BASE", "SUPPORTED_OPS", "Program", "Step", "build",
           "generate", "layer_kernel"]

#: The C sources of the non-MAC ops (``xdn.h``, ``xdn_ops.c``).
C_DIR = Path(__file__).resolve().parent / "c"
#: ``XDN_MARK_BASE`` of ``xdn.h``: step ``i`` runs between marks ``MARK_BASE + 2i`` and ``+ 1``.
MARK_BASE = 0x1000
#: Ops that move no data: their output is their input's buffer.
ALIASES = ("reshape", "scale")
#: The ops a deployed graph may hold.
SUPPORTED_OPS = ("conv", "linear", "matmul", "add", "relu", "maxpool", "avgpool", "gap",
                 "reshape", "transpose", "slice", "concat", "scale", "layernorm", "softmax",
                 "gelu")
#: Bytes counted per layer descriptor in the DMEM estimate (an ``xdk_layer`` is 136 bytes).
DESCRIPTOR_BYTES = 136
#: The pattern a dense layer's :class:`LayerCase` carries (dense kernels do not read it).
_DENSE_CASE_PATTERN = Pattern(1, 4)


@dataclass
class Step:
    """One node of the program and what it costs.

    ``weight_bytes``: its weights as this program stores them (dense rows padded to 4 bytes, or
    the N:M image with its indices); ``dense_weight_bytes``: the same weights stored dense;
    ``param_bytes``: biases, layer-norm parameters, GELU tables.  ``measured``: cycles of each
    candidate kernel (policy ``"fastest"``).
    """

    index: int
    node: str
    op: str
    kernel: str | None = None
    measured: dict[str, int] = field(default_factory=dict)
    macs: int = 0
    macs_executed: int = 0
    pattern: str | None = None
    weight_bytes: int = 0
    dense_weight_bytes: int = 0
    param_bytes: int = 0
    note: str = ""

    @property
    def mark(self) -> int:
        return MARK_BASE + 2 * self.index


@dataclass
class Program:
    """A generated network program: its source, steps, buffer plan and DMEM budget.

    ``tensors`` maps every tensor to ``(symbol, byte offset)`` where the program keeps it
    (aliases share their input's place); ``dmem`` the byte counts of the estimate.
    """

    graph: Graph
    policy: str
    reuse: bool
    x: np.ndarray
    source: str
    steps: list[Step]
    plan: BufferPlan
    tensors: dict[str, tuple[str, int]]
    dmem: dict[str, int]
    golden: dict[str, np.ndarray]

    @property
    def weight_bytes(self) -> int:
        return sum(s.weight_bytes for s in self.steps)

    @property
    def dense_weight_bytes(self) -> int:
        return sum(s.dense_weight_bytes for s in self.steps)


def _c_u8(name: str, data: np.ndarray, size: int | None = None) -> str:
    b = np.zeros(size or data.size, np.uint8)
    b[:data.size] = np.asarray(data).reshape(-1).view(np.uint8)
    body = ",\n".join(", ".join(f"0x{v:02x}" for v in b[i:i + 24]) for i in range(0, b.size, 24))
    return f"__attribute__((aligned(4))) uint8_t {name}[{b.size}] = {{\n{body}\n}};\n"


def _c_i32(name: str, data: np.ndarray) -> str:
    vals = [int(v) for v in np.asarray(data).reshape(-1)]
    body = ",\n".join(", ".join(str(v) for v in vals[i:i + 12]) for i in range(0, len(vals), 12))
    return f"const int32_t {name}[{len(vals)}] = {{\n{body}\n}};\n"


@dataclass
class _Mac:
    case: LayerCase
    sparse: bool
    kernel: str
    measured: dict[str, int]
    padded: tuple[int, int, int, int] | None  # (h, w, c, c4) of an explicit pad, else None
    note: str


def _lower_mac(g: Graph, n: Node, x: np.ndarray, policy: str,
               measure_fn: Callable[[LayerCase, str], int],
               log: Callable[[str], None] | None) -> _Mac:
    assert g.qparams is not None
    p = n.params
    zx = g.qparams[n.inputs[0]].zero_point
    note = ""
    padded = None
    if n.op == "conv":
        w = p["w"]
        cout, kh, kw, c = w.shape
        h, wd = x.shape[:2]
        pad, stride = n.attrs["pad"], n.attrs["stride"]
        c4 = -(-c // 4) * 4
        if (pad and zx) or c4 != c:
            xp = np.full((h + 2 * pad, wd + 2 * pad, c4), zx, np.uint8)
            xp[pad:pad + h, pad:pad + wd, :c] = x
            wp = np.zeros((cout, kh, kw, c4), np.int8)
            wp[..., :c] = w
            shape: ConvShape | FCShape = ConvShape(h + 2 * pad, wd + 2 * pad, c4, cout, kh, kw,
                                                   stride, 0, name=n.name)
            padded = (h, wd, c, c4)
            x, w = xp, wp
            note = (f"input copied with pad {pad} (code {zx})" if pad and zx else "") + \
                (f"{'; ' if pad and zx else ''}channels {c} -> {c4}" if c4 != c else "")
        else:
            shape = ConvShape(h, wd, c, cout, kh, kw, stride, pad, name=n.name)
        wm = w.reshape(cout, -1)
    else:
        k = x.shape[-1]
        if k % 4:
            raise ValueError(f"node {n.name!r} (linear): input length K={k} must be a multiple "
                             f"of 4 (the FC kernels read word-aligned activation rows)")
        wm = p["w"]
        shape = FCShape(k, wm.shape[0], math.prod(x.shape[:-1]), name=n.name)
        x = x.reshape(-1, k)
    pattern = n.pattern
    sparse = pattern is not None and is_nm(wm, pattern)
    if pattern is not None and not sparse:
        note += ("; " if note else "") + f"zero channels break the {pattern} blocks: dense kernels"
    case = LayerCase(shape, pattern if sparse else _DENSE_CASE_PATTERN, x, wm, p["bias"], p["rq"])
    kernel, measured = pol.choose(case, sparse, policy, measure_fn=measure_fn, log=log)
    return _Mac(case, sparse, kernel, measured, padded, note)


def layer_kernel(graph: Graph, name: str, x: np.ndarray, policy: str = "fastest", *,
                 measure_fn: Callable[[LayerCase, str], int] = pol.measure
                 ) -> tuple[str, dict[str, int]]:
    """The kernel ``policy`` gives conv / linear node ``name`` of quantized ``graph`` on input
    codes ``x`` (that node's input tensor), and the cycles measured per candidate: what
    :func:`generate` decides for that layer, without the rest of the program.

    Raises
    ------
    KeyError
        ``graph`` has no node ``name``.
    ValueError
        The node is not a conv / linear layer, or what :func:`generate` raises for it.
    """
    pol.check_policy(policy)
    n = graph.node(name)
    if n.op not in ("conv", "linear"):
        raise ValueError(f"node {name!r} is a {n.op}, not a conv or linear layer")
    m = _lower_mac(graph, n, x, policy, measure_fn, None)
    return m.kernel, dict(m.measured)


def generate(graph: Graph, x: np.ndarray, *, policy: str = "fastest", reuse: bool = True,
             keep: Collection[str] = (), measure_fn: Callable[[LayerCase, str], int] = pol.measure,
             log: Callable[[str], None] | None = None) -> Program:
    """The program running ``graph`` on input codes ``x`` with kernels chosen by ``policy``.

    Parameters
    ----------
    graph : a quantized graph (every op in :data:`SUPPORTED_OPS`).
    x : uint8 input codes of the graph's input shape.
    policy : ``"fastest"`` or a kernel name (:mod:`.policy`).
    reuse : reuse activation buffers (``False``: keep every tensor, for the per-layer check).
    keep : tensors whose buffers live to the end of the run (read back after it).
    measure_fn : ``(case, kernel) -> cycles`` for policy ``"fastest"`` (default: the ISS).
    log : progress messages (one per measurement).

    Raises
    ------
    TypeError
        ``graph`` is a float graph, ``x`` not uint8, ``policy`` not a str.
    ValueError
        Unknown policy, unsupported op, a linear layer whose K is not a multiple of 4, or a
        network that does not fit the DMEM (the message names every part of the budget).
    """
    pol.check_policy(policy)
    if not isinstance(graph, Graph):
        raise TypeError(f"graph must be an ir.Graph, not {type(graph).__name__}")
    if not graph.quantized:
        raise TypeError(f"graph {graph.name!r} is a float graph: quantize it first")
    if not graph.shapes:
        graph.validate()
    for n in graph.nodes:
        if n.op not in SUPPORTED_OPS:
            raise ValueError(f"node {n.name!r}: op {n.op!r} cannot be deployed yet "
                             f"(supported: {list(SUPPORTED_OPS)})")
    env = golden.run(graph, x)
    qp, sh = graph.qparams, graph.shapes
    assert qp is not None
    nodes = graph.nodes

    root: dict[str, str] = {}
    for n in nodes:
        if n.op in ALIASES:
            root[n.output] = root.get(n.inputs[0], n.inputs[0])

    def base(t: str) -> str:
        return root.get(t, t)

    macs = {n.name: _lower_mac(graph, n, env[n.inputs[0]], policy, measure_fn, log)
            for n in nodes if n.op in ("conv", "linear")}

    # slack after an FC input: the N:M kernels read the last row up to k_pad
    slack: dict[str, int] = {}
    for n in nodes:
        m = macs.get(n.name)
        if m is not None and isinstance(m.case.shape, FCShape):
            kp = harness.layer_layout(m.case, m.kernel).x_bytes - m.case.x.size
            slack[base(n.inputs[0])] = max(slack.get(base(n.inputs[0]), 0), kp)

    # buffer requests: outputs live from their step to their last reader, temporaries one step
    end = len(nodes)
    last: dict[str, int] = {}
    for i, n in enumerate(nodes):
        for t in n.inputs:
            last[base(t)] = max(last.get(base(t), i), i)
    last[base(graph.output)] = end
    for t in keep:
        last[base(t)] = end
    reqs: list[Request] = []
    temps: dict[str, dict[str, str]] = {}
    for i, n in enumerate(nodes):
        if n.op in ALIASES:
            continue
        size = math.prod(sh[n.output]) + slack.get(n.output, 0)
        reqs.append(Request(n.output, size, i, last.get(n.output, i)))
        tmp: dict[str, int] = {}
        m = macs.get(n.name)
        if m is not None and m.padded is not None:
            tmp["xpad"] = m.case.x.size
        if n.op == "matmul":
            t_, k_ = sh[n.inputs[0]][-2:]
            nn = sh[n.output][-1]
            k4 = -(-k_ // 4) * 4
            tmp.update(w=nn * k4, bias=4 * nn)
            if k4 != k_:
                tmp["apad"] = t_ * k4
        temps[n.name] = {}
        for tn, tsize in tmp.items():
            name = f"{n.name}:{tn}"
            reqs.append(Request(name, tsize, i, i))
            temps[n.name][tn] = name
    plan = plan_buffers(reqs, reuse=reuse)

    consts = {c: j for j, c in enumerate(graph.constants)}

    def ptr(t: str) -> str:
        b = base(t)
        if b == graph.input:
            return "xdn_input"
        if b in consts:
            return f"xdn_const{consts[b]}"
        return f"(xdn_arena + {plan.buffers[b].offset})"

    def tmp_ptr(node: str, tn: str) -> str:
        return f"(xdn_arena + {plan.buffers[temps[node][tn]].offset})"

    tensors: dict[str, tuple[str, int]] = {}
    for t in [graph.input, *graph.constants, *(n.output for n in nodes)]:
        b = base(t)
        if b == graph.input:
            tensors[t] = ("xdn_input", 0)
        elif b in consts:
            tensors[t] = (f"xdn_const{consts[b]}", 0)
        else:
            tensors[t] = ("xdn_arena", plan.buffers[b].offset)

    data: list[str] = [_c_u8("xdn_input", x, x.size + slack.get(graph.input, 0))]
    data += [_c_u8(f"xdn_const{j}", graph.constants[c], graph.constants[c].size
                   + slack.get(c, 0)) for c, j in consts.items()]
    body: list[str] = []
    steps: list[Step] = []
    acc = col = ilv = 4
    param_total = 0
    for i, n in enumerate(nodes):
        if n.op in ALIASES:
            continue
        st = Step(i, n.name, n.op)
        a = n.attrs
        p = n.params
        xs = sh[n.inputs[0]]
        ys = sh[n.output]
        zx = qp[n.inputs[0]].zero_point
        zy = qp[n.output].zero_point
        px, py = ptr(n.inputs[0]), ptr(n.output)
        code: list[str] = []
        m = macs.get(n.name)
        if m is not None:
            case, kernel = m.case, m.kernel
            lay = harness.layer_layout(case, kernel)
            acc, col = max(acc, lay.acc_bytes), max(col, lay.col_bytes)
            ilv = max(ilv, lay.ilv_bytes)
            pre = f"xdn_l{i}_"
            data += harness.c_weights(case, kernel, prefix=pre)
            data.append(harness.c_descriptor(case, kernel, name=f"xdn_L{i}", wgt=f"{pre}w",
                                             bias=f"{pre}bias", ilv="xdn_ilv"))
            xin = px
            if m.padded is not None:
                h, w, c, c4 = m.padded
                xin = tmp_ptr(n.name, "xpad")
                code.append(f"xdn_pad({px}, {xin}, {h}, {w}, {c}, {c4}, {n.attrs.get('pad', 0)}, "
                            f"{zx});")
            code.append(harness.c_call(case, kernel, desc=f"xdn_L{i}", x=xin, y=py,
                                       acc="xdn_acc", col="xdn_col"))
            s = case.shape
            st.kernel, st.measured, st.note = kernel, m.measured, m.note
            w_real = n.params["w"]
            st.macs = math.prod(ys) * math.prod(w_real.shape[1:])
            pat = n.pattern
            st.pattern = str(pat) if pat is not None else None
            st.macs_executed = st.macs * pat.n // pat.m if pat is not None and m.sparse \
                else st.macs
            st.weight_bytes = lay.w_bytes
            st.dense_weight_bytes = s.cout * (-(-s.k // 4) * 4)
            st.param_bytes = 4 * s.cout + DESCRIPTOR_BYTES
        elif n.op == "matmul":
            t_, k_ = xs[-2:]
            nn = ys[-1]
            batch = math.prod(xs[:-2])
            rq = p["rq"]
            apad = tmp_ptr(n.name, "apad") if "apad" in temps[n.name] else "(uint8_t *)0"
            code.append(
                f"xdn_matmul({px}, {ptr(n.inputs[1])}, {py}, {batch}, {t_}, {k_}, {nn}, "
                f"{int(bool(a['transpose_b']))}, {zx}, {rq.mult}, "
                f"{harness.requant_rounding(rq)}, {rq.shift}, "
                f"(int8_t *){tmp_ptr(n.name, 'w')}, (int32_t *){tmp_ptr(n.name, 'bias')}, "
                f"{apad}, xdn_acc);")
            acc = max(acc, 8 * nn)
            st.kernel = "dense_4x2"
            st.macs = st.macs_executed = math.prod(ys) * k_
        elif n.op == "add":
            zb = qp[n.inputs[1]].zero_point
            code.append(f"xdn_add({px}, {ptr(n.inputs[1])}, {py}, {math.prod(ys)}, {zx}, {zb}, "
                        f"{p['ma']}, {p['mb']}, {p['shift']}, {zy});")
        elif n.op == "relu":
            code.append(f"xdn_relu({px}, {py}, {math.prod(ys)}, {zx});")
        elif n.op == "maxpool":
            code.append(f"xdn_maxpool({px}, {py}, {xs[0]}, {xs[1]}, {xs[2]}, {a['k']}, "
                        f"{a['stride']}, {a['pad']}, {ys[0]}, {ys[1]});")
        elif n.op in ("avgpool", "gap"):
            rq = p["rq"]
            kh, kw, stride = (a["k"], a["k"], a["stride"]) if n.op == "avgpool" \
                else (xs[0], xs[1], 1)
            code.append(f"xdn_avgpool({px}, {py}, {xs[1]}, {xs[2]}, {kh}, {kw}, {stride}, "
                        f"{ys[0]}, {ys[1]}, {zx}, {rq.mult}, {harness.requant_rounding(rq)}, "
                        f"{rq.shift});")
        elif n.op == "transpose":
            r = len(xs)
            if r > 4:
                raise ValueError(f"node {n.name!r} (transpose): rank {r} > 4 is not supported")
            dims = [1] * (4 - r) + list(xs)
            perm = list(range(4 - r)) + [q + 4 - r for q in a["perm"]]
            code.append(f"{{ static const uint32_t d[4] = {{{', '.join(map(str, dims))}}}, "
                        f"p[4] = {{{', '.join(map(str, perm))}}}; "
                        f"xdn_transpose({px}, {py}, d, p); }}")
        elif n.op == "slice":
            ax = a["axis"]
            inner = math.prod(xs[ax + 1:])
            code.append(f"xdn_slice({px}, {py}, {math.prod(xs[:ax])}, {xs[ax] * inner}, "
                        f"{a['start'] * inner}, {(a['stop'] - a['start']) * inner});")
        elif n.op == "concat":
            ax = a["axis"]
            inner = math.prod(ys[ax + 1:])
            outer = math.prod(ys[:ax])
            off = 0
            for t, resc in zip(n.inputs, p["rescale"], strict=True):
                ln = sh[t][ax] * inner
                ma, shift = (0, 0) if resc is None else (resc[0], resc[2])
                code.append(f"xdn_place({ptr(t)}, {py}, {outer}, {ln}, {ys[ax] * inner}, "
                            f"{off}, {qp[t].zero_point}, {ma}, {shift}, {zy});")
                off += ln
        elif n.op == "layernorm":
            pre = f"xdn_l{i}_"
            data += [_c_i32(f"{pre}g", p["g"]), _c_i32(f"{pre}b", p["b"])]
            d = xs[-1]
            code.append(f"xdn_layernorm({px}, {py}, {math.prod(xs[:-1])}, {d}, {p['f']}, "
                        f"{p['eps_int']}, {pre}g, {pre}b, {p['shift']});")
            st.param_bytes = 8 * d
        elif n.op == "softmax":
            tab = intops.iexp_table(intops.SoftmaxParams(p["k"], p["q_ln2"], p["q_b"],
                                                         p["q_c"], p["r"]))
            data.append(_c_i32(f"xdn_l{i}_etab", tab).replace("int32_t", "uint32_t"))
            code.append(f"xdn_softmax({px}, {py}, {math.prod(xs[:-1])}, {xs[-1]}, "
                        f"xdn_l{i}_etab, {p['r']});")
            st.param_bytes = 1024
        elif n.op == "gelu":
            data.append("const " + _c_u8(f"xdn_l{i}_lut", p["lut"]))
            code.append(f"xdn_lut({px}, {py}, {math.prod(xs)}, xdn_l{i}_lut);")
            st.param_bytes = 256
        else:  # pragma: no cover - SUPPORTED_OPS is checked above
            raise ValueError(f"node {n.name!r}: op {n.op!r} has no lowering")
        param_total += st.param_bytes
        body.append(f"    hal_mark(XDN_MARK({i})); /* {n.name} ({n.op}"
                    f"{', ' + st.kernel if st.kernel else ''}) */")
        body += [f"    {c}" for c in code]
        body.append(f"    hal_mark(XDN_MARK({i}) + 1u);")
        steps.append(st)

    dmem = {
        "input": x.size + slack.get(graph.input, 0),
        "constants": sum(c.size for c in graph.constants.values()),
        "weights": sum(s.weight_bytes for s in steps),
        "params": param_total,
        "activations": plan.peak,
        "scratch": acc + col + ilv,
        "stack": harness.STACK_RESERVE,
    }
    dmem["total"] = sum(dmem.values())
    if dmem["total"] > memmap.DMEM_SIZE:
        parts = ", ".join(f"{k} {v}" for k, v in dmem.items() if k != "total")
        raise ValueError(
            f"network {graph.name!r} with policy {policy!r} needs about {dmem['total']} bytes of "
            f"DMEM ({parts}), more than memmap.DMEM_SIZE = {memmap.DMEM_SIZE}: it needs the "
            f"L2/DMA flow (weights streamed per layer), which is not built yet")
    src = [f"/* GENERATED by xdecimate.sw.deploy.program: network {graph.name}, policy "
           f"{policy}, buffers {'reused' if reuse else 'kept'} */",
           "#include <stdint.h>", '#include "xdn.h"', "",
           "extern uint8_t xdn_ilv[]; /* the SW kernels' scratch (defined below, sized last) */",
           *data,
           f"__attribute__((aligned(64))) uint8_t xdn_arena[{max(4, plan.peak)}];",
           f"int32_t xdn_acc[{acc // 4}];",
           f"__attribute__((aligned(4))) uint8_t xdn_col[{col}];",
           f"__attribute__((aligned(64))) uint8_t xdn_ilv[{max(4, ilv - 64)}];", "",
           "int main(void) {", *body, "    return 0;", "}", ""]
    return Program(graph=graph, policy=policy, reuse=reuse, x=x, source="\n".join(src),
                   steps=steps, plan=plan, tensors=tensors, dmem=dmem, golden=env)


def _headers_key() -> str:
    h = hashlib.sha256()
    for d in (harness.KERNEL_DIR, C_DIR):
        for p in sorted(d.glob("*.h")):
            h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def build(prog: Program, *, opt: str = "-O2") -> Path:
    """Build ``prog`` with the kernel library and ``c/xdn_ops.c``; the (cached) ELF path.

    Raises
    ------
    ToolchainError
        The build fails (the message holds the compiler's output).
    """
    from ..kernels.toolchain import build_elf

    sources: list[Path | tuple[str, str]] = [harness.KERNEL_DIR / n
                                             for n in harness.KERNEL_SOURCES]
    sources += [C_DIR / "xdn_ops.c", ("xdn_main.c", prog.source)]
    return build_elf(sources, opt=opt, flags=[f"-I{harness.KERNEL_DIR}", f"-I{C_DIR}"],
                     defines=[f"XDN_HEADERS_KEY={_headers_key()}"], name="xdn")
