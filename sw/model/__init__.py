"""The golden model and executable spec: the xDecimate spec table and reference, the N:M format,
pruning, quantization and bit-exact numpy kernels.

Imports numpy and the standard library only: nothing else of the project, never Amaranth.
"""
