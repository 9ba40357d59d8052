// C++ testbench of the CV32E40P reference harness (see docs/cv32e40p.md and sim/cv32e40p.py).
//
// Models, around the Verilated `cv32e40p_tb_top`:
//   * an instruction memory and a data memory on the core's two OBI ports.  By default they
//     behave like a TCDM: `gnt` is always high (a request is accepted in the cycle it is made)
//     and `rvalid` + `rdata` come exactly one cycle after the accepting cycle.  With
//     `--gnt-prob P` / `--max-extra-latency L` / `--seed S`, `gnt` is high with probability P %
//     per cycle and every response is delayed by 0..L further cycles (in order), per port;
//   * the MMIO window of sw/iss/memmap.py (word stores only): EXIT, PUTC, MARK;
//   * an interrupt source on one line of `irq_i` (`--irq-line`, default 16, the first fast
//     interrupt).  `--irq-at C1,C2,...` raises it at those cycles; `--irq-gap MIN:MAX` raises it
//     MIN..MAX cycles (uniform, `--irq-seed`) after the previous one was taken, the first one
//     MIN..MAX cycles after reset.  The line is level-sensitive: it stays high until the core
//     acknowledges it (`irq_ack_o` with `irq_id_o` = the line), then drops in the next cycle.
//     A request whose cycle has passed while one is pending is raised right after the ack.
//     result.txt reports `irqs_raised` and `irqs_taken`.
//   * the L2 (`--l2 FILE`: its initial image) and the DMA engine of sw/iss/memmap.py, exactly as
//     the ISS models them: parameter registers, START copies the rows at once and the transfer
//     is in flight until the next WAIT; a transfer begins the cycle after its START store is
//     granted (or when the previous one ends) and lasts DMA_SETUP_CYCLES + rows *
//     (DMA_ROW_CYCLES + ceil(len / DMA_BYTES_PER_CYCLE)); a WAIT store is not granted
//     (`data_gnt_i` low) before the last transfer has ended.  A data access of the core that
//     touches a row an in-flight transfer writes (or a store into a row it reads) is a bus
//     error ("DMA race").  result.txt reports `dma_transfers` and `dma_cycles`; `--l2-dump N`
//     writes the first N bytes of L2 to l2.bin.
//
// Counters.  Cycle 0 is the first clock cycle with rst_ni high.  For an MMIO store accepted on
// the data bus in cycle c (the store is in EX), the testbench records
//   cycles  = c + 1 : cycles elapsed from reset release through the end of cycle c;
//   instret = instructions counted by the core's minstret event up to and including cycle c
//             (this includes the store itself);
// i.e. the values mcycle/minstret would hold right after cycle c had they never been inhibited.
// It also records the core's architectural mcycle/minstret right after cycle c (they honour
// mcountinhibit, which resets to 0xD: stopped).
//
// Memory images and MMIO addresses are compile-time definitions (-DIMEM_BASE=... from
// sw/iss/memmap.py via sim/cv32e40p.py).
//
// Exit status: 0 program wrote MMIO_EXIT, 1 usage or I/O error, 2 cycle limit reached,
// 3 bus error (access outside the memory map, MMIO misuse).  `--out DIR` receives result.txt,
// stdout.bin and dmem.bin in every case.

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "Vcv32e40p_tb_top.h"
#include "verilated.h"

#ifndef IMEM_BASE
#error "IMEM_BASE must be defined (sw/iss/memmap.py)"
#endif

namespace {

struct Response {
    uint64_t ready;  // first cycle in which rvalid may be high
    uint32_t data;
};

struct MarkRec {
    uint32_t id;
    uint64_t cycles, instret, mcycle, minstret;
};

// A 2-D region of an in-flight DMA transfer in DMEM: rows of len bytes every stride bytes.
struct Flight {
    uint64_t index;
    bool reads_only;  // a source: only core stores into it race
    uint32_t base, len, rows, stride;
    bool touches(uint32_t b) const {
        if (b < base) return false;
        uint32_t off = b - base;
        uint32_t r = stride ? std::min<uint32_t>(rows - 1, off / stride) : 0;
        return off - r * stride < len;
    }
};

struct Rng {
    uint64_t s;
    uint64_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
    unsigned below(unsigned n) { return n ? unsigned(next() % n) : 0; }
};

bool read_file(const char* path, std::vector<uint8_t>& mem, const char* what) {
    FILE* f = std::fopen(path, "rb");
    if (!f) {
        std::fprintf(stderr, "cv32e40p_tb: cannot open %s image %s\n", what, path);
        return false;
    }
    size_t n = std::fread(mem.data(), 1, mem.size() + 1, f);
    bool too_big = n > mem.size();
    std::fclose(f);
    if (too_big) {
        std::fprintf(stderr, "cv32e40p_tb: %s image %s is larger than %zu bytes\n", what, path,
                     mem.size());
        return false;
    }
    return true;
}

bool write_file(const std::string& path, const uint8_t* data, size_t n) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return false;
    bool ok = std::fwrite(data, 1, n, f) == n;
    return std::fclose(f) == 0 && ok;
}

uint32_t load_word(const std::vector<uint8_t>& mem, uint32_t offset) {
    uint32_t w;
    std::memcpy(&w, &mem[offset], 4);  // little-endian host assumed (x86-64, aarch64)
    return w;
}

bool in_region(uint32_t addr, uint32_t base, uint32_t size) {
    return addr >= base && addr - base < size;
}

void usage() {
    std::fprintf(stderr,
                 "usage: cv32e40p_tb --imem FILE --dmem FILE --out DIR [--max-cycles N]\n"
                 "                   [--seed S --gnt-prob P --max-extra-latency L] [--trace FILE]\n"
                 "                   [--irq-line L] [--irq-at C1,C2,... | --irq-gap MIN:MAX "
                 "[--irq-seed S]] [--l2 FILE] [--l2-dump N]\n");
}

// "C1,C2,...": non-decreasing cycle numbers.
bool parse_cycles(const char* text, std::vector<uint64_t>& out) {
    const char* p = text;
    while (*p) {
        char* end;
        uint64_t v = std::strtoull(p, &end, 0);
        if (end == p || (*end && *end != ',')) return false;
        if (!out.empty() && v < out.back()) return false;
        out.push_back(v);
        p = *end ? end + 1 : end;
    }
    return !out.empty();
}

}  // namespace

int main(int argc, char** argv) {
    const char* imem_path = nullptr;
    const char* dmem_path = nullptr;
    const char* l2_path = nullptr;
    uint64_t l2_dump = 0;
    std::string out_dir, trace_path;
    uint64_t max_cycles = 10'000'000;
    uint64_t seed = 1;
    unsigned gnt_prob = 100, max_extra = 0;
    unsigned irq_line = 16;
    std::vector<uint64_t> irq_at;
    uint64_t irq_gap_min = 0, irq_gap_max = 0, irq_seed = 1;
    bool irq_gap = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (i + 1 >= argc) {
            usage();
            return 1;
        }
        const char* v = argv[++i];
        if (a == "--imem") imem_path = v;
        else if (a == "--dmem") dmem_path = v;
        else if (a == "--out") out_dir = v;
        else if (a == "--l2") l2_path = v;
        else if (a == "--l2-dump") l2_dump = std::strtoull(v, nullptr, 0);
        else if (a == "--max-cycles") max_cycles = std::strtoull(v, nullptr, 0);
        else if (a == "--seed") seed = std::strtoull(v, nullptr, 0);
        else if (a == "--gnt-prob") gnt_prob = unsigned(std::strtoul(v, nullptr, 0));
        else if (a == "--max-extra-latency") max_extra = unsigned(std::strtoul(v, nullptr, 0));
        else if (a == "--trace") trace_path = v;
        else if (a == "--irq-line") irq_line = unsigned(std::strtoul(v, nullptr, 0));
        else if (a == "--irq-seed") irq_seed = std::strtoull(v, nullptr, 0);
        else if (a == "--irq-at") {
            if (!parse_cycles(v, irq_at)) {
                std::fprintf(stderr, "cv32e40p_tb: --irq-at needs non-decreasing cycles, not %s\n",
                             v);
                return 1;
            }
        } else if (a == "--irq-gap") {
            char* end;
            irq_gap_min = std::strtoull(v, &end, 0);
            if (*end != ':') {
                usage();
                return 1;
            }
            irq_gap_max = std::strtoull(end + 1, &end, 0);
            if (*end || irq_gap_max < irq_gap_min || irq_gap_min == 0) {
                std::fprintf(stderr, "cv32e40p_tb: --irq-gap needs 1 <= MIN <= MAX, not %s\n", v);
                return 1;
            }
            irq_gap = true;
        } else {
            usage();
            return 1;
        }
    }
    if (!imem_path || !dmem_path || out_dir.empty() || gnt_prob == 0 || gnt_prob > 100 ||
        irq_line > 31 || (irq_gap && !irq_at.empty()) || l2_dump > L2_SIZE) {
        usage();
        return 1;
    }

    std::vector<uint8_t> imem(IMEM_SIZE, 0), dmem(DMEM_SIZE, 0);
    if (!read_file(imem_path, imem, "imem") || !read_file(dmem_path, dmem, "dmem")) return 1;
    std::vector<uint8_t> l2(L2_SIZE, 0);
    if (l2_path && !read_file(l2_path, l2, "l2")) return 1;
    // DMA engine: parameter registers, end cycle of the last transfer, transfers in flight
    uint32_t dma_src = 0, dma_dst = 0, dma_len = 0, dma_rows = 0, dma_ss = 0, dma_ds = 0;
    uint64_t dma_end = 0, dma_transfers = 0, dma_cycles = 0;
    std::vector<Flight> flights;
    // The backing store of a DMA row region inside DMEM or L2 (nullptr: outside both).
    auto dma_region = [&](uint32_t addr, uint32_t len, uint32_t rows, uint32_t stride,
                          bool& in_dmem) -> uint8_t* {
        uint64_t last = uint64_t(addr) + uint64_t(rows - 1) * stride + len;
        if (addr >= DMEM_BASE && last <= uint64_t(DMEM_BASE) + DMEM_SIZE) {
            in_dmem = true;
            return &dmem[addr - DMEM_BASE];
        }
        if (addr >= L2_BASE && last <= uint64_t(L2_BASE) + L2_SIZE) {
            in_dmem = false;
            return &l2[addr - L2_BASE];
        }
        return nullptr;
    };

    auto ctx = std::make_unique<VerilatedContext>();
    ctx->fatalOnError(false);
    auto top = std::make_unique<Vcv32e40p_tb_top>(ctx.get());
    Rng rng{seed * 0x9E3779B97F4A7C15ull + 0x1234567ull};
    Rng irq_rng{irq_seed * 0x9E3779B97F4A7C15ull + 0x7654321ull};
    auto gap = [&]() { return irq_gap_min + irq_rng.below(unsigned(irq_gap_max - irq_gap_min + 1)); };
    // Interrupt source: next request cycle (UINT64_MAX: none), whether the line is high.
    size_t irq_next_at = 0;
    uint64_t irq_due = UINT64_MAX, irqs_raised = 0, irqs_taken = 0;
    bool irq_high = false;
    if (!irq_at.empty()) irq_due = irq_at[irq_next_at++];
    else if (irq_gap) irq_due = gap();
    const bool stalls = gnt_prob < 100 || max_extra > 0;
    // --trace: one line "cycle pc" per instruction leaving ID (docs/iss.md: localising an
    // ISS/RTL cycle difference to the instruction)
    FILE* trace = trace_path.empty() ? nullptr : std::fopen(trace_path.c_str(), "w");

    auto tick = [&](bool rst_n) {
        top->rst_ni = rst_n;
        top->clk_i = 0;
        top->eval();
        top->clk_i = 1;
        top->eval();
    };
    // Reset: a real 1 -> 0 edge on rst_ni, held low for a few cycles, memories idle.
    top->instr_gnt_i = 0;
    top->instr_rvalid_i = 0;
    top->instr_rdata_i = 0;
    top->data_gnt_i = 0;
    top->data_rvalid_i = 0;
    top->data_rdata_i = 0;
    top->irq_i = 0;
    tick(true);
    for (int i = 0; i < 5; ++i) tick(false);

    std::deque<Response> iq, dq;
    std::string out_text;
    std::vector<MarkRec> marks;
    uint64_t instret = 0, cycle = 0, done = 0;  // done: cycles fully simulated
    int status = -1;
    uint32_t exit_code = 0;
    std::string error;
    char buf[256];

    for (; status < 0; ++cycle) {
        if (cycle >= max_cycles) {
            std::snprintf(buf, sizeof buf,
                          "cycle limit %" PRIu64 " reached (pc_id 0x%08x, mcause 0x%02x, "
                          "mepc 0x%08x%s)",
                          max_cycles, top->pc_id_o, top->mcause_o, top->mepc_o,
                          top->core_sleep_o ? ", core asleep in wfi" : "");
            error = buf;
            status = 2;
            break;
        }
        // Inputs for cycle `cycle`, with the clock low.
        top->rst_ni = 1;
        top->clk_i = 0;
        bool igv = !iq.empty() && iq.front().ready <= cycle;
        bool dgv = !dq.empty() && dq.front().ready <= cycle;
        top->instr_rvalid_i = igv;
        top->instr_rdata_i = igv ? iq.front().data : 0;
        top->data_rvalid_i = dgv;
        top->data_rdata_i = dgv ? dq.front().data : 0;
        top->instr_gnt_i = stalls ? rng.below(100) < gnt_prob : 1;
        top->data_gnt_i = stalls ? rng.below(100) < gnt_prob : 1;
        if (!irq_high && cycle >= irq_due) {
            irq_high = true;
            ++irqs_raised;
        }
        top->irq_i = irq_high ? 1u << irq_line : 0u;
        top->eval();
        if (top->data_req_o && top->data_gnt_i && top->data_we_o &&
            top->data_addr_o == MMIO_DMA_WAIT && dma_end > cycle) {
            top->data_gnt_i = 0;  // DMA_WAIT: granted once the last transfer has ended
            top->eval();
        }
        if (irq_high && top->irq_ack_o && top->irq_id_o == irq_line) {
            irq_high = false;  // low from the next cycle on
            ++irqs_taken;
            if (irq_next_at < irq_at.size()) irq_due = irq_at[irq_next_at++];
            else if (irq_gap) irq_due = cycle + gap();
            else irq_due = UINT64_MAX;
        }
        if (igv) iq.pop_front();
        if (dgv) dq.pop_front();
        instret += top->minstret_event_o;
        if (trace && top->id_done_o)
            std::fprintf(trace, "%" PRIu64 " %08x\n", cycle, top->pc_id_o);

        // Requests accepted in this cycle (req && gnt), answered `1 + extra` cycles later.
        if (top->instr_req_o && top->instr_gnt_i) {
            uint32_t a = top->instr_addr_o & ~3u;
            if (!in_region(a, IMEM_BASE, IMEM_SIZE)) {
                std::snprintf(buf, sizeof buf, "instruction fetch outside imem at 0x%08x", a);
                error = buf;
                status = 3;
                break;
            }
            iq.push_back({cycle + 1 + rng.below(max_extra + 1), load_word(imem, a - IMEM_BASE)});
        }
        bool mmio_mark = false;
        if (top->data_req_o && top->data_gnt_i) {
            uint32_t addr = top->data_addr_o, a = addr & ~3u, be = top->data_be_o;
            uint32_t wdata = top->data_wdata_o, rdata = 0;
            bool we = top->data_we_o;
            if (in_region(a, DMEM_BASE, DMEM_SIZE) && !flights.empty()) {
                for (const Flight& f : flights) {
                    if (f.reads_only && !we) continue;
                    int lo = 0, hi = 3;  // the bytes the access touches
                    while (lo < 4 && !(be >> lo & 1)) ++lo;
                    while (hi > lo && !(be >> hi & 1)) --hi;
                    if (lo < 4 && (f.touches(a + lo) || f.touches(a + hi))) {
                        std::snprintf(buf, sizeof buf,
                                      "DMA race: a %s of 0x%08x at pc_id 0x%08x touches a row "
                                      "that DMA transfer %" PRIu64 " %s (in flight until a "
                                      "store to MMIO_DMA_WAIT)",
                                      we ? "store" : "load", addr, top->pc_id_o, f.index,
                                      f.reads_only ? "reads" : "writes");
                        error = buf;
                        status = 3;
                    }
                }
            }
            if (status >= 0) {
                // a DMA race: stop without performing the access
            } else if (in_region(a, DMEM_BASE, DMEM_SIZE)) {
                uint32_t off = a - DMEM_BASE;
                if (we) {
                    for (int b = 0; b < 4; ++b)
                        if (be >> b & 1) dmem[off + b] = uint8_t(wdata >> (8 * b));
                } else {
                    rdata = load_word(dmem, off);
                }
            } else if (in_region(a, IMEM_BASE, IMEM_SIZE) && !we) {
                rdata = load_word(imem, a - IMEM_BASE);
            } else if (in_region(a, MMIO_BASE, MMIO_SIZE) && we && be == 0xF) {
                if (addr == MMIO_EXIT) {
                    exit_code = wdata;
                    status = 0;
                } else if (addr == MMIO_PUTC) {
                    out_text.push_back(char(wdata & 0xFF));
                } else if (addr == MMIO_MARK) {
                    marks.push_back({wdata, cycle + 1, instret, 0, 0});
                    mmio_mark = true;
                } else if (addr == MMIO_DMA_SRC) {
                    dma_src = wdata;
                } else if (addr == MMIO_DMA_DST) {
                    dma_dst = wdata;
                } else if (addr == MMIO_DMA_LEN) {
                    dma_len = wdata;
                } else if (addr == MMIO_DMA_ROWS) {
                    dma_rows = wdata;
                } else if (addr == MMIO_DMA_SSTRIDE) {
                    dma_ss = wdata;
                } else if (addr == MMIO_DMA_DSTRIDE) {
                    dma_ds = wdata;
                } else if (addr == MMIO_DMA_WAIT) {
                    flights.clear();  // granted: every transfer has ended
                } else if (addr == MMIO_DMA_START) {
                    bool s_dmem = false, d_dmem = false;
                    uint8_t* sp = dma_len && dma_rows
                                      ? dma_region(dma_src, dma_len, dma_rows, dma_ss, s_dmem)
                                      : nullptr;
                    uint8_t* dp = dma_len && dma_rows
                                      ? dma_region(dma_dst, dma_len, dma_rows, dma_ds, d_dmem)
                                      : nullptr;
                    if (!sp || !dp) {
                        std::snprintf(buf, sizeof buf,
                                      "DMA transfer %" PRIu64 ": %u rows of %u bytes from "
                                      "0x%08x (stride %u) to 0x%08x (stride %u) is empty or "
                                      "not inside DMEM or L2",
                                      dma_transfers, dma_rows, dma_len, dma_src, dma_ss, dma_dst,
                                      dma_ds);
                        error = buf;
                        status = 3;
                    } else {
                        for (uint32_t r = 0; r < dma_rows; ++r)
                            std::memmove(dp + uint64_t(r) * dma_ds, sp + uint64_t(r) * dma_ss,
                                         dma_len);
                        uint64_t cost = DMA_SETUP_CYCLES +
                                        uint64_t(dma_rows) *
                                            (DMA_ROW_CYCLES +
                                             (dma_len + DMA_BYTES_PER_CYCLE - 1) /
                                                 DMA_BYTES_PER_CYCLE);
                        dma_end = std::max(cycle + 1, dma_end) + cost;
                        dma_cycles += cost;
                        if (s_dmem)
                            flights.push_back({dma_transfers, true, dma_src, dma_len, dma_rows,
                                               dma_ss});
                        if (d_dmem)
                            flights.push_back({dma_transfers, false, dma_dst, dma_len, dma_rows,
                                               dma_ds});
                        ++dma_transfers;
                    }
                } else {
                    std::snprintf(buf, sizeof buf, "store to unmapped MMIO register 0x%08x", addr);
                    error = buf;
                    status = 3;
                }
            } else {
                std::snprintf(buf, sizeof buf,
                              "%s of 0x%08x (byte enables 0x%x) at pc_id 0x%08x outside the "
                              "memory map (imem is read-only, MMIO takes word stores only)",
                              we ? "store" : "load", addr, be, top->pc_id_o);
                error = buf;
                status = 3;
            }
            dq.push_back({cycle + 1 + rng.below(max_extra + 1), rdata});
        }
        top->clk_i = 1;
        top->eval();
        done = cycle + 1;
        if (mmio_mark) {
            marks.back().mcycle = top->mcycle_o;
            marks.back().minstret = top->minstret_o;
        }
    }
    top->final();
    if (trace) std::fclose(trace);

    std::string res;
    const char* names[] = {"ok", "usage", "timeout", "bus_error"};
    std::snprintf(buf, sizeof buf,
                  "status %s\nexit_code %u\ncycles %" PRIu64 "\ninstret %" PRIu64
                  "\nmcycle %" PRIu64 "\nminstret %" PRIu64 "\nirqs_raised %" PRIu64
                  "\nirqs_taken %" PRIu64 "\ndma_transfers %" PRIu64 "\ndma_cycles %" PRIu64
                  "\n",
                  names[status], exit_code, done, instret, uint64_t(top->mcycle_o),
                  uint64_t(top->minstret_o), irqs_raised, irqs_taken, dma_transfers,
                  dma_cycles);
    res += buf;
    for (const MarkRec& m : marks) {
        std::snprintf(buf, sizeof buf,
                      "mark %u %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", m.id,
                      m.cycles, m.instret, m.mcycle, m.minstret);
        res += buf;
    }
    if (!error.empty()) res += "error " + error + "\n";
    bool ok = write_file(out_dir + "/result.txt", reinterpret_cast<const uint8_t*>(res.data()),
                         res.size()) &&
              write_file(out_dir + "/stdout.bin",
                         reinterpret_cast<const uint8_t*>(out_text.data()), out_text.size()) &&
              write_file(out_dir + "/dmem.bin", dmem.data(), dmem.size()) &&
              (!l2_dump || write_file(out_dir + "/l2.bin", l2.data(), size_t(l2_dump)));
    if (!ok) {
        std::fprintf(stderr, "cv32e40p_tb: cannot write results to %s\n", out_dir.c_str());
        return 1;
    }
    if (!error.empty()) std::fprintf(stderr, "cv32e40p_tb: %s\n", error.c_str());
    return status;
}
