"""The per-layer cycle table (sw/approx/cycles.py) predicts whole-program cycles."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from xdecimate.sw.approx import cycles, dse
from xdecimate.sw.approx.transform import Choice

LAYER = "blk2.fc2"


@pytest.fixture(scope="module")
def table():
    with ThreadPoolExecutor(2) as ex:
        return cycles.measure_table("vit", "1:16", executor=ex, progress=False,
                                    layers=(LAYER,))


def test_table_measures_every_choice_with_the_skip_policy(table):
    assert set(table.kcycles[LAYER]) == {f"1:16@{s:g}" for s in (0, 0.125, 0.25, 0.375, 0.5)}
    assert table.kernel[LAYER]["1:16@0"] == "xdec4"   # nothing to skip in the exact model
    assert table.layer(LAYER, Choice("1:16")) == table.steps[LAYER]
    assert table.rest == table.total - table.steps[LAYER]
    # skipping half the groups is measured faster than the exact layer
    assert table.layer(LAYER, Choice("1:16", 0.5)) < table.steps[LAYER]
    with pytest.raises(KeyError, match="was not measured"):
        table.layer(LAYER, Choice("1:16", 0.75))


@pytest.mark.parametrize("skip", [0.5])
def test_prediction_equals_the_whole_program_run(table, skip):
    """The layer's step in the network and its single-layer program differ by a cost that does
    not depend on the weights: the table predicts the whole program's cycles exactly (the
    other layers' inputs change only through this layer; ViT layer norm and softmax divide,
    so a tolerance of 0.2 % is allowed there -- the MAC kernels' cycles are data-independent)."""
    cfg = {LAYER: Choice("1:16", skip)}
    res = cycles.check_prediction(table, cfg)
    assert res["predicted"] == dse.predicted_cycles(table, cfg) <= table.total
    assert res["kernels"][LAYER] == table.kernel[LAYER][f"1:16@{skip:g}"]
    assert abs(res["rel"]) < 2e-3, res
