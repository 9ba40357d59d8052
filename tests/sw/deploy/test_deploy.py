"""Whole quick networks on the core: bit-exact with the golden model, per-layer cycles, RTL.

Forced kernel policies keep the runs short (the "fastest" policy measures every candidate on the
ISS; its choice logic is tested with a stand-in measurement).  ISS runs are cached by ELF.
"""

from __future__ import annotations

import numpy as np
import pytest
from xdecimate.sw.bench import crosscheck
from xdecimate.sw.deploy import policy, program, run
from xdecimate.sw.net import builtins
from xdecimate.sw.net.ir import Builder
from xdecimate.sw.net.quantize import quantize


@pytest.fixture(scope="module")
def resnet_dense():
    return builtins.resnet18_cifar(quick=True)


@pytest.fixture(scope="module")
def resnet_18():
    return builtins.resnet18_cifar(pattern="1:8", quick=True)


def _check_run(r: run.NetRun, graph) -> None:
    assert r.output_bit_exact
    assert r.layers_checked
    assert all(lr.bit_exact for lr in r.layers), [lr.node for lr in r.layers
                                                   if not lr.bit_exact]
    steps = [n.name for n in graph.nodes if n.op not in program.ALIASES]
    assert [lr.node for lr in r.layers] == steps
    assert all(lr.cycles > 0 for lr in r.layers)
    assert r.cycles < r.cycles_run  # the layers, without start-up and main's prologue
    assert r.dmem_static + 2048 <= 128 * 1024


def test_resnet_quick_dense_runs_bit_exact_layer_by_layer(resnet_dense):
    r = run.run_network(resnet_dense, policy="dense_4x2", check_layers=True)
    _check_run(r, resnet_dense)
    assert {lr.kernel for lr in r.layers if lr.op in ("conv", "linear")} == {"dense_4x2"}
    assert r.weight_bytes == r.dense_weight_bytes
    # the quick ResNet's activations ping-pong: far less than one buffer per tensor
    assert r.arena_peak < r.arena_total / 2


def test_resnet_quick_1_8_xdec4_is_bit_exact_and_faster(resnet_dense, resnet_18):
    base = run.run_network(resnet_dense, policy="dense_4x2")
    r = run.run_network(resnet_18, policy="xdec4", check_layers=True)
    _check_run(r, resnet_18)
    by = {lr.node: lr for lr in r.layers}
    assert by["s1b1.conv1"].kernel == "xdec4"
    assert by["s2b1.down"].kernel == "dense_4x2"          # 1x1: dense layer
    assert by["stem"].kernel == "dense_4x2"               # channel padding breaks 1:8 blocks
    assert "dense kernels" in by["stem"].note
    assert by["s1b1.conv1"].cycles < base.layers[1].cycles
    assert r.cycles < base.cycles
    assert r.weight_bytes < r.dense_weight_bytes / 3      # 1:8 images incl. indices


def test_rtl_cycles_equal_iss_cycles_for_every_layer(resnet_18):
    x = run.golden_input(resnet_18)
    prog = program.generate(resnet_18, x, policy="xdec4")
    elf = program.build(prog)
    c = crosscheck.compare(elf, rtl=run.rtl_target)
    crosscheck.assert_agree(c)
    ids = {m.id for m in c.iss.marks}
    assert all(s.mark in ids and s.mark + 1 in ids for s in prog.steps)
    assert np.array_equal(run.read_tensor(prog, elf, c.rtl, resnet_18.output),
                          prog.golden[resnet_18.output])


def test_vit_quick_1_8_runs_bit_exact_layer_by_layer():
    g = builtins.vit_s16(pattern="1:8", quick=True)
    r = run.run_network(g, policy="xdec4", check_layers=True)
    _check_run(r, g)
    ops = {lr.op for lr in r.layers}
    assert {"layernorm", "softmax", "gelu", "matmul", "transpose", "concat"} <= ops
    assert {lr.kernel for lr in r.layers if lr.node.endswith(("fc1", "fc2"))} == {"xdec4"}


def test_pooling_relu_and_avgpool_ops_are_bit_exact():
    rng = np.random.default_rng(3)
    b = Builder("pools", (8, 8, 4))
    x = b.conv("input", rng.normal(0, 0.3, (8, 3, 3, 4)), rng.normal(0, 0.1, 8), pad=1,
               name="conv")
    x = b.maxpool(x, 3, 2, 1, name="maxpool")
    x = b.relu(x, name="relu")
    x = b.avgpool(x, 2, 1, name="avgpool")
    x = b.gap(x, name="gap")
    x = b.reshape(x, (8,), name="flat")
    x = b.linear(x, rng.normal(0, 0.3, (4, 8)), name="fc")
    g = quantize(b.finish(x), rng.normal(0, 1, (2, 8, 8, 4)))
    assert {n.op for n in g.nodes} >= {"maxpool", "relu", "avgpool", "gap"}
    r = run.run_network(g, policy="dense_1x2", check_layers=True)
    _check_run(r, g)


def test_network_too_big_for_dmem_is_refused_naming_the_sizes():
    g = builtins.vit_s16(quick=True)  # dense: ~115 kB of weights
    with pytest.raises(ValueError, match=r"needs about \d+ bytes of DMEM \(input \d+, "
                                         r".*weights \d+.*more than memmap.DMEM_SIZE = 131072: "
                                         r"it needs the L2/DMA flow"):
        program.generate(g, run.golden_input(g), policy="dense_4x2")


def test_bad_policy_is_refused(resnet_dense):
    x = run.golden_input(resnet_dense)
    with pytest.raises(ValueError, match="policy must be 'fastest', 'skip' or a kernel name, "
                                         r"one of \[.*\], not 'xdec8'"):
        program.generate(resnet_dense, x, policy="xdec8")
    with pytest.raises(TypeError, match="policy must be a str"):
        program.generate(resnet_dense, x, policy=None)


def test_fastest_policy_takes_the_least_measured_candidate(resnet_18):
    table = {"dense_4x2": 50, "dense_1x2": 60, "dense_4x2_direct": 40, "dense_1x2_direct": 45,
             "xdec4": 30, "xdec": 35, "xdec4_direct": 31, "xdec_direct": 29, "sw4": 70,
             "sw": 80, "sw_rq": 75, "dense_4x2_skip": 55, "xdec4_skip": 33, "xdec_skip": 36}
    seen: list[tuple[str, str]] = []

    def fake(case, kernel):
        seen.append((case.shape.name, kernel))
        return table[kernel]

    prog = program.generate(resnet_18, run.golden_input(resnet_18), measure_fn=fake)
    by = {s.node: s for s in prog.steps}
    # s1b1.conv1 (cin 8) cannot be walked by the xdec direct blocks at 1:8: xdec4 wins
    assert "xdec_direct" not in by["s1b1.conv1"].measured
    assert by["s1b1.conv1"].kernel == "xdec4"
    assert by["s4b1.conv2"].kernel == "xdec_direct"
    assert by["s2b1.down"].kernel == "dense_4x2_direct"   # dense layer: dense candidates only
    assert by["fc"].measured == {"dense_4x2": 50, "dense_1x2": 60}
    assert ("fc", "dense_1x2") in seen


def test_forced_sparse_policy_keeps_dense_layers_on_the_dense_baseline(resnet_18):
    prog = program.generate(resnet_18, run.golden_input(resnet_18), policy="sw4")
    kernels = {s.node: s.kernel for s in prog.steps if s.kernel}
    assert kernels["s1b1.conv2"] == "sw4"
    assert kernels["fc"] == kernels["s3b1.down"] == "dense_4x2"
    assert policy.POLICIES[0] == "fastest"


def test_software_sparse_kernels_deploy_too(resnet_18):
    """The SW kernels' scratch (xdn_ilv) is referenced by the descriptors before it is sized:
    the program declares it first (a whole network with sw4 used not to compile)."""
    r = run.run_network(resnet_18, policy="sw4")
    assert r.output_bit_exact
    assert {lr.kernel for lr in r.layers if lr.op == "conv" and lr.pattern == "1:8"
            and "dense" not in lr.note} == {"sw4"}
