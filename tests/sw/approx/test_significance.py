"""sw/approx/significance.py: the group and element significance, by hand and on a shipped model."""

import numpy as np
import pytest
from xdecimate.sw.approx import significance as sg
from xdecimate.sw.model.quant import requantize
from xdecimate.sw.train import config, evaluate, shipped


@pytest.fixture(scope="module")
def cnn():
    calib = shipped.calibration_images()[:16]
    return shipped.int8_graph("cnn", "1:8", calib), calib


def test_span_of_every_pattern():
    assert {p: sg.span(p) for p in config.PATTERNS} == \
        {"1:4": 16, "1:8": 32, "1:16": 64, "2:8": 16, "2:16": 32}


def test_group_significance_by_hand():
    # one row, K = 8, two groups of 4 columns; zx = 10; x - zx per sample:
    w = np.array([[1, 0, 0, 0, 2, 0, 0, 0]], np.int8)
    d = np.array([[1, 0, 0, 0, 1, 0, 0, 0], [-1, 5, 0, 0, 1, 0, 0, 0]])
    cols = (d + 10).astype(np.uint8)
    # partials: (1, 2) then (-1, 2); totals 3 and 1: E|part| = (1, 2), E|total| = 2
    assert np.array_equal(sg.group_significance(w, cols, 10, 4), [[0.5, 1.0]])
    # element: |w| E|x - zx| / E|total| = (1·1, 0·2.5, 0, 0, 2·1, 0, 0, 0) / 2
    assert np.array_equal(sg.element_significance(w, cols, 10),
                          [[0.5, 0, 0, 0, 1.0, 0, 0, 0]])


def test_group_significance_pads_k_and_survives_a_zero_total():
    w = np.array([[1, -1, 0, 0, 0, 0]], np.int8)          # K = 6, span 4: groups of 4 and 2
    cols = np.full((3, 6), 7, np.uint8)
    cols[:, 0] = cols[:, 1] = 9                             # partial 2 - 2 = 0, total 0
    assert np.array_equal(sg.group_significance(w, cols, 7, 4), [[0.0, 0.0]])


def test_reprune_keeps_the_most_significant_existing_nonzeros():
    w = np.array([[3, 0, -2, 5, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]], np.int8)
    elem = np.array([[0.1, 9.0, 0.4, 0.2, 0, 0, 0, 0, 0.3, 0.3, 0, 0, 0, 0, 0, 0]])
    got = sg.reprune(w, elem, "1:8")
    # block 0: column 1 is zero (its 9.0 does not count), -2 has the highest; block 1: a tie,
    # the lower column wins
    assert np.array_equal(got, [[0, 0, -2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]])
    assert np.array_equal(sg.reprune(w, elem, "2:8"),
                          [[0, 0, -2, 5, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]])


def test_layer_columns_are_what_the_layer_multiplies(cnn):
    g, calib = cnn
    node = g.node("b2.conv1")                               # stride 2, pad 1
    cols, zx = sg.layer_columns(g, calib[:4], "b2.conv1")
    assert zx == g.qparams[node.inputs[0]].zero_point
    w = node.params["w"].reshape(node.params["w"].shape[0], -1).astype(np.int64)
    acc = cols.astype(np.int64) @ w.T + node.params["bias"]
    got = requantize(acc.astype(np.int32), node.params["rq"])
    from dataclasses import replace
    sub = replace(g, nodes=g.nodes[:g.nodes.index(node) + 1], output=node.output, shapes={})
    want = evaluate.run_batch(sub, np.ascontiguousarray(calib[:4, :, :, None]))
    assert np.array_equal(got, want.reshape(-1, want.shape[-1]))


def test_significance_shapes_and_determinism(cnn):
    g, calib = cnn
    layers = config.SPARSE_LAYERS["cnn"]
    a, b = sg.Significance(g, calib, layers), sg.Significance(g, calib, layers)
    for name in layers:
        w = g.node(name).params["w"]
        rows, k = w.shape[0], w[0].size
        for p in ("1:8", "1:16"):
            ga = a.groups(name, p)
            assert ga.shape == (rows, -(-k // sg.span(p)))
            assert np.array_equal(ga, b.groups(name, p))
            assert not ga.flags.writeable
            assert (ga >= 0).all()
        assert a.element(name).shape == (rows, k)
        assert a.reprune(name, "1:8") is a.weights(name)    # the trained pattern: unchanged


def test_significance_errors(cnn):
    g, calib = cnn
    with pytest.raises(ValueError, match="is a maxpool, not a conv or linear layer"):
        sg.Significance(g, calib, ["pool"])
    sig = sg.Significance(g, calib[:2], ["b1.conv1"])
    with pytest.raises(KeyError, match=r"no significance for layer 'b1\.conv2'"):
        sig.element("b1.conv2")
    with pytest.raises(ValueError, match="max_images must be a positive int"):
        sg.Significance(g, calib, ["b1.conv1"], max_images=0)
