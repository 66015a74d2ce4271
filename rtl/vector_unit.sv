// Vector unit (docs/architecture.md "Vector unit"): the datapath operations of a training step
// that are neither GEMMs, quantizers, batch norm nor the optimizer, on `Lanes` lanes, bit for
// bit the golden functions (docs/numerics.md §5.3, §5.5, §5.6, §7.3-§7.5, §8):
// ReLU and its mask, the ReLU backward, residual add, error merge, partial-sum merge, weight
// decay, the bias gradient (rtl/vu_elementwise.sv).
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
  output logic                                      busy_o,
  // input stream
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

  // ---- command register ----------------------------------------------------------------------
  logic                     busy_q, start, done;
  octet_pkg::vu_op_e        op_q;
  logic signed [SW-1:0]     shift_a_q, shift_b_q;
  logic        [CW-1:0]     count_q;

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
    end else if (start) begin
      busy_q    <= 1'b1;
      op_q      <= cmd_op_i;
      shift_a_q <= cmd_shift_a_i;
      shift_b_q <= cmd_shift_b_i;
      count_q   <= cmd_count_i;
    end else if (done) begin
      busy_q <= 1'b0;
    end
  end

  // ---- element-wise engine -------------------------------------------------------------------
  vu_elementwise #(.Lanes(Lanes)) u_elementwise (
    .clk_i,
    .rst_ni,
    .start_i    (start),
    .active_i   (busy_q),
    .op_i       (op_q),
    .shift_a_i  (shift_a_q),
    .shift_b_i  (shift_b_q),
    .count_i    (count_q),
    .done_o     (done),
    .in_valid_i,
    .in_ready_o,
    .in_a_i,
    .in_b_i,
    .out_valid_o,
    .out_ready_i,
    .out_data_o,
    .out_aux_o,
    .out_ovf_o
  );

endmodule : vector_unit
