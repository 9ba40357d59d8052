"""Bad input to the golden model: every public function of ``sw/model/*`` (their ``__all__``).

Each case is one named line: the function it targets, what is wrong, the exception and a regex
its message must match (the value and the rule).  Inputs that are odd but legal have a
documented result instead (``DOCUMENTED``).  ``test_every_public_function_is_walked`` keeps the
tables complete: a new public function without a bad-input case fails it.  The rules themselves
are in ``docs/format.md`` ("Bad input", "Canonical images only"), ``docs/quantization.md``,
``docs/kernels.md`` (convolution geometry) and ``docs/xdecimate.md`` (reference operands).
"""

from __future__ import annotations

import importlib
import re
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from xdecimate.sw.model import xdec_spec as spec
from xdecimate.sw.model.kernels import (
    conv2d_dense,
    conv2d_out_shape,
    conv2d_sparse,
    fc_dense,
    fc_sparse,
    fc_sparse_gather,
    im2col,
    pixel_chunks,
    sdotusp_b,
)
from xdecimate.sw.model.nm_format import (
    PATTERNS,
    NMImage,
    Pattern,
    check_image,
    compress,
    decompress,
    footprint,
    is_nm,
    padded_k,
)
from xdecimate.sw.model.prune import conv_weight_matrix, ohwi_from_oihw, prune_nm
from xdecimate.sw.model.quant import (
    Requant,
    choose_requant,
    quantize_activations,
    quantize_weights,
    requantize,
)
from xdecimate.sw.model.selfcheck import report_section, run_selfcheck
from xdecimate.sw.model.xdec_ref import (
    IllegalInstruction,
    XdecConfig,
    csr_pack,
    csr_write,
    xdec_access,
    xdec_lb,
)

MODULES = ("xdec_spec", "xdec_ref", "nm_format", "prune", "quant", "kernels", "selfcheck")

P14, P18, P24 = Pattern(1, 4), Pattern(1, 8), Pattern(2, 4)
W = np.zeros((2, 16), np.int8)
W[0, [1, 6]] = [5, -3]
W[1, 12] = 7
IMG = compress(W, P14)
X16 = np.arange(16, dtype=np.uint8)
X2 = np.ones((2, 16), np.uint8)
CSR = csr_pack(m=4, n=1)
MEM = bytes(range(256))
M_LOG2 = spec.field("m_log2")
U32 = 1 << 32
ONE = np.ones((1, 1, 1), np.uint8)
W4 = np.ones((1, 1, 1, 1), np.int8)


def _record(pattern: Pattern, k: int, rows: int = 2, w: np.ndarray | None = None):
    """(a copy of a valid image's bytes as (rows, stride), a builder for the mutated image)."""
    w = np.zeros((rows, k), np.int8) if w is None else w
    img = compress(w, pattern)
    rec = img.data.copy().reshape(rows, img.row_stride)
    return rec, lambda: NMImage(pattern, rows, k, rec.reshape(-1))


def _corrupt(pattern, k, edit, w=None):
    rec, build = _record(pattern, k, w=w)
    edit(rec)
    return build()


def _w_filler_24():
    w = np.zeros((2, 16), np.int8)
    w[1, 0] = 7  # row 1 block 0: one non-zero at 0, the filler belongs at 1
    return w


def _set(rec, r, o, v):
    rec[r, o] = v


# (target, case name, call, exception, message regex)
BAD: list[tuple[str, str, object, type[BaseException], str]] = [
    # --- xdec_spec -----------------------------------------------------------------------------
    ("xdec_spec.Encoding.encode", "rd negative",
     lambda: spec.instruction("xdec.lb").encode(-1, 1, 2), ValueError,
     "rd must be a register number 0..31, not -1"),
    ("xdec_spec.Encoding.encode", "rs1 = 32", lambda: spec.instruction("xdec.lb").encode(1, 32, 2),
     ValueError, "rs1 must be a register number 0..31, not 32"),
    ("xdec_spec.Encoding.encode", "rs2 huge",
     lambda: spec.instruction("xdec.lb").encode(1, 2, 2**100), ValueError,
     "rs2 must be a register number 0..31, not 1267650600228229401496703205376"),
    ("xdec_spec.Encoding.encode", "rd float", lambda: spec.instruction("xdec.lb").encode(3.0, 1, 2),
     TypeError, "rd must be an integer, not float 3.0"),
    ("xdec_spec.Encoding.encode", "rd bool", lambda: spec.instruction("xdec.lb").encode(True, 1, 2),
     TypeError, "rd must be an integer, not the bool True"),
    ("xdec_spec.Encoding.encode", "rs2 str", lambda: spec.instruction("xdec.lb").encode(1, 2, "3"),
     TypeError, "rs2 must be an integer, not str '3'"),
    ("xdec_spec.Encoding.matches", "negative word", lambda: spec.instruction("xdec.lb").matches(-1),
     ValueError, "instruction word must be a 32-bit value 0..0xFFFFFFFF, not -1"),
    ("xdec_spec.Encoding.matches", "word 2^32", lambda: spec.instruction("xdec.lb").matches(U32),
     ValueError, "not 4294967296"),
    ("xdec_spec.Encoding.matches", "word float", lambda: spec.instruction("xdec.lb").matches(1.5),
     TypeError, "instruction word must be an integer, not float"),
    ("xdec_spec.Encoding", "opcode 8 bits",
     lambda: spec.Encoding("x", 0x80, 0, 0, "", (), "", 1, 1), ValueError,
     "x: opcode must be a 7-bit field value, not 128"),
    ("xdec_spec.Encoding", "funct3 8", lambda: spec.Encoding("x", 0x2B, 8, 0, "", (), "", 1, 1),
     ValueError, "funct3 must be a 3-bit field value, not 8"),
    ("xdec_spec.Encoding", "cycles 0", lambda: spec.Encoding("x", 0x2B, 6, 0, "", (), "", 0, 1),
     ValueError, r"cycles must be ≥ 1, not 0"),
    ("xdec_spec.Encoding", "load_use float",
     lambda: spec.Encoding("x", 0x2B, 6, 0, "", (), "", 1, 0.5), TypeError,
     "load_use must be an integer, not float"),
    ("xdec_spec.CsrField", "msb < lsb", lambda: spec.CsrField("f", 3, 5, 0, None, "RW", ""),
     ValueError, "xdec.f: msb must be in 5..31, not 3"),
    ("xdec_spec.CsrField", "msb 32", lambda: spec.CsrField("f", 32, 5, 0, None, "RW", ""),
     ValueError, "msb must be in 5..31, not 32"),
    ("xdec_spec.CsrField", "legal value too wide",
     lambda: spec.CsrField("f", 1, 0, 0, (4,), "RW", ""), ValueError,
     "legal value must be a 2-bit field value, not 4"),
    ("xdec_spec.CsrField", "reset too wide", lambda: spec.CsrField("f", 1, 0, 7, None, "RW", ""),
     ValueError, "reset must be a 2-bit field value, not 7"),
    ("xdec_spec.CsrField", "access 'RO'", lambda: spec.CsrField("f", 1, 0, 0, None, "RO", ""),
     ValueError, "access must be 'RW' or 'R0', not 'RO'"),
    ("xdec_spec.CsrField", "lsb float", lambda: spec.CsrField("f", 1, 0.0, 0, None, "RW", ""),
     TypeError, "lsb must be an integer, not float"),
    ("xdec_spec.CsrField.get", "negative CSR", lambda: M_LOG2.get(-1), ValueError,
     "CSR value must be a 32-bit value 0..0xFFFFFFFF, not -1"),
    ("xdec_spec.CsrField.get", "CSR 2^40 (would be cut)", lambda: M_LOG2.get(1 << 40), ValueError,
     "not 1099511627776"),
    ("xdec_spec.CsrField.get", "CSR float", lambda: M_LOG2.get(1.0), TypeError,
     "CSR value must be an integer, not float"),
    ("xdec_spec.CsrField.get", "CSR bool", lambda: M_LOG2.get(True), TypeError, "not the bool"),
    ("xdec_spec.CsrField.put", "value too wide", lambda: M_LOG2.put(0, 8), ValueError,
     r"xdec.m_log2 must be 3 bits wide \(0..7\), not 8"),
    ("xdec_spec.CsrField.put", "value negative", lambda: M_LOG2.put(0, -1), ValueError,
     "3 bits wide"),
    ("xdec_spec.CsrField.put", "value float", lambda: M_LOG2.put(0, 1.5), TypeError,
     "xdec.m_log2 must be an integer, not float 1.5"),
    ("xdec_spec.CsrField.put", "CSR 2^32", lambda: M_LOG2.put(U32, 1), ValueError,
     "CSR value must be a 32-bit value"),
    ("xdec_spec.field", "unknown name", lambda: spec.field("nope"), KeyError, "nope"),
    ("xdec_spec.field", "name not a str", lambda: spec.field(3), TypeError,
     "field name must be a str, not int 3"),
    ("xdec_spec.instruction", "unknown mnemonic", lambda: spec.instruction("xdec.lw"), KeyError,
     "no xDecimate instruction named 'xdec.lw'"),
    ("xdec_spec.instruction", "mnemonic None", lambda: spec.instruction(None), TypeError,
     "mnemonic must be a str, not NoneType"),
    # --- xdec_ref ------------------------------------------------------------------------------
    ("xdec_ref.XdecConfig", "M = 5", lambda: XdecConfig(m=5, n=1), ValueError,
     r"xdec M must be one of \(4, 8, 16\), not 5"),
    ("xdec_ref.XdecConfig", "M float", lambda: XdecConfig(m=4.0, n=1), TypeError,
     "xdec M must be an integer, not float 4.0"),
    ("xdec_ref.XdecConfig", "N bool", lambda: XdecConfig(m=4, n=True), TypeError,
     "xdec N must be an integer, not the bool True"),
    ("xdec_ref.XdecConfig", "P = 3", lambda: XdecConfig(m=4, n=1, p=3), ValueError,
     r"xdec P must be one of \(1, 2, 4\), not 3"),
    ("xdec_ref.XdecConfig", "M str", lambda: XdecConfig(m="4", n=1), TypeError,
     "xdec M must be an integer, not str"),
    ("xdec_ref.XdecConfig.from_csr", "negative CSR", lambda: XdecConfig.from_csr(-1), ValueError,
     "CSR value must be a 32-bit register value 0..0xFFFFFFFF, not -1"),
    ("xdec_ref.XdecConfig.from_csr", "legal CSR + bit 40 (would be cut)",
     lambda: XdecConfig.from_csr(CSR | 1 << 40), ValueError, "32-bit register value"),
    ("xdec_ref.XdecConfig.from_csr", "CSR float", lambda: XdecConfig.from_csr(float(CSR)),
     TypeError, "CSR value must be an integer, not float"),
    ("xdec_ref.XdecConfig.from_csr", "reserved bit set (the trap)",
     lambda: XdecConfig.from_csr(CSR | 1 << 31), IllegalInstruction,
     r"xdec.reserved = 256 is not one of the legal values \(0,\)"),
    ("xdec_ref.XdecConfig.from_csr", "reset value (the trap)",
     lambda: XdecConfig.from_csr(spec.CSR_RESET), IllegalInstruction, "xdec.m_log2 = 0"),
    ("xdec_ref.csr_pack", "cnt negative", lambda: csr_pack(m=4, n=1, cnt=-1), ValueError,
     r"xdec.cnt must be in 0..65535, not -1"),
    ("xdec_ref.csr_pack", "cnt 2^16", lambda: csr_pack(m=4, n=1, cnt=1 << 16), ValueError,
     "xdec.cnt must be in 0..65535, not 65536"),
    ("xdec_ref.csr_pack", "cnt float", lambda: csr_pack(m=4, n=1, cnt=1.0), TypeError,
     "xdec.cnt must be an integer, not float"),
    ("xdec_ref.csr_pack", "cnt bool", lambda: csr_pack(m=4, n=1, cnt=True), TypeError,
     "not the bool True"),
    ("xdec_ref.csr_pack", "M float", lambda: csr_pack(m=8.0, n=1), TypeError,
     "xdec M must be an integer"),
    ("xdec_ref.csr_pack", "P = 0", lambda: csr_pack(m=8, n=1, p=0), ValueError,
     "xdec P must be one of"),
    ("xdec_ref.csr_write", "-1 (would wrap)", lambda: csr_write(-1), ValueError,
     "CSR write value must be a 32-bit register value 0..0xFFFFFFFF, not -1"),
    ("xdec_ref.csr_write", "2^32", lambda: csr_write(U32), ValueError, "not 4294967296"),
    ("xdec_ref.csr_write", "2^100", lambda: csr_write(2**100), ValueError,
     "not 1267650600228229401496703205376"),
    ("xdec_ref.csr_write", "float", lambda: csr_write(1.5), TypeError,
     "CSR write value must be an integer, not float 1.5"),
    ("xdec_ref.csr_write", "None", lambda: csr_write(None), TypeError, "not NoneType None"),
    ("xdec_ref.csr_write", "bool", lambda: csr_write(True), TypeError, "not the bool True"),
    ("xdec_ref.csr_write", "str", lambda: csr_write("0x10000"), TypeError, "not str '0x10000'"),
    ("xdec_ref.xdec_access", "CSR negative", lambda: xdec_access(-1, 0, 0), ValueError,
     "xdec CSR must be a 32-bit register value 0..0xFFFFFFFF, not -1"),
    ("xdec_ref.xdec_access", "rs1 negative", lambda: xdec_access(CSR, -1, 0), ValueError,
     "rs1 must be a 32-bit register value 0..0xFFFFFFFF, not -1"),
    ("xdec_ref.xdec_access", "rs1 2^32", lambda: xdec_access(CSR, U32, 0), ValueError,
     "rs1 must be a 32-bit register value"),
    ("xdec_ref.xdec_access", "rs2 2^100", lambda: xdec_access(CSR, 0, 2**100), ValueError,
     "rs2 must be a 32-bit register value"),
    ("xdec_ref.xdec_access", "rs1 float", lambda: xdec_access(CSR, 1.0, 0), TypeError,
     "rs1 must be an integer, not float"),
    ("xdec_ref.xdec_access", "rs2 None", lambda: xdec_access(CSR, 0, None), TypeError,
     "rs2 must be an integer, not NoneType"),
    ("xdec_ref.xdec_access", "rs1 bool", lambda: xdec_access(CSR, True, 0), TypeError,
     "rs1 must be an integer, not the bool"),
    ("xdec_ref.xdec_access", "reserved CSR bits (the trap)",
     lambda: xdec_access(CSR | 1 << 23, 0, 0), IllegalInstruction, "xdec.reserved = 1"),
    ("xdec_ref.xdec_lb", "rs1 negative", lambda: xdec_lb(CSR, -1, 0, 0, MEM), ValueError,
     "rs1 must be a 32-bit register value 0..0xFFFFFFFF, not -1"),
    ("xdec_ref.xdec_lb", "rs1 2^32", lambda: xdec_lb(CSR, U32, 0, 0, MEM), ValueError,
     "rs1 must be a 32-bit register value"),
    ("xdec_ref.xdec_lb", "rs2 2^100", lambda: xdec_lb(CSR, 0, 2**100, 0, MEM), ValueError,
     "rs2 must be a 32-bit register value"),
    ("xdec_ref.xdec_lb", "rd negative", lambda: xdec_lb(CSR, 0, 0, -1, MEM), ValueError,
     "rd must be a 32-bit register value"),
    ("xdec_ref.xdec_lb", "rd 2^32", lambda: xdec_lb(CSR, 0, 0, U32, MEM), ValueError,
     "rd must be a 32-bit register value"),
    ("xdec_ref.xdec_lb", "CSR above 32 bits (would be cut)",
     lambda: xdec_lb(CSR | 1 << 32, 0, 0, 0, MEM), ValueError,
     "xdec CSR must be a 32-bit register value"),
    ("xdec_ref.xdec_lb", "CSR negative", lambda: xdec_lb(-1, 0, 0, 0, MEM), ValueError,
     "xdec CSR must be a 32-bit register value"),
    ("xdec_ref.xdec_lb", "rs1 float", lambda: xdec_lb(CSR, 1.5, 0, 0, MEM), TypeError,
     "rs1 must be an integer, not float 1.5"),
    ("xdec_ref.xdec_lb", "rd None", lambda: xdec_lb(CSR, 0, 0, None, MEM), TypeError,
     "rd must be an integer, not NoneType"),
    ("xdec_ref.xdec_lb", "rs2 bool", lambda: xdec_lb(CSR, 0, True, 0, MEM), TypeError,
     "rs2 must be an integer, not the bool True"),
    ("xdec_ref.xdec_lb", "memory returns a float", lambda: xdec_lb(CSR, 0, 0, 0, lambda a: 3.7),
     TypeError, r"memory returned 3.7 \(float\) at 0x00000000, not a byte \(an integer 0..255\)"),
    ("xdec_ref.xdec_lb", "memory returns numpy float",
     lambda: xdec_lb(CSR, 0, 0, 0, lambda a: np.float64(3.0)), TypeError,
     r"memory returned np.float64\(3.0\) \(float64\)"),
    ("xdec_ref.xdec_lb", "memory returns 256", lambda: xdec_lb(CSR, 0, 0, 0, lambda a: 256),
     ValueError, r"memory returned 256 \(int\) at 0x00000000, not a byte"),
    ("xdec_ref.xdec_lb", "memory returns -1", lambda: xdec_lb(CSR, 5, 0, 0, lambda a: -1),
     ValueError, "memory returned -1 .* at 0x00000005, not a byte"),
    ("xdec_ref.xdec_lb", "memory returns None", lambda: xdec_lb(CSR, 0, 0, 0, lambda a: None),
     TypeError, r"memory returned None \(NoneType\)"),
    ("xdec_ref.xdec_lb", "memory returns a bool", lambda: xdec_lb(CSR, 0, 0, 0, lambda a: True),
     TypeError, r"memory returned True \(bool\)"),
    ("xdec_ref.xdec_lb", "memory returns a str", lambda: xdec_lb(CSR, 0, 0, 0, {0: "a"}),
     TypeError, r"memory returned 'a' \(str\)"),
    ("xdec_ref.xdec_lb", "memory is an int", lambda: xdec_lb(CSR, 0, 0, 0, 42), TypeError,
     "mem must be a callable addr -> byte or indexable by address, not int"),
    ("xdec_ref.xdec_lb", "memory too small (its own IndexError)",
     lambda: xdec_lb(CSR, 300, 0, 0, MEM), IndexError, "index out of range"),
    ("xdec_ref.xdec_lb", "illegal configuration (the trap)",
     lambda: xdec_lb(M_LOG2.put(CSR, 7), 0, 0, 0, MEM), IllegalInstruction, "xdec.m_log2 = 7"),
    # --- nm_format -----------------------------------------------------------------------------
    ("nm_format.Pattern", "N float", lambda: Pattern(1.0, 4), TypeError,
     "N:M pattern N must be an integer, not float 1.0"),
    ("nm_format.Pattern", "N bool", lambda: Pattern(True, 4), TypeError, "not the bool True"),
    ("nm_format.Pattern", "M str", lambda: Pattern(1, "4"), TypeError,
     "N:M pattern M must be an integer, not str"),
    ("nm_format.Pattern", "M None", lambda: Pattern(1, None), TypeError, "not NoneType"),
    ("nm_format.Pattern", "1:3", lambda: Pattern(1, 3), ValueError,
     r"N:M pattern must be one of \['1:4', .*\], not 1:3"),
    ("nm_format.Pattern", "0:4", lambda: Pattern(0, 4), ValueError, "not 0:4"),
    ("nm_format.Pattern.parse", "int", lambda: Pattern.parse(14), TypeError,
     "pattern text must be a str like '1:8', not int 14"),
    ("nm_format.Pattern.parse", "bytes", lambda: Pattern.parse(b"1:4"), TypeError,
     "not bytes b'1:4'"),
    ("nm_format.Pattern.parse", "tuple", lambda: Pattern.parse((1, 4)), TypeError,
     r"not tuple \(1, 4\)"),
    ("nm_format.Pattern.parse", "'1:3'", lambda: Pattern.parse("1:3"), ValueError,
     "N:M pattern must be one of"),
    ("nm_format.Pattern.parse", "'a:b'", lambda: Pattern.parse("a:b"), ValueError,
     "pattern must look like 'N:M', not 'a:b'"),
    ("nm_format.Pattern.parse", "''", lambda: Pattern.parse(""), ValueError,
     "pattern must look like 'N:M'"),
    ("nm_format.padded_k", "K = 0", lambda: padded_k(0, P14), ValueError,
     "K must be a positive integer, not 0"),
    ("nm_format.padded_k", "K negative", lambda: padded_k(-5, P14), ValueError, "not -5"),
    ("nm_format.padded_k", "K float", lambda: padded_k(2.5, P14), TypeError,
     "K must be an integer, not float 2.5"),
    ("nm_format.padded_k", "K bool", lambda: padded_k(True, P14), TypeError, "not the bool"),
    ("nm_format.padded_k", "pattern tuple", lambda: padded_k(16, (1, 4)), TypeError,
     r"pattern must be a Pattern, not tuple \(1, 4\)"),
    ("nm_format.padded_k", "pattern str", lambda: padded_k(16, "1:4"), TypeError,
     "pattern must be a Pattern, not str '1:4'"),
    ("nm_format.footprint", "rows 0", lambda: footprint(0, 16, P14), ValueError,
     "rows must be a positive integer, not 0"),
    ("nm_format.footprint", "rows float", lambda: footprint(1.5, 16, P14), TypeError,
     "rows must be an integer, not float"),
    ("nm_format.footprint", "K 0", lambda: footprint(1, 0, P14), ValueError,
     "K must be a positive integer, not 0"),
    ("nm_format.footprint", "K None", lambda: footprint(1, None, P14), TypeError,
     "K must be an integer, not NoneType"),
    ("nm_format.footprint", "pattern tuple", lambda: footprint(1, 16, (1, 4)), TypeError,
     "pattern must be a Pattern, not tuple"),
    ("nm_format.is_nm", "list", lambda: is_nm([[1, 0]], P14), TypeError,
     "weights must be a numpy array, not list"),
    ("nm_format.is_nm", "float weights", lambda: is_nm(np.zeros((1, 4)), P14), TypeError,
     "weights must have dtype int8, not float64"),
    ("nm_format.is_nm", "1-D", lambda: is_nm(np.zeros(4, np.int8), P14), ValueError,
     r"non-empty 2-D \(rows, K\) matrix, not shape \(4,\)"),
    ("nm_format.is_nm", "pattern tuple", lambda: is_nm(W, (1, 4)), TypeError,
     "pattern must be a Pattern, not tuple"),
    ("nm_format.compress", "pattern tuple", lambda: compress(W, (1, 4)), TypeError,
     r"pattern must be a Pattern, not tuple \(1, 4\)"),
    ("nm_format.compress", "int16 weights", lambda: compress(W.astype(np.int16), P14), TypeError,
     "weights must have dtype int8, not int16"),
    ("nm_format.compress", "no rows", lambda: compress(np.zeros((0, 16), np.int8), P14),
     ValueError, r"non-empty 2-D \(rows, K\) matrix, not shape \(0, 16\)"),
    ("nm_format.compress", "K = 0", lambda: compress(np.zeros((2, 0), np.int8), P14), ValueError,
     r"not shape \(2, 0\)"),
    ("nm_format.compress", "3-D", lambda: compress(np.zeros((1, 2, 16), np.int8), P14),
     ValueError, r"not shape \(1, 2, 16\)"),
    ("nm_format.compress", "not N:M", lambda: compress(np.ones((1, 16), np.int8), P14),
     ValueError, r"not 1:4-sparse: row 0, block 0 \(K columns 0..3\) has 4 non-zeros"),
    ("nm_format.decompress", "ndarray", lambda: decompress(W), TypeError,
     "expected an NMImage, not ndarray"),
    ("nm_format.decompress", "None", lambda: decompress(None), TypeError,
     "expected an NMImage, not NoneType"),
    ("nm_format.check_image", "bytes", lambda: check_image(IMG.data.tobytes()), TypeError,
     "expected an NMImage, not bytes"),
    ("nm_format.NMImage", "pattern tuple", lambda: NMImage((1, 4), 2, 16, IMG.data), TypeError,
     r"image pattern must be a Pattern, not tuple \(1, 4\)"),
    ("nm_format.NMImage", "rows 0", lambda: NMImage(P14, 0, 16, IMG.data[:0]), ValueError,
     "image rows must be a positive integer, not 0"),
    ("nm_format.NMImage", "rows float", lambda: NMImage(P14, 2.0, 16, IMG.data), TypeError,
     "image rows must be an integer, not float"),
    ("nm_format.NMImage", "K bool", lambda: NMImage(P14, 2, True, IMG.data), TypeError,
     "image K must be an integer, not the bool"),
    ("nm_format.NMImage", "data list", lambda: NMImage(P14, 2, 16, list(IMG.data)), TypeError,
     "image data must be a numpy uint8 array, not list"),
    ("nm_format.NMImage", "data int8", lambda: NMImage(P14, 2, 16, IMG.data.view(np.int8)),
     TypeError, "image data must be a numpy uint8 array, not int8"),
    ("nm_format.NMImage", "data 2-D", lambda: NMImage(P14, 2, 16, IMG.data.reshape(2, -1)),
     ValueError, r"image data must be a 1-D byte array, not shape \(2, 8\)"),
    ("nm_format.NMImage", "data a byte short", lambda: NMImage(P14, 2, 16, IMG.data[:-1]),
     ValueError, "image of 2 rows needs 16 bytes, not 15"),
    ("nm_format.NMImage", "rule 1: row padding byte not 0",
     lambda: _corrupt(P14, 16, lambda r: _set(r, 1, 6, 0x40)), ValueError,
     "row 1: byte 6 of the row record is 0x40; the padding after the index units must be 0"),
    ("nm_format.NMImage", "rule 2: M = 8 index with the reserved bit",
     lambda: _corrupt(P18, 16, lambda r: _set(r, 1, 4, 0x90)), ValueError,
     "row 1 slot 1: index 9 is outside a block of 8 \\(the top bit of an M = 8 index field is "
     "reserved and must be 0\\)"),
    ("nm_format.NMImage", "rule 3: duplicate positions",
     lambda: _corrupt(P24, 16, lambda r: _set(r, 1, 8, 0b0101)), ValueError,
     "row 1 block 0: two slots at the same position 1; the slots of a block must be at distinct "
     "positions in ascending order"),
    ("nm_format.NMImage", "rule 3: positions not ascending",
     lambda: _corrupt(P24, 16, lambda r: _set(r, 0, 9, 0b0111)), ValueError,
     "row 0 block 2: slot positions 3, 1 are not ascending"),
    ("nm_format.NMImage", "rule 4: weight beyond K",
     lambda: _corrupt(P18, 16, lambda r: _set(r, 0, 2, 5)), ValueError,
     "row 0 slot 2: weight 5 at column 16: the image has non-zero weights in the padding beyond "
     "K = 16"),
    ("nm_format.NMImage", "rule 5: N = 1 filler not at 0",
     lambda: _corrupt(P14, 16, lambda r: _set(r, 1, 4, 0b11)), ValueError,
     r"row 1 block 0: filler slot\(s\) \(value 0\) at position\(s\) \[3\], canonical \[0\]: a "
     "block with fewer than 1 non-zeros fills its other slots with the lowest positions"),
    ("nm_format.NMImage", "rule 5: N = 2 filler not at the lowest free position",
     lambda: _corrupt(P24, 16, lambda r: _set(r, 1, 8, 0b01_00_10_00), w=_w_filler_24()),
     ValueError,
     r"row 1 block 0: filler slot\(s\) \(value 0\) at position\(s\) \[2\], canonical \[1\]"),
    ("nm_format.NMImage.values", "row = rows", lambda: IMG.values(2), IndexError,
     r"row must be in 0\.\.1, not 2"),
    ("nm_format.NMImage.values", "row negative", lambda: IMG.values(-1), IndexError, "not -1"),
    ("nm_format.NMImage.values", "row float", lambda: IMG.values(1.0), TypeError,
     "row must be an integer, not float"),
    ("nm_format.NMImage.index_units", "row bool", lambda: IMG.index_units(True), TypeError,
     "row must be an integer, not the bool"),
    ("nm_format.NMImage.row_offset", "row str", lambda: IMG.row_offset("0"), TypeError,
     "row must be an integer, not str"),
    ("nm_format.NMImage.data", "write to the image", lambda: IMG.data.__setitem__(0, 1),
     ValueError, "read-only"),
    # --- prune ---------------------------------------------------------------------------------
    ("prune.prune_nm", "list", lambda: prune_nm([[1, 2]], P14), TypeError,
     "weights must be a numpy array, not list"),
    ("prune.prune_nm", "str dtype", lambda: prune_nm(np.array([["a"]]), P14), TypeError,
     "weights must be integer or float, not <U1"),
    ("prune.prune_nm", "bool dtype", lambda: prune_nm(np.ones((1, 4), bool), P14), TypeError,
     "integer or float, not bool"),
    ("prune.prune_nm", "complex dtype", lambda: prune_nm(np.ones((1, 4), complex), P14),
     TypeError, "integer or float, not complex128"),
    ("prune.prune_nm", "object dtype", lambda: prune_nm(np.ones((1, 4), object), P14), TypeError,
     "integer or float, not object"),
    ("prune.prune_nm", "1-D", lambda: prune_nm(np.zeros(8), P14), ValueError,
     r"non-empty 2-D \(rows, K\) matrix, not shape \(8,\)"),
    ("prune.prune_nm", "empty", lambda: prune_nm(np.zeros((3, 0)), P14), ValueError,
     r"not shape \(3, 0\)"),
    ("prune.prune_nm", "NaN", lambda: prune_nm(np.array([[1.0, np.nan]]), P14), ValueError,
     "weights contain NaN .*at row 0, column 1"),
    ("prune.prune_nm", "+inf (was kept)", lambda: prune_nm(np.array([[1.0, 0, np.inf]]), P14),
     ValueError, r"weights contain inf \(first non-finite: inf at row 0, column 2\); magnitude "
     "pruning needs finite values"),
    ("prune.prune_nm", "-inf", lambda: prune_nm(np.array([[-np.inf, 1.0]], np.float32), P14),
     ValueError, "weights contain inf"),
    ("prune.prune_nm", "pattern tuple", lambda: prune_nm(np.zeros((1, 4)), (1, 4)), TypeError,
     "pattern must be a Pattern, not tuple"),
    ("prune.conv_weight_matrix", "list", lambda: conv_weight_matrix([[[[1]]]]), TypeError,
     "conv weights must be a numpy array, not list"),
    ("prune.conv_weight_matrix", "2-D", lambda: conv_weight_matrix(np.zeros((2, 3))), ValueError,
     r"non-empty 4-D \(Cout, kh, kw, Cin\) array, not shape \(2, 3\)"),
    ("prune.conv_weight_matrix", "Cout = 0", lambda: conv_weight_matrix(np.zeros((0, 3, 3, 1))),
     ValueError, r"not shape \(0, 3, 3, 1\)"),
    ("prune.ohwi_from_oihw", "None", lambda: ohwi_from_oihw(None), TypeError,
     "conv weights must be a numpy array, not NoneType"),
    ("prune.ohwi_from_oihw", "3-D", lambda: ohwi_from_oihw(np.zeros((2, 3, 3))), ValueError,
     r"4-D \(Cout, Cin, kh, kw\) array, not shape \(2, 3, 3\)"),
    ("prune.ohwi_from_oihw", "Cin = 0", lambda: ohwi_from_oihw(np.zeros((1, 0, 3, 3))),
     ValueError, "non-empty"),
    # --- quant ---------------------------------------------------------------------------------
    ("quant.Requant", "mult 0", lambda: Requant(0, 0), ValueError,
     "requant mult must be an integer in 1..2\\^31-1, not 0"),
    ("quant.Requant", "mult 2^31", lambda: Requant(2**31, 0), ValueError, "not 2147483648"),
    ("quant.Requant", "mult float", lambda: Requant(1.5, 0), TypeError,
     "requant mult must be an integer, not float 1.5"),
    ("quant.Requant", "mult inf", lambda: Requant(float("inf"), 0), TypeError, "not float inf"),
    ("quant.Requant", "mult NaN", lambda: Requant(float("nan"), 0), TypeError, "not float nan"),
    ("quant.Requant", "mult bool", lambda: Requant(True, 0), TypeError, "not the bool True"),
    ("quant.Requant", "shift 32", lambda: Requant(1, 32), ValueError,
     "requant shift must be an integer in 0..31, not 32"),
    ("quant.Requant", "shift -1", lambda: Requant(1, -1), ValueError, "not -1"),
    ("quant.Requant", "shift float", lambda: Requant(1, 2.0), TypeError,
     "requant shift must be an integer, not float"),
    ("quant.Requant", "shift None", lambda: Requant(1, None), TypeError, "not NoneType"),
    ("quant.requantize", "int64 accumulators", lambda: requantize(np.array([1]), Requant(1, 0)),
     TypeError, "accumulators must be an int32 numpy array, not int64"),
    ("quant.requantize", "list", lambda: requantize([1], Requant(1, 0)), TypeError,
     "int32 numpy array, not list"),
    ("quant.requantize", "rq tuple", lambda: requantize(np.ones(1, np.int32), (1, 0)), TypeError,
     r"rq must be a Requant, not tuple \(1, 0\)"),
    ("quant.requantize", "rq None", lambda: requantize(np.ones(1, np.int32), None), TypeError,
     "rq must be a Requant, not NoneType"),
    ("quant.requantize", "acc·mult overflows",
     lambda: requantize(np.array([70000], np.int32), Requant(40000, 4)), OverflowError,
     "requantization overflows int32: acc 70000 · mult 40000"),
    ("quant.choose_requant", "acc_max 0", lambda: choose_requant(0), ValueError,
     "acc_max must be an accumulator magnitude in 1..2\\^31-1, not 0"),
    ("quant.choose_requant", "acc_max negative", lambda: choose_requant(-5), ValueError,
     "not -5"),
    ("quant.choose_requant", "acc_max 2^31", lambda: choose_requant(2**31), ValueError,
     "not 2147483648"),
    ("quant.choose_requant", "acc_max float", lambda: choose_requant(1000.0), TypeError,
     "acc_max must be an integer, not float"),
    ("quant.choose_requant", "acc_max NaN", lambda: choose_requant(float("nan")), TypeError,
     "not float nan"),
    ("quant.choose_requant", "acc_max bool", lambda: choose_requant(True), TypeError,
     "not the bool"),
    ("quant.choose_requant", "target 0", lambda: choose_requant(100, target=0), ValueError,
     "target must be an output value in 1..255, not 0"),
    ("quant.choose_requant", "target 256", lambda: choose_requant(100, target=256), ValueError,
     "not 256"),
    ("quant.choose_requant", "target float", lambda: choose_requant(100, target=100.5),
     TypeError, "target must be an integer, not float 100.5"),
    ("quant.choose_requant", "max_shift 32", lambda: choose_requant(100, max_shift=32),
     ValueError, "max_shift must be a shift in 0..31, not 32"),
    ("quant.choose_requant", "max_shift -1", lambda: choose_requant(100, max_shift=-1),
     ValueError, "not -1"),
    ("quant.quantize_weights", "int8", lambda: quantize_weights(np.array([1, 2], np.int8)),
     TypeError, "weights to quantize must be a float numpy array, not int8"),
    ("quant.quantize_weights", "list", lambda: quantize_weights([0.5]), TypeError,
     "float numpy array, not list"),
    ("quant.quantize_weights", "empty (was scale 1.0)",
     lambda: quantize_weights(np.zeros((0, 3))), ValueError,
     r"weights to quantize are empty \(shape \(0, 3\)\); a scale needs data"),
    ("quant.quantize_weights", "NaN", lambda: quantize_weights(np.array([np.nan])), ValueError,
     "contain NaN or inf"),
    ("quant.quantize_weights", "+inf", lambda: quantize_weights(np.array([1.0, np.inf])),
     ValueError, "contain NaN or inf"),
    ("quant.quantize_weights", "-inf", lambda: quantize_weights(np.array([-np.inf], np.float32)),
     ValueError, "contain NaN or inf"),
    ("quant.quantize_weights", "subnormal (scale underflows)",
     lambda: quantize_weights(np.array([5e-324, 0.0])), ValueError,
     r"too small: max\|w\| = 5e-324 gives the scale max\|w\| / 127 = 0"),
    ("quant.quantize_activations", "int input", lambda: quantize_activations(np.ones(2, int), 1.0),
     TypeError, "activations to quantize must be a float numpy array, not int64"),
    ("quant.quantize_activations", "list", lambda: quantize_activations([1.0], 1.0), TypeError,
     "not list"),
    ("quant.quantize_activations", "NaN (was 0)",
     lambda: quantize_activations(np.array([1.0, np.nan]), 1.0), ValueError,
     r"activations to quantize contain NaN or inf \(nan at index \(1,\)\)"),
    ("quant.quantize_activations", "+inf (was 255)",
     lambda: quantize_activations(np.array([[np.inf]]), 1.0), ValueError,
     r"\(inf at index \(0, 0\)\)"),
    ("quant.quantize_activations", "-inf (was 0)",
     lambda: quantize_activations(np.array([-np.inf], np.float32), 1.0), ValueError,
     "contain NaN or inf"),
    ("quant.quantize_activations", "scale 0", lambda: quantize_activations(np.ones(1), 0),
     ValueError, "activation scale must be > 0, not 0"),
    ("quant.quantize_activations", "scale negative", lambda: quantize_activations(np.ones(1), -1.0),
     ValueError, "must be > 0, not -1.0"),
    ("quant.quantize_activations", "scale inf (was all zeros)",
     lambda: quantize_activations(np.ones(1), float("inf")), ValueError,
     "activation scale must be a finite number, not inf"),
    ("quant.quantize_activations", "scale NaN", lambda: quantize_activations(np.ones(1), np.nan),
     ValueError, "must be a finite number, not nan"),
    ("quant.quantize_activations", "scale str", lambda: quantize_activations(np.ones(1), "1"),
     TypeError, "activation scale must be a real number, not str '1'"),
    ("quant.quantize_activations", "scale bool", lambda: quantize_activations(np.ones(1), True),
     TypeError, "real number, not bool"),
    ("quant.quantize_activations", "scale None", lambda: quantize_activations(np.ones(1), None),
     TypeError, "real number, not NoneType"),
    # --- kernels -------------------------------------------------------------------------------
    ("kernels.fc_dense", "x int8", lambda: fc_dense(X16.view(np.int8), W), TypeError,
     "activations must be a uint8 numpy array, not int8"),
    ("kernels.fc_dense", "x float", lambda: fc_dense(X16.astype(float), W), TypeError,
     "uint8 numpy array, not float64"),
    ("kernels.fc_dense", "x list", lambda: fc_dense(list(X16), W), TypeError,
     "uint8 numpy array, not list"),
    ("kernels.fc_dense", "x wrong K", lambda: fc_dense(X16[:15], W), ValueError,
     r"shape \(K,\) or \(pixels, K\) with K = 16, not \(15,\)"),
    ("kernels.fc_dense", "x 3-D", lambda: fc_dense(X16.reshape(1, 1, 16), W), ValueError,
     r"not \(1, 1, 16\)"),
    ("kernels.fc_dense", "x no pixels", lambda: fc_dense(np.zeros((0, 16), np.uint8), W),
     ValueError, r"not \(0, 16\)"),
    ("kernels.fc_dense", "w int16", lambda: fc_dense(X16, W.astype(np.int16)), TypeError,
     "weights must be a 2-D int8 numpy array, not int16"),
    ("kernels.fc_dense", "w 1-D", lambda: fc_dense(X16, W[0]), TypeError,
     r"2-D int8 numpy array, not int8 \(16,\)"),
    ("kernels.fc_dense", "K = 0 (was the bias)",
     lambda: fc_dense(np.zeros(0, np.uint8), np.zeros((2, 0), np.int8)), ValueError,
     r"weights must be a non-empty \(Cout, K\) matrix, not shape \(2, 0\)"),
    ("kernels.fc_dense", "Cout = 0", lambda: fc_dense(X16, np.zeros((0, 16), np.int8)),
     ValueError, r"not shape \(0, 16\)"),
    ("kernels.fc_dense", "bias list", lambda: fc_dense(X16, W, [0, 0]), TypeError,
     r"bias must be an int32 numpy array of shape \(2,\), not list"),
    ("kernels.fc_dense", "bias int64", lambda: fc_dense(X16, W, np.zeros(2, np.int64)),
     TypeError, "bias must be an int32 numpy array .*, not int64"),
    ("kernels.fc_dense", "bias wrong shape", lambda: fc_dense(X16, W, np.zeros(3, np.int32)),
     ValueError, r"bias must be an int32 array of shape \(2,\), not shape \(3,\)"),
    ("kernels.fc_dense", "rq tuple", lambda: fc_dense(X16, W, rq=(1, 0)), TypeError,
     r"rq must be a Requant or None, not tuple \(1, 0\)"),
    ("kernels.fc_dense", "sum overflows int32",
     lambda: fc_dense(np.full(70000, 255, np.uint8), np.full((1, 70000), -128, np.int8)),
     OverflowError, r"int32 accumulator overflow: -2284800000 at index \(0, 0\) \(pixel 0, "
     "output 0\\): the exact bias \\+ Σ w·x must fit int32"),
    ("kernels.fc_dense", "bias + sum overflows",
     lambda: fc_dense(X16, W, np.array([0, 2**31 - 1], np.int32)), OverflowError,
     r"int32 accumulator overflow: 2147483731 at index \(0, 1\) \(pixel 0, output 1\)"),
    ("kernels.fc_sparse", "bias + 1 overflows (was -2^31)",
     lambda: fc_sparse(np.ones((1, 16), np.uint8), compress(np.eye(1, 16, dtype=np.int8), P14),
                       np.array([2**31 - 1], np.int32)),
     OverflowError, r"int32 accumulator overflow: 2147483648 at index \(0, 0\)"),
    ("kernels.fc_sparse", "bias + 1 overflows, requantized (was 0)",
     lambda: fc_sparse(np.ones((1, 16), np.uint8), compress(np.eye(1, 16, dtype=np.int8), P14),
                       np.array([2**31 - 1], np.int32), Requant(1, 24)),
     OverflowError, "int32 accumulator overflow: 2147483648"),
    ("kernels.fc_sparse", "negative overflow, P = 4, third pixel",
     lambda: fc_sparse(np.array([[0] * 16, [0] * 16, [9] * 16, [0] * 16], np.uint8),
                       compress(-np.eye(1, 16, dtype=np.int8), P14),
                       np.array([-(2**31) + 8], np.int32), p=4),
     OverflowError, r"-2147483649 at index \(2, 0\) \(pixel 2, output 0\)"),
    ("kernels.fc_sparse", "image ndarray", lambda: fc_sparse(X16, W), TypeError,
     "expected an NMImage, not ndarray"),
    ("kernels.fc_sparse", "image tuple", lambda: fc_sparse(X16, (P14, 2, 16, IMG.data)),
     TypeError, "expected an NMImage, not tuple"),
    ("kernels.fc_sparse", "x wrong K", lambda: fc_sparse(X16[:8], IMG), ValueError,
     r"with K = 16, not \(8,\)"),
    ("kernels.fc_sparse", "x int8", lambda: fc_sparse(X16.view(np.int8), IMG), TypeError,
     "uint8 numpy array, not int8"),
    ("kernels.fc_sparse", "P = 3", lambda: fc_sparse(X16, IMG, p=3), ValueError,
     "P must be 1, 2 or 4, not 3"),
    ("kernels.fc_sparse", "P = 8", lambda: fc_sparse(X16, IMG, p=8), ValueError, "not 8"),
    ("kernels.fc_sparse", "P float", lambda: fc_sparse(X16, IMG, p=2.0), TypeError,
     "P must be an integer, not float"),
    ("kernels.fc_sparse", "P bool", lambda: fc_sparse(X16, IMG, p=True), TypeError,
     "P must be an integer, not the bool"),
    ("kernels.fc_sparse", "rq tuple", lambda: fc_sparse(X16, IMG, rq=(1, 0)), TypeError,
     "rq must be a Requant or None, not tuple"),
    ("kernels.fc_sparse", "bias wrong shape", lambda: fc_sparse(X16, IMG, np.zeros(1, np.int32)),
     ValueError, r"shape \(2,\), not shape \(1,\)"),
    ("kernels.fc_sparse_gather", "bias + 1 overflows",
     lambda: fc_sparse_gather(np.ones(16, np.uint8), compress(np.eye(1, 16, dtype=np.int8), P14),
                              np.array([2**31 - 1], np.int32)),
     OverflowError, "int32 accumulator overflow: 2147483648"),
    ("kernels.fc_sparse_gather", "image ndarray", lambda: fc_sparse_gather(X16, W), TypeError,
     "expected an NMImage"),
    ("kernels.fc_sparse_gather", "rq int", lambda: fc_sparse_gather(X16, IMG, rq=1), TypeError,
     "rq must be a Requant or None, not int 1"),
    ("kernels.fc_sparse_gather", "x no pixels",
     lambda: fc_sparse_gather(np.zeros((0, 16), np.uint8), IMG), ValueError,
     r"not \(0, 16\)"),
    ("kernels.sdotusp_b", "acc 2^32", lambda: sdotusp_b(U32, 0, 0), ValueError,
     "acc must be a 32-bit register value in -2\\^31..2\\^32-1, not 4294967296"),
    ("kernels.sdotusp_b", "a below -2^31", lambda: sdotusp_b(0, -(2**31) - 1, 0), ValueError,
     "a must be a 32-bit register value"),
    ("kernels.sdotusp_b", "b 2^100", lambda: sdotusp_b(0, 0, 2**100), ValueError,
     "b must be a 32-bit register value"),
    ("kernels.sdotusp_b", "a float", lambda: sdotusp_b(0, 1.0, 0), TypeError,
     "a must be an integer, not float"),
    ("kernels.sdotusp_b", "acc None", lambda: sdotusp_b(None, 0, 0), TypeError,
     "acc must be an integer, not NoneType"),
    ("kernels.pixel_chunks", "pixels negative", lambda: pixel_chunks(-1, 2), ValueError,
     "pixels must be ≥ 0, not -1"),
    ("kernels.pixel_chunks", "pixels 2.5 (looped forever)", lambda: pixel_chunks(2.5, 2),
     TypeError, "pixels must be an integer, not float 2.5"),
    ("kernels.pixel_chunks", "pixels str", lambda: pixel_chunks("4", 2), TypeError,
     "not str '4'"),
    ("kernels.pixel_chunks", "P = 3", lambda: pixel_chunks(4, 3), ValueError,
     "P must be 1, 2 or 4, not 3"),
    ("kernels.pixel_chunks", "P float", lambda: pixel_chunks(4, 2.0), TypeError,
     "P must be an integer, not float"),
    ("kernels.pixel_chunks", "P bool", lambda: pixel_chunks(4, True), TypeError,
     "not the bool True"),
    ("kernels.conv2d_out_shape", "H = 0 (was a 2x2 output of padding)",
     lambda: conv2d_out_shape(0, 4, 1, 1, 1, 1), ValueError,
     "h must be a positive integer, not 0"),
    ("kernels.conv2d_out_shape", "W negative", lambda: conv2d_out_shape(4, -1, 1, 1, 1, 0),
     ValueError, "w must be a positive integer, not -1"),
    ("kernels.conv2d_out_shape", "kh 0", lambda: conv2d_out_shape(4, 4, 0, 1, 1, 0), ValueError,
     "kh must be a positive integer, not 0"),
    ("kernels.conv2d_out_shape", "stride 0", lambda: conv2d_out_shape(4, 4, 3, 3, 0, 0),
     ValueError, "stride must be a positive integer, not 0"),
    ("kernels.conv2d_out_shape", "pad -1", lambda: conv2d_out_shape(4, 4, 3, 3, 1, -1),
     ValueError, "pad must be a non-negative integer, not -1"),
    ("kernels.conv2d_out_shape", "stride float", lambda: conv2d_out_shape(4, 4, 3, 3, 1.5, 0),
     TypeError, "stride must be an integer, not float 1.5"),
    ("kernels.conv2d_out_shape", "stride inf",
     lambda: conv2d_out_shape(4, 4, 3, 3, float("inf"), 0), TypeError, "not float inf"),
    ("kernels.conv2d_out_shape", "pad None", lambda: conv2d_out_shape(4, 4, 3, 3, 1, None),
     TypeError, "pad must be an integer, not NoneType"),
    ("kernels.conv2d_out_shape", "H bool", lambda: conv2d_out_shape(True, 4, 1, 1, 1, 0),
     TypeError, "h must be an integer, not the bool"),
    ("kernels.conv2d_out_shape", "kernel does not fit", lambda: conv2d_out_shape(2, 2, 3, 3, 1, 0),
     ValueError, "a 3x3 kernel does not fit a 2x2 input with pad 0"),
    ("kernels.im2col", "x int8", lambda: im2col(ONE.view(np.int8), 1, 1), TypeError,
     "conv input must be a uint8 \\(H, W, Cin\\) array, not int8"),
    ("kernels.im2col", "x 2-D", lambda: im2col(ONE[0], 1, 1), TypeError,
     r"\(H, W, Cin\) array, not uint8 \(1, 1\)"),
    ("kernels.im2col", "Cin = 0", lambda: im2col(np.zeros((2, 2, 0), np.uint8), 1, 1),
     ValueError, r"conv input must be non-empty, not shape \(2, 2, 0\)"),
    ("kernels.im2col", "H = 0", lambda: im2col(np.zeros((0, 2, 1), np.uint8), 1, 1, pad=1),
     ValueError, "non-empty"),
    ("kernels.im2col", "kh 0", lambda: im2col(ONE, 0, 1), ValueError,
     "kh must be a positive integer, not 0"),
    ("kernels.im2col", "stride 0", lambda: im2col(ONE, 1, 1, stride=0), ValueError,
     "stride must be a positive integer"),
    ("kernels.conv2d_dense", "x list", lambda: conv2d_dense([[[1]]], W4), TypeError,
     "conv input must be a uint8 \\(H, W, Cin\\) array, not list"),
    ("kernels.conv2d_dense", "x int8", lambda: conv2d_dense(ONE.view(np.int8), W4), TypeError,
     "not int8"),
    ("kernels.conv2d_dense", "w int16", lambda: conv2d_dense(ONE, W4.astype(np.int16)),
     TypeError, r"conv weights must be an int8 \(Cout, kh, kw, Cin\) array, not int16"),
    ("kernels.conv2d_dense", "w 3-D", lambda: conv2d_dense(ONE, W4[0]), TypeError,
     "not int8 \\(1, 1, 1\\)"),
    ("kernels.conv2d_dense", "Cout = 0", lambda: conv2d_dense(ONE, W4[:0]), ValueError,
     r"conv weights must be non-empty, not shape \(0, 1, 1, 1\)"),
    ("kernels.conv2d_dense", "Cin mismatch",
     lambda: conv2d_dense(np.zeros((4, 4, 2), np.uint8), np.zeros((1, 3, 3, 3), np.int8)),
     ValueError, "conv weights have Cin = 3, the input has 2"),
    ("kernels.conv2d_dense", "kernel does not fit",
     lambda: conv2d_dense(np.zeros((2, 2, 3), np.uint8), np.zeros((1, 3, 3, 3), np.int8)),
     ValueError, "does not fit"),
    ("kernels.conv2d_dense", "rq tuple", lambda: conv2d_dense(ONE, W4, rq=(1, 0)), TypeError,
     "rq must be a Requant or None"),
    ("kernels.conv2d_dense", "bias + sum overflows",
     lambda: conv2d_dense(ONE, W4, np.array([2**31 - 1], np.int32)), OverflowError,
     "int32 accumulator overflow: 2147483648"),
    ("kernels.conv2d_sparse", "image ndarray (was AttributeError)",
     lambda: conv2d_sparse(ONE, W, 1, 1), TypeError, "expected an NMImage, not ndarray"),
    ("kernels.conv2d_sparse", "x list", lambda: conv2d_sparse([[[1]]], IMG, 4, 4), TypeError,
     "conv input must be a uint8"),
    ("kernels.conv2d_sparse", "K mismatch",
     lambda: conv2d_sparse(np.zeros((4, 4, 2), np.uint8), IMG, 3, 3), ValueError,
     "compressed weights have K = 16, a 3x3x2 kernel needs 18"),
    ("kernels.conv2d_sparse", "kh float", lambda: conv2d_sparse(np.zeros((4, 4, 1), np.uint8),
                                                                 IMG, 4.0, 4), TypeError,
     "kh must be an integer, not float"),
    ("kernels.conv2d_sparse", "P = 3",
     lambda: conv2d_sparse(np.zeros((4, 4, 1), np.uint8), IMG, 4, 4, p=3), ValueError,
     "P must be 1, 2 or 4, not 3"),
    ("kernels.conv2d_sparse", "bias + 1 overflows (was wrapped)",
     lambda: conv2d_sparse(np.ones((1, 1, 16), np.uint8),
                           compress(np.eye(1, 16, dtype=np.int8), P14), 1, 1,
                           np.array([2**31 - 1], np.int32)),
     OverflowError, "int32 accumulator overflow: 2147483648"),
    # --- selfcheck -----------------------------------------------------------------------------
    ("selfcheck.run_selfcheck", "quick str", lambda: run_selfcheck(quick="no"), TypeError,
     "quick must be a bool, not str 'no'"),
    ("selfcheck.run_selfcheck", "quick int", lambda: run_selfcheck(quick=1), TypeError,
     "quick must be a bool, not int 1"),
    ("selfcheck.run_selfcheck", "seed negative", lambda: run_selfcheck(quick=True, seed=-1),
     ValueError, "seed must be a non-negative integer, not -1"),
    ("selfcheck.run_selfcheck", "seed float", lambda: run_selfcheck(quick=True, seed=1.5),
     TypeError, "seed must be an integer, not float"),
    ("selfcheck.report_section", "ctx None", lambda: report_section(None), TypeError,
     "report context must have a bool attribute quick, not NoneType with quick = None"),
    ("selfcheck.report_section", "ctx quick str",
     lambda: report_section(SimpleNamespace(quick="yes")), TypeError, "quick = 'yes'"),
]


@pytest.mark.parametrize(("call", "exc", "msg"),
                         [pytest.param(c, e, m, id=f"{t}: {n}") for t, n, c, e, m in BAD])
def test_bad_input_is_rejected_naming_value_and_rule(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def _same_as_int_registers():
    np_regs = xdec_lb(np.uint32(CSR), np.int64(10), np.uint8(0b1110), np.uint32(7), MEM)
    return np_regs == xdec_lb(CSR, 10, 0b1110, 7, MEM) and {type(v) for v in np_regs} == {int}


def _partial_sums_leave_int32():
    # Group 0 adds +255 to a bias of 2^31 - 200 (out of int32), group 1 subtracts it again:
    # the exact final sum fits, so every kernel returns it (the C registers wrap and come back).
    w = np.zeros((1, 32), np.int8)
    w[0, 0], w[0, 16] = 1, -1
    x = np.full((1, 32), 255, np.uint8)
    b = np.array([2**31 - 200], np.int32)
    img = compress(w, P14)
    outs = [fc_dense(x, w, b), fc_sparse(x, img, b, p=1), fc_sparse_gather(x, img, b)]
    return all(o.tolist() == [[2**31 - 200]] for o in outs)


def _image_is_a_frozen_copy():
    data = IMG.data.copy()
    img = NMImage(P14, 2, 16, data)
    data[0] = 99  # the caller's array is not the image
    return bool(img.data is not data and not img.data.flags.writeable and img.values(0)[0] == 5)


# (target, case name, call, predicate on the result): legal but odd input, documented results.
DOCUMENTED: list[tuple[str, str, object, object]] = [
    ("quant.quantize_weights", "all-zero weights: scale 1.0 (docs/quantization.md)",
     lambda: quantize_weights(np.zeros((2, 3), np.float32)),
     lambda r: r[1] == 1.0 and r[0].dtype == np.int8 and not r[0].any()),
    ("quant.quantize_weights", "float16 weights are scaled in float64",
     lambda: quantize_weights(np.array([2.0**-20, -(2.0**-22)], np.float16)),
     lambda r: r[0].tolist() == [127, -32] and r[1] == 2.0**-20 / 127),
    ("quant.quantize_activations", "empty in, empty out",
     lambda: quantize_activations(np.zeros((0, 4)), 0.5),
     lambda r: r.shape == (0, 4) and r.dtype == np.uint8),
    ("quant.quantize_activations", "numpy scale", lambda: quantize_activations(
        np.array([1.0, 300.0], np.float16), np.float32(0.5)), lambda r: r.tolist() == [2, 255]),
    ("quant.requantize", "empty in, empty out",
     lambda: requantize(np.zeros(0, np.int32), Requant(1, 0)),
     lambda r: r.shape == (0,) and r.dtype == np.uint8),
    ("quant.Requant", "numpy integers become ints", lambda: Requant(np.int64(3), np.uint8(2)),
     lambda r: r == Requant(3, 2) and type(r.mult) is int and type(r.shift) is int),
    ("quant.choose_requant", "largest acc_max", lambda: choose_requant(2**31 - 1),
     lambda r: isinstance(r, Requant)),
    ("kernels.pixel_chunks", "0 pixels: no chunks", lambda: pixel_chunks(0, 4),
     lambda r: r == []),
    ("kernels.sdotusp_b", "signed and unsigned views of a register agree",
     lambda: (sdotusp_b(-1, 1, 1), sdotusp_b(0xFFFFFFFF, 1, 1)), lambda r: r == (0, 0)),
    ("kernels.fc_sparse", "partial sums may leave int32: the exact result",
     _partial_sums_leave_int32, lambda r: r is True),
    ("nm_format.Pattern", "numpy integers become ints", lambda: Pattern(np.int64(2), np.uint8(8)),
     lambda r: r == Pattern(2, 8) and type(r.n) is int and str(r) == "2:8"),
    ("nm_format.Pattern.parse", "whitespace around the numbers", lambda: Pattern.parse(" 1 : 8"),
     lambda r: r == P18),
    ("nm_format.NMImage", "data is a read-only copy", _image_is_a_frozen_copy,
     lambda r: r is True),
    ("nm_format.footprint", "huge layer: exact Python ints", lambda: footprint(10**9, 10**9, P18),
     lambda r: r.sparse_bytes == 10**9 * 125_000_000 * 3 // 2 and r.saving == 0.8125),
    ("nm_format.padded_k", "huge K", lambda: padded_k(2**70 + 1, P14),
     lambda r: r == 2**70 + 16),
    ("prune.prune_nm", "int64 extremes are ranked exactly (not via float64)",
     lambda: prune_nm(np.array([[2**53 + 1, -(2**53), 3, 0, 2**62, -(2**63), 0, 0]],
                               np.int64), P14),
     lambda r: r.tolist() == [[2**53 + 1, 0, 0, 0, 0, -(2**63), 0, 0]]),
    ("prune.prune_nm", "uint64 extremes", lambda: prune_nm(
        np.array([[2**64 - 2, 2**64 - 1, 0, 0]], np.uint64), P14),
     lambda r: r.tolist() == [[0, 2**64 - 1, 0, 0]]),
    ("xdec_ref.xdec_lb", "numpy registers: same result, plain ints", _same_as_int_registers,
     lambda r: r is True),
    ("xdec_ref.xdec_lb", "memory returning numpy bytes",
     lambda: xdec_lb(CSR, 3, 0, 0, np.arange(256, dtype=np.uint8)),
     lambda r: r.rd == 3 and type(r.rd) is int),
    ("xdec_ref.xdec_lb", "largest register values",
     lambda: xdec_lb(csr_pack(m=16, n=1, cnt=0xFFFF), U32 - 1, U32 - 1, U32 - 1, lambda a: 0),
     lambda r: r.csr == csr_pack(m=16, n=1, cnt=0) and r.rd == 0x00FFFFFF),
    ("xdec_ref.csr_write", "all ones: reserved bits dropped", lambda: csr_write(U32 - 1),
     lambda r: r == spec.CSR_WRITE_MASK),
    ("xdec_ref.csr_write", "numpy value", lambda: csr_write(np.uint32(7 << 16)),
     lambda r: r == 7 << 16 and type(r) is int),
    ("xdec_spec.Encoding.encode", "numpy register numbers",
     lambda: spec.instruction("xdec.lb").encode(np.int64(29), np.uint8(12), 28),
     lambda r: r == 0x01C66EAB),
]


@pytest.mark.parametrize(("call", "ok"),
                         [pytest.param(c, p, id=f"{t}: {n}") for t, n, c, p in DOCUMENTED])
def test_odd_but_legal_input_has_the_documented_result(call, ok):
    assert ok(call())


#: Public names that take no input worth walking, with the reason.
NO_INPUT = {
    "xdec_spec.csr_markdown_table": "no arguments",
    "xdec_spec.encoding_markdown_table": "no arguments",
    "xdec_spec.semantics_markdown_table": "no arguments",
    "xdec_ref.IllegalInstruction": "the trap itself (raised, never validated)",
    "xdec_ref.XdecAccess": "a result record the reference returns",
    "xdec_ref.XdecResult": "a result record the reference returns",
    "selfcheck.SelfCheck": "a result record run_selfcheck returns",
}


def test_every_public_function_is_walked():
    walked = {t for t, *_ in BAD}
    missing = []
    for name in MODULES:
        mod = importlib.import_module(f"xdecimate.sw.model.{name}")
        for attr in mod.__all__:
            if not callable(getattr(mod, attr)) or isinstance(getattr(mod, attr), type(spec)):
                continue  # constants
            key = f"{name}.{attr}"
            if key not in walked and key not in NO_INPUT:
                missing.append(key)
    assert not missing, f"public functions without a bad-input case: {missing}"


# --- properties ----------------------------------------------------------------------------------

#: Every message an image rejection may carry: the row, then the rule.
IMAGE_RULE = (r"^row \d+(: byte \d+ of the row record is 0x[0-9A-F]{2}; the padding after the "
              r"index units must be 0| slot \d+: index \d+ is outside a block of \d+ | block \d+: "
              r"(two slots at the same position|slot positions .* are not ascending)| slot \d+: "
              r"weight -?\d+ at column \d+: the image has non-zero weights in the padding beyond K"
              r"| block \d+: filler slot)")


@st.composite
def corrupted_images(draw):
    pattern = draw(st.sampled_from(PATTERNS))
    rows, k = draw(st.integers(1, 4)), draw(st.integers(1, 80))
    w = draw(hnp.arrays(np.int8, (rows, k), elements=st.integers(-128, 127)))
    w = np.where(draw(hnp.arrays(np.bool_, (rows, k))), w, 0).astype(np.int8)
    img = compress(prune_nm(w, pattern), pattern)
    data = img.data.copy()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, data.size - 1))
        if draw(st.booleans()):
            data[i] ^= 1 << draw(st.integers(0, 7))  # a bit flip
        else:
            data[i] = draw(st.integers(0, 255))  # a byte
    return pattern, rows, k, data


@given(corrupted_images())
def test_corrupted_images_are_rejected_or_canonical(case):
    pattern, rows, k, data = case
    try:
        img = NMImage(pattern, rows, k, data)
    except ValueError as exc:
        error = str(exc)
    else:  # accepted: then it is exactly the canonical image of its matrix
        assert np.array_equal(compress(decompress(img), pattern).data, data)
        return
    assert re.match(IMAGE_RULE, error), error


out_of_u32 = st.one_of(st.integers(max_value=-1), st.integers(min_value=U32))


@given(bad=out_of_u32, slot=st.integers(0, 3))
def test_no_register_value_is_cut_to_32_bits(bad, slot):
    args = [CSR, 0, 0, 0]
    args[slot] = bad
    with pytest.raises(ValueError, match=r"must be a 32-bit register value 0\.\.0xFFFFFFFF"):
        xdec_lb(*args, MEM)
    if slot < 3:
        with pytest.raises(ValueError, match="must be a 32-bit register value"):
            xdec_access(*args[:3])
    with pytest.raises(ValueError, match="must be a 32-bit register value"):
        csr_write(bad)
    with pytest.raises(ValueError, match="must be a 32-bit register value"):
        XdecConfig.from_csr(bad)


def _outcome(f):
    try:
        return f().tolist()
    except OverflowError:
        return "OverflowError"


@st.composite
def overflowing_fc(draw):
    pattern = draw(st.sampled_from(PATTERNS))
    rows, k, pix = draw(st.integers(1, 3)), draw(st.integers(1, 40)), draw(st.integers(1, 5))
    w = prune_nm(draw(hnp.arrays(np.int8, (rows, k), elements=st.integers(-128, 127))), pattern)
    x = draw(hnp.arrays(np.uint8, (pix, k), elements=st.integers(0, 255)))
    near = st.one_of(st.integers(2**31 - 2**19, 2**31 - 1), st.integers(-(2**31), -(2**31) + 2**19))
    bias = draw(hnp.arrays(np.int32, (rows,), elements=near))
    rq = draw(st.sampled_from([None, Requant(1, 24)]))
    return pattern, w, x, bias, rq, draw(st.sampled_from([1, 2, 4]))


@given(overflowing_fc())
def test_every_fc_kernel_overflows_like_fc_dense(case):
    pattern, w, x, bias, rq, p = case
    img = compress(w, pattern)
    want = _outcome(lambda: fc_dense(x, w, bias, rq))
    assert _outcome(lambda: fc_sparse(x, img, bias, rq, p=p)) == want
    assert _outcome(lambda: fc_sparse_gather(x, img, bias, rq)) == want


@given(pattern=st.sampled_from(PATTERNS), bias=st.integers(2**31 - 3000, 2**31 - 1),
       data=st.data())
def test_conv_kernels_overflow_alike(pattern, bias, data):
    x = data.draw(hnp.arrays(np.uint8, (3, 3, 2), elements=st.integers(0, 255)))
    wt = data.draw(hnp.arrays(np.int8, (1, 2, 2, 2), elements=st.integers(-4, 4)))
    wm = prune_nm(wt.reshape(1, -1), pattern)
    b = np.array([bias], np.int32)
    img = compress(wm, pattern)
    want = _outcome(lambda: conv2d_dense(x, wm.reshape(wt.shape), b, pad=1))
    assert _outcome(lambda: conv2d_sparse(x, img, 2, 2, b, pad=1)) == want
