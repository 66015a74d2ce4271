// Vector unit (docs/architecture.md "Vector unit"): the datapath operations of a training step
// that are neither GEMMs, quantizers, batch norm nor the optimizer, on `Lanes` lanes, bit for
// bit the golden functions (docs/numerics.md §5.3, §5.5, §5.6, §7.3-§7.5, §8):
// ReLU and its mask, the ReLU backward, residual add, error merge, partial-sum merge, weight
// decay, the bias gradient (rtl/vu_elementwise.sv); max and average pooling, global included,
// forward and backward (rtl/vu_pool.sv), the softmax cross-entropy loss error (rtl/vu_loss.sv);
// the last two gather their operands through read requests rd_req_*.
//
// One command at a time: cmd_* is a valid/ready handshake, accepted only while the unit is
// idle (cmd_ready_o = !busy_o); the command's fields are latched and the unit is busy until
// its last output beat has been transferred. Data moves on valid/ready streams of `Lanes`
// elements per beat (lane l in bits [l*W +: W] of each port).
module vector_unit #(
  parameter int unsigned Lanes = 1
) (
  input  logic                                      clk_i,
  input  logic                                      rst_ni,
  // command
  input  logic                                      cmd_valid_i,
  output logic                                      cmd_ready_o,
  input  octet_pkg::vu_op_e                         cmd_op_i,
  input  logic signed [octet_pkg::VuShiftW-1:0]     cmd_shift_a_i,
  input  logic signed [octet_pkg::VuShiftW-1:0]     cmd_shift_b_i,
  input  logic        [octet_pkg::VuCountW-1:0]     cmd_count_i,
  input  logic        [octet_pkg::VuDimW-1:0]       cmd_height_i,   // pooling: input plane H x W
  input  logic        [octet_pkg::VuDimW-1:0]       cmd_width_i,
  input  logic        [octet_pkg::VuWinW-1:0]       cmd_kernel_i,   // pooling window, stride, pad
  input  logic        [octet_pkg::VuWinW-1:0]       cmd_stride_i,
  input  logic        [octet_pkg::VuWinW-1:0]       cmd_pad_i,
  input  logic                                      cmd_global_i,   // pooling over the whole plane
  input  logic        [octet_pkg::VuCountW-1:0]     cmd_batch_i,    // loss: the error's divisor B
  output logic                                      busy_o,
  // read requests of the gather operations (pooling, loss)
  output logic                                      rd_req_valid_o,
  input  logic                                      rd_req_ready_i,
  output logic        [octet_pkg::VuDimW-1:0]       rd_req_idx_o,
  // input stream (the read data, in request order, for the gather operations)
  input  logic                                      in_valid_i,
  output logic                                      in_ready_o,
  input  logic        [Lanes*octet_pkg::VuDataW-1:0] in_a_i,
  input  logic        [Lanes*octet_pkg::VuDataW-1:0] in_b_i,
  // output stream
  output logic                                      out_valid_o,
  input  logic                                      out_ready_i,
  output logic        [Lanes*octet_pkg::VuDataW-1:0] out_data_o,
  output logic        [Lanes*octet_pkg::VuAuxW-1:0]  out_aux_o,
  output logic        [Lanes-1:0]                   out_ovf_o
);
  localparam int unsigned SW = octet_pkg::VuShiftW;
  localparam int unsigned CW = octet_pkg::VuCountW;
  localparam int unsigned XW = octet_pkg::VuDimW;
  localparam int unsigned WW = octet_pkg::VuWinW;
  localparam int unsigned DW = octet_pkg::VuDataW;
  localparam int unsigned AW = octet_pkg::VuAuxW;

  function automatic logic is_pool(input octet_pkg::vu_op_e op);
    is_pool = op == octet_pkg::VuOpMaxPool || op == octet_pkg::VuOpAvgPool ||
              op == octet_pkg::VuOpMaxPoolBwd || op == octet_pkg::VuOpAvgPoolBwd;
  endfunction

  // ---- command register ----------------------------------------------------------------------
  logic                     busy_q, start, done;
  octet_pkg::vu_op_e        op_q;
  logic signed [SW-1:0]     shift_a_q, shift_b_q;
  logic        [CW-1:0]     count_q;
  logic        [XW-1:0]     height_q, width_q;
  logic        [WW-1:0]     kernel_q, stride_q, pad_q;
  logic                     global_q;
  logic        [CW-1:0]     batch_q;

  assign cmd_ready_o = !busy_q;
  assign busy_o      = busy_q;
  assign start       = cmd_valid_i && cmd_ready_o;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q    <= 1'b0;
      op_q      <= octet_pkg::VuOpRelu;
      shift_a_q <= '0;
      shift_b_q <= '0;
      count_q   <= '0;
      height_q  <= '0;
      width_q   <= '0;
      kernel_q  <= '0;
      stride_q  <= '0;
      pad_q     <= '0;
      global_q  <= 1'b0;
      batch_q   <= '0;
    end else if (start) begin
      busy_q    <= 1'b1;
      op_q      <= cmd_op_i;
      shift_a_q <= cmd_shift_a_i;
      shift_b_q <= cmd_shift_b_i;
      count_q   <= cmd_count_i;
      height_q  <= cmd_height_i;
      width_q   <= cmd_width_i;
      kernel_q  <= cmd_kernel_i;
      stride_q  <= cmd_stride_i;
      pad_q     <= cmd_pad_i;
      global_q  <= cmd_global_i;
      batch_q   <= cmd_batch_i;
    end else if (done) begin
      busy_q <= 1'b0;
    end
  end

  // ---- engines: the command's op selects one; the others sit idle ---------------------------
  logic                  pool_q, loss_q, ew_q;
  logic                  ew_done, ew_in_ready, ew_out_valid;
  logic                  pl_done, pl_in_ready, pl_out_valid, pl_rd_valid;
  logic                  ls_done, ls_in_ready, ls_out_valid, ls_rd_valid;
  logic [XW-1:0]         pl_rd_idx, ls_rd_idx;
  logic [Lanes*DW-1:0]   ew_data, pl_data, ls_data;
  logic [Lanes*AW-1:0]   ew_aux, pl_aux, ls_aux;
  logic [Lanes-1:0]      ew_ovf, pl_ovf, ls_ovf;

  assign pool_q = is_pool(op_q);
  assign loss_q = op_q == octet_pkg::VuOpLoss;
  assign ew_q   = !pool_q && !loss_q;
  assign done   = ew_done || pl_done || ls_done;

  always_comb begin
    rd_req_valid_o = 1'b0;
    rd_req_idx_o   = '0;
    in_ready_o     = ew_in_ready;
    out_valid_o    = ew_out_valid;
    out_data_o     = ew_data;
    out_aux_o      = ew_aux;
    out_ovf_o      = ew_ovf;
    if (pool_q) begin
      rd_req_valid_o = pl_rd_valid;
      rd_req_idx_o   = pl_rd_idx;
      in_ready_o     = pl_in_ready;
      out_valid_o    = pl_out_valid;
      out_data_o     = pl_data;
      out_aux_o      = pl_aux;
      out_ovf_o      = pl_ovf;
    end else if (loss_q) begin
      rd_req_valid_o = ls_rd_valid;
      rd_req_idx_o   = ls_rd_idx;
      in_ready_o     = ls_in_ready;
      out_valid_o    = ls_out_valid;
      out_data_o     = ls_data;
      out_aux_o      = ls_aux;
      out_ovf_o      = ls_ovf;
    end
  end

  vu_elementwise #(.Lanes(Lanes)) u_elementwise (
    .clk_i,
    .rst_ni,
    .start_i    (start && !is_pool(cmd_op_i) && cmd_op_i != octet_pkg::VuOpLoss),
    .active_i   (busy_q && ew_q),
    .op_i       (op_q),
    .shift_a_i  (shift_a_q),
    .shift_b_i  (shift_b_q),
    .count_i    (count_q),
    .done_o     (ew_done),
    .in_valid_i,
    .in_ready_o (ew_in_ready),
    .in_a_i,
    .in_b_i,
    .out_valid_o(ew_out_valid),
    .out_ready_i(out_ready_i && ew_q),
    .out_data_o (ew_data),
    .out_aux_o  (ew_aux),
    .out_ovf_o  (ew_ovf)
  );

  vu_pool #(.Lanes(Lanes)) u_pool (
    .clk_i,
    .rst_ni,
    .start_i    (start && is_pool(cmd_op_i)),
    .active_i   (busy_q && pool_q),
    .op_i       (op_q),
    .height_i   (height_q),
    .width_i    (width_q),
    .kernel_i   (kernel_q),
    .stride_i   (stride_q),
    .pad_i      (pad_q),
    .global_i   (global_q),
    .done_o     (pl_done),
    .rd_req_valid_o(pl_rd_valid),
    .rd_req_ready_i(rd_req_ready_i && pool_q),
    .rd_req_idx_o  (pl_rd_idx),
    .in_valid_i,
    .in_ready_o (pl_in_ready),
    .in_a_i,
    .in_b_i,
    .out_valid_o(pl_out_valid),
    .out_ready_i(out_ready_i && pool_q),
    .out_data_o (pl_data),
    .out_aux_o  (pl_aux),
    .out_ovf_o  (pl_ovf)
  );

  vu_loss #(.Lanes(Lanes)) u_loss (
    .clk_i,
    .rst_ni,
    .start_i       (start && cmd_op_i == octet_pkg::VuOpLoss),
    .active_i      (busy_q && loss_q),
    .classes_i     (count_q),
    .batch_i       (batch_q),
    .shift_i       (shift_a_q),
    .done_o        (ls_done),
    .rd_req_valid_o(ls_rd_valid),
    .rd_req_ready_i(rd_req_ready_i && loss_q),
    .rd_req_idx_o  (ls_rd_idx),
    .in_valid_i,
    .in_ready_o    (ls_in_ready),
    .in_a_i,
    .in_b_i,
    .out_valid_o   (ls_out_valid),
    .out_ready_i   (out_ready_i && loss_q),
    .out_data_o    (ls_data),
    .out_aux_o     (ls_aux),
    .out_ovf_o     (ls_ovf)
  );

endmodule : vector_unit
