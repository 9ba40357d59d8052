"""The project's change to CV32E40P (hw/cv32e40p/xdecimate.patch, hw/cv32e40p_xdec.py)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from xdecimate.hw import cv32e40p_xdec as cx
from xdecimate.hw.configs import CONFIGS


def _tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return h.hexdigest()


def test_patch_applies_to_a_copy_and_leaves_the_package_untouched(tmp_path):
    package = cx._package_rtl()
    before = _tree_hash(package)
    rtl, leaves = cx.patched_rtl(tmp_path, "full")
    assert _tree_hash(package) == before
    assert rtl.parent.parent == tmp_path
    changed = sorted(str(p.relative_to(rtl)) for p in rtl.rglob("*.sv")
                     if p.read_bytes() != (package / p.relative_to(rtl)).read_bytes())
    touched = sorted(re.findall(r"^\+\+\+ b/(\S+)", cx.PATCH.read_text(), re.M))
    assert changed == touched
    assert "cv32e40p_core.sv" in changed
    assert [p.name for p in leaves] == ["cv32e40p_xdec_merge.v", "cv32e40p_xdec_side.v"]
    core = (rtl / "cv32e40p_core.sv").read_text()
    assert "cv32e40p_xdec_side xdec_side_i" in core
    # one parameter selects the extension, default off
    assert re.search(r"parameter COREV_XDEC =\s*0", core)
    # a second call reuses the tree
    assert cx.patched_rtl(tmp_path, "full") == (rtl, leaves)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_configuration_has_its_leaves(name):
    files = cx.leaf_verilog(name)
    side = files["cv32e40p_xdec_side.v"]
    assert f"configuration {name!r}" in side
    assert re.search(r"module cv32e40p_xdec_side\(", side)
    for port in ("csr_we", "csr_wdata", "csr_rdata", "inc", "rs2", "lane", "offset", "illegal",
                 "clk", "rst"):
        assert re.search(rf"\b(input|output) (\[\d+:0\] )?{port};", side), port
    assert "module cv32e40p_xdec_merge(" in files["cv32e40p_xdec_merge.v"]
    assert cx.source_key(name) != cx.source_key("full") or name == "full"


def test_unknown_configuration_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"unknown xDecimate configuration 'big'; choose one"):
        cx.patched_rtl(tmp_path, "big")
    with pytest.raises(TypeError, match="cfg must be an XdecHwConfig or a configuration name"):
        cx.leaf_verilog(3)  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in CONFIGS if n != "full"])
def test_every_configuration_builds_as_a_core(name):
    from xdecimate.sim import cv32e40p

    assert cv32e40p.build(core=f"xdec-{name}").exists()
