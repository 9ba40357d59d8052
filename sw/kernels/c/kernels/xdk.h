/* xdk: int8 x uint8 kernels for CV32E40P + XpulpV2 (+ xDecimate): dense, software-sparse and
 * xDecimate fully-connected and convolution layers.  See docs/kernels.md.
 *
 * Data types follow PULP-NN and the golden model (sw/model/kernels.py, docs/quantization.md):
 * activations uint8 (HWC), weights int8, int32 accumulators initialised with the bias,
 * requantization y = clip((acc * mult + rnd) >> shift, 0, 255) computed in int32.
 *
 * Structure of every layer: for each chunk of 2 (or 4, for kernels with a quad block) output
 * pixels or tokens -- [im2col of the chunk] -> block kernel (all output channels, int32
 * accumulators into `acc`) -> requant of the chunk into the HWC output.  The block kernels are single inline-asm statements with two
 * nested CORE-V hardware loops (loop 1 over output channels, loop 0 over K), so the inner loops
 * are exactly the instruction sequences documented in docs/kernels.md.  A last odd pixel runs
 * the pair kernel with both streams on the same pixel (its B result is discarded).
 *
 * Regions are marked with hal_mark(): region R starts with id 2R and ends with id 2R+1.
 */
#ifndef XDK_H
#define XDK_H
#include <stdint.h>

#include "hal.h"
#include "xdecimate.h"

/* ---- region markers ------------------------------------------------------------------- */
#define XDK_R_KERNEL 1  /* the whole layer */
#define XDK_R_IM2COL 2  /* im2col of one pixel pair (conv only) */
#define XDK_R_MATMUL 3  /* block kernel of one pixel pair: all output channels */
#define XDK_R_REQUANT 4 /* requantization of one pixel pair */
#define XDK_R_ILV 5     /* SW sparse: interleave of one pixel pair (inside matmul) */
#define XDK_R_PAD 6     /* direct conv: zero-padded copy of the input (once per layer) */
#define XDK_BEGIN(r) hal_mark(2u * (r))
#define XDK_END(r) hal_mark(2u * (r) + 1u)

/* ---- assembler strings for the XpulpV2 subset and xDecimate --------------------------------
 * GCC 12 knows no CORE-V mnemonics, so the hot loops are composed of the ASM_* `.insn`
 * strings that sw/kernels/c/xdecimate.h generates from the ISA table (sw/iss/isa.py); no encoding is
 * written here.  Operands are assembler strings ("%[w]", "t0"), immediates literals.        */
#define XDK_STR_(x) #x
#define XDK_STR(x) XDK_STR_(x)
#define XDK_LW_PI(rd, rs1, imm) ASM_XCV_LW_PI(rd, rs1, imm)    /* cv.lw rd, (rs1), imm */
#define XDK_LHU_PI(rd, rs1, imm) ASM_XCV_LHU_PI(rd, rs1, imm)  /* cv.lhu rd, (rs1), imm */
#define XDK_LBU_PI(rd, rs1, imm) ASM_XCV_LBU_PI(rd, rs1, imm)  /* cv.lbu rd, (rs1), imm */
#define XDK_LBU_RR(rd, rs1, rs2) ASM_XCV_LBU_RR(rd, rs1, rs2)  /* rd = Zext(Mem8(rs1 + rs2)) */
#define XDK_SW_PI(rs2, rs1, imm) ASM_XCV_SW_PI(rs2, rs1, imm)  /* cv.sw rs2, (rs1), imm */
#define XDK_SB_PI(rs2, rs1, imm) ASM_XCV_SB_PI(rs2, rs1, imm)  /* cv.sb rs2, (rs1), imm */
#define XDK_SDOTUSP_B(rd, rs1, rs2) ASM_XCV_SDOTUSP_B(rd, rs1, rs2)
#define XDK_MAC(rd, rs1, rs2) ASM_XCV_MAC(rd, rs1, rs2)
#define XDK_CLIPU_255(rd, rs1) ASM_XCV_CLIPU(rd, rs1, 9)  /* clamp(rs1, 0, 2^8 - 1) */
#define XDK_XDEC_LB(rd, rs1, rs2) ASM_XDEC_LB(rd, rs1, rs2)
#define XDK_CSRW_XDEC(rs1) ASM_XDEC_CSRW(rs1)
/* cv.setup L, rs1, n: hardware loop L over the next n - 1 instructions, rs1 iterations.
 * `.insn` takes no forward label expressions, so n is a literal and XDK_HWLOOP_CHECK (placed
 * at the end label) makes the assembler verify it.                                           */
#define XDK_SETUP(L, rs1, n) ASM_XCV_SETUP(L, rs1, n)
#define XDK_HWLOOP_CHECK(start, end, n)                                                       \
    ".if (" end " - " start ") != 4 * (" XDK_STR(n) ")\n\t.error \"hardware loop: " start "->" \
    end " is not " XDK_STR(n) " instructions\"\n\t.endif\n\t"

/* ---- pieces shared by the N:M sparse kernels (xdk_sw.c, xdk_xdec.c) -------------------------
 * Their row loops keep the weight-row pointer in %[pv], the bias pointer in %[pbias], the
 * accumulator (or output) pointers of the pixels in %[oa] %[ob] (%[oc] %[od]) and the row count
 * in %[rows], as asm outputs in this order: */
/* pair blocks: XDK_SW_PAIR (xdk_block_sw_<N>_<M>[_rq]), XDK_XDEC_ROWS (xdk_block_xdec_*,
 * xdk_block_xdec_direct_*) */
#define XDK_PAIR_OUTPUTS                                                                      \
    [pv] "+r"(pv), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob), [rows] "+r"(rows)
/* quad blocks: XDK_SW_QUAD (xdk_block_sw4_<N>_<M>), XDK_XDEC4_ROWS (xdk_block_xdec4_*,
 * xdk_block_xdec4_direct_*) */
#define XDK_QUAD_OUTPUTS                                                                      \
    [pv] "+r"(pv), [pbias] "+r"(pbias), [oa] "+r"(oa), [ob] "+r"(ob), [oc] "+r"(oc),          \
        [od] "+r"(od), [rows] "+r"(rows)
/* Locals of the sparse blocks that name their operands as above: the xDecimate blocks (all of
 * xdk_xdec.c) and xdk_block_sw4_<N>_<M>.  GRP: loop-0 trips per row (L->groups, or L->grp_row
 * per kernel row in the direct blocks); then XDK_NM_OUT2 or XDK_NM_OUT4 for the pixels'
 * accumulator rows in acc. */
#define XDK_NM_LOCALS(GRP)                                                                    \
    const uint8_t *pv = (const uint8_t *)L->wgt;                                              \
    const int32_t *pbias = L->bias;                                                           \
    const uint32_t cout = L->cout;                                                            \
    uint32_t rows = cout;                                                                     \
    const uint32_t grp = (GRP), nnz = L->nnz_row, skip = L->rowskip
#define XDK_NM_OUT2 int32_t *oa = acc, *ob = acc + cout
#define XDK_NM_OUT4                                                                           \
    int32_t *oa = acc, *ob = acc + cout, *oc = acc + 2 * cout, *od = acc + 3 * cout
/* Row tail of the quad blocks (XDK_SW_QUAD, XDK_XDEC4_ROWS; 5 instructions): store the four
 * accumulators A..D, then step %[pv] from the row's index units (t0 at their end) over the
 * padding to the next row record. */
#define XDK_QUAD_ROW_TAIL(A, B, C, D)                                                         \
    XDK_SW_PI(A, "%[oa]", 4)                                                                  \
    XDK_SW_PI(B, "%[ob]", 4)                                                                  \
    XDK_SW_PI(C, "%[oc]", 4)                                                                  \
    XDK_SW_PI(D, "%[od]", 4)                                                                  \
    "add %[pv], t0, %[skip]\n\t"

/* Row tail of the skip blocks (xdk_xdec.c, xdk_sw.c): step %[pv] from the end of the kept
 * index units (t0) to the next record, and the row branch. */
#define XDK_SKIP_ROW_NEXT                                                                     \
    "addi t0, t0, 3\n\t"                                                                      \
    "andi %[pv], t0, -4\n\t"                                                                  \
    "addi %[rows], %[rows], -1\n\t"                                                           \
    "bnez %[rows], 20b\n\t"

/* ---- layer descriptor --------------------------------------------------------------------- */
enum { XDK_FC = 0, XDK_CONV = 1 };

typedef struct xdk_layer {
    uint32_t kind;    /* XDK_FC or XDK_CONV */
    uint32_t cout;    /* output channels = weight rows */
    uint32_t k;       /* reduction length K (conv: kh * kw * cin) */
    uint32_t xstride; /* bytes between the activation vectors of two pixels (FC input, or
                       * the im2col buffer); a multiple of 4 and >= K */
    uint32_t npix;    /* output pixels (conv: ho * wo) or tokens (FC) */
    /* convolution geometry (kind == XDK_CONV) */
    uint32_t h, w, cin, kh, kw, stride, pad, ho, wo;
    /* weights: dense int8 [cout][wstride] or the N:M image of sw/model/nm_format.py */
    const void *wgt;
    uint32_t wstride;  /* dense: bytes per row (K rounded to 4); sparse: row_stride */
    uint32_t kwords;   /* dense: words per row (= wstride / 4) */
    uint32_t m, n;     /* sparse pattern N:M */
    uint32_t nnz_row;  /* sparse: NZ slots per row */
    uint32_t groups;   /* sparse: groups of 4 NZ slots per row */
    uint32_t ustride;  /* sparse: bytes per index unit (1 for M = 4, else 2) */
    uint32_t rowskip;  /* sparse: row_stride - nnz_row - groups * ustride */
    uint32_t csr_p2;   /* sparse: xdec CSR value for a row (cnt 0, M, N, P = 2) */
    uint32_t csr_p4;   /* sparse: the same with P = 4 */
    uint8_t *ilv;      /* SW sparse: 2 (1x4: 4) * xwords * 4 bytes of scratch, 64-aligned */
    uint32_t xwords;   /* SW sparse: words of one activation vector read (k_pad / 4) */
    const int32_t *bias;
    int32_t mult, rnd, shift; /* requantization */
    /* direct (im2col-free) convolution, xdk_conv with a kernel that has direct blocks:
     * `direct` = 1 if the harness found the layer walkable (kh 1 or 3, every group of 4 NZ
     * slots inside one kernel row, counter in range; docs/kernels.md), else im2col runs. */
    uint32_t direct;
    uint32_t grp_row;  /* groups of 4 NZ slots per kernel row (kw * cin * n / (4 m)) */
    uint32_t dj;       /* NZ ordinals per input row of the (padded) input: wp * cin * n / m */
} xdk_layer;

/* Block signatures (function types: the declarations below name their blocks with them).
 * A pair block: all `cout` rows for the pixel pair (xa, xb); int32 accumulators to
 * acc[0..cout) (pixel A) and acc[cout..2 cout) (pixel B). */
typedef void xdk_pair_block(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,
                            int32_t *acc);
/* A quad block: the same for four pixels, acc[s * cout + row] for pixel s. */
typedef void xdk_quad_block(const xdk_layer *L, const uint8_t *xa, const uint8_t *xb,
                            const uint8_t *xc, const uint8_t *xd, int32_t *acc);
/* A single block: all `cout` rows for one pixel (the P = 1 tail of an odd pixel count). */
typedef void xdk_one_block(const xdk_layer *L, const uint8_t *xa, int32_t *acc);
/* Pointers to them, as the kernel table holds them. */
typedef xdk_pair_block *xdk_pair_fn;
typedef xdk_quad_block *xdk_quad_fn;
typedef xdk_one_block *xdk_one_fn;

/* A kernel: its pair block and, optionally, a quad block used while >= 4 pixels remain, a
 * single block for a last odd pixel (else the pair block runs with both streams on it), and
 * whether the blocks requantize in their row loop (`fused`: they write the uint8 outputs of
 * their pixels, at the output rows the driver passes as `acc`, and no requant pass runs). */
typedef struct xdk_kernel {
    xdk_pair_fn pair;
    xdk_quad_fn quad;
    xdk_one_fn single;
    uint32_t fused;
    /* Direct convolution blocks (0: none): the same blocks reading each pixel's patch straight
     * from the (padded) HWC input, one xdec CSR write per kernel row instead of im2col. */
    xdk_pair_fn dpair;
    xdk_quad_fn dquad;
} xdk_kernel;

extern const xdk_kernel xdk_dense_1x2; /* dense, 1 channel x 2 pixels */
extern const xdk_kernel xdk_dense_4x2; /* dense, 4 channels x 2 pixels (PULP-NN style) */
extern const xdk_kernel xdk_sw;        /* N:M sparse, software decoding, 1 x 2 (+ 1 x 1) */
extern const xdk_kernel xdk_sw_rq;     /* the same, requantizing in the row loop */
extern const xdk_kernel xdk_sw4;       /* N:M sparse, software decoding, 1 x 4 (+ 1 x 2, 1 x 1) */
extern const xdk_kernel xdk_xdec;      /* N:M sparse, xDecimate, 1 x 2 (the paper's loop) */
extern const xdk_kernel xdk_xdec4;     /* N:M sparse, xDecimate, 1 x 4 (P = 4) */
extern const xdk_kernel xdk_dense_1x2_direct; /* dense_1x2, conv without im2col */
extern const xdk_kernel xdk_dense_4x2_direct; /* dense_4x2, conv without im2col */
extern const xdk_kernel xdk_xdec_direct;  /* xdec, conv without im2col (direct walk) */
extern const xdk_kernel xdk_xdec4_direct; /* xdec4, conv without im2col (direct walk) */
extern const xdk_kernel xdk_dense_4x2_skip; /* dense_4x2 on a dense skip image (zero words) */
extern const xdk_kernel xdk_sw4_skip;     /* sw4 on a skip image: all-zero groups skipped */
extern const xdk_kernel xdk_xdec_skip;    /* xdec on a skip image: all-zero groups skipped */
extern const xdk_kernel xdk_xdec4_skip;   /* xdec4 on a skip image */

xdk_pair_block xdk_block_dense_1x2, xdk_block_dense_4x2;
xdk_pair_block xdk_block_dense_1x2_direct, xdk_block_dense_4x2_direct;
xdk_pair_block xdk_block_dense_4x2_skip;
xdk_pair_block xdk_block_sw, xdk_block_sw_rq;
xdk_one_block xdk_block_sw1, xdk_block_sw1_rq;
void xdk_sw_interleave(const uint8_t *xa, const uint8_t *xb, uint8_t *ilv, uint32_t words);
void xdk_sw_interleave4(const uint8_t *xa, const uint8_t *xb, const uint8_t *xc,
                        const uint8_t *xd, uint8_t *ilv, uint32_t words);
xdk_quad_block xdk_block_sw4;
xdk_quad_block xdk_block_sw4_skip;
xdk_pair_block xdk_block_sw4_skip_pair;
xdk_pair_block xdk_block_xdec;
xdk_quad_block xdk_block_xdec4;
/* The variants the dispatchers above call (one hot loop each). */
xdk_pair_block xdk_block_xdec_m4, xdk_block_xdec_m816;
xdk_quad_block xdk_block_xdec4_m4, xdk_block_xdec4_m816;
/* Direct blocks: xa.. are the pixels' patch origins in the (padded) input, not im2col
 * vectors; kh = 3 runs the 3-segment loops below, kh = 1 the plain blocks. */
xdk_pair_block xdk_block_xdec_direct;
xdk_quad_block xdk_block_xdec4_direct;
xdk_pair_block xdk_block_xdec_direct_m4, xdk_block_xdec_direct_m816;
xdk_quad_block xdk_block_xdec4_direct_m4, xdk_block_xdec4_direct_m816;
/* Group skipping: the same loops on the skip image of sw/model/nm_skip.py. */
xdk_pair_block xdk_block_xdec_skip, xdk_block_xdec_skip_m4, xdk_block_xdec_skip_m816;
xdk_quad_block xdk_block_xdec4_skip, xdk_block_xdec4_skip_m4, xdk_block_xdec4_skip_m816;
#define XDK_SW_DECL(N, M)                                                                     \
    xdk_pair_block xdk_block_sw_##N##_##M, xdk_block_sw_##N##_##M##_rq;                       \
    xdk_one_block xdk_block_sw1_##N##_##M, xdk_block_sw1_##N##_##M##_rq;
XDK_SW_DECL(1, 4)
XDK_SW_DECL(1, 8)
XDK_SW_DECL(1, 16)
XDK_SW_DECL(2, 4)
XDK_SW_DECL(2, 8)
XDK_SW_DECL(2, 16)

/* Requantize n int32 accumulators into n uint8 outputs. */
void xdk_requant(const xdk_layer *L, const int32_t *acc, uint8_t *y, uint32_t n);
/* im2col of output pixel (oy, ox) into col: L->k bytes in HWC patch order (ky, kx, c), zero
 * padding; word aligned. */
void xdk_im2col(const xdk_layer *L, const uint8_t *x, uint32_t oy, uint32_t ox, uint8_t *col);

/* Zero-padded copy of the conv input into xp: (h + 2 pad) x (w + 2 pad) x cin, HWC. */
void xdk_pad_input(const xdk_layer *L, const uint8_t *x, uint8_t *xp);

/* Layers.  x: FC input [npix][xstride] (plus padding bytes up to the last row's k_pad) or conv
 * input [h][w][cin]; y: output [npix][cout]; acc: 4 * cout int32 of scratch (2 * cout if the
 * kernel has no quad block); col: conv only, 4 (or 2) * xstride bytes of scratch, aligned
 * (a direct kernel on a walkable layer: the padded input, (h + 2 pad) (w + 2 pad) cin bytes,
 * if pad > 0; unused otherwise). */
void xdk_fc(const xdk_layer *L, const xdk_kernel *kern, const uint8_t *x, uint8_t *y,
            int32_t *acc);
void xdk_conv(const xdk_layer *L, const xdk_kernel *kern, const uint8_t *x, uint8_t *y,
              int32_t *acc, uint8_t *col);

#endif /* XDK_H */
