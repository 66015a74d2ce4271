// Integer square root for the batch-norm unit (docs/numerics.md §2.3): floor(sqrt(m)) of a
// 128-bit m by the digit-by-digit (restoring) method, one root bit per cycle, 64 cycles,
// exactly golden::isqrt. m is latched at the edge where start_i is high; busy_o is high for
// the following 64 cycles, then root_o holds the root and exact_o says m = root^2.
module bn_isqrt (
  input  logic         clk_i,
  input  logic         rst_ni,
  input  logic         start_i,
  input  logic [127:0] m_i,
  output logic         busy_o,
  output logic [63:0]  root_o,
  output logic         exact_o
);
  // remainder <= 2 * root < 2^65; before the subtraction it gains two bits.
  localparam int unsigned RemW = 68;

  logic [6:0]      cnt_q;
  logic [127:0]    m_q;
  logic [63:0]     root_q;
  logic [RemW-1:0] rem_q;

  logic [RemW-1:0] rem_t, trial, rem_d;
  logic            fits;
  always_comb begin
    rem_t = {rem_q[RemW-3:0], m_q[127:126]};
    trial = {2'b00, root_q, 2'b01};
    fits  = rem_t >= trial;
    rem_d = fits ? rem_t - trial : rem_t;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_q  <= '0;
      m_q    <= '0;
      root_q <= '0;
      rem_q  <= '0;
    end else if (start_i) begin
      cnt_q  <= 7'd64;
      m_q    <= m_i;
      root_q <= '0;
      rem_q  <= '0;
    end else if (cnt_q != '0) begin
      cnt_q  <= cnt_q - 1'b1;
      m_q    <= {m_q[125:0], 2'b00};
      root_q <= {root_q[62:0], fits};
      rem_q  <= rem_d;
    end
  end

  assign busy_o  = cnt_q != '0;
  assign root_o  = root_q;
  assign exact_o = rem_q == '0;
endmodule : bn_isqrt
