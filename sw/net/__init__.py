"""Whole networks: the IR, the quantizer, the golden model, ONNX import and the built-in nets.

The model side of the deployment flow (``docs/net.md``): a float graph (:class:`ir.Builder`,
:mod:`builtins`, :mod:`onnx_import`) is N:M-pruned where chosen (:mod:`sparsify`), quantized
onto the project's integer scheme (:mod:`quantize`) and run bit-exactly by :mod:`golden`, whose
conv / linear layers call the golden kernels of :mod:`xdecimate.sw.model`.

May import: numpy, onnx (only :mod:`onnx_import`), the standard library and
:mod:`xdecimate.sw.model`; nothing above it.
"""
