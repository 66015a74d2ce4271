// Shared types and parameters of the Octet accelerator units (docs/numerics.md,
// docs/architecture.md). Widths here are the contract's; units import this package.
package octet_pkg;

  // Operand widths of the MAC array (docs/numerics.md §1).
  localparam int unsigned ActW = 8;        // activations: unsigned 8-bit, exponent -7
  localparam int unsigned WgtW = 8;        // weights: signed 8-bit in ±127, exponent -7
  localparam int unsigned ErrW = 8;        // E1 / E2 codes: signed 8-bit in ±127
  localparam int unsigned FlagShift = 7;   // E2 coarse unit = 2^7 fine units (k - 1)

  // Accumulator: wide enough for the longest reduction of ResNet-50 training at
  // batch 64 (docs/architecture.md gives the bound). Value in params.def.
  localparam int unsigned AccW = octet_params::AccW;

  // ---- Shift-quantizer unit (issue 5, docs/architecture.md "Shift-quantizer unit") ----------
  // Kept in its own block so that other units' additions merge cleanly.

  // Quantization mode of one tensor (docs/numerics.md §4).
  typedef enum logic [1:0] {
    SqModeDirect = 2'd0,  // Q: requantize by a configured shift, clip to [lo, hi]
    SqModeShift  = 2'd1,  // SQ (E1): scale from round(log2 max|x|), k-bit symmetric clip
    SqModeConst  = 2'd2,  // CQ (G): constant-factor with counter-based stochastic rounding
    SqModeFlag   = 2'd3   // E2: fine/coarse flag quantization
  } sq_mode_e;

  localparam int unsigned SqOutW   = 32;  // output payloads are int32, as the golden's tensors
  localparam int unsigned SqCodeW  = 16;  // E2 code value: k <= 16 bits (golden kMaxFlagBits)
  localparam int unsigned SqBitsW  = 5;   // bit-width k and CQ log2 scale s, both <= 31
  localparam int unsigned SqShiftW = 8;   // direct mode: signed shift in_exp - out_exp
  localparam int unsigned SqExpW   = 10;  // signed output exponent offset
  localparam int unsigned SqCountW = 32;  // elements per tensor

  // SplitMix64 (docs/numerics.md §3, golden/counter_rng.h).
  localparam logic [63:0] SplitMixGamma = 64'h9E37_79B9_7F4A_7C15;
  localparam logic [63:0] SplitMixMul1  = 64'hBF58_476D_1CE4_E5B9;
  localparam logic [63:0] SplitMixMul2  = 64'h94D0_49BB_1331_11EB;

  // mix64, SplitMix64's finaliser, split at its two multiplies so that pipelines can put a
  // register after each: mix64(z) = sm64_stage3(sm64_stage2(sm64_stage1(z))).
  // Results are assigned to the function name: Yosys 0.23 rejects `return` in package functions.
  function automatic logic [63:0] sm64_stage1(logic [63:0] z);
    sm64_stage1 = (z ^ (z >> 30)) * SplitMixMul1;
  endfunction

  function automatic logic [63:0] sm64_stage2(logic [63:0] z);
    sm64_stage2 = (z ^ (z >> 27)) * SplitMixMul2;
  endfunction

  function automatic logic [63:0] sm64_stage3(logic [63:0] z);
    sm64_stage3 = z ^ (z >> 31);
  endfunction

  function automatic logic [63:0] sm64_mix(logic [63:0] z);
    sm64_mix = sm64_stage3(sm64_stage2(sm64_stage1(z)));
  endfunction

  // Processing-element operands (rtl/pe.sv): a 9-bit signed value covers both the
  // unsigned 8-bit activations and the signed 8-bit weights / E2 codes, plus one
  // `coarse` flag per operand (E2 coarse code: value counts 2^FlagShift fine units).
  // Value in params.def: ActW + 1 (an unsigned activation as a signed value), which also holds
  // WgtW- and ErrW-bit signed values.
  localparam int unsigned OpW = octet_params::OpW;
  // Widest exact product: 9 x 9 signed bits, shifted by FlagShift per coarse operand.
  localparam int unsigned ProdW = 2 * OpW + 2 * FlagShift;

  // ---- Optimizer unit (docs/architecture.md "Optimizer unit") -----------------------
  // Kept in its own block so that other units' additions merge cleanly.

  // Working copy derived from the updated master (docs/numerics.md §8.2).
  typedef enum logic [1:0] {
    OptKindWeight8  = 2'd0,  // clamp(rhe(M / 2^16), -127, 127)     int8 on 2^-7
    OptKindBnAffine = 2'd1,  // clamp(rhe(M / 2^16), -32767, 32767) int16 on 2^-7
    OptKindBias     = 2'd2   // rhe(M / 2^9)                        int32 on 2^-14
  } opt_kind_e;

  localparam int unsigned OptDataW = 32;  // G (2^-14), V (2^-12), M (2^-23), W: int32
  localparam int unsigned OptLrW   = octet_params::LrFracBits + 1;  // lr_q port, unsigned; golden lr_q <= 2^LrFracBits - 1
  localparam int unsigned OptAccW  = OptDataW + 1;                    // acc = V + G, exact
  localparam int unsigned OptProdW = OptAccW + OptLrW + 1;            // lr_q * acc, exact (signed)
  localparam int unsigned OptDiffW = OptProdW + 1;                    // M - lr_q * acc, exact
  localparam int unsigned OptWeightShift = 16;  // 2^-23 -> 2^-7
  localparam int unsigned OptBiasShift   = 9;   // 2^-23 -> 2^-14
  localparam int signed   OptWeight8Max  = 127;
  localparam int signed   OptBnAffineMax = 32767;

  // ---- Batch-norm unit (docs/architecture.md "Batch-norm unit") ---------------------
  // Kept in its own block so that other units' additions merge cleanly.

  // What one channel command does (docs/numerics.md §5.4, §6).
  typedef enum logic [1:0] {
    BnModeTrain    = 2'd0,  // batch statistics, running update, normalise + affine
    BnModeInfer    = 2'd1,  // statistics from the running accumulators, normalise + affine
    BnModeBackward = 2'd2   // sums of dy and dy*xhat, G_gamma / G_beta, dx
  } bn_mode_e;

  localparam int unsigned BnDataW   = 32;  // x (int32 payload) and dy
  localparam int unsigned BnXhatW   = 16;  // xhat on 2^-7, gamma, beta on 2^-7
  localparam int unsigned BnYW      = 32;  // y on 2^-14
  localparam int unsigned BnWideW   = 64;  // mu, running accumulators, dx, S1
  localparam int unsigned BnSumSqW  = 128; // S2 and D (golden: uint128)
  localparam int unsigned BnCountW  = 25;  // N <= 2^24
  localparam int unsigned BnInShW   = 4;   // a = e_x + 15 in 0 ... 15
  localparam int unsigned BnSigmaW  = 56;  // sigma' <= 2^55 (rshift of an int64 accumulator by 8)
  localparam int unsigned BnRecipW  = 25;  // rho in [2^23, 2^24]
  localparam int unsigned BnLogW    = 6;   // L = floor(log2 sigma') <= 55
  localparam int unsigned BnDecayW  = 6;   // running-statistics decay shift b
  localparam int unsigned BnExpW    = 8;   // e1, the exponent of dy (signed)
  localparam int unsigned BnGradW   = 32;  // G_gamma, G_beta on 2^-14, saturating

  // ---- Vector unit (docs/architecture.md "Vector unit") --------------------------------------
  // Kept in its own block so that other units' additions merge cleanly.

  // What one command does (docs/numerics.md §5.3, §5.5, §5.6, §7.3-§7.5).
  typedef enum logic [3:0] {
    VuOpRelu        = 4'd0,   // A = sat(rshift(y, 7), 0, 255), mask = 0 < y <= 255 * 2^7
    VuOpReluBwd     = 4'd1,   // dy = mask ? E1 : 0
    VuOpResidualAdd = 4'd2,   // S = a * 2^sa + b * 2^sb, int32, overflow flagged
    VuOpErrorAdd    = 4'd3,   // e = a * 2^sa + b * 2^sb, int64, overflow flagged
    VuOpPsumMerge   = 4'd4,   // acc = a + b, AccW bits, overflow flagged
    VuOpWeightDecay = 4'd5,   // G_raw + shift(W8, sa)
    VuOpBiasGrad    = 4'd6,   // sat32(shift(sum of count beats, sa)) per lane
    VuOpMaxPool     = 4'd7,   // window max and its first position (gather)
    VuOpAvgPool     = 4'd8,   // rdiv(window sum, in-bounds count) (gather)
    VuOpMaxPoolBwd  = 4'd9,   // per input: sum of e[o] whose argmax is this input (gather)
    VuOpAvgPoolBwd  = 4'd10,  // per input: sum of rdiv(e[o] * 2^8, count(o)) (gather)
    VuOpLoss        = 4'd11   // softmax cross-entropy error of Lanes rows of logits (gather)
  } vu_op_e;

  localparam int unsigned VuDataW  = 64;  // lane payload: int64 wide errors; narrower values sign-extended
  localparam int unsigned VuAuxW   = 16;  // lane side band: ReLU mask bit, max-pool plane index
  localparam int unsigned VuShiftW = 8;   // signed exponent shift of a command
  localparam int unsigned VuCountW = 32;  // beats of an element-wise command
  localparam int unsigned VuDimW   = 16;  // pooling plane height / width and plane indices (H * W <= 2^16)
  localparam int unsigned VuWinW   = 8;   // pooling kernel, stride, pad
  localparam int unsigned VuReluMax = 255 * 128;  // the largest y that ReLU's mask passes (2^-14)
  localparam int unsigned VuLog2eQ  = 47274;      // log2(e) on 2^-15 (docs/numerics.md §7.1)

  // rdiv(a, b): the signed 64-bit a over b > 0, rounded half to even (docs/numerics.md §2.1:
  // on the magnitude, then the sign). Combinational here; see docs/architecture.md.
  function automatic logic [VuDataW-1:0] vu_rdiv(logic [VuDataW-1:0] a, logic [VuDataW-1:0] b);
    logic [VuDataW-1:0] mag, q, r;
    logic               inc;
    mag = a[VuDataW-1] ? VuDataW'(-a) : a;
    q   = mag / b;
    r   = mag % b;
    inc = ({r, 1'b0} > {1'b0, b}) || ({r, 1'b0} == {1'b0, b} && q[0]);
    q   = q + VuDataW'(inc);
    vu_rdiv = a[VuDataW-1] ? VuDataW'(-q) : q;
  endfunction

endpackage : octet_pkg
