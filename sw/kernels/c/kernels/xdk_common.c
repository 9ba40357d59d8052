/* xdk layer drivers, im2col and requantization (see xdk.h, docs/kernels.md). */
#include "xdk.h"

/* Copy n words (n >= 1), two per hardware-loop iteration. */
static void copy_words(uint32_t *dst, const uint32_t *src, uint32_t n) {
    if (n & 1u) {
        *dst++ = *src++;
    }
    uint32_t pairs = n >> 1;
    if (pairs == 0) {
        return;
    }
    uint32_t t0, t1;
    __asm__ volatile(
        XDK_SETUP(0, "%[n]", 5)
        "0:\n\t"
        XDK_LW_PI("%[t0]", "%[s]", 4)
        XDK_LW_PI("%[t1]", "%[s]", 4)
        XDK_SW_PI("%[t0]", "%[d]", 4)
        XDK_SW_PI("%[t1]", "%[d]", 4)
        "1:\n\t"
        XDK_HWLOOP_CHECK("0b", "1b", 4)
        : [d] "+r"(dst), [s] "+r"(src), [t0] "=&r"(t0), [t1] "=&r"(t1)
        : [n] "r"(pairs)
        : "memory");
}

/* Zero n words (n >= 1). */
static void zero_words(uint32_t *dst, uint32_t n) {
    if (n & 1u) {
        *dst++ = 0;
    }
    uint32_t pairs = n >> 1;
    if (pairs == 0) {
        return;
    }
    __asm__ volatile(
        XDK_SETUP(0, "%[n]", 4)
        "0:\n\t"
        XDK_SW_PI("zero", "%[d]", 4)
        XDK_SW_PI("zero", "%[d]", 4)
        "nop\n\t" /* a hardware-loop body has at least 3 instructions */
        "1:\n\t"
        XDK_HWLOOP_CHECK("0b", "1b", 3)
        : [d] "+r"(dst)
        : [n] "r"(pairs)
        : "memory");
}

/* Interior fast path: every tap inside the input, kw * cin a multiple of 8 bytes.  One asm
 * statement: loop 1 over ky, loop 0 copying the kw * cin contiguous bytes of an input row,
 * two words per iteration (2 instructions per word). */
static void im2col_interior(const xdk_layer *L, const uint8_t *src, uint8_t *col) {
    uint32_t rows = L->kh;
    const uint32_t pairs = L->kw * L->cin >> 3;
    const uint32_t skip = (L->w - L->kw) * L->cin; /* end of a patch row -> next row */
    uint32_t t0, t1;
    __asm__ volatile(
        XDK_SETUP(1, "%[rows]", 8)
        "10:\n\t"
        XDK_SETUP(0, "%[n]", 5)
        "0:\n\t"
        XDK_LW_PI("%[t0]", "%[s]", 4)
        XDK_LW_PI("%[t1]", "%[s]", 4)
        XDK_SW_PI("%[t0]", "%[d]", 4)
        XDK_SW_PI("%[t1]", "%[d]", 4)
        "1:\n\t"
        XDK_HWLOOP_CHECK("0b", "1b", 4)
        "add %[s], %[s], %[skip]\n\t"
        "nop\n\t" /* loop 1 ends >= 2 instructions after loop 0 */
        "11:\n\t"
        XDK_HWLOOP_CHECK("10b", "11b", 7)
        : [d] "+r"(col), [s] "+r"(src), [rows] "+r"(rows), [t0] "=&r"(t0), [t1] "=&r"(t1)
        : [n] "r"(pairs), [skip] "r"(skip)
        : "memory");
}

void xdk_im2col(const xdk_layer *L, const uint8_t *x, uint32_t oy, uint32_t ox, uint8_t *col) {
    const uint32_t cin = L->cin, kw = L->kw;
    const int32_t iy0 = (int32_t)(oy * L->stride) - (int32_t)L->pad;
    const int32_t ix0 = (int32_t)(ox * L->stride) - (int32_t)L->pad;
    const uint32_t cw = cin >> 2; /* words per input pixel (cin is a multiple of 4) */
    if (iy0 >= 0 && ix0 >= 0 && iy0 + (int32_t)L->kh <= (int32_t)L->h &&
        ix0 + (int32_t)kw <= (int32_t)L->w && ((kw * cin) & 7u) == 0) {
        im2col_interior(L, x + ((uint32_t)iy0 * L->w + (uint32_t)ix0) * cin, col);
        return;
    }
    uint32_t *dst = (uint32_t *)col;
    /* The kx range that falls inside the input, the same for every ky. */
    uint32_t kx_lo = ix0 < 0 ? (uint32_t)(-ix0) : 0u;
    int32_t over = ix0 + (int32_t)kw - (int32_t)L->w;
    uint32_t kx_hi = over > 0 ? kw - (uint32_t)over : kw;
    if (kx_hi < kx_lo || kx_lo > kw) {
        kx_hi = kx_lo = kw;
    }
    for (uint32_t ky = 0; ky < L->kh; ky++) {
        int32_t iy = iy0 + (int32_t)ky;
        if (iy < 0 || iy >= (int32_t)L->h || kx_hi == kx_lo) {
            zero_words(dst, kw * cw);
            dst += kw * cw;
            continue;
        }
        if (kx_lo) {
            zero_words(dst, kx_lo * cw);
            dst += kx_lo * cw;
        }
        const uint8_t *src = x + ((uint32_t)iy * L->w + (uint32_t)(ix0 + (int32_t)kx_lo)) * cin;
        copy_words(dst, (const uint32_t *)src, (kx_hi - kx_lo) * cw);
        dst += (kx_hi - kx_lo) * cw;
        if (kx_hi < kw) {
            zero_words(dst, (kw - kx_hi) * cw);
            dst += (kw - kx_hi) * cw;
        }
    }
}

void xdk_requant(const xdk_layer *L, const int32_t *acc, uint8_t *y, uint32_t n) {
    const int32_t mult = L->mult, rnd = L->rnd, shift = L->shift;
    if (n & 1u) {
        int32_t t = ((*acc++) * mult + rnd) >> shift;
        *y++ = (uint8_t)(t < 0 ? 0 : t > 255 ? 255 : t);
    }
    uint32_t pairs = n >> 1;
    if (pairs == 0) {
        return;
    }
    int32_t t0, t1;
    __asm__ volatile(
        XDK_SETUP(0, "%[n]", 13)
        "0:\n\t"
        XDK_LW_PI("%[t0]", "%[a]", 4)
        XDK_LW_PI("%[t1]", "%[a]", 4)
        "mul %[t0], %[t0], %[mult]\n\t"
        "mul %[t1], %[t1], %[mult]\n\t"
        "add %[t0], %[t0], %[rnd]\n\t"
        "add %[t1], %[t1], %[rnd]\n\t"
        "sra %[t0], %[t0], %[shift]\n\t"
        "sra %[t1], %[t1], %[shift]\n\t"
        XDK_CLIPU_255("%[t0]", "%[t0]")
        XDK_CLIPU_255("%[t1]", "%[t1]")
        XDK_SB_PI("%[t0]", "%[y]", 1)
        XDK_SB_PI("%[t1]", "%[y]", 1)
        "1:\n\t"
        XDK_HWLOOP_CHECK("0b", "1b", 12)
        : [a] "+r"(acc), [y] "+r"(y), [t0] "=&r"(t0), [t1] "=&r"(t1)
        : [n] "r"(pairs), [mult] "r"(mult), [rnd] "r"(rnd), [shift] "r"(shift)
        : "memory");
}

/* Pixels per chunk: 4 with a quad block while >= 4 remain, else 2, else 1 (the pair block
 * then runs with both streams on the same pixel and its second result is ignored). */
static inline uint32_t chunk(const xdk_kernel *kern, uint32_t left) {
    return (kern->quad && left >= 4) ? 4u : left >= 2 ? 2u : 1u;
}

static inline void block(const xdk_layer *L, const xdk_kernel *kern, uint32_t n,
                         const uint8_t *x0, uint32_t xs, int32_t *acc) {
    if (n == 4) {
        kern->quad(L, x0, x0 + xs, x0 + 2 * xs, x0 + 3 * xs, acc);
    } else if (n == 1 && kern->single) {
        kern->single(L, x0, acc);
    } else {
        kern->pair(L, x0, n == 2 ? x0 + xs : x0, acc);
    }
}

void xdk_fc(const xdk_layer *L, const xdk_kernel *kern, const uint8_t *x, uint8_t *y,
            int32_t *acc) {
    XDK_BEGIN(XDK_R_KERNEL);
    const uint32_t npix = L->npix, cout = L->cout, xs = L->xstride;
    for (uint32_t p = 0; p < npix;) {
        const uint32_t n = chunk(kern, npix - p);
        XDK_BEGIN(XDK_R_MATMUL);
        block(L, kern, n, x + p * xs, xs, kern->fused ? (int32_t *)(y + p * cout) : acc);
        XDK_END(XDK_R_MATMUL);
        if (!kern->fused) {
            XDK_BEGIN(XDK_R_REQUANT);
            xdk_requant(L, acc, y + p * cout, n * cout);
            XDK_END(XDK_R_REQUANT);
        }
        p += n;
    }
    XDK_END(XDK_R_KERNEL);
}

void xdk_pad_input(const xdk_layer *L, const uint8_t *x, uint8_t *xp) {
    const uint32_t cw = L->cin >> 2, pad = L->pad, w = L->w;
    const uint32_t wpw = (w + 2 * pad) * cw; /* words per padded input row */
    uint32_t *dst = (uint32_t *)xp;
    const uint32_t *src = (const uint32_t *)x;
    zero_words(dst, pad * wpw + pad * cw); /* top rows and the left pad of row 0 */
    dst += pad * wpw + pad * cw;
    for (uint32_t r = 0; r < L->h; r++) {
        copy_words(dst, src, w * cw);
        dst += w * cw;
        src += w * cw;
        /* right pad of this row + left pad of the next (the last: + the bottom rows) */
        const uint32_t z = r + 1 < L->h ? 2 * pad * cw : pad * cw + pad * wpw;
        zero_words(dst, z);
        dst += z;
    }
}

/* Direct convolution: no im2col; the block kernels read every pixel's patch from the input
 * (zero-padded copy in `col` when pad > 0), one kernel row per loop-0 segment. */
static void conv_direct(const xdk_layer *L, const xdk_kernel *kern, const uint8_t *x,
                        uint8_t *y, int32_t *acc, uint8_t *col) {
    const uint32_t npix = L->npix, cout = L->cout, wo = L->wo, cin = L->cin;
    const uint8_t *xin = x;
    if (L->pad) {
        XDK_BEGIN(XDK_R_PAD);
        xdk_pad_input(L, x, col);
        XDK_END(XDK_R_PAD);
        xin = col;
    }
    const uint32_t wp = L->w + 2 * L->pad;
    const uint32_t sx = L->stride * cin, sy = L->stride * wp * cin; /* origin steps */
    const uint8_t *row = xin, *o = xin; /* origin of the output row / of pixel p */
    uint32_t ox = 0;
    const uint8_t *b[4];
    for (uint32_t p = 0; p < npix;) {
        const uint32_t n = (kern->dquad && npix - p >= 4) ? 4u : npix - p >= 2 ? 2u : 1u;
        for (uint32_t i = 0; i < n; i++) {
            b[i] = o;
            if (++ox == wo) {
                ox = 0;
                row += sy;
                o = row;
            } else {
                o += sx;
            }
        }
        XDK_BEGIN(XDK_R_MATMUL);
        if (n == 4) {
            kern->dquad(L, b[0], b[1], b[2], b[3], acc);
        } else {
            kern->dpair(L, b[0], n == 2 ? b[1] : b[0], acc);
        }
        XDK_END(XDK_R_MATMUL);
        XDK_BEGIN(XDK_R_REQUANT);
        xdk_requant(L, acc, y + p * cout, n * cout);
        XDK_END(XDK_R_REQUANT);
        p += n;
    }
}

void xdk_conv(const xdk_layer *L, const xdk_kernel *kern, const uint8_t *x, uint8_t *y,
              int32_t *acc, uint8_t *col) {
    XDK_BEGIN(XDK_R_KERNEL);
    if (kern->dpair && L->direct) {
        conv_direct(L, kern, x, y, acc, col);
        XDK_END(XDK_R_KERNEL);
        return;
    }
    const uint32_t npix = L->npix, cout = L->cout, xs = L->xstride, wo = L->wo;
    uint32_t oy = 0, ox = 0;
    for (uint32_t p = 0; p < npix;) {
        const uint32_t n = chunk(kern, npix - p);
        XDK_BEGIN(XDK_R_IM2COL);
        for (uint32_t i = 0; i < n; i++) {
            xdk_im2col(L, x, oy, ox, col + i * xs);
            if (++ox == wo) {
                ox = 0;
                oy++;
            }
        }
        XDK_END(XDK_R_IM2COL);
        XDK_BEGIN(XDK_R_MATMUL);
        block(L, kern, n, col, xs, kern->fused ? (int32_t *)(y + p * cout) : acc);
        XDK_END(XDK_R_MATMUL);
        if (!kern->fused) {
            XDK_BEGIN(XDK_R_REQUANT);
            xdk_requant(L, acc, y + p * cout, n * cout);
            XDK_END(XDK_R_REQUANT);
        }
        p += n;
    }
    XDK_END(XDK_R_KERNEL);
}

const xdk_kernel xdk_dense_1x2 = {xdk_block_dense_1x2, 0, 0, 0};
const xdk_kernel xdk_dense_4x2 = {xdk_block_dense_4x2, 0, 0, 0};
const xdk_kernel xdk_sw = {xdk_block_sw, 0, xdk_block_sw1, 0};
const xdk_kernel xdk_sw_rq = {xdk_block_sw_rq, 0, xdk_block_sw1_rq, 1};
const xdk_kernel xdk_sw4 = {xdk_block_sw, xdk_block_sw4, xdk_block_sw1, 0};
const xdk_kernel xdk_xdec = {xdk_block_xdec, 0, 0, 0};
const xdk_kernel xdk_xdec4 = {xdk_block_xdec, xdk_block_xdec4, 0, 0};
const xdk_kernel xdk_dense_1x2_direct = {xdk_block_dense_1x2, 0, 0, 0,
                                         xdk_block_dense_1x2_direct, 0};
const xdk_kernel xdk_dense_4x2_direct = {xdk_block_dense_4x2, 0, 0, 0,
                                         xdk_block_dense_4x2_direct, 0};
const xdk_kernel xdk_xdec_direct = {xdk_block_xdec, 0, 0, 0, xdk_block_xdec_direct, 0};
const xdk_kernel xdk_xdec4_direct = {xdk_block_xdec, xdk_block_xdec4, 0, 0,
                                     xdk_block_xdec_direct, xdk_block_xdec4_direct};
const xdk_kernel xdk_xdec_skip = {xdk_block_xdec_skip, 0, 0, 0};
const xdk_kernel xdk_xdec4_skip = {xdk_block_xdec_skip, xdk_block_xdec4_skip, 0, 0};
const xdk_kernel xdk_dense_4x2_skip = {xdk_block_dense_4x2_skip, 0, 0, 0};
const xdk_kernel xdk_sw4_skip = {xdk_block_sw4_skip_pair, xdk_block_sw4_skip, 0, 0};
