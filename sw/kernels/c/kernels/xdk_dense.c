/* Dense int8 block kernels: 1x2 (1 channel x 2 pixels) and PULP-NN-style 4x2 (4 x 2).
 *
 * Weights: int8 [cout][wstride], wstride = K rounded up to 4 (zero padded); activations: the
 * two pixels' K bytes, word aligned.  Inner loops (hardware loop 0, no load-use stall):
 *   1x2:  3 word loads + 2 cv.sdotusp.b =  5 instructions per  8 MACs
 *   4x2:  6 word loads + 8 cv.sdotusp.b = 14 instructions per 32 MACs
 */
#include "xdk.h"

void xdk_block_dense_1x2(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,
                         int32_t *acc) {
    const int8_t *pw = (const int8_t *)L->wgt;
    const int32_t *pbias = L->bias;
    int32_t *oa = acc, *ob = acc + L->cout;
    uint32_t rows = L->cout;
    const uint32_t kq = L->kwords;
    const uint8_t *pa, *pb;
    uint32_t w, a, b, ca, cb;
    __asm__ volatile(
        XDK_SETUP(1, "%[rows]", 13)
        "10:\n\t"
        XDK_LW_PI("%[ca]", "%[pbias]", 4)
        "mv %[pa], %[xa]\n\t"
        "mv %[pb], %[xb]\n\t"
        "mv %[cb], %[ca]\n\t"
        XDK_SETUP(0, "%[kq]", 6)
        "0:\n\t"
        XDK_LW_PI("%[w]", "%[pw]", 4)
        XDK_LW_PI("%[a]", "%[pa]", 4)
        XDK_LW_PI("%[b]", "%[pb]", 4)
        XDK_SDOTUSP_B("%[ca]", "%[a]", "%[w]")
        XDK_SDOTUSP_B("%[cb]", "%[b]", "%[w]")
        "1:\n\t"
        XDK_HWLOOP_CHECK("0b", "1b", 5)
        XDK_SW_PI("%[ca]", "%[oa]", 4)
        XDK_SW_PI("%[cb]", "%[ob]", 4)
        "11:\n\t" /* loop 1 ends >= 2 instructions after loop 0 (CV32E40P rule) */
        XDK_HWLOOP_CHECK("10b", "11b", 12)
        : [pw] "+r"(pw), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob), [rows] "+r"(rows),
          [pa] "=&r"(pa), [pb] "=&r"(pb), [w] "=&r"(w), [a] "=&r"(a), [b] "=&r"(b),
          [ca] "=&r"(ca), [cb] "=&r"(cb)
        : [xa] "r"(xa), [xb] "r"(xb), [kq] "r"(kq)
        : "memory");
}

void xdk_block_dense_4x2(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,
                         int32_t *acc) {
    const uint32_t cout = L->cout, quads = cout >> 2;
    const uint32_t ws = L->wstride, kq = L->kwords;
    const int8_t *p0 = (const int8_t *)L->wgt;
    const int32_t *pbias = L->bias;
    int32_t *oa = acc, *ob = acc + cout;
    if (quads) {
        /* 17 temporaries in fixed registers (GCC allows at most 30 asm operands):
         * p1..p3 = t0..t2, a = t3, b = t4, w0..w3 = t5 t6 s1 s2, c00 c01 c10 c11 c20 c21 c30
         * c31 = s3..s10 (cRP: channel R of the quad, pixel P). */
        uint32_t rows = quads;
        const uint8_t *pa = xa, *pb = xb;
        __asm__ volatile(
            XDK_SETUP(1, "%[rows]", 38)
            "10:\n\t"
            XDK_LW_PI("s3", "%[pbias]", 4)
            XDK_LW_PI("s5", "%[pbias]", 4)
            XDK_LW_PI("s7", "%[pbias]", 4)
            XDK_LW_PI("s9", "%[pbias]", 4)
            "add t0, %[p0], %[ws]\n\t"
            "add t1, t0, %[ws]\n\t"
            "add t2, t1, %[ws]\n\t"
            "mv s4, s3\n\t"
            "mv s6, s5\n\t"
            "mv s8, s7\n\t"
            "mv s10, s9\n\t"
            XDK_SETUP(0, "%[kq]", 15)
            "0:\n\t"
            XDK_LW_PI("t3", "%[pa]", 4)
            XDK_LW_PI("t4", "%[pb]", 4)
            XDK_LW_PI("t5", "%[p0]", 4)
            XDK_LW_PI("t6", "t0", 4)
            XDK_SDOTUSP_B("s3", "t3", "t5")
            XDK_SDOTUSP_B("s4", "t4", "t5")
            XDK_LW_PI("s1", "t1", 4)
            XDK_SDOTUSP_B("s5", "t3", "t6")
            XDK_SDOTUSP_B("s6", "t4", "t6")
            XDK_LW_PI("s2", "t2", 4)
            XDK_SDOTUSP_B("s7", "t3", "s1")
            XDK_SDOTUSP_B("s8", "t4", "s1")
            XDK_SDOTUSP_B("s9", "t3", "s2")
            XDK_SDOTUSP_B("s10", "t4", "s2")
            "1:\n\t"
            XDK_HWLOOP_CHECK("0b", "1b", 14)
            XDK_SW_PI("s3", "%[oa]", 4)
            XDK_SW_PI("s5", "%[oa]", 4)
            XDK_SW_PI("s7", "%[oa]", 4)
            XDK_SW_PI("s9", "%[oa]", 4)
            XDK_SW_PI("s4", "%[ob]", 4)
            XDK_SW_PI("s6", "%[ob]", 4)
            XDK_SW_PI("s8", "%[ob]", 4)
            XDK_SW_PI("s10", "%[ob]", 4)
            "mv %[p0], t2\n\t" /* p3 ends at the first byte of the next quad's row 0 */
            "sub %[pa], %[pa], %[ws]\n\t"
            "sub %[pb], %[pb], %[ws]\n\t"
            "11:\n\t"
            XDK_HWLOOP_CHECK("10b", "11b", 37)
            : [p0] "+r"(p0), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob),
              [rows] "+r"(rows), [pa] "+r"(pa), [pb] "+r"(pb)
            : [kq] "r"(kq), [ws] "r"(ws)
            : "memory", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "s1", "s2", "s3", "s4", "s5",
              "s6", "s7", "s8", "s9", "s10");
    }
    const uint32_t rest = cout & 3u;
    if (rest) {
        /* Leftover channels: the 1x2 kernel on the last `rest` rows. */
        xdk_layer tail = *L;
        tail.cout = rest;
        tail.wgt = p0;
        tail.bias = pbias;
        int32_t tacc[6];
        xdk_block_dense_1x2(&tail, xa, xb, tacc);
        for (uint32_t i = 0; i < rest; i++) {
            oa[i] = tacc[i];
            ob[i] = tacc[rest + i];
        }
    }
}

/* ---- direct convolution (no im2col), kh = 3 ---------------------------------------------
 * xa / xb are the pixels' patch origins in the HWC input (padded copy if pad > 0): loop 0 runs
 * once per kernel row over its kw * cin / 4 words, and between rows the activation pointers
 * skip the rest of the input row, (wp - kw) * cin bytes (2 adds per kernel row). */
#define XDK_DENSE1_SEG                                                                        \
    XDK_SETUP(0, "%[kq]", 6)                                                                  \
    "0:\n\t"                                                                                  \
    XDK_LW_PI("%[w]", "%[pw]", 4)                                                             \
    XDK_LW_PI("%[a]", "%[pa]", 4)                                                             \
    XDK_LW_PI("%[b]", "%[pb]", 4)                                                             \
    XDK_SDOTUSP_B("%[ca]", "%[a]", "%[w]")                                                    \
    XDK_SDOTUSP_B("%[cb]", "%[b]", "%[w]")                                                    \
    "1:\n\t"                                                                                  \
    XDK_HWLOOP_CHECK("0b", "1b", 5)

static inline __attribute__((always_inline)) void dense_1x2_direct3(
    const xdk_layer *L, const int8_t *pw, const int32_t *pbias, uint32_t rows, const uint8_t *xa,
    const uint8_t *xb, int32_t *oa, int32_t *ob) {
    const uint32_t kq = L->kw * L->cin >> 2;
    const uint32_t gap = (L->w + 2 * L->pad - L->kw) * L->cin;
    const uint8_t *pa, *pb;
    uint32_t w, a, b, ca, cb;
    __asm__ volatile(
        XDK_SETUP(1, "%[rows]", 29)
        "10:\n\t"
        XDK_LW_PI("%[ca]", "%[pbias]", 4)
        "mv %[pa], %[xa]\n\t"
        "mv %[pb], %[xb]\n\t"
        "mv %[cb], %[ca]\n\t"
        XDK_DENSE1_SEG
        "add %[pa], %[pa], %[gap]\n\t"
        "add %[pb], %[pb], %[gap]\n\t"
        XDK_DENSE1_SEG
        "add %[pa], %[pa], %[gap]\n\t"
        "add %[pb], %[pb], %[gap]\n\t"
        XDK_DENSE1_SEG
        XDK_SW_PI("%[ca]", "%[oa]", 4)
        XDK_SW_PI("%[cb]", "%[ob]", 4)
        "11:\n\t"
        XDK_HWLOOP_CHECK("10b", "11b", 28)
        : [pw] "+r"(pw), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob), [rows] "+r"(rows),
          [pa] "=&r"(pa), [pb] "=&r"(pb), [w] "=&r"(w), [a] "=&r"(a), [b] "=&r"(b),
          [ca] "=&r"(ca), [cb] "=&r"(cb)
        : [xa] "r"(xa), [xb] "r"(xb), [kq] "r"(kq), [gap] "r"(gap)
        : "memory");
}

__attribute__((noinline)) void xdk_block_dense_1x2_direct(const xdk_layer *L,
                                                          const uint8_t *xa, const uint8_t *xb,
                                                          int32_t *acc) {
    if (L->kh == 1) {
        xdk_block_dense_1x2(L, xa, xb, acc);
        return;
    }
    dense_1x2_direct3(L, (const int8_t *)L->wgt, L->bias, L->cout, xa, xb, acc, acc + L->cout);
}

#define XDK_DENSE4_SEG                                                                        \
    XDK_SETUP(0, "%[kq]", 15)                                                                 \
    "0:\n\t"                                                                                  \
    XDK_LW_PI("t3", "%[pa]", 4)                                                               \
    XDK_LW_PI("t4", "%[pb]", 4)                                                               \
    XDK_LW_PI("t5", "%[p0]", 4)                                                               \
    XDK_LW_PI("t6", "t0", 4)                                                                  \
    XDK_SDOTUSP_B("s3", "t3", "t5")                                                           \
    XDK_SDOTUSP_B("s4", "t4", "t5")                                                           \
    XDK_LW_PI("s1", "t1", 4)                                                                  \
    XDK_SDOTUSP_B("s5", "t3", "t6")                                                           \
    XDK_SDOTUSP_B("s6", "t4", "t6")                                                           \
    XDK_LW_PI("s2", "t2", 4)                                                                  \
    XDK_SDOTUSP_B("s7", "t3", "s1")                                                           \
    XDK_SDOTUSP_B("s8", "t4", "s1")                                                           \
    XDK_SDOTUSP_B("s9", "t3", "s2")                                                           \
    XDK_SDOTUSP_B("s10", "t4", "s2")                                                          \
    "1:\n\t"                                                                                  \
    XDK_HWLOOP_CHECK("0b", "1b", 14)

__attribute__((noinline)) void xdk_block_dense_4x2_direct(const xdk_layer *L,
                                                          const uint8_t *xa, const uint8_t *xb,
                                                          int32_t *acc) {
    if (L->kh == 1) {
        xdk_block_dense_4x2(L, xa, xb, acc);
        return;
    }
    const uint32_t cout = L->cout, quads = cout >> 2;
    const uint32_t ws = L->wstride, kq = L->kw * L->cin >> 2;
    const uint32_t gap = (L->w + 2 * L->pad - L->kw) * L->cin;
    const uint32_t back = ws + 2 * gap; /* what pa / pb advance per quad of rows */
    const int8_t *p0 = (const int8_t *)L->wgt;
    const int32_t *pbias = L->bias;
    int32_t *oa = acc, *ob = acc + cout;
    if (quads) {
        uint32_t rows = quads;
        const uint8_t *pa = xa, *pb = xb;
        __asm__ volatile(
            XDK_SETUP(1, "%[rows]", 72)
            "10:\n\t"
            XDK_LW_PI("s3", "%[pbias]", 4)
            XDK_LW_PI("s5", "%[pbias]", 4)
            XDK_LW_PI("s7", "%[pbias]", 4)
            XDK_LW_PI("s9", "%[pbias]", 4)
            "add t0, %[p0], %[ws]\n\t"
            "add t1, t0, %[ws]\n\t"
            "add t2, t1, %[ws]\n\t"
            "mv s4, s3\n\t"
            "mv s6, s5\n\t"
            "mv s8, s7\n\t"
            "mv s10, s9\n\t"
            XDK_DENSE4_SEG
            "add %[pa], %[pa], %[gap]\n\t"
            "add %[pb], %[pb], %[gap]\n\t"
            XDK_DENSE4_SEG
            "add %[pa], %[pa], %[gap]\n\t"
            "add %[pb], %[pb], %[gap]\n\t"
            XDK_DENSE4_SEG
            XDK_SW_PI("s3", "%[oa]", 4)
            XDK_SW_PI("s5", "%[oa]", 4)
            XDK_SW_PI("s7", "%[oa]", 4)
            XDK_SW_PI("s9", "%[oa]", 4)
            XDK_SW_PI("s4", "%[ob]", 4)
            XDK_SW_PI("s6", "%[ob]", 4)
            XDK_SW_PI("s8", "%[ob]", 4)
            XDK_SW_PI("s10", "%[ob]", 4)
            "mv %[p0], t2\n\t"
            "sub %[pa], %[pa], %[back]\n\t"
            "sub %[pb], %[pb], %[back]\n\t"
            "11:\n\t"
            XDK_HWLOOP_CHECK("10b", "11b", 71)
            : [p0] "+r"(p0), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob),
              [rows] "+r"(rows), [pa] "+r"(pa), [pb] "+r"(pb)
            : [kq] "r"(kq), [ws] "r"(ws), [gap] "r"(gap), [back] "r"(back)
            : "memory", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "s1", "s2", "s3", "s4", "s5",
              "s6", "s7", "s8", "s9", "s10");
    }
    const uint32_t rest = cout & 3u;
    if (rest) {
        /* Leftover channels: the direct 1x2 loop on the last `rest` rows, straight into acc. */
        dense_1x2_direct3(L, p0, pbias, rest, xa, xb, oa, ob);
    }
}
