"""The golden model and executable spec: the xDecimate spec table and reference, the N:M format,
pruning, quantization and bit-exact numpy kernels.

Bad input is an error, never a silent result: a wrong type raises ``TypeError``, a wrong value
``ValueError`` (``OverflowError`` for int32 overflow), each naming the value and the rule
(``docs/format.md``, "Bad input"; ``tests/sw/model/test_bad_input.py`` walks every public
function).

Imports numpy and the standard library only: nothing else of the project, never Amaranth.
"""
