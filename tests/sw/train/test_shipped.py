"""sw/train/trained/: the shipped models match their manifest."""

import json

from xdecimate.sw.train import shipped
from xdecimate.sw.train.config import ARCH_NAMES, PATTERNS


def test_every_shipped_file_matches_its_sha256():
    assert shipped.verify() == []


def test_manifest_covers_every_model_and_pattern_and_stays_small():
    man = shipped.load_manifest()
    want = {shipped.artifact_name(a, p) for a in ARCH_NAMES for p in [None, *PATTERNS]}
    assert set(man["files"]) == want
    assert set(man["runs"]) == want
    assert "make train" in man["command"]
    total = sum((shipped.TRAINED_DIR / f).stat().st_size for f in want)
    total += (shipped.TRAINED_DIR / "manifest.json").stat().st_size
    assert total < 2_000_000
    for name, run in man["runs"].items():
        assert run["epochs"] == len(run["history"]), name
        assert 10.0 < run["float_top1"] <= 100.0, name


def test_a_changed_file_is_reported(tmp_path):
    for f in shipped.TRAINED_DIR.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    victim = shipped.artifact_name("vit", "1:8")
    raw = bytearray((tmp_path / victim).read_bytes())
    raw[-30] ^= 1
    (tmp_path / victim).write_bytes(bytes(raw))
    bad = shipped.verify(tmp_path)
    assert len(bad) == 1
    assert bad[0].startswith(victim)
    json.loads((tmp_path / "manifest.json").read_text())
