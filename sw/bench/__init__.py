"""Benchmarks and cross-checks: the layer-tile kernel benchmark, the ISS-vs-RTL cross-check
against the real CV32E40P, and the random program generators both use.

May import the layers below (:mod:`xdecimate.sw.kernels`, ``iss``, ``model``) and the CV32E40P run
target of :mod:`xdecimate.sim`.
"""
