"""Deployment of whole networks on the core: one C program per (network, pattern, kernel policy).

The deployment side of the whole-network flow (``docs/net.md``, "Deployment"): a quantized
graph of :mod:`xdecimate.sw.net` becomes one bare-metal C program (:mod:`.program`) that runs
the whole inference -- weights, N:M images and the input as C arrays, activation buffers from a
reuse plan (:mod:`.plan`), one call per conv / linear layer into the C kernel library
(:mod:`xdecimate.sw.kernels`, kernel per layer from a policy, :mod:`.policy`), the non-MAC ops
in ``c/xdn_ops.c``, and a mark around every layer.  :mod:`.run` builds it, runs it on the ISS or
the CV32E40P RTL and checks it bit for bit against the golden model.

May import: numpy, the standard library, :mod:`xdecimate.sw.net`, :mod:`xdecimate.sw.bench`,
:mod:`xdecimate.sw.kernels`, :mod:`xdecimate.sw.iss`, :mod:`xdecimate.sw.model` and
:mod:`xdecimate.sim`.  Only the full-size networks' L2/DMA flow is not here yet.
"""
