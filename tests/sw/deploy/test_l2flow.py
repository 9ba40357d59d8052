"""The L2 flow (sw/deploy/l2flow.py): whole networks from L2 through DMA-fed L1 tiles,
bit-exact on every tensor, the DMA cycles of every step adding up to the target's count, and
the ISS and the RTL equal on every layer's cycles.

The quick networks fit one tile per layer; shrinking the L1 budget forces bands, channel tiles,
padded band borders, 2-D output transfers and chunked streams through the same code.
"""

from __future__ import annotations

import pytest
from xdecimate.sw.deploy import l2flow, program, run
from xdecimate.sw.iss import memmap
from xdecimate.sw.net import builtins


@pytest.fixture(scope="module")
def resnet_18():
    return builtins.resnet18_cifar(pattern="1:8", quick=True)


@pytest.fixture(scope="module")
def vit_18():
    return builtins.vit_s16(pattern="1:8", quick=True)


def _check(r: run.NetRun, graph) -> None:
    assert r.flow == "l2"
    assert r.output_bit_exact
    assert r.layers_checked
    assert [lr.node for lr in r.layers] == [n.name for n in graph.nodes
                                            if n.op not in program.ALIASES]
    assert r.dma_cycles == sum(lr.dma_cycles for lr in r.layers) > 0
    assert r.l2_used > r.l2_image >= r.weight_bytes
    assert r.dmem_static + 2048 <= memmap.DMEM_SIZE


def test_resnet_quick_l2_flow_is_bit_exact_and_counts_its_dma(resnet_18) -> None:
    r = run.run_network_l2(resnet_18, policy="xdec4")
    _check(r, resnet_18)
    by = {lr.node: lr for lr in r.layers}
    assert by["s1b1.conv1"].kernel == "xdec4"
    assert by["s2b1.down"].kernel == "dense_4x2"
    # weights are read once: the weight transfers of a conv are its N:M image plus its bias
    conv = by["s1b1.conv1"]
    assert conv.dma_bytes >= conv.weight_bytes


@pytest.mark.parametrize("dbuf", [True, False])
def test_small_l1_forces_bands_and_channel_tiles(resnet_18, monkeypatch, dbuf: bool) -> None:
    monkeypatch.setattr(l2flow, "L1_BYTES", 6 * 1024)
    r = run.run_network_l2(resnet_18, policy="xdec4", dbuf=dbuf)
    _check(r, resnet_18)
    tilings = {lr.node: lr.tiling for lr in r.layers}
    assert any(not t.startswith("1 band") for t in tilings.values() if "band" in t), tilings
    assert any("x 1 tile" not in t for t in tilings.values() if "tile" in t), tilings
    assert all(lr.l1 <= 6 * 1024 for lr in r.layers)


def test_double_buffering_hides_dma_when_there_are_tiles(resnet_18, monkeypatch) -> None:
    monkeypatch.setattr(l2flow, "L1_BYTES", 6 * 1024)
    a = run.run_network_l2(resnet_18, policy="xdec4", dbuf=True)
    b = run.run_network_l2(resnet_18, policy="xdec4", dbuf=False)
    assert a.dma_cycles == b.dma_cycles
    assert a.cycles < b.cycles


def test_vit_quick_l2_flow_iss_equals_rtl_on_every_layer(vit_18) -> None:
    a = run.run_network_l2(vit_18, policy="xdec4")
    _check(a, vit_18)
    b = run.run_network_l2(vit_18, policy="xdec4", target="cv32e40p")
    assert [lr.cycles for lr in a.layers] == [lr.cycles for lr in b.layers]
    assert a.dma_cycles == b.dma_cycles
    kinds = {lr.op for lr in a.layers}
    assert {"transpose", "matmul", "softmax", "layernorm", "gelu", "slice", "concat"} <= kinds


def test_l2_flow_refuses_what_it_cannot_tile(resnet_18, monkeypatch) -> None:
    monkeypatch.setattr(l2flow, "L1_BYTES", 1024)
    with pytest.raises(ValueError, match="L1 budget"):
        run.run_network_l2(resnet_18, policy="xdec4")


def test_cycles_do_not_depend_on_values_except_divisions() -> None:
    """The basis of the ViT-S per-block derivation (docs/net.md): two ViTs with other weights
    and another input take the same cycles on every layer except layer norm and softmax, whose
    divisions and integer square roots take data-dependent cycles on the CV32E40P."""
    a = run.run_network_l2(builtins.vit_s16(pattern="1:8", quick=True, seed=0), policy="xdec4",
                           seed=0)
    b = run.run_network_l2(builtins.vit_s16(pattern="1:8", quick=True, seed=7), policy="xdec4",
                           seed=3)
    for x, y in zip(a.layers, b.layers, strict=True):
        if x.op in ("layernorm", "softmax"):
            assert abs(y.cycles - x.cycles) <= 0.02 * x.cycles, (x.node, x.cycles, y.cycles)
        else:
            assert x.cycles == y.cycles, (x.node, x.op, x.cycles, y.cycles)
    assert abs(a.cycles - b.cycles) <= 0.002 * a.cycles


def test_per_block_derivation_matches_the_whole_network() -> None:
    from xdecimate.sw.deploy import suite

    res = suite.run_net("vit", ("1:8",), "xdec4", "iss", quick=True, progress=False,
                        skip_dense=True, derive_blocks=True)
    (d,) = res["runs"]
    assert d["derived"].startswith("one encoder block measured, counted 2 times")
    assert d["measured"]["network"].endswith("-depth1-1:8")
    whole = run.run_network_l2(builtins.vit_s16(pattern="1:8", quick=True), policy="xdec4")
    assert d["weight_bytes"] == whole.weight_bytes
    assert d["dense_weight_bytes"] == whole.dense_weight_bytes
    assert d["dma_cycles"] == whole.dma_cycles
    assert abs(d["cycles"] - whole.cycles) <= 0.002 * whole.cycles
