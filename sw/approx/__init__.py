"""Approximate N:M kernels and their design-space exploration (issue 17, ``docs/approx.md``).

What it is for: the second seed paper (Armeniakos, Mentzos, Soudris, *Accelerating TinyML
Inference on Microcontrollers through Approximate Kernels*, arXiv 2409.16815) skips the
weight x input products that matter least, ranked offline by their *significance* over
calibration images, and searches per-layer thresholds for a latency / accuracy Pareto front.
This package brings it to the N:M stack, where the unit of skipping is one *group* of 4 non-zero
slots of one row (one iteration of the xDecimate inner loop):

* :mod:`.significance` -- the significance of every group and of every weight of a layer,
  measured with the batched golden model on calibration images;
* :mod:`.transform` -- one layer's :class:`~.transform.Choice` (an N:M pattern at least as
  sparse as the trained one, and a ratio of its groups to skip) and :func:`~.transform.apply`,
  which turns a trained graph into the approximate one (the zeroed groups are exactly what the
  ``xdec4_skip`` kernel skips, so the golden model of the result is bit-exact with the core);
* :mod:`.dse` -- accuracy of a configuration as a pure function (for any
  ``concurrent.futures`` executor), the greedy search, the Pareto front, its re-measurement on
  the whole test split, JSON, markdown and a plot.

May import: numpy, matplotlib, rich, the standard library, :mod:`xdecimate.sw.train` and every
package below it.
"""
