// The shift-quantizer's input adder: x + shift(w, sh) for one lane, combinational
// (docs/numerics.md §7.5: weight decay adds W8 * 2^(-7 - λ) to G_raw on G_raw's grid before
// CQ; golden add_weight_decay). sh >= 0 is an exact left shift, sh < 0 a right shift rounded
// half to even (golden shift_round_half_even). The sum is exact; ovf_o says it does not fit
// InW signed bits, where golden's int64 sum would need more bits than the unit's input has
// (the unit reports it, never wraps).
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
  // Left shifts from InW on overflow every nonzero w (InW <= 64 fits the signed 8-bit port).
  localparam logic signed [SqShiftW-1:0] ShBig = SqShiftW'(InW);

  logic signed [TW-1:0] term;
  logic signed [15:0]   frac_view;  // w * 2^8 >> r: integer part [15:8], fraction [7:0]
  logic signed [7:0]    rnd;
  logic                 big;        // a left shift of InW or more: only w = 0 fits
  logic signed [SW-1:0] sum;

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
    sum   = en_i ? SW'(x_i) + SW'(term) : SW'(x_i);
    sum_o = sum[InW-1:0];
    ovf_o = en_i && (big || sum[SW-1:InW-1] != {(SW - InW + 1){sum[InW-1]}});
  end

endmodule : sq_addend
