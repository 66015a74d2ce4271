// Optimizer unit: the quantized momentum update and the working copy of one parameter
// element per lane (docs/numerics.md §8, golden/optimizer.cpp: momentum_update,
// derive_weight8, derive_bn_affine, derive_bias). docs/architecture.md "Optimizer unit".
//
//   acc = V + G                                  (exact, 33 bits)
//   M'  = sat32(M - lr_q * acc)                  (exact product / difference, then saturate)
//   V'  = sat32(rhe(acc / 4))
//   W   = weight8:   clamp(rhe(M' / 2^16), -127, 127)
//         bn_affine: clamp(rhe(M' / 2^16), -32767, 32767)
//         bias:      rhe(M' / 2^9)
// rhe = round half to even. Three register stages; in and out are valid/ready streams of
// Lanes elements per beat (lane l in bits
// [32l +: 32] of each data port). lr_q_i / kind_i are sampled with each accepted beat, so they may
// change at any beat boundary (in practice they are held for a tensor).
module optimizer_unit #(
  parameter int unsigned Lanes = 1
) (
  input  logic                                          clk_i,
  input  logic                                          rst_ni,
  // per-tensor configuration, sampled with every accepted input beat
  input  logic              [octet_pkg::OptLrW-1:0]     lr_q_i,
  input  octet_pkg::opt_kind_e                          kind_i,
  // input stream
  input  logic                                          in_valid_i,
  output logic                                          in_ready_o,
  input  logic [Lanes*octet_pkg::OptDataW-1:0] grad_i,      // G on 2^-14
  input  logic [Lanes*octet_pkg::OptDataW-1:0] mom_i,       // V on 2^-12
  input  logic [Lanes*octet_pkg::OptDataW-1:0] master_i,    // M on 2^-23
  // output stream
  output logic                                          out_valid_o,
  input  logic                                          out_ready_i,
  output logic [Lanes*octet_pkg::OptDataW-1:0] master_o,    // M' on 2^-23
  output logic [Lanes*octet_pkg::OptDataW-1:0] mom_o,       // V' on 2^-12
  output logic [Lanes*octet_pkg::OptDataW-1:0] work_o       // W, sign-extended to 32
);
  localparam int unsigned DataW = octet_pkg::OptDataW;
  localparam int unsigned LrW   = octet_pkg::OptLrW;
  localparam int unsigned AccW  = octet_pkg::OptAccW;
  localparam int unsigned ProdW = octet_pkg::OptProdW;
  localparam int unsigned DiffW = octet_pkg::OptDiffW;
  localparam int unsigned WS    = octet_pkg::OptWeightShift;
  localparam int unsigned BS    = octet_pkg::OptBiasShift;
  localparam int unsigned WQW   = DataW - WS + 1;  // rhe(M' / 2^16): 17 bits
  localparam int unsigned BQW   = DataW - BS + 1;  // rhe(M' / 2^9): 24 bits

  localparam logic signed [WQW-1:0] W8Max = WQW'(octet_pkg::OptWeight8Max);
  localparam logic signed [WQW-1:0] BnMax = WQW'(octet_pkg::OptBnAffineMax);

  // Saturate an exact DiffW-bit value to int32.
  function automatic logic [DataW-1:0] sat32(input logic [DiffW-1:0] x);
    if (x[DiffW-1:DataW-1] == {(DiffW - DataW + 1){1'b0}} ||
        x[DiffW-1:DataW-1] == {(DiffW - DataW + 1){1'b1}}) begin
      sat32 = x[DataW-1:0];
    end else begin
      sat32 = x[DiffW-1] ? {1'b1, {(DataW - 1){1'b0}}} : {1'b0, {(DataW - 1){1'b1}}};
    end
  endfunction

  // ---- pipeline control: a stage takes a new beat when it is empty or its beat moves on --------
  logic valid1_q, valid2_q, valid3_q;
  logic ready1, ready2, ready3;

  assign ready3      = !valid3_q || out_ready_i;
  assign ready2      = !valid2_q || ready3;
  assign ready1      = !valid1_q || ready2;
  assign in_ready_o  = ready1;
  assign out_valid_o = valid3_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid1_q <= 1'b0;
      valid2_q <= 1'b0;
      valid3_q <= 1'b0;
    end else begin
      if (ready1) valid1_q <= in_valid_i;
      if (ready2) valid2_q <= valid1_q;
      if (ready3) valid3_q <= valid2_q;
    end
  end

  logic load1, load2, load3;
  assign load1 = ready1 && in_valid_i;
  assign load2 = ready2 && valid1_q;
  assign load3 = ready3 && valid2_q;

  // ---- stage 1: acc = V + G; carry M, lr_q, kind -------------------------------------------
  logic [LrW-1:0]          lr1_q;
  octet_pkg::opt_kind_e    kind1_q, kind2_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      lr1_q   <= '0;
      kind1_q <= octet_pkg::OptKindWeight8;
      kind2_q <= octet_pkg::OptKindWeight8;
    end else begin
      if (load1) begin
        lr1_q   <= lr_q_i;
        kind1_q <= kind_i;
      end
      if (load2) kind2_q <= kind1_q;
    end
  end

  for (genvar l = 0; l < Lanes; l++) begin : g_lane
    // stage 1
    logic signed [AccW-1:0]  acc1_d, acc1_q;
    logic        [DataW-1:0] m1_q;
    // stage 2
    logic signed [ProdW-1:0] prod;
    logic signed [DiffW-1:0] diff, vr;
    logic signed [AccW-1:0]  vq;
    logic                    vinc;
    logic        [DataW-1:0] m2_d, m2_q, v2_d, v2_q;
    // stage 3
    logic signed [WQW-1:0]   wq, wmax, wc;
    logic signed [BQW-1:0]   bq;
    logic                    winc, binc;
    logic        [DataW-1:0] w3_d, m3_q, v3_q, w3_q;

    logic [DataW-1:0] g_in, v_in;
    assign g_in = grad_i[l*DataW +: DataW];
    assign v_in = mom_i[l*DataW +: DataW];
    always_comb begin
      acc1_d = $signed({g_in[DataW-1], g_in}) + $signed({v_in[DataW-1], v_in});
    end

    // stage 2: M' = sat32(M - lr_q * acc), V' = sat32(rhe(acc / 4))
    always_comb begin
      prod = $signed({{(ProdW - LrW){1'b0}}, lr1_q}) * $signed({{(ProdW - AccW){acc1_q[AccW-1]}}, acc1_q});
      diff = $signed({{(DiffW - DataW){m1_q[DataW-1]}}, m1_q}) - $signed({prod[ProdW-1], prod});
      m2_d = sat32(diff);
      vq   = acc1_q >>> 2;
      vinc = (acc1_q[1:0] == 2'b11) || (acc1_q[1:0] == 2'b10 && vq[0]);
      vr   = $signed({{(DiffW - AccW){vq[AccW-1]}}, vq}) + $signed({{(DiffW - 1){1'b0}}, vinc});
      v2_d = sat32(vr);
    end

    // stage 3: the working copy
    always_comb begin
      winc = (m2_q[WS-1:0] > {1'b1, {(WS - 1){1'b0}}}) ||
             (m2_q[WS-1:0] == {1'b1, {(WS - 1){1'b0}}} && m2_q[WS]);
      wq   = $signed({m2_q[DataW-1], m2_q[DataW-1:WS]}) + $signed({{(WQW - 1){1'b0}}, winc});
      binc = (m2_q[BS-1:0] > {1'b1, {(BS - 1){1'b0}}}) ||
             (m2_q[BS-1:0] == {1'b1, {(BS - 1){1'b0}}} && m2_q[BS]);
      bq   = $signed({m2_q[DataW-1], m2_q[DataW-1:BS]}) + $signed({{(BQW - 1){1'b0}}, binc});
      wmax = (kind2_q == octet_pkg::OptKindWeight8) ? W8Max : BnMax;
      if (wq > wmax)       wc = wmax;
      else if (wq < -wmax) wc = -wmax;
      else                 wc = wq;
      if (kind2_q == octet_pkg::OptKindBias) w3_d = {{(DataW - BQW){bq[BQW-1]}}, bq};
      else                                   w3_d = {{(DataW - WQW){wc[WQW-1]}}, wc};
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        acc1_q <= '0;
        m1_q   <= '0;
        m2_q   <= '0;
        v2_q   <= '0;
        m3_q   <= '0;
        v3_q   <= '0;
        w3_q   <= '0;
      end else begin
        if (load1) begin
          acc1_q <= acc1_d;
          m1_q   <= master_i[l*DataW +: DataW];
        end
        if (load2) begin
          m2_q <= m2_d;
          v2_q <= v2_d;
        end
        if (load3) begin
          m3_q <= m2_q;
          v3_q <= v2_q;
          w3_q <= w3_d;
        end
      end
    end

    assign master_o[l*DataW +: DataW] = m3_q;
    assign mom_o[l*DataW +: DataW]    = v3_q;
    assign work_o[l*DataW +: DataW]   = w3_q;
  end

endmodule : optimizer_unit
