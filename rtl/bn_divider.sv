// Restoring divider for the batch-norm unit (docs/numerics.md §2.1): unsigned
// (rem_init * 2^NumW + num) / den, one quotient bit per cycle, NumW cycles.
// rem_init lets a division whose leading dividend bits are known start part-way
// (the reciprocal: 2^79 / sigma_n starts at remainder 2^54 and needs only 25 steps);
// it must be < den. Operands are latched at the edge where start_i is high; busy_o is
// high for the following NumW cycles and quo_o / rem_o hold the result once it is low.
module bn_divider #(
  parameter int unsigned NumW = 64,  // dividend bits shifted in = quotient bits = cycles
  parameter int unsigned DenW = 25
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            start_i,
  input  logic [NumW-1:0] num_i,
  input  logic [DenW-1:0] rem_init_i,
  input  logic [DenW-1:0] den_i,
  output logic            busy_o,
  output logic [NumW-1:0] quo_o,
  output logic [DenW-1:0] rem_o
);
  localparam int unsigned CntW = $clog2(NumW + 1);

  logic [CntW-1:0] cnt_q;
  logic [NumW-1:0] quo_q;
  logic [DenW-1:0] rem_q, den_q;

  // One step: shift the next dividend bit into the remainder, subtract den if it fits.
  logic [DenW:0]   trial;
  logic            fits;
  logic [DenW-1:0] rem_d;
  always_comb begin
    trial = {rem_q, quo_q[NumW-1]};
    fits  = trial >= {1'b0, den_q};
    rem_d = fits ? DenW'(trial - {1'b0, den_q}) : trial[DenW-1:0];
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_q <= '0;
      quo_q <= '0;
      rem_q <= '0;
      den_q <= '0;
    end else if (start_i) begin
      cnt_q <= CntW'(NumW);
      quo_q <= num_i;
      rem_q <= rem_init_i;
      den_q <= den_i;
    end else if (cnt_q != '0) begin
      cnt_q <= cnt_q - 1'b1;
      quo_q <= {quo_q[NumW-2:0], fits};
      rem_q <= rem_d;
    end
  end

  assign busy_o = cnt_q != '0;
  assign quo_o  = quo_q;
  assign rem_o  = rem_q;
endmodule : bn_divider
