"""The instruction-set simulator: the one ISA table, the ISS with its CV32E40P timing model, the
memory map, ELF loading and the result type every run target returns.

May import :mod:`xdecimate.sw.model`; nothing above it.
"""
