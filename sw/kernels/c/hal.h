/* Tiny hardware-abstraction layer: console, exit, region markers, counters.
 * Bare metal (default): MMIO registers of sw/iss/memmap.py.
 * XDEC_TARGET_QEMU: Linux system calls under qemu-riscv32 (markers are no-ops). */
#ifndef XDEC_HAL_H
#define XDEC_HAL_H
#include <stdint.h>

#ifdef XDEC_TARGET_QEMU
static inline long hal_syscall3(long n, long a0, long a1, long a2) {
    register long r_a0 __asm__("a0") = a0;
    register long r_a1 __asm__("a1") = a1;
    register long r_a2 __asm__("a2") = a2;
    register long r_a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(r_a0) : "r"(r_a1), "r"(r_a2), "r"(r_a7) : "memory");
    return r_a0;
}
static inline void hal_putc(char c) { hal_syscall3(64, 1, (long)&c, 1); }
static inline void hal_write(const char *s, uint32_t n) { hal_syscall3(64, 1, (long)s, n); }
__attribute__((noreturn)) static inline void hal_exit(int code) {
    hal_syscall3(93, code, 0, 0);
    for (;;) {}
}
static inline void hal_mark(uint32_t id) { (void)id; }
#else
#include "memmap.h"
#define HAL_MMIO(a) (*(volatile uint32_t *)(uintptr_t)(a))
static inline void hal_putc(char c) { HAL_MMIO(MMIO_PUTC) = (uint8_t)c; }
static inline void hal_write(const char *s, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) hal_putc(s[i]);
}
__attribute__((noreturn)) static inline void hal_exit(int code) {
    HAL_MMIO(MMIO_EXIT) = (uint32_t)code;
    for (;;) {}
}
/* Record (id, mcycle, minstret) at this store: region markers for cycle counts. */
static inline void hal_mark(uint32_t id) {
    __asm__ volatile("" ::: "memory");
    HAL_MMIO(MMIO_MARK) = id;
    __asm__ volatile("" ::: "memory");
}
/* DMA engine (memmap.py, docs/iss.md "DMA"): start a copy of `rows` rows of `len` bytes, row r
 * from src + r * sstride to dst + r * dstride (DMEM or L2 at either end); it is in flight --
 * the core must not touch the rows it writes, nor store into the rows it reads -- until
 * hal_dma_wait(), which stalls until every transfer started has ended. */
static inline void hal_dma_start(uint32_t src, uint32_t dst, uint32_t len, uint32_t rows,
                                 uint32_t sstride, uint32_t dstride) {
    __asm__ volatile("" ::: "memory");
    HAL_MMIO(MMIO_DMA_SRC) = src;
    HAL_MMIO(MMIO_DMA_DST) = dst;
    HAL_MMIO(MMIO_DMA_LEN) = len;
    HAL_MMIO(MMIO_DMA_ROWS) = rows;
    HAL_MMIO(MMIO_DMA_SSTRIDE) = sstride;
    HAL_MMIO(MMIO_DMA_DSTRIDE) = dstride;
    HAL_MMIO(MMIO_DMA_START) = 0;
    __asm__ volatile("" ::: "memory");
}
static inline void hal_dma_wait(void) {
    __asm__ volatile("" ::: "memory");
    HAL_MMIO(MMIO_DMA_WAIT) = 0;
    __asm__ volatile("" ::: "memory");
}
#endif

static inline uint32_t hal_cycles(void) {
    uint32_t v;
    __asm__ volatile("csrr %0, mcycle" : "=r"(v));
    return v;
}
static inline uint32_t hal_instret(void) {
    uint32_t v;
    __asm__ volatile("csrr %0, minstret" : "=r"(v));
    return v;
}

void hal_puts(const char *s);          /* no newline added */
void hal_put_hex(uint32_t v);          /* 8 hex digits */
void hal_put_dec(int32_t v);
#endif /* XDEC_HAL_H */
