"""ONNX import of small models built here with onnx.helper, against onnx's reference runtime."""

import math

import numpy as np
import onnx
import pytest
from onnx import TensorProto
from onnx import helper as oh
from onnx import numpy_helper as nh
from onnx.reference import ReferenceEvaluator
from xdecimate.sw.net import golden
from xdecimate.sw.net.onnx_import import import_onnx, onnx_to_float, to_ir_layout

RNG = np.random.default_rng(3)


def f32(name, a):
    return nh.from_array(np.asarray(a, np.float32), name)


def model(nodes, inits, x_shape, y_shape, opset=17):
    g = oh.make_graph(nodes, "t", [oh.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                      [oh.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)], inits)
    m = oh.make_model(g, opset_imports=[oh.make_opsetid("", opset)])
    onnx.checker.check_model(m)
    return m


def cnn(conv_attrs=None):
    inits = [f32("w1", RNG.normal(0, .3, (8, 3, 3, 3))), f32("b1", RNG.normal(0, .1, 8)),
             f32("w2", RNG.normal(0, .2, (8, 8, 3, 3))), f32("b2", RNG.normal(0, .1, 8)),
             f32("wf", RNG.normal(0, .2, (8, 5))), f32("bf", RNG.normal(0, .1, 5))]
    nodes = [oh.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1] * 4, name="conv1",
                          **(conv_attrs or {})),
             oh.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             oh.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2],
                          name="pool1"),
             oh.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1] * 4, name="conv2"),
             oh.make_node("Add", ["c2", "p1"], ["a1"], name="add1"),
             oh.make_node("Relu", ["a1"], ["r2"], name="relu2"),
             oh.make_node("AveragePool", ["r2"], ["ap"], kernel_shape=[2, 2], strides=[2, 2],
                          name="avg"),
             oh.make_node("GlobalAveragePool", ["ap"], ["g"], name="gap"),
             oh.make_node("Flatten", ["g"], ["f"], name="flat"),
             oh.make_node("Gemm", ["f", "wf", "bf"], ["y"], name="fc")]
    return model(nodes, inits, [1, 3, 8, 8], [1, 5])


def run_both(m, q, x):
    ref = ReferenceEvaluator(m).run(None, {"x": x.astype(np.float32)})[0][0]
    xi = q.qparams[q.input].quantize(to_ir_layout(x[0], q))
    got = q.qparams[q.output].dequantize(golden.run_output(q, xi))
    return ref, got


def test_float_cnn_imports_and_tracks_onnx_reference():
    m = cnn()
    calib = RNG.normal(0, 1, (6, 3, 8, 8))
    q = import_onnx(m, calib)
    ops = [(n.name, n.op, n.attrs.get("relu")) for n in q.nodes]
    assert ops == [("conv1", "conv", True), ("pool1", "maxpool", None),
                   ("conv2", "conv", False), ("add1", "add", True), ("avg", "avgpool", None),
                   ("gap", "gap", None), ("flat", "reshape", None), ("fc", "linear", False)]
    for x in calib[:3]:
        ref, got = run_both(m, q, x[None])
        assert np.abs(ref - got).max() <= 0.05 * np.abs(ref).max() + 2 * q.qparams["fc"].scale


def test_flatten_of_a_spatial_map_keeps_onnx_order():
    """Flatten of (1, C, H, W) with H·W > 1 is C-major in ONNX: the importer transposes."""
    w = RNG.normal(0, .3, (4, 2, 3, 3))
    wf = RNG.normal(0, .3, (4 * 3 * 3, 3))
    nodes = [oh.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             oh.make_node("Flatten", ["c"], ["f"], name="flat"),
             oh.make_node("MatMul", ["f", "wf"], ["y"], name="mm")]
    m = model(nodes, [f32("w", w), f32("wf", wf)], [1, 2, 5, 5], [1, 3])
    calib = RNG.normal(0, 1, (4, 2, 5, 5))
    q = import_onnx(m, calib)
    assert [n.op for n in q.nodes] == ["conv", "transpose", "reshape", "linear"]
    ref, got = run_both(m, q, calib[:1])
    assert np.abs(ref - got).max() <= 0.05 * np.abs(ref).max()


def transformer_block(gelu_as_erf: bool):
    """Pre-norm block, T = 5 tokens, d = 8, 2 heads, MLP 16: LayerNorm, MatMul (+Add bias),
    Reshape/Transpose heads, MatMul act x act, Mul scale, Softmax, GELU, residual Adds."""
    t, d, h, dh, mlp = 5, 8, 2, 4, 16
    W = {n: RNG.normal(0, 1 / math.sqrt(k), s) for n, k, s in
         [("wq", d, (d, d)), ("wk", d, (d, d)), ("wv", d, (d, d)), ("wo", d, (d, d)),
          ("w1", d, (d, mlp)), ("w2", mlp, (mlp, d))]}
    inits = [f32(k, v) for k, v in W.items()] + [
        f32("g1", RNG.normal(1, .1, d)), f32("be1", RNG.normal(0, .1, d)),
        f32("g2", RNG.normal(1, .1, d)), f32("be2", RNG.normal(0, .1, d)),
        f32("b1", RNG.normal(0, .1, mlp)),
        nh.from_array(np.array([1, t, h, dh], np.int64), "hs"),
        nh.from_array(np.array([1, t, d], np.int64), "ts"),
        f32("sc", 1 / math.sqrt(dh)), f32("sqrt2", math.sqrt(2)), f32("one", 1.0),
        f32("half", 0.5)]
    nodes = [oh.make_node("LayerNormalization", ["x", "g1", "be1"], ["l1"], name="ln1")]
    for nm in "qkv":
        nodes += [oh.make_node("MatMul", ["l1", "w" + nm], [nm], name=nm),
                  oh.make_node("Reshape", [nm, "hs"], [nm + "r"], name=nm + "_r")]
    nodes += [oh.make_node("Transpose", ["qr"], ["qt"], perm=[0, 2, 1, 3], name="q_t"),
              oh.make_node("Transpose", ["kr"], ["kt"], perm=[0, 2, 3, 1], name="k_t"),
              oh.make_node("Transpose", ["vr"], ["vt"], perm=[0, 2, 1, 3], name="v_t"),
              oh.make_node("MatMul", ["qt", "kt"], ["s"], name="scores"),
              oh.make_node("Mul", ["s", "sc"], ["ss"], name="scale"),
              oh.make_node("Softmax", ["ss"], ["p"], axis=-1, name="softmax"),
              oh.make_node("MatMul", ["p", "vt"], ["o"], name="attn"),
              oh.make_node("Transpose", ["o"], ["ot"], perm=[0, 2, 1, 3], name="o_t"),
              oh.make_node("Reshape", ["ot", "ts"], ["om"], name="merge"),
              oh.make_node("MatMul", ["om", "wo"], ["pr"], name="proj"),
              oh.make_node("Add", ["x", "pr"], ["x1"], name="res1"),
              oh.make_node("LayerNormalization", ["x1", "g2", "be2"], ["l2"], name="ln2"),
              oh.make_node("MatMul", ["l2", "w1"], ["f1m"], name="fc1"),
              oh.make_node("Add", ["f1m", "b1"], ["f1"], name="fc1_bias")]
    if gelu_as_erf:
        nodes += [oh.make_node("Div", ["f1", "sqrt2"], ["gd"], name="gelu_div"),
                  oh.make_node("Erf", ["gd"], ["ge"], name="gelu_erf"),
                  oh.make_node("Add", ["ge", "one"], ["ga"], name="gelu_add"),
                  oh.make_node("Mul", ["f1", "ga"], ["gm"], name="gelu_mul"),
                  oh.make_node("Mul", ["gm", "half"], ["gl"], name="gelu_half")]
    else:
        nodes += [oh.make_node("Gelu", ["f1"], ["gl"], name="gelu")]
    nodes += [oh.make_node("MatMul", ["gl", "w2"], ["f2"], name="fc2"),
              oh.make_node("Add", ["x1", "f2"], ["y"], name="res2")]
    return model(nodes, inits, [1, t, d], [1, t, d], opset=20)


@pytest.mark.parametrize("gelu_as_erf", [False, True])
def test_transformer_block_imports_and_tracks_onnx_reference(gelu_as_erf):
    m = transformer_block(gelu_as_erf)
    calib = RNG.normal(0, 1, (8, 5, 8))
    q = import_onnx(m, calib)
    ops = [n.op for n in q.nodes]
    assert ops.count("matmul") == 2
    assert ops.count("softmax") == 1
    assert ops.count("gelu") == 1
    assert q.node("fc1").params["bias"].any()  # MatMul + Add(bias) became one linear
    assert q.qparams["k_t"].zero_point == 128
    assert q.qparams["v_t"].zero_point == 128
    for x in calib[:3]:
        ref, got = run_both(m, q, x[None])
        assert np.abs(ref - got).max() <= 0.08 * np.abs(ref).max(), np.abs(ref - got).max()


def qdq_model():
    """Q/DQ around a conv + relu and a Gemm, int8 symmetric weights, uint8 activations."""
    w = RNG.integers(-127, 128, (4, 2, 3, 3)).astype(np.int8)
    wf = RNG.integers(-127, 128, (3, 4 * 2 * 2)).astype(np.int8)
    sw, swf = 0.01, 0.02
    sx, sr, sy = 0.02, 0.05, 0.1
    inits = [nh.from_array(w, "wq"), f32("sw", sw), nh.from_array(np.int8(0), "zw"),
             nh.from_array(wf, "wfq"), f32("swf", swf),
             f32("sx", sx), nh.from_array(np.uint8(128), "zx"),
             f32("sr", sr), nh.from_array(np.uint8(0), "zr"),
             f32("sy", sy), nh.from_array(np.int8(0), "zy"),
             f32("b", RNG.normal(0, .1, 4)), f32("bf", RNG.normal(0, .1, 3)),
             nh.from_array(np.array([1, -1], np.int64), "flat")]
    nodes = [oh.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"], name="qx"),
             oh.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"], name="dqx"),
             oh.make_node("DequantizeLinear", ["wq", "sw", "zw"], ["wd"], axis=0, name="dqw"),
             oh.make_node("Conv", ["xd", "wd", "b"], ["c"], strides=[2, 2], name="conv"),
             oh.make_node("Relu", ["c"], ["r"], name="relu"),
             oh.make_node("QuantizeLinear", ["r", "sr", "zr"], ["rq"], name="qr"),
             oh.make_node("DequantizeLinear", ["rq", "sr", "zr"], ["rd"], name="dqr"),
             oh.make_node("Reshape", ["rd", "flat"], ["f"], name="flatten"),
             oh.make_node("DequantizeLinear", ["wfq", "swf", "zw"], ["wfd"], name="dqwf"),
             oh.make_node("Gemm", ["f", "wfd", "bf"], ["g"], transB=1, name="fc"),
             oh.make_node("QuantizeLinear", ["g", "sy", "zy"], ["gq"], name="qy"),
             oh.make_node("DequantizeLinear", ["gq", "sy", "zy"], ["y"], name="dqy")]
    return model(nodes, inits, [1, 2, 5, 5], [1, 3], opset=21), (w, wf, sx, sr, sy)


def test_qdq_model_maps_onto_its_own_scales():
    m, (w, wf, sx, sr, sy) = qdq_model()
    q = import_onnx(m)  # no calibration: the model carries its scales
    assert q.qparams["input"].scale == pytest.approx(sx)
    assert q.qparams["input"].zero_point == 128
    conv_out = q.node("conv").output  # the ReLU folded: the conv writes the ReLU's tensor
    assert q.qparams[conv_out].scale == pytest.approx(sr)
    assert q.qparams[conv_out].zero_point == 0
    assert q.node("conv").attrs["relu"]
    assert q.qparams["fc"].zero_point == 128  # int8 zero point 0 = uint8 code 128
    assert (q.node("conv").params["w"] == w.transpose(0, 2, 3, 1)).all()
    assert (q.node("fc").params["w"] == wf).all()
    ev = ReferenceEvaluator(m)
    for _ in range(3):
        x = RNG.normal(0, 1, (1, 2, 5, 5))
        r_codes, y_ref = ev.run(["rq", "y"], {"x": x.astype(np.float32)})
        env = golden.run(q, q.qparams["input"].quantize(to_ir_layout(x[0], q)))
        mine = env[conv_out].transpose(2, 0, 1)  # HWC -> CHW
        # Layer by layer: the conv codes match ONNX's QuantizeLinear (round half to even of
        # the float product) within one step -- we round mult/2^shift half up.
        diff = np.abs(mine.astype(int) - r_codes[0].astype(int))
        assert diff.max() <= 1
        assert (diff == 0).mean() >= 0.8
        # The Gemm from *our* conv codes, in float, quantized as ONNX does: within one step.
        f = (sr * mine.astype(np.float64)).reshape(-1)
        g_ref = np.clip(np.round((f @ (0.02 * wf.astype(np.float64)).T
                                  + nh.to_array(m.graph.initializer[-2])) / sy), -128, 127)
        got = env["fc"].astype(int) - 128
        assert np.abs(got - g_ref).max() <= 1
        assert np.abs(sy * got - y_ref[0]).max() <= 2.01 * sy  # end to end
    assert m.graph.node[3].input[0] == "xd"  # the import left the caller's model alone


def test_qdq_per_channel_weights_are_rejected():
    m, _ = qdq_model()
    for i in m.graph.initializer:
        if i.name == "sw":
            i.CopyFrom(f32("sw", [0.01, 0.02, 0.01, 0.01]))
    with pytest.raises(ValueError, match=r"ONNX node 'conv' \(Conv\): weight 'wd' has "
                                         r"per-channel scales .* one requantization per layer"):
        import_onnx(m)


def test_unsupported_operator_is_named():
    m = cnn()
    m.graph.node[1].op_type = "Sigmoid"
    with pytest.raises(ValueError, match=r"ONNX node 'relu1' \(Sigmoid\): operator Sigmoid is "
                                         r"not supported \(supported: Add, "):
        onnx_to_float(m)


def test_unsupported_attributes_are_named():
    with pytest.raises(ValueError, match=r"ONNX node 'conv1' \(Conv\): attribute "
                                         r"dilations=\[2, 2\] is not supported: dilations "
                                         "must be 1"):
        onnx_to_float(cnn({"dilations": [2, 2]}))
    with pytest.raises(ValueError, match=r"attribute group=3 is not supported: grouped"):
        onnx_to_float(cnn({"group": 3}))
    with pytest.raises(ValueError, match=r"attribute auto_pad='SAME_UPPER' is not supported"):
        onnx_to_float(cnn({"auto_pad": "SAME_UPPER"}))
    m = cnn()
    m.graph.node[2].attribute.append(oh.make_attribute("ceil_mode", 1))
    with pytest.raises(ValueError, match=r"'pool1' \(MaxPool\): attribute ceil_mode=1"):
        onnx_to_float(m)


def test_float_model_without_calibration_is_an_error():
    with pytest.raises(ValueError, match="no QuantizeLinear scale and no calibration data"):
        import_onnx(cnn())


def test_lone_erf_and_old_opsets_are_rejected():
    m = transformer_block(True)
    m.graph.node[-4].op_type = "Add"  # break the pattern: Mul(x, .) becomes Add(x, .)
    with pytest.raises(ValueError, match="Erf is supported only inside the GELU pattern"):
        onnx_to_float(m)
    m = cnn()
    m.opset_import[0].version = 11
    with pytest.raises(ValueError, match="opset 11 is not supported"):
        onnx_to_float(m)
