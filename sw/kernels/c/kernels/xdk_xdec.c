/* xDecimate block kernel: 1 channel x 2 pixels, 12 instructions per 8 MACs at every pattern.
 *
 * Weights: the N:M image of sw/model/nm_format.py (per row: nnz_row int8 values, then one index unit
 * per group of 4 slots, then padding to 4 bytes).  Per row the xdec CSR is written once
 * (cnt 0, M, N, P = 2); xa / xb, the bases of the two pixels' activation vectors, stay constant
 * for the whole layer.  The inner loop is the software-pipelined loop of docs/xdecimate.md:
 * pixel B's dot product of group g runs in iteration g + 1 (epilogue after the loop), and the
 * xdec.lb of the two pixels alternate, so every result is consumed two or more instructions
 * after it is loaded: no load-use stall, 12 cycles per 8 MACs on a CV32E40P-like pipeline.
 *
 * Fixed registers: t0 index-unit pointer, t3 index unit, t2 NZ weight word, t4 / t5 pixel A / B
 * activations, t6 / t1 accumulators A / B.
 */
#include "xdk.h"

#define XDK_XDEC_BLOCK(LOADU, UB)                                                             \
    __asm__ volatile(                                                                         \
        XDK_SETUP(1, "%[rows]", 23)                                                           \
        "10:\n\t"                                                                             \
        "add t0, %[pv], %[nnz]\n\t"              /* index units of this row */                \
        XDK_LW_PI("t6", "%[pbias]", 4)           /* acc A = bias */                           \
        XDK_CSRW_XDEC("%[csr]")                  /* cnt 0, M, N, P = 2 */                     \
        "li t5, 0\n\t"                           /* first pipelined sdot adds 0 */            \
        "mv t1, t6\n\t"                          /* acc B = bias */                           \
        XDK_SETUP(0, "%[grp]", 13)                                                            \
        "0:\n\t"                                                                              \
        LOADU("t3", "t0", UB)                    /* 4 packed indices */                       \
        XDK_SDOTUSP_B("t1", "t5", "t2")          /* pixel B, previous group */                \
        XDK_LW_PI("t2", "%[pv]", 4)              /* 4 NZ weights */                           \
        XDK_XDEC_LB("t4", "%[xa]", "t3")         /* A lane 0 */                               \
        XDK_XDEC_LB("t5", "%[xb]", "t3")         /* B lane 0 */                               \
        XDK_XDEC_LB("t4", "%[xa]", "t3")         /* A lane 1 */                               \
        XDK_XDEC_LB("t5", "%[xb]", "t3")         /* B lane 1 */                               \
        XDK_XDEC_LB("t4", "%[xa]", "t3")         /* A lane 2 */                               \
        XDK_XDEC_LB("t5", "%[xb]", "t3")         /* B lane 2 */                               \
        XDK_XDEC_LB("t4", "%[xa]", "t3")         /* A lane 3 */                               \
        XDK_XDEC_LB("t5", "%[xb]", "t3")         /* B lane 3 */                               \
        XDK_SDOTUSP_B("t6", "t4", "t2")          /* pixel A */                                \
        "1:\n\t"                                                                              \
        XDK_HWLOOP_CHECK("0b", "1b", 12)                                                      \
        XDK_SDOTUSP_B("t1", "t5", "t2")          /* epilogue: pixel B, last group */          \
        XDK_SW_PI("t6", "%[oa]", 4)                                                           \
        XDK_SW_PI("t1", "%[ob]", 4)                                                           \
        "add %[pv], t0, %[skip]\n\t"             /* next row record */                        \
        "11:\n\t"                                                                             \
        XDK_HWLOOP_CHECK("10b", "11b", 22)                                                    \
        : [pv] "+r"(pv), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob), [rows] "+r"(rows) \
        : [xa] "r"(xa), [xb] "r"(xb), [grp] "r"(grp), [csr] "r"(csr), [nnz] "r"(nnz),         \
          [skip] "r"(skip)                                                                    \
        : "memory", "t0", "t1", "t2", "t3", "t4", "t5", "t6")

#define XDK_XDEC_ARGS                                                                         \
    const uint8_t *pv = (const uint8_t *)L->wgt;                                              \
    const int32_t *pbias = L->bias;                                                           \
    int32_t *oa = acc, *ob = acc + L->cout;                                                   \
    uint32_t rows = L->cout;                                                                  \
    const uint32_t grp = L->groups, csr = L->csr_p2, nnz = L->nnz_row, skip = L->rowskip

/* M = 4: one index byte per group. */
__attribute__((noinline)) void xdk_block_xdec_m4(const xdk_layer *L, const uint8_t *xa,
                                                 const uint8_t *xb, int32_t *acc) {
    XDK_XDEC_ARGS;
    XDK_XDEC_BLOCK(XDK_LBU_PI, 1);
}

/* M = 8, 16: one index halfword per group. */
__attribute__((noinline)) void xdk_block_xdec_m816(const xdk_layer *L, const uint8_t *xa,
                                                   const uint8_t *xb, int32_t *acc) {
    XDK_XDEC_ARGS;
    XDK_XDEC_BLOCK(XDK_LHU_PI, 2);
}

void xdk_block_xdec(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb, int32_t *acc) {
    if (L->m == 4) {
        xdk_block_xdec_m4(L, xa, xb, acc);
    } else {
        xdk_block_xdec_m816(L, xa, xb, acc);
    }
}

/* ---- 1 x 4: P = 4 pixel streams share each index unit and weight word ---------------------
 * Lane order A0 B0 C0 D0 A1 ... D3: every xdec.lb reads the register written four
 * instructions earlier and each dot product comes three or more instructions after the last
 * xdec.lb into its register, so the loop needs no software pipelining and has no stall:
 * 1 index load + 1 weight load + 16 xdec.lb + 4 cv.sdotusp.b = 22 instructions per 16 MACs.
 * Fixed registers: t0 index pointer, t3 index unit, t2 weights, t4 t5 t6 s1 pixel words,
 * s2..s5 accumulators. */
#define XDK_XDEC4_BLOCK(LOADU, UB)                                                            \
    __asm__ volatile(                                                                         \
        XDK_SETUP(1, "%[rows]", 35)                                                           \
        "10:\n\t"                                                                             \
        "add t0, %[pv], %[nnz]\n\t"                                                           \
        XDK_LW_PI("s2", "%[pbias]", 4)                                                        \
        XDK_CSRW_XDEC("%[csr]")                                                               \
        "mv s3, s2\n\t"                                                                       \
        "mv s4, s2\n\t"                                                                       \
        "mv s5, s2\n\t"                                                                       \
        XDK_SETUP(0, "%[grp]", 23)                                                            \
        "0:\n\t"                                                                              \
        LOADU("t3", "t0", UB)                                                                 \
        XDK_LW_PI("t2", "%[pv]", 4)                                                           \
        XDK_XDEC_LB("t4", "%[xa]", "t3")                                                      \
        XDK_XDEC_LB("t5", "%[xb]", "t3")                                                      \
        XDK_XDEC_LB("t6", "%[xc]", "t3")                                                      \
        XDK_XDEC_LB("s1", "%[xd]", "t3")                                                      \
        XDK_XDEC_LB("t4", "%[xa]", "t3")                                                      \
        XDK_XDEC_LB("t5", "%[xb]", "t3")                                                      \
        XDK_XDEC_LB("t6", "%[xc]", "t3")                                                      \
        XDK_XDEC_LB("s1", "%[xd]", "t3")                                                      \
        XDK_XDEC_LB("t4", "%[xa]", "t3")                                                      \
        XDK_XDEC_LB("t5", "%[xb]", "t3")                                                      \
        XDK_XDEC_LB("t6", "%[xc]", "t3")                                                      \
        XDK_XDEC_LB("s1", "%[xd]", "t3")                                                      \
        XDK_XDEC_LB("t4", "%[xa]", "t3")                                                      \
        XDK_XDEC_LB("t5", "%[xb]", "t3")                                                      \
        XDK_XDEC_LB("t6", "%[xc]", "t3")                                                      \
        XDK_XDEC_LB("s1", "%[xd]", "t3")                                                      \
        XDK_SDOTUSP_B("s2", "t4", "t2")                                                       \
        XDK_SDOTUSP_B("s3", "t5", "t2")                                                       \
        XDK_SDOTUSP_B("s4", "t6", "t2")                                                       \
        XDK_SDOTUSP_B("s5", "s1", "t2")                                                       \
        "1:\n\t"                                                                              \
        XDK_HWLOOP_CHECK("0b", "1b", 22)                                                      \
        XDK_SW_PI("s2", "%[oa]", 4)                                                           \
        XDK_SW_PI("s3", "%[ob]", 4)                                                           \
        XDK_SW_PI("s4", "%[oc]", 4)                                                           \
        XDK_SW_PI("s5", "%[od]", 4)                                                           \
        "add %[pv], t0, %[skip]\n\t"                                                          \
        "11:\n\t"                                                                             \
        XDK_HWLOOP_CHECK("10b", "11b", 34)                                                    \
        : [pv] "+r"(pv), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob), [oc] "+r"(oc),    \
          [od] "+r"(od), [rows] "+r"(rows)                                                    \
        : [xa] "r"(xa), [xb] "r"(xb), [xc] "r"(xc), [xd] "r"(xd), [grp] "r"(grp),             \
          [csr] "r"(csr), [nnz] "r"(nnz), [skip] "r"(skip)                                    \
        : "memory", "t0", "t2", "t3", "t4", "t5", "t6", "s1", "s2", "s3", "s4", "s5")

#define XDK_XDEC4_ARGS                                                                        \
    const uint8_t *pv = (const uint8_t *)L->wgt;                                              \
    const int32_t *pbias = L->bias;                                                           \
    const uint32_t cout = L->cout;                                                            \
    int32_t *oa = acc, *ob = acc + cout, *oc = acc + 2 * cout, *od = acc + 3 * cout;          \
    uint32_t rows = cout;                                                                     \
    const uint32_t grp = L->groups, csr = L->csr_p4, nnz = L->nnz_row, skip = L->rowskip

__attribute__((noinline)) void xdk_block_xdec4_m4(const xdk_layer *L, const uint8_t *xa,
                                                  const uint8_t *xb, const uint8_t *xc,
                                                  const uint8_t *xd, int32_t *acc) {
    XDK_XDEC4_ARGS;
    XDK_XDEC4_BLOCK(XDK_LBU_PI, 1);
}

__attribute__((noinline)) void xdk_block_xdec4_m816(const xdk_layer *L, const uint8_t *xa,
                                                    const uint8_t *xb, const uint8_t *xc,
                                                    const uint8_t *xd, int32_t *acc) {
    XDK_XDEC4_ARGS;
    XDK_XDEC4_BLOCK(XDK_LHU_PI, 2);
}

void xdk_block_xdec4(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,
                     const uint8_t *xc, const uint8_t *xd, int32_t *acc) {
    if (L->m == 4) {
        xdk_block_xdec4_m4(L, xa, xb, xc, xd, acc);
    } else {
        xdk_block_xdec4_m816(L, xa, xb, xc, xd, acc);
    }
}

/* ---- direct convolution (no im2col), kh = 3 ---------------------------------------------
 * xa.. are the origins of the pixels' patches in the HWC input (padded copy if pad > 0).  The
 * K order (ky, kx, c) of the weights puts kernel row ky at K offsets ky*R .. ky*R + R - 1
 * (R = kw * cin) while the input holds it at ky*wp*cin from the origin.  xdec.lb forms
 * rs1 + (j div N)*M + idx from the NZ ordinal j = its counter / P, so writing the counter of
 * kernel row ky as P * ky * dj (dj = wp * cin * N / M NZ ordinals per input row) makes the
 * same loop read row ky straight from the input: one csrw and one cv.setup per kernel row,
 * the loop body unchanged.  The harness allows it (L->direct) only if every group of 4 NZ
 * slots lies inside one kernel row (R and wp * cin multiples of 4 M / N) and the counter stays
 * below 2^16.  The software pipeline of the 1 x 2 loop runs on across the segments (the
 * pending pixel-B dot product of a segment's last group is the next segment's first
 * instruction after its index load). */
#define XDK_XDEC_SEG(LOADU, UB)                                                               \
    XDK_SETUP(0, "%[grp]", 13)                                                                \
    "0:\n\t"                                                                                  \
    LOADU("t3", "t0", UB)                                                                     \
    XDK_SDOTUSP_B("t1", "t5", "t2")                                                           \
    XDK_LW_PI("t2", "%[pv]", 4)                                                               \
    XDK_XDEC_LB("t4", "%[xa]", "t3")                                                          \
    XDK_XDEC_LB("t5", "%[xb]", "t3")                                                          \
    XDK_XDEC_LB("t4", "%[xa]", "t3")                                                          \
    XDK_XDEC_LB("t5", "%[xb]", "t3")                                                          \
    XDK_XDEC_LB("t4", "%[xa]", "t3")                                                          \
    XDK_XDEC_LB("t5", "%[xb]", "t3")                                                          \
    XDK_XDEC_LB("t4", "%[xa]", "t3")                                                          \
    XDK_XDEC_LB("t5", "%[xb]", "t3")                                                          \
    XDK_SDOTUSP_B("t6", "t4", "t2")                                                           \
    "1:\n\t"                                                                                  \
    XDK_HWLOOP_CHECK("0b", "1b", 12)

#define XDK_XDEC_DIRECT_BLOCK(LOADU, UB)                                                      \
    __asm__ volatile(                                                                         \
        XDK_SETUP(1, "%[rows]", 51)                                                           \
        "10:\n\t"                                                                             \
        "add t0, %[pv], %[nnz]\n\t"              /* index units of this row */                \
        XDK_LW_PI("t6", "%[pbias]", 4)           /* acc A = bias */                           \
        XDK_CSRW_XDEC("%[csr0]")                 /* kernel row 0: cnt 0 */                    \
        "li t5, 0\n\t"                           /* first pipelined sdot adds 0 */            \
        "mv t1, t6\n\t"                          /* acc B = bias */                           \
        XDK_XDEC_SEG(LOADU, UB)                                                               \
        XDK_CSRW_XDEC("%[csr1]")                 /* kernel row 1: cnt 2 dj */                 \
        XDK_XDEC_SEG(LOADU, UB)                                                               \
        XDK_CSRW_XDEC("%[csr2]")                 /* kernel row 2: cnt 4 dj */                 \
        XDK_XDEC_SEG(LOADU, UB)                                                               \
        XDK_SDOTUSP_B("t1", "t5", "t2")          /* epilogue: pixel B, last group */          \
        XDK_SW_PI("t6", "%[oa]", 4)                                                           \
        XDK_SW_PI("t1", "%[ob]", 4)                                                           \
        "add %[pv], t0, %[skip]\n\t"             /* next row record */                        \
        "11:\n\t"                                                                             \
        XDK_HWLOOP_CHECK("10b", "11b", 50)                                                    \
        : [pv] "+r"(pv), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob), [rows] "+r"(rows) \
        : [xa] "r"(xa), [xb] "r"(xb), [grp] "r"(grp), [csr0] "r"(csr0), [csr1] "r"(csr1),     \
          [csr2] "r"(csr2), [nnz] "r"(nnz), [skip] "r"(skip)                                  \
        : "memory", "t0", "t1", "t2", "t3", "t4", "t5", "t6")

#define XDK_XDEC_DIRECT_ARGS(P, CSR)                                                          \
    const uint8_t *pv = (const uint8_t *)L->wgt;                                              \
    const int32_t *pbias = L->bias;                                                           \
    const uint32_t cout = L->cout;                                                            \
    uint32_t rows = cout;                                                                     \
    const uint32_t grp = L->grp_row, nnz = L->nnz_row, skip = L->rowskip;                    \
    const uint32_t csr0 = (CSR), csr1 = csr0 + (P) * L->dj, csr2 = csr1 + (P) * L->dj

__attribute__((noinline)) void xdk_block_xdec_direct_m4(const xdk_layer *L, const uint8_t *xa,
                                                        const uint8_t *xb, int32_t *acc) {
    XDK_XDEC_DIRECT_ARGS(2, L->csr_p2);
    int32_t *oa = acc, *ob = acc + cout;
    XDK_XDEC_DIRECT_BLOCK(XDK_LBU_PI, 1);
}

__attribute__((noinline)) void xdk_block_xdec_direct_m816(const xdk_layer *L,
                                                          const uint8_t *xa, const uint8_t *xb,
                                                          int32_t *acc) {
    XDK_XDEC_DIRECT_ARGS(2, L->csr_p2);
    int32_t *oa = acc, *ob = acc + cout;
    XDK_XDEC_DIRECT_BLOCK(XDK_LHU_PI, 2);
}

void xdk_block_xdec_direct(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,
                           int32_t *acc) {
    if (L->kh == 1) {
        xdk_block_xdec(L, xa, xb, acc); /* one kernel row: the patch is contiguous */
    } else if (L->m == 4) {
        xdk_block_xdec_direct_m4(L, xa, xb, acc);
    } else {
        xdk_block_xdec_direct_m816(L, xa, xb, acc);
    }
}

/* 1 x 4: the same three segments around the P = 4 loop (no software pipeline). */
#define XDK_XDEC4_SEG(LOADU, UB)                                                              \
    XDK_SETUP(0, "%[grp]", 23)                                                                \
    "0:\n\t"                                                                                  \
    LOADU("t3", "t0", UB)                                                                     \
    XDK_LW_PI("t2", "%[pv]", 4)                                                               \
    XDK_XDEC_LB("t4", "%[xa]", "t3")                                                          \
    XDK_XDEC_LB("t5", "%[xb]", "t3")                                                          \
    XDK_XDEC_LB("t6", "%[xc]", "t3")                                                          \
    XDK_XDEC_LB("s1", "%[xd]", "t3")                                                          \
    XDK_XDEC_LB("t4", "%[xa]", "t3")                                                          \
    XDK_XDEC_LB("t5", "%[xb]", "t3")                                                          \
    XDK_XDEC_LB("t6", "%[xc]", "t3")                                                          \
    XDK_XDEC_LB("s1", "%[xd]", "t3")                                                          \
    XDK_XDEC_LB("t4", "%[xa]", "t3")                                                          \
    XDK_XDEC_LB("t5", "%[xb]", "t3")                                                          \
    XDK_XDEC_LB("t6", "%[xc]", "t3")                                                          \
    XDK_XDEC_LB("s1", "%[xd]", "t3")                                                          \
    XDK_XDEC_LB("t4", "%[xa]", "t3")                                                          \
    XDK_XDEC_LB("t5", "%[xb]", "t3")                                                          \
    XDK_XDEC_LB("t6", "%[xc]", "t3")                                                          \
    XDK_XDEC_LB("s1", "%[xd]", "t3")                                                          \
    XDK_SDOTUSP_B("s2", "t4", "t2")                                                           \
    XDK_SDOTUSP_B("s3", "t5", "t2")                                                           \
    XDK_SDOTUSP_B("s4", "t6", "t2")                                                           \
    XDK_SDOTUSP_B("s5", "s1", "t2")                                                           \
    "1:\n\t"                                                                                  \
    XDK_HWLOOP_CHECK("0b", "1b", 22)

#define XDK_XDEC4_DIRECT_BLOCK(LOADU, UB)                                                     \
    __asm__ volatile(                                                                         \
        XDK_SETUP(1, "%[rows]", 83)                                                           \
        "10:\n\t"                                                                             \
        "add t0, %[pv], %[nnz]\n\t"                                                           \
        XDK_LW_PI("s2", "%[pbias]", 4)                                                        \
        XDK_CSRW_XDEC("%[csr0]")                                                              \
        "mv s3, s2\n\t"                                                                       \
        "mv s4, s2\n\t"                                                                       \
        "mv s5, s2\n\t"                                                                       \
        XDK_XDEC4_SEG(LOADU, UB)                                                              \
        XDK_CSRW_XDEC("%[csr1]")                                                              \
        XDK_XDEC4_SEG(LOADU, UB)                                                              \
        XDK_CSRW_XDEC("%[csr2]")                                                              \
        XDK_XDEC4_SEG(LOADU, UB)                                                              \
        XDK_SW_PI("s2", "%[oa]", 4)                                                           \
        XDK_SW_PI("s3", "%[ob]", 4)                                                           \
        XDK_SW_PI("s4", "%[oc]", 4)                                                           \
        XDK_SW_PI("s5", "%[od]", 4)                                                           \
        "add %[pv], t0, %[skip]\n\t"                                                          \
        "11:\n\t"                                                                             \
        XDK_HWLOOP_CHECK("10b", "11b", 82)                                                    \
        : [pv] "+r"(pv), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob), [oc] "+r"(oc),    \
          [od] "+r"(od), [rows] "+r"(rows)                                                    \
        : [xa] "r"(xa), [xb] "r"(xb), [xc] "r"(xc), [xd] "r"(xd), [grp] "r"(grp),             \
          [csr0] "r"(csr0), [csr1] "r"(csr1), [csr2] "r"(csr2), [nnz] "r"(nnz),               \
          [skip] "r"(skip)                                                                    \
        : "memory", "t0", "t2", "t3", "t4", "t5", "t6", "s1", "s2", "s3", "s4", "s5")

__attribute__((noinline)) void xdk_block_xdec4_direct_m4(const xdk_layer *L, const uint8_t *xa,
                                                         const uint8_t *xb, const uint8_t *xc,
                                                         const uint8_t *xd, int32_t *acc) {
    XDK_XDEC_DIRECT_ARGS(4, L->csr_p4);
    int32_t *oa = acc, *ob = acc + cout, *oc = acc + 2 * cout, *od = acc + 3 * cout;
    XDK_XDEC4_DIRECT_BLOCK(XDK_LBU_PI, 1);
}

__attribute__((noinline)) void xdk_block_xdec4_direct_m816(const xdk_layer *L,
                                                           const uint8_t *xa, const uint8_t *xb,
                                                           const uint8_t *xc, const uint8_t *xd,
                                                           int32_t *acc) {
    XDK_XDEC_DIRECT_ARGS(4, L->csr_p4);
    int32_t *oa = acc, *ob = acc + cout, *oc = acc + 2 * cout, *od = acc + 3 * cout;
    XDK_XDEC4_DIRECT_BLOCK(XDK_LHU_PI, 2);
}

void xdk_block_xdec4_direct(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,
                            const uint8_t *xc, const uint8_t *xd, int32_t *acc) {
    if (L->kh == 1) {
        xdk_block_xdec4(L, xa, xb, xc, xd, acc);
    } else if (L->m == 4) {
        xdk_block_xdec4_direct_m4(L, xa, xb, xc, xd, acc);
    } else {
        xdk_block_xdec4_direct_m816(L, xa, xb, xc, xd, acc);
    }
}
