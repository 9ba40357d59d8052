"""sw/train/export.py: ONNX export, import, N:M marking and quantization."""

import numpy as np
import onnx
import pytest
from xdecimate.sw.model.nm_format import Pattern, is_nm
from xdecimate.sw.model.prune import prune_nm
from xdecimate.sw.net.onnx_import import SUPPORTED_OPS
from xdecimate.sw.train import data, export
from xdecimate.sw.train.shipped import TRAINED_DIR, artifact_name, load_npz


def pruned(arch, pattern):
    p = load_npz(TRAINED_DIR / artifact_name(arch, None))
    for n in export.ARCH_SPARSE[arch]:
        w = p[n + ".w"]
        p[n + ".w"] = prune_nm(w.reshape(w.shape[0], -1), Pattern.parse(pattern)).reshape(w.shape)
    return p


@pytest.mark.parametrize("arch", ["cnn", "vit"])
def test_export_uses_supported_operators_only(arch):
    m = export.to_onnx(load_npz(TRAINED_DIR / artifact_name(arch, None)), arch)
    onnx.checker.check_model(m)
    assert {n.op_type for n in m.graph.node} <= set(SUPPORTED_OPS)


@pytest.mark.parametrize(("arch", "pattern"), [("cnn", "1:16"), ("vit", "2:8")])
def test_pruned_layers_are_marked_and_satisfy_the_pattern(arch, pattern):
    calib = data.load("train").images[:32]
    g = export.quantized_graph(pruned(arch, pattern), arch, pattern, calib)
    marked = {n.name for n in g.nodes if n.pattern is not None}
    assert marked == set(export.ARCH_SPARSE[arch])
    for name in marked:
        n = g.node(name)
        assert str(n.pattern) == pattern
        assert is_nm(n.params["w"].reshape(n.params["w"].shape[0], -1), n.pattern)
    # input scale 1/255, zero point 0: the input codes are the raw pixels
    img = data.load("test").images[:3]
    codes = g.qparams[g.input].quantize(export.input_codes(img)[:, 0])
    assert np.array_equal(codes, img)


def test_weights_that_break_the_pattern_are_named():
    p = pruned("cnn", "1:8")
    p["b2.conv1.w"][0, 0, 0, :2] = 1.0       # two non-zeros in one block of 8
    with pytest.raises(ValueError, match=r"layer 'b2\.conv1'.*not 1:8-sparse"):
        export.quantized_graph(p, "cnn", "1:8", data.load("train").images[:8])


def test_unknown_arch_is_named():
    with pytest.raises(ValueError, match="'mlp'"):
        export.to_onnx({}, "mlp")
