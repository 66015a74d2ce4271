// Vector unit (rtl/vector_unit.sv) against the golden functions, operation by operation
// (docs/architecture.md "Vector unit"): relu_quantize, relu_backward, residual_add, error_add,
// the partial-sum merge of a GEMM's reduction chunks, add_weight_decay, linear_bias_grad.
//
// Random commands mix uniform values with extremes, crafted round-half-even ties and the
// saturation / overflow bounds; they run back to back with random input gaps and output
// back-pressure. Every lane of every output beat is compared (value, side band and overflow
// flag; the value only where golden does not throw). The seed is printed; OCTET_SEED=<n>
// replays it. On a mismatch the failing chunk is re-run with an FST trace into <build>/waves.
#include <gtest/gtest.h>
#include <unistd.h>
#include <verilated.h>
#include <verilated_fst_c.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include OCTET_VU_HEADER
#include "golden/activation.h"
#include "golden/int_math.h"
#include "golden/int_network.h"
#include "golden/loss.h"
#include "golden/optimizer.h"
#include "golden/pooling.h"
#include "golden/residual.h"
#include "octet_params.h"
#include "sim/port_bits.h"
#include "testbench/rtl/rtl_env.h"

namespace octet::tb {

using sim::get_bits;
using sim::put_bits;
namespace {

#define OCTET_VU_STR2(x) #x
#define OCTET_VU_STR(x) OCTET_VU_STR2(x)
#define OCTET_VU_LANES_STR OCTET_VU_STR(OCTET_VU_LANES)
#define OCTET_VU_CAT2(a, b) a##b
#define OCTET_VU_CAT(a, b) OCTET_VU_CAT2(a, b)
#define OCTET_VU_SUITE OCTET_VU_CAT(VectorUnitL, OCTET_VU_LANES)
#define OCTET_VU_SLOW_SUITE OCTET_VU_CAT(VectorUnitSlowL, OCTET_VU_LANES)

using Model = OCTET_VU_MODEL;
constexpr int kLanes = OCTET_VU_LANES;
constexpr int kDataW = 64, kAuxW = 16;
// Documented latency of the element-wise operations (docs/architecture.md "Vector unit"): a
// beat accepted at rising edge t leaves at rising edge t + 2 at the earliest.
constexpr uint64_t kElementwiseLatency = 2;

constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int32_t kI32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kI32Max = std::numeric_limits<int32_t>::max();

// Opcodes: octet_pkg::vu_op_e.
enum Op : int {
  kRelu = 0,
  kReluBwd = 1,
  kResidualAdd = 2,
  kErrorAdd = 3,
  kPsumMerge = 4,
  kWeightDecay = 5,
  kBiasGrad = 6,
  kMaxPool = 7,
  kAvgPool = 8,
  kMaxPoolBwd = 9,
  kAvgPoolBwd = 10,
  kLoss = 11,
  kNumOps = 12
};
bool is_pool(int op) { return op >= kMaxPool && op <= kAvgPoolBwd; }
bool is_gather(int op) { return is_pool(op) || op == kLoss; }
const char* op_name(int op) {
  static const char* const names[] = {"relu", "relu_bwd", "residual_add", "error_add",
                                      "psum_merge", "weight_decay", "bias_grad", "maxpool",
                                      "avgpool", "maxpool_bwd", "avgpool_bwd", "loss"};
  return op >= 0 && op < kNumOps ? names[op] : "?";
}

struct LaneOut {
  int64_t data = 0;
  uint16_t aux = 0;
  bool ovf = false;
};

// One command: its fields, its input beats (lane values a, b) and the expected output beats.
struct Job {
  int op = kRelu;
  int sa = 0, sb = 0;
  uint32_t count = 0;  // input beats
  std::vector<int64_t> a, b;      // count * kLanes
  std::vector<LaneOut> expect;    // output beats * kLanes
  std::string what;               // exponents etc., for the mismatch message
  // pooling: geometry, and the planes the unit reads (lane l's plane at l * plane size):
  // activations (forward) or e and the argmax plane index (backward)
  int h = 0, w = 0, kernel = 1, stride = 1, pad = 0;
  bool global = false;
  std::vector<int64_t> mem_a, mem_b;
  int64_t batch = 1;  // loss: the error's divisor
};

// ---- golden expectations -----------------------------------------------------------------------

// An element of residual_add / error_add on exponents ea, eb (output on the golden's exponent).
// Returns false where golden throws (overflow).
bool add_element(int op, int64_t a, int ea, int64_t b, int eb, int e_out, int64_t& out) {
  try {
    if (op == kResidualAdd) {
      golden::Tensor<int32_t> ta({1}, ea), tb({1}, eb);
      ta.data[0] = static_cast<int32_t>(a);
      tb.data[0] = static_cast<int32_t>(b);
      out = golden::residual_add(ta, tb).data[0];
    } else {
      // A one-element error_add would apply the all-zero rule to the element; inside a tensor
      // with non-zero elements the zero is aligned like any other value, so its partner is
      // shifted: golden's shift_left_checked decides. e_out: the tensor result's exponent (an
      // all-zero operand tensor does not constrain it).
      const int e = e_out;
      if (a == 0 && b == 0) {
        out = 0;
      } else if (a == 0) {
        out = golden::shift_left_checked(b, eb - e);
      } else if (b == 0) {
        out = golden::shift_left_checked(a, ea - e);
      } else {
        golden::Tensor<int64_t> ta({1}, ea), tb({1}, eb);
        ta.data[0] = a;
        tb.data[0] = b;
        out = golden::error_add(ta, tb).data[0];
      }
    }
    return true;
  } catch (const std::overflow_error&) {
    return false;
  }
}

// Fills job.expect from the golden functions, and checks that the tensor-level golden call
// agrees with the per-element expectation (throws iff an element overflows).
void golden_expect(Job& j, int ea = 0, int eb = 0, int e_extra = 0) {
  const int64_t n = static_cast<int64_t>(j.count) * kLanes;
  j.expect.assign(static_cast<size_t>(j.op == kBiasGrad ? kLanes : n), {});
  switch (j.op) {
    case kRelu: {
      golden::Tensor<int32_t> y({n}, -14);
      for (int64_t i = 0; i < n; ++i) y.data[i] = static_cast<int32_t>(j.a[i]);
      const golden::ReluForward r = golden::relu_quantize(y);
      for (int64_t i = 0; i < n; ++i) j.expect[i] = {r.a.data[i], r.mask[i], false};
      break;
    }
    case kReluBwd: {
      golden::Tensor<int32_t> e({n}, ea);
      std::vector<uint8_t> mask(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        e.data[i] = static_cast<int32_t>(j.a[i]);
        mask[i] = static_cast<uint8_t>(j.b[i] & 1);
      }
      const golden::Tensor<int32_t> r = golden::relu_backward(e, mask);
      for (int64_t i = 0; i < n; ++i) j.expect[i] = {r.data[i], 0, false};
      break;
    }
    case kResidualAdd:
    case kErrorAdd: {
      bool any_ovf = false;
      for (int64_t i = 0; i < n; ++i) {
        int64_t v = 0;
        const bool ok = add_element(j.op, j.a[i], ea, j.b[i], eb, e_extra, v);
        j.expect[i] = {ok ? v : 0, 0, !ok};
        any_ovf |= !ok;
      }
      // The tensor-level golden call: the same values, and a throw iff some element overflows.
      bool threw = false;
      try {
        if (j.op == kResidualAdd) {
          golden::Tensor<int32_t> ta({n}, ea), tb({n}, eb);
          for (int64_t i = 0; i < n; ++i) ta.data[i] = static_cast<int32_t>(j.a[i]), tb.data[i] = static_cast<int32_t>(j.b[i]);
          const auto r = golden::residual_add(ta, tb);
          for (int64_t i = 0; i < n; ++i) EXPECT_EQ(r.data[i], j.expect[i].data) << "per-element model, element " << i;
        } else {
          golden::Tensor<int64_t> ta({n}, ea), tb({n}, eb);
          ta.data.assign(j.a.begin(), j.a.end());
          tb.data.assign(j.b.begin(), j.b.end());
          const auto r = golden::error_add(ta, tb);
          // The command's shifts put the sum on the golden result's exponent.
          EXPECT_EQ(j.sa, std::all_of(j.a.begin(), j.a.end(), [](int64_t v) { return v == 0; }) ? 0 : ea - r.exp);
          for (int64_t i = 0; i < n; ++i) EXPECT_EQ(r.data[i], j.expect[i].data) << "per-element model, element " << i;
        }
      } catch (const std::overflow_error&) {
        threw = true;
      }
      EXPECT_EQ(threw, any_ovf) << op_name(j.op) << ": golden tensor call vs per-element overflow";
      break;
    }
    case kPsumMerge: {
      // The accumulator's partial sums: exact, and flagged where the sum leaves AccW bits (the
      // model's overflow stop, model/storage_widths.h).
      const int64_t hi = (int64_t{1} << (params::kAccW - 1)) - 1, lo = -hi - 1;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t s = j.a[i] + j.b[i];
        j.expect[i] = {s, 0, s > hi || s < lo};
      }
      break;
    }
    case kWeightDecay: {
      // Per element, so that a shift overflow (golden throws) is attributed to its element.
      for (int64_t i = 0; i < n; ++i) {
        golden::Tensor<int64_t> g({1}, ea);
        golden::Tensor<int8_t> w({1}, -7);
        g.data[0] = j.a[i];
        w.data[0] = static_cast<int8_t>(j.b[i]);
        try {
          golden::add_weight_decay(g, w, e_extra);
          // golden adds without a check; the contract (docs/numerics.md §10: nothing wraps) and
          // the RTL flag a sum that leaves int64.
          const __int128 exact = static_cast<__int128>(j.a[i]) +
                                 golden::shift_round_half_even(static_cast<int8_t>(j.b[i]), -7 - e_extra - ea);
          const bool wrapped = exact > kI64Max || exact < kI64Min;
          j.expect[i] = {g.data[0], 0, wrapped};
        } catch (const std::overflow_error&) {
          j.expect[i] = {0, 0, true};
        }
      }
      break;
    }
    case kBiasGrad: {
      // Lanes classes, count samples: err{count, Lanes} on 2^ea.
      golden::Tensor<int64_t> err({static_cast<int64_t>(j.count), kLanes}, ea);
      err.data.assign(j.a.begin(), j.a.end());
      try {
        const auto g = golden::linear_bias_grad(err);
        for (int l = 0; l < kLanes; ++l) j.expect[l] = {g.data[l], 0, false};
      } catch (const std::overflow_error&) {
        for (int l = 0; l < kLanes; ++l) {  // per class
          golden::Tensor<int64_t> col({static_cast<int64_t>(j.count), 1}, ea);
          for (uint32_t r = 0; r < j.count; ++r) col.data[r] = j.a[r * kLanes + l];
          try {
            j.expect[l] = {golden::linear_bias_grad(col).data[0], 0, false};
          } catch (const std::overflow_error&) {
            j.expect[l] = {0, 0, true};
          }
        }
      }
      break;
    }
    default: break;
  }
}

// ---- stimulus -----------------------------------------------------------------------------------
int64_t pick(std::mt19937_64& g, std::initializer_list<int64_t> v) { return *(v.begin() + g() % v.size()); }

int32_t i32(std::mt19937_64& g) {
  switch (g() % 5) {
    case 0: return static_cast<int32_t>(pick(g, {kI32Min, kI32Min + 1, -1, 0, 1, kI32Max - 1, kI32Max}));
    case 1: return static_cast<int32_t>(g());
    case 2: return static_cast<int32_t>(static_cast<int64_t>(g() % (1 << 20)) - (1 << 19));
    case 3: {
      const int64_t x = (int64_t{1} << (g() % 31)) + static_cast<int64_t>(g() % 5) - 2;
      return static_cast<int32_t>(g() & 1 ? -x : x);
    }
    default: return static_cast<int32_t>(static_cast<int64_t>(g() % 255) - 127);
  }
}

int64_t i64_bits(std::mt19937_64& g, int bits) {  // a signed value of about `bits` bits
  if (bits >= 64) return static_cast<int64_t>(g());
  const int64_t m = int64_t{1} << (bits - 1);
  switch (g() % 6) {
    case 0: return pick(g, {-m, -m + 1, -1, 0, 1, m - 1});
    case 1: return 0;
    default: return static_cast<int64_t>(g() % (2 * static_cast<uint64_t>(m))) - m;
  }
}

int64_t relu_input(std::mt19937_64& g) {
  switch (g() % 6) {
    case 0: return pick(g, {0, 1, -1, 63, 64, 65, 191, 192, 193, 255 * 128, 255 * 128 + 1, 255 * 128 - 1,
                            255 * 128 + 63, 255 * 128 + 64, 255 * 128 + 65, 254 * 128 + 64, kI32Max, kI32Min});
    case 1: return (static_cast<int64_t>(g() % 300) - 20) * 128 + 64;  // ties, either parity
    case 2: return static_cast<int64_t>(g() % 40000) - 2000;
    default: return i32(g);
  }
}

Job pool_job(std::mt19937_64& g, int op);
Job loss_job(std::mt19937_64& g, int64_t classes, int ez, int kind);

Job random_job(std::mt19937_64& g, int op, int max_beats) {
  if (is_pool(op)) return pool_job(g, op);
  if (op == kLoss) return loss_job(g, 0, 1000, -1);
  Job j;
  j.op = op;
  j.count = 1 + static_cast<uint32_t>(g() % max_beats);
  const size_t n = static_cast<size_t>(j.count) * kLanes;
  j.a.resize(n);
  j.b.resize(n);
  char what[160] = "";
  switch (op) {
    case kRelu:
      for (size_t i = 0; i < n; ++i) j.a[i] = relu_input(g), j.b[i] = static_cast<int64_t>(g());
      golden_expect(j);
      break;
    case kReluBwd:
      for (size_t i = 0; i < n; ++i) j.a[i] = g() % 3 ? static_cast<int8_t>(g()) : i32(g), j.b[i] = static_cast<int64_t>(g() % 2);
      if (g() % 8 == 0)  // the mask's other bits are not part of it
        for (size_t i = 0; i < n; ++i) j.b[i] = static_cast<int64_t>(g()) & ~int64_t{1};
      golden_expect(j, -static_cast<int>(g() % 20));
      break;
    case kResidualAdd:
    case kErrorAdd: {
      // Exponents: equal, one apart (a block's first add: -14 and -15), or far apart.
      int ea = -14 - static_cast<int>(g() % 3), eb = -14 - static_cast<int>(g() % 3);
      if (g() % 4 == 0) eb = ea + static_cast<int>(g() % (op == kResidualAdd ? 40 : 70));
      if (g() & 1) std::swap(ea, eb);
      const int bits = op == kResidualAdd ? 32 : 2 + static_cast<int>(g() % 63);
      for (size_t i = 0; i < n; ++i) {
        if (op == kResidualAdd) {
          j.a[i] = g() % 3 ? static_cast<int32_t>(i64_bits(g, 2 + static_cast<int>(g() % 31))) : i32(g);
          j.b[i] = g() % 3 ? static_cast<int32_t>(i64_bits(g, 2 + static_cast<int>(g() % 31))) : i32(g);
        } else {
          j.a[i] = i64_bits(g, bits);
          j.b[i] = g() % 8 ? i64_bits(g, bits) : pick(g, {kI64Min, kI64Max, 0});
        }
      }
      if (op == kErrorAdd && g() % 6 == 0) std::fill(j.a.begin(), j.a.end(), 0);  // all-zero operands
      if (op == kErrorAdd && g() % 6 == 0) std::fill(j.b.begin(), j.b.end(), 0);
      const bool za = std::all_of(j.a.begin(), j.a.end(), [](int64_t v) { return v == 0; });
      const bool zb = std::all_of(j.b.begin(), j.b.end(), [](int64_t v) { return v == 0; });
      // Output exponent as golden chooses it (error_add: an all-zero operand never constrains).
      int e = std::min(ea, eb);
      if (op == kErrorAdd && za) e = eb;
      else if (op == kErrorAdd && zb) e = ea;
      j.sa = op == kErrorAdd && za ? 0 : ea - e;
      j.sb = op == kErrorAdd && zb && !za ? 0 : eb - e;
      if (op == kErrorAdd && za && zb) j.sa = j.sb = 0;
      std::snprintf(what, sizeof what, "ea=%d eb=%d", ea, eb);
      golden_expect(j, ea, eb, e);
      break;
    }
    case kPsumMerge: {
      const int w = params::kAccW;
      for (size_t i = 0; i < n; ++i) {
        j.a[i] = g() % 4 ? i64_bits(g, w - static_cast<int>(g() % 4)) : i64_bits(g, w - 20);
        j.b[i] = g() % 4 ? i64_bits(g, w - static_cast<int>(g() % 4)) : i64_bits(g, w - 20);
      }
      golden_expect(j);
      break;
    }
    case kWeightDecay: {
      // G_raw on 2^e_g (e_A + e_E2: -7 plus an E2 exponent), lambda 0 ... 20 (13 by default).
      const int lambda = g() % 3 ? params::kDefaultWeightDecayLog2 : static_cast<int>(g() % 21);
      int eg = -7 - static_cast<int>(g() % 40);
      if (g() % 8 == 0) eg = -7 - lambda + 50 + static_cast<int>(g() % 20);  // right shifts: rounding ties
      if (g() % 8 == 0) eg = -7 - lambda - 50 - static_cast<int>(g() % 20);  // left shifts near / past int64
      j.sa = -7 - lambda - eg;
      const int bits = j.sa > 0 ? std::max(2, 62 - std::max(0, j.sa)) : 62;
      for (size_t i = 0; i < n; ++i) {
        j.a[i] = i64_bits(g, bits);
        j.b[i] = static_cast<int8_t>(g() % 3 ? static_cast<int64_t>(g() % 255) - 127 : pick(g, {-128, -127, -1, 0, 1, 127}));
      }
      std::snprintf(what, sizeof what, "e_g=%d lambda=%d", eg, lambda);
      golden_expect(j, eg, 0, lambda);
      break;
    }
    case kBiasGrad: {
      // The loss error on 2^-23 (|err| <= 2^23 / B), or wider to reach the int32 saturation.
      const int ee = g() % 4 ? -23 : -23 + static_cast<int>(g() % 20) - 5;
      j.sa = ee - golden::kIntGradientExp;
      const int bits = g() % 3 ? 24 : 2 + static_cast<int>(g() % (j.sa > 0 ? 40 - j.sa : 50));
      for (size_t i = 0; i < n; ++i) j.a[i] = i64_bits(g, bits);
      if (g() % 6 == 0)  // exact ties of the 2^-9 rounding: sums k * 512 + 256
        for (int l = 0; l < kLanes; ++l) {
          int64_t s = 0;
          for (uint32_t r = 0; r + 1 < j.count; ++r) s += j.a[r * kLanes + l];
          j.a[(j.count - 1) * kLanes + l] = (static_cast<int64_t>(g() % 2000) - 1000) * 512 + 256 - s;
        }
      std::snprintf(what, sizeof what, "e_err=%d", ee);
      golden_expect(j, ee);
      break;
    }
    default: break;
  }
  j.what = what;
  return j;
}


// Pooling: golden on {1, Lanes, H, W} planes. Output beat o, lane l = the golden's element
// l * (plane) + o; max-pool argmax as a plane index.
void pool_expect(Job& j) {
  const golden::PoolParams pp{j.kernel, j.stride, j.pad, j.global};
  const golden::Shape in_shape{1, kLanes, j.h, j.w};
  const golden::Shape os = golden::pool_output_shape(in_shape, pp);
  const int64_t in_plane = int64_t{j.h} * j.w, out_plane = os[2] * os[3];
  if (j.op == kMaxPool || j.op == kAvgPool) {
    golden::Tensor<uint8_t> x(in_shape, -7);
    for (int64_t i = 0; i < x.size(); ++i) x.data[i] = static_cast<uint8_t>(j.mem_a[i]);
    j.expect.assign(static_cast<size_t>(out_plane * kLanes), {});
    if (j.op == kMaxPool) {
      const golden::MaxPoolForward r = golden::maxpool_forward(x, pp);
      for (int64_t o = 0; o < out_plane; ++o)
        for (int l = 0; l < kLanes; ++l)
          j.expect[o * kLanes + l] = {r.out.data[l * out_plane + o],
                                      static_cast<uint16_t>(r.argmax[l * out_plane + o] - l * in_plane), false};
    } else {
      const golden::Tensor<uint8_t> r = golden::avgpool_forward(x, pp);
      for (int64_t o = 0; o < out_plane; ++o)
        for (int l = 0; l < kLanes; ++l) j.expect[o * kLanes + l] = {r.data[l * out_plane + o], 0, false};
    }
    return;
  }
  golden::Tensor<int64_t> e(os, -20);
  e.data.assign(j.mem_a.begin(), j.mem_a.end());
  j.expect.assign(static_cast<size_t>(in_plane * kLanes), {});
  golden::Tensor<int64_t> r;
  std::vector<bool> ovf(static_cast<size_t>(in_plane * kLanes), false);
  if (j.op == kMaxPoolBwd) {
    std::vector<int64_t> argmax(static_cast<size_t>(e.size()));
    for (int64_t i = 0; i < e.size(); ++i) argmax[i] = (i / out_plane) * in_plane + j.mem_b[i];
    r = golden::maxpool_backward(e, argmax, in_shape);
  } else {
    try {
      r = golden::avgpool_backward(e, in_shape, pp);
    } catch (const std::overflow_error&) {
      // Golden throws for the tensor (e * 2^8 leaves int64). The flagged inputs are those a
      // window with such an e covers: golden again, on an indicator of those windows.
      golden::Tensor<int64_t> ok = e, ind(os, -20);
      for (int64_t i = 0; i < e.size(); ++i) {
        const bool bad = e.data[i] > (kI64Max >> 8) || e.data[i] < (kI64Min >> 8);
        if (bad) ok.data[i] = 0;
        ind.data[i] = bad ? int64_t{1} << 40 : 0;
      }
      r = golden::avgpool_backward(ok, in_shape, pp);
      const golden::Tensor<int64_t> hit = golden::avgpool_backward(ind, in_shape, pp);
      for (int64_t i = 0; i < hit.size(); ++i) ovf[(i % in_plane) * kLanes + i / in_plane] = hit.data[i] != 0;
    }
  }
  for (int64_t i = 0; i < in_plane; ++i)
    for (int l = 0; l < kLanes; ++l) {
      const size_t k = static_cast<size_t>(i * kLanes + l);
      j.expect[k] = {ovf[k] ? 0 : r.data[l * in_plane + i], 0, ovf[k]};
    }
}

// A pooling geometry: the shipped networks' (max k3 s2 p1, global average) or random.
void pool_geometry(std::mt19937_64& g, Job& j) {
  for (;;) {
    const int kind = static_cast<int>(g() % 4);
    j.global = false;
    if (kind == 0) {  // max pool of the ResNet stems: k3 s2 p1, odd and even planes
      j.kernel = 3, j.stride = 2, j.pad = 1;
      j.h = 1 + static_cast<int>(g() % 16);
      j.w = g() % 2 ? j.h : 1 + static_cast<int>(g() % 16);
    } else if (kind == 1) {  // global average pool (square plane)
      j.global = true;
      j.h = j.w = 1 + static_cast<int>(g() % 9);
      j.kernel = static_cast<int>(g() % 4), j.stride = static_cast<int>(g() % 4), j.pad = static_cast<int>(g() % 4);  // ignored
    } else {
      j.kernel = 1 + static_cast<int>(g() % 5);
      j.stride = 1 + static_cast<int>(g() % 4);
      j.pad = static_cast<int>(g() % j.kernel);
      j.h = 1 + static_cast<int>(g() % 14);
      j.w = 1 + static_cast<int>(g() % 14);
    }
    try {
      golden::pool_output_shape({1, kLanes, j.h, j.w}, {j.kernel, j.stride, j.pad, j.global});
      return;
    } catch (const std::invalid_argument&) {
    }
  }
}

Job pool_job(std::mt19937_64& g, int op) {
  Job j;
  j.op = op;
  pool_geometry(g, j);
  const golden::PoolParams pp{j.kernel, j.stride, j.pad, j.global};
  const golden::Shape in_shape{1, kLanes, j.h, j.w};
  const golden::Shape os = golden::pool_output_shape(in_shape, pp);
  const int64_t in_n = int64_t{kLanes} * j.h * j.w, out_n = int64_t{kLanes} * os[2] * os[3];
  // activations: uniform, or few levels (ties: the first maximum), or all equal
  const int levels = static_cast<int>(pick(g, {256, 256, 3, 2, 1}));
  const int base = static_cast<int>(g() % 256);
  std::vector<int64_t> act(static_cast<size_t>(in_n));
  for (int64_t& v : act) v = levels == 256 ? static_cast<int64_t>(g() % 256) : std::min(255, base + static_cast<int>(g() % levels));
  if (op == kMaxPool || op == kAvgPool) {
    j.mem_a = act;
    j.mem_b.assign(act.size(), 0);
  } else {
    // e of the pool's output; max pool: the argmax of a forward pass over `act`
    // |e| < 2^49 keeps every sum of shares inside int64 (golden adds them unchecked); the
    // average backward's wide jobs mix in |e| >= 2^55, whose e * 2^8 golden refuses (throws).
    const int bits = 2 + static_cast<int>(g() % 48);
    const bool wide = op == kAvgPoolBwd && g() % 8 == 0;
    j.mem_a.resize(static_cast<size_t>(out_n));
    for (int64_t& v : j.mem_a) {
      v = i64_bits(g, bits);
      if (wide && g() % 4 == 0) {
        v = (int64_t{1} << 55) + static_cast<int64_t>(g() % (uint64_t{1} << 62));
        if (g() & 1) v = -v;
      }
    }
    if (op == kMaxPoolBwd) {
      golden::Tensor<uint8_t> x(in_shape, -7);
      for (int64_t i = 0; i < in_n; ++i) x.data[i] = static_cast<uint8_t>(act[i]);
      const golden::MaxPoolForward f = golden::maxpool_forward(x, pp);
      j.mem_b.resize(static_cast<size_t>(out_n));
      const int64_t in_plane = int64_t{j.h} * j.w, out_plane = os[2] * os[3];
      for (int64_t i = 0; i < out_n; ++i) j.mem_b[i] = f.argmax[i] - (i / out_plane) * in_plane;
    } else {
      j.mem_b.assign(j.mem_a.size(), 0);
    }
  }
  pool_expect(j);
  char what[160];
  std::snprintf(what, sizeof what, "H=%d W=%d k=%d s=%d p=%d%s", j.h, j.w, j.kernel, j.stride, j.pad,
                j.global ? " global" : "");
  j.what = what;
  return j;
}

// ---- loss ---------------------------------------------------------------------------------------
// Lanes rows of C logits on 2^e_z; the unit's output beat i, lane l = golden's error (and p) at
// [l, i]. Rows where golden throws (e_z > 7: the left shift leaves int64) are flagged.
void loss_expect(Job& j, int ez) {
  const int64_t C = j.count;
  golden::Tensor<int32_t> z({kLanes, C}, ez);
  std::vector<golden::Label> labels(kLanes);
  for (int64_t i = 0; i < kLanes * C; ++i) z.data[i] = static_cast<int32_t>(j.mem_a[i]);
  for (int l = 0; l < kLanes; ++l) labels[l] = static_cast<golden::Label>(j.mem_b[l * C]);
  j.expect.assign(static_cast<size_t>(kLanes * C), {});
  try {
    const golden::SoftmaxLoss r = golden::softmax_cross_entropy(z, labels, j.batch);
    for (int64_t i = 0; i < C; ++i)
      for (int l = 0; l < kLanes; ++l)
        j.expect[i * kLanes + l] = {r.error.data[l * C + i], static_cast<uint16_t>(r.prob.data[l * C + i]), false};
  } catch (const std::overflow_error&) {
    for (int l = 0; l < kLanes; ++l) {  // row by row
      golden::Tensor<int32_t> row({1, C}, ez);
      for (int64_t i = 0; i < C; ++i) row.data[i] = z.data[l * C + i];
      try {
        const golden::SoftmaxLoss r = golden::softmax_cross_entropy(row, {labels[l]}, j.batch);
        for (int64_t i = 0; i < C; ++i)
          j.expect[i * kLanes + l] = {r.error.data[i], static_cast<uint16_t>(r.prob.data[i]), false};
      } catch (const std::overflow_error&) {
        for (int64_t i = 0; i < C; ++i) j.expect[i * kLanes + l] = {0, 0, true};
      }
    }
  }
}

Job loss_job(std::mt19937_64& g, int64_t classes = 0, int ez = 1000, int kind = -1) {
  Job j;
  j.op = kLoss;
  if (classes == 0) classes = pick(g, {1, 2, 3, 10, 10, 100, 1 + static_cast<int64_t>(g() % 300)});
  j.count = static_cast<uint32_t>(classes);
  if (ez == 1000) ez = g() % 3 ? -14 : static_cast<int>(pick(g, {7, 0, -30, -60, 8, 9, 12, -15, 3, 21, 25}));
  j.sa = ez - 7;
  j.batch = kLanes + static_cast<int64_t>(g() % (g() % 2 ? 4 : 300));
  if (kind < 0) kind = static_cast<int>(g() % 6);
  j.mem_a.resize(static_cast<size_t>(kLanes * classes));
  j.mem_b.resize(j.mem_a.size());
  for (int l = 0; l < kLanes; ++l) {
    const int64_t label = static_cast<int64_t>(g() % classes);
    const int64_t base = static_cast<int64_t>(static_cast<int32_t>(g()));
    const int span = 1 + static_cast<int>(g() % 30);
    for (int64_t i = 0; i < classes; ++i) {
      int64_t v = 0;
      switch (kind) {
        case 0: v = static_cast<int32_t>(g()); break;                                     // uniform int32
        case 1: v = std::clamp<int64_t>(base + static_cast<int64_t>(g() % (int64_t{1} << span)), kI32Min, kI32Max); break;
        case 2: v = base; break;                                                           // all equal
        case 3: v = i == label ? kI32Max : kI32Min; break;                                 // one dominant
        case 4: v = static_cast<int64_t>(g() % 5) * (int64_t{1} << static_cast<int>(g() % 20)); break;  // max ties, steps
        default: v = static_cast<int64_t>(g() % (int64_t{1} << 18)) - (1 << 17); break;   // a few nats on 2^-14
      }
      j.mem_a[l * classes + i] = v;
      j.mem_b[l * classes + i] = label;
    }
  }
  loss_expect(j, ez);
  char what[160];
  std::snprintf(what, sizeof what, "C=%lld e_z=%d batch=%lld kind=%d", static_cast<long long>(classes), ez,
                static_cast<long long>(j.batch), kind);
  j.what = what;
  return j;
}

// ---- harness --------------------------------------------------------------------------------
struct Timing {
  double in_gap = 0;     // probability of an idle input cycle before a beat
  double out_stall = 0;  // probability of out_ready_i low in a cycle
  uint64_t seed = 1;
};

struct Result {
  int64_t compared = 0;   // lane values compared
  int64_t mismatches = 0;
  std::string first_mismatch, protocol_error;
  uint64_t min_latency = ~uint64_t{0}, max_latency = 0;  // element-wise beats: acceptance to transfer
  uint64_t first_in = 0, last_out = 0, cycles = 0;
  int64_t reads = 0;  // pooling read requests
  uint64_t first_cmd = 0;  // rising edge of the first command's acceptance
};

Result run(const std::vector<Job>& jobs, const Timing& timing, uint64_t seed, int64_t chunk,
           const std::string& trace_path = "") {
  Result res;
  auto ctx = std::make_unique<VerilatedContext>();
  if (!trace_path.empty()) ctx->traceEverOn(true);
  auto dut = std::make_unique<Model>(ctx.get(), "dut");
  std::unique_ptr<VerilatedFstC> trace;
  if (!trace_path.empty()) {
    trace = std::make_unique<VerilatedFstC>();
    dut->trace(trace.get(), 99);
    trace->open(trace_path.c_str());
  }
  uint64_t cycle = 0;
  auto& d = *dut;
  auto edge = [&] {
    d.clk_i = 0;
    d.eval();
    if (trace) trace->dump(2 * cycle);
    d.clk_i = 1;
    d.eval();
    if (trace) trace->dump(2 * cycle + 1);
    ++cycle;
  };
  d.rst_ni = 0;
  d.cmd_valid_i = 0;
  d.rd_req_ready_i = 0;
  d.in_valid_i = 0;
  d.out_ready_i = 0;
  for (int i = 0; i < 3; ++i) edge();
  d.rst_ni = 1;
  edge();

  struct InBeat {
    int job;
    uint32_t beat;
  };
  std::vector<InBeat> in_beats, out_beats;
  int64_t total = 0;
  uint64_t timeout = 200;
  for (int jj = 0; jj < static_cast<int>(jobs.size()); ++jj) {
    const Job& j = jobs[jj];
    if (!is_gather(j.op))
      for (uint32_t b = 0; b < j.count; ++b) in_beats.push_back({jj, b});
    const uint32_t outs = static_cast<uint32_t>(j.expect.size() / kLanes);
    for (uint32_t b = 0; b < outs; ++b) out_beats.push_back({jj, b});
    total += static_cast<int64_t>(j.expect.size());
    timeout += 40 + 40 * j.count + 160 * (j.mem_a.size() + j.expect.size());  // generous, but a hung unit fails in seconds
    if (j.op == kLoss) timeout += 3 * 40 * j.count;
  }

  std::mt19937_64 g(timing.seed);
  std::bernoulli_distribution gap(timing.in_gap), stall(timing.out_stall);
  std::deque<uint64_t> accepted;  // acceptance edges of element-wise beats in flight
  struct Read {
    uint32_t idx;
    uint64_t due;  // first cycle its data may be offered
  };
  std::deque<Read> reads;  // pooling read requests accepted, data not yet taken
  size_t next_cmd = 0, next_in = 0, next_out = 0;
  bool presenting = false, prev_stalled = false;
  LaneOut prev_out[kLanes] = {};

  for (uint64_t waited = 0; next_out < out_beats.size(); ++waited) {
    if (waited > timeout) {
      res.protocol_error = "timeout: " + std::to_string(next_cmd) + " commands, " + std::to_string(next_in) +
                           " beats in, " + std::to_string(next_out) + " out";
      break;
    }
    d.clk_i = 0;
    // Command: the next one is offered as soon as the previous one was accepted (the unit takes
    // it once idle); random fields while none is offered.
    d.cmd_valid_i = next_cmd < jobs.size() && (next_cmd == 0 || !gap(g));
    if (d.cmd_valid_i) {
      const Job& j = jobs[next_cmd];
      d.cmd_op_i = static_cast<uint8_t>(j.op);
      d.cmd_shift_a_i = static_cast<uint8_t>(j.sa);
      d.cmd_shift_b_i = static_cast<uint8_t>(j.sb);
      d.cmd_count_i = j.count;
      d.cmd_height_i = static_cast<uint16_t>(j.h);
      d.cmd_width_i = static_cast<uint16_t>(j.w);
      d.cmd_kernel_i = static_cast<uint8_t>(j.kernel);
      d.cmd_stride_i = static_cast<uint8_t>(j.stride);
      d.cmd_pad_i = static_cast<uint8_t>(j.pad);
      d.cmd_global_i = j.global;
      d.cmd_batch_i = static_cast<uint32_t>(j.batch);
    } else {
      d.cmd_batch_i = static_cast<uint32_t>(g());
      d.cmd_height_i = static_cast<uint16_t>(g());
      d.cmd_width_i = static_cast<uint16_t>(g());
      d.cmd_kernel_i = static_cast<uint8_t>(g());
      d.cmd_stride_i = static_cast<uint8_t>(g());
      d.cmd_pad_i = static_cast<uint8_t>(g());
      d.cmd_global_i = g() & 1;
      d.cmd_op_i = static_cast<uint8_t>(g() % 16);
      d.cmd_shift_a_i = static_cast<uint8_t>(g());
      d.cmd_shift_b_i = static_cast<uint8_t>(g());
      d.cmd_count_i = static_cast<uint32_t>(g());
    }
    // Input: beats of the running command (the last accepted); for pooling the read data of
    // the requests accepted so far, in order, each after a random memory latency of 1 ... 4.
    const int running = static_cast<int>(next_cmd) - 1;
    const bool pool_running = running >= 0 && is_gather(jobs[running].op);  // pooling or loss
    if (!presenting) {
      if (pool_running)
        presenting = !reads.empty() && reads.front().due <= cycle && !gap(g);
      else if (next_in < in_beats.size() && in_beats[next_in].job == running)
        presenting = !gap(g);
    }
    d.in_valid_i = presenting;
    for (int l = 0; l < kLanes; ++l) {
      uint64_t a = g(), b = g();
      if (presenting && pool_running) {
        const Job& j = jobs[running];
        const size_t plane = j.mem_a.size() / kLanes;
        a = static_cast<uint64_t>(j.mem_a[l * plane + reads.front().idx]);
        b = static_cast<uint64_t>(j.mem_b[l * plane + reads.front().idx]) | (g() & ~uint64_t{0xFFFF});
      } else if (presenting) {
        const Job& j = jobs[in_beats[next_in].job];
        const size_t i = static_cast<size_t>(in_beats[next_in].beat) * kLanes + l;
        a = static_cast<uint64_t>(j.a[i]);
        b = static_cast<uint64_t>(j.b[i]);
      }
      put_bits(d.in_a_i, kDataW * l, kDataW, a);
      put_bits(d.in_b_i, kDataW * l, kDataW, b);
    }
    d.rd_req_ready_i = !gap(g);
    d.out_ready_i = !stall(g);
    d.eval();
    if (trace) trace->dump(2 * cycle);

    LaneOut got[kLanes];
    for (int l = 0; l < kLanes; ++l)
      got[l] = {static_cast<int64_t>(get_bits(d.out_data_o, kDataW * l, kDataW)),
                static_cast<uint16_t>(get_bits(d.out_aux_o, kAuxW * l, kAuxW)),
                static_cast<bool>((d.out_ovf_o >> l) & 1)};
    if (prev_stalled) {  // a stalled output beat must stay put
      bool same = d.out_valid_o;
      for (int l = 0; l < kLanes; ++l)
        same = same && got[l].data == prev_out[l].data && got[l].aux == prev_out[l].aux && got[l].ovf == prev_out[l].ovf;
      if (!same && res.protocol_error.empty())
        res.protocol_error = "output changed while stalled at cycle " + std::to_string(cycle);
    }
    prev_stalled = d.out_valid_o && !d.out_ready_i;
    for (int l = 0; l < kLanes; ++l) prev_out[l] = got[l];

    if (d.cmd_valid_i && d.cmd_ready_o) {
      if (next_cmd == 0) res.first_cmd = cycle;
      ++next_cmd;
    }
    if (d.rd_req_valid_o && d.rd_req_ready_i) {
      const size_t plane = pool_running ? jobs[running].mem_a.size() / kLanes : 0;
      if (!pool_running || d.rd_req_idx_o >= plane) {
        if (res.protocol_error.empty())
          res.protocol_error = "read request " + std::to_string(d.rd_req_idx_o) + " outside the plane at cycle " +
                               std::to_string(cycle);
        break;
      }
      // memory latency: 1 ... 4 cycles, or always 1 on a gap-free run (the formula's memory)
      reads.push_back({d.rd_req_idx_o, cycle + 1 + (timing.in_gap > 0 ? g() % 4 : 0)});
      ++res.reads;
    }
    if (d.in_valid_i && d.in_ready_o) {
      if (pool_running) {
        reads.pop_front();
      } else {
        if (next_in == 0) res.first_in = cycle;
        if (jobs[in_beats[next_in].job].op != kBiasGrad) accepted.push_back(cycle);
        ++next_in;
      }
      presenting = false;
    }
    if (d.out_valid_o && d.out_ready_i) {
      if (next_out >= out_beats.size()) break;
      const Job& j = jobs[out_beats[next_out].job];
      if (j.op != kBiasGrad && !accepted.empty()) {
        const uint64_t lat = cycle - accepted.front();
        accepted.pop_front();
        res.min_latency = std::min(res.min_latency, lat);
        res.max_latency = std::max(res.max_latency, lat);
      }
      res.last_out = cycle;
      for (int l = 0; l < kLanes; ++l) {
        const size_t i = static_cast<size_t>(out_beats[next_out].beat) * kLanes + l;
        const LaneOut& e = j.expect[i];
        ++res.compared;
        const bool ok = e.ovf ? got[l].ovf : (!got[l].ovf && got[l].data == e.data && got[l].aux == e.aux);
        if (!ok && res.mismatches++ == 0) {
          char buf[512];
          std::snprintf(buf, sizeof buf,
                        "seed %llu chunk %lld command %d (%s, sa=%d sb=%d count=%u %s) element %zu (lane %d): "
                        "a=%lld b=%lld\n  expected %lld aux %u%s\n  rtl      %lld aux %u%s",
                        static_cast<unsigned long long>(seed), static_cast<long long>(chunk), out_beats[next_out].job,
                        op_name(j.op), j.sa, j.sb, j.count, j.what.c_str(), i, l,
                        static_cast<long long>(i < j.a.size() ? j.a[i] : 0),
                        static_cast<long long>(i < j.b.size() ? j.b[i] : 0), static_cast<long long>(e.data), e.aux,
                        e.ovf ? " OVERFLOW" : "", static_cast<long long>(got[l].data), got[l].aux,
                        got[l].ovf ? " OVERFLOW" : "");
          res.first_mismatch = buf;
        }
      }
      ++next_out;
    }
    d.clk_i = 1;
    d.eval();
    if (trace) trace->dump(2 * cycle + 1);
    ++cycle;
  }
  res.cycles = cycle;
  if (res.compared != total && res.protocol_error.empty())
    res.protocol_error = "compared " + std::to_string(res.compared) + " of " + std::to_string(total);
  // Nothing extra may come out, and the unit is idle again.
  for (int i = 0; i < 8 && res.protocol_error.empty(); ++i) {
    d.cmd_valid_i = 0;
    d.in_valid_i = 0;
    d.out_ready_i = 1;
    d.clk_i = 0;
    d.eval();
    if (d.out_valid_o) res.protocol_error = "extra output beat";
    edge();
  }
  if (res.protocol_error.empty() && (d.busy_o || !d.cmd_ready_o)) res.protocol_error = "busy after the last command";
  d.final();
  if (trace) trace->close();
#if VM_COVERAGE
  // One file per run; tools/rtl_coverage.sh merges them.
  static int instance = 0;
  const std::string path = std::string(OCTET_COVERAGE_DIR) + "/vector_unit_l" + std::to_string(kLanes) + "_" +
                           std::to_string(getpid()) + "_" + std::to_string(instance++) + ".dat";
  ctx->coveragep()->write(path.c_str());
#endif
  return res;
}

// Runs one chunk; on failure prints the details and re-runs it with an FST trace.
Result check_chunk(const std::vector<Job>& jobs, const Timing& timing, uint64_t seed, int64_t chunk) {
  Result r = run(jobs, timing, seed, chunk);
  if (r.mismatches || !r.protocol_error.empty()) {
    const std::string wave = wave_path("vector_unit_l" + std::to_string(kLanes) + "_seed" + std::to_string(seed) +
                                       "_chunk" + std::to_string(chunk));
    run(jobs, timing, seed, chunk, wave);
    ADD_FAILURE() << r.mismatches << " mismatches of " << r.compared << "; first: " << r.first_mismatch
                  << (r.protocol_error.empty() ? "" : "\n  protocol: " + r.protocol_error) << "\n  waveform: " << wave
                  << "\n  replay: OCTET_SEED=" << base_seed();
  }
  return r;
}

// Random commands of the given ops until `target` lane values were compared.
int64_t random_run(const char* name, uint64_t salt, const std::vector<int>& ops, int64_t target, int max_beats) {
  const uint64_t seed = test_seed(name, salt);
  std::mt19937_64 g(seed);
  int64_t compared = 0, chunk = 0;
  std::vector<int64_t> per_op(kNumOps), ovf(kNumOps), sat(kNumOps);
  while (compared < target) {
    std::vector<Job> jobs;
    int64_t n = 0;
    while (n < 20'000) {
      jobs.push_back(random_job(g, ops[g() % ops.size()], max_beats));
      n += static_cast<int64_t>(jobs.back().expect.size());
      per_op[jobs.back().op] += static_cast<int64_t>(jobs.back().expect.size());
      for (const LaneOut& e : jobs.back().expect) {
        ovf[jobs.back().op] += e.ovf;
        // saturated results: ReLU at 255, the bias gradient at the int32 bounds
        sat[jobs.back().op] += (jobs.back().op == kRelu && e.data == 255) ||
                               (jobs.back().op == kBiasGrad && !e.ovf && (e.data == kI32Max || e.data == kI32Min));
      }
    }
    static constexpr double kProb[] = {0.0, 0.1, 0.5, 0.9};
    const Timing t{kProb[g() % 4], kProb[g() % 4], g()};
    const Result r = check_chunk(jobs, t, seed, chunk++);
    if (r.mismatches || !r.protocol_error.empty()) return compared;
    compared += r.compared;
  }
  for (int op : ops)
  {
    std::printf("[   info   ] %-13s %9lld results compared (%lld overflow flags, %lld saturated)\n", op_name(op),
                static_cast<long long>(per_op[op]), static_cast<long long>(ovf[op]), static_cast<long long>(sat[op]));
    if (op == kResidualAdd || op == kErrorAdd || op == kPsumMerge || op == kWeightDecay) {
      EXPECT_GT(ovf[op], 100) << op_name(op);
    }
    if (op == kRelu || op == kBiasGrad) {
      EXPECT_GT(sat[op], 100) << op_name(op);
    }
  }
  std::printf("[   info   ] %lld results compared (Lanes=%d) in %lld chunks\n", static_cast<long long>(compared), kLanes,
              static_cast<long long>(chunk));
  return compared;
}

// ---- tests: element-wise group ----------------------------------------------------------------

// >= 6 * 10^5 element-wise results: every op, random gaps and back-pressure.
TEST(OCTET_VU_SUITE, ElementwiseRandomVsGolden) {
  const int64_t n = random_run("VectorUnitL" OCTET_VU_LANES_STR ".ElementwiseRandomVsGolden", 0x7601 + kLanes,
                               {kRelu, kReluBwd, kResidualAdd, kErrorAdd, kPsumMerge, kWeightDecay}, 600'000, 200);
  EXPECT_GE(n, 600'000);
}

// >= 10^5 bias-gradient sums (each over up to 64 samples: >= 3 * 10^6 inputs).
TEST(OCTET_VU_SUITE, BiasGradRandomVsGolden) {
  const int64_t n = random_run("VectorUnitL" OCTET_VU_LANES_STR ".BiasGradRandomVsGolden", 0x7602 + kLanes,
                               {kBiasGrad}, 100'000 / kLanes * kLanes, 64);
  EXPECT_GE(n, 100'000 / kLanes * kLanes);
}

// Hand-picked corners: ReLU's rounding ties and the mask / saturation bounds, the int32 / int64 /
// AccW overflow bounds of the adds, the shift overflow (s >= 63) rule, weight-decay ties.
TEST(OCTET_VU_SUITE, ElementwiseCorners) {
  const uint64_t seed = test_seed("VectorUnitL" OCTET_VU_LANES_STR ".ElementwiseCorners", 0x7603 + kLanes);
  std::vector<Job> jobs;
  auto add = [&](int op, std::vector<int64_t> a, std::vector<int64_t> b, int sa, int sb, int ea, int eb, int extra) {
    Job j;
    j.op = op;
    j.sa = sa;
    j.sb = sb;
    while (a.size() % kLanes) a.push_back(0), b.push_back(0);
    j.count = static_cast<uint32_t>(a.size() / kLanes);
    j.a = std::move(a);
    j.b = std::move(b);
    golden_expect(j, ea, eb, extra);
    jobs.push_back(std::move(j));
  };
  // ReLU: y around 0, the ties k*128 + 64 (even k down, odd k up), the mask's upper bound 255*128
  // and the 255 saturation just above it.
  std::vector<int64_t> y;
  for (int64_t v : {int64_t{kI32Min}, int64_t{-1}, int64_t{0}, int64_t{1}, int64_t{63}, int64_t{64}, int64_t{65},
                    int64_t{191}, int64_t{192}, int64_t{193}, int64_t{kI32Max}})
    y.push_back(v);
  for (int64_t v = 255 * 128 - 130; v <= 255 * 128 + 130; ++v) y.push_back(v);
  add(kRelu, y, std::vector<int64_t>(y.size()), 0, 0, 0, 0, 0);
  for (const LaneOut& e : jobs.back().expect) ASSERT_LE(e.data, 255);
  // residual_add at the int32 bounds, shifts 0, 1, 31, 32.
  std::vector<int64_t> a, b;
  std::vector<std::pair<int, int>> sh;
  for (int64_t x : {int64_t{kI32Max}, int64_t{kI32Min}, int64_t{1} << 30, -(int64_t{1} << 30), int64_t{1}, int64_t{-1}, int64_t{0}})
    for (int64_t z : {int64_t{kI32Max}, int64_t{kI32Min}, int64_t{-1}, int64_t{0}, int64_t{1}}) a.push_back(x), b.push_back(z);
  for (int s : {0, 1, 31, 32}) add(kResidualAdd, a, b, s, 0, -14 + s, -14, -14);
  // error_add at the int64 bounds; shift 62 fits 1 but not 2; 63 never fits a non-zero value
  // (golden's rule, also for -1 * 2^63 = INT64_MIN).
  a.clear();
  b.clear();
  for (int64_t x : {kI64Max, kI64Min, int64_t{1}, int64_t{-1}, int64_t{2}, int64_t{-2}, int64_t{0}})
    for (int64_t z : {kI64Max, kI64Min, int64_t{-1}, int64_t{1}}) a.push_back(x), b.push_back(z);
  for (int s : {0, 1, 62, 63, 64, 100}) add(kErrorAdd, a, b, s, 0, -30 + s, -30, -30);
  // psum merge at +-2^(AccW-1).
  const int64_t m = int64_t{1} << (params::kAccW - 1);
  a.clear();
  b.clear();
  for (int64_t x : {m - 1, -m, int64_t{1}, int64_t{-1}, int64_t{0}})
    for (int64_t z : {m - 1, -m, int64_t{1}, int64_t{-1}, int64_t{0}}) a.push_back(x), b.push_back(z);
  add(kPsumMerge, a, b, 0, 0, 0, 0, 0);
  // weight decay: every W8 at right shifts 1 ... 9 (ties of each parity) and left shifts 0, 55, 56, 57, 63.
  a.clear();
  b.clear();
  for (int w = -128; w <= 127; ++w) a.push_back(w * 1000 + 7), b.push_back(w);
  for (int s : {-1, -2, -3, -7, -8, -9, 0, 55, 56, 57, 63})
    add(kWeightDecay, a, b, s, 0, -7 - 13 - s, 0, 13);
  // bias gradient: sums at the int32 saturation (2^31 - 1 and -2^31 after the 2^-9 shift) and ties.
  a.clear();
  for (int64_t s : {(int64_t{kI32Max} << 9) + 255, (int64_t{kI32Max} << 9) + 256, (int64_t{kI32Max} << 9) + 257,
                    (int64_t{kI32Min} << 9) - 256, (int64_t{kI32Min} << 9) - 257, int64_t{256}, int64_t{768},
                    int64_t{-256}, int64_t{-768}})
    for (int l = 0; l < kLanes; ++l) a.push_back(l == 0 ? s : (l % 2 ? 256 : 768));
  for (size_t i = 0; i < a.size(); i += kLanes) {
    Job j;
    j.op = kBiasGrad;
    j.sa = -9;
    j.count = 1;
    j.a.assign(a.begin() + i, a.begin() + i + kLanes);
    j.b.assign(kLanes, 0);
    golden_expect(j, -23);
    jobs.push_back(std::move(j));
  }
  // bias gradient overflows (golden throws, the lane is flagged): the int64 sum leaves int64 —
  // also when a later sample brings it back (golden's checked sum stops at the first overflow,
  // the flag is sticky) — and the left shift of the sum to 2^-14 leaves int64 (e_err > -14).
  // Lane 0 takes the column, the other lanes small sums (golden decides their flags too).
  auto bias = [&](std::vector<int64_t> col, int ee) {
    Job j;
    j.op = kBiasGrad;
    j.sa = ee - golden::kIntGradientExp;
    j.count = static_cast<uint32_t>(col.size());
    for (size_t r = 0; r < col.size(); ++r)
      for (int l = 0; l < kLanes; ++l) j.a.push_back(l == 0 ? col[r] : (l % 2 ? 3 : -5) * static_cast<int64_t>(r + 1));
    j.b.assign(j.a.size(), 0);
    golden_expect(j, ee);
    jobs.push_back(std::move(j));
  };
  int bias_ovf = 0;
  for (const auto& col : std::vector<std::vector<int64_t>>{{kI64Max, 1},
                                                           {kI64Min, -1},
                                                           {kI64Max, 1, -1},
                                                           {kI64Min, kI64Min, kI64Max},
                                                           {kI64Max, kI64Min},            // no overflow: -1
                                                           {kI64Min + 5, -5, 4}}) {       // reaches INT64_MIN exactly
    bias(col, -23);
    bias_ovf += jobs.back().expect[0].ovf;
  }
  for (const auto& [v, ee] : std::vector<std::pair<int64_t, int>>{{kI64Max / 2 + 1, -13}, {kI64Max / 2, -13},
                                                                   {-(kI64Max / 2) - 2, -13}, {int64_t{1} << 23, 26},
                                                                   {int64_t{1} << 22, 26}, {1, 49}, {0, 49}}) {
    bias({v}, ee);
    bias_ovf += jobs.back().expect[0].ovf;
  }
  EXPECT_EQ(bias_ovf, 8) << "bias-gradient overflow corners: golden should throw for 8 of them";
  // residual_add / error_add with a negative command shift: golden's shift_left_checked rejects
  // it (std::invalid_argument, for any value, 0 too), so every lane is flagged.
  for (int op : {kResidualAdd, kErrorAdd})
    for (const auto& [sa, sb] : std::vector<std::pair<int, int>>{{-1, 0}, {0, -1}, {-128, 3}, {2, -64}}) {
      Job j;
      j.op = op;
      j.sa = sa;
      j.sb = sb;
      for (int64_t x : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{kI32Max}, int64_t{kI32Min}, int64_t{12345}})
        for (int l = 0; l < kLanes; ++l) j.a.push_back(x), j.b.push_back(l - x);
      j.count = static_cast<uint32_t>(j.a.size() / kLanes);
      for (size_t i = 0; i < j.a.size(); ++i) {
        bool rejected = false;
        try {
          golden::shift_left_checked(j.a[i], sa);
          golden::shift_left_checked(j.b[i], sb);
        } catch (const std::invalid_argument&) {
          rejected = true;
        }
        ASSERT_TRUE(rejected) << "golden accepted a negative shift";
        j.expect.push_back({0, 0, true});
      }
      jobs.push_back(std::move(j));
    }
  const Result r = check_chunk(jobs, Timing{0.3, 0.3, seed}, seed, 0);
  EXPECT_GT(r.compared, 2000);
}

// Gap-free, unstalled: every element-wise beat takes exactly 2 edges; one command of n beats
// occupies n + 2 cycles from its acceptance (docs/architecture.md "Vector unit").
TEST(OCTET_VU_SUITE, ElementwiseLatencyAndThroughput) {
  const uint64_t seed = test_seed("VectorUnitL" OCTET_VU_LANES_STR ".ElementwiseLatencyAndThroughput", 0x7604 + kLanes);
  std::mt19937_64 g(seed);
  for (int op : {kRelu, kErrorAdd, kWeightDecay}) {
    std::vector<Job> jobs{random_job(g, op, 50)};
    const Result r = check_chunk(jobs, Timing{0, 0, seed}, seed, op);
    EXPECT_EQ(r.min_latency, kElementwiseLatency);
    EXPECT_EQ(r.max_latency, kElementwiseLatency);
    EXPECT_EQ(r.last_out - r.first_in, kElementwiseLatency + jobs[0].count - 1);
  }
  // Bias gradient: count beats in, the sum leaves 2 edges after the last.
  std::vector<Job> jobs{random_job(g, kBiasGrad, 50)};
  const Result r = check_chunk(jobs, Timing{0, 0, seed}, seed, 99);
  EXPECT_EQ(r.last_out - r.first_in, kElementwiseLatency + jobs[0].count - 1);
}


// ---- tests: pooling group ----------------------------------------------------------------------

// >= 2 * 10^5 pooling results (each from up to 25 window reads): max / average, forward /
// backward, the shipped geometries and random ones (pads, strides larger than the kernel,
// uncovered inputs), ties and all-equal windows, reads answered after random latencies.
TEST(OCTET_VU_SUITE, PoolRandomVsGolden) {
  const int64_t n = random_run("VectorUnitL" OCTET_VU_LANES_STR ".PoolRandomVsGolden", 0x7611 + kLanes,
                               {kMaxPool, kAvgPool, kMaxPoolBwd, kAvgPoolBwd}, 200'000, 1);
  EXPECT_GE(n, 200'000);
}

Job pool_corner(int op, int h, int w, int k, int s, int p, bool global, int levels, uint64_t seed, int e_bits = 40) {
  std::mt19937_64 g(seed);
  Job j;
  j.op = op;
  j.h = h, j.w = w, j.kernel = k, j.stride = s, j.pad = p, j.global = global;
  const golden::PoolParams pp{k, s, p, global};
  const golden::Shape in_shape{1, kLanes, h, w};
  const golden::Shape os = golden::pool_output_shape(in_shape, pp);
  const int64_t in_n = int64_t{kLanes} * h * w, out_n = int64_t{kLanes} * os[2] * os[3];
  std::vector<int64_t> act(static_cast<size_t>(in_n));
  for (int64_t& v : act) v = levels == 1 ? 77 : static_cast<int64_t>(g() % levels) + 256 - levels;
  if (op == kMaxPool || op == kAvgPool) {
    j.mem_a = act;
    j.mem_b.assign(act.size(), 0);
  } else {
    j.mem_a.resize(static_cast<size_t>(out_n));
    for (int64_t& v : j.mem_a) v = i64_bits(g, e_bits);
    j.mem_b.assign(j.mem_a.size(), 0);
    if (op == kMaxPoolBwd) {
      golden::Tensor<uint8_t> x(in_shape, -7);
      for (int64_t i = 0; i < in_n; ++i) x.data[i] = static_cast<uint8_t>(act[i]);
      const golden::MaxPoolForward f = golden::maxpool_forward(x, pp);
      const int64_t in_plane = int64_t{h} * w, out_plane = os[2] * os[3];
      for (int64_t i = 0; i < out_n; ++i) j.mem_b[i] = f.argmax[i] - (i / out_plane) * in_plane;
    }
  }
  pool_expect(j);
  char what[160];
  std::snprintf(what, sizeof what, "H=%d W=%d k=%d s=%d p=%d%s", h, w, k, s, p, global ? " global" : "");
  j.what = what;
  return j;
}

// The shipped networks' pooling (max k3 s2 p1 on 112 x 112 and small planes, global average
// on 7 x 7, 8 x 8, 4 x 4, 1 x 1) and window edges: padding on every side, strides larger than
// the kernel (inputs no window covers), windows cut at the bottom / right, 1 x 1 planes;
// all-equal and two-level planes (golden's first-maximum rule); the average backward's
// e * 2^8 at the int64 bound.
TEST(OCTET_VU_SUITE, PoolCorners) {
  const uint64_t seed = test_seed("VectorUnitL" OCTET_VU_LANES_STR ".PoolCorners", 0x7612 + kLanes);
  std::vector<Job> jobs;
  uint64_t salt = seed;
  for (int op : {kMaxPool, kAvgPool, kMaxPoolBwd, kAvgPoolBwd}) {
    jobs.push_back(pool_corner(op, 112, 112, 3, 2, 1, false, 256, ++salt));
    for (int hw : {1, 2, 3, 4, 5, 6, 7, 8, 9})
      for (int levels : {1, 2, 256}) jobs.push_back(pool_corner(op, hw, hw, 3, 2, 1, false, levels, ++salt));
    for (int hw : {1, 4, 7, 8})
      for (int levels : {1, 2, 256}) jobs.push_back(pool_corner(op, hw, hw, 0, 0, 0, true, levels, ++salt));
    struct G {
      int h, w, k, s, p;
    };
    for (const G& c : {G{7, 7, 2, 3, 0}, G{8, 5, 2, 3, 1}, G{6, 9, 3, 1, 2}, G{5, 5, 5, 4, 4}, G{10, 3, 4, 4, 3},
                       G{1, 1, 1, 1, 0}, G{3, 7, 1, 2, 0}, G{9, 9, 3, 3, 1}, G{2, 11, 2, 2, 1}, G{13, 13, 5, 1, 0}})
      for (int levels : {1, 2, 256}) jobs.push_back(pool_corner(op, c.h, c.w, c.k, c.s, c.p, false, levels, ++salt));
  }
  for (int bits : {55, 56, 57, 64})  // e * 2^8 fits int64 below 2^55 in magnitude
    jobs.push_back(pool_corner(kAvgPoolBwd, 6, 6, 3, 2, 1, false, 256, ++salt, bits));
  int64_t ovf = 0;
  for (const Job& j : jobs)
    for (const LaneOut& e : j.expect) ovf += e.ovf;
  EXPECT_GT(ovf, 0);
  const Result r = check_chunk(jobs, Timing{0.3, 0.3, seed}, seed, 0);
  EXPECT_GT(r.compared, 30'000 * kLanes);
}

// Gap-free, unstalled, memory answering in the next cycle: a pooling command of T tokens (one
// per read; backward, plus one per input no window covers) takes T + 2 cycles from its
// acceptance to its last output transfer (docs/architecture.md "Vector unit").
TEST(OCTET_VU_SUITE, PoolLatencyAndThroughput) {
  const uint64_t seed = test_seed("VectorUnitL" OCTET_VU_LANES_STR ".PoolLatencyAndThroughput", 0x7613 + kLanes);
  std::mt19937_64 g(seed);
  for (int i = 0; i < 40; ++i) {
    const int op = kMaxPool + i % 4;
    std::vector<Job> jobs{pool_job(g, op)};
    const Job& j = jobs[0];
    const Result r = check_chunk(jobs, Timing{0, 0, seed}, seed, i);
    int64_t tokens = r.reads;
    if (op == kMaxPoolBwd || op == kAvgPoolBwd) {  // inputs no window covers: one empty token each
      const golden::Shape in_shape{1, 1, j.h, j.w};
      const golden::PoolParams pp{j.kernel, j.stride, j.pad, j.global};
      golden::Tensor<int64_t> ones(golden::pool_output_shape(in_shape, pp), 0);
      std::fill(ones.data.begin(), ones.data.end(), int64_t{1} << 20);
      const golden::Tensor<int64_t> c = golden::avgpool_backward(ones, in_shape, pp);
      tokens += std::count(c.data.begin(), c.data.end(), int64_t{0});
    }
    EXPECT_EQ(static_cast<int64_t>(r.last_out - r.first_cmd), tokens + 2) << op_name(op) << " " << j.what;
  }
}

// ---- tests: loss ---------------------------------------------------------------------------------

// >= 10^5 loss errors (and probabilities): 1 ... 300 classes, e_z = -14 mostly, also 7, 0, -15,
// -30, -60 and 8 ... 25 (left shifts, overflow flagged), uniform / narrow / all-equal / one
// dominant / stepped logits, batch divisors up to ~300.
TEST(OCTET_VU_SUITE, LossRandomVsGolden) {
  const int64_t n = random_run("VectorUnitL" OCTET_VU_LANES_STR ".LossRandomVsGolden", 0x7621 + kLanes, {kLoss},
                               100'000, 1);
  EXPECT_GE(n, 100'000);
}

// 1 class, 65,536 classes (the contract's maximum), 1000 classes of every logit kind at e_z = -14,
// and 10 classes at e_z = 7, 9, 21, 40 (left shifts; golden throws on the int64 overflow).
TEST(OCTET_VU_SUITE, LossCorners) {
  const uint64_t seed = test_seed("VectorUnitL" OCTET_VU_LANES_STR ".LossCorners", 0x7622 + kLanes);
  std::mt19937_64 g(seed);
  std::vector<Job> jobs;
  for (int kind = 0; kind < 6; ++kind) {
    jobs.push_back(loss_job(g, 1, -14, kind));
    jobs.push_back(loss_job(g, 1000, -14, kind));
    jobs.push_back(loss_job(g, 10, 7, kind));
    jobs.push_back(loss_job(g, 10, 9, kind));
    jobs.push_back(loss_job(g, 10, 21, kind));  // |u * 47274| * 2^14 reaches 2^63: golden throws
    jobs.push_back(loss_job(g, 10, 40, kind));
  }
  jobs.push_back(loss_job(g, golden::kMaxClasses, -14, 5));
  int64_t ovf = 0;
  for (const Job& j : jobs)
    for (const LaneOut& e : j.expect) ovf += e.ovf;
  EXPECT_GT(ovf, 0);
  const Result r = check_chunk(jobs, Timing{0.2, 0.2, seed}, seed, 0);
  EXPECT_GT(r.compared, 65'536 * kLanes);
}

// Gap-free, unstalled, memory answering in the next cycle: C classes take 3C + 2 cycles.
TEST(OCTET_VU_SUITE, LossLatencyAndThroughput) {
  const uint64_t seed = test_seed("VectorUnitL" OCTET_VU_LANES_STR ".LossLatencyAndThroughput", 0x7623 + kLanes);
  std::mt19937_64 g(seed);
  for (int64_t c : {1, 2, 10, 100}) {
    std::vector<Job> jobs{loss_job(g, c, -14, -1)};
    const Result r = check_chunk(jobs, Timing{0, 0, seed}, seed, c);
    EXPECT_EQ(r.reads, 3 * c);
    EXPECT_EQ(static_cast<int64_t>(r.last_out - r.first_cmd), 3 * c + 2) << c << " classes";
  }
}

// Long random run (label slow).
TEST(OCTET_VU_SLOW_SUITE, ElementwiseRandomVsGolden) {
  const int64_t n = random_run("VectorUnitSlowL" OCTET_VU_LANES_STR ".ElementwiseRandomVsGolden", 0x7681 + kLanes,
                               {kRelu, kReluBwd, kResidualAdd, kErrorAdd, kPsumMerge, kWeightDecay, kBiasGrad,
                                kMaxPool, kAvgPool, kMaxPoolBwd, kAvgPoolBwd, kLoss},
                               20'000'000, 400);
  EXPECT_GE(n, 20'000'000);
}

}  // namespace
}  // namespace octet::tb
