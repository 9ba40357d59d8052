"""``xdecimate spec``: print the xDecimate spec tables; check or rewrite them in the docs."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from xdecimate.cli import CliError
from xdecimate.sw.model import xdec_spec as spec

__all__ = ["DOC", "generated_blocks", "register", "render_doc"]

#: The spec document that quotes the tables.
DOC = Path(__file__).resolve().parent.parent / "docs" / "xdecimate.md"

_BLOCK = re.compile(r"(<!-- generated:(\w+) -->\n)(.*?)(\n<!-- /generated:\2 -->)", re.S)


def generated_blocks() -> dict[str, str]:
    """Name -> markdown of every table the docs quote."""
    return {
        "semantics": spec.semantics_markdown_table(),
        "encoding": spec.encoding_markdown_table(),
        "csr": spec.csr_markdown_table(),
    }


def render_doc(text: str) -> str:
    """``text`` with every generated block replaced by the current table."""
    blocks = generated_blocks()
    seen: set[str] = set()

    def sub(m: re.Match[str]) -> str:
        name = m.group(2)
        if name not in blocks:
            raise ValueError(f"docs quote an unknown generated block {name!r}")
        seen.add(name)
        return m.group(1) + blocks[name] + m.group(4)

    out = _BLOCK.sub(sub, text)
    missing = set(blocks) - seen
    if missing:
        raise ValueError(f"docs lack the generated blocks {sorted(missing)}")
    return out


def _doc_and_render() -> tuple[str, str]:
    """The text of :data:`DOC` and its rendering; :class:`CliError` if either fails."""
    try:
        text = DOC.read_text()
    except OSError as exc:
        raise CliError(f"cannot read {DOC}: {exc.strerror or exc}") from exc
    try:
        return text, render_doc(text)
    except ValueError as exc:
        raise CliError(f"{DOC}: {exc}") from exc


def _run(args: argparse.Namespace) -> int:
    if args.write_docs:
        DOC.write_text(_doc_and_render()[1])
        print(f"rewrote {DOC}")
        return 0
    if args.check_docs:
        text, rendered = _doc_and_render()
        if rendered != text:
            print(f"{DOC} is out of date with sw/model/xdec_spec.py; run "
                  "`xdecimate spec --write-docs`", file=sys.stderr)
            return 1
        print(f"{DOC} agrees with sw/model/xdec_spec.py")
        return 0
    for name, block in generated_blocks().items():
        print(f"## {name}\n\n{block}\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("spec", help="print the xDecimate spec tables / check the docs")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--check-docs", action="store_true", help="fail if docs/xdecimate.md is stale")
    g.add_argument("--write-docs", action="store_true", help="rewrite the tables in the docs")
    p.set_defaults(func=_run)
