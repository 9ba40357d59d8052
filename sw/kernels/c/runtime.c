/* Freestanding runtime: the few libc functions GCC may call, console helpers, default trap. */
#include <stddef.h>
#include <stdint.h>
#include "hal.h"

void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    uint8_t *d = dst;
    while (n--) *d++ = (uint8_t)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x - *y;
    return 0;
}

void hal_puts(const char *s) {
    const char *e = s;
    while (*e) e++;
    hal_write(s, (uint32_t)(e - s));
}

void hal_put_hex(uint32_t v) {
    char buf[8];
    for (int i = 7; i >= 0; i--, v >>= 4) buf[i] = "0123456789abcdef"[v & 15];
    hal_write(buf, 8);
}

void hal_put_dec(int32_t v) {
    char buf[12];
    int i = 12;
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    do { buf[--i] = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) buf[--i] = '-';
    hal_write(buf + i, (uint32_t)(12 - i));
}

#ifndef XDEC_TARGET_QEMU
/* Default trap handler (override it with a strong definition): report and exit 128 + mcause. */
__attribute__((weak)) uint32_t xdec_trap(uint32_t mcause, uint32_t mepc, uint32_t *saved) {
    (void)saved;
    hal_puts("trap mcause=");
    hal_put_hex(mcause);
    hal_puts(" mepc=");
    hal_put_hex(mepc);
    hal_putc('\n');
    hal_exit(128 + (int)(mcause & 0x7f));
}
#endif
