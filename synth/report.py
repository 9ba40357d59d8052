"""``make report`` section: area (GE per configuration and sub-block), OSU 0.18 um area, timing.

Writes ``<ctx.out>/area/area.json`` and ``area.md`` (same files as ``xdecimate area``) and returns
the markdown with its headings one level down.  ``ctx.quick`` measures the default configuration
only.  The overhead row on the host core fills in by itself once a host core is registered
(:data:`xdecimate.synth.area.HOST_CORE_PROVIDER`); until then it reads "host core: not yet
available".
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
    text = area.render_markdown(doc, heading="##")
    bad = [c for c in area.check_budget(doc["configs"], area.load_budget(), require_all=False)
           if not c.ok]
    if bad:
        text += "\n**Area budget:** " + "; ".join(c.message for c in bad) + "\n"
    return text + "\nFiles: `area/area.json` (schema: docs/area.md), `area/area.md`.\n"
