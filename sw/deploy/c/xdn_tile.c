/* xdn_tile: tiled, DMA-fed execution of a network's layers from L2; see xdn_tile.h. */
#include "xdn_tile.h"

#include "hal.h"

#define ADDR(p) ((uint32_t)(uintptr_t)(p))

void xdn_load(uint32_t src, void *dst, uint32_t n) {
    hal_dma_start(src, ADDR(dst), n, 1, 0, 0);
    hal_dma_wait();
}

void xdn_store(const void *src, uint32_t dst, uint32_t n) {
    hal_dma_start(ADDR(src), dst, n, 1, 0, 0);
    hal_dma_wait();
}

void xdn_move(uint32_t src, uint32_t dst, uint32_t len, uint32_t rows, uint32_t sstride,
              uint32_t dstride, uint32_t count0, uint32_t s0, uint32_t d0, uint32_t count1,
              uint32_t s1, uint32_t d1) {
    for (uint32_t i = 0; i < count0; i++)
        for (uint32_t j = 0; j < count1; j++)
            hal_dma_start(src + i * s0 + j * s1, dst + i * d0 + j * d1, len, rows, sstride,
                          dstride);
    hal_dma_wait();
}

/* ---- MAC layers ------------------------------------------------------------------------- */
typedef struct { uint32_t t, b, r0, rows, c0, cn; } mac_item;

static mac_item mac_item_of(const xdn_mac *m, uint32_t i) {
    mac_item it;
    it.t = i / m->nb;
    it.b = i % m->nb;
    it.r0 = it.b * m->bh;
    it.rows = m->ho - it.r0 < m->bh ? m->ho - it.r0 : m->bh;
    it.c0 = it.t * m->bc;
    it.cn = m->cout - it.c0 < m->bc ? m->cout - it.c0 : m->bc;
    return it;
}

/* Input rows of a band: [lo, lo + n) of the input, lo may be negative (padding). */
static void band_rows(const xdn_mac *m, const mac_item *it, int32_t *lo, uint32_t *n) {
    *lo = (int32_t)(it->r0 * m->stride) - (int32_t)m->pad;
    *n = (it->rows - 1) * m->stride + m->kh;
}

static void mac_fetch(const xdn_mac *m, uint32_t i) {
    const mac_item it = mac_item_of(m, i);
    if (it.b == 0 && (m->nct > 1 || i == 0)) {
        hal_dma_start(m->w + it.t * m->wtile, ADDR(m->wb + (it.t & 1u) * m->wslot),
                      it.cn * (m->wrow + 4u), 1, 0, 0);
    }
    if (m->nb > 1 || i == 0) {
        uint8_t *xb = m->xb + (m->nb > 1 ? (i & 1u) * m->xslot : 0);
        const uint32_t wp = m->wd + 2 * m->pad, rowb = m->wd * m->c;
        int32_t lo;
        uint32_t n;
        band_rows(m, &it, &lo, &n);
        int32_t a = lo < 0 ? 0 : lo, e = lo + (int32_t)n;
        if (e > (int32_t)m->h) e = (int32_t)m->h;
        if (e > a) {
            uint8_t *dst = xb + ((uint32_t)(a - lo) * wp + m->pad) * m->c;
            if (m->pad)
                hal_dma_start(m->x + (uint32_t)a * rowb, ADDR(dst), rowb, (uint32_t)(e - a), rowb,
                              wp * m->c);
            else
                hal_dma_start(m->x + (uint32_t)a * rowb, ADDR(dst), (uint32_t)(e - a) * rowb, 1,
                              0, 0);
        }
    }
}

/* Border of a padded band: the pad columns of every row, and rows outside the input. */
static void band_border(const xdn_mac *m, const mac_item *it, uint8_t *xb) {
    const uint32_t wp = m->wd + 2 * m->pad, c = m->c, rb = wp * c;
    const uint8_t z = (uint8_t)m->zx;
    int32_t lo;
    uint32_t n;
    band_rows(m, it, &lo, &n);
    for (uint32_t r = 0; r < n; r++) {
        uint8_t *row = xb + r * rb;
        const int32_t ir = lo + (int32_t)r;
        if (ir < 0 || ir >= (int32_t)m->h) {
            for (uint32_t q = 0; q < rb; q++) row[q] = z;
        } else {
            for (uint32_t q = 0; q < m->pad * c; q++) {
                row[q] = z;
                row[rb - 1 - q] = z;
            }
        }
    }
}

static void mac_compute(const xdn_mac *m, uint32_t i, xdk_layer *L) {
    const mac_item it = mac_item_of(m, i);
    uint8_t *xb = m->xb + (m->nb > 1 ? (i & 1u) * m->xslot : 0);
    const uint8_t *wb = m->wb + (m->nct > 1 ? (it.t & 1u) * m->wslot : 0);
    uint8_t *yb = m->yb + (i & 1u) * m->yslot;
    if (m->pad && (m->nb > 1 || i == 0)) band_border(m, &it, xb);
    L->cout = it.cn;
    L->bias = (const int32_t *)wb;
    L->wgt = wb + 4u * it.cn;
    if (m->conv) {
        int32_t lo;
        uint32_t n;
        band_rows(m, &it, &lo, &n);
        L->h = n;
        L->ho = it.rows;
        L->npix = it.rows * m->wo;
        xdk_conv(L, m->kern, xb, yb, m->acc, m->col);
    } else {
        L->npix = it.rows;
        xdk_fc(L, m->kern, xb, yb, m->acc);
    }
}

static void mac_store(const xdn_mac *m, uint32_t i) {
    const mac_item it = mac_item_of(m, i);
    const uint8_t *yb = m->yb + (i & 1u) * m->yslot;
    const uint32_t npix = it.rows * m->wo;
    const uint32_t dst = m->y + it.r0 * m->wo * m->cout + it.c0;
    if (m->nct == 1)
        hal_dma_start(ADDR(yb), dst, npix * m->cout, 1, 0, 0);
    else
        hal_dma_start(ADDR(yb), dst, it.cn, npix, it.cn, m->cout);
}

static xdk_layer xdn_L;

void xdn_mac_run(const xdn_mac *m) {
    xdn_L = *m->proto;
    const uint32_t items = m->nb * m->nct;
    if (m->dbuf) {
        mac_fetch(m, 0);
        hal_dma_wait();
        for (uint32_t i = 0; i < items; i++) {
            if (i + 1 < items) mac_fetch(m, i + 1);
            mac_compute(m, i, &xdn_L);
            hal_dma_wait();
            mac_store(m, i);
        }
    } else {
        for (uint32_t i = 0; i < items; i++) {
            mac_fetch(m, i);
            hal_dma_wait();
            mac_compute(m, i, &xdn_L);
            mac_store(m, i);
            hal_dma_wait();
        }
    }
    hal_dma_wait();
}

/* ---- streamed element-wise and row-wise ops ------------------------------------------------ */
static void stream_fetch(const xdn_stream *s, uint32_t i) {
    const uint32_t u0 = i * s->chunk, n = s->n - u0 < s->chunk ? s->n - u0 : s->chunk;
    const uint32_t slot = (i & 1u) * s->aslot;
    hal_dma_start(s->a + u0 * s->ua, ADDR(s->ab + slot), n * s->ua, 1, 0, 0);
    if (s->b) hal_dma_start(s->b + u0 * s->ua, ADDR(s->bb + slot), n * s->ua, 1, 0, 0);
}

static void stream_compute(const xdn_stream *s, uint32_t i) {
    const uint32_t u0 = i * s->chunk, n = s->n - u0 < s->chunk ? s->n - u0 : s->chunk;
    const uint32_t slot = (i & 1u) * s->aslot;
    s->fn(s->p, s->ab + slot, s->b ? s->bb + slot : 0, s->yb + (i & 1u) * s->yslot, n);
}

static void stream_store(const xdn_stream *s, uint32_t i) {
    const uint32_t u0 = i * s->chunk, n = s->n - u0 < s->chunk ? s->n - u0 : s->chunk;
    hal_dma_start(ADDR(s->yb + (i & 1u) * s->yslot), s->y + u0 * s->uy, n * s->uy, 1, 0, 0);
}

void xdn_stream_run(const xdn_stream *s) {
    const uint32_t items = (s->n + s->chunk - 1) / s->chunk;
    if (s->dbuf) {
        stream_fetch(s, 0);
        hal_dma_wait();
        for (uint32_t i = 0; i < items; i++) {
            if (i + 1 < items) stream_fetch(s, i + 1);
            stream_compute(s, i);
            hal_dma_wait();
            stream_store(s, i);
        }
    } else {
        for (uint32_t i = 0; i < items; i++) {
            stream_fetch(s, i);
            hal_dma_wait();
            stream_compute(s, i);
            stream_store(s, i);
            hal_dma_wait();
        }
    }
    hal_dma_wait();
}

void xdn_add_chunk(const void *p, const uint8_t *a, const uint8_t *b, uint8_t *y, uint32_t n) {
    const xdn_add_p *q = p;
    xdn_add(a, b, y, n, q->za, q->zb, q->ma, q->mb, q->shift, q->zy);
}

void xdn_rescale_chunk(const void *p, const uint8_t *a, const uint8_t *b, uint8_t *y,
                       uint32_t n) {
    const xdn_rescale_p *q = p;
    (void)b;
    xdn_place(a, y, 1, n, n, 0, q->zx, q->ma, q->shift, q->zy);
}

void xdn_lut_chunk(const void *p, const uint8_t *a, const uint8_t *b, uint8_t *y, uint32_t n) {
    (void)b;
    xdn_lut(a, y, n, ((const xdn_lut_p *)p)->lut);
}

void xdn_relu_chunk(const void *p, const uint8_t *a, const uint8_t *b, uint8_t *y, uint32_t n) {
    (void)b;
    xdn_relu(a, y, n, (uint8_t)((const xdn_rescale_p *)p)->zx);
}

void xdn_ln_chunk(const void *p, const uint8_t *a, const uint8_t *b, uint8_t *y, uint32_t n) {
    const xdn_ln_p *q = p;
    (void)b;
    xdn_layernorm(a, y, n, q->d, q->f, q->eps_int, q->g, q->b, q->shift);
}

void xdn_softmax_chunk(const void *p, const uint8_t *a, const uint8_t *b, uint8_t *y,
                       uint32_t n) {
    const xdn_softmax_p *q = p;
    (void)b;
    xdn_softmax(a, y, n, q->len, q->etab, q->r);
}

/* ---- activation x activation matmul ---------------------------------------------------------- */
void xdn_mm_run(const xdn_mm *m) {
    const uint32_t kn = m->k * m->n;
    for (uint32_t bi = 0; bi < m->batch; bi++) {
        xdn_load(m->b + bi * kn, m->bl, kn);
        for (uint32_t r0 = 0; r0 < m->t; r0 += m->tb) {
            const uint32_t rows = m->t - r0 < m->tb ? m->t - r0 : m->tb;
            xdn_load(m->a + (bi * m->t + r0) * m->k, m->al, rows * m->k);
            xdn_matmul(m->al, m->bl, m->yl, 1, rows, m->k, m->n, m->transpose_b, m->za, m->mult,
                       m->rnd, m->shift, m->w, m->bias, m->apad, m->acc);
            xdn_store(m->yl, m->y + (bi * m->t + r0) * m->n, rows * m->n);
        }
    }
}
