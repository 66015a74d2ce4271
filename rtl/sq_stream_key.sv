// Stream key of one quantisation call (docs/numerics.md §3):
//   key = mix64(mix64(mix64(gamma ^ seed) ^ step) ^ tensor)
// computed once per tensor with a single mix64 datapath used three times: the key is
// valid 3 cycles after start_i (cycles 0, 1 and 2 each apply one mix64).
module sq_stream_key (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        start_i,   // samples seed/step/tensor and restarts the computation
  input  logic [63:0] seed_i,
  input  logic [63:0] step_i,
  input  logic [63:0] tensor_i,
  output logic        valid_o,
  output logic [63:0] key_o
);

  typedef enum logic [1:0] {KeyIdle, KeyStep, KeyTensor, KeyDone} key_state_e;

  key_state_e  state_d, state_q;
  logic [63:0] key_d, key_q;
  logic [63:0] step_d, step_q;
  logic [63:0] tensor_d, tensor_q;
  logic [63:0] mix_in;

  always_comb begin
    state_d  = state_q;
    step_d   = step_q;
    tensor_d = tensor_q;
    mix_in   = key_q ^ step_q;
    if (start_i) begin
      state_d  = KeyStep;
      step_d   = step_i;
      tensor_d = tensor_i;
      mix_in   = octet_pkg::SplitMixGamma ^ seed_i;
    end else begin
      unique case (state_q)
        KeyStep:   state_d = KeyTensor;
        KeyTensor: begin
          state_d = KeyDone;
          mix_in  = key_q ^ tensor_q;
        end
        default:   state_d = state_q;  // idle or done: hold
      endcase
    end
    // Only clock the mixer's result in while a computation step is in flight.
    key_d = (start_i || state_q == KeyStep || state_q == KeyTensor) ? octet_pkg::sm64_mix(mix_in) : key_q;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q  <= KeyIdle;
      key_q    <= '0;
      step_q   <= '0;
      tensor_q <= '0;
    end else begin
      state_q  <= state_d;
      key_q    <= key_d;
      step_q   <= step_d;
      tensor_q <= tensor_d;
    end
  end

  assign valid_o = state_q == KeyDone;
  assign key_o   = key_q;

endmodule : sq_stream_key
