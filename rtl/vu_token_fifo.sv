// The vector unit's token FIFO: one token per read request in flight, so that the engine
// reading the returned data (in request order) knows what each beat is for. Shared by the
// pooling and loss engines (vu_pool, vu_loss), each with its own token layout (Width bits).
// clear_i (the engine's start) empties it; push and pop in the same cycle keep the fill.
module vu_token_fifo #(
  parameter int unsigned Width = 1,
  parameter int unsigned Depth = 4
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             clear_i,
  input  logic             push_i,
  input  logic [Width-1:0] data_i,
  input  logic             pop_i,
  output logic             full_o,
  output logic             empty_o,
  output logic [Width-1:0] head_o
);
  localparam int unsigned PtrW = $clog2(Depth);

  logic [Width-1:0] fifo_q [Depth];
  logic [PtrW-1:0]  wr_q, rd_q;
  logic [PtrW:0]    fill_q;

  assign full_o  = fill_q == (PtrW + 1)'(Depth);
  assign empty_o = fill_q == '0;
  assign head_o  = fifo_q[rd_q];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_q   <= '0;
      rd_q   <= '0;
      fill_q <= '0;
      for (int i = 0; i < Depth; i++) fifo_q[i] <= '0;
    end else if (clear_i) begin
      wr_q   <= '0;
      rd_q   <= '0;
      fill_q <= '0;
    end else begin
      if (push_i) begin
        fifo_q[wr_q] <= data_i;
        wr_q         <= wr_q + PtrW'(1);
      end
      if (pop_i) rd_q <= rd_q + PtrW'(1);
      fill_q <= fill_q + (PtrW + 1)'(push_i) - (PtrW + 1)'(pop_i);
    end
  end
endmodule
