"""Full-size networks end to end (slow: `pytest -m slow tests/sw/deploy/test_l2flow_full.py`).

ResNet18-CIFAR at 1:16 on the ISS and on the CV32E40P RTL with xDecimate: every tensor
bit-exact on both, and the same cycles on every layer.  (~2 min on the ISS, ~3 min on the RTL;
`make net-full` runs the complete tables.)
"""

from __future__ import annotations

import pytest
from xdecimate.sw.deploy import run
from xdecimate.sw.net import builtins

pytestmark = pytest.mark.slow


def test_full_resnet18_1_16_iss_equals_rtl_on_every_layer() -> None:
    graph = builtins.resnet18_cifar(pattern="1:16")
    a = run.run_network_l2(graph, policy="fastest")
    b = run.run_network_l2(graph, policy="fastest", target="cv32e40p")
    assert a.layers_checked
    assert b.layers_checked
    assert [(lr.node, lr.cycles) for lr in a.layers] == [(lr.node, lr.cycles) for lr in b.layers]
    assert a.dma_cycles == b.dma_cycles
    assert a.l2_used > 2_000_000  # the full network: far beyond the 128 kB DMEM
