// One lane of the shift-quantizer's second pass: quantizes one element per accepted beat
// (docs/numerics.md §4.1-§4.4) in a 4-stage pipeline that moves when en_i is high.
//   P1: input register (x; counter state z for the random bits)
//   P2: magnitude, sign, E2 grid (fine/coarse); first SplitMix64 multiply
//   P3: one left barrel shift a * 2^(sh + InW): integer part and InW fraction bits;
//       second multiply
//   P4 (output registers): rounding (half to even, or stochastic), cap, sign, clip, E2 code.
// All modes share this datapath; the per-tensor parameters (shift, caps, clip, mode bits)
// come from the controller and are stable while pass 2 runs.
module sq_lane #(
  parameter int unsigned InW  = octet_pkg::AccW,
  parameter int unsigned Lane = 0     // lane index: element index = beat * Lanes + Lane
) (
  input  logic                                 clk_i,
  input  logic                                 rst_ni,
  input  logic                                 en_i,          // pipeline advance
  input  logic                                 stoch_en_i,    // clock the random pipeline (CQ only)
  // P1 inputs, sampled when en_i is high
  input  logic signed [InW-1:0]                x_i,
  input  logic [63:0]                          key_i,         // stream key
  input  logic [63:0]                          ctr_i,         // beat * Lanes * gamma (mod 2^64)
  // per-tensor parameters
  input  logic                                 flag_i,        // E2: fine/coarse grids, emit the code
  input  logic                                 stoch_i,       // CQ: stochastic rounding
  input  logic signed [octet_pkg::SqExpW-1:0]  sh_i,          // left shift in [-InW, 32] (E2: coarse)
  input  logic signed [octet_pkg::SqExpW-1:0]  sh_fine_i,     // E2: left shift onto the fine grid
  input  logic [InW-1:0]                       coarse_mask_i, // E2: a & mask == 0 <=> a below one coarse unit
  input  logic [octet_pkg::SqOutW-1:0]         cap_i,         // magnitude cap (E2: coarse cap)
  input  logic [octet_pkg::SqOutW-1:0]         cap_fine_i,    // E2: fine cap 2^(k-1)
  input  logic [octet_pkg::SqBitsW-1:0]        km1_i,         // E2: k - 1
  input  logic signed [octet_pkg::SqOutW-1:0]  lo_i,          // clip range of the signed result
  input  logic signed [octet_pkg::SqOutW-1:0]  hi_i,
  // P4 outputs
  output logic signed [octet_pkg::SqOutW-1:0]  data_o,        // payload
  output logic signed [octet_pkg::SqCodeW-1:0] code_o,        // E2 code value (0 in other modes)
  output logic                                 fine_o,        // E2 code flag (0 in other modes)
  output logic [63:0]                          rand_o         // random bits of this element (CQ only)
);

  // The package widths this module uses (Yosys 0.23 reads neither `import` in a module nor
  // a package-qualified cast).
  localparam int unsigned SqOutW   = octet_pkg::SqOutW;
  localparam int unsigned SqCodeW  = octet_pkg::SqCodeW;
  localparam int unsigned SqExpW   = octet_pkg::SqExpW;

  // (Lane + 1) * gamma: this lane's offset in the SplitMix64 sequence.
  localparam logic [63:0] LaneGamma = (64'(Lane) + 64'd1) * octet_pkg::SplitMixGamma;
  localparam int unsigned IntW = InW + 32;               // integer part after a left shift <= 32
  localparam int unsigned VW   = IntW + InW;             // plus InW fraction bits
  localparam int unsigned ShAW = $clog2(VW);             // shift amount sh + InW in [0, InW + 32]

  // ---- P1 ------------------------------------------------------------------------------
  logic signed [InW-1:0] x1_q;
  logic [63:0]           z1_q;

  // ---- P2 ------------------------------------------------------------------------------
  logic [InW-1:0] a2_d, a2_q;
  logic           neg2_q, fine2_d, fine2_q;
  logic [63:0]    m1_q;

  assign a2_d    = x1_q[InW-1] ? InW'(-x1_q) : InW'(x1_q);  // |x|; |-2^(InW-1)| fits unsigned
  assign fine2_d = flag_i && ((a2_d & coarse_mask_i) == '0);

  // ---- P3 ------------------------------------------------------------------------------
  logic signed [SqExpW-1:0] sh2;
  logic [ShAW-1:0]          shamt2;
  logic [VW-1:0]            v2;
  logic [IntW-1:0]          int3_q;
  logic [InW-1:0]           frac3_q;
  logic                     neg3_q, fine3_q;
  logic [63:0]              m2_q;

  assign sh2    = fine2_q ? sh_fine_i : sh_i;
  assign shamt2 = ShAW'(sh2 + SqExpW'(InW));
  assign v2     = VW'(a2_q) << shamt2;  // a * 2^sh with InW fraction bits

  // ---- P4 ------------------------------------------------------------------------------
  logic [63:0]             rnd;
  logic                    inc;
  logic [IntW:0]           q_wide;
  logic [SqOutW-1:0]       cap, mag, pay;
  logic signed [SqOutW:0]  spay;
  logic signed [SqOutW-1:0] data_d;
  logic [SqCodeW-1:0]      cmag;
  logic signed [SqCodeW-1:0] code_d;
  logic                    fine_d;

  assign rnd = octet_pkg::sm64_stage3(m2_q);

  always_comb begin
    if (stoch_i) begin
      // Round up iff u_d < fraction, with u_d the top d bits of rnd: compare rnd with the
      // fraction aligned to bit 63 (equivalent, and needs no variable shift of rnd).
      inc = rnd < (64'(frac3_q) << (64 - InW));
    end else begin
      // Half to even: above half, or exactly half and the integer part odd.
      inc = frac3_q[InW-1] && ((|frac3_q[InW-2:0]) || int3_q[0]);
    end
    q_wide = {1'b0, int3_q} + (IntW + 1)'(inc);
    cap    = fine3_q ? cap_fine_i : cap_i;
    mag    = (q_wide > (IntW + 1)'(cap)) ? cap : q_wide[SqOutW-1:0];
    // E2 coarse values count coarse units: the payload (in fine units) is mag * 2^(k-1).
    pay    = (flag_i && !fine3_q) ? mag << km1_i : mag;
    spay   = neg3_q ? -$signed({1'b0, pay}) : $signed({1'b0, pay});
    if (spay < (SqOutW + 1)'(lo_i))      data_d = lo_i;
    else if (spay > (SqOutW + 1)'(hi_i)) data_d = hi_i;
    else                                 data_d = spay[SqOutW-1:0];
    // E2 code (golden flag_encode): a fine value of 2^(k-1) fine units is coarse 1.
    fine_d = flag_i && fine3_q && (mag != cap_fine_i);
    cmag   = (flag_i && fine3_q && !fine_d) ? SqCodeW'(1) : SqCodeW'(mag);
    code_d = !flag_i ? '0 : (neg3_q ? -$signed(cmag) : $signed(cmag));
  end

  // ---- registers -------------------------------------------------------------------------
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      x1_q    <= '0;
      a2_q    <= '0;
      neg2_q  <= 1'b0;
      fine2_q <= 1'b0;
      int3_q  <= '0;
      frac3_q <= '0;
      neg3_q  <= 1'b0;
      fine3_q <= 1'b0;
      data_o  <= '0;
      code_o  <= '0;
      fine_o  <= 1'b0;
    end else if (en_i) begin
      x1_q    <= x_i;
      a2_q    <= a2_d;
      neg2_q  <= x1_q[InW-1];
      fine2_q <= fine2_d;
      int3_q  <= v2[VW-1:InW];
      frac3_q <= v2[InW-1:0];
      neg3_q  <= neg2_q;
      fine3_q <= fine2_q;
      data_o  <= data_d;
      code_o  <= code_d;
      fine_o  <= fine_d;
    end
  end

  // The random pipeline only toggles in CQ mode (the other modes do not use it).
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      z1_q   <= '0;
      m1_q   <= '0;
      m2_q   <= '0;
      rand_o <= '0;
    end else if (en_i && stoch_en_i) begin
      z1_q   <= key_i + ctr_i + LaneGamma;  // key + (index + 1) * gamma
      m1_q   <= octet_pkg::sm64_stage1(z1_q);
      m2_q   <= octet_pkg::sm64_stage2(m1_q);
      rand_o <= rnd;
    end
  end

endmodule : sq_lane
