/* Dense int8 block kernels: 1x2 (1 channel x 2 pixels) and PULP-NN-style 4x2 (4 x 2).
 *
 * Weights: int8 [cout][wstride], wstride = K rounded up to 4 (zero padded); activations: the
 * two pixels' K bytes, word aligned.  Inner loops (hardware loop 0, no load-use stall):
 *   1x2:  3 word loads + 2 cv.sdotusp.b =  5 instructions per  8 MACs
 *   4x2:  6 word loads + 8 cv.sdotusp.b = 14 instructions per 32 MACs
 *
 * Every loop body exists once (XDK_DENSE1_LOOP, XDK_DENSE4_LOOP) and every row prologue /
 * epilogue once (XDK_DENSE1_ROWS, XDK_DENSE4_ROWS): the im2col blocks run one loop-0 segment
 * per weight row, the direct blocks (xdk_block_dense_*_direct, kh = 3) three, one per kernel
 * row.
 */
#include "xdk.h"

/* ---- 1x2 --------------------------------------------------------------------------------- */

/* Loop 0 of the 1x2 kernels over the row's words: cv.setup + 5-instruction body.  Used by
 * xdk_block_dense_1x2 (once per row) and dense_1x2_direct3 (once per kernel row). */
#define XDK_DENSE1_LOOP                                                                       \
    XDK_SETUP(0, "%[kq]", 6)                                                                  \
    "0:\n\t"                                                                                  \
    XDK_LW_PI("%[w]", "%[pw]", 4)                                                             \
    XDK_LW_PI("%[a]", "%[pa]", 4)                                                             \
    XDK_LW_PI("%[b]", "%[pb]", 4)                                                             \
    XDK_SDOTUSP_B("%[ca]", "%[a]", "%[w]")                                                    \
    XDK_SDOTUSP_B("%[cb]", "%[b]", "%[w]")                                                    \
    "1:\n\t"                                                                                  \
    XDK_HWLOOP_CHECK("0b", "1b", 5)

/* The 1x2 asm statement, used by xdk_block_dense_1x2 and dense_1x2_direct3 (the direct 1x2
 * block and the leftover rows of the direct 4x2 block): loop 1 over the weight rows (NOUT: its
 * cv.setup count, body + 1), each row 4 prologue instructions + SEGMENTS + 2 stores.  The
 * optional arguments are extra asm inputs (after %[xa] %[xb] %[kq]). */
#define XDK_DENSE1_ROWS(NOUT, SEGMENTS, ...)                                                  \
    __asm__ volatile(                                                                         \
        XDK_SETUP(1, "%[rows]", NOUT)                                                         \
        "10:\n\t"                                                                             \
        XDK_LW_PI("%[ca]", "%[pbias]", 4)                                                     \
        "mv %[pa], %[xa]\n\t"                                                                 \
        "mv %[pb], %[xb]\n\t"                                                                 \
        "mv %[cb], %[ca]\n\t"                                                                 \
        SEGMENTS                                                                              \
        XDK_SW_PI("%[ca]", "%[oa]", 4)                                                        \
        XDK_SW_PI("%[cb]", "%[ob]", 4)                                                        \
        "11:\n\t" /* loop 1 ends >= 2 instructions after loop 0 (CV32E40P rule) */            \
        XDK_HWLOOP_CHECK("10b", "11b", NOUT - 1)                                              \
        : [pw] "+r"(pw), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob), [rows] "+r"(rows), \
          [pa] "=&r"(pa), [pb] "=&r"(pb), [w] "=&r"(w), [a] "=&r"(a), [b] "=&r"(b),           \
          [ca] "=&r"(ca), [cb] "=&r"(cb)                                                      \
        : [xa] "r"(xa), [xb] "r"(xb), [kq] "r"(kq) __VA_OPT__(,) __VA_ARGS__                  \
        : "memory")

void xdk_block_dense_1x2(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,
                         int32_t *acc) {
    const int8_t *pw = (const int8_t *)L->wgt;
    const int32_t *pbias = L->bias;
    int32_t *oa = acc, *ob = acc + L->cout;
    uint32_t rows = L->cout;
    const uint32_t kq = L->kwords;
    const uint8_t *pa, *pb;
    uint32_t w, a, b, ca, cb;
    XDK_DENSE1_ROWS(13, XDK_DENSE1_LOOP); /* 4 + 6 + 2 = 12 */
}

/* ---- 4x2 --------------------------------------------------------------------------------- */

/* Loop 0 of the 4x2 kernels: cv.setup + 14-instruction body.  Used by xdk_block_dense_4x2
 * (once per quad of rows) and xdk_block_dense_4x2_direct (once per kernel row). */
#define XDK_DENSE4_LOOP XDK_DENSE4_LOOP_W("%[kq]", "t0", "t1", "t2")
/* The same loop over CNT words with the weight rows 1..3 read through W1..W3 (the skip block
 * passes %[p0] three times: its four rows' words are interleaved). */
#define XDK_DENSE4_LOOP_W(CNT, W1, W2, W3)                                                    \
    XDK_SETUP(0, CNT, 15)                                                                     \
    "0:\n\t"                                                                                  \
    XDK_LW_PI("t3", "%[pa]", 4)                                                               \
    XDK_LW_PI("t4", "%[pb]", 4)                                                               \
    XDK_LW_PI("t5", "%[p0]", 4)                                                               \
    XDK_LW_PI("t6", W1, 4)                                                                    \
    XDK_SDOTUSP_B("s3", "t3", "t5")                                                           \
    XDK_SDOTUSP_B("s4", "t4", "t5")                                                           \
    XDK_LW_PI("s1", W2, 4)                                                                    \
    XDK_SDOTUSP_B("s5", "t3", "t6")                                                           \
    XDK_SDOTUSP_B("s6", "t4", "t6")                                                           \
    XDK_LW_PI("s2", W3, 4)                                                                    \
    XDK_SDOTUSP_B("s7", "t3", "s1")                                                           \
    XDK_SDOTUSP_B("s8", "t4", "s1")                                                           \
    XDK_SDOTUSP_B("s9", "t3", "s2")                                                           \
    XDK_SDOTUSP_B("s10", "t4", "s2")                                                          \
    "1:\n\t"                                                                                  \
    XDK_HWLOOP_CHECK("0b", "1b", 14)

/* The 4x2 asm statement, used by xdk_block_dense_4x2 and xdk_block_dense_4x2_direct: loop 1
 * over the quads of weight rows (NOUT: its cv.setup count, body + 1), each quad 11 prologue
 * instructions + SEGMENTS + 11 epilogue instructions, the last two moving pa / pb back by BACK
 * (an asm operand: what they advanced over the quad).  The optional arguments are extra asm
 * inputs (after %[kq] %[ws]).
 * 17 temporaries in fixed registers (GCC allows at most 30 asm operands):
 * p1..p3 = t0..t2, a = t3, b = t4, w0..w3 = t5 t6 s1 s2, c00 c01 c10 c11 c20 c21 c30
 * c31 = s3..s10 (cRP: channel R of the quad, pixel P). */
#define XDK_DENSE4_ROWS(NOUT, SEGMENTS, BACK, ...)                                            \
    __asm__ volatile(                                                                         \
        XDK_SETUP(1, "%[rows]", NOUT)                                                         \
        "10:\n\t"                                                                             \
        XDK_LW_PI("s3", "%[pbias]", 4)                                                        \
        XDK_LW_PI("s5", "%[pbias]", 4)                                                        \
        XDK_LW_PI("s7", "%[pbias]", 4)                                                        \
        XDK_LW_PI("s9", "%[pbias]", 4)                                                        \
        "add t0, %[p0], %[ws]\n\t"                                                            \
        "add t1, t0, %[ws]\n\t"                                                               \
        "add t2, t1, %[ws]\n\t"                                                               \
        "mv s4, s3\n\t"                                                                       \
        "mv s6, s5\n\t"                                                                       \
        "mv s8, s7\n\t"                                                                       \
        "mv s10, s9\n\t"                                                                      \
        SEGMENTS                                                                              \
        XDK_SW_PI("s3", "%[oa]", 4)                                                           \
        XDK_SW_PI("s5", "%[oa]", 4)                                                           \
        XDK_SW_PI("s7", "%[oa]", 4)                                                           \
        XDK_SW_PI("s9", "%[oa]", 4)                                                           \
        XDK_SW_PI("s4", "%[ob]", 4)                                                           \
        XDK_SW_PI("s6", "%[ob]", 4)                                                           \
        XDK_SW_PI("s8", "%[ob]", 4)                                                           \
        XDK_SW_PI("s10", "%[ob]", 4)                                                          \
        "mv %[p0], t2\n\t" /* p3 ends at the first byte of the next quad's row 0 */           \
        "sub %[pa], %[pa], " BACK "\n\t"                                                      \
        "sub %[pb], %[pb], " BACK "\n\t"                                                      \
        "11:\n\t"                                                                             \
        XDK_HWLOOP_CHECK("10b", "11b", NOUT - 1)                                              \
        : [p0] "+r"(p0), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob),                   \
          [rows] "+r"(rows), [pa] "+r"(pa), [pb] "+r"(pb)                                     \
        : [kq] "r"(kq), [ws] "r"(ws) __VA_OPT__(,) __VA_ARGS__                                \
        : "memory", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "s1", "s2", "s3", "s4", "s5",   \
          "s6", "s7", "s8", "s9", "s10")

/* Locals of the 4x2 blocks (xdk_block_dense_4x2, xdk_block_dense_4x2_direct); p0 and pbias
 * end at the leftover rows (cout mod 4). */
#define XDK_DENSE4_LOCALS                                                                     \
    const uint32_t cout = L->cout, quads = cout >> 2;                                         \
    const int8_t *p0 = (const int8_t *)L->wgt;                                                \
    const int32_t *pbias = L->bias;                                                           \
    int32_t *oa = acc, *ob = acc + cout;                                                      \
    uint32_t rows = quads;                                                                    \
    const uint8_t *pa = xa, *pb = xb

/* Leftover channels of the 4x2 blocks (cout mod 4 rows of plain dense weights at p0, their
 * bias at pbias): the 1x2 kernel, results to oa / ob. */
static void dense_4x2_leftover(const xdk_layer *L, const int8_t *p0, const int32_t *pbias,
                               const uint8_t *xa, const uint8_t *xb, int32_t *oa, int32_t *ob) {
    const uint32_t rest = L->cout & 3u;
    if (!rest) {
        return;
    }
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

void xdk_block_dense_4x2(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,
                         int32_t *acc) {
    XDK_DENSE4_LOCALS;
    const uint32_t ws = L->wstride, kq = L->kwords;
    if (quads) {
        XDK_DENSE4_ROWS(38, XDK_DENSE4_LOOP, "%[ws]"); /* 11 + 15 + 11 = 37 */
    }
    dense_4x2_leftover(L, p0, pbias, xa, xb, oa, ob);
}

/* ---- direct convolution (no im2col), kh = 3 ---------------------------------------------
 * xa / xb are the pixels' patch origins in the HWC input (padded copy if pad > 0): loop 0 runs
 * once per kernel row over its kw * cin / 4 words, and between rows the activation pointers
 * skip the rest of the input row, (wp - kw) * cin bytes (2 adds per kernel row). */

/* The segments of one weight row in the direct blocks (1x2 and 4x2): LOOP once per kernel row,
 * %[pa] / %[pb] stepped by %[gap] between rows: 3 cv.setup-led loops + 4 adds. */
#define XDK_DENSE_KROWS3(LOOP)                                                                \
    LOOP                                                                                      \
    "add %[pa], %[pa], %[gap]\n\t"                                                            \
    "add %[pb], %[pb], %[gap]\n\t"                                                            \
    LOOP                                                                                      \
    "add %[pa], %[pa], %[gap]\n\t"                                                            \
    "add %[pb], %[pb], %[gap]\n\t"                                                            \
    LOOP

static inline __attribute__((always_inline)) void dense_1x2_direct3(
    const xdk_layer *L, const int8_t *pw, const int32_t *pbias, uint32_t rows, const uint8_t *xa,
    const uint8_t *xb, int32_t *oa, int32_t *ob) {
    const uint32_t kq = L->kw * L->cin >> 2;
    const uint32_t gap = (L->w + 2 * L->pad - L->kw) * L->cin;
    const uint8_t *pa, *pb;
    uint32_t w, a, b, ca, cb;
    /* 4 + 3 * 6 + 4 + 2 = 28 */
    XDK_DENSE1_ROWS(29, XDK_DENSE_KROWS3(XDK_DENSE1_LOOP), [gap] "r"(gap));
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

__attribute__((noinline)) void xdk_block_dense_4x2_direct(const xdk_layer *L,
                                                          const uint8_t *xa, const uint8_t *xb,
                                                          int32_t *acc) {
    if (L->kh == 1) {
        xdk_block_dense_4x2(L, xa, xb, acc);
        return;
    }
    XDK_DENSE4_LOCALS;
    const uint32_t ws = L->wstride, kq = L->kw * L->cin >> 2;
    const uint32_t gap = (L->w + 2 * L->pad - L->kw) * L->cin;
    const uint32_t back = ws + 2 * gap; /* what pa / pb advance per quad of rows */
    if (quads) {
        /* 11 + 3 * 15 + 4 + 11 = 71 */
        XDK_DENSE4_ROWS(72, XDK_DENSE_KROWS3(XDK_DENSE4_LOOP), "%[back]", [gap] "r"(gap),
                        [back] "r"(back));
    }
    const uint32_t rest = cout & 3u;
    if (rest) {
        /* Leftover channels: the direct 1x2 loop on the last `rest` rows, straight into acc. */
        dense_1x2_direct3(L, p0, pbias, rest, xa, xb, oa, ob);
    }
}

/* ---- 4x2 with word skipping (dense_4x2_skip) ------------------------------------------------
 * Weights: the dense skip image of sw/model/nm_skip.py -- per quad of rows a header (u16 runs,
 * u16 back = bytes the activation pointers advance over the quad), the runs (u16 delta: bytes
 * from the previous run's end to this run's first word, u16 words n), then the kept words, each
 * as the four rows' words (one pointer walks all four rows); then the cout mod 4 leftover rows
 * as plain dense rows (the exact 1x2 kernel).  A word of a quad whose 16 weights are all zero
 * is never visited.  Hardware loops may hold no branch: the quads are a software loop, loop 1
 * runs over the runs (pa / pb stepped by delta), loop 0 over the run's words with the 14-
 * instruction body of XDK_DENSE4_LOOP on interleaved weights; the next run's delta is loaded as
 * loop 1's last instruction.  docs/kernels.md "Group skipping" has the measured costs. */
#define XDK_DENSE4_SKIP_LOOP XDK_DENSE4_LOOP_W("%[grp]", "%[p0]", "%[p0]", "%[p0]")

void xdk_block_dense_4x2_skip(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,
                              int32_t *acc) {
    XDK_DENSE4_LOCALS;
    uint32_t nr, tg, grp;
    const uint8_t *pr;
    if (quads) {
        __asm__ volatile(
            "20:\n\t"
            XDK_LHU_PI("%[nr]", "%[p0]", 2)      /* runs (>= 1) */
            XDK_LHU_PI("%[tg]", "%[p0]", 2)      /* back */
            XDK_LW_PI("s3", "%[pbias]", 4)
            XDK_LW_PI("s5", "%[pbias]", 4)
            XDK_LW_PI("s7", "%[pbias]", 4)
            XDK_LW_PI("s9", "%[pbias]", 4)
            "mv %[pr], %[p0]\n\t"                /* the runs */
            "slli %[grp], %[nr], 2\n\t"
            "add %[p0], %[p0], %[grp]\n\t"       /* the kept words */
            XDK_LHU_PI("t0", "%[pr]", 2)         /* delta of run 0 */
            "mv s4, s3\n\t"
            "mv s6, s5\n\t"
            "mv s8, s7\n\t"
            "mv s10, s9\n\t"
            XDK_SETUP(1, "%[nr]", 20)
            "21:\n\t"
            XDK_LHU_PI("%[grp]", "%[pr]", 2)     /* n: words of the run */
            "add %[pa], %[pa], t0\n\t"
            "add %[pb], %[pb], t0\n\t"
            XDK_DENSE4_SKIP_LOOP
            XDK_LHU_PI("t0", "%[pr]", 2)         /* delta of the next run */
            "22:\n\t"
            XDK_HWLOOP_CHECK("21b", "22b", 19)
            XDK_SW_PI("s3", "%[oa]", 4)
            XDK_SW_PI("s5", "%[oa]", 4)
            XDK_SW_PI("s7", "%[oa]", 4)
            XDK_SW_PI("s9", "%[oa]", 4)
            XDK_SW_PI("s4", "%[ob]", 4)
            XDK_SW_PI("s6", "%[ob]", 4)
            XDK_SW_PI("s8", "%[ob]", 4)
            XDK_SW_PI("s10", "%[ob]", 4)
            "sub %[pa], %[pa], %[tg]\n\t"
            "sub %[pb], %[pb], %[tg]\n\t"
            "addi %[rows], %[rows], -1\n\t"
            "bnez %[rows], 20b\n\t"
            : [p0] "+r"(p0), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob),
              [rows] "+r"(rows), [pa] "+r"(pa), [pb] "+r"(pb), [nr] "=&r"(nr), [tg] "=&r"(tg),
              [grp] "=&r"(grp), [pr] "=&r"(pr)
            :
            : "memory", "t0", "t3", "t4", "t5", "t6", "s1", "s2", "s3", "s4", "s5", "s6", "s7",
              "s8", "s9", "s10");
    }
    dense_4x2_leftover(L, p0, pbias, xa, xb, oa, ob);  /* plain rows after the quads */
}
