"""The bare-metal memory map shared by the C runtime, the ISS and the CV32E40P RTL harness.

One table; the linker script and ``memmap.h`` are generated from it (see ``xdecimate.sw``
toolchain), and the ISS and the RTL harness import it.  Programs built for ``qemu-riscv32``
(differential tests) use qemu's own user-mode layout instead and exit through Linux syscalls.
"""

from __future__ import annotations

__all__ = [
    "BOOT_ADDR",
    "DMEM_BASE",
    "DMEM_SIZE",
    "IMEM_BASE",
    "IMEM_SIZE",
    "MMIO_BASE",
    "MMIO_EXIT",
    "MMIO_MARK",
    "MMIO_PUTC",
    "MMIO_SIZE",
    "REGIONS",
]

#: Instruction memory (code and read-only data).
IMEM_BASE = 0x0000_0000
IMEM_SIZE = 0x0002_0000  # 128 kB
#: Reset PC (CV32E40P ``boot_addr_i``); the trap vector table sits below it at ``IMEM_BASE``.
BOOT_ADDR = 0x0000_0080

#: Data memory: 128 kB like the paper's L1 TCDM.  data, bss, heap-free layer buffers, stack on top.
DMEM_BASE = 0x0010_0000
DMEM_SIZE = 0x0002_0000  # 128 kB

#: Memory-mapped simulation control (word stores only).
MMIO_BASE = 0x2000_0000
MMIO_SIZE = 0x0000_1000
#: ``sw code, MMIO_EXIT``: stop the simulation with exit code ``code``.
MMIO_EXIT = MMIO_BASE + 0x0
#: ``sw ch, MMIO_PUTC``: append the low byte of ``ch`` to the program's stdout.
MMIO_PUTC = MMIO_BASE + 0x4
#: ``sw id, MMIO_MARK``: record (id, mcycle, minstret) when this store retires (region markers).
MMIO_MARK = MMIO_BASE + 0x8

#: (name, base, size) of every region.
REGIONS: tuple[tuple[str, int, int], ...] = (
    ("imem", IMEM_BASE, IMEM_SIZE),
    ("dmem", DMEM_BASE, DMEM_SIZE),
    ("mmio", MMIO_BASE, MMIO_SIZE),
)
