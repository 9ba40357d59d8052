"""``xdecimate verilog``: write the Verilog of the xDecimate unit for each named configuration."""

from __future__ import annotations

import argparse

from xdecimate.cli import ensure_out_dir, out_dir_arg

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    """Write ``xdec_unit_<config>.v`` into ``args.out`` for ``args.config`` (default: all)."""
    from xdecimate.hw.export import write_verilog

    names = None if args.config is None else [args.config]
    for path in write_verilog(ensure_out_dir(args.out), names):
        print(path)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``verilog`` subcommand."""
    from xdecimate.hw.configs import CONFIGS

    p = sub.add_parser("verilog", help="write the xDecimate unit's Verilog, one file per config")
    p.add_argument("--out", type=out_dir_arg, required=True, metavar="DIR",
                   help="output folder")
    p.add_argument("--config", choices=sorted(CONFIGS), default=None,
                   help="only this named configuration (default: every one)")
    p.set_defaults(func=run)
