// Top module of the CV32E40P reference harness for Verilator (driven by sim/cv32e40p_tb.cpp).
//
// Wraps the unmodified `cv32e40p_top` of the pythondata-cpu-cv32e40p package with XpulpV2 on
// (COREV_PULP=1), no FPU, no cluster features, and ties the debug inputs off.  The interrupt
// lines come from the testbench (`--irq-at` / `--irq-gap`: sim/cv32e40p_tb.cpp).
// The C++ testbench models the OBI instruction and data memories and MMIO.  Besides the core's
// ports, a few internal signals are brought out through hierarchical references so that the
// testbench can count retired instructions and report where a program is stuck:
//   minstret_event_o : the core's own `mhpmevent_minstret` (the event that increments minstret),
//                      high in the cycle an instruction is in EX after leaving ID; it does not
//                      depend on mcountinhibit.
//   mcycle_o, minstret_o : the architectural counters mhpmcounter[0] and [2] (honour mcountinhibit).
//   pc_id_o, mepc_o, mcause_o : diagnostics for timeouts.
//   id_done_o : an instruction leaves ID this cycle (id_valid && is_decoding; trapping ones too),
//               for the per-instruction trace (`--trace`).

module cv32e40p_tb_top #(
    parameter logic [31:0] BOOT_ADDR  = 32'h0000_0080,
    parameter logic [31:0] MTVEC_ADDR = 32'h0000_0000
) (
    input logic clk_i,
    input logic rst_ni,

    output logic        instr_req_o,
    input  logic        instr_gnt_i,
    input  logic        instr_rvalid_i,
    output logic [31:0] instr_addr_o,
    input  logic [31:0] instr_rdata_i,

    output logic        data_req_o,
    input  logic        data_gnt_i,
    input  logic        data_rvalid_i,
    output logic        data_we_o,
    output logic [ 3:0] data_be_o,
    output logic [31:0] data_addr_o,
    output logic [31:0] data_wdata_o,
    input  logic [31:0] data_rdata_i,

    input  logic [31:0] irq_i,
    output logic        irq_ack_o,
    output logic [ 4:0] irq_id_o,

    output logic        core_sleep_o,
    output logic        minstret_event_o,
    output logic [63:0] mcycle_o,
    output logic [63:0] minstret_o,
    output logic [31:0] pc_id_o,
    output logic [31:0] mepc_o,
    output logic [ 5:0] mcause_o,
    output logic        id_done_o
);

  logic debug_havereset, debug_running, debug_halted;

  cv32e40p_top #(
`ifdef CV32E40P_XDEC  // the project's patched core (hw/cv32e40p/): 1 = xDecimate on, 0 = off
      .COREV_XDEC      (`CV32E40P_XDEC),
`endif
      .COREV_PULP      (1),
      .COREV_CLUSTER   (0),
      .FPU             (0),
      .ZFINX           (0),
      .NUM_MHPMCOUNTERS(1)
  ) top_i (
      .clk_i (clk_i),
      .rst_ni(rst_ni),

      .pulp_clock_en_i(1'b1),
      .scan_cg_en_i   (1'b0),

      .boot_addr_i        (BOOT_ADDR),
      .mtvec_addr_i       (MTVEC_ADDR),
      .dm_halt_addr_i     (32'h0),
      .hart_id_i          (32'h0),
      .dm_exception_addr_i(32'h0),

      .instr_req_o   (instr_req_o),
      .instr_gnt_i   (instr_gnt_i),
      .instr_rvalid_i(instr_rvalid_i),
      .instr_addr_o  (instr_addr_o),
      .instr_rdata_i (instr_rdata_i),

      .data_req_o   (data_req_o),
      .data_gnt_i   (data_gnt_i),
      .data_rvalid_i(data_rvalid_i),
      .data_we_o    (data_we_o),
      .data_be_o    (data_be_o),
      .data_addr_o  (data_addr_o),
      .data_wdata_o (data_wdata_o),
      .data_rdata_i (data_rdata_i),

      .irq_i    (irq_i),
      .irq_ack_o(irq_ack_o),
      .irq_id_o (irq_id_o),

      .debug_req_i      (1'b0),
      .debug_havereset_o(debug_havereset),
      .debug_running_o  (debug_running),
      .debug_halted_o   (debug_halted),

      .fetch_enable_i(1'b1),
      .core_sleep_o  (core_sleep_o)
  );

  assign minstret_event_o = top_i.core_i.mhpmevent_minstret;
  assign mcycle_o         = top_i.core_i.cs_registers_i.mhpmcounter_q[0];
  assign minstret_o       = top_i.core_i.cs_registers_i.mhpmcounter_q[2];
  assign pc_id_o          = top_i.core_i.pc_id;
  assign mepc_o           = top_i.core_i.cs_registers_i.mepc_q;
  assign mcause_o         = top_i.core_i.cs_registers_i.mcause_q;
  assign id_done_o        = top_i.core_i.id_stage_i.id_valid_o && top_i.core_i.id_stage_i.is_decoding_o;

endmodule
