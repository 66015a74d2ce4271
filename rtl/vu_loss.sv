// Vector unit, loss engine (docs/architecture.md "Vector unit"): the integer softmax
// cross-entropy error at the logits of `Lanes` samples (rows) at once, bit for bit
// golden/loss.cpp softmax_cross_entropy (docs/numerics.md §7.1):
//
//   pass 0   zmax = max_i z_i
//   pass 1   u_i = z_i - zmax;  t_i = shift(u_i * 47274, e_z - 7);  w_i = -t_i
//            p~_i = rshift(T[w_i mod 256] * 2^16, min(w_i >> 8, 64));  S = sum_i p~_i
//   pass 2   p_i = rdiv(p~_i * 2^15, S);  g_i = p_i - 2^15 [i = label]
//            err_i = rdiv(g_i * 2^8, batch)              -> out_data_o (int64), p_i -> out_aux_o
//
// The row is read three times through rd_req_* (index i, 0 <= i < classes; lane l's memory
// returns z of its row in in_a_i (int32, low bits) and the row's label in in_b_i (low 16
// bits)). One token per read in a 4-deep FIFO, as in vu_pool; one output beat per class in
// pass 2. shift(x, s) = x * 2^s for s >= 0 (flagged where golden's shift_left_checked
// throws: the lane's outputs of the whole row carry the flag), rshift half to even for s < 0.
module vu_loss #(
  parameter int unsigned Lanes = 1
) (
  input  logic                                       clk_i,
  input  logic                                       rst_ni,
  input  logic                                       start_i,
  input  logic                                       active_i,
  input  logic        [octet_pkg::VuCountW-1:0]      classes_i,   // 1 ... 2^16
  input  logic        [octet_pkg::VuCountW-1:0]      batch_i,     // the error's divisor B >= 1
  input  logic signed [octet_pkg::VuShiftW-1:0]      shift_i,     // e_z - 7
  output logic                                       done_o,
  output logic                                       rd_req_valid_o,
  input  logic                                       rd_req_ready_i,
  output logic        [octet_pkg::VuDimW-1:0]        rd_req_idx_o,
  input  logic                                       in_valid_i,
  output logic                                       in_ready_o,
  input  logic        [Lanes*octet_pkg::VuDataW-1:0] in_a_i,
  input  logic        [Lanes*octet_pkg::VuDataW-1:0] in_b_i,
  output logic                                       out_valid_o,
  input  logic                                       out_ready_i,
  output logic        [Lanes*octet_pkg::VuDataW-1:0] out_data_o,
  output logic        [Lanes*octet_pkg::VuAuxW-1:0]  out_aux_o,
  output logic        [Lanes-1:0]                    out_ovf_o
);
  localparam int unsigned DW    = octet_pkg::VuDataW;
  localparam int unsigned AW    = octet_pkg::VuAuxW;
  localparam int unsigned XW    = octet_pkg::VuDimW;
  localparam int unsigned CW    = octet_pkg::VuCountW;
  localparam int unsigned SW    = octet_pkg::VuShiftW;
  localparam int unsigned Depth = 4;

  // ---- sequencer: three passes over the row ----------------------------------------------
  logic [1:0]    pass_q;
  logic [CW-1:0] i_q;
  logic          seq_busy_q, t_last;
  assign t_last = i_q == classes_i - CW'(1);

  typedef struct packed {
    logic [1:0]    pass;
    logic [XW-1:0] idx;
  } token_t;

  logic            full, fifo_empty, push, pop;
  token_t          head, tail;

  assign rd_req_valid_o = active_i && seq_busy_q && !full;
  assign rd_req_idx_o   = i_q[XW-1:0];
  assign push           = rd_req_valid_o && rd_req_ready_i;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      pass_q     <= '0;
      i_q        <= '0;
      seq_busy_q <= 1'b0;
    end else if (start_i) begin
      pass_q     <= '0;
      i_q        <= '0;
      seq_busy_q <= 1'b1;
    end else if (push) begin
      if (t_last) begin
        i_q    <= '0;
        pass_q <= pass_q + 2'd1;
        if (pass_q == 2'd2) seq_busy_q <= 1'b0;
      end else begin
        i_q <= i_q + CW'(1);
      end
    end
  end

  // Field by field: Yosys 0.23 reads no assignment patterns.
  assign tail.pass = pass_q;
  assign tail.idx  = i_q[XW-1:0];

  vu_token_fifo #(
    .Width($bits(tail)),
    .Depth(Depth)
  ) u_tokens (
    .clk_i,
    .rst_ni,
    .clear_i(start_i),
    .push_i (push),
    .data_i (tail),
    .pop_i  (pop),
    .full_o (full),
    .empty_o(fifo_empty),
    .head_o (head)
  );

  // ---- reducer ---------------------------------------------------------------------------------
  logic          out_free, emit, first_q, out_valid_q;
  logic [CW-1:0] out_cnt_q;

  assign out_free    = !out_valid_q || out_ready_i;
  assign emit        = head.pass == 2'd2;
  assign in_ready_o  = active_i && !fifo_empty && (!emit || out_free);
  assign pop         = in_ready_o && in_valid_i;
  assign out_valid_o = out_valid_q;
  assign done_o      = active_i && out_valid_q && out_ready_i && out_cnt_q == classes_i - CW'(1);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      out_valid_q <= 1'b0;
      out_cnt_q   <= '0;
      first_q     <= 1'b1;
    end else if (start_i) begin
      out_cnt_q <= '0;
      first_q   <= 1'b1;
    end else begin
      if (out_valid_q && out_ready_i) out_cnt_q <= out_cnt_q + CW'(1);
      if (pop && emit) out_valid_q <= 1'b1;
      else if (out_ready_i) out_valid_q <= 1'b0;
      if (pop && head.pass == 2'd0) first_q <= 1'b0;
    end
  end

  for (genvar l = 0; l < Lanes; l++) begin : g_lane
    logic signed [31:0]   z;
    logic signed [31:0]   zmax_q;
    logic signed [32:0]   u;
    logic signed [49:0]   prod;
    logic        [DW-1:0] t, w, ptilde, sum_q, pnum, p, gnum, err;
    logic        [2*DW-1:0] wide;
    logic        [DW-1:0] q, rem, half, mask;
    logic        [6:0]    n;
    logic                 inc, t_ovf, ovf_q;
    logic        [15:0]   table_f;
    logic        [DW-1:0] err_q;
    logic        [AW-1:0] p_q;
    logic                 oovf_q;
    logic signed [SW-1:0] s;

    assign z = in_a_i[l*DW +: 32];
    assign s = shift_i;

    // in_a_i carries an int32 logit per lane, in_b_i a 16-bit label: the rest is not read
    logic unused_hi;
    assign unused_hi = ^{in_a_i[l*DW+32 +: DW-32], in_b_i[l*DW+AW +: DW-AW]};

    // p~ of this beat's z (passes 1 and 2)
    always_comb begin
      u     = $signed({z[31], z}) - $signed({zmax_q[31], zmax_q});
      prod  = $signed(u) * $signed(50'(octet_pkg::VuLog2eQ));
      t     = {{(DW - 50){prod[49]}}, prod};
      t_ovf = 1'b0;
      q     = '0;
      rem   = '0;
      half  = '0;
      mask  = '0;
      inc   = 1'b0;
      wide  = '0;
      if (s >= 0) begin
        // exact left shift, flagged where shift_left_checked throws (leaves int64, s >= 63)
        wide = {{DW{t[DW-1]}}, t} << s[SW-2:0];
        if (t != '0) begin
          t_ovf = s >= SW'(DW - 1) || (!(&wide[2*DW-1:DW-1]) && (|wide[2*DW-1:DW-1]));
        end
        t = wide[DW-1:0];
      end else if (-s >= SW'(DW)) begin
        t = '0;
      end else begin
        q    = DW'($signed(t) >>> (-s));
        mask = (DW'(1) << (-s)) - DW'(1);
        rem  = t & mask;
        half = DW'(1) << (-s - SW'(1));
        inc  = (rem > half) || (rem == half && q[0]);
        t    = q + DW'(inc);
      end
      w       = DW'(-t);
      table_f = octet_softmax_table::exp2_table(w[7:0]);
      n       = (w[DW-1:8] >= (DW - 8)'(64)) ? 7'd64 : 7'(w[14:8]);
      // rshift(T * 2^16, n), half to even; n = 64 gives 0 (T * 2^16 < 2^63)
      if (n >= 7'd48) begin
        ptilde = '0;
      end else if (n == 7'd0) begin
        ptilde = {{(DW - 32){1'b0}}, table_f, 16'b0};
      end else begin
        q      = {{(DW - 32){1'b0}}, table_f, 16'b0} >> n;
        mask   = (DW'(1) << n) - DW'(1);
        rem    = {{(DW - 32){1'b0}}, table_f, 16'b0} & mask;
        half   = DW'(1) << (n - 7'd1);
        inc    = (rem > half) || (rem == half && q[0]);
        ptilde = q + DW'(inc);
      end
      // pass 2: p = rdiv(p~ * 2^15, S), g = p - 2^15 [i = label], err = rdiv(g * 2^8, batch)
      pnum = ptilde << 15;
      p    = octet_pkg::vu_rdiv(pnum, sum_q);
      gnum = (p - ((in_b_i[l*DW +: AW] == head.idx) ? DW'(32768) : '0)) << 8;
      err  = octet_pkg::vu_rdiv(gnum, DW'(batch_i));
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        zmax_q <= '0;
        sum_q  <= '0;
        ovf_q  <= 1'b0;
        err_q  <= '0;
        p_q    <= '0;
        oovf_q <= 1'b0;
      end else if (pop) begin
        unique case (head.pass)
          2'd0: if (first_q || z > zmax_q) zmax_q <= z;
          2'd1: begin
            sum_q <= (head.idx == '0 ? '0 : sum_q) + ptilde;
            ovf_q <= (head.idx == '0 ? 1'b0 : ovf_q) || t_ovf;
          end
          default: begin
            err_q  <= err;
            p_q    <= p[AW-1:0];
            oovf_q <= ovf_q || t_ovf;
          end
        endcase
      end
    end

    assign out_data_o[l*DW +: DW] = err_q;
    assign out_aux_o[l*AW +: AW]  = p_q;
    assign out_ovf_o[l]           = oovf_q;
  end

endmodule : vu_loss
