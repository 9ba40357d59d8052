"""The C kernel library (``c/``), the RISC-V toolchain driver that builds it, and the harness that
runs each kernel on a target and checks it bit for bit against the golden model.

May import :mod:`xdecimate.sw.iss` and :mod:`xdecimate.sw.model`; nothing above them.
"""
