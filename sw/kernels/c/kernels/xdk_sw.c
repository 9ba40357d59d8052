/* Software N:M-sparse block kernel (no xDecimate): 1 channel x 2 pixels, same image and the
 * same loop structure as the xDecimate kernel, with the index decoding done by shifts and
 * masks, indirect byte loads, and bytes packed into a SIMD word by multiply-accumulate.
 *
 * Per group of 4 NZ slots (8 MACs), with only the RV32IM + XpulpV2 subset of sw/iss/isa.py:
 *   1 index-unit load + 1 weight-word load, 6 (7 for M = 8) shift/mask extractions,
 *   4 address adds, 4 + 4 byte loads (pixel B register-indexed at a per-lane constant distance
 *   from pixel A), 6 cv.mac packing the bytes (Horner: lane 3 first), 1 pointer add,
 *   2 cv.sdotusp.b = 29 instructions (30 for M = 8); no load-use stall.
 * Slot j of a row sits in block j div N: lane l of a group is at (l div N) * M + idx from the
 * group's base, and a group spans 4 M / N activations.
 *
 * Fixed registers: t0 index pointer, t1 index unit, t2 weights, t3 scratch, t4 / t5 pixel A
 * words, t6 / s1 pixel B words, s2 pixel A pointer, s3 = 256, s4..s7 pixel-B distance + lane
 * offset for lanes 0..3, s8 / s9 accumulators A / B.
 */
#include "xdk.h"

#define XDK_SW_MASK3_0(F)
#define XDK_SW_MASK3_1(F) "andi t3, t3, " XDK_STR(F) "\n\t"
#define XDK_SW_BLOCK(LOADU, UB, B, F, MASK3, O1, O2, O3, SPAN, NBODY, NOUTER)                \
    __asm__ volatile(                                                                         \
        "li s3, 256\n\t"                                                                      \
        "sub s4, %[xb], %[xa]\n\t"                                                            \
        "addi s5, s4, " XDK_STR(O1) "\n\t"                                                    \
        "addi s6, s4, " XDK_STR(O2) "\n\t"                                                    \
        "addi s7, s4, " XDK_STR(O3) "\n\t"                                                    \
        XDK_SETUP(1, "%[rows]", NOUTER)                                                       \
        "10:\n\t"                                                                             \
        "add t0, %[pv], %[nnz]\n\t"                                                           \
        XDK_LW_PI("s8", "%[pbias]", 4)                                                        \
        "mv s2, %[xa]\n\t"                                                                    \
        "mv s9, s8\n\t"                                                                       \
        XDK_SETUP(0, "%[grp]", NBODY)                                                         \
        "0:\n\t"                                                                              \
        LOADU("t1", "t0", UB)                                                                 \
        XDK_LW_PI("t2", "%[pv]", 4)                                                           \
        "srli t3, t1, " XDK_STR(3 * B) "\n\t"          /* lane 3 */                           \
        XDK_SW_MASK3_##MASK3(F)                                                               \
        "add t3, t3, s2\n\t"                                                                  \
        "lbu t4, " XDK_STR(O3) "(t3)\n\t"                                                     \
        XDK_LBU_RR("t6", "t3", "s7")                                                          \
        "srli t3, t1, " XDK_STR(2 * B) "\n\t"          /* lane 2 */                           \
        "andi t3, t3, " XDK_STR(F) "\n\t"                                                     \
        "add t3, t3, s2\n\t"                                                                  \
        "lbu t5, " XDK_STR(O2) "(t3)\n\t"                                                     \
        XDK_LBU_RR("s1", "t3", "s6")                                                          \
        XDK_MAC("t5", "t4", "s3")                                                             \
        XDK_MAC("s1", "t6", "s3")                                                             \
        "srli t3, t1, " XDK_STR(B) "\n\t"              /* lane 1 */                           \
        "andi t3, t3, " XDK_STR(F) "\n\t"                                                     \
        "add t3, t3, s2\n\t"                                                                  \
        "lbu t4, " XDK_STR(O1) "(t3)\n\t"                                                     \
        XDK_LBU_RR("t6", "t3", "s5")                                                          \
        "andi t3, t1, " XDK_STR(F) "\n\t"              /* lane 0 */                           \
        XDK_MAC("t4", "t5", "s3")                                                             \
        XDK_MAC("t6", "s1", "s3")                                                             \
        "add t3, t3, s2\n\t"                                                                  \
        "lbu t5, 0(t3)\n\t"                                                                   \
        XDK_LBU_RR("s1", "t3", "s4")                                                          \
        "addi s2, s2, " XDK_STR(SPAN) "\n\t"                                                  \
        XDK_MAC("t5", "t4", "s3")                                                             \
        XDK_MAC("s1", "t6", "s3")                                                             \
        XDK_SDOTUSP_B("s8", "t5", "t2")                                                       \
        XDK_SDOTUSP_B("s9", "s1", "t2")                                                       \
        "1:\n\t"                                                                              \
        XDK_HWLOOP_CHECK("0b", "1b", NBODY - 1)                                               \
        XDK_SW_PI("s8", "%[oa]", 4)                                                           \
        XDK_SW_PI("s9", "%[ob]", 4)                                                           \
        "add %[pv], t0, %[skip]\n\t"                                                          \
        "11:\n\t"                                                                             \
        XDK_HWLOOP_CHECK("10b", "11b", NOUTER - 1)                                            \
        : [pv] "+r"(pv), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob), [rows] "+r"(rows) \
        : [xa] "r"(xa), [xb] "r"(xb), [grp] "r"(grp), [nnz] "r"(nnz), [skip] "r"(skip)        \
        : "memory", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "s1", "s2", "s3", "s4", "s5",   \
          "s6", "s7", "s8", "s9")

/* (index load, unit bytes, field bits, M - 1, mask lane 3, lane offsets 1..3, group span,
 *  inner setup count = body + 1, outer setup count = outer body + 1) */
#define XDK_SW_1_4 XDK_LBU_PI, 1, 2, 3, 0, 4, 8, 12, 16, 30, 38
#define XDK_SW_1_8 XDK_LHU_PI, 2, 4, 7, 1, 8, 16, 24, 32, 31, 39
#define XDK_SW_1_16 XDK_LHU_PI, 2, 4, 15, 0, 16, 32, 48, 64, 30, 38
#define XDK_SW_2_4 XDK_LBU_PI, 1, 2, 3, 0, 0, 4, 4, 8, 30, 38
#define XDK_SW_2_8 XDK_LHU_PI, 2, 4, 7, 1, 0, 8, 8, 16, 31, 39
#define XDK_SW_2_16 XDK_LHU_PI, 2, 4, 15, 0, 0, 16, 16, 32, 30, 38
#define XDK_SW_EXPAND(...) XDK_SW_BLOCK(__VA_ARGS__)

#define XDK_SW_FN(N, M)                                                                       \
    __attribute__((noinline)) void xdk_block_sw_##N##_##M(                                    \
        const xdk_layer *L, const uint8_t *xa, const uint8_t *xb, int32_t *acc) {             \
        const uint8_t *pv = (const uint8_t *)L->wgt;                                          \
        const int32_t *pbias = L->bias;                                                       \
        int32_t *oa = acc, *ob = acc + L->cout;                                               \
        uint32_t rows = L->cout;                                                              \
        const uint32_t grp = L->groups, nnz = L->nnz_row, skip = L->rowskip;                  \
        XDK_SW_EXPAND(XDK_SW_##N##_##M);                                                      \
    }

XDK_SW_FN(1, 4)
XDK_SW_FN(1, 8)
XDK_SW_FN(1, 16)
XDK_SW_FN(2, 4)
XDK_SW_FN(2, 8)
XDK_SW_FN(2, 16)

void xdk_block_sw(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb, int32_t *acc) {
    switch (L->n * 32u + L->m) {
    case 32 + 4: xdk_block_sw_1_4(L, xa, xb, acc); break;
    case 32 + 8: xdk_block_sw_1_8(L, xa, xb, acc); break;
    case 32 + 16: xdk_block_sw_1_16(L, xa, xb, acc); break;
    case 64 + 4: xdk_block_sw_2_4(L, xa, xb, acc); break;
    case 64 + 8: xdk_block_sw_2_8(L, xa, xb, acc); break;
    case 64 + 16: xdk_block_sw_2_16(L, xa, xb, acc); break;
    default: hal_exit(3); /* unsupported pattern: the harness validates before building */
    }
}
