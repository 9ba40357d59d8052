"""Small Amaranth-simulator helpers for the unit tests of ``hw/`` (async testbenches only).

``rtl_comb(dut, cases)`` evaluates a combinational component on a list of input dicts in one
simulation and returns the output dicts, so a test reads ``rtl_x(case) == ref_x(case)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from amaranth.sim import Simulator

__all__ = ["rtl_comb", "rtl_sync"]


def rtl_comb(dut: Any, cases: Iterable[Mapping[str, int]],
             outputs: Sequence[str]) -> list[dict[str, int]]:
    """Drive each case's inputs (port name -> int) and read ``outputs`` (port names).

    Parameters
    ----------
    dut : a combinational ``wiring.Component``.
    cases : input assignments, port name -> integer value.
    outputs : names of the ports to read after each assignment.

    Returns
    -------
    list of dict
        One ``{name: int}`` per case.
    """
    cases = list(cases)
    results: list[dict[str, int]] = []

    async def bench(ctx: Any) -> None:
        for case in cases:
            for name, value in case.items():
                ctx.set(_raw(getattr(dut, name)), value)
            results.append({name: ctx.get(_raw(getattr(dut, name))) for name in outputs})

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return results


def rtl_sync(dut: Any, bench: Callable[[Any], Any], *, processes: Sequence[Callable] = (),
             vcd: str | None = None) -> None:
    """Run the async testbench ``bench(ctx)`` (and ``processes``) on ``dut`` with a clock."""
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    for proc in processes:
        sim.add_process(proc)
    if vcd is None:
        sim.run()
    else:
        with sim.write_vcd(vcd):
            sim.run()


def _raw(port: Any) -> Any:
    """The plain value behind a port (a layout or enum view is read and written as an int)."""
    return port.as_value() if hasattr(port, "as_value") else port


class AmaranthIO:
    """Port adapter of :class:`~xdecimate.sim.testbench.XdecTB` for the Amaranth simulator.

    Maps the Verilog port names (``i__valid``, ``bus__addr`` ...) to the component's members.
    """

    def __init__(self, ctx: Any, dut: Any) -> None:
        self._ctx = ctx
        self._sig = {}
        for path, _member, value in dut.signature.flatten(dut):
            self._sig["__".join(str(p) for p in path)] = _raw(value)

    def set(self, name: str, value: int) -> None:
        self._ctx.set(self._sig[name], value)

    def get(self, name: str) -> int:
        return self._ctx.get(self._sig[name])
