// Every unit-latency formula of the accelerator model, in one place, so that they can follow
// the RTL exactly (docs/architecture.md). Durations count cycles from the first accepted
// input (or configuration) to the last output, as each unit's section of the docs does.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace octet::model::timing {

inline constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---- systolic_array (docs/architecture.md, "Cycle formula") ----------------------------
// One tile of depth K on an R x C array.
inline constexpr int64_t array_tile_cycles(int64_t k, int64_t r, int64_t c) { return k + r + c + 1; }
// A tile occupies the array input for max(K, R, C) cycles when it follows another tile
// back to back (TileGap = max(R, C) between last beats).
inline constexpr int64_t array_tile_period(int64_t k, int64_t r, int64_t c) { return std::max({k, r, c}); }
// Drain after the last beat of the last tile: R + C + 1 cycles (last beat counted in K).
inline constexpr int64_t array_drain_cycles(int64_t r, int64_t c) { return r + c + 1; }
// T tiles of depth K streamed back to back, first accepted beat .. last output row.
inline constexpr int64_t array_block_cycles(int64_t t, int64_t k, int64_t r, int64_t c) {
  return k + (t - 1) * array_tile_period(k, r, c) + r + c + 1;
}
// T = ceil(M/R) * ceil(N/C) tiles streamed back to back.
inline constexpr int64_t array_gemm_cycles(int64_t m, int64_t k, int64_t n, int64_t r, int64_t c) {
  return array_block_cycles(ceil_div(m, r) * ceil_div(n, c), k, r, c);
}

// ---- shift_quantizer (docs/architecture.md, "Latency and throughput") -------------------
// SQ, CQ, E2: scan pass then quantize pass; Q: one pass. Last output beat, cycle 0 = the
// configuration accepted.
inline constexpr int64_t sq_two_pass_cycles(int64_t n, int64_t lanes) { return 2 * ceil_div(n, lanes) + 6; }
inline constexpr int64_t sq_direct_cycles(int64_t n, int64_t lanes) { return ceil_div(n, lanes) + 5; }
// SQ, CQ, E2 fused: max |x| given with the configuration (the array's drain-path maximum):
// r in cycle 1, parameters in cycle 2, the quantize pass from cycle 3.
inline constexpr int64_t sq_fused_cycles(int64_t n, int64_t lanes) { return ceil_div(n, lanes) + 6; }

// ---- bn_unit (docs/architecture.md, "Batch-norm unit", "Pipeline, latency and throughput") --
// One channel of N values at a time; B = ceil(N / lanes). The period per channel (command
// accepted .. next command accepted) is pass 1 + S + B + 4 + 2, with S the fixed statistics
// phase of the mode and 4 the pass-2 pipeline depth.
inline constexpr int64_t kBnStatsTrain = 223;     // 1 + 128 + 1 + 64 + 1 + 1 + 25 + 2
inline constexpr int64_t kBnStatsInfer = 28;      // 1 + 25 + 2
inline constexpr int64_t kBnStatsBackward = 67;   // 1 + 64 + 2
inline constexpr int64_t kBnPipeDepth = 4;        // output beat 4 edges after its pass-2 input beat
inline constexpr int64_t kBnNextCommand = 2;      // next command 2 edges after the last output beat
// Per channel: train 2B + 229, infer B + 34, backward 2B + 73.
inline constexpr int64_t bn_train_channel_cycles(int64_t n, int64_t lanes) {
  return 2 * ceil_div(n, lanes) + kBnStatsTrain + kBnPipeDepth + kBnNextCommand;
}
inline constexpr int64_t bn_infer_channel_cycles(int64_t n, int64_t lanes) {
  return ceil_div(n, lanes) + kBnStatsInfer + kBnPipeDepth + kBnNextCommand;
}
inline constexpr int64_t bn_backward_channel_cycles(int64_t n, int64_t lanes) {
  return 2 * ceil_div(n, lanes) + kBnStatsBackward + kBnPipeDepth + kBnNextCommand;
}
// A layer's BN forward (train) / backward: n = channels * (batch * H * W) values, the
// channels one after the other.
inline constexpr int64_t bn_forward_cycles(int64_t n, int64_t channels, int64_t lanes) {
  return channels * bn_train_channel_cycles(n / channels, lanes);
}
inline constexpr int64_t bn_backward_cycles(int64_t n, int64_t channels, int64_t lanes) {
  return channels * bn_backward_channel_cycles(n / channels, lanes);
}
// The running statistics' write-back (the accumulators the forward's statistics beat
// computed, 2C values streamed out; no RTL mode of bn_unit, data movement only).
inline constexpr int64_t bn_stream_cycles(int64_t n, int64_t lanes) { return ceil_div(n, lanes) + kBnPipeDepth; }

// ---- vector_unit (docs/architecture.md, "Vector unit", "Pipeline, latency and throughput") --
// Every count is a command's period: from its acceptance to the next command's acceptance,
// one cycle after its last output transfer, so that an operation of several commands costs
// the sum of their periods.
// Element-wise ops (residual add, error add, ...): B = ceil(n / lanes) beats, B + 2 to the
// last transfer.
inline constexpr int64_t vu_elementwise_cycles(int64_t n, int64_t lanes) { return ceil_div(n, lanes) + 3; }
// Bias gradient of C classes over N samples: ceil(C / lanes) commands of N + 2.
inline constexpr int64_t vu_bias_grad_cycles(int64_t samples, int64_t classes, int64_t lanes) {
  return ceil_div(classes, lanes) * (samples + 3);
}
// Loss of B samples with C classes: ceil(B / lanes) commands of 3C + 2.
inline constexpr int64_t vu_loss_cycles(int64_t samples, int64_t classes, int64_t lanes) {
  return ceil_div(samples, lanes) * (3 * classes + 3);
}
// Pooling: T tokens per plane group, ceil(planes / lanes) commands of T + 2. The window of
// global pooling is kernel = H, stride 1, pad 0 (golden's `effective`).
inline constexpr int64_t vu_pool_outputs(int64_t in, int64_t k, int64_t s, int64_t p) { return (in + 2 * p - k) / s + 1; }
// In-bounds positions of output window o along one axis.
inline constexpr int64_t vu_window_inbounds(int64_t o, int64_t in, int64_t k, int64_t s, int64_t p) {
  const int64_t lo = std::max<int64_t>(0, o * s - p), hi = std::min<int64_t>(in - 1, o * s - p + k - 1);
  return std::max<int64_t>(0, hi - lo + 1);
}
// Output windows covering input i along one axis: [ceil((i + p - k + 1) / s), floor((i + p) / s)] ∩ [0, outs).
inline constexpr int64_t vu_windows_covering(int64_t i, int64_t outs, int64_t k, int64_t s, int64_t p) {
  const int64_t num = i + p - k + 1;
  const int64_t lo = std::max<int64_t>(0, num <= 0 ? 0 : ceil_div(num, s)), hi = std::min<int64_t>(outs - 1, (i + p) / s);
  return std::max<int64_t>(0, hi - lo + 1);
}
// Forward: T = Σ over outputs of the window's in-bounds positions (separable per axis).
inline constexpr int64_t vu_pool_forward_tokens(int64_t h, int64_t w, int64_t k, int64_t s, int64_t p) {
  int64_t ty = 0, tx = 0;
  for (int64_t o = 0; o < vu_pool_outputs(h, k, s, p); ++o) ty += vu_window_inbounds(o, h, k, s, p);
  for (int64_t o = 0; o < vu_pool_outputs(w, k, s, p); ++o) tx += vu_window_inbounds(o, w, k, s, p);
  return ty * tx;
}
// Backward: T = Σ over inputs of max(1, windows covering it).
inline int64_t vu_pool_backward_tokens(int64_t h, int64_t w, int64_t k, int64_t s, int64_t p) {
  const int64_t ho = vu_pool_outputs(h, k, s, p), wo = vu_pool_outputs(w, k, s, p);
  int64_t t = 0;
  for (int64_t iy = 0; iy < h; ++iy) {
    const int64_t cy = vu_windows_covering(iy, ho, k, s, p);
    for (int64_t ix = 0; ix < w; ++ix) t += std::max<int64_t>(1, cy * vu_windows_covering(ix, wo, k, s, p));
  }
  return t;
}
inline constexpr int64_t vu_pool_cycles(int64_t planes, int64_t tokens, int64_t lanes) {
  return ceil_div(planes, lanes) * (tokens + 3);
}

// ---- optimizer_unit (docs/architecture.md, "Pipeline, latency and throughput") ----------
inline constexpr int64_t kOptLatency = 3;
// First beat accepted at cycle 0, last beat out at ceil(n/L) + 2: ceil(n/L) + 3 cycles.
inline constexpr int64_t optimizer_cycles(int64_t n, int64_t lanes) { return ceil_div(n, lanes) + kOptLatency; }

// ---- DRAM -----------------------------------------------------------------------------
// A transfer holds the channel for ceil(bytes / bandwidth) cycles; its data is usable
// `latency` cycles after the channel is released. The model's clock (SystemC time in ps,
// 64 bits: 2^54 ns) cannot time a transfer of 2^53 cycles or more: refused, not wrapped.
inline constexpr double kMaxTransferCycles = 9007199254740992.0;  // 2^53
inline int64_t dram_channel_cycles(int64_t bytes, double bytes_per_cycle) {
  if (bytes <= 0) return 0;
  const double cycles = std::ceil(static_cast<double>(bytes) / bytes_per_cycle);
  if (!(cycles < kMaxTransferCycles))  // also infinity and NaN
    throw std::overflow_error("DRAM: a transfer of " + std::to_string(bytes) + " bytes at " +
                              std::to_string(bytes_per_cycle) + " bytes/cycle takes 2^53 cycles or more");
  return static_cast<int64_t>(cycles);
}

}  // namespace octet::model::timing
