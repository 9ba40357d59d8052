"""formal/model.py against the executable reference: the proofs' model is the spec, on samples.

The proofs show RTL == model for every input; these tests show model == ``xdec_ref`` (and the
field table) on directed and random cases, so a proof cannot pass against a wrong model.
"""

import random

import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from xdecimate.formal import model
from xdecimate.hw.configs import CONFIGS, supports
from xdecimate.hw.interfaces import CsrOp
from xdecimate.sim.hwsim import rtl_comb
from xdecimate.sw.model import xdec_spec as spec
from xdecimate.sw.model.xdec_ref import (
    IllegalInstruction,
    csr_pack,
    csr_write,
    xdec_access,
    xdec_lb,
)

_CNT = spec.field("cnt")


class ModelProbe(wiring.Component):
    """The model's expressions behind ports, so the Amaranth simulator can evaluate them."""

    def __init__(self):
        super().__init__({
            "csr": In(32), "rs2": In(32), "rs1": In(32), "word": In(32), "byte_off": In(2),
            "lane_in": In(2), "old": In(32), "op": In(3), "wdata": In(32),
            "lane": Out(2), "idx": Out(8), "j": Out(32), "offset": Out(32), "addr": Out(32),
            "be": Out(4), "merged": Out(32), "sw": Out(32), "inc": Out(32),
            **{f"legal_{name}": Out(1) for name in CONFIGS},
        })

    def elaborate(self, platform):
        m = Module()
        acc = model.access(self.csr, self.rs2)
        addr = model.address(self.rs1, acc.offset)
        m.d.comb += [
            self.lane.eq(acc.lane), self.idx.eq(acc.idx), self.j.eq(acc.j),
            self.offset.eq(acc.offset), self.addr.eq(addr), self.be.eq(model.byte_enable(addr)),
            self.merged.eq(model.merge(self.old, self.word, self.byte_off, self.lane_in)),
            self.sw.eq(model.csr_software(self.csr, self.op, self.wdata)),
            self.inc.eq(model.csr_increment(self.csr)),
        ]
        for name, cfg in CONFIGS.items():
            m.d.comb += getattr(self, f"legal_{name}").eq(model.legal(self.csr, cfg))
        return m


OUTPUTS = ("lane", "idx", "j", "offset", "addr", "be", "merged", "sw", "inc",
           *(f"legal_{n}" for n in CONFIGS))


def _cases(seed, count):
    rng = random.Random(seed)
    legal = [(n, m, p) for n, m in spec.PATTERNS for p in (1, 2, 4)]
    out = []
    for i in range(count):
        n, m, p = rng.choice(legal)
        cnt = rng.choice([0, 1, 3, 4, 7, 0x7FFF, 0xFFFF, rng.randrange(1 << 16)])
        csr = csr_pack(m=m, n=n, p=p, cnt=cnt) if i % 4 else rng.randrange(1 << 32)
        out.append({"csr": csr, "rs2": rng.randrange(1 << 32),
                    "rs1": rng.choice([0, 0xFFFFFFF0, rng.randrange(1 << 32)]),
                    "word": rng.randrange(1 << 32), "byte_off": rng.randrange(4),
                    "lane_in": rng.randrange(4), "old": rng.randrange(1 << 32),
                    "op": rng.randrange(8), "wdata": rng.randrange(1 << 32)})
    return out


@pytest.fixture(scope="module")
def evaluated():
    cases = _cases(seed=7, count=600)
    return list(zip(cases, rtl_comb(ModelProbe(), cases, OUTPUTS), strict=True))


def test_tables_recomputed_equal_the_spec_constants():
    assert model.reset_value() == spec.CSR_RESET
    assert model.write_mask() == spec.CSR_WRITE_MASK


def test_legality_is_the_reference_trap_rule_and_the_configuration_rule(evaluated):
    for case, out in evaluated:
        try:
            xdec_access(case["csr"], 0, 0)
            ref_ok = True
        except IllegalInstruction:
            ref_ok = False
        assert out["legal_full"] == ref_ok, hex(case["csr"])
        for name, cfg in CONFIGS.items():
            assert out[f"legal_{name}"] == supports(cfg, case["csr"]), (name, hex(case["csr"]))


def test_access_equals_xdec_access(evaluated):
    checked = 0
    for case, out in evaluated:
        if not out["legal_full"]:
            continue
        ref = xdec_access(case["csr"], case["rs1"], case["rs2"])
        assert (out["lane"], out["idx"], out["j"], out["offset"], out["addr"]) == \
            (ref.lane, ref.idx, ref.j, ref.offset, ref.addr), hex(case["csr"])
        assert out["be"] == 1 << (ref.addr % 4)
        checked += 1
    assert checked > 400


def test_merge_equals_xdec_lb(evaluated):
    # xdec_lb merges Mem8[addr] into lane (cnt div P) mod 4: build a CSR whose lane is lane_in.
    for case, out in evaluated:
        byte = (case["word"] >> (8 * case["byte_off"])) & 0xFF
        csr = csr_pack(m=4, n=1, p=1, cnt=case["lane_in"])
        ref = xdec_lb(csr, 0, 0, case["old"], lambda _a, b=byte: b)
        assert out["merged"] == ref.rd


def test_csr_updates_equal_csr_write_and_the_increment(evaluated):
    writes = {CsrOp.WRITE.value, CsrOp.SET.value, CsrOp.CLEAR.value}
    for case, out in evaluated:
        csr, op, wdata = case["csr"], case["op"], case["wdata"]
        expected = {CsrOp.WRITE.value: csr_write(wdata), CsrOp.SET.value: csr_write(csr | wdata),
                    CsrOp.CLEAR.value: csr_write(csr & ~wdata)}.get(op, csr)
        assert out["sw"] == expected, (op, hex(csr), hex(wdata))
        assert (op in writes) or out["sw"] == csr  # csrr, no operation, unused encodings
        legal = csr_pack(m=4, n=1, p=1, cnt=_CNT.get(csr))
        ref_cnt = _CNT.get(xdec_lb(legal, 0, 0, 0, lambda _a: 0).csr)
        assert out["inc"] == _CNT.put(csr, ref_cnt), hex(csr)
