"""Argument checks shared by the golden model: one wording for every bad-input error.

Policy (``docs/format.md``, "Bad input"): a value of the wrong type raises ``TypeError`` naming the
expected type; a value of the right type outside its legal set raises ``ValueError`` naming the
value and the rule.  Integers are Python ``int`` or numpy integers (anything with ``__index__``),
never ``bool``: ``True`` is not a register number, a block size or a shift.

Plain Python (no numpy), so that :mod:`xdecimate.sw.model.xdec_spec` may use it too.
"""

from __future__ import annotations

import operator
import reprlib

__all__ = ["as_int", "check_type", "short"]

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxlong = _REPR.maxother = 60


def short(value: object) -> str:
    """``repr(value)``, shortened for error messages (a huge list or number stays readable)."""
    return _REPR.repr(value)


def as_int(name: str, value: object, lo: int | None = None, hi: int | None = None, *,
           rule: str | None = None) -> int:
    """``value`` as a Python ``int``, checked against ``lo`` ≤ value ≤ ``hi`` (bounds optional).

    Raises ``TypeError`` for a non-integer (bool included) and ``ValueError`` for an integer
    outside the bounds; ``rule`` replaces the default "in lo..hi" wording of the latter.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not the bool {value!r}")
    try:
        v = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an integer, not {type(value).__name__} "
                        f"{short(value)}") from None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        if rule is None:
            rule = ("≥ " + str(lo) if hi is None else "≤ " + str(hi) if lo is None
                    else f"in {lo}..{hi}")
        raise ValueError(f"{name} must be {rule}, not {short(v)}")
    return v


def check_type(name: str, value: object, cls: type, what: str | None = None) -> None:
    """Raise ``TypeError`` unless ``value`` is a ``cls`` (a tuple is not a Pattern)."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be {what or 'a ' + cls.__name__}, not "
                        f"{type(value).__name__} {short(value)}")
