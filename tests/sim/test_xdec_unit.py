"""cocotb testbench of the xDecimate unit (sim/tb_xdec_unit.py) on Verilator (``SIM=icarus``).

Default run: directed cases plus 100,000 random requests over the three configurations, every
coverage bin hit.  ``make soak`` runs ``XDEC_SOAK_OPS`` (default 10^7) random requests.
"""

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from xdecimate.hw.configs import CONFIGS
from xdecimate.sim.runner import BUILD, SimulationError, run_xdec, simulator

#: Random requests per configuration in the default run (100,000 in total).
DEFAULT_OPS = {"full": 60_000, "paper": 20_000, "m4only": 20_000}


@pytest.mark.parametrize("name", list(DEFAULT_OPS))
def test_cocotb_directed_random_full_coverage(name):
    r = run_xdec(name, ops=DEFAULT_OPS[name], seed=1)
    assert r.ops >= DEFAULT_OPS[name]
    assert r.reads > 0.8 * DEFAULT_OPS[name]
    assert r.coverage_covered == r.coverage_defined, r.summary["coverage"]
    assert r.sim == simulator()


def test_default_run_checks_100k_random_requests():
    assert sum(DEFAULT_OPS.values()) >= 100_000
    assert set(DEFAULT_OPS) == set(CONFIGS)


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Debian iverilog not installed")
def test_icarus_runs_the_same_testbench():
    r = run_xdec("paper", ops=3000, seed=2, sim="icarus")
    assert r.sim == "icarus"
    assert r.ops >= 3000
    assert r.coverage_covered == r.coverage_defined


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Debian iverilog not installed")
def test_failure_names_its_waveform():
    with pytest.raises(SimulationError) as err:
        run_xdec("m4only", ops=300, seed=3, sim="icarus", fault_at=40, testcase="xdec_random",
                 tag="fault-injection")
    msg = str(err.value)
    assert "response mismatch" in msg
    wave = next(line.split(": ", 1)[1] for line in msg.splitlines()
                if line.startswith("waveform: "))
    assert wave.endswith(".fst")
    assert os.path.getsize(wave) > 1000


@pytest.mark.soak
def test_soak():
    total = int(os.environ.get("XDEC_SOAK_OPS", "10000000"))
    sim = simulator()
    shares = {"full": 0.6, "paper": 0.2, "m4only": 0.2}
    seed = int(os.environ.get("XDEC_SOAK_SEED", "100"))

    def one(name):
        return run_xdec(name, ops=int(total * shares[name]), seed=seed, sim=sim, tag="soak",
                        testcase="xdec_random")

    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores
        results = list(pool.map(one, shares))
    ops = sum(r.ops for r in results)
    cycles = sum(r.cycles for r in results)
    loop_s = sum(r.sim_wall_s for r in results)
    report = {"sim": sim, "ops": ops, "cycles": cycles, "ops_per_s": ops / loop_s,
              "cycles_per_s": cycles / loop_s,
              "per_config": {r.config: {"ops": r.ops, "ops_per_s": round(r.ops_per_s),
                                        "cycles_per_s": round(r.cycles_per_s)}
                             for r in results}}
    (BUILD / f"soak-{sim}.json").write_text(json.dumps(report, indent=1))
    print(f"\nsoak on {sim}: {ops} requests checked, {report['ops_per_s']:.0f} ops/s, "
          f"{report['cycles_per_s']:.0f} cycles/s (per process)")
    assert ops >= total
    assert all(r.coverage_covered == r.coverage_defined for r in results)


def test_unknown_simulator_is_rejected():
    with pytest.raises(ValueError, match=r"sim must be one of .*, not 'xsim'"):
        run_xdec("full", ops=1, sim="xsim")
