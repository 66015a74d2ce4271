// The shift-quantizer's input adder: x + shift(w, sh) for one lane, combinational
// (docs/numerics.md §7.5: weight decay adds W8 * 2^(-7 - λ) to G_raw on G_raw's grid before
// CQ; golden add_weight_decay). sh >= 0 is an exact left shift, sh < 0 a right shift rounded
// half to even (golden shift_round_half_even). The sum is exact; ovf_o says it is not the
// golden's: the sum does not fit InW signed bits (the unit's input), or, what only a 64-bit
// unit can see, golden throws because the term alone leaves int64 (shift_left_checked: any
// w != 0 shifted by 63 or more). The unit reports it, never wraps.
module sq_addend #(
  parameter int unsigned InW = octet_pkg::AccW
) (
  input  logic                                  en_i,  // add the term (else sum_o = x_i)
  input  logic signed [InW-1:0]                 x_i,
  input  logic signed [7:0]                     w_i,   // W8
  input  logic signed [octet_pkg::SqShiftW-1:0] sh_i,  // -7 - λ - e(x)
  output logic signed [InW-1:0]                 sum_o,
  output logic                                  ovf_o
);

  // The package widths this module uses (Yosys 0.23 reads neither `import` in a module nor
  // a package-qualified cast).
  localparam int unsigned SqShiftW = octet_pkg::SqShiftW;

  localparam int unsigned TW = InW + 8;  // w * 2^sh for sh < InW; a larger shift overflows anyway
  localparam int unsigned SW = TW + 1;
  // Left shifts from min(InW, 63) on flag every nonzero w: from InW no sum fits the input,
  // from 63 golden throws (InW <= 64 fits the signed 8-bit port).
  localparam logic signed [SqShiftW-1:0] ShBig = SqShiftW'((InW < 63) ? InW : 63);

  logic signed [TW-1:0] term;
  logic signed [15:0]   frac_view;  // w * 2^8 >> r: integer part [15:8], fraction [7:0]
  logic signed [7:0]    rnd;
  logic                 big;        // a left shift of ShBig or more: only w = 0 fits
  logic                 term_ovf;   // the term alone leaves int64
  logic signed [SW-1:0] sum;

  if (TW > 64) begin : g_term_check
    assign term_ovf = term[TW-1:63] != {(TW - 63){term[63]}};
  end else begin : g_term_fits
    assign term_ovf = 1'b0;  // TW <= 64 bits: every term fits int64
  end

  always_comb begin
    frac_view = '0;
    rnd       = '0;
    big       = 1'b0;
    if (sh_i >= 0) begin
      big  = sh_i >= ShBig && w_i != '0;
      term = big ? '0 : TW'(w_i) <<< sh_i;
    end else if (sh_i >= -7) begin
      // Half to even: above half, or exactly half and the integer part odd; the 8 fraction
      // bits hold every remainder of a shift by 1 .. 7 exactly.
      frac_view = $signed({w_i, 8'h00}) >>> (-sh_i);
      rnd       = frac_view[15:8] + 8'((frac_view[7] && ((|frac_view[6:0]) || frac_view[8])) ? 1 : 0);
      term      = TW'(rnd);
    end else begin
      term = '0;  // |w| / 2^8 <= 1/2: every int8 rounds to 0 (-1/2, a tie, to the even 0)
    end
  end

  assign sum   = en_i ? SW'(x_i) + SW'(term) : SW'(x_i);
  assign sum_o = sum[InW-1:0];
  assign ovf_o = en_i && (big || term_ovf || sum[SW-1:InW-1] != {(SW - InW + 1){sum[InW-1]}});

endmodule : sq_addend
