// Every quantizer against the paper's formula in double, exhaustively over int16
// payloads: for each bit-width 2..16 and each exponent in the sweep, tensors holding
// every payload in [-M, M] for a set of maxima M (M = 32768 is all of int16).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "golden/quantizers.h"
#include "quantizer_float_reference.h"

using namespace octet::golden;
using namespace octet::testing;

namespace {

const int kExponents[] = {-24, -14, -7, -1, 0, 5};
// Maxima around the rounding points of round(log2 m): powers of two, sqrt(2)*2^j
// neighbours (181|182, 11585|11586, 23170|23171), and the int16 extremes.
const int64_t kMaxima[] = {1, 2, 3, 5, 6, 90, 91, 127, 128, 181, 182, 255, 256, 4095, 11585, 11586, 23170, 23171, 32767, 32768};

Tensor<int64_t> all_payloads_up_to(int64_t max_abs, int exp) {
  std::vector<int64_t> v;
  for (int64_t x = -max_abs; x <= std::min<int64_t>(max_abs, 32767); ++x) v.push_back(x);
  const auto n = static_cast<int64_t>(v.size());
  return Tensor<int64_t>({n}, std::move(v), exp);
}

std::vector<double> values(const Tensor<int64_t>& t) {
  std::vector<double> v(t.data.size());
  for (int64_t i = 0; i < t.size(); ++i) v[i] = t.as_double(i);
  return v;
}

// Runs `check(k, tensor, float values, R)` over the whole sweep and counts elements.
template <typename Check>
int64_t sweep(Check check) {
  int64_t compared = 0;
  for (int k = 2; k <= 16; ++k)
    for (int e : kExponents)
      for (int64_t m : kMaxima) {
        const Tensor<int64_t> x = all_payloads_up_to(m, e);
        const std::vector<double> v = values(x);
        compared += check(k, x, v, paper_shift(max_abs(v)));
        if (::testing::Test::HasFatalFailure()) return compared;
      }
  return compared;
}

}  // namespace

TEST(QuantizersExhaustive, DirectClippedEqualsPaperFormula) {
  const int64_t n = sweep([](int k, const Tensor<int64_t>& x, const std::vector<double>& v, double) {
    const Tensor<int32_t> q = direct_quantize(x, k, Clip::kSymmetric);
    EXPECT_EQ(q.exp, 1 - k);
    for (int64_t i = 0; i < x.size(); ++i)
      if (q.as_double(i) != paper_direct_clipped(v[i], k)) {
        ADD_FAILURE() << fmt::format("k={} exp={} x={}: integer {} float {}", k, x.exp, x.data[i], q.as_double(i),
                                     paper_direct_clipped(v[i], k));
        return x.size();
      }
    return x.size();
  });
  RecordProperty("elements", std::to_string(n));
  std::printf("direct: %lld elements compared\n", static_cast<long long>(n));
}

TEST(QuantizersExhaustive, DirectUnclippedEqualsPaperFormulaUpToStorage) {
  sweep([](int k, const Tensor<int64_t>& x, const std::vector<double>& v, double) {
    const Tensor<int32_t> q = direct_quantize(x, k, Clip::kStorage);
    for (int64_t i = 0; i < x.size(); ++i) {
      // The paper's grid value, saturated to the int32 storage of the payload.
      const double payload = std::clamp(std::nearbyint(std::ldexp(v[i], k - 1)), -2147483648.0, 2147483647.0);
      if (static_cast<double>(q.data[i]) != payload) {
        ADD_FAILURE() << fmt::format("k={} exp={} x={}: integer {} float {}", k, x.exp, x.data[i], q.data[i], payload);
        break;
      }
    }
    return x.size();
  });
}

TEST(QuantizersExhaustive, ShiftQuantizerEqualsPaperFormula) {
  const int64_t n = sweep([](int k, const Tensor<int64_t>& x, const std::vector<double>& v, double R) {
    const Tensor<int32_t> q = shift_quantize(x, k);
    for (int64_t i = 0; i < x.size(); ++i)
      if (q.as_double(i) != paper_shift_quantize(v[i], R, k)) {
        ADD_FAILURE() << fmt::format("k={} exp={} x={}: integer {} float {}", k, x.exp, x.data[i], q.as_double(i),
                                     paper_shift_quantize(v[i], R, k));
        break;
      }
    return x.size();
  });
  std::printf("shift: %lld elements compared\n", static_cast<long long>(n));
}

TEST(QuantizersExhaustive, ConstantFactorQuantizerEqualsPaperFormula) {
  const int64_t n = sweep([](int k, const Tensor<int64_t>& x, const std::vector<double>& v, double R) {
    CqParams p;
    p.log2_scale = k - 1;  // g_scale = 2^(k-1): 128 at k = 8
    p.out_exp = -14;
    p.key = make_stream_key(0x5EED + static_cast<uint64_t>(k), static_cast<uint64_t>(x.exp + 100), static_cast<uint64_t>(x.size()));
    const Tensor<int32_t> q = constant_factor_quantize(x, p);
    EXPECT_EQ(q.exp, p.out_exp);
    for (int64_t i = 0; i < x.size(); ++i) {
      const double expected = paper_constant_factor(v[i], R, p.log2_scale, p.out_exp, random_bits(p.key, static_cast<uint64_t>(i)));
      if (q.as_double(i) != expected) {
        ADD_FAILURE() << fmt::format("k={} exp={} x={} index={}: integer {} float {}", k, x.exp, x.data[i], i,
                                     q.as_double(i), expected);
        break;
      }
    }
    return x.size();
  });
  std::printf("constant-factor: %lld elements compared\n", static_cast<long long>(n));
}

TEST(QuantizersExhaustive, FlagQuantizerEqualsPaperFormula) {
  const int64_t n = sweep([](int k, const Tensor<int64_t>& x, const std::vector<double>& v, double R) {
    const Tensor<int32_t> q = flag_quantize(x, k);
    for (int64_t i = 0; i < x.size(); ++i) {
      if (q.as_double(i) != paper_flag(v[i], R, k)) {
        ADD_FAILURE() << fmt::format("k={} exp={} x={}: integer {} float {}", k, x.exp, x.data[i], q.as_double(i),
                                     paper_flag(v[i], R, k));
        break;
      }
      // Every output is a legal E2 code and decodes back to itself.
      const FlagCode c = flag_encode(q.data[i], k);
      if (flag_decode(c, k) != q.data[i] || std::abs(c.value) > (1 << (k - 1)) - 1) {
        ADD_FAILURE() << "bad E2 code for payload " << q.data[i];
        break;
      }
    }
    return x.size();
  });
  std::printf("flag: %lld elements compared\n", static_cast<long long>(n));
}
