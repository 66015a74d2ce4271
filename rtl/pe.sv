// Processing element of the output-stationary systolic array (docs/architecture.md,
// "Systolic array"). Each cycle it multiplies the beat it registered last cycle,
// accumulates the product and passes the beat on: the row operand and the beat's
// tags go east, the column operand goes south.
//
// Operands are {9-bit signed value, coarse flag}: activations (0..255), weights
// (-128..127) and E2 codes (+-127 plus flag) all fit, and either side may carry E2.
// A coarse operand counts 2^FlagShift fine units, so the product is shifted left by
// FlagShift per coarse operand and every product is exact in fine units.
//
// Double buffering: the tile's last beat writes the finished sum into result_q
// instead of acc_q, and the next tile's first beat restarts acc_q from its product,
// so result_q holds tile t while tile t+1 accumulates.
module pe #(
  parameter int unsigned AccWidth = octet_pkg::AccW
) (
  input  logic                              clk_i,
  input  logic                              rst_ni,
  // West: one reduction step ("beat") of the row operand and the beat's tags.
  input  logic                              valid_i,     // the beat carries data
  input  logic                              first_i,     // first reduction step of a tile
  input  logic                              last_i,      // last reduction step of a tile
  input  logic signed [octet_pkg::OpW-1:0]  a_value_i,
  input  logic                              a_coarse_i,
  // North: the column operand of the same beat.
  input  logic signed [octet_pkg::OpW-1:0]  b_value_i,
  input  logic                              b_coarse_i,
  // East and south: the same beat, one cycle later.
  output logic                              valid_o,
  output logic                              first_o,
  output logic                              last_o,
  output logic signed [octet_pkg::OpW-1:0]  a_value_o,
  output logic                              a_coarse_o,
  output logic signed [octet_pkg::OpW-1:0]  b_value_o,
  output logic                              b_coarse_o,
  // The sum of the last finished tile, held until the next tile's last beat.
  output logic signed [AccWidth-1:0]        result_o
);

  localparam int unsigned OpW = octet_pkg::OpW;
  localparam int unsigned ProdW = octet_pkg::ProdW;
  localparam int unsigned FlagShift = octet_pkg::FlagShift;

  // The product is sign-extended into the accumulator, so it must be strictly wider.
  if (AccWidth <= ProdW) begin : gen_acc_width_check
    $error("pe: AccWidth must exceed ProdW (the widest exact product)");
  end

  // ---- beat registers (the systolic pipeline) ----------------------------------------
  logic                    valid_q, first_q, last_q;
  logic signed [OpW-1:0]   a_value_q, b_value_q;
  logic                    a_coarse_q, b_coarse_q;

  // Only the tags need a reset: operand values are ignored unless valid_q is set.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= 1'b0;
      first_q <= 1'b0;
      last_q  <= 1'b0;
    end else begin
      valid_q <= valid_i;
      first_q <= first_i;
      last_q  <= last_i;
    end
  end

  always_ff @(posedge clk_i) begin
    a_value_q  <= a_value_i;
    a_coarse_q <= a_coarse_i;
    b_value_q  <= b_value_i;
    b_coarse_q <= b_coarse_i;
  end

  // ---- multiply, align the scales, accumulate -----------------------------------------
  logic signed [2*OpW-1:0]  a_wide, b_wide, mul;
  logic signed [ProdW-1:0]  prod;
  logic signed [AccWidth-1:0] prod_ext, acc_q, result_q, sum;

  // 9 x 9 signed bits: the 18-bit product is exact (|product| <= 2^16).
  assign a_wide = {{OpW{a_value_q[OpW-1]}}, a_value_q};
  assign b_wide = {{OpW{b_value_q[OpW-1]}}, b_value_q};
  assign mul = a_wide * b_wide;

  always_comb begin
    prod = {{(ProdW-2*OpW){mul[2*OpW-1]}}, mul};
    if (a_coarse_q) prod = prod <<< FlagShift;
    if (b_coarse_q) prod = prod <<< FlagShift;
  end

  assign prod_ext = {{(AccWidth-ProdW){prod[ProdW-1]}}, prod};
  assign sum = (first_q ? '0 : acc_q) + prod_ext;

  always_ff @(posedge clk_i) begin
    if (valid_q && !last_q) acc_q <= sum;
    if (valid_q && last_q) result_q <= sum;
  end

  assign valid_o    = valid_q;
  assign first_o    = first_q;
  assign last_o     = last_q;
  assign a_value_o  = a_value_q;
  assign a_coarse_o = a_coarse_q;
  assign b_value_o  = b_value_q;
  assign b_coarse_o = b_coarse_q;
  assign result_o   = result_q;

endmodule : pe
