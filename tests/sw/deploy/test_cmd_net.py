"""``xdecimate net``: the quick ResNet end to end, its outputs, and its refusals."""

from __future__ import annotations

import json

from xdecimate import cli


def test_net_full_size_in_dmem_is_refused(capsys, tmp_path):
    assert cli.main(["net", "--network", "resnet18", "--flow", "dmem", "--out",
                     str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "xdecimate: error: full-size networks do not fit the 128 kB DMEM" in err
    assert "--flow l2" in err


def test_net_bad_policy_is_a_usage_error(capsys, tmp_path):
    assert cli.main(["net", "--quick", "--policy", "fast", "--out", str(tmp_path)]) == 2
    assert "policy must be 'fastest', 'skip' or a kernel name" in capsys.readouterr().err


def test_net_quick_resnet_writes_json_and_markdown(capsys, tmp_path):
    assert cli.main(["net", "--quick", "--flow", "dmem", "--patterns", "1:8", "--policy",
                     "xdec4", "--silent", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "net.json").read_text())
    assert res["baseline"]["policy"] == "dense_4x2"
    assert [r["pattern"] for r in res["runs"]] == ["dense", "1:8"]
    r18 = res["runs"][1]
    assert r18["speedup"] == res["baseline"]["cycles"] / r18["cycles"] > 1
    assert r18["weight_ratio"] > 3
    assert len(r18["layers"]) == len(res["baseline"]["layers"])
    md = (tmp_path / "net.md").read_text()
    assert "| s1b1.conv1 | conv | 147456 |" in md
    assert "xdec4" in md
    assert "| 1:8 |" in md
    assert "wrote" in capsys.readouterr().out


def test_net_quick_l2_flow_reports_dma_and_single_buffering(capsys, tmp_path):
    assert cli.main(["net", "--quick", "--network", "vit", "--patterns", "1:16", "--policy",
                     "xdec4", "--single-buffer", "--skip-dense", "--silent", "--out",
                     str(tmp_path)]) == 0
    res = json.loads((tmp_path / "net.json").read_text())
    assert res["flow"] == "l2"
    assert "baseline" not in res
    (run,) = res["runs"]
    assert run["speedup"] is None
    assert run["pattern"] == "1:16"
    assert run["dma_cycles"] == sum(lr["dma_cycles"] for lr in run["layers"]) > 0
    assert run["cycles_single_buffer"] >= run["cycles"] * 0.99
    md = (tmp_path / "net.md").read_text()
    assert "without double buffering" in md
    assert "| blk0.fc1 | linear |" in md
