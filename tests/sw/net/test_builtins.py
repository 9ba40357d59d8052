"""Built-in networks: quick variants build, run bit-exactly both ways, use their uint8 range;
MAC counts and weight bytes of the full-size networks."""

import numpy as np
import pytest
from xdecimate.sw.net import builtins, golden, ir
from xdecimate.sw.net.sparsify import sparsify


@pytest.mark.parametrize("build", [builtins.resnet18_cifar, builtins.vit_s16])
@pytest.mark.parametrize("pattern", [None, "1:8"])
def test_quick_variants_run_and_are_not_saturated(build, pattern):
    g = build(pattern=pattern, quick=True)
    x = g.qparams[g.input].quantize(np.random.default_rng(7).normal(0, 1, g.input_shape))
    env = golden.run(g, x)
    dense = golden.run(g, x, sparse="dense")
    assert all((dense[k] == v).all() for k, v in env.items())
    sparse = [n for n in g.nodes if n.pattern is not None]
    assert bool(sparse) == (pattern is not None)
    for n in g.nodes:
        y = env[n.output]
        if y.size < 64 or n.op in ("reshape", "transpose", "slice"):
            continue
        top, bottom = (y == 255).mean(), (y == 0).mean()
        assert top < 0.05, (n.name, top)
        # after a ReLU, zeros are real values (dead channels too, with random weights)
        relu_fed = n.attrs.get("relu") or n.op in ("gap", "maxpool", "avgpool")
        assert bottom < (0.8 if relu_fed else 0.15), (n.name, bottom)


def test_sparsified_layers_follow_the_paper():
    r = builtins.resnet18_cifar(pattern="1:16", quick=True)
    assert {n.name for n in r.nodes if n.pattern} == {
        n.name for n in r.nodes if n.op == "conv" and n.params["w"].shape[1:3] == (3, 3)}
    v = builtins.vit_s16(pattern="1:16", quick=True)
    assert {n.name for n in v.nodes if n.pattern} == {
        f"blk{i}.{fc}" for i in range(2) for fc in ("fc1", "fc2")}


def test_full_size_macs_and_weight_bytes():
    """Totals documented in docs/net.md (float graphs: shapes only, no quantization)."""
    r = builtins.resnet18_cifar_float()
    t = ir.totals(r)
    assert t["macs"] == 555_468_800
    assert t["weight_bytes"] == 11_210_432
    r8 = ir.totals(sparsify(r, "1:8", "3x3-convs"))
    assert r8["stored_bytes"] == 2_283_520
    v = builtins.vit_s16_float()
    tv = ir.totals(v)
    assert tv["macs"] == 4_598_502_144
    assert tv["weight_bytes"] == 21_532_416
    v16 = ir.totals(sparsify(v, "1:16", "mlp-fcs"))
    assert v16["stored_bytes"] == 8_703_744
