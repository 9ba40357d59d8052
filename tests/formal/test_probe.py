"""formal/probe.py: internal signals by name, spec constants replaced only while elaborating."""

import pytest
from amaranth.hdl import Fragment
from xdecimate.formal.probe import Mutation, probed
from xdecimate.hw import csr as csr_module
from xdecimate.hw.configs import CONFIGS
from xdecimate.hw.csr import XdecCsr
from xdecimate.hw.xdec_unit import XdecUnit
from xdecimate.sw.model import xdec_spec as spec


def test_probe_records_the_unit_slot_and_submodules():
    dut = probed(XdecUnit)(config=CONFIGS["full"])
    Fragment.get(dut, None)
    names = set(dut.probe.signals)
    assert {"slot_valid", "slot_done", "slot_lane", "slot_byte", "slot_rd", "slot_csr",
            "slot_illegal", "accept", "can_issue", "lb_go", "is_lb"} <= names
    assert isinstance(dut.probe.module.submodules.csr, XdecCsr)
    assert isinstance(dut, XdecUnit)


def test_spec_override_is_seen_only_during_elaboration():
    mu = Mutation("t", "csr", "test", spec={"CSR_RESET": 0x20000})
    dut = probed(XdecCsr, mu)()
    Fragment.get(dut, None)
    assert dut.probe.signals["reg"].init == 0x20000
    assert csr_module.spec is spec  # restored


def test_spec_override_of_an_unknown_constant_fails_loudly():
    dut = probed(XdecCsr, Mutation("t", "csr", "test", spec={"NO_SUCH": 1}))()
    with pytest.raises(AttributeError, match="NO_SUCH"):
        Fragment.get(dut, None)
