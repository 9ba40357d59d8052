/* Bare-metal start-up for the ISS and the CV32E40P RTL harness (memory map: sw/iss/memmap.py).
 *
 * Reset at BOOT_ADDR: set gp and sp, clear .bss, point mtvec (direct mode) at the trap entry,
 * start mcycle/minstret (CV32E40P resets mcountinhibit to 0xD), call main(), store its return
 * value to MMIO_EXIT.  Only RV32I + Zicsr instructions: the real core runs this unchanged.
 * .data is loaded in place by the ELF loader (no copy from a load address).
 */
#include "memmap.h"

    .section .vectors, "ax"
    .globl __vectors
__vectors:                      /* mtvec base (256-byte aligned, direct mode) */
    j __trap_entry

    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, __stack_top
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sw zero, 0(t0)
    addi t0, t0, 4
    j 1b
2:  la t0, __vectors
    csrw mtvec, t0
    csrw 0x320, zero            /* mcountinhibit: run mcycle and minstret */
    call main
    li t0, MMIO_EXIT
    sw a0, 0(t0)
3:  j 3b

/* Trap entry: save the caller-saved registers, call
 *   uint32_t xdec_trap(uint32_t mcause, uint32_t mepc, uint32_t *saved)
 * (weak default in runtime.c: report and exit with 128 + mcause), resume at its return value. */
    .balign 4
    .globl __trap_entry
__trap_entry:
    addi sp, sp, -64
    sw ra, 0(sp)
    sw t0, 4(sp)
    sw t1, 8(sp)
    sw t2, 12(sp)
    sw a0, 16(sp)
    sw a1, 20(sp)
    sw a2, 24(sp)
    sw a3, 28(sp)
    sw a4, 32(sp)
    sw a5, 36(sp)
    sw a6, 40(sp)
    sw a7, 44(sp)
    sw t3, 48(sp)
    sw t4, 52(sp)
    sw t5, 56(sp)
    sw t6, 60(sp)
    csrr a0, mcause
    csrr a1, mepc
    mv a2, sp
    call xdec_trap
    csrw mepc, a0
    lw ra, 0(sp)
    lw t0, 4(sp)
    lw t1, 8(sp)
    lw t2, 12(sp)
    lw a0, 16(sp)
    lw a1, 20(sp)
    lw a2, 24(sp)
    lw a3, 28(sp)
    lw a4, 32(sp)
    lw a5, 36(sp)
    lw a6, 40(sp)
    lw a7, 44(sp)
    lw t3, 48(sp)
    lw t4, 52(sp)
    lw t5, 56(sp)
    lw t6, 60(sp)
    addi sp, sp, 64
    mret
