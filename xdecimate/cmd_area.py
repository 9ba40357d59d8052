"""``xdecimate area``: gate equivalents, OSU 0.18 um area and static timing of the xDecimate unit
and of the whole CV32E40P with and without it (the overhead row).

The core syntheses take minutes each on a cold cache (``build/synth-cache``) and seconds once
cached; ``--no-core`` skips them.  Prints tables, writes ``<out>/area.json`` (schema in
``docs/area.md``) and ``<out>/area.md``, and exits with status 1 if a configuration is outside its
budget (``synth/area_budget.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from xdecimate.cli import config_arg, ensure_out_dir, out_dir_arg

__all__ = ["register", "render_table"]


def render_table(doc: dict[str, Any]) -> list[object]:
    """Two :class:`rich.table.Table` of one JSON document of ``run_area``: GE, then OSU/timing."""
    from rich import box
    from rich.table import Table

    from xdecimate.synth.area import UNIT_BLOCKS

    host = doc["host_core"]
    ge = Table(title="xDecimate unit: gate equivalents (xdec_ge.lib, NAND2 = 1, flat)",
               caption="Relative figures from an open flow, not tape-out area (docs/area.md). "
                       "Blocks: per-block run.", box=box.SIMPLE_HEAD)
    for col in ("config", "GE", "seq", *UNIT_BLOCKS, "glue", "budget", "overhead"):
        ge.add_column(col, justify="left" if col == "config" else "right", no_wrap=True)
    for name, e in doc["configs"].items():
        blocks = e["blocks"] or {}
        by = blocks.get("by_block", {})
        ge.add_row(
            name, f"{e['ge']['total']:.1f}", f"{e['ge']['sequential']:.1f}",
            *(f"{by[b]['ge']:.1f}" if b in by else "–" for b in UNIT_BLOCKS),
            f"{blocks['glue']['ge']:.1f}" if blocks else "–",
            e["budget"]["status"],
            f"{e['overhead']['percent']:.2f}%" if host["available"] else "n/a")
    tables: list[object] = [ge]
    if any(e["timing"] for e in doc["configs"].values()):
        tim = Table(title="OSU 0.18 um cells: area and static timing (OpenSTA, typical corner)",
                    box=box.SIMPLE_HEAD)
        for col in ("config", "um²", "GE", "Fmax MHz", "group", "critical path"):
            tim.add_column(col, justify="right" if col in ("um²", "GE", "Fmax MHz") else "left",
                           no_wrap=col != "critical path")
        for name, e in doc["configs"].items():
            if not e["timing"]:
                continue
            cp = e["timing"]["critical_path"]
            tim.add_row(name, f"{e['osu018']['area_um2']:.0f}", f"{e['osu018']['ge']:.1f}",
                        f"{e['timing']['fmax_mhz']:.1f}", cp["group"],
                        f"{cp['startpoint']} → {cp['endpoint']}")
        tables.append(tim)
    if host["available"]:
        tables.extend(_core_tables(host))
    return tables


def _core_tables(host: dict[str, Any]) -> list[object]:
    """The two cores and the overhead row of the ``host_core`` part of the document."""
    from rich import box
    from rich.table import Table

    cores = Table(title=f"{host['core']}: whole core, stock and with xDecimate (same flow)",
                  box=box.SIMPLE_HEAD)
    for col in ("core", "GE", "um²", "Fmax MHz", "critical path"):
        cores.add_column(col, justify="right" if col in ("GE", "um²", "Fmax MHz") else "left",
                         no_wrap=col != "critical path")
    rows = [("stock", host["stock"]), *((f"+xdec {n}", e) for n, e in host["configs"].items())]
    if host.get("off"):
        rows.insert(1, ("xdec off", host["off"]))
    for label, e in rows:
        tim = e["timing"]
        cp = tim["critical_path"] if tim else None
        cores.add_row(label, f"{e['ge']['total']:.1f}",
                      f"{e['osu018']['area_um2']:.0f}" if e["osu018"] else "–",
                      f"{tim['fmax_mhz']:.1f}" if tim else "–",
                      f"{cp['startpoint']} → {cp['endpoint']}" if cp else "–")
    over = Table(title="Overhead row: extended core − stock core (GE: hierarchical runs, parts)",
                 box=box.SIMPLE_HEAD,
                 caption="xdec off: the noise floor (the same logic as stock). Core syntheses: "
                         f"{host['run']['syntheses']} runs, {host['run']['cached']} cached, "
                         f"{host['run']['seconds']:.0f} s.")
    parts = next((list(e["parts"]["by_part"]) for e in host["configs"].values()
                  if e["parts"] and "by_part" in e["parts"]), [])
    short = {"decompress": "dec", "side_glue": "glue", "core_side": "core side"}
    for col in ("config", "GE", "%", "flat GE", "um²", "ΔFmax MHz", "ΔFmax %",
                *(short.get(p, p) for p in parts)):
        over.add_column(col, justify="left" if col == "config" else "right", no_wrap=True)
    noise = [("xdec off", host["off"])] if host.get("off") else []
    for name, e in [*host["configs"].items(), *noise]:
        bp = e["parts"]["by_part"] if e["parts"] and name in host["configs"] else {}
        over.add_row(name, f"{e['overhead_ge']:.1f}", f"{e['overhead_pct']:.2f}%",
                     f"{e['overhead_flat_ge']:.1f}",
                     "–" if e["overhead_um2"] is None else f"{e['overhead_um2']:.0f}",
                     "–" if e["fmax_change_mhz"] is None else f"{e['fmax_change_mhz']:+.1f}",
                     "–" if e["fmax_change_pct"] is None else f"{e['fmax_change_pct']:+.2f}%",
                     *(f"{bp[n]['ge']:.1f}" if n in bp else "–" for n in parts))
    return [cores, over]


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from xdecimate.synth import area

    err = Console(stderr=True)
    names = [args.config] if args.config else None
    ensure_out_dir(args.out)  # before the long work
    try:
        doc = area.run_area(names, out=args.out, timing=not args.no_timing,
                            core=not args.no_core,
                            log=(lambda _m: None) if args.json else err.print)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        # Not a terminal (logs, pipes): rich would assume 80 columns and elide the numbers.
        out = Console() if sys.stdout.isatty() else Console(width=120)
        for table in render_table(doc):
            out.print(table)
        host = doc["host_core"]
        if host["reason"] == "skipped":
            out.print("host core: skipped (--no-core)")
        elif not host["available"]:
            out.print(f"host core: not yet available (looked for {host['provider']})")
    if args.update_budget:
        area.write_budget(doc["configs"])
        err.print(f"updated {area.BUDGET_PATH} for {sorted(doc['configs'])}")
        return 0
    bad = [c for c in area.check_budget(doc["configs"], area.load_budget(), require_all=False)
           if not c.ok]
    for c in bad:
        err.print(f"[red]budget:[/red] {c.message}")
    return 1 if bad else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("area", help="area (GE, OSU 0.18 um) and timing of the xDecimate unit "
                                    "and of CV32E40P with and without it")
    p.add_argument("--config", type=config_arg, metavar="NAME",
                   help="only this configuration (default: all)")
    p.add_argument("--json", action="store_true", help="print the JSON document on stdout")
    p.add_argument("--out", type=out_dir_arg, default="build/area", metavar="DIR",
                   help="output folder (default: %(default)s)")
    p.add_argument("--no-timing", action="store_true",
                   help="GE only: skip the OSU 0.18 um mapping and static timing")
    p.add_argument("--no-core", action="store_true",
                   help="skip the whole-core syntheses (CV32E40P with and without xDecimate)")
    p.add_argument("--update-budget", action="store_true",
                   help="write the measured GE into synth/area_budget.json (deliberately!)")
    p.set_defaults(func=_run)
