"""Formal proofs that the Amaranth xDecimate blocks equal the spec, for every input and state.

* :mod:`.model` -- the spec restated as Amaranth expressions (from ``sw/model/xdec_spec.py``).
* :mod:`.harness` -- one harness per block: the RTL, the model, named properties.
* :mod:`.probe` -- internal signals and planted mutations, without editing ``hw/``.
* :mod:`.mutations` -- the planted bugs each proof must reject.
* :mod:`.runner` -- runs one proof through SymbiYosys (``yowasp-sby``, Yices from PyPI).
* :mod:`.proofs` -- the catalogue: every proof per named configuration, method and depth.
* :mod:`.report` -- the ``make report`` section.

See ``docs/formal.md``.  May import ``xdecimate.hw`` and ``xdecimate.sw.model`` (the layer of
``xdecimate.synth``).
"""
