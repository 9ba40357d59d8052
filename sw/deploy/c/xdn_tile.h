/* xdn_tile: the L2 flow of a deployed network (xdecimate.sw.deploy.l2flow, docs/net.md).
 *
 * Every tensor and every layer's weights live in L2 (memmap.L2_BASE); the core computes on
 * tiles in DMEM (the L1) that the DMA engine (hal_dma_start / hal_dma_wait) brings in and takes
 * out.  With double buffering (`dbuf`), the transfers of the next tile and the write-back of the
 * previous one run while the current tile computes:
 *
 *     fetch(0); wait;  for i: { fetch(i+1); compute(i); wait; store(i); }  wait;
 *
 * without it: for i: { fetch(i); wait; compute(i); store(i); wait; }.
 * Descriptors are const (IMEM); the runtime patches a DMEM copy of the kernel descriptor.
 */
#ifndef XDN_TILE_H
#define XDN_TILE_H
#include <stdint.h>

#include "xdn.h"

/* A convolution or fully connected layer, tiled over output rows (bands of `bh` output rows;
 * FC: tokens) and output channels (tiles of `bc`).  The weight tiles are stored in L2 one after
 * the other, `wtile` bytes apart: the tile's int32 bias, then its rows (dense rows or N:M row
 * records: values and indices interleaved), so one transfer brings all three.  The input band
 * lands in a (rows, w + 2 pad, c) buffer whose border the runtime fills with the input zero
 * point; the kernel runs with pad 0. */
typedef struct xdn_mac {
    const xdk_layer *proto; /* the descriptor of a full band and tile (kernel fields) */
    const xdk_kernel *kern;
    uint32_t conv;          /* 1: xdk_conv, 0: xdk_fc */
    uint32_t x, y, w;       /* L2: input (h, w, c), output (ho, wo, cout), weight tiles */
    uint32_t h, wd, c, ho, wo, cout, kh, stride, pad, zx;
    uint32_t bh, nb;        /* output rows per band, bands */
    uint32_t bc, nct;       /* output channels per tile, tiles */
    uint32_t wrow, wtile;   /* bytes per weight row, per full weight tile (bias included) */
    uint32_t xslot, wslot, yslot; /* bytes per L1 slot (two of each) */
    uint8_t *xb, *wb, *yb;  /* L1 slots */
    int32_t *acc;
    uint8_t *col;
    uint32_t dbuf;
} xdn_mac;
void xdn_mac_run(const xdn_mac *m);

/* An element-wise or row-wise op streamed in chunks of `chunk` units (elements or rows):
 * inputs a (and b) of `ua` bytes per unit, output y of `uy` bytes per unit. */
typedef void xdn_chunk_fn(const void *p, const uint8_t *a, const uint8_t *b, uint8_t *y,
                          uint32_t units);
typedef struct xdn_stream {
    xdn_chunk_fn *fn;
    const void *p;          /* the op's parameters (in L1 once loaded) */
    uint32_t a, b, y;       /* L2 (b = 0: one input) */
    uint32_t ua, uy;        /* bytes per unit in, out */
    uint32_t n, chunk;      /* units, units per chunk */
    uint8_t *ab, *bb, *yb;  /* L1 slots */
    uint32_t aslot, yslot;  /* bytes per slot (b uses aslot) */
    uint32_t dbuf;
} xdn_stream;
void xdn_stream_run(const xdn_stream *s);

/* Parameters of the streamed ops (the p argument). */
typedef struct { int32_t za, zb, ma, mb, shift, zy; } xdn_add_p;
typedef struct { int32_t zx, ma, shift, zy; } xdn_rescale_p;
typedef struct { const uint8_t *lut; } xdn_lut_p;
typedef struct { uint32_t d; int32_t f, eps_int, shift; const int32_t *g, *b; } xdn_ln_p;
typedef struct { uint32_t len, r; const uint32_t *etab; } xdn_softmax_p;
xdn_chunk_fn xdn_add_chunk, xdn_rescale_chunk, xdn_lut_chunk, xdn_relu_chunk, xdn_ln_chunk,
    xdn_softmax_chunk;

/* Activation x activation matmul per batch item (attention), in bands of `tb` rows of a:
 * loads b (k x n or n x k) and each band of a, runs xdn_matmul, stores the band of y.  Not
 * double buffered. */
typedef struct xdn_mm {
    uint32_t a, b, y;       /* L2 */
    uint32_t batch, t, k, n, transpose_b, tb;
    int32_t za, mult, rnd, shift;
    uint8_t *al, *bl, *yl, *apad;
    int8_t *w;
    int32_t *bias, *acc;
} xdn_mm;
void xdn_mm_run(const xdn_mm *m);

/* L2 -> L2 copies of rank <= 4 data movement: count0 x count1 2-D transfers. */
void xdn_move(uint32_t src, uint32_t dst, uint32_t len, uint32_t rows, uint32_t sstride,
              uint32_t dstride, uint32_t count0, uint32_t s0, uint32_t d0, uint32_t count1,
              uint32_t s1, uint32_t d1);
/* Load `n` bytes from L2 into L1 and wait (parameters, whole small tensors). */
void xdn_load(uint32_t src, void *dst, uint32_t n);
/* Store `n` bytes from L1 to L2 and wait. */
void xdn_store(const void *src, uint32_t dst, uint32_t n);
#endif /* XDN_TILE_H */
