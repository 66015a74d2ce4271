// The paper's quantizer formulas evaluated in double precision, as an independent
// oracle for the integer quantizers. For int16 payloads and the exponents swept here
// every step below is exact in double, so the integer results must be identical.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "golden/counter_rng.h"

namespace octet::testing {

// sigma(k) = 2^(1-k); Q(x, k) = round(x / sigma) * sigma with round half to even.
inline double paper_q(double x, int k) { return std::nearbyint(std::ldexp(x, k - 1)) * std::ldexp(1.0, 1 - k); }

// Shift(m) = 2^round(log2 m), the paper's power-of-two scale; 0 maps to 1 (the contract's zero rule).
inline double paper_shift(double m) { return m == 0 ? 1.0 : std::exp2(std::round(std::log2(m))); }

inline double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

// Direct Q with the weight clip ±(1 - sigma).
inline double paper_direct_clipped(double x, int k) {
  const double lim = 1.0 - std::ldexp(1.0, 1 - k);
  return std::clamp(paper_q(x, k), -lim, lim);
}

// SQ: R * clip(Q(x / R, k), ±(1 - sigma)).
inline double paper_shift_quantize(double x, double R, int k) { return R * paper_direct_clipped(x / R, k); }

// CQ: n = scale * x / R, stochastic rounding of |n| with u in [0, 1), clip to scale - 1,
// then the constant divisor 2^-out_exp. u is the top 53 random bits / 2^53, which
// makes "u < frac" exact for up to 53 dropped bits.
inline double paper_constant_factor(double x, double R, int log2_scale, int out_exp, uint64_t random64) {
  const double n = std::ldexp(x / R, log2_scale);
  const double a = std::abs(n);
  const double fl = std::floor(a);
  const double u = std::ldexp(static_cast<double>(random64 >> 11), -53);
  double q = fl + ((u < a - fl) ? 1.0 : 0.0);
  q = std::min(q, std::ldexp(1.0, log2_scale) - 1);
  return std::copysign(q, n) * std::ldexp(1.0, out_exp);
}

// E2 flag quantizer: s = R / 2^(k-1); y = |x| / s; y < 1 -> Q(y, k) * s, else min(round(y), 2^(k-1) - 1) * s.
inline double paper_flag(double x, double R, int k) {
  const double s = std::ldexp(R, 1 - k);
  const double y = std::abs(x) / s;
  const double q = y < 1 ? paper_q(y, k) : std::min(std::nearbyint(y), std::ldexp(1.0, k - 1) - 1);
  return std::copysign(q * s, x);
}

}  // namespace octet::testing
