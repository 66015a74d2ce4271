// Vector unit, pooling engine (docs/architecture.md "Vector unit"): max and average pooling,
// forward and backward, on `Lanes` planes (n, c) at once with one window geometry, bit for bit
// golden/pooling.cpp (docs/numerics.md §5.6, §7.3):
//
//   VuOpMaxPool     per output o: max over the window's in-bounds inputs, and the plane index
//                   of the first maximum in row-major window order (out_aux_o)
//   VuOpAvgPool     per output o: rdiv(window sum, in-bounds count)
//   VuOpMaxPoolBwd  per input i: Σ e[o] over the windows o whose argmax is i
//   VuOpAvgPoolBwd  per input i: Σ rdiv(e[o]·2^8, count(o)) over the windows o covering i
//
// The engine gathers: a sequencer walks the outputs (forward) or inputs (backward) in raster
// order and, for each, the positions that contribute (the window's in-bounds inputs; the
// output windows covering the input), issuing one read request per position on rd_req_*
// (plane-relative index: iy·W + ix forward, oy·Wo + ox backward). The data return in request
// order on in_* (lane l: in_a_i = activation (low 8 bits) or error e[o]; in_b_i = the argmax
// plane index of e[o], low 16 bits). One token per position goes into a FIFO next to the
// request; the reducer pairs each token with its returning beat and emits one output beat
// per output (forward) or input (backward) position. An input position no window covers
// gets one empty token (no read) and a zero result.
// Global pooling (global_i) is the window H × H, stride 1, no padding (square planes).
module vu_pool #(
  parameter int unsigned Lanes = 1
) (
  input  logic                                       clk_i,
  input  logic                                       rst_ni,
  // command: start_i in the cycle vector_unit accepts it (resets the walk), then active_i
  // and the fields held until done_o
  input  logic                                       start_i,
  input  logic                                       active_i,
  input  octet_pkg::vu_op_e                          op_i,
  input  logic        [octet_pkg::VuDimW-1:0]        height_i,
  input  logic        [octet_pkg::VuDimW-1:0]        width_i,
  input  logic        [octet_pkg::VuWinW-1:0]        kernel_i,
  input  logic        [octet_pkg::VuWinW-1:0]        stride_i,
  input  logic        [octet_pkg::VuWinW-1:0]        pad_i,
  input  logic                                       global_i,
  output logic                                       done_o,
  // read requests
  output logic                                       rd_req_valid_o,
  input  logic                                       rd_req_ready_i,
  output logic        [octet_pkg::VuDimW-1:0]        rd_req_idx_o,
  // read data, in request order
  input  logic                                       in_valid_i,
  output logic                                       in_ready_o,
  input  logic        [Lanes*octet_pkg::VuDataW-1:0] in_a_i,
  input  logic        [Lanes*octet_pkg::VuDataW-1:0] in_b_i,
  // output stream
  output logic                                       out_valid_o,
  input  logic                                       out_ready_i,
  output logic        [Lanes*octet_pkg::VuDataW-1:0] out_data_o,
  output logic        [Lanes*octet_pkg::VuAuxW-1:0]  out_aux_o,
  output logic        [Lanes-1:0]                    out_ovf_o
);
  localparam int unsigned DW    = octet_pkg::VuDataW;
  localparam int unsigned AW    = octet_pkg::VuAuxW;
  localparam int unsigned XW    = octet_pkg::VuDimW;
  localparam int unsigned SW    = XW + 2;          // signed window coordinates
  localparam int unsigned CntW  = 2 * XW + 1;      // in-bounds count of a window (<= H·W)
  localparam int unsigned Depth = 4;               // tokens (reads) in flight

  function automatic logic [DW-1:0] rdiv(input logic [DW-1:0] a, input logic [CntW-1:0] b);
    rdiv = octet_pkg::vu_rdiv(a, DW'(b));
  endfunction

  // ---- geometry (the command's, constant while it runs) ----------------------------------------
  logic        bwd, is_max;
  logic [XW-1:0] k_e, s_e, p_e;          // effective kernel, stride, pad
  logic [XW-1:0] ho, wo;                 // output plane
  logic [XW-1:0] ny, nx;                 // outer walk: outputs (forward) or inputs (backward)
  logic [2*XW-1:0] groups;               // output beats of the command
  logic signed [31:0] hnum, wnum;

  always_comb begin
    bwd    = op_i == octet_pkg::VuOpMaxPoolBwd || op_i == octet_pkg::VuOpAvgPoolBwd;
    is_max = op_i == octet_pkg::VuOpMaxPool || op_i == octet_pkg::VuOpMaxPoolBwd;
    k_e    = global_i ? height_i : XW'(kernel_i);
    s_e    = global_i ? XW'(1) : XW'(stride_i);
    p_e    = global_i ? '0 : XW'(pad_i);
    // (n + 2p - k) / s + 1 as golden's pool_output_shape computes it: C++ division truncates
    // towards zero, so a plane up to s - 1 narrower than the window still gives one output
    // (golden checks only the height against the window; that case reaches here for W)
    hnum   = $signed(32'(height_i) + 32'(2) * 32'(p_e)) - $signed(32'(k_e));
    wnum   = $signed(32'(width_i) + 32'(2) * 32'(p_e)) - $signed(32'(k_e));
    ho     = hnum < 0 ? XW'(1) : XW'(hnum / $signed(32'(s_e)) + 32'sd1);
    wo     = wnum < 0 ? XW'(1) : XW'(wnum / $signed(32'(s_e)) + 32'sd1);
    ny     = bwd ? height_i : ho;
    nx     = bwd ? width_i : wo;
    groups = ny * nx;
  end

  // Rows (or columns) of input a window starting at output coordinate o covers: [lo, hi].
  function automatic logic [2*SW-1:0] win_range(input logic [XW-1:0] o, input logic [XW-1:0] n,
                                                input logic [XW-1:0] k, input logic [XW-1:0] s,
                                                input logic [XW-1:0] p);
    logic signed [SW-1:0] base, lo, hi;
    base = $signed(SW'(o) * SW'(s)) - $signed(SW'(p));
    lo   = base < 0 ? '0 : base;
    hi   = base + $signed(SW'(k)) - SW'(1);
    if (hi > $signed(SW'(n)) - SW'(1)) hi = $signed(SW'(n)) - SW'(1);
    win_range = {lo, hi};
  endfunction

  // Output coordinates whose windows cover input coordinate i: [lo, hi] (empty if lo > hi).
  function automatic logic [2*SW-1:0] cover_range(input logic [XW-1:0] i, input logic [XW-1:0] no,
                                                  input logic [XW-1:0] k, input logic [XW-1:0] s,
                                                  input logic [XW-1:0] p);
    logic signed [SW-1:0] num_hi, num_lo, lo, hi;
    num_hi = $signed(SW'(i)) + $signed(SW'(p));
    num_lo = num_hi - $signed(SW'(k)) + SW'(1);
    hi     = $signed(SW'(num_hi / SW'(s)));
    if (hi > $signed(SW'(no)) - SW'(1)) hi = $signed(SW'(no)) - SW'(1);
    lo     = num_lo <= 0 ? '0 : $signed(SW'((num_lo + $signed(SW'(s)) - SW'(1)) / SW'(s)));
    cover_range = {lo, hi};
  endfunction

  // ---- sequencer: outer position (py, px), inner offsets (dy, dx) -------------------------------
  logic [XW-1:0]        py_q, px_q, dy_q, dx_q;
  logic                 seq_busy_q;      // tokens left to issue
  logic signed [SW-1:0] ylo, yhi, xlo, xhi;
  logic signed [SW-1:0] ty, tx;          // the token's inner position (input fwd, output bwd)
  logic                 t_empty, t_xend, t_yend, t_last;
  logic [XW-1:0]        t_req, t_pos;
  logic [CntW-1:0]      t_count;
  logic signed [SW-1:0] rlo, rhi, clo, chi;

  always_comb begin
    if (bwd) begin
      {ylo, yhi} = cover_range(py_q, ho, k_e, s_e, p_e);
      {xlo, xhi} = cover_range(px_q, wo, k_e, s_e, p_e);
    end else begin
      {ylo, yhi} = win_range(py_q, height_i, k_e, s_e, p_e);
      {xlo, xhi} = win_range(px_q, width_i, k_e, s_e, p_e);
    end
    ty      = ylo + $signed(SW'(dy_q));
    tx      = xlo + $signed(SW'(dx_q));
    t_empty = ylo > yhi || xlo > xhi;
    t_xend  = tx >= xhi;
    t_yend  = ty >= yhi;
    t_last  = t_empty || (t_xend && t_yend);
    t_req   = ty[XW-1:0] * (bwd ? wo : width_i) + tx[XW-1:0];
    // forward: the input's plane index (argmax); backward: the input being gathered
    t_pos   = bwd ? py_q * width_i + px_q : t_req;
    // backward average: the in-bounds count of output window (ty, tx)
    {rlo, rhi} = win_range(ty[XW-1:0], height_i, k_e, s_e, p_e);
    {clo, chi} = win_range(tx[XW-1:0], width_i, k_e, s_e, p_e);
    t_count    = CntW'(XW'(rhi - rlo + SW'(1))) * CntW'(XW'(chi - clo + SW'(1)));
  end

  // ---- token FIFO ----------------------------------------------------------------------------
  typedef struct packed {
    logic            empty;
    logic            last;
    logic [XW-1:0]   pos;
    logic [CntW-1:0] count;
  } token_t;

  logic            full, fifo_empty, push, pop;
  token_t          head, tail;

  assign rd_req_valid_o = active_i && seq_busy_q && !full && !t_empty;
  assign rd_req_idx_o   = t_req;
  assign push           = active_i && seq_busy_q && !full && (t_empty || rd_req_ready_i);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      py_q       <= '0;
      px_q       <= '0;
      dy_q       <= '0;
      dx_q       <= '0;
      seq_busy_q <= 1'b0;
    end else if (start_i) begin
      py_q       <= '0;
      px_q       <= '0;
      dy_q       <= '0;
      dx_q       <= '0;
      seq_busy_q <= 1'b1;
    end else if (push) begin
      if (!t_last) begin
        if (t_xend) begin
          dx_q <= '0;
          dy_q <= dy_q + XW'(1);
        end else begin
          dx_q <= dx_q + XW'(1);
        end
      end else begin
        dy_q <= '0;
        dx_q <= '0;
        if (px_q == nx - XW'(1)) begin
          px_q <= '0;
          py_q <= py_q + XW'(1);
          if (py_q == ny - XW'(1)) seq_busy_q <= 1'b0;
        end else begin
          px_q <= px_q + XW'(1);
        end
      end
    end
  end

  // Field by field: Yosys 0.23 reads no assignment patterns.
  assign tail.empty = t_empty;
  assign tail.last  = t_last;
  assign tail.pos   = t_pos;
  assign tail.count = t_count;

  vu_token_fifo #(
    .Width($bits(tail)),
    .Depth(Depth)
  ) u_tokens (
    .clk_i,
    .rst_ni,
    .clear_i(start_i),
    .push_i (push),
    .data_i (tail),
    .pop_i  (pop),
    .full_o (full),
    .empty_o(fifo_empty),
    .head_o (head)
  );

  // ---- reducer ---------------------------------------------------------------------------------
  logic            out_free, take, first_q;
  logic [2*XW-1:0] out_cnt_q;

  assign out_free    = !out_valid_o || out_ready_i;
  assign in_ready_o  = active_i && !fifo_empty && !head.empty && (!head.last || out_free);
  assign take        = in_ready_o && in_valid_i;
  assign pop         = take || (active_i && !fifo_empty && head.empty && out_free);
  assign done_o      = active_i && out_valid_o && out_ready_i && out_cnt_q == groups - (2 * XW)'(1);

  logic out_valid_q;
  assign out_valid_o = out_valid_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      out_valid_q <= 1'b0;
      out_cnt_q   <= '0;
      first_q     <= 1'b1;
    end else if (start_i) begin
      out_cnt_q <= '0;
      first_q   <= 1'b1;
    end else begin
      if (out_valid_o && out_ready_i) out_cnt_q <= out_cnt_q + (2 * XW)'(1);
      if (pop && head.last) out_valid_q <= 1'b1;
      else if (out_ready_i) out_valid_q <= 1'b0;
      if (pop) first_q <= head.last;
    end
  end

  for (genvar l = 0; l < Lanes; l++) begin : g_lane
    logic [DW-1:0]   a, acc_d, acc_q, res_d, res_q, term, shifted;
    logic [AW-1:0]   arg_d, arg_q, aux_q;
    logic [CntW-1:0] n_d, n_q;
    logic            ovf_d, ovf_q, res_ovf_q, sh_ovf;
    logic [DW:0]     sum;

    assign a = in_a_i[l*DW +: DW];

    // in_b_i carries a 16-bit plane index per lane; its upper bits are not read
    logic unused_b_hi;
    assign unused_b_hi = ^in_b_i[l*DW+AW +: DW-AW];

    always_comb begin
      acc_d   = first_q ? '0 : acc_q;
      arg_d   = first_q ? '0 : arg_q;
      n_d     = first_q ? '0 : n_q;
      ovf_d   = first_q ? 1'b0 : ovf_q;
      term    = '0;
      shifted = '0;
      sh_ovf  = 1'b0;
      sum     = '0;
      res_d   = '0;
      if (!head.empty) begin
        unique case (op_i)
          octet_pkg::VuOpMaxPool: begin
            // strict: the first maximum in row-major window order wins ties
            if (n_d == '0 || {{(DW - 8){1'b0}}, a[7:0]} > acc_d) begin
              acc_d = {{(DW - 8){1'b0}}, a[7:0]};
              arg_d = AW'(head.pos);
            end
            n_d = n_d + CntW'(1);
          end
          octet_pkg::VuOpAvgPool: begin
            acc_d = acc_d + {{(DW - 8){1'b0}}, a[7:0]};
            n_d   = n_d + CntW'(1);
          end
          octet_pkg::VuOpMaxPoolBwd, octet_pkg::VuOpAvgPoolBwd: begin
            if (op_i == octet_pkg::VuOpMaxPoolBwd) begin
              term = in_b_i[l*DW +: AW] == AW'(head.pos) ? a : '0;
            end else begin
              // rdiv(e·2^8, count): golden's shift_left_checked throws when e·2^8 leaves int64
              shifted = {a[DW-9:0], 8'b0};
              sh_ovf  = a[DW-1:DW-9] != '0 && a[DW-1:DW-9] != '1;
              term    = rdiv(shifted, head.count);
            end
            sum   = {acc_d[DW-1], acc_d} + {term[DW-1], term};
            acc_d = sum[DW-1:0];
            ovf_d = ovf_d || sh_ovf || (sum[DW] != sum[DW-1]);
          end
          default: ;
        endcase
      end
      if (op_i == octet_pkg::VuOpAvgPool) res_d = rdiv(acc_d, n_d);
      else                                res_d = acc_d;
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        acc_q     <= '0;
        arg_q     <= '0;
        n_q       <= '0;
        ovf_q     <= 1'b0;
        res_q     <= '0;
        aux_q     <= '0;
        res_ovf_q <= 1'b0;
      end else if (pop) begin
        acc_q <= acc_d;
        arg_q <= arg_d;
        n_q   <= n_d;
        ovf_q <= ovf_d;
        if (head.last) begin
          res_q     <= res_d;
          aux_q     <= is_max && !bwd ? arg_d : '0;
          res_ovf_q <= ovf_d;
        end
      end
    end

    assign out_data_o[l*DW +: DW] = res_q;
    assign out_aux_o[l*AW +: AW]  = aux_q;
    assign out_ovf_o[l]           = res_ovf_q;
  end

endmodule : vu_pool
