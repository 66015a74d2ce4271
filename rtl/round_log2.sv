// Exact round(log2 m) of an unsigned W-bit integer (docs/numerics.md §2.2), combinational.
// k = floor(log2 m) is the leading one; r = k + 1 iff m^2 >= 2^(2k+1), i.e. iff
// m >= sqrt(2) * 2^k. Shifting m left until its leading one is bit W-1 (n = m * 2^(W-1-k))
// turns that into n >= sqrt(2) * 2^(W-1), and since n is an integer and sqrt(2) * 2^(W-1) is
// irrational, into n >= ceil(sqrt(2) * 2^(W-1)): one compare with a constant, no squarer.
// r = 0 for m = 0 (the all-zero tensor, numerics §4.0 [D7]).
module round_log2 #(
  parameter int unsigned W = octet_pkg::AccW,
  localparam int unsigned RW = $clog2(W + 1)
) (
  input  logic [W-1:0]  m_i,
  output logic [RW-1:0] r_o
);

  // ceil(sqrt(2^(2W-1))) = floor(sqrt(2^(2W-1))) + 1 (2^(2W-1) is not a square), by the
  // digit-by-digit square root at elaboration time. It never runs in simulation, so it is
  // kept out of the coverage counts.
  /* verilator coverage_off */
  function automatic logic [W-1:0] sqrt2_threshold();
    logic [2*W+1:0] rem;
    logic [2*W+1:0] trial;
    logic [W-1:0]   root;
    rem  = '0;
    root = '0;
    for (int i = W - 1; i >= 0; i--) begin
      // Bring down the next two bits of 2^(2W-1): only digit pair W-1 is non-zero ("10").
      rem   = {rem[2*W-1:0], (i == W - 1) ? 2'b10 : 2'b00};
      trial = {(2*W+2-W-2)'(0), root, 2'b01};
      root  = {root[W-2:0], 1'b0};
      if (rem >= trial) begin
        rem  = rem - trial;
        root = root | W'(1);
      end
    end
    sqrt2_threshold = root + W'(1);  // not `return`: Yosys 0.23 rejects it here
  endfunction
  /* verilator coverage_on */

  localparam logic [W-1:0] Sqrt2Threshold = sqrt2_threshold();

  logic [RW-1:0] lead;   // floor(log2 m) for m > 0
  logic [W-1:0]  norm;   // m with its leading one at bit W-1

  always_comb begin
    lead = '0;
    for (int unsigned i = 0; i < W; i++) begin
      if (m_i[i]) lead = RW'(i);  // the last (highest) set bit wins
    end
  end

  assign norm = m_i << (RW'(W - 1) - lead);
  assign r_o  = (m_i == '0) ? '0 : lead + RW'(norm >= Sqrt2Threshold);

endmodule : round_log2
