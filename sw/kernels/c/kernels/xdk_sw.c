/* Software N:M-sparse block kernels (no xDecimate), with the XpulpV2 bit-manipulation and
 * byte-packing instructions (cv.insert, cv.extractu, cv.pack, cv.packlo.b, cv.packhi.b,
 * cv.shuffle2.b).  Same weight image and loop structure as the xDecimate kernels.
 *
 * Pair block (1 channel x 2 pixels), per group of 4 NZ slots (8 MACs): 21 instructions at
 * every pattern, no load-use stall.  The two pixels' activations are first interleaved into a
 * scratch buffer (xdk_sw_interleave: ilv[2k] = xa[k], ilv[2k + 1] = xb[k]), so ONE halfword
 * load fetches the byte of both pixels at a position.  The address of lane l is
 *     G + 2 ((l div N) M + idx_l)
 * with G the group's base (aligned to 2 M): cv.insert writes 2 idx_l into bits log2(M)..1 of a
 * pointer P whose upper bits are G (no add), and the lane's block offset is the load's
 * immediate.  The insert takes log2(M) bits, so a field is used mod M as by xdec.lb.
 *   1 index-unit load + 1 weight-word load, 3 srli + 4 cv.insert, 4 lhu,
 *   cv.packlo.b + cv.packhi.b (pixel A word), 2 cv.pack + cv.shuffle2.b (pixel B word),
 *   1 pointer add, 2 cv.sdotusp.b = 21.
 * Interleaving costs 7 instructions per 8 activation bytes per pixel pair, once per pair (not
 * per output channel).
 *
 * Single block (1 channel x 1 pixel, the P = 1 tail of an odd pixel count), per group: 18
 * instructions for 4 MACs, on the plain (not interleaved) vector: 4 cv.extractu + 4 add + 4
 * lbu, cv.packlo.b + cv.packhi.b, 1 sdot, index and weight loads, pointer add.
 *
 * Requantization: the `_rq` variants requantize inside the row loop (mul, add, sra,
 * cv.clipu, cv.sb per output: 5 instructions instead of a cv.sw here plus 6 in xdk_requant)
 * and write the uint8 outputs directly ("acc" is then the output row of pixel A; pixel B's
 * row follows at + cout).
 *
 * Fixed registers, pair: t0 index pointer, t1 index unit, t2 weights, t3 shifted unit,
 * t4 t5 t6 s1 halfwords of lanes 0..3, s2 pixel-A word, s3 / s4 packed pairs (s4 becomes the
 * pixel-B word), s5 shuffle control, s6 P, s7 / s8 accumulators A / B.
 */
#include "xdk.h"

/* Interleave two pixels' k_pad bytes: ilv[2k] = xa[k], ilv[2k + 1] = xb[k]; `words` >= 1
 * words per pixel.  7 instructions per word of each pixel. */
void xdk_sw_interleave(const uint8_t *xa, const uint8_t *xb, uint8_t *ilv, uint32_t words) {
    uint32_t a, b, lo;
    const uint32_t c_lo = 0x05010400u; /* [b1 a1 b0 a0]: rs1 = b (bit 2 set), rD = a */
    const uint32_t c_hi = 0x07030602u; /* [b3 a3 b2 a2] */
    __asm__ volatile(
        XDK_SETUP(0, "%[n]", 8)
        "0:\n\t"
        XDK_LW_PI("%[a]", "%[xa]", 4)
        XDK_LW_PI("%[b]", "%[xb]", 4)
        "mv %[lo], %[a]\n\t"
        ASM_XCV_SHUFFLE2_B("%[lo]", "%[b]", "%[clo]")
        ASM_XCV_SHUFFLE2_B("%[a]", "%[b]", "%[chi]")
        XDK_SW_PI("%[lo]", "%[d]", 4)
        XDK_SW_PI("%[a]", "%[d]", 4)
        "1:\n\t"
        XDK_HWLOOP_CHECK("0b", "1b", 7)
        : [xa] "+r"(xa), [xb] "+r"(xb), [d] "+r"(ilv), [a] "=&r"(a), [b] "=&r"(b),
          [lo] "=&r"(lo)
        : [n] "r"(words), [clo] "r"(c_lo), [chi] "r"(c_hi)
        : "memory");
}

/* Row tails: store the int32 accumulators, or requantize them to uint8 (docs/quantization.md:
 * clip((acc * mult + rnd) >> shift, 0, 255)). */
#define XDK_SW_TAIL2_ST                                                                       \
    XDK_SW_PI("s7", "%[oa]", 4)                                                               \
    XDK_SW_PI("s8", "%[ob]", 4)
#define XDK_SW_TAIL2_RQ                                                                       \
    "mul s7, s7, %[mult]\n\t"                                                                 \
    "mul s8, s8, %[mult]\n\t"                                                                 \
    "add s7, s7, %[rnd]\n\t"                                                                  \
    "add s8, s8, %[rnd]\n\t"                                                                  \
    "sra s7, s7, %[shift]\n\t"                                                                \
    "sra s8, s8, %[shift]\n\t"                                                                \
    XDK_CLIPU_255("s7", "s7")                                                                 \
    XDK_CLIPU_255("s8", "s8")                                                                 \
    XDK_SB_PI("s7", "%[oa]", 1)                                                               \
    XDK_SB_PI("s8", "%[ob]", 1)
#define XDK_SW_TAIL1_ST XDK_SW_PI("s7", "%[oa]", 4)
#define XDK_SW_TAIL1_RQ                                                                       \
    "mul s7, s7, %[mult]\n\t"                                                                 \
    "add s7, s7, %[rnd]\n\t"                                                                  \
    "sra s7, s7, %[shift]\n\t"                                                                \
    XDK_CLIPU_255("s7", "s7")                                                                 \
    XDK_SB_PI("s7", "%[oa]", 1)
/* Outer-loop setup counts: body + 1 = 4 + 1 + 21 + tail + 1 (pair), 3 + 1 + 18 + tail + 1. */
#define XDK_SW_NOUT2_ST 30
#define XDK_SW_NOUT2_RQ 38
#define XDK_SW_NOUT1_ST 25
#define XDK_SW_NOUT1_RQ 29

/* Pair block: (index load, unit bytes, field bits, log2 M, lane offsets 1..3 in the
 * interleaved buffer, group span there, ST or RQ). */
#define XDK_SW_PAIR(LOADU, UB, B, LM, O1, O2, O3, SPAN2, TAIL)                               \
    __asm__ volatile(                                                                         \
        "li s5, 0x03010705\n\t" /* pixel-B word from [B3 A3 B2 A2] (rD), [B1 A1 B0 A0] */     \
        XDK_SETUP(1, "%[rows]", XDK_SW_NOUT2_##TAIL)                                          \
        "10:\n\t"                                                                             \
        "add t0, %[pv], %[nnz]\n\t"                                                           \
        XDK_LW_PI("s7", "%[pbias]", 4)                                                        \
        "mv s6, %[ilv]\n\t"                                                                   \
        "mv s8, s7\n\t"                                                                       \
        XDK_SETUP(0, "%[grp]", 22)                                                            \
        "0:\n\t"                                                                              \
        LOADU("t1", "t0", UB)                                                                 \
        XDK_LW_PI("t2", "%[pv]", 4)                                                           \
        ASM_XCV_INSERT("s6", "t1", LM - 1, 1)        /* lane 0: P = G | 2 idx0 */             \
        "srli t3, t1, " XDK_STR(B) "\n\t"                                                     \
        "lhu t4, 0(s6)\n\t"                                                                   \
        ASM_XCV_INSERT("s6", "t3", LM - 1, 1)        /* lane 1 */                             \
        "srli t3, t1, " XDK_STR(2 * B) "\n\t"                                                 \
        "lhu t5, " XDK_STR(O1) "(s6)\n\t"                                                     \
        ASM_XCV_INSERT("s6", "t3", LM - 1, 1)        /* lane 2 */                             \
        "srli t3, t1, " XDK_STR(3 * B) "\n\t"                                                 \
        "lhu t6, " XDK_STR(O2) "(s6)\n\t"                                                     \
        ASM_XCV_INSERT("s6", "t3", LM - 1, 1)        /* lane 3 */                             \
        ASM_XCV_PACKLO_B("s2", "t5", "t4")           /* s2[15:0] = A1 A0 */                   \
        "lhu s1, " XDK_STR(O3) "(s6)\n\t"                                                     \
        ASM_XCV_PACK("s3", "t5", "t4")               /* B1 A1 B0 A0 */                        \
        "addi s6, s6, " XDK_STR(SPAN2) "\n\t"                                                 \
        ASM_XCV_PACK("s4", "s1", "t6")               /* B3 A3 B2 A2 */                        \
        ASM_XCV_PACKHI_B("s2", "s1", "t6")           /* s2 = A3 A2 A1 A0 */                   \
        ASM_XCV_SHUFFLE2_B("s4", "s3", "s5")         /* s4 = B3 B2 B1 B0 */                   \
        XDK_SDOTUSP_B("s7", "s2", "t2")                                                       \
        XDK_SDOTUSP_B("s8", "s4", "t2")                                                       \
        "1:\n\t"                                                                              \
        XDK_HWLOOP_CHECK("0b", "1b", 21)                                                      \
        XDK_SW_TAIL2_##TAIL                                                                   \
        "add %[pv], t0, %[skip]\n\t"                                                          \
        "11:\n\t"                                                                             \
        XDK_HWLOOP_CHECK("10b", "11b", XDK_SW_NOUT2_##TAIL - 1)                               \
        : XDK_PAIR_OUTPUTS                                                                    \
        : [ilv] "r"(ilv), [grp] "r"(grp), [nnz] "r"(nnz), [skip] "r"(skip),                  \
          [mult] "r"(mult), [rnd] "r"(rnd), [shift] "r"(shift)                                \
        : "memory", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "s1", "s2", "s3", "s4", "s5",   \
          "s6", "s7", "s8")

/* Single block: (index load, unit bytes, field bits, log2 M, lane offsets 1..3, group span,
 * ST or RQ). */
#define XDK_SW_ONE(LOADU, UB, B, LM, O1, O2, O3, SPAN, TAIL)                                  \
    __asm__ volatile(                                                                         \
        XDK_SETUP(1, "%[rows]", XDK_SW_NOUT1_##TAIL)                                          \
        "10:\n\t"                                                                             \
        "add t0, %[pv], %[nnz]\n\t"                                                           \
        XDK_LW_PI("s7", "%[pbias]", 4)                                                        \
        "mv s6, %[xa]\n\t"                                                                    \
        XDK_SETUP(0, "%[grp]", 19)                                                            \
        "0:\n\t"                                                                              \
        LOADU("t1", "t0", UB)                                                                 \
        XDK_LW_PI("t2", "%[pv]", 4)                                                           \
        ASM_XCV_EXTRACTU("t3", "t1", LM - 1, 0)                                               \
        ASM_XCV_EXTRACTU("t4", "t1", LM - 1, B)                                               \
        "add t3, t3, s6\n\t"                                                                  \
        "add t4, t4, s6\n\t"                                                                  \
        "lbu t5, 0(t3)\n\t"                                                                   \
        "lbu t6, " XDK_STR(O1) "(t4)\n\t"                                                     \
        ASM_XCV_EXTRACTU("t3", "t1", LM - 1, 2 * B)                                           \
        ASM_XCV_EXTRACTU("t4", "t1", LM - 1, 3 * B)                                           \
        "add t3, t3, s6\n\t"                                                                  \
        "add t4, t4, s6\n\t"                                                                  \
        "lbu s1, " XDK_STR(O2) "(t3)\n\t"                                                     \
        "lbu s2, " XDK_STR(O3) "(t4)\n\t"                                                     \
        ASM_XCV_PACKLO_B("s3", "t6", "t5")                                                    \
        "addi s6, s6, " XDK_STR(SPAN) "\n\t"                                                  \
        ASM_XCV_PACKHI_B("s3", "s2", "s1")                                                    \
        XDK_SDOTUSP_B("s7", "s3", "t2")                                                       \
        "1:\n\t"                                                                              \
        XDK_HWLOOP_CHECK("0b", "1b", 18)                                                      \
        XDK_SW_TAIL1_##TAIL                                                                   \
        "add %[pv], t0, %[skip]\n\t"                                                          \
        "11:\n\t"                                                                             \
        XDK_HWLOOP_CHECK("10b", "11b", XDK_SW_NOUT1_##TAIL - 1)                               \
        : [pv] "+r"(pv), [pbias] "+r"(pbias), [oa] "+r"(oa), [rows] "+r"(rows)                \
        : [xa] "r"(xa), [grp] "r"(grp), [nnz] "r"(nnz), [skip] "r"(skip),                     \
          [mult] "r"(mult), [rnd] "r"(rnd), [shift] "r"(shift)                                \
        : "memory", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "s1", "s2", "s3", "s6", "s7")

/* (index load, unit bytes, field bits, log2 M, pair offsets 1..3, pair span, single offsets
 * 1..3, single span) */
#define XDK_SW_1_4 XDK_LBU_PI, 1, 2, 2, 8, 16, 24, 32, 4, 8, 12, 16
#define XDK_SW_1_8 XDK_LHU_PI, 2, 4, 3, 16, 32, 48, 64, 8, 16, 24, 32
#define XDK_SW_1_16 XDK_LHU_PI, 2, 4, 4, 32, 64, 96, 128, 16, 32, 48, 64
#define XDK_SW_2_4 XDK_LBU_PI, 1, 2, 2, 0, 8, 8, 16, 0, 4, 4, 8
#define XDK_SW_2_8 XDK_LHU_PI, 2, 4, 3, 0, 16, 16, 32, 0, 8, 8, 16
#define XDK_SW_2_16 XDK_LHU_PI, 2, 4, 4, 0, 32, 32, 64, 0, 16, 16, 32
#define XDK_SW_PAIR_ARGS(LD, UB, B, LM, O1, O2, O3, S2, Q1, Q2, Q3, S1, TAIL)                 \
    XDK_SW_PAIR(LD, UB, B, LM, O1, O2, O3, S2, TAIL)
#define XDK_SW_ONE_ARGS(LD, UB, B, LM, O1, O2, O3, S2, Q1, Q2, Q3, S1, TAIL)                  \
    XDK_SW_ONE(LD, UB, B, LM, Q1, Q2, Q3, S1, TAIL)
#define XDK_SW_EXPAND_PAIR(...) XDK_SW_PAIR_ARGS(__VA_ARGS__)
#define XDK_SW_EXPAND_ONE(...) XDK_SW_ONE_ARGS(__VA_ARGS__)

/* The interleave scratch buffer: L->ilv, 2 * xstride bytes, 32-byte aligned (harness). */
#define XDK_SW_FN(N, M, TAIL, SUFFIX, OUT_T)                                                  \
    __attribute__((noinline)) void xdk_block_sw_##N##_##M##SUFFIX(                            \
        const xdk_layer *L, const uint8_t *xa, const uint8_t *xb, int32_t *acc) {             \
        const uint8_t *pv = (const uint8_t *)L->wgt;                                          \
        const int32_t *pbias = L->bias;                                                       \
        OUT_T *oa = (OUT_T *)acc, *ob = (OUT_T *)acc + L->cout;                               \
        uint32_t rows = L->cout;                                                              \
        const uint32_t grp = L->groups, nnz = L->nnz_row, skip = L->rowskip;                  \
        const int32_t mult = L->mult, rnd = L->rnd, shift = L->shift;                         \
        uint8_t *ilv = L->ilv;                                                                \
        XDK_BEGIN(XDK_R_ILV);                                                                 \
        xdk_sw_interleave(xa, xb, ilv, L->xwords);                                            \
        XDK_END(XDK_R_ILV);                                                                   \
        XDK_SW_EXPAND_PAIR(XDK_SW_##N##_##M, TAIL);                                           \
    }                                                                                         \
    __attribute__((noinline)) void xdk_block_sw1_##N##_##M##SUFFIX(                           \
        const xdk_layer *L, const uint8_t *xa, int32_t *acc) {                                \
        const uint8_t *pv = (const uint8_t *)L->wgt;                                          \
        const int32_t *pbias = L->bias;                                                       \
        OUT_T *oa = (OUT_T *)acc;                                                             \
        uint32_t rows = L->cout;                                                              \
        const uint32_t grp = L->groups, nnz = L->nnz_row, skip = L->rowskip;                  \
        const int32_t mult = L->mult, rnd = L->rnd, shift = L->shift;                         \
        XDK_SW_EXPAND_ONE(XDK_SW_##N##_##M, TAIL);                                            \
    }

#define XDK_SW_FNS(N, M)                                                                      \
    XDK_SW_FN(N, M, ST, , int32_t)                                                            \
    XDK_SW_FN(N, M, RQ, _rq, uint8_t)
XDK_SW_FNS(1, 4)
XDK_SW_FNS(1, 8)
XDK_SW_FNS(1, 16)
XDK_SW_FNS(2, 4)
XDK_SW_FNS(2, 8)
XDK_SW_FNS(2, 16)

#define XDK_SW_DISPATCH(SUFFIX)                                                               \
    void xdk_block_sw##SUFFIX(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,      \
                              int32_t *acc) {                                                 \
        switch (L->n * 32u + L->m) {                                                          \
        case 32 + 4: xdk_block_sw_1_4##SUFFIX(L, xa, xb, acc); break;                         \
        case 32 + 8: xdk_block_sw_1_8##SUFFIX(L, xa, xb, acc); break;                         \
        case 32 + 16: xdk_block_sw_1_16##SUFFIX(L, xa, xb, acc); break;                       \
        case 64 + 4: xdk_block_sw_2_4##SUFFIX(L, xa, xb, acc); break;                         \
        case 64 + 8: xdk_block_sw_2_8##SUFFIX(L, xa, xb, acc); break;                         \
        case 64 + 16: xdk_block_sw_2_16##SUFFIX(L, xa, xb, acc); break;                       \
        default: hal_exit(3); /* unsupported pattern: the harness validates before building */ \
        }                                                                                     \
    }                                                                                         \
    void xdk_block_sw1##SUFFIX(const xdk_layer *L, const uint8_t *xa, int32_t *acc) {         \
        switch (L->n * 32u + L->m) {                                                          \
        case 32 + 4: xdk_block_sw1_1_4##SUFFIX(L, xa, acc); break;                            \
        case 32 + 8: xdk_block_sw1_1_8##SUFFIX(L, xa, acc); break;                            \
        case 32 + 16: xdk_block_sw1_1_16##SUFFIX(L, xa, acc); break;                          \
        case 64 + 4: xdk_block_sw1_2_4##SUFFIX(L, xa, acc); break;                            \
        case 64 + 8: xdk_block_sw1_2_8##SUFFIX(L, xa, acc); break;                            \
        case 64 + 16: xdk_block_sw1_2_16##SUFFIX(L, xa, acc); break;                          \
        default: hal_exit(3);                                                                 \
        }                                                                                     \
    }
XDK_SW_DISPATCH()
XDK_SW_DISPATCH(_rq)

/* ---- 1 x 4 (quad) block ----------------------------------------------------------------------
 * Four pixels interleaved per position (ilv[4k + s] = x_s[k], xdk_sw_interleave4): ONE word
 * load fetches lane l's byte of all four pixels, and a 4 x 4 byte transpose (2 x (mv +
 * 2 cv.shuffle2.b) + 2 cv.pack + 2 cv.pack.h) turns the four lane words into the four pixel
 * words.  Per group of 4 NZ slots x 4 pixels (16 MACs): index and weight loads, 3 srli +
 * 4 cv.insert (P = G | 4 idx_l), 4 lw, 10 transpose, 4 cv.sdotusp.b, 1 pointer add = 28
 * instructions (14 per 8 MACs), no load-use stall.  Interleaving costs 18 instructions per
 * 4 activation bytes of the quad, once per quad.
 *
 * Fixed registers: t0 index pointer, t1 index unit, t2 weights, t3 shifted unit, t4 t5 t6 s1
 * lane words 0..3 (then transposed in place), s2 s3 pair temporaries, s4 P, s5 / s6 shuffle
 * controls, s7..s10 accumulators of pixels A..D. */

/* ilv[4k + s] = x_s[k] for the k_pad bytes of four pixels; `words` >= 1 per pixel. */
void xdk_sw_interleave4(const uint8_t *xa, const uint8_t *xb, const uint8_t *xc,
                        const uint8_t *xd, uint8_t *ilv, uint32_t words) {
    uint32_t a, b, c, d, x, y;
    const uint32_t c_lo = 0x05010400u, c_hi = 0x07030602u;
    __asm__ volatile(
        XDK_SETUP(0, "%[n]", 19)
        "0:\n\t"
        XDK_LW_PI("%[a]", "%[xa]", 4)
        XDK_LW_PI("%[b]", "%[xb]", 4)
        XDK_LW_PI("%[c]", "%[xc]", 4)
        XDK_LW_PI("%[d]", "%[xd]", 4)
        "mv %[x], %[a]\n\t"
        ASM_XCV_SHUFFLE2_B("%[x]", "%[b]", "%[clo]")  /* [b1 a1 b0 a0] */
        ASM_XCV_SHUFFLE2_B("%[a]", "%[b]", "%[chi]")  /* [b3 a3 b2 a2] */
        "mv %[y], %[c]\n\t"
        ASM_XCV_SHUFFLE2_B("%[y]", "%[d]", "%[clo]")  /* [d1 c1 d0 c0] */
        ASM_XCV_SHUFFLE2_B("%[c]", "%[d]", "%[chi]")  /* [d3 c3 d2 c2] */
        ASM_XCV_PACK("%[b]", "%[y]", "%[x]")          /* [d0 c0 b0 a0] */
        XDK_SW_PI("%[b]", "%[o]", 4)
        ASM_XCV_PACK_H("%[b]", "%[y]", "%[x]")        /* [d1 c1 b1 a1] */
        XDK_SW_PI("%[b]", "%[o]", 4)
        ASM_XCV_PACK("%[b]", "%[c]", "%[a]")          /* [d2 c2 b2 a2] */
        XDK_SW_PI("%[b]", "%[o]", 4)
        ASM_XCV_PACK_H("%[b]", "%[c]", "%[a]")        /* [d3 c3 b3 a3] */
        XDK_SW_PI("%[b]", "%[o]", 4)
        "1:\n\t"
        XDK_HWLOOP_CHECK("0b", "1b", 18)
        : [xa] "+r"(xa), [xb] "+r"(xb), [xc] "+r"(xc), [xd] "+r"(xd), [o] "+r"(ilv),
          [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d), [x] "=&r"(x), [y] "=&r"(y)
        : [n] "r"(words), [clo] "r"(c_lo), [chi] "r"(c_hi)
        : "memory");
}

/* The 28-instruction body of the quad loop (one group, 16 MACs): XDK_SW_QUAD and
 * XDK_SW_QUAD_SKIP. */
#define XDK_SW4_LOOP_BODY(LOADU, UB, B, LM, O1, O2, O3, SPAN4)                                \
    LOADU("t1", "t0", UB)                                                                     \
    XDK_LW_PI("t2", "%[pv]", 4)                                                               \
    ASM_XCV_INSERT("s4", "t1", LM - 1, 2)        /* lane 0: P = G | 4 idx0 */                 \
    "srli t3, t1, " XDK_STR(B) "\n\t"                                                         \
    "lw t4, 0(s4)\n\t"                           /* [D0 C0 B0 A0] */                          \
    ASM_XCV_INSERT("s4", "t3", LM - 1, 2)                                                     \
    "srli t3, t1, " XDK_STR(2 * B) "\n\t"                                                     \
    "lw t5, " XDK_STR(O1) "(s4)\n\t"                                                          \
    ASM_XCV_INSERT("s4", "t3", LM - 1, 2)                                                     \
    "srli t3, t1, " XDK_STR(3 * B) "\n\t"                                                     \
    "lw t6, " XDK_STR(O2) "(s4)\n\t"                                                          \
    ASM_XCV_INSERT("s4", "t3", LM - 1, 2)                                                     \
    "mv s2, t4\n\t"                                                                           \
    "lw s1, " XDK_STR(O3) "(s4)\n\t"                                                          \
    ASM_XCV_SHUFFLE2_B("s2", "t5", "s5")         /* [B1 B0 A1 A0] */                          \
    ASM_XCV_SHUFFLE2_B("t4", "t5", "s6")         /* [D1 D0 C1 C0] */                          \
    "mv s3, t6\n\t"                                                                           \
    ASM_XCV_SHUFFLE2_B("s3", "s1", "s5")         /* [B3 B2 A3 A2] */                          \
    ASM_XCV_SHUFFLE2_B("t6", "s1", "s6")         /* [D3 D2 C3 C2] */                          \
    "addi s4, s4, " XDK_STR(SPAN4) "\n\t"                                                     \
    ASM_XCV_PACK("t5", "s3", "s2")               /* A3 A2 A1 A0 */                            \
    ASM_XCV_PACK_H("s1", "s3", "s2")             /* B3 B2 B1 B0 */                            \
    ASM_XCV_PACK("s2", "t6", "t4")               /* C */                                      \
    ASM_XCV_PACK_H("s3", "t6", "t4")             /* D */                                      \
    XDK_SDOTUSP_B("s7", "t5", "t2")                                                           \
    XDK_SDOTUSP_B("s8", "s1", "t2")                                                           \
    XDK_SDOTUSP_B("s9", "s2", "t2")                                                           \
    XDK_SDOTUSP_B("s10", "s3", "t2")

/* (index load, unit bytes, field bits, log2 M, lane offsets 1..3 in the 4-way buffer, group
 * span there) */
#define XDK_SW_QUAD(LOADU, UB, B, LM, O1, O2, O3, SPAN4)                                     \
    __asm__ volatile(                                                                         \
        "li s5, 0x05010400\n\t"                                                               \
        "li s6, 0x07030602\n\t"                                                               \
        XDK_SETUP(1, "%[rows]", 41)                                                           \
        "10:\n\t"                                                                             \
        "add t0, %[pv], %[nnz]\n\t"                                                           \
        XDK_LW_PI("s7", "%[pbias]", 4)                                                        \
        "mv s4, %[ilv]\n\t"                                                                   \
        "mv s8, s7\n\t"                                                                       \
        "mv s9, s7\n\t"                                                                       \
        "mv s10, s7\n\t"                                                                      \
        XDK_SETUP(0, "%[grp]", 29)                                                            \
        "0:\n\t"                                                                              \
        XDK_SW4_LOOP_BODY(LOADU, UB, B, LM, O1, O2, O3, SPAN4)                               \
        "1:\n\t"                                                                              \
        XDK_HWLOOP_CHECK("0b", "1b", 28)                                                      \
        XDK_QUAD_ROW_TAIL("s7", "s8", "s9", "s10")                                            \
        "11:\n\t"                                                                             \
        XDK_HWLOOP_CHECK("10b", "11b", 40)                                                    \
        : XDK_QUAD_OUTPUTS                                                                    \
        : [ilv] "r"(ilv), [grp] "r"(grp), [nnz] "r"(nnz), [skip] "r"(skip)                   \
        : "memory", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "s1", "s2", "s3", "s4", "s5",   \
          "s6", "s7", "s8", "s9", "s10")

/* (index load, unit bytes, field bits, log2 M, quad offsets 1..3, quad span) */
#define XDK_SW4_1_4 XDK_LBU_PI, 1, 2, 2, 16, 32, 48, 64
#define XDK_SW4_1_8 XDK_LHU_PI, 2, 4, 3, 32, 64, 96, 128
#define XDK_SW4_1_16 XDK_LHU_PI, 2, 4, 4, 64, 128, 192, 256
#define XDK_SW4_2_4 XDK_LBU_PI, 1, 2, 2, 0, 16, 16, 32
#define XDK_SW4_2_8 XDK_LHU_PI, 2, 4, 3, 0, 32, 32, 64
#define XDK_SW4_2_16 XDK_LHU_PI, 2, 4, 4, 0, 64, 64, 128
#define XDK_SW4_EXPAND(...) XDK_SW_QUAD(__VA_ARGS__)

/* The 4-way buffer: L->ilv, 4 * xwords * 4 bytes, 64-byte aligned (harness). */
#define XDK_SW4_FN(N, M)                                                                      \
    __attribute__((noinline)) void xdk_block_sw4_##N##_##M(                                   \
        const xdk_layer *L, const uint8_t *xa, const uint8_t *xb, const uint8_t *xc,         \
        const uint8_t *xd, int32_t *acc) {                                                    \
        XDK_NM_LOCALS(L->groups);                                                             \
        XDK_NM_OUT4;                                                                          \
        uint8_t *ilv = L->ilv;                                                                \
        XDK_BEGIN(XDK_R_ILV);                                                                 \
        xdk_sw_interleave4(xa, xb, xc, xd, ilv, L->xwords);                                   \
        XDK_END(XDK_R_ILV);                                                                   \
        XDK_SW4_EXPAND(XDK_SW4_##N##_##M);                                                    \
    }
XDK_SW4_FN(1, 4)
XDK_SW4_FN(1, 8)
XDK_SW4_FN(1, 16)
XDK_SW4_FN(2, 4)
XDK_SW4_FN(2, 8)
XDK_SW4_FN(2, 16)

/* The pattern dispatch of a quad block NAME (NAME_<N>_<M> per pattern). */
#define XDK_SW4_DISPATCH(NAME)                                                                \
    void NAME(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb, const uint8_t *xc,   \
              const uint8_t *xd, int32_t *acc) {                                              \
        switch (L->n * 32u + L->m) {                                                          \
        case 32 + 4: NAME##_1_4(L, xa, xb, xc, xd, acc); break;                               \
        case 32 + 8: NAME##_1_8(L, xa, xb, xc, xd, acc); break;                               \
        case 32 + 16: NAME##_1_16(L, xa, xb, xc, xd, acc); break;                             \
        case 64 + 4: NAME##_2_4(L, xa, xb, xc, xd, acc); break;                               \
        case 64 + 8: NAME##_2_8(L, xa, xb, xc, xd, acc); break;                               \
        case 64 + 16: NAME##_2_16(L, xa, xb, xc, xd, acc); break;                             \
        default: hal_exit(3);                                                                 \
        }                                                                                     \
    }
XDK_SW4_DISPATCH(xdk_block_sw4)

/* ---- 1 x 4 with group skipping (sw4_skip) ----------------------------------------------------
 * The quad loop above on the skip image of sw/model/nm_skip.py (docs/kernels.md "Group
 * skipping"): all-zero groups are never visited.  A run starts at group g0: the group base in
 * the 4-way buffer is ilv + g0 * SPAN4 (the loop then steps it by SPAN4 as before), so a run
 * costs cv.lhu n, slli, add, cv.setup and the next run's cv.lhu g0.  Rows are a software loop
 * (no branch in a hardware loop), loop 1 runs over the runs, loop 0 over the groups.  t1 / t2
 * / t3 hold the run count, the run length and g0 outside loop 0 (cv.setup has consumed them
 * before they are overwritten).  Odd pixels run the quad block with the last pixel repeated
 * (xdk_block_sw4_skip_pair; the acc rows of the repeats are scratch). */
#define XDK_SW_QUAD_SKIP(LOADU, UB, B, LM, O1, O2, O3, SPAN4, LOGSPAN4)                      \
    __asm__ volatile(                                                                         \
        "li s5, 0x05010400\n\t"                                                               \
        "li s6, 0x07030602\n\t"                                                               \
        "20:\n\t"                                                                             \
        XDK_LHU_PI("t1", "%[pv]", 2)                 /* runs (>= 1) */                        \
        XDK_LHU_PI("t2", "%[pv]", 2)                 /* value bytes */                        \
        XDK_LW_PI("s7", "%[pbias]", 4)                                                        \
        "mv %[pr], %[pv]\n\t"                                                                 \
        "slli t3, t1, 2\n\t"                                                                  \
        "add %[pv], %[pv], t3\n\t"                   /* the values */                         \
        "add t0, %[pv], t2\n\t"                      /* the index units */                    \
        XDK_LHU_PI("t3", "%[pr]", 2)                 /* g0 of run 0 */                        \
        "mv s8, s7\n\t"                                                                       \
        "mv s9, s7\n\t"                                                                       \
        "mv s10, s7\n\t"                                                                      \
        XDK_SETUP(1, "t1", 34)                                                                \
        "21:\n\t"                                                                             \
        XDK_LHU_PI("t2", "%[pr]", 2)                 /* n */                                  \
        "slli t3, t3, " XDK_STR(LOGSPAN4) "\n\t"                                              \
        "add s4, %[ilv], t3\n\t"                     /* group base of g0 */                   \
        XDK_SETUP(0, "t2", 29)                                                                \
        "0:\n\t"                                                                              \
        XDK_SW4_LOOP_BODY(LOADU, UB, B, LM, O1, O2, O3, SPAN4)                               \
        "1:\n\t"                                                                              \
        XDK_HWLOOP_CHECK("0b", "1b", 28)                                                      \
        XDK_LHU_PI("t3", "%[pr]", 2)                 /* g0 of the next run */                 \
        "22:\n\t"                                                                             \
        XDK_HWLOOP_CHECK("21b", "22b", 33)                                                    \
        XDK_SW_PI("s7", "%[oa]", 4)                                                           \
        XDK_SW_PI("s8", "%[ob]", 4)                                                           \
        XDK_SW_PI("s9", "%[oc]", 4)                                                           \
        XDK_SW_PI("s10", "%[od]", 4)                                                          \
        XDK_SKIP_ROW_NEXT                                                                     \
        : XDK_QUAD_OUTPUTS, [pr] "=&r"(pr)                                                    \
        : [ilv] "r"(ilv)                                                                      \
        : "memory", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "s1", "s2", "s3", "s4", "s5",   \
          "s6", "s7", "s8", "s9", "s10")

/* The quad lists above with log2 of the quad span appended. */
#define XDK_SW4S_EXPAND(...) XDK_SW_QUAD_SKIP(__VA_ARGS__)
#define XDK_SW4_SKIP_FN(N, M, LOGSPAN4)                                                       \
    __attribute__((noinline)) void xdk_block_sw4_skip_##N##_##M(                              \
        const xdk_layer *L, const uint8_t *xa, const uint8_t *xb, const uint8_t *xc,         \
        const uint8_t *xd, int32_t *acc) {                                                    \
        const uint8_t *pv = (const uint8_t *)L->wgt;                                          \
        const int32_t *pbias = L->bias;                                                       \
        const uint32_t cout = L->cout;                                                        \
        uint32_t rows = cout;                                                                 \
        const uint8_t *pr;                                                                    \
        XDK_NM_OUT4;                                                                          \
        uint8_t *ilv = L->ilv;                                                                \
        XDK_BEGIN(XDK_R_ILV);                                                                 \
        xdk_sw_interleave4(xa, xb, xc, xd, ilv, L->xwords);                                   \
        XDK_END(XDK_R_ILV);                                                                   \
        XDK_SW4S_EXPAND(XDK_SW4_##N##_##M, LOGSPAN4);                                         \
    }
XDK_SW4_SKIP_FN(1, 4, 6)
XDK_SW4_SKIP_FN(1, 8, 7)
XDK_SW4_SKIP_FN(1, 16, 8)
XDK_SW4_SKIP_FN(2, 4, 5)
XDK_SW4_SKIP_FN(2, 8, 6)
XDK_SW4_SKIP_FN(2, 16, 7)

XDK_SW4_DISPATCH(xdk_block_sw4_skip)

/* One or two pixels: the quad block with the last pixel repeated (acc holds 4 * cout words). */
void xdk_block_sw4_skip_pair(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,
                             int32_t *acc) {
    xdk_block_sw4_skip(L, xa, xb, xb, xb, acc);
}
