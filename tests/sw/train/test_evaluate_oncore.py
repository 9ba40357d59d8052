"""sw/train/evaluate.py and oncore.py: the batched golden model and one inference on the ISS."""

import numpy as np
import pytest
from xdecimate.sw.kernels import harness
from xdecimate.sw.net import golden
from xdecimate.sw.train import data, evaluate, oncore, shipped


@pytest.fixture(scope="module")
def test_split():
    return data.load("test")


@pytest.fixture(scope="module")
def calib():
    return shipped.calibration_images()[:64]     # any calibration: the tests compare codes


@pytest.mark.parametrize(("arch", "pattern"), [("cnn", "1:16"), ("vit", "2:16")])
def test_batched_equals_golden_image_by_image(arch, pattern, test_split, calib):
    g = shipped.int8_graph(arch, pattern, calib)
    x = np.ascontiguousarray(test_split.images[200:216, :, :, None])
    got = evaluate.run_batch(g, x)
    want = np.stack([golden.run_output(g, xi) for xi in x])
    assert np.array_equal(got, want)
    assert np.array_equal(evaluate.predict(g, test_split.images[200:216], batch=10),
                          want.reshape(len(x), -1).argmax(axis=1))


def test_batched_rejects_wrong_inputs(calib):
    g = shipped.int8_graph("cnn", None, calib)
    with pytest.raises(TypeError, match="uint8"):
        evaluate.run_batch(g, np.zeros((2, 28, 28, 1), np.float32))
    with pytest.raises(ValueError, match=r"\(B, \*\(28, 28, 1\)\)"):
        evaluate.run_batch(g, np.zeros((2, 28, 28), np.uint8))


@pytest.fixture(scope="module")
def cnn_1_8(test_split, calib):
    g = shipped.int8_graph("cnn", "1:8", calib)
    return g, oncore.deploy(g, test_split.images[0][:, :, None], "xdec4")


def test_one_patched_inference_on_the_iss_equals_golden(test_split, cnn_1_8, tmp_path):
    g, dep = cnn_1_8
    x = test_split.images[7][:, :, None]
    elf = oncore.patched_elf(dep, x, tmp_path)
    a, b = dep.elf.read_bytes(), elf.read_bytes()
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    assert diff
    assert dep.input_offset <= min(diff)
    assert max(diff) < dep.input_offset + x.size
    r = oncore.run_image(dep, x, index=7, label=int(test_split.labels[7]),
                         target=harness.iss_target, out_dir=tmp_path)
    assert r.codes_match
    assert r.pred == r.golden_pred == int(golden.run_output(g, x).argmax())
    assert r.cycles > 100_000


def test_patched_input_must_have_the_input_shape(test_split, cnn_1_8, tmp_path):
    _, dep = cnn_1_8
    with pytest.raises(ValueError, match=r"uint8 of shape \(28, 28, 1\)"):
        oncore.patched_elf(dep, test_split.images[0], tmp_path)
