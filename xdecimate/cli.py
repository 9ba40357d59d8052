"""The ``xdecimate`` command line.

Subcommands live in their own modules; each registers itself in :data:`COMMANDS` as
``name: "module:register"`` where ``register(subparsers)`` adds its parser and sets ``func``.
Modules are imported lazily so that ``xdecimate spec`` never pays for Amaranth or cocotb.

Errors
------
Bad arguments are usage errors: argparse prints the usage line and one message and the exit
status is 2 (the argument converters below, e.g. :func:`patterns_arg`, check values before any
work starts).  A command that fails for a reason the project knows (:class:`CliError`, a failing
tool or target: ``ToolchainError``, ``TargetError``, ``SynthError``) prints one line
``xdecimate: error: <message>`` on stderr and exits with status 1.  Any other exception is a bug
and keeps its traceback.  ``XDECIMATE_TRACEBACK=1`` shows the traceback of a reported error too.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

__all__ = ["COMMANDS", "REPORTED_ERRORS", "TRACEBACK_ENV", "CliError", "config_arg",
           "ensure_out_dir", "main", "out_dir_arg", "patterns_arg"]

#: Subcommand name -> "module:function" that registers it.
COMMANDS: dict[str, str] = {
    "spec": "xdecimate.cmd_spec:register",
    "report": "xdecimate.report:register",
    "verilog": "xdecimate.cmd_verilog:register",
    "area": "xdecimate.cmd_area:register",
    "bench": "xdecimate.cmd_bench:register",
    "net": "xdecimate.cmd_net:register",
    "dse": "xdecimate.cmd_dse:register",
}

#: Error types of the project that a command may fail with: reported in one line, exit 1.
#: ``module:class``; a class is looked up only if its module is already imported (an exception
#: of a class that was never imported cannot have been raised).
REPORTED_ERRORS: tuple[str, ...] = (
    "xdecimate.sw.kernels.toolchain:ToolchainError",
    "xdecimate.sw.iss.target:TargetError",
    "xdecimate.synth.flow:SynthError",
)

#: Set to 1 to see the traceback of a reported error.
TRACEBACK_ENV = "XDECIMATE_TRACEBACK"


class CliError(Exception):
    """A command failed for a reason the user can act on; the message is printed as one line."""


def _reported(exc: BaseException) -> bool:
    if isinstance(exc, CliError):
        return True
    for target in REPORTED_ERRORS:
        module, name = target.split(":")
        mod = sys.modules.get(module)
        if mod is not None and isinstance(exc, getattr(mod, name)):
            return True
    return False


# --------------------------------------------------------------------------------------------
# Argument converters (``type=``): a bad value is a usage error (exit 2), found before any work
# --------------------------------------------------------------------------------------------


def patterns_arg(text: str) -> tuple[str, ...]:
    """``--patterns``: comma-separated N:M patterns, each supported, none twice.

    Returns the patterns as written (``"1:8"``); the empty string is not a value (leave the
    option out for the default).

    Raises
    ------
    argparse.ArgumentTypeError
        Empty list or item (``"1:8,"``), an item that is not ``N:M``, an unsupported pattern,
        a pattern given twice.
    """
    from xdecimate.sw.model.nm_format import Pattern

    items = text.split(",")
    if "" in (i.strip() for i in items):
        raise argparse.ArgumentTypeError(
            f"patterns must be a comma-separated list of N:M patterns without empty items, "
            f"not {text!r}")
    seen: dict[str, str] = {}
    for item in items:
        try:
            p = Pattern.parse(item)
        except (ValueError, TypeError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if str(p) in seen:
            raise argparse.ArgumentTypeError(
                f"pattern {item!r} is given twice in {text!r} (each pattern runs once)")
        seen[str(p)] = item
    return tuple(seen)


def out_dir_arg(text: str) -> Path:
    """``--out``: a folder that exists or can be created (nothing is created here).

    Raises
    ------
    argparse.ArgumentTypeError
        Empty path; the path or one of its parents exists and is not a folder; the nearest
        existing parent is not writable.
    """
    if not text:
        raise argparse.ArgumentTypeError("output folder must be a path, not ''")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"output folder {text!r} exists and is not a folder")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(
            f"output folder {text!r} cannot be created: {str(parent)!r} is not a folder")
    if parent != path and not os.access(parent, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(
            f"output folder {text!r} cannot be created: {str(parent)!r} is not writable")
    return path


def config_arg(text: str) -> str:
    """``--config``: the name of a configuration of :data:`xdecimate.hw.configs.CONFIGS`."""
    from xdecimate.hw.configs import config

    try:
        config(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def ensure_out_dir(path: Path) -> Path:
    """Create the output folder ``path`` (and its parents) before a command's work starts.

    Raises
    ------
    CliError
        If it cannot be created (the message names the folder and the reason).
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create output folder {str(path)!r}: "
                       f"{exc.strerror or exc}") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise CliError(f"output folder {str(path)!r} is not writable")
    return path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xdecimate",
        description="N:M-sparse DNN inference on RISC-V with the xDecimate ISA extension.",
        epilog=f"Errors print one line (exit 1; usage errors exit 2); {TRACEBACK_ENV}=1 shows "
               "the traceback.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for target in COMMANDS.values():
        module, func = target.split(":")
        getattr(importlib.import_module(module), func)(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``xdecimate`` console script; returns the exit status.

    0: success; 1: the command failed (one line on stderr, see the module docstring); 2: bad
    arguments (argparse's usage line and message).  ``--help`` returns 0.  A bug keeps its
    traceback (the exception propagates).
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        if not _reported(exc) or os.environ.get(TRACEBACK_ENV, "") not in ("", "0"):
            raise
        first, *rest = str(exc).strip().splitlines() or [type(exc).__name__]
        more = f" ({len(rest)} more lines: {TRACEBACK_ENV}=1 shows them)" if rest else ""
        print(f"xdecimate: error: {first}{more}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
