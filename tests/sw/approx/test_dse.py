"""sw/approx/dse.py: evaluate is pure and equals the golden model, pareto, the greedy search."""

import itertools
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from xdecimate.sw.approx import dse, transform
from xdecimate.sw.approx.dse import Record
from xdecimate.sw.approx.transform import Choice
from xdecimate.sw.train import config, data, evaluate

LAYERS = config.SPARSE_LAYERS


@dataclass(frozen=True)
class SyntheticCycles:
    """Test fixture, not a measurement: cycles proportional to density x (1 - skip)."""

    rest: int = 10_000

    def layer(self, name: str, choice: Choice) -> int:
        return round(8000 * transform.density(choice.pattern) * (1 - choice.skip)) + 100


MIXED = {"b1.conv1": Choice("1:16", 0.25), "b2.conv2": Choice("1:8", 0.5),
         "b3.conv2": Choice("1:16", 0.0)}


def test_evaluate_is_pure_and_equals_the_golden_model(monkeypatch):
    monkeypatch.setattr(dse, "_CHUNK", 100)
    first = dse.evaluate("cnn", "1:8", MIXED, (100, 350))      # three chunks
    assert dse.evaluate("cnn", "1:8", MIXED, (100, 350)) == first   # warm cache
    monkeypatch.setattr(dse, "_CACHE", dse._ActivationCache(dse._CACHE_BYTES))
    assert dse.evaluate("cnn", "1:8", dict(reversed(MIXED.items())), (100, 350)) == first
    g, sig = dse.model("cnn", "1:8")
    test = data.load("test")
    pred = evaluate.predict(transform.apply(g, MIXED, sig), test.images[100:350])
    assert first == (int((pred == test.labels[100:350]).sum()), 250)
    # a config sharing a prefix resumes from the cache and is still exact
    other = {**MIXED, "b3.conv2": Choice("1:16", 0.5)}
    pred = evaluate.predict(transform.apply(g, other, sig), test.images[100:350])
    assert dse.evaluate("cnn", "1:8", other, (100, 350))[0] == int(
        (pred == test.labels[100:350]).sum())


def test_evaluate_in_another_process():
    cfg = {"blk1.fc2": Choice("1:16", 0.125)}
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
        got = ex.submit(dse.evaluate, "vit", "1:8", cfg, (0, 64)).result()
    assert got == dse.evaluate("vit", "1:8", cfg, (0, 64))


@pytest.mark.parametrize(("args", "words"), [
    (("mlp", None, {}, (0, 10)), "arch must be one of"),
    (("cnn", "1:2", {}, (0, 10)), "base must be None"),
    (("cnn", "1:8", {"stem": Choice("1:16")}, (0, 10)), r"unknown layer\(s\) \['stem'\]"),
    (("cnn", "1:8", {}, (5, 3)), "image_range must satisfy"),
    (("cnn", "1:8", {}, (0, 10_001)), "image_range must satisfy"),
])
def test_evaluate_rejects(args, words):
    with pytest.raises(ValueError, match=words):
        dse.evaluate(*args)


def _rec(cycles, correct, n=100, base="1:8"):
    return Record("cnn", base, {"b1.conv1": Choice("1:8", 0.0)}, correct, n, cycles, "greedy")


def test_pareto_on_hand_made_points():
    pts = [_rec(10, 80), _rec(8, 70), _rec(12, 79), _rec(8, 75), _rec(5, 60), _rec(20, 90),
           _rec(15, 90), _rec(5, 60), _rec(6, 55), _rec(None, 99)]
    front = dse.pareto(pts)
    assert [(r.cycles, r.correct) for r in front] == [(5, 60), (8, 75), (10, 80), (15, 90)]
    assert front[0] is pts[4]                     # of equal points, the first
    assert dse.pareto([]) == []


def test_next_choices():
    assert dse.next_choices("1:8", Choice("1:8")) == (Choice("1:8", 0.125), Choice("1:16"))
    assert dse.next_choices("1:8", Choice("1:8", 0.25)) == (
        Choice("1:8", 0.375), Choice("1:16"), Choice("1:16", 0.25))
    assert dse.next_choices("1:8", Choice("1:16", 0.5)) == ()
    assert dse.next_choices(None, Choice(None)) == (Choice(None, 0.125), Choice("1:4"),
                                                    Choice("2:8"))
    assert dse.next_choices("2:8", Choice("2:8", 0.5)) == (   # 1:8 and 2:16: both 1/8 dense
        Choice("1:8"), Choice("1:8", 0.5), Choice("2:16"), Choice("2:16", 0.5))


def test_config_json_and_describe():
    cfg = dse.uniform("vit", Choice("1:16", 0.25))
    assert dse.describe(cfg) == "all 1:16/skip 0.25"
    back = dse.config_from_json(json.loads(json.dumps(dse.config_to_json(cfg))))
    assert back == cfg
    assert dse.config_key(back) == dse.config_key(cfg)
    assert "b1.conv1=1:16/skip 0.25, b2.conv2=1:8/skip 0.5" in dse.describe(MIXED)
    full = {**dse.exact("cnn", "1:8"), **MIXED}
    assert dse.describe(full, "1:8") == \
        "b1.conv1=1:16/skip 0.25, b2.conv2=1:8/skip 0.5, b3.conv2=1:16"
    assert dse.describe({**dse.exact("cnn", None), "b1.conv1": Choice("1:4")}, None) == \
        "b1.conv1=1:4"


@pytest.fixture(scope="module")
def searched():
    cm = {"1:16": SyntheticCycles(), None: SyntheticCycles()}
    with ThreadPoolExecutor(2) as ex:
        recs = dse.search("vit", ["1:16"], cm, executor=ex, search_images=200,
                          max_drop_pp=3.0, progress=False)
    return recs, cm


def test_search_records_base_uniform_and_a_descent(searched):
    recs, cm = searched
    keys = [r.key for r in recs]
    assert len(keys) == len(set(keys))
    base = [r for r in recs if r.kind == "base"]
    assert len(base) == 1
    assert base[0].config == dse.exact("vit", "1:16")
    assert base[0].cycles == dse.predicted_cycles(cm["1:16"], base[0].config)
    assert {dse.config_key(r.config) for r in recs if r.kind in ("base", "uniform")} == \
        {dse.config_key(dse.uniform("vit", c)) for c in transform.choices("1:16")}
    taken = [r for r in recs if r.taken]
    assert taken, "the descent took no step"
    cyc = [base[0].cycles] + [r.cycles for r in taken]
    assert all(a > b for a, b in itertools.pairwise(cyc))   # each step saves cycles
    assert all(r.n == 200 for r in recs)
    # all but possibly the last step stay within the budget
    assert all(r.accuracy >= base[0].accuracy - 3.0 for r in taken[:-1])
    for r in recs[:3]:
        assert r.correct == dse.evaluate("vit", "1:16", r.config, (0, 200))[0]


def test_search_front_is_monotone(searched):
    recs, _ = searched
    front = dse.pareto(recs)
    assert len(front) >= 2
    for a, b in itertools.pairwise(front):
        assert a.cycles < b.cycles
        assert a.accuracy < b.accuracy
    assert max(r.accuracy for r in recs) == front[-1].accuracy


def test_search_rejects_a_missing_cycle_model():
    with pytest.raises(ValueError, match="no cycle model for base 1:4"):
        dse.search("vit", ["1:4"], {}, executor=ThreadPoolExecutor(1), progress=False)


def test_json_table_plot(searched, tmp_path):
    recs, _ = searched
    back = dse.records_from_json(json.loads(json.dumps(dse.records_to_json(recs))))
    assert [(r.key, r.correct, r.cycles, r.taken) for r in back] == \
        [(r.key, r.correct, r.cycles, r.taken) for r in recs]
    ref = next(r for r in recs if r.kind == "base")
    table = dse.pareto_table(recs, reference=ref)
    assert table.count("\n") == 2 + len(dse.pareto(recs))
    rows = table.splitlines()[2:]
    assert all(r.startswith("| 1:16 | ") and r.endswith(" |") for r in rows)
    assert rows[0].split(" | ")[2] == f"{dse.pareto(recs)[0].cycles:,}"
    dse.plot_pareto(recs, tmp_path / "p.png", anchor=ref,
                    references=[("Armeniakos et al. (STM32)", 0.79, 0.0)], title="test")
    assert (tmp_path / "p.png").stat().st_size > 10_000
    with pytest.raises(ValueError, match="need an anchor"):
        dse.plot_pareto(recs, references=[("x", 1.0, 0.0)])


def test_finalize_on_a_small_test_split(searched, monkeypatch):
    recs, _ = searched
    monkeypatch.setattr(dse, "TEST_IMAGES", 300)
    with ThreadPoolExecutor(2) as ex:
        fin = dse.finalize(recs, "vit", executor=ex, dense_cycles=20_000)
    assert fin.dense.n == 300
    assert fin.dense.cycles == 20_000
    assert fin.dense.correct == dse.evaluate("vit", None, dse.exact("vit", None), (0, 300))[0]
    cands = dse.near_front(recs, 1.0)
    cands += [r for r in recs if r.kind == "base" and r not in cands]
    assert {r.key for r in fin.front} <= {r.key for r in cands}
    assert [r.key for r in dse.pareto(fin.front)] == [r.key for r in fin.front]
    assert all(r.n == 300 for r in fin.front)
    assert fin.evaluated == 1 + len(cands)
    for pick, loss in ((fin.zero_loss, 0.0), (fin.within, 1.0)):
        ok = [r for r in fin.front if r.accuracy >= fin.dense.accuracy - loss
              and not (r.base is None and r.config == dse.exact("vit", None))]
        assert pick is (min(ok, key=lambda r: r.cycles) if ok else None)
    json.dumps(fin.to_json())


def test_near_front_keeps_points_within_the_margin():
    recs = [_rec(100, 80), _rec(110, 79), _rec(120, 85), _rec(130, 83), _rec(140, 86),
            _rec(150, 70)]
    assert [r.cycles for r in dse.near_front(recs, 0.0)] == [100, 120, 140]
    assert [r.cycles for r in dse.near_front(recs, 2.0)] == [100, 110, 120, 130, 140]
    assert dse.near_front(recs, 0.0) == dse.pareto(recs)

