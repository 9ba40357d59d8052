"""sw/approx/transform.py: choices, reachability, re-pruning + skipping, and their errors."""

import numpy as np
import pytest
from xdecimate.sw.approx import significance as sg
from xdecimate.sw.approx import transform as tr
from xdecimate.sw.approx.transform import Choice
from xdecimate.sw.model.nm_format import Pattern, is_nm
from xdecimate.sw.train import config, shipped

LAYERS = config.SPARSE_LAYERS["cnn"]


@pytest.fixture(scope="module")
def calib():
    return shipped.calibration_images()[:16]


@pytest.fixture(scope="module", params=[None, "1:8"])
def model(request, calib):
    g = shipped.int8_graph("cnn", request.param, calib)
    return request.param, g, sg.Significance(g, calib, (*LAYERS, "stem"))


def test_reachable_patterns():
    assert tr.reachable(None) == (None, "1:4", "2:8", "1:8", "2:16", "1:16")
    assert tr.reachable("1:4") == ("1:4", "1:8", "2:16", "1:16")
    assert tr.reachable("2:8") == ("2:8", "1:8", "2:16", "1:16")
    assert tr.reachable("1:8") == ("1:8", "1:16")
    assert tr.reachable("2:16") == ("2:16", "1:16")
    assert tr.reachable("1:16") == ("1:16",)


def test_choices():
    assert tr.choices("1:16") == tuple(Choice("1:16", s) for s in tr.SKIPS)
    dense = tr.choices(None)
    assert dense[:len(tr.SKIPS)] == tuple(Choice(None, s) for s in tr.SKIPS)  # dense skips units
    assert len(dense) == 6 * len(tr.SKIPS)


@pytest.mark.parametrize(("args", "exc", "words"), [
    (("3:8", 0.0), ValueError, "Choice pattern must be None (dense) or one of"),
    (("1:8", 1.0), ValueError, "Choice skip must be in [0, 1), not 1.0"),
    (("1:8", -0.125), ValueError, "Choice skip must be in [0, 1)"),
    (("1:8", True), TypeError, "Choice skip must be a real number, not bool"),
])
def test_choice_rejects(args, exc, words):
    with pytest.raises(exc, match=words.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[")):
        Choice(*args)


def test_choice_json_round_trip():
    c = Choice("2:16", 0.375)
    assert Choice.from_json(c.to_json()) == c
    assert c.to_json() == ["2:16", 0.375]


def test_n_skipped_rounds_half_up():
    assert [tr.n_skipped(s, 12) for s in tr.SKIPS] == [0, 2, 3, 5, 6]
    assert tr.n_skipped(0.125, 20) == 3
    assert tr.n_skipped(0.125, 3) == 0


def test_skip_groups_by_hand():
    w = np.ones((2, 8), np.int8)
    gsig = np.array([[0.3, 0.1], [0.1, 0.9]])
    got = tr.skip_groups(w, gsig, 4, 0.5)         # 2 of 4: the two 0.1s, (0, 1) and (1, 0)
    assert np.array_equal(got, [[1] * 4 + [0] * 4, [0] * 4 + [1] * 4])
    assert np.array_equal(tr.skip_groups(w, gsig, 4, 0.25), [[1] * 4 + [0] * 4, [1] * 8])
    w[0, :4] = 0                                 # G = 3: the zero group is not counted
    assert np.array_equal(tr.skip_groups(w, gsig, 4, 0.375), [[0] * 8, [1] * 8])   # 1.125 -> 1
    assert np.array_equal(tr.skip_groups(w, gsig, 4, 0.5), [[0] * 8, [0] * 4 + [1] * 4])


def _groups(w, pattern):
    return int(tr.nonzero_groups(w.reshape(w.shape[0], -1), sg.span(pattern)).sum())


@pytest.mark.parametrize("choice", [Choice("1:16", 0.25), Choice("1:8", 0.5),
                                    Choice("1:16", 0.125)])
def test_apply_reprunes_and_skips_exactly(model, choice):
    _base, g, sig = model
    before = {n: g.node(n).params["w"].copy() for n in LAYERS}
    cfg = {LAYERS[0]: choice, LAYERS[3]: choice}
    out = tr.apply(g, cfg, sig)
    out.validate()
    for name in LAYERS:
        assert np.array_equal(g.node(name).params["w"], before[name])   # input untouched
        w = out.node(name).params["w"]
        if name not in cfg:
            assert np.array_equal(w, before[name])
            continue
        assert out.node(name).pattern == Pattern.parse(choice.pattern)
        assert is_nm(w.reshape(w.shape[0], -1), Pattern.parse(choice.pattern))
        rep = sig.reprune(name, choice.pattern)
        big = _groups(rep, choice.pattern)
        assert big - _groups(w, choice.pattern) == tr.n_skipped(choice.skip, big)
        kept = w.reshape(w.shape[0], -1) != 0    # skipping only zeroes re-pruned weights
        assert np.array_equal(w.reshape(w.shape[0], -1)[kept], rep[kept])


def test_apply_identity(model):
    base, g, sig = model
    out = tr.apply(g, {n: Choice(base, 0.0) for n in LAYERS}, sig)
    for a, b in zip(g.nodes, out.nodes, strict=True):
        if "w" in a.params:
            assert np.array_equal(a.params["w"], b.params["w"])
        assert a.pattern == b.pattern


def test_apply_dense_to_sparse_keeps_most_significant(calib):
    g = shipped.int8_graph("cnn", None, calib)
    sig = sg.Significance(g, calib, LAYERS[:1])
    out = tr.apply(g, {LAYERS[0]: Choice("1:8", 0.0)}, sig)
    w = out.node(LAYERS[0]).params["w"].reshape(16, -1)
    elem = sig.element(LAYERS[0])
    for r in range(w.shape[0]):
        for b in range(w.shape[1] // 8):
            blk = slice(8 * b, 8 * b + 8)
            nz = np.flatnonzero(w[r, blk])
            assert len(nz) <= 1
            if len(nz):
                assert nz[0] == int(np.argmax(np.where(sig.weights(LAYERS[0])[r, blk] != 0,
                                                       elem[r, blk], -1)))


def test_skip_units_by_hand():
    w = np.arange(1, 9 * 10 + 1, dtype=np.int64).reshape(9, 10).astype(np.int8)
    w[0:4, 8:10] = 0                                        # quad 0, word 2: already zero
    usig = np.array([[3.0, 1.0, 0.0], [2.0, 0.5, 4.0]])     # (2 quads, 3 words)
    out = tr.skip_units(w, usig, 0.5)                       # 5 non-zero units -> 3 skipped
    zero = [(q, j) for q in range(2) for j in range(3)
            if not out[4 * q:4 * q + 4, 4 * j:4 * j + 4].any()]
    assert zero == [(0, 1), (0, 2), (1, 0), (1, 1)]          # + the zero one; (0, 0), (1, 2) kept
    assert np.array_equal(out[8], w[8])                      # the leftover row never skips
    with pytest.raises(ValueError, match="unit significance has shape"):
        tr.skip_units(w, usig[:1], 0.5)


def test_apply_dense_skip_zeroes_units_of_lowest_significance(calib):
    g = shipped.int8_graph("cnn", None, calib)
    sig = sg.Significance(g, calib, LAYERS[:1])
    out = tr.apply(g, {LAYERS[0]: Choice(None, 0.25)}, sig)
    assert out.node(LAYERS[0]).pattern is None
    w = out.node(LAYERS[0]).params["w"].reshape(16, -1)
    units = (w.reshape(4, 4, -1, 4) == 0).all(axis=(1, 3))
    assert units.sum() == tr.n_skipped(0.25, units.size)
    u = sig.units(LAYERS[0])
    assert u[units].max() <= u[~units].min()


def test_apply_errors(model):
    base, g, sig = model
    with pytest.raises(ValueError, match="unknown layer 'nope': graph"):
        tr.apply(g, {"nope": Choice("1:16")}, sig)
    with pytest.raises(ValueError, match="unknown layer 'pool': a maxpool"):
        tr.apply(g, {"pool": Choice("1:16")}, sig)
    with pytest.raises(ValueError, match=r"unknown layer 'b2\.down': the significance covers"):
        tr.apply(g, {"b2.down": Choice("1:16")}, sig)
    with pytest.raises(TypeError, match=r"config\['b1.conv1'\] must be a Choice, not list"):
        tr.apply(g, {"b1.conv1": ["1:16", 0.0]}, sig)
    with pytest.raises(TypeError, match="config must be a dict"):
        tr.apply(g, [("b1.conv1", Choice())], sig)
    if base == "1:8":
        with pytest.raises(ValueError, match=r"layer 'b1.conv1': pattern 1:4 is not reachable "
                                             r"from the trained 1:8; reachable: \['1:8', '1:16'\]"):
            tr.apply(g, {"b1.conv1": Choice("1:4")}, sig)
        with pytest.raises(ValueError, match="pattern dense is not reachable"):
            tr.apply(g, {"b1.conv1": Choice(None)}, sig)
    else:
        with pytest.raises(ValueError, match=r"layer 'stem': Cin = 1 is not a multiple of 4"):
            tr.apply(g, {"stem": Choice("1:8")}, sig)


def test_apply_rejects_a_significance_of_another_model(calib):
    g8 = shipped.int8_graph("cnn", "1:8", calib)
    g16 = shipped.int8_graph("cnn", "1:16", calib)
    sig = sg.Significance(g16, calib[:2], LAYERS[:1])
    with pytest.raises(ValueError, match="measured on other weights"):
        tr.apply(g8, {LAYERS[0]: Choice("1:16")}, sig)


def test_apply_drops_the_golden_models_cached_image(model):
    """golden.nm_image caches the compressed image in the node; a copy made after a golden run
    must not carry the old weights' image (it did: the on-core check caught it)."""
    from xdecimate.sw.net import golden

    _, g, sig = model
    x = np.ascontiguousarray(shipped.calibration_images()[0][:, :, None])
    golden.run(g, x)                                   # fills the cache of g's N:M nodes
    cfg = {n: Choice("1:16", 0.5) for n in LAYERS}
    out = tr.apply(g, cfg, sig)
    fresh = tr.apply(g, cfg, sig)
    for n in LAYERS:
        fresh.node(n).params.pop("image", None)
    assert all("image" not in out.node(n).params for n in LAYERS)
    assert np.array_equal(golden.run_output(out, x), golden.run_output(fresh, x))

