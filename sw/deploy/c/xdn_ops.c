/* xdn: the non-MAC operations of a deployed network; see xdn.h and docs/net.md. */
#include "xdn.h"

/* clamp to 0..255 in one XpulpV2 instruction (cv.clipu, from the ISA table via xdecimate.h) */
static inline uint8_t clip255(int32_t v) {
    int32_t r;
    __asm__(ASM_XCV_CLIPU("%0", "%1", 9) : "=r"(r) : "r"(v));
    return (uint8_t)r;
}

/* int32 product modulo 2^32 (the golden model guarantees the exact value fits). */
static inline int32_t mul32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }

void xdn_pad(const uint8_t *x, uint8_t *y, uint32_t h, uint32_t w, uint32_t c, uint32_t c4,
             uint32_t pad, uint8_t fill) {
    const uint32_t wp = w + 2 * pad, hp = h + 2 * pad;
    for (uint32_t r = 0; r < hp; r++) {
        for (uint32_t q = 0; q < wp; q++) {
            const int inside = r >= pad && r < pad + h && q >= pad && q < pad + w;
            const uint8_t *src = x + ((r - pad) * w + (q - pad)) * c;
            for (uint32_t ch = 0; ch < c4; ch++) {
                *y++ = (inside && ch < c) ? src[ch] : fill;
            }
        }
    }
}

void xdn_add(const uint8_t *a, const uint8_t *b, uint8_t *y, uint32_t n, int32_t za,
             int32_t zb, int32_t ma, int32_t mb, int32_t shift, int32_t zy) {
    /* t = ma (a - za) + mb (b - zb) + rnd = ma a + mb b + c0: the same int32 value (the golden
     * model checks that t fits), computed modulo 2^32 */
    const int32_t c0 = ((1 << shift) >> 1) - mul32(ma, za) - mul32(mb, zb);
    for (uint32_t i = 0; i < n; i++) {
        const int32_t t = mul32(ma, a[i]) + mul32(mb, b[i]) + c0;
        y[i] = clip255((t >> shift) + zy);
    }
}

void xdn_place(const uint8_t *x, uint8_t *y, uint32_t outer, uint32_t len, uint32_t ystride,
               uint32_t off, int32_t zx, int32_t ma, int32_t shift, int32_t zy) {
    const int32_t rnd = (1 << shift) >> 1;
    for (uint32_t o = 0; o < outer; o++) {
        uint8_t *dst = y + o * ystride + off;
        for (uint32_t i = 0; i < len; i++) {
            const int32_t v = x[i];
            dst[i] = ma ? clip255(((mul32(ma, v - zx) + rnd) >> shift) + zy) : (uint8_t)v;
        }
        x += len;
    }
}

void xdn_slice(const uint8_t *x, uint8_t *y, uint32_t outer, uint32_t xstride, uint32_t off,
               uint32_t len) {
    for (uint32_t o = 0; o < outer; o++) {
        const uint8_t *src = x + o * xstride + off;
        for (uint32_t i = 0; i < len; i++) *y++ = src[i];
    }
}

void xdn_relu(const uint8_t *x, uint8_t *y, uint32_t n, uint8_t zx) {
    for (uint32_t i = 0; i < n; i++) {
        y[i] = x[i] > zx ? x[i] : zx;
    }
}

void xdn_maxpool(const uint8_t *x, uint8_t *y, uint32_t h, uint32_t w, uint32_t c, uint32_t k,
                 uint32_t stride, uint32_t pad, uint32_t ho, uint32_t wo) {
    for (uint32_t oy = 0; oy < ho; oy++) {
        for (uint32_t ox = 0; ox < wo; ox++) {
            for (uint32_t ch = 0; ch < c; ch++) {
                uint8_t m = 0; /* the padding code: 0 is the smallest value */
                for (uint32_t ky = 0; ky < k; ky++) {
                    const int32_t iy = (int32_t)(oy * stride + ky) - (int32_t)pad;
                    if (iy < 0 || iy >= (int32_t)h) continue;
                    for (uint32_t kx = 0; kx < k; kx++) {
                        const int32_t ix = (int32_t)(ox * stride + kx) - (int32_t)pad;
                        if (ix < 0 || ix >= (int32_t)w) continue;
                        const uint8_t v = x[((uint32_t)iy * w + (uint32_t)ix) * c + ch];
                        m = v > m ? v : m;
                    }
                }
                *y++ = m;
            }
        }
    }
}

void xdn_avgpool(const uint8_t *x, uint8_t *y, uint32_t w, uint32_t c, uint32_t kh,
                 uint32_t kw, uint32_t stride, uint32_t ho, uint32_t wo, int32_t zx, int32_t mult,
                 int32_t rnd, int32_t shift) {
    const int32_t off = (int32_t)(kh * kw) * zx;
    for (uint32_t oy = 0; oy < ho; oy++) {
        for (uint32_t ox = 0; ox < wo; ox++) {
            for (uint32_t ch = 0; ch < c; ch++) {
                int32_t acc = 0;
                for (uint32_t ky = 0; ky < kh; ky++) {
                    const uint8_t *row = x + ((oy * stride + ky) * w + ox * stride) * c + ch;
                    for (uint32_t kx = 0; kx < kw; kx++) {
                        acc += row[kx * c];
                    }
                }
                *y++ = clip255((mul32(acc - off, mult) + rnd) >> shift);
            }
        }
    }
}

void xdn_lut(const uint8_t *x, uint8_t *y, uint32_t n, const uint8_t *lut) {
    for (uint32_t i = 0; i < n; i++) {
        y[i] = lut[x[i]];
    }
}

/* floor(sqrt(n)) by Newton's iteration from 2^ceil(bits(n)/2), as intops.isqrt_newton. */
static uint32_t isqrt_newton(uint32_t n) {
    if (n == 0) return 0;
    uint32_t bits = 0;
    for (uint32_t v = n; v; v >>= 1) bits++;
    uint32_t x = 1u << ((bits + 1) / 2);
    for (;;) {
        const uint32_t y = (x + n / x) / 2;
        if (y >= x) return x;
        x = y;
    }
}

void xdn_layernorm(const uint8_t *x, uint8_t *y, uint32_t rows, uint32_t d, int32_t f,
                   int32_t eps_int, const int32_t *g, const int32_t *b, int32_t shift) {
    const int32_t rnd = (1 << shift) >> 1;
    for (uint32_t r = 0; r < rows; r++, x += d, y += d) {
        uint32_t sum = 0;
        for (uint32_t i = 0; i < d; i++) sum += x[i];
        const int32_t mu = (int32_t)(((sum << f) + d / 2) / d);
        int32_t var = eps_int;
        for (uint32_t i = 0; i < d; i++) {
            const int32_t v = ((int32_t)x[i] << f) - mu;
            var += v * v;
        }
        uint32_t sigma = isqrt_newton((uint32_t)var);
        if (sigma == 0) sigma = 1;
        const int32_t factor = (int32_t)((1u << 29) / sigma);
        for (uint32_t i = 0; i < d; i++) {
            const int32_t v = ((int32_t)x[i] << f) - mu;
            const int32_t nrm = (mul32(v, factor) + (1 << 14)) >> 15;
            y[i] = clip255((mul32(nrm, g[i]) + b[i] + rnd) >> shift);
        }
    }
}

void xdn_softmax(const uint8_t *x, uint8_t *y, uint32_t rows, uint32_t len,
                 const uint32_t *etab, uint32_t r) {
    for (uint32_t row = 0; row < rows; row++, x += len, y += len) {
        uint8_t mx = 0;
        for (uint32_t i = 0; i < len; i++) mx = x[i] > mx ? x[i] : mx;
        const uint32_t *e = etab + mx; /* e[-x] = etab[mx - x] */
        uint32_t sum = 0;
        for (uint32_t i = 0; i < len; i++) sum += *(e - x[i]);
        const uint32_t half = sum / 2;
        for (uint32_t i = 0; i < len; i++) {
            const uint32_t v = (*(e - x[i]) * r + half) / sum;
            y[i] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
}

void xdn_transpose(const uint8_t *x, uint8_t *y, const uint32_t *dims, const uint32_t *perm) {
    uint32_t st[4]; /* input strides */
    st[3] = 1;
    for (int i = 2; i >= 0; i--) st[i] = st[i + 1] * dims[i + 1];
    const uint32_t n0 = dims[perm[0]], n1 = dims[perm[1]], n2 = dims[perm[2]],
                   n3 = dims[perm[3]];
    const uint32_t s0 = st[perm[0]], s1 = st[perm[1]], s2 = st[perm[2]], s3 = st[perm[3]];
    for (uint32_t i0 = 0; i0 < n0; i0++)
        for (uint32_t i1 = 0; i1 < n1; i1++)
            for (uint32_t i2 = 0; i2 < n2; i2++) {
                const uint8_t *src = x + i0 * s0 + i1 * s1 + i2 * s2;
                for (uint32_t i3 = 0; i3 < n3; i3++) *y++ = src[i3 * s3];
            }
}

void xdn_matmul(const uint8_t *a, const uint8_t *b, uint8_t *y, uint32_t batch, uint32_t t,
                uint32_t k, uint32_t n, uint32_t transpose_b, int32_t za, int32_t mult,
                int32_t rnd, int32_t shift, int8_t *w, int32_t *bias, uint8_t *apad,
                int32_t *acc) {
    const uint32_t k4 = (k + 3u) & ~3u;
    xdk_layer L = {0};
    L.kind = XDK_FC;
    L.cout = n;
    L.k = k4;
    L.xstride = k4;
    L.npix = t;
    L.wgt = w;
    L.wstride = k4;
    L.kwords = k4 / 4;
    L.bias = bias;
    L.mult = mult;
    L.rnd = rnd;
    L.shift = shift;
    for (uint32_t bi = 0; bi < batch; bi++) {
        const uint8_t *bb = b + bi * k * n;
        for (uint32_t j = 0; j < n; j++) {
            int32_t s = 0;
            int8_t *row = w + j * k4;
            for (uint32_t i = 0; i < k4; i++) {
                int8_t v = 0;
                if (i < k) v = (int8_t)(bb[transpose_b ? j * k + i : i * n + j] ^ 0x80u);
                row[i] = v;
                s += v;
            }
            bias[j] = -za * s;
        }
        const uint8_t *xa = a + bi * t * k;
        if (k != k4) {
            for (uint32_t r = 0; r < t; r++)
                for (uint32_t i = 0; i < k4; i++) apad[r * k4 + i] = i < k ? xa[r * k + i] : 0;
            xa = apad;
        }
        xdk_fc(&L, &xdk_dense_4x2, xa, y + bi * t * n, acc);
    }
}
