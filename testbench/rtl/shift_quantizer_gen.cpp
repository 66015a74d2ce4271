#include "testbench/rtl/shift_quantizer_gen.h"

#include <algorithm>

#include "golden/int_math.h"

namespace octet::tb {

int64_t sqrt2_threshold(int j) {
  // The golden's own definition: the first m above 2^j with round_log2(m) = j + 1.
  uint64_t lo = uint64_t{1} << j, hi = uint64_t{1} << (j + 1);
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (golden::round_log2(mid) > j) hi = mid; else lo = mid + 1;
  }
  return static_cast<int64_t>(lo);
}

namespace {
int64_t clamp_in(int64_t v) { return std::clamp(v, kInMin, kInMax); }

// Uniform in [-2^e, 2^e] (clamped to the input range), e <= kInW - 1.
int64_t uniform_pow2(std::mt19937_64& g, int e) {
  if (e >= 63) return static_cast<int64_t>(g());
  const uint64_t span = (uint64_t{1} << (e + 1)) + 1;
  return clamp_in(static_cast<int64_t>(g() % span) - (int64_t{1} << e));
}
}  // namespace

std::vector<int64_t> random_tensor(std::mt19937_64& g, int64_t n) {
  std::vector<int64_t> x(static_cast<size_t>(n));
  const int e = static_cast<int>(g() % kInW);  // scale: magnitudes up to about 2^e
  const int family = static_cast<int>(g() % 6);
  const int64_t base = uniform_pow2(g, e);
  for (auto& v : x) {
    switch (family) {
      case 0: v = uniform_pow2(g, e); break;
      case 1: v = g() % 10 == 0 ? uniform_pow2(g, e) : 0; break;                  // sparse
      case 2: v = clamp_in(base + uniform_pow2(g, std::min(e, 4))); break;          // narrow
      case 3: v = uniform_pow2(g, static_cast<int>(g() % (e + 1))); break;           // log-uniform
      case 4: v = (g() & 1 ? 1 : -1) * (g() % 8 == 0 ? base : base / 2); break;     // few values
      default: v = uniform_pow2(g, std::min(e, 3)); break;                          // tiny
    }
    v = clamp_in(v);
  }
  // Injections at random positions: extremes of the input width, round_log2 thresholds.
  if (g() % 4 == 0) {
    const int j = static_cast<int>(g() % (kInW - 1));
    const int64_t t = sqrt2_threshold(j) - static_cast<int64_t>(g() % 2);
    x[g() % x.size()] = g() & 1 ? t : -t;
  }
  if (g() % 8 == 0) x[g() % x.size()] = g() & 1 ? kInMin : kInMax;
  return x;
}

int64_t random_size(std::mt19937_64& g) {
  switch (g() % 5) {
    case 0: return 1 + static_cast<int64_t>(g() % (3 * kLanes));
    case 1: case 2: return 1 + static_cast<int64_t>(g() % 300);
    default: return 1 + static_cast<int64_t>(g() % 4000);
  }
}

void random_addend(std::mt19937_64& g, SqCase& c) {
  c.cfg.addend = true;
  switch (g() % 7) {
    case 0: case 1: case 2: c.cfg.addend_shift = static_cast<int>(g() % (kInW - 7)); break;    // left (some sums overflow)
    case 3: c.cfg.addend_shift = -1 - static_cast<int>(g() % 10); break;                        // right, rounded
    case 4: c.cfg.addend_shift = kInW - 10 + static_cast<int>(g() % 12); break;                 // the edge
    default: c.cfg.addend_shift = static_cast<int>(g() % 256) - 128; break;                     // any
  }
  c.w.resize(c.x.size());
  for (auto& v : c.w) {
    switch (g() % 8) {
      case 0: v = g() & 1 ? int8_t{127} : int8_t{-128}; break;
      case 1: v = 0; break;
      default: v = static_cast<int8_t>(g()); break;
    }
  }
}

SqConfig random_config(std::mt19937_64& g, SqMode mode) {
  SqConfig c;
  c.mode = mode;
  switch (mode) {
    case SqMode::kDirect: {
      c.shift = g() % 3 == 0 ? static_cast<int>(g() % 256) - 128 : static_cast<int>(g() % (kInW + 16)) - kInW;
      const int k = 2 + static_cast<int>(g() % 30);
      switch (g() % 4) {
        case 0: c.lo = INT32_MIN; c.hi = INT32_MAX; break;  // storage range
        case 1: {                                           // any lo <= hi
          int32_t a = static_cast<int32_t>(g()), b = static_cast<int32_t>(g());
          if (g() & 1) { a >>= g() % 31; b >>= g() % 31; }
          c.lo = std::min(a, b);
          c.hi = std::max(a, b);
          break;
        }
        default: c.hi = static_cast<int32_t>((int64_t{1} << (k - 1)) - 1); c.lo = -c.hi; break;  // symmetric
      }
      break;
    }
    case SqMode::kShift: c.bits = g() % 3 == 0 ? 8 : 2 + static_cast<int>(g() % 30); break;
    case SqMode::kFlag: c.bits = g() % 3 == 0 ? 8 : 2 + static_cast<int>(g() % 15); break;
    case SqMode::kConst: c.log2_scale = g() % 3 == 0 ? 7 : 1 + static_cast<int>(g() % 30); break;
  }
  c.seed = g();
  c.step = g() % 2 ? g() : g() % 1000;
  c.tensor = g() % 2 ? g() : g() % 64;
  return c;
}

}  // namespace octet::tb
