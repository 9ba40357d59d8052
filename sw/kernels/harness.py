"""Harness for the C kernel library (``sw/kernels/c/kernels/``): build, run, check, measure.

For one layer shape, one pattern and one kernel this module

1. makes the layer's data from a seed: uint8 activations, int8 weights magnitude-pruned to the
   pattern (:func:`xdecimate.sw.model.prune.prune_nm`), int32 bias, and a requantization chosen from
   the real accumulator range (:func:`xdecimate.sw.model.quant.choose_requant`);
2. writes a C file holding that data as arrays (weights as the dense matrix for the dense
   kernels, as the N:M image of :func:`xdecimate.sw.model.nm_format.compress` for the sparse ones),
   a layer descriptor and a ``main`` calling the kernel, and builds it with
   :func:`xdecimate.sw.kernels.toolchain.build_elf` (cached by content under ``build/toolchain/``);
3. runs the ELF on a *target* -- any function ``run(elf) -> RunResult``; the default is the
   ISS (:func:`xdecimate.sw.iss.iss.run_elf`), the CV32E40P RTL harness plugs in the same way --
   caching results by ELF content and target name under ``build/ckernels/runs/``;
4. reads the output tensor back from the data-memory snapshot (its address from the ELF
   symbol table) and compares it **bit for bit** with the golden model
   (:func:`xdecimate.sw.model.kernels.fc_dense` / ``conv2d_dense`` on the pruned weights; the sparse
   golden kernels give the same bits, ``tests/sw/model/test_kernels.py``);
5. reports cycles and instructions per marked region (whole kernel, im2col, matmul, requant)
   and the static shape of each hot loop (instructions, MACs, instructions per 8 MACs), read
   from the ELF with the ISA table's disassembler.

Kernels: ``dense_1x2``, ``dense_4x2`` (dense baselines), ``sw``, ``sw_rq``, ``sw4`` (software
N:M sparse), ``xdec``, ``xdec4`` (xDecimate), and the im2col-free convolution variants
``xdec_direct``, ``xdec4_direct``, ``dense_1x2_direct``, ``dense_4x2_direct``, and the
skipping ``xdec_skip``, ``xdec4_skip``, ``sw4_skip`` and ``dense_4x2_skip`` (they walk the skip
images of :mod:`xdecimate.sw.model.nm_skip`).  Layouts and loops: ``docs/kernels.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ..iss import isa, memmap
from ..iss.target import RunResult, TargetError
from ..model import nm_format, xdec_ref
from ..model.kernels import conv2d_dense, conv2d_out_shape, fc_dense, im2col
from ..model.nm_format import NMImage, Pattern
from ..model.nm_skip import DenseSkipImage, SkipImage, dense_skip_image, skip_image
from ..model.prune import prune_nm
from ..model.quant import Requant, choose_requant

__all__ = [
    "DENSE_DIRECT_KERNELS",
    "DENSE_KERNELS",
    "DENSE_SKIP_KERNELS",
    "DIRECT_KERNELS",
    "IRQ_HANDLER_CSR",
    "IRQ_LINE",
    "IRQ_RECORD",
    "KERNELS",
    "REGIONS",
    "SKIP_KERNELS",
    "SPARSE_KERNELS",
    "SW_KERNELS",
    "ConvShape",
    "FCShape",
    "KernelRun",
    "LayerCase",
    "LoopShape",
    "RegionTotal",
    "build",
    "c_call",
    "c_descriptor",
    "c_program",
    "c_weights",
    "direct_walkable",
    "hot_loop",
    "irq_checksum",
    "iss_cache_key",
    "iss_target",
    "layer_layout",
    "make_case",
    "read_irq_record",
    "read_output",
    "region_totals",
    "requant_rounding",
    "run_kernel",
]

#: The C library: every file of ``sw/kernels/c/kernels/``.
KERNEL_DIR = Path(__file__).resolve().parent / "c" / "kernels"
KERNEL_SOURCES = ("xdk_common.c", "xdk_dense.c", "xdk_sw.c", "xdk_xdec.c")

DENSE_KERNELS = ("dense_1x2", "dense_4x2")
#: Convolution without im2col (``docs/kernels.md``, "Direct convolution"): the xDecimate blocks
#: read each pixel's patch straight from the input, kernel row by kernel row; on FC layers and
#: on convolutions they cannot walk (:func:`direct_walkable`) they run as ``xdec``/``xdec4``.
DIRECT_KERNELS = ("xdec_direct", "xdec4_direct")
#: The dense kernels' direct variants (same idea: the activation pointers skip to the next
#: input row between kernel rows; only ``kh`` 1 or 3 needed).  Not baselines of the speedup
#: columns (those stay the im2col kernels, as PULP-NN); the bench reports them beside.
DENSE_DIRECT_KERNELS = ("dense_1x2_direct", "dense_4x2_direct")
#: Group skipping (``docs/kernels.md``, "Group skipping"): ``xdec`` / ``xdec4`` on the skip image
#: of :mod:`xdecimate.sw.model.nm_skip`, which leaves out every all-zero group of 4 NZ slots.
SKIP_KERNELS = ("xdec_skip", "xdec4_skip", "sw4_skip")
#: Dense word skipping: ``dense_4x2`` on the dense skip image, which leaves out every word (4
#: columns) of a quad of rows whose 16 weights are all zero.
DENSE_SKIP_KERNELS = ("dense_4x2_skip",)
SPARSE_KERNELS = ("sw", "sw_rq", "sw4", "xdec", "xdec4", *DIRECT_KERNELS, *SKIP_KERNELS)
#: Kernel name -> the C ``xdk_kernel`` passed to ``xdk_fc`` / ``xdk_conv``.
KERNELS: dict[str, str] = {
    "dense_1x2": "xdk_dense_1x2",
    "dense_4x2": "xdk_dense_4x2",
    "dense_1x2_direct": "xdk_dense_1x2_direct",
    "dense_4x2_direct": "xdk_dense_4x2_direct",
    "sw": "xdk_sw",
    "sw_rq": "xdk_sw_rq",
    "sw4": "xdk_sw4",
    "xdec": "xdk_xdec",
    "xdec4": "xdk_xdec4",
    "xdec_direct": "xdk_xdec_direct",
    "xdec4_direct": "xdk_xdec4_direct",
    "xdec_skip": "xdk_xdec_skip",
    "xdec4_skip": "xdk_xdec4_skip",
    "dense_4x2_skip": "xdk_dense_4x2_skip",
    "sw4_skip": "xdk_sw4_skip",
}
#: Kernels with a 4-pixel block (need 4 pixels of scratch).
QUAD_KERNELS = ("sw4", "xdec4", "xdec4_direct", "xdec4_skip", "sw4_skip")
#: Software-sparse kernels: they interleave each pixel pair into a scratch buffer (``ilv``).
SW_KERNELS = ("sw", "sw_rq", "sw4", "sw4_skip")
#: Marked regions (``xdk.h``): region r starts with mark 2r and ends with mark 2r + 1.
REGIONS: dict[str, int] = {"kernel": 1, "im2col": 2, "matmul": 3, "requant": 4,
                           "interleave": 5, "pad": 6}

#: Bytes of DMEM kept free for the stack and small variables.
STACK_RESERVE = 2048

Target = Callable[[Path], RunResult]


# --------------------------------------------------------------------------------------------
# Layer shapes
# --------------------------------------------------------------------------------------------


def _int(name: str, v: object, lo: int) -> int:
    """``v`` as an ``int`` >= ``lo``: ``TypeError`` for a non-integer (``bool`` included),
    ``ValueError`` below ``lo``."""
    if not isinstance(v, (int, np.integer)) or isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, not {type(v).__name__} {v!r}")
    if v < lo:
        kind = "a positive" if lo == 1 else "a non-negative"
        raise ValueError(f"{name} must be {kind} integer, not {v!r}")
    return int(v)


def _pos_int(name: str, v: object) -> int:
    return _int(name, v, 1)


def _check_name(v: object) -> None:
    if not isinstance(v, str):
        raise TypeError(f"name must be a str, not {type(v).__name__} {v!r}")


def _check_kernel(kernel: object) -> str:
    """``kernel`` if it names a kernel of :data:`KERNELS` (``TypeError``/``ValueError``)."""
    if not isinstance(kernel, str):
        raise TypeError(f"kernel must be a str, one of {sorted(KERNELS)}, not "
                        f"{type(kernel).__name__} {kernel!r}")
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {sorted(KERNELS)}, not {kernel!r}")
    return kernel


def _check_type(what: str, v: object, cls: type) -> None:
    if not isinstance(v, cls):
        raise TypeError(f"{what} must be a {cls.__name__}, not {type(v).__name__} {v!r}")


@dataclass(frozen=True)
class FCShape:
    """A fully-connected layer: ``tokens`` input vectors of ``k`` bytes, ``cout`` outputs each.

    ``k`` must be a multiple of 4 (activation rows are word aligned).

    Raises
    ------
    TypeError
        A dimension that is not an integer (``bool`` included), a ``name`` that is not a str.
    ValueError
        A dimension below 1, ``k`` not a multiple of 4.
    """

    k: int
    cout: int
    tokens: int
    name: str = ""

    def __post_init__(self) -> None:
        for n in ("k", "cout", "tokens"):
            _pos_int(n, getattr(self, n))
        _check_name(self.name)
        if self.k % 4:
            raise ValueError(f"FC K must be a multiple of 4 (word-aligned activation rows), "
                             f"not {self.k!r}")

    kind = "fc"

    @property
    def npix(self) -> int:
        return self.tokens

    @property
    def macs(self) -> int:
        """Dense multiply-accumulates of the layer."""
        return self.k * self.cout * self.tokens

    def label(self) -> str:
        return self.name or f"fc{self.k}x{self.cout}x{self.tokens}"


@dataclass(frozen=True)
class ConvShape:
    """A 2-D convolution on an HWC ``h`` x ``w`` x ``cin`` input (``cin`` a multiple of 4).

    Raises
    ------
    TypeError
        A dimension, ``stride`` or ``pad`` that is not an integer (``bool`` included), a
        ``name`` that is not a str.
    ValueError
        A dimension or ``stride`` below 1, ``pad`` below 0, ``cin`` not a multiple of 4, a
        kernel that does not fit the padded input.
    """

    h: int
    w: int
    cin: int
    cout: int
    kh: int = 3
    kw: int = 3
    stride: int = 1
    pad: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        for n in ("h", "w", "cin", "cout", "kh", "kw", "stride"):
            _pos_int(n, getattr(self, n))
        _int("pad", self.pad, 0)
        _check_name(self.name)
        if self.cin % 4:
            raise ValueError(f"conv Cin must be a multiple of 4 (im2col copies words), "
                             f"not {self.cin!r}")
        conv2d_out_shape(self.h, self.w, self.kh, self.kw, self.stride, self.pad)

    kind = "conv"

    @property
    def out_hw(self) -> tuple[int, int]:
        return conv2d_out_shape(self.h, self.w, self.kh, self.kw, self.stride, self.pad)

    @property
    def k(self) -> int:
        return self.kh * self.kw * self.cin

    @property
    def npix(self) -> int:
        ho, wo = self.out_hw
        return ho * wo

    @property
    def macs(self) -> int:
        return self.k * self.cout * self.npix

    def label(self) -> str:
        return self.name or (f"conv{self.kh}x{self.kw}_{self.h}x{self.w}x{self.cin}"
                             f"to{self.cout}_s{self.stride}p{self.pad}")


Shape = FCShape | ConvShape


# --------------------------------------------------------------------------------------------
# Layer data and golden output
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class LayerCase:
    """A layer instance: shape, pattern, data and its golden output.

    Attributes
    ----------
    x : uint8 input, (tokens, K) for FC, (H, W, Cin) for conv.
    w : int8 pruned weights as the dense (Cout, K) matrix (HWC order for conv).
    bias : int32 (Cout,).
    rq : requantization.
    """

    shape: Shape
    pattern: Pattern
    x: np.ndarray
    w: np.ndarray
    bias: np.ndarray
    rq: Requant
    seed: int = 0

    @cached_property
    def img(self) -> NMImage:
        return nm_format.compress(self.w, self.pattern)

    @cached_property
    def skip(self) -> SkipImage:
        """The skip image (all-zero groups left out) the ``*_skip`` kernels walk."""
        return skip_image(self.img)

    @cached_property
    def dense_skip(self) -> DenseSkipImage:
        """The dense skip image (all-zero words of row quads left out) ``dense_4x2_skip``
        walks."""
        return dense_skip_image(self.w)

    @cached_property
    def golden(self) -> np.ndarray:
        """uint8 output (pixels, Cout)."""
        if isinstance(self.shape, FCShape):
            return fc_dense(self.x, self.w, self.bias, self.rq)
        s = self.shape
        w4 = self.w.reshape(s.cout, s.kh, s.kw, s.cin)
        out = conv2d_dense(self.x, w4, self.bias, self.rq, stride=s.stride, pad=s.pad)
        return out.reshape(-1, s.cout)

    def label(self) -> str:
        return f"{self.shape.label()}@{self.pattern}"


def make_case(shape: Shape, pattern: Pattern | str, *, seed: int = 0) -> LayerCase:
    """Random layer data for ``shape`` with weights pruned to ``pattern``.

    Activations are uniform in 0..255, weights uniform in -127..127 before pruning, the bias
    about the size of one output's sum of products; the requantization maps the largest
    accumulator to about 255 (:func:`choose_requant`), so outputs use the whole uint8 range.

    Raises
    ------
    TypeError
        ``shape`` not an :class:`FCShape`/:class:`ConvShape`, ``pattern`` not a
        :class:`Pattern` or str, ``seed`` not an integer.
    ValueError
        A pattern that is not a supported ``N:M``, a negative ``seed``, or a layer that cannot
        fit in DMEM with any kernel (checked before any data is made: activations, outputs,
        bias and the N:M non-zero weights alone exceed the budget of :func:`check_fits`).
    """
    if isinstance(pattern, str):
        pattern = Pattern.parse(pattern)
    if not isinstance(pattern, Pattern):
        raise TypeError(f"pattern must be a Pattern or 'N:M', not {pattern!r}")
    if not isinstance(shape, (FCShape, ConvShape)):
        raise TypeError(f"shape must be an FCShape or a ConvShape, not {type(shape).__name__}")
    _int("seed", seed, 0)
    _check_min_fit(shape, pattern)
    rng = np.random.default_rng([seed, shape.k, shape.cout, shape.npix, pattern.n, pattern.m])
    if isinstance(shape, FCShape):
        x = rng.integers(0, 256, size=(shape.tokens, shape.k), dtype=np.uint8)
        cols = x
    else:
        x = rng.integers(0, 256, size=(shape.h, shape.w, shape.cin), dtype=np.uint8)
        cols = im2col(x, shape.kh, shape.kw, stride=shape.stride, pad=shape.pad)
    w = prune_nm(rng.integers(-127, 128, size=(shape.cout, shape.k), dtype=np.int8), pattern)
    acc = cols.astype(np.int64) @ w.astype(np.int64).T
    spread = max(1, int(np.abs(acc).max()) // 4)
    bias = rng.integers(-spread, spread + 1, size=shape.cout).astype(np.int32)
    acc_max = max(1, int(np.abs(acc + bias.astype(np.int64)).max()))
    rq = choose_requant(acc_max)
    return LayerCase(shape=shape, pattern=pattern, x=x, w=w, bias=bias, rq=rq, seed=seed)


# --------------------------------------------------------------------------------------------
# C program generation
# --------------------------------------------------------------------------------------------


def _c_bytes(name: str, data: bytes | np.ndarray, *, const: bool = False) -> str:
    b = bytes(np.asarray(data, dtype=np.uint8).tobytes()) if isinstance(data, np.ndarray) \
        else bytes(data)
    body = ",\n".join(", ".join(f"0x{v:02x}" for v in b[i:i + 24]) for i in range(0, len(b), 24))
    return (f"__attribute__((aligned(4))) {'const ' if const else ''}uint8_t {name}[{len(b)}]"
            f" = {{\n{body}\n}};\n")


def _c_i32(name: str, data: np.ndarray) -> str:
    vals = [int(v) for v in data]
    body = ",\n".join(", ".join(str(v) for v in vals[i:i + 12]) for i in range(0, len(vals), 12))
    return f"int32_t {name}[{len(vals)}] = {{\n{body}\n}};\n"


@dataclass(frozen=True)
class _Layout:
    """Byte sizes of the program's data (everything lives in DMEM, like the paper's L1)."""

    xstride: int
    x_bytes: int
    w_bytes: int
    y_bytes: int
    acc_bytes: int
    col_bytes: int
    bias_bytes: int
    ilv_bytes: int = 0

    @property
    def total(self) -> int:
        return (self.x_bytes + self.w_bytes + self.y_bytes + self.acc_bytes + self.col_bytes
                + self.bias_bytes + self.ilv_bytes + 256)  # + the descriptor and alignment


#: Largest xdec counter value a direct walk may write (the field is 16 bits).
_CNT_LIMIT = 1 << 16


def direct_walkable(shape: Shape, pattern: Pattern | None) -> bool:
    """Whether a direct kernel walks ``shape`` without im2col (``pattern`` None: the dense
    ones, :data:`DENSE_DIRECT_KERNELS`; else :data:`DIRECT_KERNELS` at that pattern).

    Every direct kernel needs a convolution with ``kh`` 1 or 3 (the kernel rows are unrolled
    loop-0 segments).  The xDecimate blocks re-base the NZ ordinal per kernel row by writing
    the ``xdec`` counter (``docs/kernels.md``), so they also need every group of 4 NZ slots
    inside one kernel row and every kernel row starting a group in the input (``kw·cin`` and
    ``(w + 2·pad)·cin`` multiples of the group span ``4·M/N``), and counter values below 2^16
    with P = 4.  Otherwise the kernel runs im2col (as ``xdec``, ``dense_4x2``, ...).

    Raises
    ------
    TypeError
        ``shape`` not an :class:`FCShape`/:class:`ConvShape`, ``pattern`` not a
        :class:`Pattern`.
    """
    if not isinstance(shape, (FCShape, ConvShape)):
        raise TypeError(f"shape must be an FCShape or a ConvShape, not {type(shape).__name__}")
    if pattern is not None:
        _check_type("pattern", pattern, Pattern)
    if isinstance(shape, FCShape) or shape.kh not in (1, 3):
        return False
    if pattern is None:
        return True
    span = 4 * pattern.m // pattern.n
    row, wrow = shape.kw * shape.cin, (shape.w + 2 * shape.pad) * shape.cin
    if row % span or wrow % span:
        return False
    dj = wrow * pattern.n // pattern.m
    return 4 * ((shape.kh - 1) * dj + row * pattern.n // pattern.m) <= _CNT_LIMIT


def _is_direct(case: LayerCase, kernel: str) -> bool:
    if kernel in DENSE_DIRECT_KERNELS:
        return direct_walkable(case.shape, None)
    return kernel in DIRECT_KERNELS and direct_walkable(case.shape, case.pattern)


def _layout(case: LayerCase, kernel: str) -> _Layout:
    s = case.shape
    sparse = kernel in SPARSE_KERNELS
    k4 = -(-s.k // 4) * 4
    kp = case.img.k_pad if sparse else k4
    if isinstance(s, FCShape):
        xstride = s.k
        x_bytes = s.tokens * s.k + (kp - s.k)  # the last row is readable up to k_pad
        col = 0
    elif _is_direct(case, kernel):
        # no im2col buffer: the zero-padded input copy if pad > 0 (else a placeholder word)
        xstride = kp
        x_bytes = s.h * s.w * s.cin
        col = max(4, (s.h + 2 * s.pad) * (s.w + 2 * s.pad) * s.cin if s.pad else 0)
    else:
        xstride = kp
        x_bytes = s.h * s.w * s.cin
        col = (4 if kernel in QUAD_KERNELS else 2) * kp
    if kernel in DENSE_SKIP_KERNELS:
        w_bytes = case.dense_skip.nbytes
    else:
        w_bytes = (case.skip.nbytes if kernel in SKIP_KERNELS else case.img.nbytes) if sparse \
            else s.cout * k4
    acc = (16 if kernel in QUAD_KERNELS else 8) * s.cout
    return _Layout(xstride=xstride, x_bytes=-(-x_bytes // 4) * 4, w_bytes=w_bytes,
                   y_bytes=s.npix * s.cout, acc_bytes=acc, col_bytes=col,
                   bias_bytes=4 * s.cout,
                   ilv_bytes=(4 if kernel in QUAD_KERNELS else 2) * kp + 64
                   if kernel in SW_KERNELS else 0)


def _check_min_fit(shape: Shape, pattern: Pattern) -> None:
    """``ValueError`` if ``shape`` cannot fit DMEM with any kernel: a lower bound of
    :func:`check_fits` that needs no data (input, output, bias and the non-zero weights)."""
    x = shape.tokens * shape.k if isinstance(shape, FCShape) else shape.h * shape.w * shape.cin
    need = x + shape.npix * shape.cout + 4 * shape.cout + shape.cout * shape.k * pattern.n \
        // pattern.m
    budget = memmap.DMEM_SIZE - STACK_RESERVE
    if need > budget:
        raise ValueError(
            f"layer {shape.label()}@{pattern} needs at least {need} bytes of DMEM with any "
            f"kernel (input, output, bias and the {pattern} non-zero weights), more than the "
            f"{budget} available (memmap.DMEM_SIZE {memmap.DMEM_SIZE} - {STACK_RESERVE} stack): "
            f"use a smaller tile")


def check_fits(case: LayerCase, kernel: str) -> _Layout:
    """Layout of ``case`` for ``kernel``; ``ValueError`` if it does not fit in DMEM.

    Raises
    ------
    TypeError
        ``case`` not a :class:`LayerCase`, ``kernel`` not a str.
    ValueError
        Unknown kernel, or the layer does not fit (the message gives the sizes).
    """
    _check_type("case", case, LayerCase)
    _check_kernel(kernel)
    lay = _layout(case, kernel)
    budget = memmap.DMEM_SIZE - STACK_RESERVE
    if lay.total > budget:
        raise ValueError(
            f"layer {case.label()} needs {lay.total} bytes of DMEM with kernel {kernel!r} "
            f"(x {lay.x_bytes}, weights {lay.w_bytes}, y {lay.y_bytes}, buffers "
            f"{lay.acc_bytes + lay.col_bytes}), more than the {budget} available "
            f"(memmap.DMEM_SIZE {memmap.DMEM_SIZE} - {STACK_RESERVE} stack): use a smaller tile")
    return lay


#: Interrupt line of the interrupt-test programs (``build(..., irq=True)``): the first fast one.
IRQ_LINE = 16
#: The ``xdec`` CSR value the interrupt handler runs its ``xdec.lb`` under (2:4, P = 4, counter
#: 3): a configuration no kernel uses, so a handler that leaked it would show.
IRQ_HANDLER_CSR = xdec_ref.csr_pack(m=4, n=2, p=4, cnt=3)
#: What an interrupt-test program records (uint32 globals, read by :func:`read_irq_record`).
IRQ_RECORD = ("xdk_irq_ref", "xdk_irq_count", "xdk_irq_sum", "xdk_irq_bad", "xdk_csr_final")

# The interrupt handler of the interrupt-test programs: it saves the xdec CSR, runs eight
# xdec.lb under IRQ_HANDLER_CSR into a checksum, checks the CSR it leaves (counter + 8) and
# restores the saved value.  main() runs the same work once before enabling the interrupt
# (xdk_irq_ref); every interrupt adds its checksum to xdk_irq_sum and counts mismatches with the
# reference in xdk_irq_bad.  The kernel's final CSR value (xdk_csr_final) must not depend on
# the interrupts.  Built with rv32im only, so the handler leaves the hardware-loop registers of
# the interrupted kernel alone.
_IRQ_C = """
static const uint8_t xdk_irq_bytes[16] = {{
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
    0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0, 0x0f}};
volatile uint32_t xdk_irq_ref, xdk_irq_count, xdk_irq_sum, xdk_irq_bad, xdk_csr_final;

static __attribute__((noinline)) uint32_t xdk_irq_work(void) {{
    uint32_t saved = xdec_csr_read();
    xdec_csr_write({csr:#010x}u);
    uint32_t v = 0x5a5a5a5au, acc = 0, idx = 0xb4e41b93u;
    for (int i = 0; i < 8; i++) {{
        v = xdec_lb(v, xdk_irq_bytes, idx);
        acc = acc * 31u + v;
        idx = idx >> 3 | idx << 29;
    }}
    if (xdec_csr_read() != {csr:#010x}u + 8u) xdk_irq_bad++;
    xdec_csr_write(saved);
    return acc;
}}

uint32_t xdec_trap(uint32_t mcause, uint32_t mepc, uint32_t *saved) {{
    (void)saved;
    if (mcause == (0x80000000u | {line}u)) {{
        uint32_t r = xdk_irq_work();
        xdk_irq_sum += r;
        xdk_irq_bad += r != xdk_irq_ref;
        xdk_irq_count++;
        return mepc;
    }}
    hal_puts("trap mcause=");
    hal_put_hex(mcause);
    hal_puts(" mepc=");
    hal_put_hex(mepc);
    hal_putc('\\n');
    hal_exit(128 + (int)(mcause & 0x7f));
}}
"""


_IRQ_BYTES = bytes([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                    0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x0F])


def irq_checksum() -> int:
    """The interrupt handler's checksum, computed with the golden ``xdec.lb`` (``xdec_ref``).

    Mirrors ``xdk_irq_work`` in :data:`_IRQ_C`: eight ``xdec.lb`` from ``_IRQ_BYTES`` under
    :data:`IRQ_HANDLER_CSR`, rd starting at 0x5a5a5a5a, the index word rotated by 3 each time.
    """
    csr, v, acc, idx = IRQ_HANDLER_CSR, 0x5A5A5A5A, 0, 0xB4E41B93
    for _ in range(8):
        r = xdec_ref.xdec_lb(csr, 0, idx, v, lambda a: _IRQ_BYTES[a])
        csr, v = r.csr, r.rd
        acc = (acc * 31 + v) & 0xFFFFFFFF
        idx = (idx >> 3 | idx << 29) & 0xFFFFFFFF
    return acc


def layer_layout(case: LayerCase, kernel: str) -> _Layout:
    """Byte sizes of ``case``'s data and scratch for ``kernel``, without the DMEM check of
    :func:`check_fits` (a whole-network program shares its scratch and checks its own total).

    Raises
    ------
    TypeError, ValueError
        ``case`` not a :class:`LayerCase`, an unknown ``kernel``.
    """
    _check_type("case", case, LayerCase)
    _check_kernel(kernel)
    return _layout(case, kernel)


def c_weights(case: LayerCase, kernel: str, *, prefix: str = "xdk_") -> list[str]:
    """C definitions of ``case``'s weights and bias for ``kernel``: ``<prefix>w`` (the dense
    int8 matrix, rows padded to 4 bytes, or the N:M image) and ``<prefix>bias`` (int32)."""
    lay = layer_layout(case, kernel)
    s = case.shape
    if kernel in SKIP_KERNELS:
        w = _c_bytes(f"{prefix}w", case.skip.data)
    elif kernel in DENSE_SKIP_KERNELS:
        w = _c_bytes(f"{prefix}w", case.dense_skip.data)
    elif kernel in SPARSE_KERNELS:
        w = _c_bytes(f"{prefix}w", case.img.data)
    else:
        k4 = lay.w_bytes // s.cout
        wd = np.zeros((s.cout, k4), dtype=np.int8)
        wd[:, :s.k] = case.w
        w = _c_bytes(f"{prefix}w", wd.view(np.uint8))
    return [w, _c_i32(f"{prefix}bias", case.bias)]


def requant_rounding(rq: Requant) -> int:
    """The ``rnd`` field of the layer descriptor: ``2^(shift−1) + zero_point·2^shift``.

    The C requantization computes ``clip((acc·mult + rnd) >> shift, 0, 255)``; adding the
    output zero point times ``2^shift`` to the rounding constant adds exactly ``zero_point``
    after the shift, so the kernels serve a non-zero output zero point unchanged (for
    ``zero_point = 0`` this is the plain rounding constant).

    Raises
    ------
    ValueError
        ``rnd`` does not fit int32 (the message names the requantization).
    """
    _check_type("rq", rq, Requant)
    rnd = rq.rounding + (rq.zero_point << rq.shift)
    if rnd > (1 << 31) - 1:
        raise ValueError(f"requantization {rq}: the rounding constant 2^(shift-1) + "
                         f"zero_point·2^shift = {rnd} does not fit int32")
    return rnd


def c_descriptor(case: LayerCase, kernel: str, *, name: str = "xdk_L", wgt: str = "xdk_w",
                 bias: str = "xdk_bias", ilv: str = "xdk_ilv") -> str:
    """The C definition of the ``xdk_layer`` descriptor ``name`` of ``case`` for ``kernel``
    (weights ``wgt``, bias ``bias``, SW-sparse scratch ``ilv``)."""
    lay = layer_layout(case, kernel)
    s = case.shape
    sparse = kernel in SPARSE_KERNELS
    rq = case.rq
    f: dict[str, int | str] = {
        "kind": "XDK_FC" if isinstance(s, FCShape) else "XDK_CONV",
        "cout": s.cout, "k": s.k, "xstride": lay.xstride, "npix": s.npix,
        "wgt": wgt, "bias": bias,
        "mult": rq.mult, "rnd": requant_rounding(rq), "shift": rq.shift,
    }
    if isinstance(s, ConvShape):
        ho, wo = s.out_hw
        f.update(h=s.h, w=s.w, cin=s.cin, kh=s.kh, kw=s.kw, stride=s.stride, pad=s.pad,
                 ho=ho, wo=wo)
    if sparse:
        img = case.img
        pat = case.pattern
        f.update(wstride=img.row_stride, m=pat.m, n=pat.n, nnz_row=img.nnz_row,
                 groups=img.groups_row, ustride=img.index_unit_bytes,
                 rowskip=img.row_stride - img.nnz_row - img.index_bytes_row,
                 csr_p2=f"0x{xdec_ref.csr_pack(m=pat.m, n=pat.n, p=2, cnt=0):08x}u",
                 csr_p4=f"0x{xdec_ref.csr_pack(m=pat.m, n=pat.n, p=4, cnt=0):08x}u")
        if lay.ilv_bytes:
            f.update(ilv=ilv, xwords=img.k_pad // 4)
        if _is_direct(case, kernel):
            assert isinstance(s, ConvShape)
            f.update(direct=1, grp_row=s.kw * s.cin * pat.n // (4 * pat.m),
                     dj=(s.w + 2 * s.pad) * s.cin * pat.n // pat.m)
    else:
        k4 = -(-s.k // 4) * 4
        f.update(wstride=k4, kwords=k4 // 4)
        if _is_direct(case, kernel):
            f.update(direct=1)
    init = ",\n".join(f"    .{k} = {v}" for k, v in f.items())
    return f"xdk_layer {name} = {{\n{init}\n}};\n"


def c_call(case: LayerCase, kernel: str, *, desc: str = "xdk_L", x: str = "xdk_x",
           y: str = "xdk_y", acc: str = "xdk_acc", col: str = "xdk_col") -> str:
    """The C statement running ``kernel`` on the layer of descriptor ``desc``: ``xdk_fc`` or
    ``xdk_conv`` with input ``x``, output ``y`` and the scratch buffers ``acc`` and ``col``."""
    _check_kernel(kernel)
    fn = KERNELS[kernel]
    if isinstance(case.shape, FCShape):
        return f"xdk_fc(&{desc}, &{fn}, {x}, {y}, {acc});"
    return f"xdk_conv(&{desc}, &{fn}, {x}, {y}, {acc}, {col});"


def c_program(case: LayerCase, kernel: str, *, irq: bool = False) -> str:
    """The C source of a program running ``kernel`` on ``case`` (data, descriptor, ``main``).

    With ``irq``, ``main`` enables interrupt line :data:`IRQ_LINE` around the kernel and the
    program brings a handler that uses ``xdec.lb`` under another configuration (see
    :func:`read_irq_record`); without an interrupt source it runs like the plain program.
    """
    lay = check_fits(case, kernel)
    parts = [f"/* GENERATED by xdecimate.sw.kernels.harness: {case.label()}, kernel {kernel} */",
             '#include <stdint.h>', '#include "xdk.h"', ""]
    xb = np.zeros(lay.x_bytes, dtype=np.uint8)
    xb[:case.x.size] = case.x.reshape(-1)
    parts.append(_c_bytes("xdk_x", xb))
    parts += c_weights(case, kernel)
    parts.append(f"__attribute__((aligned(4))) uint8_t xdk_y[{lay.y_bytes}];")
    parts.append(f"int32_t xdk_acc[{lay.acc_bytes // 4}];")
    if lay.col_bytes:
        parts.append(f"__attribute__((aligned(4))) uint8_t xdk_col[{lay.col_bytes}];")
    if lay.ilv_bytes:
        parts.append(f"__attribute__((aligned(64))) uint8_t xdk_ilv[{lay.ilv_bytes - 64}];")
    parts.append(c_descriptor(case, kernel))
    call = c_call(case, kernel)
    if not irq:
        parts.append(f"int main(void) {{\n    {call}\n    return 0;\n}}\n")
        return "\n".join(parts)
    parts.append('#include "hal.h"')
    parts.append(_IRQ_C.format(csr=IRQ_HANDLER_CSR, line=IRQ_LINE))
    parts.append("int main(void) {\n    xdk_irq_ref = xdk_irq_work();\n"
                 f'    __asm__ volatile("csrs mie, %0" : : "r"(1u << {IRQ_LINE}));\n'
                 '    __asm__ volatile("csrsi mstatus, 8");\n'
                 f"    {call}\n"
                 '    __asm__ volatile("csrci mstatus, 8" : : : "memory");\n'
                 "    xdk_csr_final = xdec_csr_read();\n    return 0;\n}\n")
    return "\n".join(parts)


def _library_key() -> str:
    h = hashlib.sha256()
    for p in sorted(KERNEL_DIR.iterdir()):
        if p.suffix in (".c", ".h"):
            h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def build(case: LayerCase, kernel: str, *, opt: str = "-O2", irq: bool = False) -> Path:
    """Build the program for ``case`` and ``kernel``; return the (cached) ELF path.

    ``irq``: the interrupt-test variant of the program (:func:`c_program`).

    Raises
    ------
    TypeError
        ``case`` not a :class:`LayerCase`, ``kernel`` not a str (``opt``: see ``build_elf``).
    ValueError
        Unknown kernel, or the layer does not fit in DMEM (the message gives the sizes).
    """
    from .toolchain import build_elf

    src = c_program(case, kernel, irq=irq)
    sources: list[Path | tuple[str, str]] = [KERNEL_DIR / n for n in KERNEL_SOURCES]
    sources.append(("xdk_main.c", src))
    # xdk.h is not a source file: its hash goes into the flags so that the build cache key
    # changes with it.
    return build_elf(sources, opt=opt, flags=[f"-I{KERNEL_DIR}"],
                     defines=[f"XDK_LIBRARY_KEY={_library_key()}"], name="xdk")


# --------------------------------------------------------------------------------------------
# Running and reading results
# --------------------------------------------------------------------------------------------


def iss_target(elf: Path) -> RunResult:
    """The default target: the Python ISS with the CV32E40P-like timing model."""
    from ..iss.iss import run_elf

    return run_elf(elf)


def _cache_dir() -> Path:
    from .toolchain import _build_root

    return _build_root() / "ckernels" / "runs"


#: Modules whose source decides the ISS's results (semantics, timing, loading).
_ISS_SOURCES = ("iss.iss", "iss.timing", "iss.isa", "iss.elf", "model.xdec_ref",
                "model.xdec_spec", "iss.memmap", "iss.target")


def iss_cache_key() -> str:
    """Cache key of the default target: a hash of the ISS's semantics and timing sources."""
    h = hashlib.sha256()
    sw = Path(__file__).resolve().parents[1]
    for name in _ISS_SOURCES:
        path = sw.joinpath(*name.split(".")).with_suffix(".py")
        h.update(name.encode() + b"\0" + path.read_bytes())
    return "iss-" + h.hexdigest()[:16]


def _run_cached(elf: Path, target: Target, cache_key: str | None) -> RunResult:
    """Run ``elf`` on ``target``; cached by ELF content + ``cache_key`` (None: no cache)."""
    if cache_key is None:
        return target(Path(elf))
    h = hashlib.sha256(Path(elf).read_bytes() + cache_key.encode()).hexdigest()[:24]
    d = _cache_dir()
    meta, mem = d / f"{h}.json", d / f"{h}.mem.z"
    if meta.is_file() and mem.is_file():
        from ..iss.target import Mark

        j = json.loads(meta.read_text())
        return RunResult(target=j["target"], exit_code=j["exit_code"],
                         stdout=bytes.fromhex(j["stdout"]), cycles=j["cycles"],
                         instret=j["instret"], marks=[Mark(*m) for m in j["marks"]],
                         memory=zlib.decompress(mem.read_bytes()))
    res = target(Path(elf))
    d.mkdir(parents=True, exist_ok=True)
    tmp = meta.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({
        "target": res.target, "exit_code": res.exit_code, "stdout": res.stdout.hex(),
        "cycles": res.cycles, "instret": res.instret,
        "marks": [[m.id, m.cycle, m.instret] for m in res.marks]}))
    mem.write_bytes(zlib.compress(res.memory or b"", 1))
    tmp.replace(meta)
    return res


def read_output(elf: Path, res: RunResult, case: LayerCase) -> np.ndarray:
    """The uint8 output tensor (pixels, Cout) from the data-memory snapshot of ``res``.

    Raises
    ------
    TypeError
        ``res`` not a :class:`RunResult`, ``case`` not a :class:`LayerCase`.
    TargetError
        No snapshot, or the output lies outside it.
    """
    from ..iss.elf import symbols

    _check_type("res", res, RunResult)
    _check_type("case", case, LayerCase)
    if res.memory is None:
        raise TargetError(f"target {res.target!r} returned no data-memory snapshot")
    addr = symbols(elf)["xdk_y"] - memmap.DMEM_BASE
    n = case.shape.npix * case.shape.cout
    if not 0 <= addr <= len(res.memory) - n:
        raise TargetError(f"output at DMEM offset {addr:#x} is outside the snapshot "
                          f"({len(res.memory)} bytes)")
    return np.frombuffer(res.memory, dtype=np.uint8, count=n, offset=addr).reshape(
        case.shape.npix, case.shape.cout).copy()


def read_irq_record(elf: Path, res: RunResult) -> dict[str, int]:
    """The globals :data:`IRQ_RECORD` of an interrupt-test program (``build(..., irq=True)``).

    ``xdk_irq_ref``: the handler's checksum computed once with interrupts off;
    ``xdk_irq_count``: interrupts handled; ``xdk_irq_sum``: sum of their checksums (mod 2**32);
    ``xdk_irq_bad``: handler runs whose checksum or final CSR value was wrong;
    ``xdk_csr_final``: the ``xdec`` CSR right after the kernel.

    Raises
    ------
    TypeError
        ``res`` not a :class:`RunResult`.
    TargetError
        No snapshot; ``KeyError`` if ``elf`` is not an interrupt-test program.
    """
    from ..iss.elf import symbols

    _check_type("res", res, RunResult)
    if res.memory is None:
        raise TargetError(f"target {res.target!r} returned no data-memory snapshot")
    sym = symbols(elf)
    out = {}
    for name in IRQ_RECORD:
        if name not in sym:
            raise KeyError(f"{elf} has no symbol {name!r}: not built with irq=True")
        a = sym[name] - memmap.DMEM_BASE
        out[name] = int.from_bytes(res.memory[a:a + 4], "little")
    return out


@dataclass(frozen=True)
class RegionTotal:
    """Sum over every occurrence of one marked region."""

    cycles: int
    instret: int
    count: int


def region_totals(res: RunResult) -> dict[str, RegionTotal]:
    """Cycles and instructions per region, summed over its occurrences (``REGIONS``)."""
    _check_type("res", res, RunResult)
    out = {}
    for name, r in REGIONS.items():
        cyc = ins = cnt = 0
        start = None
        for m in res.marks:
            if m.id == 2 * r:
                start = m
            elif m.id == 2 * r + 1 and start is not None:
                cyc += m.cycle - start.cycle
                ins += m.instret - start.instret
                cnt += 1
                start = None
        if cnt:
            out[name] = RegionTotal(cyc, ins, cnt)
    return out


# --------------------------------------------------------------------------------------------
# Static hot-loop analysis
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoopShape:
    """A hardware-loop-0 body found in the ELF (the innermost loop of a kernel)."""

    function: str
    start: int
    mnemonics: tuple[str, ...]

    @property
    def instructions(self) -> int:
        return len(self.mnemonics)

    @property
    def macs(self) -> int:
        """Real MACs per iteration: 4 per SIMD 8-bit dot product."""
        return 4 * sum(m.startswith(("cv.sdot", "cv.dot")) for m in self.mnemonics)

    @property
    def per_8_macs(self) -> float:
        return self.instructions * 8 / self.macs if self.macs else float("inf")

    def count(self, mnemonic: str) -> int:
        return sum(m == mnemonic for m in self.mnemonics)

    def summary(self) -> str:
        c = Counter(self.mnemonics)
        return ", ".join(f"{n}× {m}" for m, n in c.most_common())


def _function_words(elf: Path, name: str) -> tuple[int, list[int]]:
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    with open(elf, "rb") as f:
        ef = ELFFile(f)
        sym = None
        for sec in ef.iter_sections():
            if isinstance(sec, SymbolTableSection):
                for s in sec.get_symbol_by_name(name) or []:
                    if s["st_info"]["type"] == "STT_FUNC":
                        sym = s
        if sym is None:
            raise KeyError(f"no function {name!r} in {elf}")
        addr, size = sym["st_value"], sym["st_size"]
        for seg in ef.iter_segments():
            lo = seg["p_vaddr"]
            if seg["p_type"] == "PT_LOAD" and lo <= addr < lo + seg["p_filesz"]:
                data = seg.data()[addr - lo:addr - lo + size]
                return addr, [int.from_bytes(data[i:i + 4], "little")
                              for i in range(0, len(data) - 3, 4)]
    raise KeyError(f"function {name!r} is not in a loadable segment of {elf}")


def hot_loops(elf: Path, function: str) -> list[LoopShape]:
    """Every hardware-loop-0 body (``cv.setup 0``/``cv.setupi 0``) inside ``function``."""
    base, words = _function_words(elf, function)
    loops = []
    for i, w in enumerate(words):
        d = isa.decode(w)
        if d is None or d.insn.mnemonic not in ("cv.setup", "cv.setupi") or d.ops["L"] != 0:
            continue
        n = d.ops["uimm"] if d.insn.mnemonic == "cv.setup" else d.ops["uimms"]
        body = words[i + 1:i + n]
        mn = []
        for bw in body:
            bd = isa.decode(bw)
            mn.append(bd.insn.mnemonic if bd else f".word 0x{bw:08x}")
        loops.append(LoopShape(function, base + 4 * (i + 1), tuple(mn)))
    return loops


#: The block function holding the hot loop that runs for (kernel, N, M).
def hot_loop_function(kernel: str, pattern: Pattern) -> str:
    if kernel in ("sw4", "sw4_skip"):
        return f"xdk_block_{kernel}_{pattern.n}_{pattern.m}"
    if kernel in SW_KERNELS:
        return f"xdk_block_sw_{pattern.n}_{pattern.m}{kernel.removeprefix('sw')}"
    if kernel in ("xdec", "xdec4", *DIRECT_KERNELS, *SKIP_KERNELS):
        return f"xdk_block_{kernel}_{'m4' if pattern.m == 4 else 'm816'}"
    if kernel in DENSE_KERNELS or kernel in DENSE_DIRECT_KERNELS or kernel in DENSE_SKIP_KERNELS:
        return f"xdk_block_{kernel}"
    raise ValueError(f"kernel must be one of {sorted(KERNELS)}, not {kernel!r}")


def hot_loop(elf: Path, kernel: str, pattern: Pattern) -> LoopShape:
    """The innermost loop that ``kernel`` runs for ``pattern`` (dense 4x2: the quad loop).

    Raises
    ------
    TypeError, ValueError
        ``kernel`` not a known kernel name, ``pattern`` not a :class:`Pattern`.
    KeyError
        The ELF has no such function or loop.
    """
    _check_kernel(kernel)
    _check_type("pattern", pattern, Pattern)
    loops = hot_loops(elf, hot_loop_function(kernel, pattern))
    if not loops:
        raise KeyError(f"no hardware loop 0 in {hot_loop_function(kernel, pattern)}")
    return max(loops, key=lambda lp: lp.macs)


# --------------------------------------------------------------------------------------------
# One measured run
# --------------------------------------------------------------------------------------------


@dataclass
class KernelRun:
    """Result of running one kernel on one layer case."""

    layer: str
    kind: str
    pattern: str
    kernel: str
    k: int
    cout: int
    pixels: int
    macs: int
    cycles: int
    instret: int
    regions: dict[str, RegionTotal]
    loop: LoopShape
    bit_exact: bool
    mismatches: int = 0
    target: str = "iss"
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def kernel_cycles(self) -> int:
        """Cycles of the marked whole-kernel region (excludes start-up and ``main``)."""
        return self.regions["kernel"].cycles

    def to_json(self) -> dict[str, object]:
        d = asdict(self)
        d["loop"] = {"function": self.loop.function, "instructions": self.loop.instructions,
                     "macs": self.loop.macs, "per_8_macs": self.loop.per_8_macs,
                     "mnemonics": list(self.loop.mnemonics)}
        return d


def run_kernel(case: LayerCase, kernel: str, *, target: Target | None = None,
               cache_key: str | None = None, check: bool = True) -> KernelRun:
    """Build and run ``kernel`` on ``case``; compare with the golden model bit for bit.

    Parameters
    ----------
    target : ``run(elf) -> RunResult``; default the ISS.
    cache_key : results are cached under ``build/ckernels/runs/`` by ELF content and this key;
        ``None`` means no caching for a custom ``target``, and :func:`iss_cache_key` (a hash
        of the ISS's sources) for the default one.
    check : raise ``AssertionError`` naming the first mismatch if the output is not bit-exact
        (otherwise only ``bit_exact``/``mismatches`` report it).

    Raises
    ------
    TypeError
        ``case`` not a :class:`LayerCase`, ``kernel`` not a str, ``target`` not callable,
        ``cache_key`` not a str or None, ``check`` not a bool.
    ValueError
        Unknown kernel, a layer that does not fit in DMEM, an empty ``cache_key``.
    TargetError
        The program did not exit with code 0.
    """
    _check_type("case", case, LayerCase)
    _check_kernel(kernel)
    if target is not None and not callable(target):
        raise TypeError(f"target must be a function run(elf) -> RunResult or None, not "
                        f"{type(target).__name__} {target!r}")
    if cache_key is not None and not isinstance(cache_key, str):
        raise TypeError(f"cache_key must be a str or None, not {type(cache_key).__name__} "
                        f"{cache_key!r}")
    if cache_key == "":
        raise ValueError("cache_key must be a non-empty str or None, not ''")
    _check_type("check", check, bool)
    elf = build(case, kernel)
    if target is None:
        target, cache_key = iss_target, cache_key or iss_cache_key()
    res = _run_cached(elf, target, cache_key)
    if res.exit_code != 0:
        raise TargetError(f"{case.label()} kernel {kernel}: exit code {res.exit_code}, "
                          f"stdout {res.stdout!r}")
    y = read_output(elf, res, case)
    gold = case.golden
    bad = np.argwhere(y != gold)
    if check and len(bad):
        p, c = (int(v) for v in bad[0])
        raise AssertionError(f"{case.label()} kernel {kernel}: {len(bad)} outputs differ from "
                             f"the golden model, first at pixel {p} channel {c}: "
                             f"{int(y[p, c])} != {int(gold[p, c])}")
    return KernelRun(layer=case.shape.label(), kind=case.shape.kind, pattern=str(case.pattern),
                     kernel=kernel, k=case.shape.k, cout=case.shape.cout,
                     pixels=case.shape.npix, macs=case.shape.macs, cycles=res.cycles,
                     instret=res.instret, regions=region_totals(res),
                     loop=hot_loop(elf, kernel, case.pattern), bit_exact=not len(bad),
                     mismatches=len(bad), target=res.target)
