"""hw/merge.py against the reference: rtl_merge(case) == ref_merge(case)."""

import random

from xdecimate.hw.merge import XdecMerge
from xdecimate.sim.hwsim import rtl_comb
from xdecimate.sw.model import xdec_spec as spec
from xdecimate.sw.model.xdec_ref import csr_pack, xdec_access, xdec_lb


def _word_memory(word: int):
    """A memory whose every aligned word is ``word`` (the bus returns the word, LSU style)."""
    return lambda addr: (word >> (8 * (addr % 4))) & 0xFF


def rtl_merge(cases: list[tuple[int, int, int, int, int]]) -> list[int]:
    """New rd of the RTL for each (csr, rs1, rs2, rd, word)."""
    stim = []
    for csr, rs1, rs2, rd, word in cases:
        acc = xdec_access(csr, rs1, rs2)
        stim.append({"word": word, "byte_off": acc.addr % 4, "lane": acc.lane, "old": rd})
    return [o["result"] for o in rtl_comb(XdecMerge(), stim, ("result",))]


def ref_merge(case: tuple[int, int, int, int, int]) -> int:
    """New rd of ``xdec_ref.xdec_lb`` reading from a memory that holds ``word`` everywhere."""
    csr, rs1, rs2, rd, word = case
    return xdec_lb(csr, rs1, rs2, rd, _word_memory(word)).rd


def test_merge_matches_reference_every_lane_and_byte():
    rng = random.Random(5)
    cases = []
    for n, m in spec.PATTERNS:
        for p in (1, 2, 4):
            for cnt in range(4 * p):  # every lane
                csr = csr_pack(m=m, n=n, p=p, cnt=cnt)
                for rs1 in range(4):  # every byte offset (with idx 0)
                    for _ in range(3):
                        rs2 = rng.getrandbits(32) & ~0xFFFF  # idx 0 in every lane
                        cases.append((csr, rs1, rs2, rng.getrandbits(32), rng.getrandbits(32)))
    want = [ref_merge(c) for c in cases]
    assert rtl_merge(cases) == want
    assert sum(w != c[3] for w, c in zip(want, cases, strict=True)) > len(cases) // 2


def test_merge_extremes():
    csr = csr_pack(m=4, n=1, p=1, cnt=3)
    cases = [(csr, 3, 0, 0xFFFFFFFF, 0x00FFFFFF),  # lane 3 <- byte 3 = 0x00
             (csr, 0, 0, 0x00000000, 0x000000FF),  # lane 3 <- byte 0 = 0xFF
             (csr_pack(m=4, n=1, p=1, cnt=0), 2, 0, 0x12345678, 0xAABBCCDD)]
    assert rtl_merge(cases) == [ref_merge(c) for c in cases] == [0x00FFFFFF, 0xFF000000,
                                                                 0x123456BB]
