"""xdecimate.synth: area and timing of the hardware.

``flow`` (Yosys onto a liberty), ``sta`` (OpenSTA), ``area`` (per-configuration figures, JSON,
budget), ``report`` (the ``make report`` section).  See docs/area.md.
"""
