"""The bare-metal memory map shared by the C runtime, the ISS and the CV32E40P RTL harness.

One table; the linker script and ``memmap.h`` are generated from it (see ``xdecimate.sw``
toolchain), and the ISS and the RTL harness import it.  Programs built for ``qemu-riscv32``
(differential tests) use qemu's own user-mode layout instead and exit through Linux syscalls.
"""

from __future__ import annotations

__all__ = [
    "BOOT_ADDR",
    "DMA_BYTES_PER_CYCLE",
    "DMA_ROW_CYCLES",
    "DMA_SETUP_CYCLES",
    "DMEM_BASE",
    "DMEM_SIZE",
    "IMEM_BASE",
    "IMEM_SIZE",
    "L2_BASE",
    "L2_SIZE",
    "MMIO_BASE",
    "MMIO_DMA_DST",
    "MMIO_DMA_DSTRIDE",
    "MMIO_DMA_LEN",
    "MMIO_DMA_ROWS",
    "MMIO_DMA_SRC",
    "MMIO_DMA_SSTRIDE",
    "MMIO_DMA_START",
    "MMIO_DMA_WAIT",
    "MMIO_EXIT",
    "MMIO_MARK",
    "MMIO_PUTC",
    "MMIO_SIZE",
    "REGIONS",
    "dma_cycles",
]

#: Instruction memory (code and read-only data).
IMEM_BASE = 0x0000_0000
IMEM_SIZE = 0x0002_0000  # 128 kB
#: Reset PC (CV32E40P ``boot_addr_i``); the trap vector table sits below it at ``IMEM_BASE``.
BOOT_ADDR = 0x0000_0080

#: Data memory: 128 kB like the paper's L1 TCDM.  data, bss, heap-free layer buffers, stack on top.
DMEM_BASE = 0x0010_0000
DMEM_SIZE = 0x0002_0000  # 128 kB

#: L2: 64 MB of on-chip memory behind a DMA engine (the paper's cluster sees its L2 the same way:
#: the cores compute on L1 only, the cluster DMA moves tiles).  The core's loads and stores cannot
#: reach it (access fault on the ISS, bus error on the RTL harness); only the DMA does.  The
#: networks' weights, their inputs and every activation live here (``xdecimate.sw.deploy``).
L2_BASE = 0x1C00_0000
L2_SIZE = 0x0400_0000  # 64 MB

#: Memory-mapped simulation control (word stores only).
MMIO_BASE = 0x2000_0000
MMIO_SIZE = 0x0000_1000
#: ``sw code, MMIO_EXIT``: stop the simulation with exit code ``code``.
MMIO_EXIT = MMIO_BASE + 0x0
#: ``sw ch, MMIO_PUTC``: append the low byte of ``ch`` to the program's stdout.
MMIO_PUTC = MMIO_BASE + 0x4
#: ``sw id, MMIO_MARK``: record (id, mcycle, minstret) when this store retires (region markers).
MMIO_MARK = MMIO_BASE + 0x8


# ---- the DMA engine (docs/iss.md, "DMA"): one channel, transfers run in the order started ----
#: Parameter registers of the next transfer (they keep their values): source and destination
#: addresses, bytes per row (>= 1), rows (>= 1), source and destination row strides (bytes).
#: A transfer copies ``rows`` rows of ``len`` bytes, row ``r`` from ``src + r*sstride`` to
#: ``dst + r*dstride``; every row lies inside DMEM or L2 (each end may be either).
MMIO_DMA_SRC = MMIO_BASE + 0x10
MMIO_DMA_DST = MMIO_BASE + 0x14
MMIO_DMA_LEN = MMIO_BASE + 0x18
MMIO_DMA_ROWS = MMIO_BASE + 0x1C
MMIO_DMA_SSTRIDE = MMIO_BASE + 0x20
MMIO_DMA_DSTRIDE = MMIO_BASE + 0x24
#: ``sw x, MMIO_DMA_START``: start a transfer with the parameters above (value ignored).  The
#: bytes are copied at once, but the transfer is *in flight* until the next ``MMIO_DMA_WAIT``:
#: a load or store of the core that touches a row it writes, or a store into a row it reads,
#: is a DMA race and stops the run (ISS and RTL harness alike).
MMIO_DMA_START = MMIO_BASE + 0x28
#: ``sw x, MMIO_DMA_WAIT``: the store is granted when every transfer started has finished
#: (the core stalls until then); afterwards nothing is in flight.
MMIO_DMA_WAIT = MMIO_BASE + 0x2C
#: Timing: a transfer begins in the cycle after its START store is granted, or when the
#: previous transfer ends if that is later, and lasts :func:`dma_cycles`; a WAIT store
#: requested in cycle r is granted in cycle max(r, end of the last transfer).
DMA_SETUP_CYCLES = 20  # per transfer: descriptor and first-beat latency
DMA_ROW_CYCLES = 2  # per row: address generation of a new burst
DMA_BYTES_PER_CYCLE = 8  # a 64-bit bus, as the cluster DMA of the paper's PULP platform


def dma_cycles(length: int, rows: int) -> int:
    """Cycles of one transfer of ``rows`` rows of ``length`` bytes (positive integers)."""
    return DMA_SETUP_CYCLES + rows * (DMA_ROW_CYCLES + -(-length // DMA_BYTES_PER_CYCLE))


#: (name, base, size) of every region.
REGIONS: tuple[tuple[str, int, int], ...] = (
    ("imem", IMEM_BASE, IMEM_SIZE),
    ("dmem", DMEM_BASE, DMEM_SIZE),
    ("mmio", MMIO_BASE, MMIO_SIZE),
    ("l2", L2_BASE, L2_SIZE),
)
