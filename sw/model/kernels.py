"""Bit-exact reference kernels: dense and N:M-sparse fully-connected and 2-D convolution.

Data types follow PULP-NN: activations uint8 (HWC), weights int8, accumulators int32 (bias
included), outputs uint8 after :func:`xdecimate.sw.model.quant.requantize`.  Accumulation overflow
is an error, never a silent wrap (the C kernels accumulate in 32-bit registers).

The sparse kernels walk the compressed image (:mod:`xdecimate.sw.model.nm_format`) exactly as the
xDecimate inner loop does: per output row and per chunk of P pixels, the ``xdec`` CSR is written
once (cnt = 0, M, N, P); per group of 4 NZ slots one weight word and one index unit are read, then
4·P ``xdec.lb`` (pixel streams interleaved lane by lane: A0 B0 A1 B1 ...) gather the activations
into one register per pixel (calling the executable reference
:func:`xdecimate.sw.model.xdec_ref.xdec_lb`), and one ``sdotusp.b`` per pixel accumulates -- in
exact integers, not wrapped to 32 bits like the instruction (:func:`sdotusp_b`), so that a sum
leaving int32 raises ``OverflowError`` as in the dense kernels.  (Partial sums may leave int32:
two's-complement registers wrap and come back, so the C result equals the exact sum whenever
that fits; the check is on the exact final sum, bias included.)

Bad input raises ``TypeError`` (wrong type or dtype) or ``ValueError`` (wrong shape, empty, out
of range) naming the value and the rule; see ``tests/sw/model/test_bad_input.py``.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_int, check_type
from .nm_format import NMImage, check_image
from .quant import Requant, requantize
from .xdec_ref import csr_pack, xdec_lb

__all__ = [
    "conv2d_dense",
    "conv2d_out_shape",
    "conv2d_sparse",
    "fc_dense",
    "fc_sparse",
    "fc_sparse_gather",
    "im2col",
    "pixel_chunks",
    "sdotusp_b",
]

_I32_MIN, _I32_MAX = -(1 << 31), (1 << 31) - 1


def _as_pixels(x: np.ndarray, k: int) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8:
        raise TypeError(f"activations must be a uint8 numpy array, not "
                        f"{getattr(x, 'dtype', type(x).__name__)}")
    x2 = x[None, :] if x.ndim == 1 else x
    if x2.ndim != 2 or x2.shape[1] != k or x2.shape[0] == 0:
        raise ValueError(f"activations must have shape (K,) or (pixels, K) with K = {k}, "
                         f"not {x.shape}")
    return x2


def _bias(bias: np.ndarray | None, rows: int) -> np.ndarray:
    if bias is None:
        return np.zeros(rows, dtype=np.int64)
    if not isinstance(bias, np.ndarray) or bias.dtype != np.int32:
        raise TypeError(f"bias must be an int32 numpy array of shape ({rows},), not "
                        f"{getattr(bias, 'dtype', type(bias).__name__)}")
    if bias.shape != (rows,):
        raise ValueError(f"bias must be an int32 array of shape ({rows},), not shape "
                         f"{bias.shape}")
    return bias.astype(np.int64)


def _check_rq(rq: Requant | None) -> None:
    if rq is not None:
        check_type("rq", rq, Requant, "a Requant or None")


def _check_p(p: int) -> int:
    p = as_int("P", p)
    if p not in (1, 2, 4):
        raise ValueError(f"P must be 1, 2 or 4, not {p!r}")
    return p


def _to_i32(acc: np.ndarray) -> np.ndarray:
    bad = (acc < _I32_MIN) | (acc > _I32_MAX)
    if bad.any():
        pix, out = (int(i) for i in np.argwhere(bad)[0])
        raise OverflowError(f"int32 accumulator overflow: {int(acc[pix, out])} at index "
                            f"{(pix, out)} (pixel {pix}, output {out}): the exact bias + Σ w·x "
                            "must fit int32, the C kernels would wrap")
    return acc.astype(np.int32)


def _finish(acc: np.ndarray, rq: Requant | None) -> np.ndarray:
    acc32 = _to_i32(acc)
    return acc32 if rq is None else requantize(acc32, rq)


def fc_dense(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None,
             rq: Requant | None = None) -> np.ndarray:
    """Dense fully-connected layer.

    Parameters
    ----------
    x : uint8 activations, shape (K,) or (pixels, K).
    w : int8 weights, shape (Cout, K).
    bias : optional int32 bias, shape (Cout,).
    rq : optional requantization; without it the int32 accumulators are returned.

    Returns
    -------
    int32 (pixels, Cout) accumulators, or uint8 (pixels, Cout) with ``rq``.

    Raises
    ------
    TypeError
        A wrong type or dtype (``x`` not uint8, ``w`` not int8, ``bias`` not int32, ``rq`` not
        a :class:`Requant`).
    ValueError
        A wrong or empty shape.
    OverflowError
        An exact accumulator (bias included) leaves int32, or its requantization does.
    """
    if not isinstance(w, np.ndarray) or w.dtype != np.int8 or w.ndim != 2:
        raise TypeError(f"weights must be a 2-D int8 numpy array, not "
                        f"{getattr(w, 'dtype', type(w).__name__)} {getattr(w, 'shape', '')}")
    if 0 in w.shape:
        raise ValueError(f"weights must be a non-empty (Cout, K) matrix, not shape {w.shape}")
    _check_rq(rq)
    xp = _as_pixels(x, w.shape[1])
    acc = xp.astype(np.int64) @ w.astype(np.int64).T + _bias(bias, w.shape[0])
    return _finish(acc, rq)


def sdotusp_b(acc: int, a: int, b: int) -> int:
    """``cv.sdotusp.b``: acc + Σ unsigned bytes of ``a`` × signed bytes of ``b`` (32-bit wrap).

    The instruction on 32-bit registers: ``acc``, ``a``, ``b`` are integers in -2^31..2^32-1
    (either reading of a register, signed or unsigned); the result is the signed int32 value of
    the destination register.  The wrap is the instruction's; the kernels do not use it.
    """
    acc, a, b = (as_int(name, v, -(1 << 31), (1 << 32) - 1,
                        rule="a 32-bit register value in -2^31..2^32-1")
                 for name, v in (("acc", acc), ("a", a), ("b", b)))
    s = (acc + _dot4(a & 0xFFFFFFFF, b & 0xFFFFFFFF)) & 0xFFFFFFFF
    return s - (1 << 32) if s & 0x80000000 else s


def _dot4(a: int, b: int) -> int:
    """Σ unsigned bytes of ``a`` × signed bytes of ``b``, exact (unchecked: 32-bit ints)."""
    s = 0
    for i in range(4):
        ua = (a >> (8 * i)) & 0xFF
        sb = (b >> (8 * i)) & 0xFF
        s += ua * (sb - 256 if sb & 0x80 else sb)
    return s


def pixel_chunks(pixels: int, p: int) -> list[tuple[int, int]]:
    """Split ``pixels`` into (start, size) chunks of P, the tail in decreasing powers of two.

    The tail uses the P settings the hardware supports (4, 2, 1), never a partial chunk.
    ``pixels`` is an integer ≥ 0 (0 pixels: no chunks).
    """
    pixels = as_int("pixels", pixels, 0)
    p = _check_p(p)
    out, start = [], 0
    size = p
    while start < pixels:
        while size > pixels - start:
            size //= 2
        out.append((start, size))
        start += size
    return out


def fc_sparse(x: np.ndarray, img: NMImage, bias: np.ndarray | None = None,
              rq: Requant | None = None, *, p: int = 2) -> np.ndarray:
    """Sparse fully-connected layer computed by walking the compressed image with ``xdec.lb``.

    Parameters
    ----------
    x : uint8 activations, shape (K,) or (pixels, K).
    img : compressed weights (rows = Cout).
    bias, rq : as in :func:`fc_dense`.
    p : pixel streams per pass (the CSR's P): 1, 2 or 4; the tail uses smaller P.

    Returns the same as :func:`fc_dense` on ``decompress(img)``, bit for bit, and raises the
    same errors (accumulators are summed exactly, see the module docstring).
    """
    check_image(img)
    p = _check_p(p)
    _check_rq(rq)
    xp = _as_pixels(x, img.k)
    npix = xp.shape[0]
    kp = img.k_pad
    # Activation memory: pixel s occupies [s·kp, s·kp + K), zero padded to kp (padding bytes are
    # never weighted by a non-zero).
    mem = np.zeros(npix * kp, dtype=np.uint8)
    mem.reshape(npix, kp)[:, :img.k] = xp
    memb = mem.tobytes()
    acc = np.zeros((npix, img.rows), dtype=np.int64)
    bias64 = _bias(bias, img.rows)
    pat = img.pattern
    for start, size in pixel_chunks(npix, p):
        bases = [(start + s) * kp for s in range(size)]
        for r in range(img.rows):
            csr = csr_pack(m=pat.m, n=pat.n, p=size, cnt=0)
            words = img.values(r).view(np.uint8).view("<u4")
            sums = [int(bias64[r])] * size
            for g, unit in enumerate(img.index_units(r)):
                wword = int(words[g])
                regs = [0] * size
                for _lane in range(4):  # streams interleave lane by lane, as the loop does
                    for s in range(size):
                        res = xdec_lb(csr, bases[s], unit, regs[s], memb)
                        regs[s], csr = res.rd, res.csr
                for s in range(size):
                    sums[s] += _dot4(regs[s], wword)  # sdotusp.b, exact: no 32-bit wrap
            acc[start:start + size, r] = sums
    return _finish(acc, rq)


def fc_sparse_gather(x: np.ndarray, img: NMImage, bias: np.ndarray | None = None,
                     rq: Requant | None = None) -> np.ndarray:
    """Fast vectorised sparse FC from the compressed image (gather by NZ column).

    Same result and errors as :func:`fc_sparse`; used where the per-instruction walk would be
    too slow.
    """
    check_image(img)
    _check_rq(rq)
    xp = _as_pixels(x, img.k)
    xpad = np.zeros((xp.shape[0], img.k_pad), dtype=np.int64)
    xpad[:, :img.k] = xp
    cols = img.columns()  # (rows, nnz)
    vals = np.stack([img.values(r) for r in range(img.rows)]).astype(np.int64)
    acc = np.einsum("prj,rj->pr", xpad[:, cols], vals) + _bias(bias, img.rows)
    return _finish(acc, rq)


def conv2d_out_shape(h: int, w: int, kh: int, kw: int, stride: int, pad: int) -> tuple[int, int]:
    """Output (Ho, Wo) of a convolution: ``Ho = (H + 2·pad − kh) div stride + 1`` (same for W).

    ``h``, ``w``, ``kh``, ``kw``, ``stride`` are integers ≥ 1 and ``pad`` ≥ 0 (``TypeError`` /
    ``ValueError`` otherwise); the kernel must fit the padded input, ``H + 2·pad ≥ kh`` and
    ``W + 2·pad ≥ kw`` (``ValueError``).
    """
    h, w, kh, kw, stride = (as_int(name, v, 1, rule="a positive integer") for name, v in
                            (("h", h), ("w", w), ("kh", kh), ("kw", kw), ("stride", stride)))
    pad = as_int("pad", pad, 0, rule="a non-negative integer")
    if h + 2 * pad < kh or w + 2 * pad < kw:
        raise ValueError(f"a {kh}x{kw} kernel does not fit a {h}x{w} input with pad {pad}")
    return (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1


def im2col(x: np.ndarray, kh: int, kw: int, *, stride: int = 1, pad: int = 0) -> np.ndarray:
    """HWC im2col: one row per output pixel (row-major), K = kh·kw·Cin in (ky, kx, c) order.

    Padding uses activation value 0 (uint8 zero point is 0).
    """
    _check_conv_input(x)
    h, w, c = x.shape
    ho, wo = conv2d_out_shape(h, w, kh, kw, stride, pad)
    xp = np.zeros((h + 2 * pad, w + 2 * pad, c), dtype=np.uint8)
    xp[pad:pad + h, pad:pad + w] = x
    cols = np.empty((ho * wo, kh * kw * c), dtype=np.uint8)
    for oy in range(ho):
        for ox in range(wo):
            patch = xp[oy * stride:oy * stride + kh, ox * stride:ox * stride + kw, :]
            cols[oy * wo + ox] = patch.reshape(-1)
    return cols


def _check_conv_input(x: np.ndarray) -> None:
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 3:
        raise TypeError(f"conv input must be a uint8 (H, W, Cin) array, not "
                        f"{getattr(x, 'dtype', type(x).__name__)} {getattr(x, 'shape', '')}")
    if 0 in x.shape:
        raise ValueError(f"conv input must be non-empty, not shape {x.shape}")


def _conv_weights(w: np.ndarray, cin: int) -> tuple[int, int]:
    if not isinstance(w, np.ndarray) or w.dtype != np.int8 or w.ndim != 4:
        raise TypeError(f"conv weights must be an int8 (Cout, kh, kw, Cin) array, not "
                        f"{getattr(w, 'dtype', type(w).__name__)} {getattr(w, 'shape', '')}")
    if 0 in w.shape:
        raise ValueError(f"conv weights must be non-empty, not shape {w.shape}")
    if w.shape[3] != cin:
        raise ValueError(f"conv weights have Cin = {w.shape[3]}, the input has {cin}")
    return w.shape[1], w.shape[2]


def conv2d_dense(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None,
                 rq: Requant | None = None, *, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Dense 2-D convolution, HWC in, HWC out: (Ho, Wo, Cout).

    ``x``: uint8 (H, W, Cin); ``w``: int8 (Cout, kh, kw, Cin); output size as
    :func:`conv2d_out_shape`.  Errors as :func:`fc_dense` and :func:`conv2d_out_shape`.
    """
    _check_conv_input(x)
    kh, kw = _conv_weights(w, x.shape[2])
    ho, wo = conv2d_out_shape(x.shape[0], x.shape[1], kh, kw, stride, pad)
    cols = im2col(x, kh, kw, stride=stride, pad=pad)
    out = fc_dense(cols, w.reshape(w.shape[0], -1), bias, rq)
    return out.reshape(ho, wo, w.shape[0])


def conv2d_sparse(x: np.ndarray, img: NMImage, kh: int, kw: int,
                  bias: np.ndarray | None = None, rq: Requant | None = None, *,
                  stride: int = 1, pad: int = 0, p: int = 2) -> np.ndarray:
    """Sparse 2-D convolution: im2col, then :func:`fc_sparse` over the compressed weights.

    ``img`` is the compressed ``(Cout, kh·kw·Cin)`` matrix (see ``prune.conv_weight_matrix``).
    Errors as :func:`fc_sparse` and :func:`conv2d_out_shape`.
    """
    check_image(img)
    _check_conv_input(x)
    ho, wo = conv2d_out_shape(x.shape[0], x.shape[1], kh, kw, stride, pad)
    if img.k != kh * kw * x.shape[2]:
        raise ValueError(f"compressed weights have K = {img.k}, a {kh}x{kw}x{x.shape[2]} "
                         f"kernel needs {kh * kw * x.shape[2]}")
    cols = im2col(x, kh, kw, stride=stride, pad=pad)
    return fc_sparse(cols, img, bias, rq, p=p).reshape(ho, wo, img.rows)
