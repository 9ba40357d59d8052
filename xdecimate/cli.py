"""The ``xdecimate`` command line.

Subcommands live in their own modules; each registers itself in :data:`COMMANDS` as
``name: "module:register"`` where ``register(subparsers)`` adds its parser and sets ``func``.
Modules are imported lazily so that ``xdecimate spec`` never pays for Amaranth or cocotb.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["COMMANDS", "main"]

#: Subcommand name -> "module:function" that registers it.
COMMANDS: dict[str, str] = {
    "spec": "xdecimate.cmd_spec:register",
    "report": "xdecimate.report:register",
    "verilog": "xdecimate.cmd_verilog:register",
    "area": "xdecimate.cmd_area:register",
    "bench": "xdecimate.cmd_bench:register",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xdecimate",
        description="N:M-sparse DNN inference on RISC-V with the xDecimate ISA extension.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for target in COMMANDS.values():
        module, func = target.split(":")
        getattr(importlib.import_module(module), func)(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``xdecimate`` console script."""
    args = _parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
