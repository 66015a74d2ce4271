// Shift-quantizer unit (issue 5; docs/architecture.md "Shift-quantizer unit").
//
// Quantizes one tensor of n signed InW-bit accumulator values, Lanes values per beat, with
// the WAGEUBN quantizers of docs/numerics.md §4, bit-exact with golden/quantizers.cpp:
//   pass 1 (scan):  the controller streams the tensor once; the unit keeps max |x| and then
//                   derives r = round_log2(max |x|) (0 for an all-zero tensor);
//   pass 2 (quant): the controller replays the same beats; the unit emits the quantized
//                   payloads. Direct mode (Q) needs no scale and skips pass 1; so does a
//                   configuration that brings max |x| along (cfg_max_valid_i, "fused").
// Weight decay (cfg_addend_en_i): both passes quantize x + shift(w, sh) in place of x, w the
// int8 weight streamed beside x (in_addend_i, sq_addend); a given max must then be the sum's.
// Lane buses are packed vectors (lane j in bits [j*W +: W]), as the array's rows and columns.
// Beats are packed: every beat holds Lanes elements except the last of a pass, whose
// n - (beats - 1) * Lanes elements sit in lanes 0 upwards (the others are ignored). The
// element index (for stochastic rounding) is beat * Lanes + lane, so results do not depend
// on Lanes.
//
// Interfaces (valid/ready; a transfer happens when both are high at a clock edge):
//   cfg_*  one configuration per tensor, accepted only when the unit is idle;
//   in_*   pass-1 then pass-2 beats;
//   out_*  pass-2 results with a lane mask and a last flag, plus the tensor's r and
//          output exponent offset (valid from the first output beat until the next cfg).
// in_ready_o depends combinationally on out_ready_i during pass 2 (the pipeline stalls as a
// whole when the output is full and not taken).
module shift_quantizer #(
  parameter int unsigned Lanes = 4,
  parameter int unsigned InW   = octet_pkg::AccW,   // 2 .. 64 (the golden's input is int64)
  localparam int unsigned RW   = $clog2(InW + 1)
) (
  input  logic                                  clk_i,
  input  logic                                  rst_ni,

  // configuration
  input  logic                                  cfg_valid_i,
  output logic                                  cfg_ready_o,
  input  octet_pkg::sq_mode_e                   cfg_mode_i,
  input  logic [octet_pkg::SqCountW-1:0]        cfg_count_i,         // n >= 1 elements
  input  logic [octet_pkg::SqBitsW-1:0]         cfg_bits_i,          // k: SQ 2..31, E2 2..16
  input  logic signed [octet_pkg::SqShiftW-1:0] cfg_shift_i,         // Q: in_exp - out_exp
  input  logic signed [octet_pkg::SqOutW-1:0]   cfg_lo_i,            // Q: clip range
  input  logic signed [octet_pkg::SqOutW-1:0]   cfg_hi_i,
  input  logic [octet_pkg::SqBitsW-1:0]         cfg_log2_scale_i,    // CQ: s, 1..30
  input  logic [63:0]                           cfg_seed_i,          // CQ: stream key inputs
  input  logic [63:0]                           cfg_step_i,
  input  logic [63:0]                           cfg_tensor_i,
  input  logic                                  cfg_max_valid_i,     // SQ, CQ, E2: max |x| given, skip pass 1
  input  logic [InW-1:0]                        cfg_max_i,           // max |x| (e.g. the array's out_max_o)
  input  logic                                  cfg_addend_en_i,     // x + shift(w, sh) in place of x (weight decay)
  input  logic signed [octet_pkg::SqShiftW-1:0] cfg_addend_shift_i,  // sh: -7 - λ - in_exp

  // input stream
  input  logic                                  in_valid_i,
  output logic                                  in_ready_o,
  input  logic [Lanes*InW-1:0]                  in_data_i,           // lane j: [j*InW +: InW], signed
  input  logic [Lanes*8-1:0]                    in_addend_i,         // lane j: [j*8 +: 8], w (W8), both passes

  // output stream
  output logic                                  out_valid_o,
  input  logic                                  out_ready_i,
  output logic [Lanes*octet_pkg::SqOutW-1:0]    out_data_o,          // lane j: payload (int32), signed
  output logic [Lanes*octet_pkg::SqCodeW-1:0]   out_code_o,          // lane j: E2 code value (else 0), signed
  output logic [Lanes-1:0]                      out_fine_o,          // E2 code flag (else 0)
  output logic [Lanes*64-1:0]                   out_rand_o,          // lane j: CQ random bits (observability)
  output logic [Lanes-1:0]                      out_keep_o,          // lanes holding elements
  output logic                                  out_last_o,          // last beat of the tensor
  output logic [RW-1:0]                         out_scale_log2_o,    // r (0 in direct mode)
  output logic signed [octet_pkg::SqExpW-1:0]   out_exp_offset_o,    // output exp - input exp (CQ: r - s)
  // x + addend left the InW-bit input range in a beat of this tensor (sticky until the next
  // cfg); the results of such a tensor are not the golden's
  output logic                                  err_overflow_o
);

  // The package widths this module uses (Yosys 0.23 reads neither `import` in a module nor
  // a package-qualified cast).
  localparam int unsigned SqOutW   = octet_pkg::SqOutW;
  localparam int unsigned SqCodeW  = octet_pkg::SqCodeW;
  localparam int unsigned SqBitsW  = octet_pkg::SqBitsW;
  localparam int unsigned SqShiftW = octet_pkg::SqShiftW;
  localparam int unsigned SqExpW   = octet_pkg::SqExpW;
  localparam int unsigned SqCountW = octet_pkg::SqCountW;

  localparam int unsigned Depth = 4;  // pass-2 pipeline registers (sq_lane P1..P4)
  localparam logic [63:0] BeatGamma = 64'(Lanes) * octet_pkg::SplitMixGamma;
  localparam int signed   ShMin = -$signed(32'(InW));  // right shifts beyond InW give 0 anyway
  localparam int signed   ShMax = 32;          // left shifts beyond 32 saturate any cap anyway

  typedef enum logic [2:0] {StIdle, StScan, StScale, StParam, StQuant, StDrain} state_e;

  // ---- configuration registers ------------------------------------------------------------
  state_e                     state_d, state_q;
  octet_pkg::sq_mode_e                   mode_q;
  logic [SqCountW-1:0]        count_q;
  logic [SqBitsW-1:0]         bits_q;
  logic signed [SqShiftW-1:0] shift_q;
  logic signed [SqOutW-1:0]   lo_cfg_q, hi_cfg_q;
  logic [SqBitsW-1:0]         s_q;
  logic                       addend_en_q;
  logic signed [SqShiftW-1:0] addend_shift_q;
  logic                       cfg_fire, in_fire, out_fire, adv;

  assign cfg_ready_o = state_q == StIdle;
  assign cfg_fire    = cfg_valid_i && cfg_ready_o;

  // ---- stream key (CQ) ----------------------------------------------------------------
  logic        key_valid;
  logic [63:0] key;

  sq_stream_key u_key (
    .clk_i,
    .rst_ni,
    .start_i  (cfg_fire),
    .seed_i   (cfg_seed_i),
    .step_i   (cfg_step_i),
    .tensor_i (cfg_tensor_i),
    .valid_o  (key_valid),
    .key_o    (key)
  );

  // ---- beat bookkeeping: elements left in the current pass ---------------------------------
  logic [SqCountW-1:0] rem_d, rem_q;
  logic [Lanes-1:0]    keep;
  logic                last_beat;

  always_comb begin
    for (int unsigned j = 0; j < Lanes; j++) keep[j] = rem_q > SqCountW'(j);
  end
  assign last_beat = rem_q <= SqCountW'(Lanes);

  // ---- input adder (weight decay): both passes see x + shift(w, sh) -------------------------
  logic signed [InW-1:0] x_in [Lanes];
  logic [Lanes-1:0]      lane_ovf;
  logic                  ovf_d, ovf_q;

  for (genvar j = 0; j < Lanes; j++) begin : g_addend
    sq_addend #(
      .InW (InW)
    ) u_addend (
      .en_i  (addend_en_q),
      .x_i   (in_data_i[j*InW +: InW]),
      .w_i   (in_addend_i[j*8 +: 8]),
      .sh_i  (addend_shift_q),
      .sum_o (x_in[j]),
      .ovf_o (lane_ovf[j])
    );
  end

  always_comb begin
    ovf_d = ovf_q;
    if (cfg_fire) ovf_d = 1'b0;
    else if (in_fire && |(lane_ovf & keep)) ovf_d = 1'b1;
  end

  // ---- pass 1: max |x| and r ----------------------------------------------------------------
  logic [InW-1:0] max_d, max_q, beat_max;
  logic [RW-1:0]  r_d, r_q, r_scan;

  always_comb begin
    beat_max = '0;
    for (int unsigned j = 0; j < Lanes; j++) begin
      logic [InW-1:0] a;
      a = x_in[j][InW-1] ? InW'(-x_in[j]) : InW'(x_in[j]);
      if (keep[j] && a > beat_max) beat_max = a;
    end
  end

  round_log2 #(.W(InW)) u_round_log2 (
    .m_i (max_q),
    .r_o (r_scan)
  );

  // ---- per-tensor parameters of pass 2 (computed in StParam from r, k, s, shift) ----------
  logic                     flag_d, flag_q, stoch_d, stoch_q;
  logic signed [SqExpW-1:0] sh_d, sh_q, sh_fine_d, sh_fine_q, exp_off_d, exp_off_q;
  logic [InW-1:0]           coarse_mask_d, coarse_mask_q;
  logic [SqOutW-1:0]        cap_d, cap_q, cap_fine_d, cap_fine_q;
  logic [SqBitsW-1:0]       km1_d, km1_q;
  logic signed [SqOutW-1:0] lo_d, lo_q, hi_d, hi_q;

  function automatic logic signed [SqExpW-1:0] clamp_shift(input int sh);
    clamp_shift = SqExpW'(sh < ShMin ? ShMin : (sh > ShMax ? ShMax : sh));
  endfunction

  always_comb begin
    int signed r, km1, c;
    r   = $signed(32'(r_q));
    km1 = $signed(32'(bits_q)) - 1;
    c   = r - km1;  // E2: one coarse unit is 2^c payload units
    flag_d        = mode_q == octet_pkg::SqModeFlag;
    stoch_d       = mode_q == octet_pkg::SqModeConst;
    km1_d         = SqBitsW'(km1);
    sh_fine_d     = clamp_shift(2 * km1 - r);
    cap_fine_d    = SqOutW'(1) << km1;
    // a < 2^c <=> no bit at or above c (c <= 0: only a = 0; c < InW - 1 always).
    coarse_mask_d = (c <= 0) ? '1 : ~((InW'(1) << c) - InW'(1));
    lo_d          = {1'b1, {(SqOutW - 1){1'b0}}};  // clip only in direct mode
    hi_d          = {1'b0, {(SqOutW - 1){1'b1}}};
    unique case (mode_q)
      octet_pkg::SqModeDirect: begin
        sh_d      = clamp_shift(32'(shift_q));
        exp_off_d = -(SqExpW'(shift_q));
        // Any cap >= 2^31 gives the golden's result after the int32 clip.
        cap_d     = SqOutW'(1) << (SqOutW - 1);
        lo_d      = lo_cfg_q;
        hi_d      = hi_cfg_q;
      end
      octet_pkg::SqModeShift: begin
        sh_d      = clamp_shift(km1 - r);
        exp_off_d = SqExpW'(r - km1);
        cap_d     = (SqOutW'(1) << km1) - SqOutW'(1);
      end
      octet_pkg::SqModeConst: begin
        sh_d      = clamp_shift($signed(32'(s_q)) - r);
        exp_off_d = SqExpW'(r - $signed(32'(s_q)));
        cap_d     = (SqOutW'(1) << s_q) - SqOutW'(1);
      end
      default: begin  // SqModeFlag
        sh_d      = clamp_shift(km1 - r);
        exp_off_d = SqExpW'(r - 2 * km1);
        cap_d     = (SqOutW'(1) << km1) - SqOutW'(1);
      end
    endcase
  end

  // ---- control ----------------------------------------------------------------------------
  logic [63:0]      ctr_d, ctr_q;
  logic [Depth-1:0] valid_q;                 // valid bit of pipeline stage P1..P4
  logic [Lanes-1:0] keep_q [Depth];
  logic [Depth-1:0] last_q;

  assign adv        = !valid_q[Depth-1] || out_ready_i;
  assign in_ready_o = (state_q == StScan) ||
                      (state_q == StQuant && adv && (!stoch_q || key_valid));
  assign in_fire    = in_valid_i && in_ready_o;
  assign out_fire   = out_valid_o && out_ready_i;

  always_comb begin
    state_d = state_q;
    rem_d   = rem_q;
    max_d   = max_q;
    r_d     = r_q;
    ctr_d   = ctr_q;
    unique case (state_q)
      StIdle: begin
        if (cfg_fire) begin
          rem_d   = cfg_count_i;
          max_d   = '0;
          r_d     = '0;
          state_d = (cfg_mode_i == octet_pkg::SqModeDirect) ? StParam : StScan;
          // Fused: the tensor's max came with its data (the array's drain), no scan pass.
          if (cfg_mode_i != octet_pkg::SqModeDirect && cfg_max_valid_i) begin
            max_d   = cfg_max_i;
            state_d = StScale;
          end
        end
      end
      StScan: begin
        if (in_fire) begin
          max_d = (beat_max > max_q) ? beat_max : max_q;
          rem_d = rem_q - SqCountW'(Lanes);
          if (last_beat) state_d = StScale;
        end
      end
      StScale: begin
        r_d     = r_scan;
        state_d = StParam;
      end
      StParam: begin
        rem_d   = count_q;
        ctr_d   = '0;
        state_d = StQuant;
      end
      StQuant: begin
        if (in_fire) begin
          rem_d = rem_q - SqCountW'(Lanes);
          ctr_d = ctr_q + BeatGamma;
          if (last_beat) state_d = StDrain;
        end
      end
      default: begin  // StDrain: wait until the last beat has left
        if (out_fire && out_last_o) state_d = StIdle;
      end
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q  <= StIdle;
      mode_q   <= octet_pkg::SqModeDirect;
      count_q  <= '0;
      bits_q   <= '0;
      shift_q  <= '0;
      lo_cfg_q <= '0;
      hi_cfg_q <= '0;
      s_q      <= '0;
      addend_en_q    <= 1'b0;
      addend_shift_q <= '0;
      ovf_q    <= 1'b0;
      rem_q    <= '0;
      max_q    <= '0;
      r_q      <= '0;
      ctr_q    <= '0;
    end else begin
      state_q <= state_d;
      rem_q   <= rem_d;
      max_q   <= max_d;
      r_q     <= r_d;
      ctr_q   <= ctr_d;
      ovf_q   <= ovf_d;
      if (cfg_fire) begin
        mode_q   <= cfg_mode_i;
        count_q  <= cfg_count_i;
        bits_q   <= cfg_bits_i;
        shift_q  <= cfg_shift_i;
        lo_cfg_q <= cfg_lo_i;
        hi_cfg_q <= cfg_hi_i;
        s_q      <= cfg_log2_scale_i;
        addend_en_q    <= cfg_addend_en_i;
        addend_shift_q <= cfg_addend_shift_i;
      end
    end
  end

  // Parameter registers: written once per tensor, in StParam.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      flag_q        <= 1'b0;
      stoch_q       <= 1'b0;
      sh_q          <= '0;
      sh_fine_q     <= '0;
      exp_off_q     <= '0;
      coarse_mask_q <= '0;
      cap_q         <= '0;
      cap_fine_q    <= '0;
      km1_q         <= '0;
      lo_q          <= '0;
      hi_q          <= '0;
    end else if (state_q == StParam) begin
      flag_q        <= flag_d;
      stoch_q       <= stoch_d;
      sh_q          <= sh_d;
      sh_fine_q     <= sh_fine_d;
      exp_off_q     <= exp_off_d;
      coarse_mask_q <= coarse_mask_d;
      cap_q         <= cap_d;
      cap_fine_q    <= cap_fine_d;
      km1_q         <= km1_d;
      lo_q          <= lo_d;
      hi_q          <= hi_d;
    end
  end

  // ---- pass 2 pipeline ----------------------------------------------------------------------
  logic quant_fire;
  assign quant_fire = in_fire && state_q == StQuant;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= '0;
      last_q  <= '0;
      for (int unsigned i = 0; i < Depth; i++) keep_q[i] <= '0;
    end else if (adv) begin
      valid_q <= {valid_q[Depth-2:0], quant_fire};
      last_q  <= {last_q[Depth-2:0], quant_fire && last_beat};
      keep_q[0] <= quant_fire ? keep : '0;
      for (int unsigned i = 1; i < Depth; i++) keep_q[i] <= keep_q[i-1];
    end
  end

  for (genvar j = 0; j < Lanes; j++) begin : g_lane
    sq_lane #(
      .InW  (InW),
      .Lane (j)
    ) u_lane (
      .clk_i,
      .rst_ni,
      .en_i          (adv),
      .stoch_en_i    (stoch_q),
      .x_i           (x_in[j]),
      .key_i         (key),
      .ctr_i         (ctr_q),
      .flag_i        (flag_q),
      .stoch_i       (stoch_q),
      .sh_i          (sh_q),
      .sh_fine_i     (sh_fine_q),
      .coarse_mask_i (coarse_mask_q),
      .cap_i         (cap_q),
      .cap_fine_i    (cap_fine_q),
      .km1_i         (km1_q),
      .lo_i          (lo_q),
      .hi_i          (hi_q),
      .data_o        (out_data_o[j*SqOutW +: SqOutW]),
      .code_o        (out_code_o[j*SqCodeW +: SqCodeW]),
      .fine_o        (out_fine_o[j]),
      .rand_o        (out_rand_o[j*64 +: 64])
    );
  end

  assign out_valid_o      = valid_q[Depth-1];
  assign out_keep_o       = keep_q[Depth-1];
  assign out_last_o       = last_q[Depth-1];
  assign out_scale_log2_o = r_q;
  assign out_exp_offset_o = exp_off_q;
  assign err_overflow_o   = ovf_q;

endmodule : shift_quantizer
