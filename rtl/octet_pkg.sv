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

endpackage : octet_pkg
