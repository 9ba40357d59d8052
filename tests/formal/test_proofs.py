# amaranth: UnusedElaboratable=no
"""Every formal proof holds, and every planted bug is rejected with a counterexample.

One test per (block, configuration) proof and one per mutation; each runs SymbiYosys in its own
``tmp_path`` (safe under pytest-xdist).  Measured on the 2-core machine: 1.5-5.5 s per proof,
2-8 s per mutation; none is near the one-minute limit of the default suite, so none is ``slow``.
"""

from pathlib import Path

import pytest
from xdecimate.formal.harness import HARNESSES
from xdecimate.formal.mutations import MUTATIONS, mutation, mutations_for
from xdecimate.formal.proofs import METHODS, MUTATION_DEPTH, all_proofs, run_mutation, run_proof
from xdecimate.hw.configs import CONFIGS

#: Kinds of bug the issue asks for, and a mutation of each (the catalogue must keep them).
REQUIRED_KINDS = {
    "wrong field select": "index_width_m8",
    "off-by-one lane": "lane_off_by_one",
    "missed increment": "missed_increment_on_read",
    "trap changes state": "trap_increments",
    "wrong write mask": "write_mask_keeps_reserved",
    "handshake drops a request": "drop_unanswered",
    "handshake duplicates a request": "duplicate_read",
}


@pytest.mark.parametrize(("block", "cfg"), all_proofs(), ids=lambda v: str(v))
def test_proof_holds(block, cfg, tmp_path):
    r = run_proof(block, cfg, workdir=tmp_path)
    assert r.status == "PASS", (r.failed, r.step)
    assert r.ok
    assert r.properties, "a proof without assertions proves nothing"


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation_is_rejected_with_a_counterexample(name, tmp_path):
    r = run_mutation(name, workdir=tmp_path)
    assert r.status == "FAIL", f"{name} got through: {r.status}"
    assert r.caught
    assert r.trace is not None
    assert tmp_path in Path(r.trace).parents
    assert set(r.failed) <= set(r.properties), r.failed
    assert r.step is not None
    assert r.step < MUTATION_DEPTH[r.block]


def test_every_block_has_a_proof_and_mutations():
    assert set(METHODS) == set(HARNESSES) == set(MUTATION_DEPTH)
    for block in METHODS:
        assert len(mutations_for(block)) >= 2, block
    assert {cfg for _, cfg in all_proofs()} == set(CONFIGS)


@pytest.mark.parametrize("kind", REQUIRED_KINDS)
def test_catalogue_covers_the_required_kinds(kind):
    assert mutation(REQUIRED_KINDS[kind]).what


def test_unknown_mutation_names_the_known_ones():
    with pytest.raises(KeyError, match="index_width_m8"):
        mutation("no_such_bug")


def test_harness_rejects_a_mutation_of_another_block():
    with pytest.raises(ValueError, match="targets 'csr', not 'unit'"):
        HARNESSES["unit"](CONFIGS["full"], mutation("reset_value"))
    with pytest.raises(TypeError, match="config must be an XdecHwConfig"):
        HARNESSES["csr"]("full")


def test_docs_example_runs():
    text = (Path(__file__).resolve().parents[2] / "docs" / "formal.md").read_text()
    blocks = text.split("```python\n")[1:]
    assert len(blocks) == 1
    exec(compile(blocks[0].split("```")[0], "docs/formal.md", "exec"), {})
