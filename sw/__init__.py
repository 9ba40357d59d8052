"""xdecimate.sw: the software side, in layers whose imports only point down.

``model`` (golden model, numpy only) ← ``iss`` (ISA table, ISS, timing, memory map, ELF loading,
target results) ← ``kernels`` (C kernels, RISC-V toolchain, harness) ← ``bench`` (benchmarks,
ISS-vs-RTL cross-checks, random programs).  A package may import the ones to its right, never one
to its left; ``[tool.importlinter]`` in ``pyproject.toml`` states the contract and
``tests/test_layers.py`` enforces it.
"""
