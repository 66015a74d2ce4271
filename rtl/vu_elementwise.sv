// Vector unit, element-wise engine (docs/architecture.md "Vector unit"): one command's
// `count_i` input beats of `Lanes` elements each, two pipeline stages, bit for bit the golden
// functions (docs/numerics.md):
//
//   VuOpRelu         A = sat(rshift(y, 7), 0, 255), mask = (0 < y <= 255·2^7)   relu_quantize
//   VuOpReluBwd      dy = mask ? E1 : 0                                        relu_backward
//   VuOpResidualAdd  S = a·2^sa + b·2^sb, int32; overflow flagged             residual_add
//   VuOpErrorAdd     e = a·2^sa + b·2^sb, int64; overflow flagged             error_add
//   VuOpPsumMerge    acc = a + b in AccW bits; overflow flagged              (GEMM chunk merge)
//   VuOpWeightDecay  G_raw + shift(W8, sa), int64; overflow flagged           add_weight_decay
//   VuOpBiasGrad     sat32(shift(Σ of the count_i beats, sa)), one out beat   linear_bias_grad
//
// shift(x, s) = x·2^s exactly for s >= 0 (flagged where golden's shift_left_checked throws:
// the result leaves int64, or s >= 63 with x != 0), rshift(x, -s) half to even for s < 0.
// The add ops take s >= 0 only (a negative shift is flagged, as golden throws on it).
// Stage 1 registers the inputs, stage 2 the result; the bias-gradient sum accumulates at
// stage 2 and leaves with the command's last beat.
module vu_elementwise #(
  parameter int unsigned Lanes = 1
) (
  input  logic                                      clk_i,
  input  logic                                      rst_ni,
  // command: start_i in the cycle vector_unit accepts it (clears the counters), then
  // active_i and the command fields held until done_o
  input  logic                                      start_i,
  input  logic                                      active_i,
  input  octet_pkg::vu_op_e                         op_i,
  input  logic signed [octet_pkg::VuShiftW-1:0]     shift_a_i,
  input  logic signed [octet_pkg::VuShiftW-1:0]     shift_b_i,
  input  logic        [octet_pkg::VuCountW-1:0]     count_i,
  output logic                                      done_o,
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
  localparam int unsigned DW   = octet_pkg::VuDataW;
  localparam int unsigned AW   = octet_pkg::VuAuxW;
  localparam int unsigned SW   = octet_pkg::VuShiftW;
  localparam int unsigned CW   = octet_pkg::VuCountW;
  localparam int unsigned AccW = octet_pkg::AccW;

  // x·2^s exactly (s >= 0); ovf where golden's shift_left_checked throws.
  function automatic logic [DW:0] shl_checked(input logic [DW-1:0] x, input logic signed [SW-1:0] s);
    logic [2*DW-1:0] wide;
    logic            ovf;
    logic [DW-1:0]   y;
    wide = {{DW{x[DW-1]}}, x} << s[SW-2:0];
    if (s < 0) begin
      ovf = 1'b1;
      y   = '0;
    end else if (x == '0) begin
      ovf = 1'b0;
      y   = '0;
    end else if (s >= SW'(DW - 1)) begin
      ovf = 1'b1;
      y   = '0;
    end else begin
      ovf = !(&wide[2*DW-1:DW-1]) && (|wide[2*DW-1:DW-1]);
      y   = wide[DW-1:0];
    end
    shl_checked = {ovf, y};
  endfunction

  // x / 2^s rounded half to even, s >= 1 (s >= DW gives 0). Its callers never shift by 0
  // (ReLU by 7, shift_rhe by -s for s < 0), so there is no s = 0 arm: it could not be covered.
  function automatic logic [DW-1:0] rshift_rhe(input logic [DW-1:0] x, input logic [SW-1:0] s);
    logic [DW-1:0] q, rem, half, mask;
    logic          inc;
    if (s >= SW'(DW)) begin
      rshift_rhe = '0;
    end else begin
      q    = DW'($signed(x) >>> s);
      mask = (DW'(1) << s) - DW'(1);
      rem  = x & mask;
      half = DW'(1) << (s - SW'(1));
      inc  = (rem > half) || (rem == half && q[0]);
      rshift_rhe = q + DW'(inc);
    end
  endfunction

  // shift(x, s): exact left shift (checked) for s >= 0, rhe right shift for s < 0.
  function automatic logic [DW:0] shift_rhe(input logic [DW-1:0] x, input logic signed [SW-1:0] s);
    if (s >= 0) shift_rhe = shl_checked(x, s);
    else        shift_rhe = {1'b0, rshift_rhe(x, SW'(-s))};
  endfunction

  // ---- command bookkeeping ---------------------------------------------------------------------
  logic          bias;
  logic [CW-1:0] in_cnt_q, out_cnt_q, out_total;
  assign bias      = op_i == octet_pkg::VuOpBiasGrad;
  assign out_total = bias ? CW'(1) : count_i;

  // ---- pipeline control --------------------------------------------------------------------
  logic valid1_q, valid2_q, last1_q, ready1, ready2, load1, load2, emit2, more_in;
  assign more_in     = active_i && in_cnt_q != count_i;
  assign ready2      = !valid2_q || out_ready_i;
  assign ready1      = !valid1_q || ready2;
  assign in_ready_o  = ready1 && more_in;
  assign load1       = in_ready_o && in_valid_i;
  assign load2       = ready2 && valid1_q;
  assign emit2       = load2 && (!bias || last1_q);
  assign out_valid_o = valid2_q;
  assign done_o      = active_i && out_valid_o && out_ready_i && out_cnt_q == out_total - CW'(1);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      in_cnt_q  <= '0;
      out_cnt_q <= '0;
      valid1_q  <= 1'b0;
      valid2_q  <= 1'b0;
      last1_q   <= 1'b0;
    end else begin
      if (start_i) begin
        in_cnt_q  <= '0;
        out_cnt_q <= '0;
      end else begin
        if (load1) in_cnt_q <= in_cnt_q + CW'(1);
        if (out_valid_o && out_ready_i) out_cnt_q <= out_cnt_q + CW'(1);
      end
      if (ready1) begin
        valid1_q <= load1;
        last1_q  <= load1 && in_cnt_q == count_i - CW'(1);
      end
      if (ready2) valid2_q <= emit2;
    end
  end

  // ---- lanes -------------------------------------------------------------------------------
  for (genvar l = 0; l < Lanes; l++) begin : g_lane
    logic [DW-1:0] a1_q, b1_q;
    logic [DW-1:0] res_d, res_q, acc_d, acc_q;
    logic [AW-1:0] aux_d, aux_q;
    logic          ovf_d, ovf_q, acc_ovf_d, acc_ovf_q;

    // scratch of the result computation
    logic signed [31:0]   y32;
    logic        [DW-1:0] a32, b32, aacc, bacc, rq;
    logic        [DW:0]   sa, sb, sw;
    logic signed [DW:0]   sum;
    logic signed [AccW:0] psum;

    always_comb begin
      y32   = a1_q[31:0];
      a32   = {{(DW - 32){a1_q[31]}}, a1_q[31:0]};
      b32   = {{(DW - 32){b1_q[31]}}, b1_q[31:0]};
      aacc  = {{(DW - AccW){a1_q[AccW-1]}}, a1_q[AccW-1:0]};
      bacc  = {{(DW - AccW){b1_q[AccW-1]}}, b1_q[AccW-1:0]};
      sa    = '0;
      sb    = '0;
      sw    = '0;
      sum   = '0;
      psum  = '0;
      rq    = '0;
      res_d = '0;
      aux_d = '0;
      ovf_d = 1'b0;
      acc_d     = acc_q;
      acc_ovf_d = acc_ovf_q;
      unique case (op_i)
        octet_pkg::VuOpRelu: begin
          rq = rshift_rhe(a32, SW'(7));
          if ($signed(rq) < 0)             res_d = '0;
          else if ($signed(rq) > 255)      res_d = DW'(255);
          else                             res_d = rq;
          aux_d = AW'(y32 > 0 && y32 <= $signed(32'(octet_pkg::VuReluMax)));
        end
        octet_pkg::VuOpReluBwd: begin
          res_d = b1_q[0] ? a32 : '0;
        end
        octet_pkg::VuOpResidualAdd, octet_pkg::VuOpErrorAdd: begin
          if (op_i == octet_pkg::VuOpResidualAdd) begin
            sa = shl_checked(a32, shift_a_i);
            sb = shl_checked(b32, shift_b_i);
          end else begin
            sa = shl_checked(a1_q, shift_a_i);
            sb = shl_checked(b1_q, shift_b_i);
          end
          sum   = $signed({sa[DW-1], sa[DW-1:0]}) + $signed({sb[DW-1], sb[DW-1:0]});
          res_d = sum[DW-1:0];
          ovf_d = sa[DW] || sb[DW] || (sum[DW] != sum[DW-1]);
          if (op_i == octet_pkg::VuOpResidualAdd) begin
            ovf_d = ovf_d || (sum[DW-1:31] != '0 && sum[DW-1:31] != '1);
          end
        end
        octet_pkg::VuOpPsumMerge: begin
          psum  = $signed({aacc[AccW-1], aacc[AccW-1:0]}) + $signed({bacc[AccW-1], bacc[AccW-1:0]});
          res_d = {{(DW - AccW){psum[AccW-1]}}, psum[AccW-1:0]};
          ovf_d = psum[AccW] != psum[AccW-1];
        end
        octet_pkg::VuOpWeightDecay: begin
          sw    = shift_rhe({{(DW - 8){b1_q[7]}}, b1_q[7:0]}, shift_a_i);
          sum   = $signed({a1_q[DW-1], a1_q}) + $signed({sw[DW-1], sw[DW-1:0]});
          res_d = sum[DW-1:0];
          ovf_d = sw[DW] || (sum[DW] != sum[DW-1]);
        end
        octet_pkg::VuOpBiasGrad: begin
          sum       = $signed({acc_q[DW-1], acc_q}) + $signed({a1_q[DW-1], a1_q});
          acc_d     = sum[DW-1:0];
          acc_ovf_d = acc_ovf_q || (sum[DW] != sum[DW-1]);
          sw        = shift_rhe(acc_d, shift_a_i);
          if (sw[DW] || acc_ovf_d) ovf_d = 1'b1;
          if ($signed(sw[DW-1:0]) > $signed(DW'(32'h7fff_ffff)))        res_d = DW'(32'h7fff_ffff);
          else if ($signed(sw[DW-1:0]) < -$signed(DW'(32'h8000_0000)))  res_d = {{(DW - 32){1'b1}}, 32'h8000_0000};
          else                                                          res_d = sw[DW-1:0];
        end
        default: ;
      endcase
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        a1_q      <= '0;
        b1_q      <= '0;
        res_q     <= '0;
        aux_q     <= '0;
        ovf_q     <= 1'b0;
        acc_q     <= '0;
        acc_ovf_q <= 1'b0;
      end else begin
        if (load1) begin
          a1_q <= in_a_i[l*DW +: DW];
          b1_q <= in_b_i[l*DW +: DW];
        end
        if (emit2) begin
          res_q <= res_d;
          aux_q <= aux_d;
          ovf_q <= ovf_d;
        end
        if (start_i || (load2 && last1_q)) begin
          acc_q     <= '0;
          acc_ovf_q <= 1'b0;
        end else if (load2 && bias) begin
          acc_q     <= acc_d;
          acc_ovf_q <= acc_ovf_d;
        end
      end
    end

    assign out_data_o[l*DW +: DW] = res_q;
    assign out_aux_o[l*AW +: AW]  = aux_q;
    assign out_ovf_o[l]           = ovf_q;
  end

endmodule : vu_elementwise
