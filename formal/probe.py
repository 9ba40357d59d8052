"""Open up a ``hw/`` component for a proof: its internal signals, and planted mutations.

The proofs treat the RTL as it is in ``hw/``; nothing there has a test hook.  This module reaches
inside from the outside, for the duration of one elaboration:

* :func:`probed` makes a subclass of a ``hw/`` component whose ``elaborate`` runs the original
  one while the ``Signal`` name of the component's module is replaced by a recorder, so every
  internal signal (``slot_valid``, ``reg`` ...) is available afterwards by name in
  :attr:`Probe.signals`, and its submodules through :attr:`Probe.module`.  The unit's
  induction needs this (its slot is internal state); the design itself is unchanged.
* A :class:`Mutation` plants one bug in that same elaboration, in one of two ways:
  ``spec`` replaces constants of the spec table *as the component's module sees them* (a wrong
  write mask, a wrong reset value, a wrong index width), and ``override`` appends statements to
  the component's own module after it is built.  An appended combinational assignment wins over
  the original one (Amaranth: the last assignment to a signal in a module takes effect), so a
  mutation overrides exactly one expression, e.g. ``csr.inc.eq(accept & is_lb)``.

``hw/`` sources are never edited; a mutation lives only in the elaborated netlist of one proof.

May import: amaranth and the standard library (it works on any ``hw/`` component it is given).
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from unittest import mock

from amaranth.hdl import Elaboratable, Fragment, Module, Signal

__all__ = ["Mutation", "Prebuilt", "Probe", "probed"]

C = TypeVar("C", bound=Elaboratable)


@dataclass
class Probe:
    """What one elaboration of a probed component exposed."""

    #: Every ``Signal`` the component's ``elaborate`` created, by name.
    signals: dict[str, Signal] = field(default_factory=dict)
    #: The module its ``elaborate`` returned (``module.submodules.csr`` ...).
    module: Module | None = None


@dataclass(frozen=True)
class Mutation:
    """One planted bug that a proof must reject with a counterexample.

    Parameters
    ----------
    name : short identifier (test ids, reports).
    block : the proof it targets (``"decompress"``, ``"merge"``, ``"agen"``, ``"csr"``,
        ``"unit"``).
    what : one line saying what the bug is, in hardware terms.
    config : the named configuration the proof runs on.
    spec : constants of ``xdec_spec`` replaced as the component's module sees them.
    override : ``override(component, module, signals)`` appends statements to the component's
        module after it is built (see the module docstring).
    """

    name: str
    block: str
    what: str
    config: str = "full"
    spec: dict[str, Any] = field(default_factory=dict)
    override: Callable[[Any, Module, dict[str, Signal]], None] | None = None


@contextlib.contextmanager
def _recording(module: types.ModuleType, into: dict[str, Signal]) -> Iterator[None]:
    real = getattr(module, "Signal", None)
    if real is None:  # the module creates no signals of its own
        yield
        return

    def recording_signal(*args: Any, src_loc_at: int = 0, **kwargs: Any) -> Signal:
        # src_loc_at + 1: the name is inferred from the caller's assignment, not from here.
        sig = real(*args, src_loc_at=src_loc_at + 1, **kwargs)
        if sig.name in into:
            raise NameError(f"{module.__name__} creates two signals named {sig.name!r}; "
                            f"the probe cannot tell them apart")
        into[sig.name] = sig
        return sig

    with mock.patch.object(module, "Signal", recording_signal):
        yield


@contextlib.contextmanager
def _spec_patched(module: types.ModuleType, overrides: dict[str, Any]) -> Iterator[None]:
    if not overrides:
        yield
        return
    real = module.spec
    for name in overrides:
        if not hasattr(real, name):
            raise AttributeError(f"{real.__name__} has no {name!r} to mutate")
    names = {k: getattr(real, k) for k in dir(real) if not k.startswith("__")}
    proxy = types.SimpleNamespace(**{**names, **overrides})
    with mock.patch.object(module, "spec", proxy):
        yield


def probed(cls: type[C], mutation: Mutation | None = None) -> type[C]:
    """A subclass of the ``hw/`` component ``cls`` that records its internals when elaborated.

    Instances carry :attr:`probe` (a :class:`Probe`) once elaborated.  With ``mutation`` the
    elaboration also plants that bug.
    """
    module = sys.modules[cls.__module__]

    def elaborate(self: Any, platform: Any) -> Module:
        probe = Probe()
        with _recording(module, probe.signals), \
                _spec_patched(module, mutation.spec if mutation else {}):
            m = cls.elaborate(self, platform)
        probe.module = m
        if mutation is not None and mutation.override is not None:
            mutation.override(self, m, probe.signals)
        self.probe = probe
        return m

    suffix = f"_{mutation.name}" if mutation else ""
    return type(f"Probed{cls.__name__}{suffix}", (cls,), {
        "elaborate": elaborate, "__module__": __name__, "__doc__": cls.__doc__})


class Prebuilt(Elaboratable):
    """An already elaborated fragment, to be placed as a submodule of a harness.

    A harness elaborates its device under test first (``Fragment.get``) so that it can refer to
    the internal signals the probe recorded, then adds the fragment through this wrapper.
    """

    def __init__(self, fragment: Fragment) -> None:
        self._fragment = fragment

    def elaborate(self, platform: Any) -> Fragment:
        return self._fragment
