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
 *
 * Every loop body below exists once: the im2col blocks (xdk_block_xdec*_m4 / _m816) run one
 * loop-0 segment per weight row, the direct blocks (xdk_block_xdec*_direct_*) three, one per
 * kernel row (XDK_XDEC_KROWS3).
 */
#include "xdk.h"

/* Loop 0 of the 1 x 2 kernels over the groups of 4 NZ slots: cv.setup + 12-instruction body.
 * Used by xdk_block_xdec_m4 / _m816 (once per row) and xdk_block_xdec_direct_m4 / _m816 (once
 * per kernel row). */
#define XDK_XDEC_LOOP(LOADU, UB)                                                              \
    XDK_SETUP(0, "%[grp]", 13)                                                                \
    "0:\n\t"                                                                                  \
    LOADU("t3", "t0", UB)                    /* 4 packed indices */                           \
    XDK_SDOTUSP_B("t1", "t5", "t2")          /* pixel B, previous group */                    \
    XDK_LW_PI("t2", "%[pv]", 4)              /* 4 NZ weights */                               \
    XDK_XDEC_LB("t4", "%[xa]", "t3")         /* A lane 0 */                                   \
    XDK_XDEC_LB("t5", "%[xb]", "t3")         /* B lane 0 */                                   \
    XDK_XDEC_LB("t4", "%[xa]", "t3")         /* A lane 1 */                                   \
    XDK_XDEC_LB("t5", "%[xb]", "t3")         /* B lane 1 */                                   \
    XDK_XDEC_LB("t4", "%[xa]", "t3")         /* A lane 2 */                                   \
    XDK_XDEC_LB("t5", "%[xb]", "t3")         /* B lane 2 */                                   \
    XDK_XDEC_LB("t4", "%[xa]", "t3")         /* A lane 3 */                                   \
    XDK_XDEC_LB("t5", "%[xb]", "t3")         /* B lane 3 */                                   \
    XDK_SDOTUSP_B("t6", "t4", "t2")          /* pixel A */                                    \
    "1:\n\t"                                                                                  \
    XDK_HWLOOP_CHECK("0b", "1b", 12)

/* The 1 x 2 asm statement, used by xdk_block_xdec_m4 / _m816 and xdk_block_xdec_direct_m4 /
 * _m816: loop 1 over the weight rows (NOUT: its cv.setup count, body + 1), each row
 *   5 prologue instructions (first CSR value %[csr0]) + SEGMENTS + 4 epilogue instructions.
 * CSRS: the asm input operands of the CSR values (XDK_XDEC_CSR1 or XDK_XDEC_CSR3). */
#define XDK_XDEC_ROWS(NOUT, SEGMENTS, CSRS)                                                   \
    __asm__ volatile(                                                                         \
        XDK_SETUP(1, "%[rows]", NOUT)                                                         \
        "10:\n\t"                                                                             \
        "add t0, %[pv], %[nnz]\n\t"              /* index units of this row */                \
        XDK_LW_PI("t6", "%[pbias]", 4)           /* acc A = bias */                           \
        XDK_CSRW_XDEC("%[csr0]")                 /* cnt 0, M, N, P = 2 */                     \
        "li t5, 0\n\t"                           /* first pipelined sdot adds 0 */            \
        "mv t1, t6\n\t"                          /* acc B = bias */                           \
        SEGMENTS                                                                              \
        XDK_SDOTUSP_B("t1", "t5", "t2")          /* epilogue: pixel B, last group */          \
        XDK_SW_PI("t6", "%[oa]", 4)                                                           \
        XDK_SW_PI("t1", "%[ob]", 4)                                                           \
        "add %[pv], t0, %[skip]\n\t"             /* next row record */                        \
        "11:\n\t"                                                                             \
        XDK_HWLOOP_CHECK("10b", "11b", NOUT - 1)                                              \
        : XDK_PAIR_OUTPUTS                                                                    \
        : [xa] "r"(xa), [xb] "r"(xb), [grp] "r"(grp), CSRS, [nnz] "r"(nnz), [skip] "r"(skip)  \
        : "memory", "t0", "t1", "t2", "t3", "t4", "t5", "t6")

/* CSR operands: one value per row (im2col blocks), or one per kernel row (direct blocks). */
#define XDK_XDEC_CSR1 [csr0] "r"(csr0)
#define XDK_XDEC_CSR3 [csr0] "r"(csr0), [csr1] "r"(csr1), [csr2] "r"(csr2)

/* The m4 / m816 variants of a block (one hot loop each): NAME_m4 (M = 4: one index byte per
 * group) and NAME_m816 (M = 8, 16: one index halfword per group), bodies BODY(index load, index
 * unit bytes).  Defines xdk_block_xdec_*, xdk_block_xdec4_*, xdk_block_xdec_direct_*,
 * xdk_block_xdec4_direct_* (_m4, _m816); PARAMS: XDK_PAIR_PARAMS or XDK_QUAD_PARAMS. */
#define XDK_XDEC_VARIANTS(NAME, PARAMS, BODY)                                                 \
    __attribute__((noinline)) void NAME##_m4 PARAMS { BODY(XDK_LBU_PI, 1); }                  \
    __attribute__((noinline)) void NAME##_m816 PARAMS { BODY(XDK_LHU_PI, 2); }
#define XDK_PAIR_PARAMS (const xdk_layer *L, const uint8_t *xa, const uint8_t *xb, int32_t *acc)
#define XDK_QUAD_PARAMS                                                                       \
    (const xdk_layer *L, const uint8_t *xa, const uint8_t *xb, const uint8_t *xc,             \
     const uint8_t *xd, int32_t *acc)

/* xdk_block_xdec_m4 / _m816: one loop-0 segment per row (5 + 13 + 4 = 22 instructions). */
#define XDK_XDEC_BODY(LOADU, UB)                                                              \
    XDK_NM_LOCALS(L->groups);                                                                 \
    XDK_NM_OUT2;                                                                              \
    const uint32_t csr0 = L->csr_p2;                                                          \
    XDK_XDEC_ROWS(23, XDK_XDEC_LOOP(LOADU, UB), XDK_XDEC_CSR1)
XDK_XDEC_VARIANTS(xdk_block_xdec, XDK_PAIR_PARAMS, XDK_XDEC_BODY)

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

/* The xdec.lb of one lane for pixels A, B, C, D (XDK_XDEC4_LOOP runs it for lanes 0..3). */
#define XDK_XDEC4_LANE                                                                        \
    XDK_XDEC_LB("t4", "%[xa]", "t3")                                                          \
    XDK_XDEC_LB("t5", "%[xb]", "t3")                                                          \
    XDK_XDEC_LB("t6", "%[xc]", "t3")                                                          \
    XDK_XDEC_LB("s1", "%[xd]", "t3")

/* Loop 0 of the 1 x 4 kernels: cv.setup + 22-instruction body.  Used by xdk_block_xdec4_m4 /
 * _m816 (once per row) and xdk_block_xdec4_direct_m4 / _m816 (once per kernel row). */
#define XDK_XDEC4_LOOP(LOADU, UB)                                                             \
    XDK_SETUP(0, "%[grp]", 23)                                                                \
    "0:\n\t"                                                                                  \
    LOADU("t3", "t0", UB)                                                                     \
    XDK_LW_PI("t2", "%[pv]", 4)                                                               \
    XDK_XDEC4_LANE                               /* A0 B0 C0 D0 */                            \
    XDK_XDEC4_LANE                               /* A1 B1 C1 D1 */                            \
    XDK_XDEC4_LANE                               /* A2 B2 C2 D2 */                            \
    XDK_XDEC4_LANE                               /* A3 B3 C3 D3 */                            \
    XDK_SDOTUSP_B("s2", "t4", "t2")                                                           \
    XDK_SDOTUSP_B("s3", "t5", "t2")                                                           \
    XDK_SDOTUSP_B("s4", "t6", "t2")                                                           \
    XDK_SDOTUSP_B("s5", "s1", "t2")                                                           \
    "1:\n\t"                                                                                  \
    XDK_HWLOOP_CHECK("0b", "1b", 22)

/* The 1 x 4 asm statement, used by xdk_block_xdec4_m4 / _m816 and xdk_block_xdec4_direct_m4 /
 * _m816: loop 1 over the weight rows (NOUT: its cv.setup count), each row 6 prologue
 * instructions + SEGMENTS + 5 epilogue instructions (XDK_QUAD_ROW_TAIL). */
#define XDK_XDEC4_ROWS(NOUT, SEGMENTS, CSRS)                                                  \
    __asm__ volatile(                                                                         \
        XDK_SETUP(1, "%[rows]", NOUT)                                                         \
        "10:\n\t"                                                                             \
        "add t0, %[pv], %[nnz]\n\t"                                                           \
        XDK_LW_PI("s2", "%[pbias]", 4)                                                        \
        XDK_CSRW_XDEC("%[csr0]")                                                              \
        "mv s3, s2\n\t"                                                                       \
        "mv s4, s2\n\t"                                                                       \
        "mv s5, s2\n\t"                                                                       \
        SEGMENTS                                                                              \
        XDK_QUAD_ROW_TAIL("s2", "s3", "s4", "s5")                                             \
        "11:\n\t"                                                                             \
        XDK_HWLOOP_CHECK("10b", "11b", NOUT - 1)                                              \
        : XDK_QUAD_OUTPUTS                                                                    \
        : [xa] "r"(xa), [xb] "r"(xb), [xc] "r"(xc), [xd] "r"(xd), [grp] "r"(grp), CSRS,       \
          [nnz] "r"(nnz), [skip] "r"(skip)                                                    \
        : "memory", "t0", "t2", "t3", "t4", "t5", "t6", "s1", "s2", "s3", "s4", "s5")

/* xdk_block_xdec4_m4 / _m816 (6 + 23 + 5 = 34 instructions per row). */
#define XDK_XDEC4_BODY(LOADU, UB)                                                             \
    XDK_NM_LOCALS(L->groups);                                                                 \
    XDK_NM_OUT4;                                                                              \
    const uint32_t csr0 = L->csr_p4;                                                          \
    XDK_XDEC4_ROWS(35, XDK_XDEC4_LOOP(LOADU, UB), XDK_XDEC_CSR1)
XDK_XDEC_VARIANTS(xdk_block_xdec4, XDK_QUAD_PARAMS, XDK_XDEC4_BODY)

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

/* The segments of one weight row in the direct blocks (1 x 2 and 1 x 4): LOOP once per kernel
 * row, the CSR re-based (%[csr1], %[csr2]) between rows: 3 cv.setup-led loops + 2 csrw. */
#define XDK_XDEC_KROWS3(LOOP)                                                                 \
    LOOP                                                                                      \
    XDK_CSRW_XDEC("%[csr1]")                     /* kernel row 1: cnt P dj */                 \
    LOOP                                                                                      \
    XDK_CSRW_XDEC("%[csr2]")                     /* kernel row 2: cnt 2 P dj */               \
    LOOP

/* CSR values of kernel rows 0..2 (P = 2 or 4). */
#define XDK_XDEC_DIRECT_CSRS(P, CSR)                                                          \
    const uint32_t csr0 = (CSR), csr1 = csr0 + (P) * L->dj, csr2 = csr1 + (P) * L->dj

/* xdk_block_xdec_direct_m4 / _m816 (5 + 3 * 13 + 2 + 4 = 50 instructions per row). */
#define XDK_XDEC_DIRECT_BODY(LOADU, UB)                                                       \
    XDK_NM_LOCALS(L->grp_row);                                                                \
    XDK_XDEC_DIRECT_CSRS(2, L->csr_p2);                                                       \
    XDK_NM_OUT2;                                                                              \
    XDK_XDEC_ROWS(51, XDK_XDEC_KROWS3(XDK_XDEC_LOOP(LOADU, UB)), XDK_XDEC_CSR3)
XDK_XDEC_VARIANTS(xdk_block_xdec_direct, XDK_PAIR_PARAMS, XDK_XDEC_DIRECT_BODY)

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

/* xdk_block_xdec4_direct_m4 / _m816: the same three segments around the P = 4 loop (no
 * software pipeline; 6 + 3 * 23 + 2 + 5 = 82 instructions per row). */
#define XDK_XDEC4_DIRECT_BODY(LOADU, UB)                                                      \
    XDK_NM_LOCALS(L->grp_row);                                                                \
    XDK_XDEC_DIRECT_CSRS(4, L->csr_p4);                                                       \
    XDK_NM_OUT4;                                                                              \
    XDK_XDEC4_ROWS(83, XDK_XDEC_KROWS3(XDK_XDEC4_LOOP(LOADU, UB)), XDK_XDEC_CSR3)
XDK_XDEC_VARIANTS(xdk_block_xdec4_direct, XDK_QUAD_PARAMS, XDK_XDEC4_DIRECT_BODY)

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

/* ---- group skipping (xdec_skip, xdec4_skip) ------------------------------------------------
 * Weights: the skip image of sw/model/nm_skip.py -- per row a header (u16 runs, u16 value
 * bytes), the runs (u16 first group g0, u16 groups n; maximal runs of kept groups, >= 1 per
 * row), the kept groups' value words, their index units, padding to 4 bytes.  All-zero groups
 * are gone: the loops never visit them.  Before each run the xdec counter is re-based to
 * 4·P·g0, so the unchanged loop-0 body reads the run's blocks.  Hardware loops may hold no
 * branch, so the rows are a software loop, loop 1 runs over the runs of a row and loop 0 over
 * the groups of a run; the g0 of the next run is loaded as loop 1's last instruction (the one
 * instruction CV32E40P requires between the two loop ends).  Cost per row over xdec / xdec4:
 * the header and pointer set-up, 6 instructions per run and the row branch; docs/kernels.md
 * "Group skipping" gives the measured figures. */

/* Row prologue of the skip blocks: header, pointers (%[pr] runs, %[pv] values, t0 index
 * units), first run's g0; ACC: the accumulator of pixel A (bias). */
#define XDK_SKIP_ROW_HEAD(ACC)                                                                \
    "20:\n\t"                                                                                 \
    XDK_LHU_PI("%[nr]", "%[pv]", 2)              /* runs (>= 1) */                            \
    XDK_LHU_PI("%[tg]", "%[pv]", 2)              /* value bytes */                            \
    XDK_LW_PI(ACC, "%[pbias]", 4)                /* acc A = bias */                           \
    "slli %[grp], %[nr], 2\n\t"                                                               \
    "mv %[pr], %[pv]\n\t"                        /* the runs */                               \
    "add %[pv], %[pv], %[grp]\n\t"               /* the values */                             \
    "add t0, %[pv], %[tg]\n\t"                   /* the index units */                        \
    XDK_LHU_PI("%[tg]", "%[pr]", 2)              /* g0 of run 0 */

/* Loop 1 over the runs of a row: re-base the counter (SHIFT = log2(4 P)), loop 0 (LOOP), load
 * the next run's g0 (after the last run it reads the row's first value bytes, unused). */
#define XDK_SKIP_RUNS(NRUN, SHIFT, LOOP)                                                      \
    XDK_SETUP(1, "%[nr]", NRUN)                                                               \
    "21:\n\t"                                                                                 \
    XDK_LHU_PI("%[grp]", "%[pr]", 2)             /* n: groups of the run */                   \
    "slli %[tg], %[tg], " #SHIFT "\n\t"          /* cnt = 4 P g0 */                           \
    "or %[tg], %[tg], %[csr0]\n\t"                                                            \
    XDK_CSRW_XDEC("%[tg]")                                                                    \
    LOOP                                                                                      \
    XDK_LHU_PI("%[tg]", "%[pr]", 2)              /* g0 of the next run */                     \
    "22:\n\t"                                                                                 \
    XDK_HWLOOP_CHECK("21b", "22b", NRUN - 1)

/* Locals of the skip blocks (the row-loop operands, the temporaries, the CSR value CSR). */
#define XDK_SKIP_LOCALS(CSR)                                                                  \
    const uint8_t *pv = (const uint8_t *)L->wgt;                                              \
    const int32_t *pbias = L->bias;                                                           \
    const uint32_t cout = L->cout;                                                            \
    uint32_t rows = cout, nr, tg, grp;                                                        \
    const uint8_t *pr;                                                                        \
    const uint32_t csr0 = (CSR)

#define XDK_SKIP_TEMPS                                                                        \
    [nr] "=&r"(nr), [tg] "=&r"(tg), [grp] "=&r"(grp), [pr] "=&r"(pr)

/* xdk_block_xdec_skip_m4 / _m816: 1 x 2, the pipelined loop of xdk_block_xdec. */
#define XDK_XDEC_SKIP_BODY(LOADU, UB)                                                         \
    XDK_SKIP_LOCALS(L->csr_p2);                                                               \
    XDK_NM_OUT2;                                                                              \
    __asm__ volatile(                                                                         \
        XDK_SKIP_ROW_HEAD("t6")                                                               \
        "li t5, 0\n\t"                           /* first pipelined sdot adds 0 */            \
        "mv t1, t6\n\t"                          /* acc B = bias */                           \
        XDK_SKIP_RUNS(19, 3, XDK_XDEC_LOOP(LOADU, UB))                                        \
        XDK_SDOTUSP_B("t1", "t5", "t2")          /* epilogue: pixel B, last group */          \
        XDK_SW_PI("t6", "%[oa]", 4)                                                           \
        XDK_SW_PI("t1", "%[ob]", 4)                                                           \
        XDK_SKIP_ROW_NEXT                                                                     \
        : XDK_PAIR_OUTPUTS, XDK_SKIP_TEMPS                                                    \
        : [xa] "r"(xa), [xb] "r"(xb), [csr0] "r"(csr0)                                        \
        : "memory", "t0", "t1", "t2", "t3", "t4", "t5", "t6")
XDK_XDEC_VARIANTS(xdk_block_xdec_skip, XDK_PAIR_PARAMS, XDK_XDEC_SKIP_BODY)

void xdk_block_xdec_skip(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,
                         int32_t *acc) {
    if (L->m == 4) {
        xdk_block_xdec_skip_m4(L, xa, xb, acc);
    } else {
        xdk_block_xdec_skip_m816(L, xa, xb, acc);
    }
}

/* xdk_block_xdec4_skip_m4 / _m816: 1 x 4, the loop of xdk_block_xdec4. */
#define XDK_XDEC4_SKIP_BODY(LOADU, UB)                                                        \
    XDK_SKIP_LOCALS(L->csr_p4);                                                               \
    XDK_NM_OUT4;                                                                              \
    __asm__ volatile(                                                                         \
        XDK_SKIP_ROW_HEAD("s2")                                                               \
        "mv s3, s2\n\t"                                                                       \
        "mv s4, s2\n\t"                                                                       \
        "mv s5, s2\n\t"                                                                       \
        XDK_SKIP_RUNS(29, 4, XDK_XDEC4_LOOP(LOADU, UB))                                       \
        XDK_SW_PI("s2", "%[oa]", 4)                                                           \
        XDK_SW_PI("s3", "%[ob]", 4)                                                           \
        XDK_SW_PI("s4", "%[oc]", 4)                                                           \
        XDK_SW_PI("s5", "%[od]", 4)                                                           \
        XDK_SKIP_ROW_NEXT                                                                     \
        : XDK_QUAD_OUTPUTS, XDK_SKIP_TEMPS                                                    \
        : [xa] "r"(xa), [xb] "r"(xb), [xc] "r"(xc), [xd] "r"(xd), [csr0] "r"(csr0)            \
        : "memory", "t0", "t2", "t3", "t4", "t5", "t6", "s1", "s2", "s3", "s4", "s5")
XDK_XDEC_VARIANTS(xdk_block_xdec4_skip, XDK_QUAD_PARAMS, XDK_XDEC4_SKIP_BODY)

void xdk_block_xdec4_skip(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,
                          const uint8_t *xc, const uint8_t *xd, int32_t *acc) {
    if (L->m == 4) {
        xdk_block_xdec4_skip_m4(L, xa, xb, xc, xd, acc);
    } else {
        xdk_block_xdec4_skip_m816(L, xa, xb, xc, xd, acc);
    }
}
