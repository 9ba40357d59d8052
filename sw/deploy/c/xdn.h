/* xdn: the non-MAC operations of a deployed network (xdecimate.sw.deploy, docs/net.md).
 *
 * Integer arithmetic identical to the golden model (sw/net/golden.py, sw/net/intops.py):
 * uint8 codes in and out, int32 intermediates (products computed modulo 2^32, as the golden
 * model's int32 checks guarantee they fit), arithmetic right shifts.  Requantizations take the
 * descriptor's rounding constant rnd = 2^(shift-1) + zero_point * 2^shift, so that
 * clip((t + rnd) >> shift, 0, 255) adds the output zero point (harness.requant_rounding).
 * Conv / linear layers and the MAC part of activation x activation matmuls run in the xdk
 * kernel library (xdk.h).
 */
#ifndef XDN_H
#define XDN_H
#include <stdint.h>

#include "xdk.h"

/* Marks of a network program: layer i runs between XDN_MARK(i) and XDN_MARK(i) + 1. */
#define XDN_MARK_BASE 0x1000u
#define XDN_MARK(i) (XDN_MARK_BASE + 2u * (uint32_t)(i))

/* (h, w, c) -> (h + 2 pad, w + 2 pad, c4 >= c): border pixels and channels c..c4-1 = fill. */
void xdn_pad(const uint8_t *x, uint8_t *y, uint32_t h, uint32_t w, uint32_t c, uint32_t c4,
             uint32_t pad, uint8_t fill);
/* y = clip(((ma (a - za) + mb (b - zb) + 2^(shift-1)) >> shift) + zy, 0, 255), n elements. */
void xdn_add(const uint8_t *a, const uint8_t *b, uint8_t *y, uint32_t n, int32_t za,
             int32_t zb, int32_t ma, int32_t mb, int32_t shift, int32_t zy);
/* Copy rows: y[o][off .. off + len) = rescale(x[o][0 .. len)), o < outer; ystride bytes per
 * output row.  ma = 0: plain copy, else clip(((ma (x - zx) + 2^(shift-1)) >> shift) + zy). */
void xdn_place(const uint8_t *x, uint8_t *y, uint32_t outer, uint32_t len, uint32_t ystride,
               uint32_t off, int32_t zx, int32_t ma, int32_t shift, int32_t zy);
/* Gather rows: y[o][0 .. len) = x[o * xstride + off ..  + len), o < outer (slice). */
void xdn_slice(const uint8_t *x, uint8_t *y, uint32_t outer, uint32_t xstride, uint32_t off,
               uint32_t len);
/* y = max(x, zx), n elements. */
void xdn_relu(const uint8_t *x, uint8_t *y, uint32_t n, uint8_t zx);
/* k x k max pooling of (h, w, c), stride, padding with code 0, output (ho, wo, c). */
void xdn_maxpool(const uint8_t *x, uint8_t *y, uint32_t h, uint32_t w, uint32_t c, uint32_t k,
                 uint32_t stride, uint32_t pad, uint32_t ho, uint32_t wo);
/* kh x kw average pooling of a (h, w, c) input without padding (kh = h, kw = w: global
 * average pooling): y = clip((acc mult + rnd) >> shift, 0, 255) with acc = sum - kh kw zx. */
void xdn_avgpool(const uint8_t *x, uint8_t *y, uint32_t w, uint32_t c, uint32_t kh,
                 uint32_t kw, uint32_t stride, uint32_t ho, uint32_t wo, int32_t zx, int32_t mult,
                 int32_t rnd, int32_t shift);
/* y[i] = lut[x[i]] (GELU table). */
void xdn_lut(const uint8_t *x, uint8_t *y, uint32_t n, const uint8_t *lut);
/* I-BERT integer layer norm of `rows` rows of d codes (intops.layernorm_int). */
void xdn_layernorm(const uint8_t *x, uint8_t *y, uint32_t rows, uint32_t d, int32_t f,
                   int32_t eps_int, const int32_t *g, const int32_t *b, int32_t shift);
/* I-BERT integer softmax of `rows` rows of len codes (intops.softmax_int): the i-exp of the
 * code difference d = max - x takes 256 values, so the program passes them as a table,
 * etab[d] = iexp(q(-d)) (computed with the golden model's formula); y = min((e r + sum/2) /
 * sum, 255), one division per element. */
void xdn_softmax(const uint8_t *x, uint8_t *y, uint32_t rows, uint32_t len,
                 const uint32_t *etab, uint32_t r);
/* Axis permutation of a rank <= 4 tensor: dims[] the input shape padded in front with 1s,
 * perm[] the permutation of the 4 axes; y[i0][i1][i2][i3] = x[... i_j at axis perm[j] ...]. */
void xdn_transpose(const uint8_t *x, uint8_t *y, const uint32_t *dims, const uint32_t *perm);
/* Activation x activation matmul (golden.py): for each of `batch` pairs, a (t, k) uint8 with
 * zero point za times b - 128 as int8: b (k, n) or, with transpose_b, (n, k); int32 bias
 * -za sum(b - 128), requantization (mult, rnd, shift); y (batch, t, n).  The MACs run in
 * xdk_fc with the dense 4x2 kernel on the int8 operand built in w (n * k4 bytes) with its
 * bias in bias (n words); rows of a are copied into apad (t * k4 bytes) when k % 4 != 0;
 * acc: 2 * n words of kernel scratch. */
void xdn_matmul(const uint8_t *a, const uint8_t *b, uint8_t *y, uint32_t batch, uint32_t t,
                uint32_t k, uint32_t n, uint32_t transpose_b, int32_t za, int32_t mult,
                int32_t rnd, int32_t shift, int8_t *w, int32_t *bias, uint8_t *apad,
                int32_t *acc);
#endif /* XDN_H */
