// The fast quantizers and adds (quantizers_fast.h, residual_fast.h) against the reference
// functions, bit for bit: exhaustive sweeps over every payload of small tensors, every
// tensor scale r = 0..63 with values on and around each rounding and grid-switching point,
// random tensors (printed seeds) with int64 extremes, and the reference's exceptions.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <typeinfo>
#include <vector>

#include "golden/error_tensor.h"
#include "golden/int_math.h"
#include "golden/quantizers.h"
#include "golden/quantizers_fast.h"
#include "golden/residual.h"
#include "golden/residual_fast.h"

using namespace octet::golden;

namespace {

constexpr int64_t kMin64 = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();
const int kThreadCounts[] = {1, 2, 3};

// A result or the exception a call threw, comparable across implementations.
template <typename T>
struct Outcome {
  Tensor<T> t;
  std::string error;  // "<type>: <what>" if the call threw
};

template <typename T>
Outcome<T> run(const std::function<Tensor<T>()>& f) {
  try {
    return Outcome<T>{f(), ""};
  } catch (const std::exception& e) {
    return Outcome<T>{{}, std::string(typeid(e).name()) + ": " + e.what()};
  }
}

// Empty string if equal, else the first difference.
template <typename T>
std::string difference(const Outcome<T>& fast, const Outcome<T>& ref, const Tensor<int64_t>& x) {
  if (fast.error != ref.error) return fmt::format("error '{}' vs reference '{}'", fast.error, ref.error);
  if (!ref.error.empty()) return "";
  if (fast.t.exp != ref.t.exp) return fmt::format("exp {} vs reference {}", fast.t.exp, ref.t.exp);
  if (fast.t.shape != ref.t.shape) return "shape differs";
  for (size_t i = 0; i < ref.t.data.size(); ++i)
    if (fast.t.data[i] != ref.t.data[i])
      return fmt::format("element {} (x={}): {} vs reference {}", i, x.empty() ? 0 : x.data[i], fast.t.data[i],
                         ref.t.data[i]);
  return "";
}

Tensor<int64_t> tensor(std::vector<int64_t> v, int exp) {
  const auto n = static_cast<int64_t>(v.size());
  return Tensor<int64_t>({n}, std::move(v), exp);
}

// Where every value of x fits int32: the quantizers on its int32 form (ErrorTensor's narrow
// storage) against the reference on x, with x's own max and with a larger batch max (a shard
// of a data-parallel batch), and max_magnitude_fast of the int32 form.
bool int32_forms_agree(const Tensor<int64_t>& x, int k_shift, int k_flag, const Outcome<int32_t>& sq,
                       const Outcome<int32_t>& fq, const std::string& what) {
  for (int64_t v : x.data)
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) return true;
  const Tensor<int32_t> x32(x.shape, Payload<int32_t>(x.data.begin(), x.data.end()), x.exp);
  const uint64_t m = tensor_max_magnitude(x.data.data(), x.size());
  const uint64_t bigger = 3 * m + 5;
  const Outcome<int32_t> sq_big = run<int32_t>([&] { return shift_quantize_with_max(x, k_shift, bigger); });
  const Outcome<int32_t> fq_big = run<int32_t>([&] { return flag_quantize_with_max(x, k_flag, bigger); });
  for (int th : kThreadCounts) {
    if (max_magnitude_fast(x32.data.data(), x32.size(), th) != m) {
      ADD_FAILURE() << what << ": max_magnitude_fast of the int32 form differs, threads=" << th;
      return false;
    }
    const std::string d[] = {
        difference(run<int32_t>([&] { return shift_quantize_with_max_fast(x32, k_shift, m, th); }), sq, x),
        difference(run<int32_t>([&] { return flag_quantize_with_max_fast(x32, k_flag, m, th); }), fq, x),
        difference(run<int32_t>([&] { return shift_quantize_with_max_fast(x32, k_shift, bigger, th); }), sq_big, x),
        difference(run<int32_t>([&] { return flag_quantize_with_max_fast(x32, k_flag, bigger, th); }), fq_big, x)};
    const char* names[] = {"shift_quantize", "flag_quantize", "shift_quantize (batch max)", "flag_quantize (batch max)"};
    for (int q = 0; q < 4; ++q)
      if (!d[q].empty()) {
        ADD_FAILURE() << fmt::format("{}: {} of the int32 form (k_shift={} k_flag={} threads={}) {}", what, names[q],
                                     k_shift, k_flag, th, d[q]);
        return false;
      }
  }
  return true;
}

// Compares every fast quantizer with its reference on `x` for all thread counts; returns
// false (after reporting) at the first difference.
bool quantizers_agree(const Tensor<int64_t>& x, int k_shift, int k_flag, const CqParams& cq, const std::string& what) {
  const Outcome<int32_t> sq = run<int32_t>([&] { return shift_quantize(x, k_shift); });
  const Outcome<int32_t> fq = run<int32_t>([&] { return flag_quantize(x, k_flag); });
  const Outcome<int32_t> cf = run<int32_t>([&] { return constant_factor_quantize(x, cq); });
  for (int th : kThreadCounts) {
    if (!x.empty() && tensor_scale_log2_fast(x.data.data(), x.size(), th) != tensor_scale_log2(x.data.data(), x.size())) {
      ADD_FAILURE() << what << ": tensor scale differs, threads=" << th;
      return false;
    }
    const std::string d[] = {
        difference(run<int32_t>([&] { return shift_quantize_fast(x, k_shift, th); }), sq, x),
        difference(run<int32_t>([&] { return flag_quantize_fast(x, k_flag, th); }), fq, x),
        difference(run<int32_t>([&] { return constant_factor_quantize_fast(x, cq, th); }), cf, x)};
    const char* names[] = {"shift_quantize", "flag_quantize", "constant_factor_quantize"};
    for (int q = 0; q < 3; ++q)
      if (!d[q].empty()) {
        ADD_FAILURE() << fmt::format("{}: {}_fast (k_shift={} k_flag={} s={} threads={}) {}", what, names[q], k_shift,
                                     k_flag, cq.log2_scale, th, d[q]);
        return false;
      }
  }
  return x.empty() || int32_forms_agree(x, k_shift, k_flag, sq, fq, what);
}

// Smallest and largest m with round_log2(m) = r (m <= 2^63).
uint64_t smallest_with_scale(int r) { return r == 0 ? 1 : isqrt((uint128{1} << (2 * r - 1)) - 1) + 1; }
uint64_t largest_with_scale(int r) {
  return r == 63 ? uint64_t{1} << 63 : isqrt((uint128{1} << (2 * r + 1)) - 1);
}

// int64 of sign * magnitude for magnitude <= 2^63.
int64_t signed_value(uint64_t mag, bool negative) {
  return negative ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
}

// Values around every rounding point of a right shift by s (q * 2^s + {0, 1, half-1, half,
// half+1, 2^s-1}) for the quotients q in `quotients`, and around 2^s itself, capped at `max`.
void add_rounding_points(std::vector<uint64_t>& v, int s, const std::vector<uint64_t>& quotients, uint64_t max) {
  if (s < 1 || s > 63) return;
  const uint64_t unit = uint64_t{1} << s, half = unit >> 1;
  for (uint64_t q : quotients) {
    if (q > (max >> s)) continue;
    const uint64_t base = q << s;
    for (uint64_t off : {uint64_t{0}, uint64_t{1}, half - 1, half, half + 1, unit - 1})
      if (off <= max - base) v.push_back(base + off);
  }
  for (uint64_t d : {uint64_t{1}, uint64_t{0}})
    if (unit - d <= max) v.push_back(unit - d);
  if (unit < max) v.push_back(unit + 1);
}

std::vector<uint64_t> quotient_set(int k) {
  std::vector<uint64_t> q;
  const uint64_t top = uint64_t{1} << k;  // every quotient that a |x| with this scale can reach
  if (k <= 9) {
    for (uint64_t i = 0; i < top; ++i) q.push_back(i);
  } else {
    for (uint64_t i = 0; i < 80; ++i) q.push_back(i);
    for (uint64_t c : {top / 4, top / 2, (top / 4) * 3, top - 80})
      for (uint64_t i = 0; i < 80; ++i) q.push_back(c - 40 + i);
  }
  return q;
}

}  // namespace

// Every payload in [-M, M] (M up to 2^13) for each bit-width and exponent: the 32-bit lanes'
// domain with every switching point of small scales, left shifts included.
TEST(QuantizersFast, ExhaustiveSmallPayloads) {
  const int64_t maxima[] = {0,  1,   2,   3,   5,    6,    7,    11,   12,   22,   23,   90,
                            91, 127, 128, 181, 182, 255, 256, 1023, 1448, 1449, 4095, 8192};
  int64_t tensors = 0;
  for (int64_t m : maxima) {
    std::vector<int64_t> v;
    for (int64_t x = -m; x <= m; ++x) v.push_back(x);
    const Tensor<int64_t> x = tensor(std::move(v), -9);
    for (int k = 2; k <= 31; ++k) {
      CqParams cq;
      cq.log2_scale = std::min(k, 30);
      cq.key = make_stream_key(7, static_cast<uint64_t>(k), static_cast<uint64_t>(m));
      ASSERT_TRUE(quantizers_agree(x, k, std::min(k, kMaxFlagBits), cq, fmt::format("M={}", m)));
      ++tensors;
    }
  }
  EXPECT_EQ(tensors, 24 * 30);
}

// For every scale r = 0..63 and both ends of its max range, values on and next to every
// rounding point of the coarse and fine shifts, the coarse/fine switch 2^c, and the max.
TEST(QuantizersFast, EveryScaleAndSwitchingPoint) {
  int64_t elements = 0;
  for (int k : {2, 3, 4, 5, 7, 8, 9, 12, 16, 24, 31}) {
    const int kf = std::min(k, kMaxFlagBits);
    const std::vector<uint64_t> qs = quotient_set(std::max(k, kf) + 1);
    for (int r = 0; r <= 63; ++r)
      for (uint64_t m : {smallest_with_scale(r), largest_with_scale(r)}) {
        ASSERT_EQ(round_log2(m), r);
        std::vector<uint64_t> mags = {0, 1, 2, 3, m, m - 1};
        add_rounding_points(mags, r - (k - 1), qs, m);     // shift quantizer
        add_rounding_points(mags, r - (kf - 1), qs, m);    // flag: coarse
        add_rounding_points(mags, r - 2 * (kf - 1), qs, m);  // flag: fine
        for (int s = 1; s <= 30; s += 7) add_rounding_points(mags, r - s, {0, 1, 2, 3}, m);  // CQ drops
        std::vector<int64_t> v;
        for (uint64_t a : mags) {
          if (a > m) continue;
          if (a < (uint64_t{1} << 63)) v.push_back(signed_value(a, false));
          v.push_back(signed_value(a, true));
        }
        for (bool negative_max : {false, true}) {
          std::vector<int64_t> w = v;
          if (m == (uint64_t{1} << 63)) {
            if (!negative_max) continue;
          } else {
            w.push_back(signed_value(m, negative_max));
          }
          const Tensor<int64_t> x = tensor(std::move(w), 3);
          for (int s : {1, 7, 30}) {
            CqParams cq;
            cq.log2_scale = s;
            cq.out_exp = -14;
            cq.key = make_stream_key(11, static_cast<uint64_t>(r), static_cast<uint64_t>(k));
            ASSERT_TRUE(quantizers_agree(x, k, kf, cq, fmt::format("r={} m={} negative_max={}", r, m, negative_max)));
          }
          elements += x.size();
        }
      }
  }
  std::printf("elements compared: %lld\n", static_cast<long long>(elements));
}

// Random tensors: per tensor a magnitude width (0..64 bits, biased towards training sizes),
// sprinkled extremes (INT64_MIN/MAX, 2^31 +- 1, ties), all-zero and constant tensors, sizes
// from 1 to beyond the threading threshold.
TEST(QuantizersFast, RandomTensorsMatchReference) {
  const uint64_t seed = 20261127;
  std::printf("seed=%llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 gen(seed);
  const int64_t specials[] = {kMin64, kMax64, kMin64 + 1, kMax64 - 1, (int64_t{1} << 31) - 1, int64_t{1} << 31,
                              (int64_t{1} << 31) + 1, -(int64_t{1} << 31), -(int64_t{1} << 31) - 1,
                              -(int64_t{1} << 31) + 1, int64_t{1} << 62, -(int64_t{1} << 62), 0, 1, -1};
  const int tensors = 1500;
  for (int t = 0; t < tensors; ++t) {
    const bool big = t % 100 == 0;  // spans 3 workers
    const int64_t n = big ? 100000 + static_cast<int64_t>(gen() % 100000) : 1 + static_cast<int64_t>(gen() % 3000);
    const int width = t % 10 < 6 ? static_cast<int>(gen() % 32) : static_cast<int>(gen() % 65);
    const int mode = static_cast<int>(gen() % 8);
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (auto& x : v) {
      const uint64_t mag = width == 0 ? 0 : (width == 64 ? gen() : gen() & ((uint64_t{1} << width) - 1));
      x = static_cast<int64_t>(gen() & 1 ? 0 - mag : mag);
      if (mode == 1 && gen() % 4 == 0) x = (x >> 4) * 16 + 8;  // ties for shifts of 4
      if (mode == 2 && gen() % 50 == 0) x = specials[gen() % std::size(specials)];
    }
    if (mode == 3) std::fill(v.begin(), v.end(), 0);
    if (mode == 4) std::fill(v.begin(), v.end(), v[0]);
    const Tensor<int64_t> x = tensor(std::move(v), static_cast<int>(gen() % 41) - 20);
    CqParams cq;
    cq.log2_scale = 1 + static_cast<int>(gen() % 30);
    cq.out_exp = -14;
    cq.key = make_stream_key(seed, static_cast<uint64_t>(t), 16 * static_cast<uint64_t>(t) + 1);
    const int k_shift = 2 + static_cast<int>(gen() % 30), k_flag = 2 + static_cast<int>(gen() % 15);
    ASSERT_TRUE(quantizers_agree(x, k_shift, k_flag, cq, fmt::format("tensor {} (n={} width={} mode={})", t, n, width, mode)));
  }
}

// Maxima at the edge of the 32-bit lanes: |x| = 2^31 (either sign) must take the 64-bit path.
TEST(QuantizersFast, Int32LaneBoundary) {
  const int64_t two31 = int64_t{1} << 31;
  for (int64_t m : {two31 - 1, two31, two31 + 1})
    for (int sign : {1, -1}) {
      std::vector<int64_t> v = {sign * m, -sign * (m - 1), 0, 1, -1, 1 << 23, -(1 << 23) - 1, (1 << 24) + (1 << 23)};
      for (int64_t d = 0; d < 64; ++d) v.push_back((m - d) * (d % 2 ? 1 : -1));
      for (int k : {2, 8, 16, 31}) {
        CqParams cq;
        cq.log2_scale = std::min(k, 30);
        ASSERT_TRUE(quantizers_agree(tensor(v, 0), k, std::min(k, kMaxFlagBits), cq,
                                     fmt::format("max {} sign {}", m, sign)));
      }
    }
}

TEST(QuantizersFast, RejectsWhatTheReferenceRejects) {
  const Tensor<int64_t> x = tensor({5, -3}, 0);
  CqParams bad_scale;
  bad_scale.log2_scale = 31;
  for (int k : {-1, 0, 1, 17, 32}) EXPECT_TRUE(quantizers_agree(x, k, k, bad_scale, fmt::format("k={}", k)));
  Tensor<int64_t> empty;
  EXPECT_TRUE(quantizers_agree(empty, 8, 8, CqParams{}, "empty tensor"));
  EXPECT_THROW(shift_quantize_fast(empty, 8), std::invalid_argument);
}

namespace {

template <typename T>
Tensor<T> random_tensor(std::mt19937_64& gen, const Shape& shape, int exp, int width, int zero_percent) {
  Tensor<T> t(shape, exp);
  for (auto& x : t.data) {
    const uint64_t mag = width == 0 ? 0 : (width >= 64 ? gen() : gen() & ((uint64_t{1} << width) - 1));
    const auto u = static_cast<uint64_t>(gen() & 1 ? 0 - mag : mag);
    x = static_cast<int>(gen() % 100) < zero_percent ? 0 : static_cast<T>(static_cast<int64_t>(u));
  }
  return t;
}

template <typename T, typename Fast, typename Ref>
bool adds_agree(const Tensor<T>& a, const Tensor<T>& b, Fast fast, Ref ref, const std::string& what) {
  const Outcome<T> expected = run<T>([&] { return ref(a, b); });
  for (int th : kThreadCounts) {
    const Outcome<T> got = run<T>([&] { return fast(a, b, th); });
    std::string d = got.error != expected.error ? fmt::format("error '{}' vs reference '{}'", got.error, expected.error)
                                                : "";
    if (d.empty() && expected.error.empty()) {
      if (got.t.exp != expected.t.exp) d = fmt::format("exp {} vs reference {}", got.t.exp, expected.t.exp);
      else if (got.t.shape != expected.t.shape || got.t.data != expected.t.data) d = "payloads differ";
    }
    if (!d.empty()) {
      ADD_FAILURE() << what << " threads=" << th << ": " << d;
      return false;
    }
  }
  return true;
}

// True when accumulate_error_fast sums in place with its fast loop: both operands nonzero and
// every aligned sum provably inside int64 (no block can fail the loop's range check).
bool accumulate_fast_path_taken(const Tensor<int64_t>& into, const Tensor<int64_t>& e) {
  if (into.empty() || into.shape != e.shape) return false;
  const int exp = std::min(into.exp, e.exp), sa = into.exp - exp, sb = e.exp - exp;
  if (std::max(sa, sb) > 62) return false;
  const uint64_t ma = tensor_max_magnitude(into.data.data(), into.size());
  const uint64_t mb = tensor_max_magnitude(e.data.data(), e.size());
  if (ma == 0 || mb == 0) return false;
  const auto bound = (static_cast<unsigned __int128>(ma) << sa) + (static_cast<unsigned __int128>(mb) << sb);
  return bound <= static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max());
}

// accumulate_error_fast(into, e) against into = into.empty() ? e : error_add(into, e), including
// the state of `into` after an exception (the reference leaves it untouched).
bool accumulate_agrees(const Tensor<int64_t>& into, const Tensor<int64_t>& e, const std::string& what) {
  Tensor<int64_t> expected = into;
  std::string expected_error;
  try {
    expected = into.empty() ? e : error_add(into, e);
  } catch (const std::exception& ex) {
    expected_error = std::string(typeid(ex).name()) + ": " + ex.what();
  }
  for (int th : kThreadCounts) {
    for (bool keep : {false, true}) {  // e given away (a copy of it here) or kept by the caller
      Tensor<int64_t> got = into;
      std::string error;
      try {
        if (keep) {
          accumulate_error_fast(got, e, th, KeepOperand{});
        } else {
          accumulate_error_fast(got, Tensor<int64_t>(e), th);
        }
      } catch (const std::exception& ex) {
        error = std::string(typeid(ex).name()) + ": " + ex.what();
      }
      std::string d = error != expected_error ? fmt::format("error '{}' vs reference '{}'", error, expected_error) : "";
      if (d.empty() && got.exp != expected.exp) d = fmt::format("exp {} vs reference {}", got.exp, expected.exp);
      if (d.empty() && (got.shape != expected.shape || got.data != expected.data)) d = "payloads differ";
      // The overloads that keep track of max |into|: the same result, and a known max is exact.
      // Operands' maxima are given known or not; an in-place sum (both operands nonzero, the
      // fast loop exact) must measure it.
      for (int known = 0; known < 4 && d.empty() && expected_error.empty(); ++known) {
        const KnownMax into_known = known & 1 && !into.empty() ? KnownMax{true, tensor_max_magnitude(into.data.data(), into.size())} : KnownMax{};
        const KnownMax e_known = known & 2 ? KnownMax{true, tensor_max_magnitude(e.data.data(), e.size())} : KnownMax{};
        Tensor<int64_t> got2 = into;
        KnownMax got_max = into_known;
        if (keep)
          accumulate_error_fast(got2, e, th, KeepOperand{}, &got_max, e_known);
        else
          accumulate_error_fast(got2, Tensor<int64_t>(e), th, &got_max, e_known);
        const uint64_t true_max = tensor_max_magnitude(expected.data.data(), expected.size());
        if (got2.exp != expected.exp || got2.data != expected.data) d = "payloads differ (with max)";
        else if (got_max.known && got_max.value != true_max) d = fmt::format("max {} vs {}", got_max.value, true_max);
        else if (!got_max.known && accumulate_fast_path_taken(into, e)) d = "the in-place sum left max unknown";
      }
      if (!d.empty()) {
        ADD_FAILURE() << what << " threads=" << th << " keep=" << keep << ": " << d;
        return false;
      }
    }
  }
  return true;
}

}  // namespace

TEST(AddsFast, HandPickedCases) {
  const auto ef = [](const Tensor<int64_t>& a, const Tensor<int64_t>& b, int th) { return error_add_fast(a, b, th); };
  const auto er = [](const Tensor<int64_t>& a, const Tensor<int64_t>& b) { return error_add(a, b); };
  const auto rf = [](const Tensor<int32_t>& a, const Tensor<int32_t>& b, int th) { return residual_add_fast(a, b, th); };
  const auto rr = [](const Tensor<int32_t>& a, const Tensor<int32_t>& b) { return residual_add(a, b); };
  using T64 = Tensor<int64_t>;
  using T32 = Tensor<int32_t>;
  // Aligned sums, shapes that differ, an all-zero operand at a far exponent.
  EXPECT_TRUE(adds_agree(T64({3}, {1, -2, 3}, -14), T64({3}, {5, 6, -7}, -15), ef, er, "aligned"));
  EXPECT_TRUE(adds_agree(T64({3}, {1, -2, 3}, 0), T64({2}, {5, 6}, 0), ef, er, "shapes differ"));
  EXPECT_TRUE(adds_agree(T64({2}, {0, 0}, 90), T64({2}, {5, 6}, -10), ef, er, "a zero, far exponent"));
  EXPECT_TRUE(adds_agree(T64({2}, {5, 6}, 90), T64({2}, {0, 0}, -10), ef, er, "b zero, far exponent"));
  EXPECT_TRUE(adds_agree(T64({2}, {0, 0}, 4), T64({2}, {0, 0}, -3), ef, er, "both zero"));
  // Overflow of the shift and of the sum: the reference's exceptions.
  EXPECT_TRUE(adds_agree(T64({2}, {1, int64_t{1} << 60}, 4), T64({2}, {1, 1}, 0), ef, er, "shift overflows"));
  EXPECT_TRUE(adds_agree(T64({2}, {1, -1}, 70), T64({2}, {1, 1}, 0), ef, er, "shift of 70"));
  EXPECT_TRUE(adds_agree(T64({2}, {1, kMax64 / 2}, 1), T64({2}, {1, 1}, 0), ef, er, "shift to the edge"));
  EXPECT_TRUE(adds_agree(T64({2}, {1, kMin64 / 2}, 1), T64({2}, {1, -1}, 0), ef, er, "negative edge"));
  EXPECT_TRUE(adds_agree(T32({2}, {1, 2}, -14), T32({2}, {3, 4}, -15), rf, rr, "residual aligned"));
  EXPECT_TRUE(adds_agree(T32({2}, {1, 2}, 0), T32({1}, {3}, 0), rf, rr, "residual shapes differ"));
  EXPECT_TRUE(adds_agree(T32({2}, {1, 1 << 30}, 0), T32({2}, {1, 1 << 30}, 0), rf, rr, "residual sum overflows"));
  EXPECT_TRUE(adds_agree(T32({2}, {1, -(1 << 30)}, 0), T32({2}, {1, -(1 << 30)}, 0), rf, rr, "residual -2^31"));
  EXPECT_TRUE(adds_agree(T32({2}, {1, 1 << 29}, 1), T32({2}, {1, 1 << 30}, 0), rf, rr, "residual shift overflows"));
  EXPECT_TRUE(adds_agree(T32({2}, {0, 0}, 40), T32({2}, {3, 4}, 0), rf, rr, "residual shift of 40, zeros"));
  EXPECT_TRUE(adds_agree(T32({2}, {0, 1}, 40), T32({2}, {3, 4}, 0), rf, rr, "residual shift of 40"));
  EXPECT_TRUE(adds_agree(T32({2}, {0, 1}, 31), T32({2}, {3, 4}, 0), rf, rr, "residual shift of 31"));
}

TEST(AddsFast, RandomOperandsMatchReference) {
  const uint64_t seed = 424242;
  std::printf("seed=%llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 gen(seed);
  const auto ef = [](const Tensor<int64_t>& a, const Tensor<int64_t>& b, int th) { return error_add_fast(a, b, th); };
  const auto er = [](const Tensor<int64_t>& a, const Tensor<int64_t>& b) { return error_add(a, b); };
  const auto rf = [](const Tensor<int32_t>& a, const Tensor<int32_t>& b, int th) { return residual_add_fast(a, b, th); };
  const auto rr = [](const Tensor<int32_t>& a, const Tensor<int32_t>& b) { return residual_add(a, b); };
  const int exp_gaps[] = {0, 0, 0, 1, 2, 5, 30, 31, 32, 61, 62, 63, 64};
  for (int t = 0; t < 1200; ++t) {
    const int64_t n = t % 100 == 0 ? 70000 + static_cast<int64_t>(gen() % 50000) : 1 + static_cast<int64_t>(gen() % 2000);
    const Shape shape = {n};
    const int gap = exp_gaps[gen() % std::size(exp_gaps)];
    const int ea = static_cast<int>(gen() % 21) - 10, eb = gen() & 1 ? ea - gap : ea + gap;
    const int zero_a = gen() % 5 == 0 ? 100 : static_cast<int>(gen() % 50);
    const int zero_b = gen() % 5 == 0 ? 100 : static_cast<int>(gen() % 50);
    const int wa = static_cast<int>(gen() % 65), wb = static_cast<int>(gen() % 65);
    const std::string what = fmt::format("pair {} (n={} gap={} widths {} {})", t, n, gap, wa, wb);
    ASSERT_TRUE(adds_agree(random_tensor<int64_t>(gen, shape, ea, wa, zero_a),
                           random_tensor<int64_t>(gen, shape, eb, wb, zero_b), ef, er, "error_add " + what));
    const Tensor<int64_t> a = random_tensor<int64_t>(gen, shape, ea, wa, zero_a);
    const Tensor<int64_t> b = random_tensor<int64_t>(gen, shape, eb, wb, zero_b);
    ASSERT_TRUE(accumulate_agrees(a, b, "accumulate_error_fast " + what));
    ASSERT_TRUE(adds_agree(random_tensor<int32_t>(gen, shape, ea, std::min(wa, 32), zero_a),
                           random_tensor<int32_t>(gen, shape, eb, std::min(wb, 32), zero_b), rf, rr,
                           "residual_add " + what));
  }
}

// The in-place sum's way back: a block late in a large tensor fails the range check, either
// because a shift really overflows (the reference throws, `into` must come back unchanged)
// or only because the check is conservative (the reference's exact sum must result).
TEST(AddsFast, AccumulateUndoesPartialSums) {
  const int64_t n = 200000;
  std::mt19937_64 gen(99);
  std::printf("seed=99\n");
  Tensor<int64_t> into = random_tensor<int64_t>(gen, {n}, 1, 20, 10);
  const Tensor<int64_t> e = random_tensor<int64_t>(gen, {n}, 0, 20, 10);
  EXPECT_TRUE(accumulate_agrees(into, e, "plain"));
  for (int64_t at : {int64_t{0}, n / 3, n / 2 + 7, n - 1}) {
    Tensor<int64_t> overflowing = into;
    overflowing.data[at] = kMax64 / 2 + 1;  // << 1 leaves int64
    EXPECT_TRUE(accumulate_agrees(overflowing, e, fmt::format("shift overflow at {}", at)));
    Tensor<int64_t> near = into, near_e = e;
    near.data[at] = kMax64 / 4;  // 2^62 - 1 after the shift
    near_e.data[at] = 5;
    near_e.data[at == 0 ? 1 : at - 1] = kMax64 / 2;  // same block: the bound fails, every sum fits
    near.data[at == 0 ? 1 : at - 1] = 0;
    EXPECT_TRUE(accumulate_agrees(near, near_e, fmt::format("conservative bound at {}", at)));
  }
  EXPECT_TRUE(accumulate_agrees(Tensor<int64_t>{}, e, "empty into"));
  EXPECT_TRUE(accumulate_agrees(Tensor<int64_t>({n}, 40), e, "zero into"));
  EXPECT_TRUE(accumulate_agrees(into, Tensor<int64_t>({n}, 80), "zero e, far exponent"));
  EXPECT_TRUE(accumulate_agrees(into, Tensor<int64_t>({n - 1}, 0), "shapes differ"));
}

namespace {

ErrorTensor as_error(const Tensor<int64_t>& t, bool narrow) {
  if (!narrow) return ErrorTensor(t);
  return ErrorTensor::of_narrow(Tensor<int32_t>(t.shape, Payload<int32_t>(t.data.begin(), t.data.end()), t.exp));
}

bool fits_int32(const Tensor<int64_t>& t) {
  return std::all_of(t.data.begin(), t.data.end(), [](int64_t v) {
    return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
  });
}

// True when the ErrorTensor accumulate must sum in int32: both int32, same shape, exponent gap
// <= 31, both nonzero, |into| 2^sa + |e| 2^sb <= INT32_MAX.
bool narrow_sum_expected(const Tensor<int64_t>& into, const Tensor<int64_t>& e) {
  if (into.empty() || into.shape != e.shape) return false;
  const int exp = std::min(into.exp, e.exp), sa = into.exp - exp, sb = e.exp - exp;
  if (std::max(sa, sb) > 31) return false;
  const uint64_t ma = tensor_max_magnitude(into.data.data(), into.size());
  const uint64_t mb = tensor_max_magnitude(e.data.data(), e.size());
  if (ma == 0 || mb == 0) return false;
  return (static_cast<unsigned __int128>(ma) << sa) + (static_cast<unsigned __int128>(mb) << sb) <=
         static_cast<unsigned __int128>(std::numeric_limits<int32_t>::max());
}

// accumulate_error_fast on error tensors (every mix of int32 and int64 forms that the values
// allow, e given away or kept, maxima known or not) against into = into.empty() ? e :
// error_add(into, e): the same values, exponent and exception, `into`'s values unchanged
// after an exception, a known max exact, and the int32 sum taken whenever it must be.
bool error_tensor_accumulate_agrees(const Tensor<int64_t>& into, const Tensor<int64_t>& e, const std::string& what) {
  Tensor<int64_t> expected = into;
  std::string expected_error;
  try {
    expected = into.empty() ? e : error_add(into, e);
  } catch (const std::exception& ex) {
    expected_error = std::string(typeid(ex).name()) + ": " + ex.what();
  }
  const uint64_t true_max = tensor_max_magnitude(expected.data.data(), expected.size());
  for (int th : kThreadCounts)
    for (int forms = 0; forms < 4; ++forms) {
      const bool ni = forms & 1, ne = forms & 2;
      if ((ni && (into.empty() || !fits_int32(into))) || (ne && !fits_int32(e))) continue;
      for (int variant = 0; variant < 8; ++variant) {
        const bool keep = variant & 4;
        ErrorTensor got = into.empty() ? ErrorTensor{} : as_error(into, ni);
        const ErrorTensor operand = as_error(e, ne);
        KnownMax got_max = variant & 1 && !into.empty() ? KnownMax{true, tensor_max_magnitude(into.data.data(), into.size())} : KnownMax{};
        const KnownMax e_known = variant & 2 ? KnownMax{true, tensor_max_magnitude(e.data.data(), e.size())} : KnownMax{};
        std::string error;
        try {
          if (keep)
            accumulate_error_fast(got, operand, th, KeepOperand{}, &got_max, e_known);
          else
            accumulate_error_fast(got, ErrorTensor(operand), th, &got_max, e_known);
        } catch (const std::exception& ex) {
          error = std::string(typeid(ex).name()) + ": " + ex.what();
        }
        const Tensor<int64_t> got64 = got.empty() ? Tensor<int64_t>{} : widened(got);
        const Tensor<int64_t>& want = expected_error.empty() ? expected : into;
        std::string d = error != expected_error ? fmt::format("error '{}' vs reference '{}'", error, expected_error) : "";
        if (d.empty() && (got64.exp != want.exp || got64.shape != want.shape || got64.data != want.data))
          d = "values differ";
        if (d.empty() && expected_error.empty() && got_max.known && got_max.value != true_max)
          d = fmt::format("max {} vs {}", got_max.value, true_max);
        if (d.empty() && ni && ne && narrow_sum_expected(into, e) && !got.is_narrow()) d = "the int32 sum was not taken";
        if (!d.empty()) {
          ADD_FAILURE() << fmt::format("{} threads={} into {} e {} keep={} known={}: {}", what, th, ni ? "int32" : "int64",
                                       ne ? "int32" : "int64", keep, variant & 3, d);
          return false;
        }
      }
    }
  return true;
}

}  // namespace

TEST(ErrorTensorFast, AccumulateHandPickedCases) {
  using T64 = Tensor<int64_t>;
  const int64_t max32 = std::numeric_limits<int32_t>::max(), min32 = std::numeric_limits<int32_t>::min();
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64{}, T64({3}, {1, -2, 3}, -4), "empty into"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({3}, {1, -2, 3}, -14), T64({3}, {5, 6, -7}, -15), "aligned"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({3}, {1, -2, 3}, 0), T64({2}, {5, 6}, 0), "shapes differ"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({2}, {0, 0}, 90), T64({2}, {5, 6}, -10), "into zero, far exponent"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({2}, {5, 6}, 90), T64({2}, {0, 0}, -10), "e zero, far exponent"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({2}, {0, 0}, 4), T64({2}, {0, 0}, -3), "both zero"));
  // The int32 bound: a sum of exactly INT32_MAX stays int32, one more goes to int64.
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({2}, {max32 - 5, 1}, 0), T64({2}, {5, -3}, 0), "sum INT32_MAX"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({2}, {max32 - 5, 1}, 0), T64({2}, {6, -3}, 0), "sum INT32_MAX + 1"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({2}, {-(max32 - 5), 1}, 0), T64({2}, {-6, -3}, 0), "sum INT32_MIN"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({2}, {min32, 1}, 0), T64({2}, {1, 1}, 0), "operand INT32_MIN"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({2}, {1 << 29, 1}, 1), T64({2}, {-1, 1}, 0), "shifted to 2^30"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({2}, {1 << 30, 1}, 1), T64({2}, {-1, 1}, 0), "shifted to 2^31"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({2}, {1, -1}, 31), T64({2}, {1, 1}, 0), "shift of 31"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({2}, {0, 1}, 30), T64({2}, {1, 1}, 0), "shift of 30"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({2}, {1, 2}, 40), T64({2}, {1, 1}, 0), "shift of 40"));
  EXPECT_TRUE(error_tensor_accumulate_agrees(T64({2}, {1, 2}, 70), T64({2}, {1, 1}, 0), "shift of 70 (int64 overflows)"));
}

TEST(ErrorTensorFast, AccumulateRandomOperandsMatchReference) {
  const uint64_t seed = 20261203;
  std::printf("seed=%llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 gen(seed);
  const int exp_gaps[] = {0, 0, 0, 1, 2, 3, 5, 15, 29, 30, 31, 32, 40};
  int narrow_sums = 0;
  for (int t = 0; t < 600; ++t) {
    const int64_t n = t % 100 == 0 ? 70000 + static_cast<int64_t>(gen() % 50000) : 1 + static_cast<int64_t>(gen() % 2000);
    const int gap = exp_gaps[gen() % std::size(exp_gaps)];
    const int ea = static_cast<int>(gen() % 21) - 10, eb = gen() & 1 ? ea - gap : ea + gap;
    const int zero_a = gen() % 5 == 0 ? 100 : static_cast<int>(gen() % 50);
    const int zero_b = gen() % 5 == 0 ? 100 : static_cast<int>(gen() % 50);
    const int wa = static_cast<int>(gen() % 33), wb = static_cast<int>(gen() % 33);  // mostly int32 values
    const Tensor<int64_t> a = random_tensor<int64_t>(gen, {n}, ea, wa, zero_a);
    const Tensor<int64_t> b = random_tensor<int64_t>(gen, {gen() % 50 == 0 ? n + 1 : n}, eb, wb, zero_b);
    narrow_sums += narrow_sum_expected(a, b);
    ASSERT_TRUE(error_tensor_accumulate_agrees(a, b, fmt::format("pair {} (n={} gap={} widths {} {})", t, n, gap, wa, wb)));
  }
  std::printf("int32 sums: %d\n", narrow_sums);
  EXPECT_GT(narrow_sums, 100);
}
