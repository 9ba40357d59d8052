"""``make report`` section: area (GE per configuration and sub-block), OSU 0.18 um area, timing.

Writes ``<ctx.out>/area/area.json`` and ``area.md`` (same files as ``xdecimate area``) and returns
the markdown with its headings one level down.  ``ctx.quick`` measures the default configuration
only.  The overhead row comes from the whole-core syntheses of CV32E40P with and without the
extension (:mod:`xdecimate.synth.core`, :data:`xdecimate.synth.area.HOST_CORE_PROVIDER`): minutes
on a cold cache, seconds once ``build/synth-cache`` holds them.  ``ctx.figures["area"]`` is the
whole JSON document: ``["host_core"]["configs"][name]["overhead_pct"]`` and its siblings are
the headline (docs/area.md).
"""

from __future__ import annotations

from typing import Any

from xdecimate.synth import area

__all__ = ["report_section"]


def report_section(ctx: Any) -> str:
    """Run the area flow for the report context ``ctx`` and return its markdown section."""
    from xdecimate.hw.configs import DEFAULT_CONFIG

    names = [DEFAULT_CONFIG] if ctx.quick else None
    doc = area.run_area(names, out=ctx.out / "area", log=ctx.log)
    ctx.figures["area"] = doc
    host = doc["host_core"]
    for name, e in (host.get("configs") or {}).items():
        ctx.log(f"area: overhead row {name}: +{e['overhead_ge']:,.1f} GE = "
                f"{e['overhead_pct']:.2f} % of {host['core']} ({host['ge']:,.1f} GE), "
                + ("" if e["overhead_um2"] is None else f"+{e['overhead_um2']:,.0f} um^2, ")
                + ("Fmax not timed" if e["fmax_change_pct"] is None else
                   f"Fmax {e['fmax_change_mhz']:+.1f} MHz ({e['fmax_change_pct']:+.2f} %)"))
    text = area.render_markdown(doc, heading="##")
    bad = [c for c in area.check_budget(doc["configs"], area.load_budget(), require_all=False)
           if not c.ok]
    if bad:
        text += "\n**Area budget:** " + "; ".join(c.message for c in bad) + "\n"
    return text + "\nFiles: `area/area.json` (schema: docs/area.md), `area/area.md`.\n"
