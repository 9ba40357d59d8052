/* Start-up for qemu-riscv32 (Linux user mode): the kernel sets sp and zeroes .bss.
 * Calls main() and exits with its return value through the exit system call. */
    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    call main
    li a7, 93                   /* exit */
    ecall
1:  j 1b
