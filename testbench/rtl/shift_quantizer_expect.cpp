#include "testbench/rtl/shift_quantizer_expect.h"

#include <stdexcept>

#include "golden/int_math.h"
#include "golden/quantizers.h"
#include "testbench/rtl/shift_quantizer_gen.h"

namespace octet::tb {

namespace g = octet::golden;

uint64_t sq_stream_key(const SqConfig& cfg) { return g::make_stream_key(cfg.seed, cfg.step, cfg.tensor).value; }

namespace {
// x + shift(w, sh) as golden add_weight_decay computes it (shift_round_half_even, then a
// checked int64 add); false where golden throws or the sum leaves the InW-bit input.
bool add_term(int64_t x, int8_t w, int sh, int64_t& sum) {
  int64_t term = 0;
  try {
    term = g::shift_round_half_even(w, sh);
  } catch (const std::overflow_error&) {
    return false;
  }
  if (__builtin_add_overflow(x, term, &sum)) return false;
  return sum >= kInMin && sum <= kInMax;
}
}  // namespace

SqExpected sq_expected(const SqConfig& cfg, const std::vector<int64_t>& xin, const std::vector<int8_t>& w) {
  SqExpected e;
  e.in = xin;
  if (cfg.addend)
    for (size_t i = 0; i < xin.size(); ++i)
      if (!add_term(xin[i], w.at(i), cfg.addend_shift, e.in[i])) e.overflow = true;
  if (e.overflow) return e;
  const std::vector<int64_t>& x = e.in;
  const auto n = static_cast<int64_t>(x.size());
  const int k = cfg.bits;
  e.scale_log2 = cfg.mode == SqMode::kDirect ? 0 : g::tensor_scale_log2(x.data(), n);
  const int r = e.scale_log2;
  // Exponent offsets come from the golden's tensor-level wrappers where they define one.
  const g::Tensor<int64_t> t({n}, x, 0);
  g::CqParams p;
  p.log2_scale = cfg.log2_scale;
  p.key = g::make_stream_key(cfg.seed, cfg.step, cfg.tensor);
  switch (cfg.mode) {
    case SqMode::kDirect: e.exp_offset = -cfg.shift; break;
    case SqMode::kShift: e.exp_offset = g::shift_quantize(t, k).exp; break;
    case SqMode::kConst: e.exp_offset = r - cfg.log2_scale; break;  // payload = x / 2^(r-s)
    case SqMode::kFlag: e.exp_offset = g::flag_quantize(t, k).exp; break;
  }
  for (int64_t i = 0; i < n; ++i) {
    int64_t q = 0;
    g::FlagCode c;
    switch (cfg.mode) {
      case SqMode::kDirect: q = g::requantize_element(x[i], cfg.shift, 0, cfg.lo, cfg.hi); break;
      case SqMode::kShift: q = g::shift_quantize_element(x[i], r, k); break;
      case SqMode::kConst:
        q = g::constant_factor_quantize_element(x[i], r, p, static_cast<uint64_t>(i));
        e.rand.push_back(g::random_bits(p.key, static_cast<uint64_t>(i)));
        break;
      case SqMode::kFlag:
        q = g::flag_quantize_element(x[i], r, k);
        c = g::flag_encode(q, k);
        break;
    }
    e.data.push_back(static_cast<int32_t>(q));
    e.code.push_back(c.value);
    e.fine.push_back(c.fine ? 1 : 0);
  }
  return e;
}

}  // namespace octet::tb
