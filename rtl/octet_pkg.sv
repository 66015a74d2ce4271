// Shared types and parameters of the Octet accelerator units (docs/numerics.md,
// docs/architecture.md). Widths here are the contract's; units import this package.
package octet_pkg;

  // Operand widths of the MAC array (docs/numerics.md §1).
  localparam int unsigned ActW = 8;        // activations: unsigned 8-bit, exponent -7
  localparam int unsigned WgtW = 8;        // weights: signed 8-bit in ±127, exponent -7
  localparam int unsigned ErrW = 8;        // E1 / E2 codes: signed 8-bit in ±127
  localparam int unsigned FlagShift = 7;   // E2 coarse unit = 2^7 fine units (k - 1)

  // Accumulator: wide enough for the longest reduction of ResNet-50 training at
  // batch 64 (docs/architecture.md gives the bound).
  localparam int unsigned AccW = 48;

  // Processing-element operands (rtl/pe.sv): a 9-bit signed value covers both the
  // unsigned 8-bit activations and the signed 8-bit weights / E2 codes, plus one
  // `coarse` flag per operand (E2 coarse code: value counts 2^FlagShift fine units).
  localparam int unsigned OpSignedW = ActW + 1;  // an unsigned activation as a signed value
  localparam int unsigned OpW =
      (OpSignedW >= WgtW && OpSignedW >= ErrW) ? OpSignedW : (WgtW >= ErrW ? WgtW : ErrW);  // 9
  // Widest exact product: 9 x 9 signed bits, shifted by FlagShift per coarse operand.
  localparam int unsigned ProdW = 2 * OpW + 2 * FlagShift;

endpackage : octet_pkg
