// Output-stationary systolic MAC array for the three training GEMMs
// (docs/architecture.md, "Systolic array": dataflow, interface timing, cycle formula).
//
// One tile computes C[Rows x Cols] = A[Rows x K] * B[K x Cols]; PE (r, c) owns C[r][c].
// Input: one beat per reduction step k = column k of the A tile (one value per row)
// and row k of the B tile (one value per column), tagged first (k = 0) and last
// (k = K-1). The array skews the beat internally (row r by r cycles, column c by c),
// so the feeder presents unskewed vectors. Valid/ready: a beat is taken when
// in_valid_i && in_ready_o; ready drops only for a last beat that comes sooner than
// TileGap cycles after the previous accepted last beat (the result drain needs them).
// Output: the tile's rows, one row vector per cycle in order 0..Rows-1 with no gaps,
// at fixed latency and without back-pressure (the consumer must take every row).
// Drain-path maximum: out_max_o is max |x| over the rows drained since the first tile of
// the current job (a last beat accepted with in_job_first_i high restarts it when that
// tile's row 0 drains), so the shift-quantizer gets a GEMM output's tensor maximum with the
// data ("Drain-path maximum" in docs/architecture.md).
module systolic_array #(
  parameter int unsigned Rows = 4,
  parameter int unsigned Cols = 4,
  parameter int unsigned AccWidth = octet_pkg::AccW
) (
  input  logic                             clk_i,
  input  logic                             rst_ni,
  // Input stream: one reduction step of one tile per beat.
  input  logic                             in_valid_i,
  output logic                             in_ready_o,
  input  logic                             in_first_i,
  input  logic                             in_last_i,
  input  logic                             in_job_first_i, // with a last beat: this tile starts a job
  input  logic [Rows*octet_pkg::OpW-1:0]   in_a_value_i,   // row r: [r*OpW +: OpW], signed
  input  logic [Rows-1:0]                  in_a_coarse_i,
  input  logic [Cols*octet_pkg::OpW-1:0]   in_b_value_i,   // column c: [c*OpW +: OpW], signed
  input  logic [Cols-1:0]                  in_b_coarse_i,
  // Output stream: one row of the finished tile per beat.
  output logic                             out_valid_o,
  output logic                             out_last_o,     // row Rows-1: the tile is complete
  output logic [Cols*AccWidth-1:0]         out_row_o,      // column c: [c*AccWidth +: AccWidth], signed
  // max |x| of the job's rows drained so far, unsigned (|-2^(AccWidth-1)| fits); it
  // includes the row on out_row_o one cycle after that row.
  output logic [AccWidth-1:0]              out_max_o
);

  localparam int unsigned OpW = octet_pkg::OpW;
  localparam int unsigned TagW = 3;  // valid, first, last
  // Minimum distance between accepted last beats: a finished row waits up to Cols
  // cycles for its slowest column, and the output port drains Rows rows per tile.
  localparam int unsigned TileGap = (Rows > Cols) ? Rows : Cols;
  localparam int unsigned GapW = $clog2(TileGap + 1);

  // ---- input handshake -------------------------------------------------------------------
  logic [GapW-1:0] gap_q, gap_d;  // cycles since the last accepted last beat, saturating
  logic            gap_ok, accept;

  assign gap_ok     = (gap_q == GapW'(TileGap));
  assign in_ready_o = ~in_last_i | gap_ok;
  assign accept     = in_valid_i & in_ready_o;

  always_comb begin
    gap_d = gap_q;
    if (accept && in_last_i) gap_d = GapW'(1);
    else if (!gap_ok) gap_d = gap_q + GapW'(1);
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) gap_q <= GapW'(TileGap);
    else gap_q <= gap_d;
  end

  // ---- PE grid wiring: h_* runs east (column index 0..Cols), v_* south (row 0..Rows) ----
  logic                         h_valid  [Rows][Cols+1];
  logic                         h_first  [Rows][Cols+1];
  logic                         h_last   [Rows][Cols+1];
  logic signed [OpW-1:0]        h_value  [Rows][Cols+1];
  logic                         h_coarse [Rows][Cols+1];
  logic signed [OpW-1:0]        v_value  [Rows+1][Cols];
  logic                         v_coarse [Rows+1][Cols];
  logic signed [AccWidth-1:0]   result   [Rows][Cols];

  // West edge: row r enters r cycles late, so it meets column c's operand in PE (r, c).
  for (genvar r = 0; r < Rows; r++) begin : gen_west_skew
    delay_line #(
      .Width(TagW + OpW + 1),
      .Depth(r)
    ) u_skew (
      .clk_i,
      .rst_ni,
      .d_i({accept, in_first_i, in_last_i, in_a_value_i[r*OpW +: OpW], in_a_coarse_i[r]}),
      .q_o({h_valid[r][0], h_first[r][0], h_last[r][0], h_value[r][0], h_coarse[r][0]})
    );
  end

  // North edge: column c enters c cycles late.
  for (genvar c = 0; c < Cols; c++) begin : gen_north_skew
    delay_line #(
      .Width(OpW + 1),
      .Depth(c)
    ) u_skew (
      .clk_i,
      .rst_ni,
      .d_i({in_b_value_i[c*OpW +: OpW], in_b_coarse_i[c]}),
      .q_o({v_value[0][c], v_coarse[0][c]})
    );
  end

  for (genvar r = 0; r < Rows; r++) begin : gen_row
    for (genvar c = 0; c < Cols; c++) begin : gen_col
      pe #(
        .AccWidth(AccWidth)
      ) u_pe (
        .clk_i,
        .rst_ni,
        .valid_i   (h_valid[r][c]),
        .first_i   (h_first[r][c]),
        .last_i    (h_last[r][c]),
        .a_value_i (h_value[r][c]),
        .a_coarse_i(h_coarse[r][c]),
        .b_value_i (v_value[r][c]),
        .b_coarse_i(v_coarse[r][c]),
        .valid_o   (h_valid[r][c+1]),
        .first_o   (h_first[r][c+1]),
        .last_o    (h_last[r][c+1]),
        .a_value_o (h_value[r][c+1]),
        .a_coarse_o(h_coarse[r][c+1]),
        .b_value_o (v_value[r+1][c]),
        .b_coarse_o(v_coarse[r+1][c]),
        .result_o  (result[r][c])
      );
    end
  end

  // The beats leaving the east and south edges are dropped; only the east-edge
  // valid/last tags are used (they mark a finished row).
  logic unused_edges;
  always_comb begin
    unused_edges = 1'b0;
    for (int unsigned r = 0; r < Rows; r++) begin
      unused_edges = unused_edges ^ h_first[r][Cols] ^ h_coarse[r][Cols] ^ (^h_value[r][Cols]);
    end
    for (int unsigned c = 0; c < Cols; c++) begin
      unused_edges = unused_edges ^ v_coarse[Rows][c] ^ (^v_value[Rows][c]);
    end
  end

  // ---- result drain ------------------------------------------------------------------
  // A last beat leaving row r's east edge means every PE of the row has written its
  // result_q this cycle; one cycle later the row is complete and goes to the output.
  logic [Rows-1:0] row_sel_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      row_sel_q <= '0;
    end else begin
      for (int unsigned r = 0; r < Rows; r++) row_sel_q[r] <= h_valid[r][Cols] & h_last[r][Cols];
    end
  end

  // TileGap guarantees that at most one row is selected per cycle (one-hot AND-OR mux).
  logic [Cols*AccWidth-1:0] out_row_d, out_row_q;
  always_comb begin
    out_row_d = '0;
    for (int unsigned r = 0; r < Rows; r++) begin
      for (int unsigned c = 0; c < Cols; c++) begin
        out_row_d[c*AccWidth +: AccWidth] = out_row_d[c*AccWidth +: AccWidth] |
                                            (result[r][c] & {AccWidth{row_sel_q[r]}});
      end
    end
  end

  logic out_valid_q, out_last_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      out_valid_q <= 1'b0;
      out_last_q  <= 1'b0;
    end else begin
      out_valid_q <= |row_sel_q;
      out_last_q  <= row_sel_q[Rows-1];
    end
  end

  always_ff @(posedge clk_i) begin
    out_row_q <= out_row_d;
  end

  assign out_valid_o = out_valid_q;
  assign out_last_o  = out_last_q;
  assign out_row_o   = out_row_q;

  // ---- drain-path maximum ------------------------------------------------------------
  // The job-first tag of a tile's accepted last beat, delayed to the cycle its row 0 is on
  // out_row_q (last beat accepted in cycle L, row 0 out in L + Cols + 2). Tiles drain in
  // order and TileGap >= Cols keeps their tags apart, so a delay line is enough.
  logic job_first_row0;
  delay_line #(
    .Width(1),
    .Depth(Cols + 2)
  ) u_job_first_delay (
    .clk_i,
    .rst_ni,
    .d_i(accept & in_last_i & in_job_first_i),
    .q_o(job_first_row0)
  );

  // |x| per column of the registered row (|-2^(AccWidth-1)| = 2^(AccWidth-1) fits
  // AccWidth unsigned bits), the row's maximum, and the running maximum of the job.
  logic [AccWidth-1:0] col_mag [Cols];
  logic [AccWidth-1:0] row_max, max_d, max_q;
  always_comb begin
    row_max = '0;
    for (int unsigned c = 0; c < Cols; c++) begin
      col_mag[c] = out_row_q[c*AccWidth + AccWidth - 1] ? -out_row_q[c*AccWidth +: AccWidth]
                                                        : out_row_q[c*AccWidth +: AccWidth];
      if (col_mag[c] > row_max) row_max = col_mag[c];
    end
  end

  always_comb begin
    max_d = max_q;
    if (out_valid_q) begin
      if (job_first_row0) max_d = row_max;
      else if (row_max > max_q) max_d = row_max;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) max_q <= '0;
    else max_q <= max_d;
  end

  assign out_max_o = max_q;

endmodule : systolic_array
