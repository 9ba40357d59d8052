"""IR validation errors, and the golden model against the sw.model kernels and float."""

import math

import numpy as np
import pytest
from xdecimate.sw.model.kernels import conv2d_dense, conv2d_sparse, fc_dense, fc_sparse
from xdecimate.sw.model.nm_format import Pattern, footprint
from xdecimate.sw.model.quant import Requant, requantize
from xdecimate.sw.net import golden, ir
from xdecimate.sw.net.floatref import run_float
from xdecimate.sw.net.ir import Builder, QParams
from xdecimate.sw.net.quantize import quantize
from xdecimate.sw.net.sparsify import select_layers, sparsify

RNG = np.random.default_rng(2)


def small_cnn(pattern=None):
    b = Builder("small", (8, 8, 3))
    x = b.conv("input", RNG.normal(0, 0.4, (16, 3, 3, 3)), RNG.normal(0, 0.1, 16), pad=1,
               relu=True, name="c1")
    x = b.maxpool(x, 2, 2, name="mp")
    h = b.conv(x, RNG.normal(0, 0.2, (16, 3, 3, 16)), RNG.normal(0, 0.1, 16), pad=1,
               name="c2")
    x = b.add(h, x, relu=True, name="res")
    x = b.avgpool(x, 2, 2, name="ap")
    x = b.gap(x, name="gap")
    x = b.reshape(x, (16,), name="flat")
    x = b.linear(x, RNG.normal(0, 0.3, (10, 16)), RNG.normal(0, 0.1, 10), name="fc")
    g = b.finish(x)
    return sparsify(g, pattern, "3x3-convs") if pattern else g


# -- IR validation ------------------------------------------------------------------------

def test_qparams_validation():
    with pytest.raises(ValueError, match="scale must be a finite number > 0, not 0"):
        QParams(0.0)
    with pytest.raises(ValueError, match=r"zero_point must be in 0..255 \(uint8\), not 256"):
        QParams(1.0, 256)
    with pytest.raises(TypeError, match="zero_point must be an integer"):
        QParams(1.0, 1.5)


def test_builder_rejects_bad_shapes():
    b = Builder("bad", (8, 8, 3))
    with pytest.raises(ValueError, match=r"node 'c' \(conv\): weights must be \(Cout, kh, kw, "
                                         r"Cin=3\)"):
        b.conv("input", np.zeros((4, 3, 3, 5)), name="c")
    with pytest.raises(ValueError, match=r"node 'r' \(reshape\): cannot reshape"):
        b.reshape("input", (7,), name="r")
    with pytest.raises(ValueError, match="input 'nope' is not defined"):
        b.relu("nope")
    with pytest.raises(ValueError, match="not a permutation"):
        b.transpose("input", (0, 0, 1))


def test_graph_validation_errors():
    g = quantize(small_cnn(), RNG.normal(0, 1, (2, 8, 8, 3)))
    g.validate()
    n = g.node("c1")
    n.params["w"] = n.params["w"].astype(np.int16)
    with pytest.raises(TypeError, match="weights must be int8"):
        g.validate()
    g = quantize(small_cnn(), RNG.normal(0, 1, (2, 8, 8, 3)))
    g.node("c1").op = "conv3d"
    with pytest.raises(ValueError, match=r"node 'c1' \(conv3d\): unknown op"):
        g.validate()
    g = quantize(small_cnn(), RNG.normal(0, 1, (2, 8, 8, 3)))
    g.qparams["c1"] = QParams(0.1, 3)  # folded ReLU with zero point 3
    with pytest.raises(ValueError, match="folded ReLU needs output zero point 0, not 3"):
        g.validate()
    g = quantize(small_cnn(), RNG.normal(0, 1, (2, 8, 8, 3)))
    g.qparams["mp"] = QParams(0.5, 0)
    with pytest.raises(ValueError, match=r"node 'mp' \(maxpool\): output QParams .* must "
                                         "equal the input's"):
        g.validate()
    g = quantize(small_cnn("1:4"), RNG.normal(0, 1, (2, 8, 8, 3)))
    g.node("c2").params["w"][:, 0, 0, :4] = 1  # four non-zeros in one block of 4
    with pytest.raises(ValueError, match=r"node 'c2' \(conv\): weights are not 1:4-sparse"):
        g.validate()
    g = quantize(small_cnn(), RNG.normal(0, 1, (2, 8, 8, 3)))
    g.nodes[1].inputs = ("later",)
    with pytest.raises(ValueError, match="input 'later' is not defined before it is used"):
        g.validate()


def test_matmul_b_operand_needs_zero_point_128():
    b = Builder("mm", (4, 8))
    k = b.linear("input", RNG.normal(0, 0.3, (8, 8)), name="k")
    s = b.matmul("input", k, transpose_b=True, name="s")
    g = quantize(b.finish(s), RNG.normal(0, 1, (2, 4, 8)))
    assert g.qparams["k"].zero_point == 128
    g.qparams["k"] = QParams(g.qparams["k"].scale, 100)
    with pytest.raises(ValueError, match="operand b 'k' must have zero point 128"):
        g.validate()


def test_golden_rejects_bad_input():
    g = quantize(small_cnn(), RNG.normal(0, 1, (2, 8, 8, 3)))
    with pytest.raises(TypeError, match="uint8"):
        golden.run(g, np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match=r"shape \(8, 8, 3\), not \(8, 8\)"):
        golden.run(g, np.zeros((8, 8), np.uint8))
    with pytest.raises(TypeError, match="float graph"):
        golden.run(small_cnn(), np.zeros((8, 8, 3), np.uint8))


# -- golden model ---------------------------------------------------------------------------

@pytest.mark.parametrize("pattern", [None, "1:4", "1:8"])
def test_golden_layers_equal_the_model_kernels(pattern):
    """Each conv / linear output equals the sw.model kernel on the same int inputs, bit for
    bit -- the N:M ones through the compressed image walked by fc_sparse (xdec.lb)."""
    g = quantize(small_cnn(pattern), RNG.normal(0, 1, (3, 8, 8, 3)))
    x = g.qparams[g.input].quantize(RNG.normal(0, 1, (8, 8, 3)))
    env = golden.run(g, x)
    dense = golden.run(g, x, sparse="dense")
    assert all((dense[k] == v).all() for k, v in env.items())
    for n in g.nodes:
        xin = env[n.inputs[0]]
        p = n.params
        if n.op == "conv":
            pad = n.attrs["pad"]
            zx = g.qparams[n.inputs[0]].zero_point
            if zx and pad:
                xin = np.pad(xin, ((pad, pad), (pad, pad), (0, 0)), constant_values=zx)
                pad = 0
            if n.pattern is not None:
                kh, kw = p["w"].shape[1:3]
                want = conv2d_sparse(xin, golden.nm_image(n), kh, kw, p["bias"], p["rq"],
                                     stride=n.attrs["stride"], pad=pad)
            else:
                want = conv2d_dense(xin, p["w"], p["bias"], p["rq"], stride=n.attrs["stride"],
                                    pad=pad)
            assert (env[n.output] == want).all(), n.name
        elif n.op == "linear":
            f = fc_sparse if n.pattern is not None else fc_dense
            w = golden.nm_image(n) if n.pattern is not None else p["w"]
            assert (env[n.output] == f(xin, w, p["bias"], p["rq"]).reshape(-1)).all()


def test_golden_tracks_float_within_quantization_error():
    fg = small_cnn()
    calib = RNG.normal(0, 1, (8, 8, 8, 3))
    g = quantize(fg, calib)
    for x in calib[:3]:
        ref = run_float(fg, x)["fc"]
        got = g.qparams["fc"].dequantize(golden.run_output(g, g.qparams["input"].quantize(x)))
        span = ref.max() - ref.min()
        assert np.abs(got - ref).max() <= 0.1 * span, (got, ref)


def test_input_zero_point_folds_into_bias_and_pads_with_it():
    """Asymmetric input (zero point ≠ 0) into a padded conv: real zero is code zx."""
    b = Builder("zp", (5, 5, 2))
    y = b.conv("input", RNG.normal(0, 0.5, (4, 3, 3, 2)), None, pad=1, name="c")
    fg = b.finish(y)
    calib = RNG.normal(0.5, 1, (4, 5, 5, 2))
    g = quantize(fg, calib)
    zx = g.qparams["input"].zero_point
    assert zx not in (0, 255)
    x = calib[0]
    got = g.qparams["c"].dequantize(golden.run_output(g, g.qparams["input"].quantize(x)))
    ref = run_float(fg, x)["c"]
    assert np.abs(got - ref).max() <= 3 * g.qparams["c"].scale + 0.05 * np.abs(ref).max()


def test_requant_zero_point_default_changes_nothing():
    acc = RNG.integers(-20000, 20000, 1000).astype(np.int32)
    assert (requantize(acc, Requant(3, 10)) == requantize(acc, Requant(3, 10, 0))).all()
    y = requantize(acc, Requant(3, 10, 100))
    t = (acc.astype(np.int64) * 3 + 512) >> 10
    assert (y == np.clip(t + 100, 0, 255)).all()


# -- sparsify, MACs, bytes ------------------------------------------------------------------

def test_sparsify_rules_and_errors():
    g = small_cnn()
    assert select_layers(g, "3x3-convs") == ["c1", "c2"]
    assert select_layers(g, ["fc"]) == ["fc"]
    with pytest.raises(ValueError, match="unknown layer rule 'convs'"):
        sparsify(g, "1:8", "convs")
    with pytest.raises(ValueError, match="no layer 'zz'"):
        sparsify(g, "1:8", ["zz"])
    with pytest.raises(ValueError, match="layer 'mp' is a maxpool"):
        sparsify(g, "1:8", ["mp"])
    with pytest.raises(ValueError, match="N:M pattern must be one of"):
        sparsify(g, "3:8", "3x3-convs")


def test_mac_counts_and_weight_bytes():
    g = small_cnn("1:8")
    st = {s.name: s for s in ir.layer_stats(g)}
    assert st["c1"].macs == 8 * 8 * 16 * 27
    assert st["c2"].macs == 4 * 4 * 16 * 144
    assert st["c2"].macs_executed == st["c2"].macs // 8
    assert st["fc"].macs == 160
    assert st["c2"].weight_bytes == 16 * 144
    assert st["c2"].stored_bytes == footprint(16, 144, Pattern(1, 8)).sparse_bytes
    assert st["fc"].stored_bytes == st["fc"].weight_bytes == 160
    t = ir.totals(g)
    assert t["macs"] == sum(s.macs for s in st.values())
    assert math.isclose(t["weight_ratio"], t["weight_bytes"] / t["stored_bytes"])
