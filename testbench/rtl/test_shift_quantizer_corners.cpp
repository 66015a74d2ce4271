// Directed corners: all-zero tensors, a single non-zero element, round(log2) thresholds,
// extremes of the input width and saturation at both ends, in every mode.
#include <gtest/gtest.h>

#include "golden/int_math.h"
#include "testbench/rtl/shift_quantizer_check.h"
#include "testbench/rtl/shift_quantizer_gen.h"

using namespace octet::tb;

namespace {
constexpr SqMode kModes[] = {SqMode::kDirect, SqMode::kShift, SqMode::kConst, SqMode::kFlag};

class SqCorners : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = test_seed();
    g_.seed(seed_);
  }
  // Runs x in every mode with a random configuration (k = 8 / s = 7 where `paper` is set).
  void all_modes(const std::string& name, const std::vector<int64_t>& x, bool paper = false) {
    for (const SqMode mode : kModes) {
      SqCase c;
      c.seed = seed_;
      c.name = name + " " + mode_name(mode);
      c.cfg = random_config(g_, mode);
      if (paper) {
        c.cfg.bits = 8;
        c.cfg.log2_scale = 7;
      }
      c.x = x;
      const SqCheck res = run_and_check(h_, c);
      ASSERT_TRUE(res.ok) << c.name;
      compared_ += res.compared;
    }
  }
  void TearDown() override { std::printf("compared %lld values\n", static_cast<long long>(compared_)); }

  uint64_t seed_ = 0;
  std::mt19937_64 g_;
  SqHarness h_;
  int64_t compared_ = 0;
};
}  // namespace

TEST_F(SqCorners, AllZeroTensors) {
  for (const int64_t n : {int64_t{1}, int64_t{kLanes}, int64_t{kLanes + 1}, int64_t{777}}) {
    all_modes("zeros n=" + std::to_string(n), std::vector<int64_t>(static_cast<size_t>(n), 0), true);
    all_modes("zeros n=" + std::to_string(n), std::vector<int64_t>(static_cast<size_t>(n), 0));
  }
}

TEST_F(SqCorners, SingleNonZeroElement) {
  for (int i = 0; i < 40; ++i) {
    const int64_t n = 1 + static_cast<int64_t>(g_() % 50);
    std::vector<int64_t> x(static_cast<size_t>(n), 0);
    const int e = 1 + static_cast<int>(g_() % (kInW - 1));  // magnitude below 2^e
    x[g_() % n] = (g_() & 1 ? -1 : 1) * static_cast<int64_t>(g_() >> (64 - e));
    all_modes("single nonzero #" + std::to_string(i), x, i % 2 == 0);
  }
}

// max |x| at 2^j, just below and at the sqrt(2) threshold (181 -> 7, 182 -> 8 at j = 7),
// and at 2^(j+1) - 1, both signs, alone and among smaller values.
TEST_F(SqCorners, RoundLog2Thresholds) {
  for (int j = 0; j <= kInW - 2; ++j) {
    const int64_t t = sqrt2_threshold(j);
    for (const int64_t m : {int64_t{1} << j, t - 1, t, static_cast<int64_t>((uint64_t{1} << (j + 1)) - 1)}) {
      for (const int64_t s : {1, -1}) {
        all_modes("max=" + std::to_string(s * m), {s * m}, true);
        std::vector<int64_t> x(9);
        for (auto& v : x) v = static_cast<int64_t>(g_() % (static_cast<uint64_t>(m) + 1)) * (g_() & 1 ? 1 : -1);
        x[g_() % x.size()] = s * m;
        all_modes("max=" + std::to_string(s * m) + " among 9", x);
      }
    }
  }
  // The paper's example, at several binary scales.
  for (int j = 0; j + 8 < kInW; j += 7) {
    all_modes("181*2^" + std::to_string(j), {181 * (int64_t{1} << j), 3, -90 * (int64_t{1} << j)}, true);
    all_modes("182*2^" + std::to_string(j), {-182 * (int64_t{1} << j), 3, 90 * (int64_t{1} << j)}, true);
  }
}

TEST_F(SqCorners, ExtremesOfTheInputWidth) {
  all_modes("min", {kInMin});
  all_modes("max", {kInMax});
  all_modes("min max", {kInMin, kInMax, kInMin + 1, -kInMax, 0, 1, -1});
  std::vector<int64_t> x(333);
  for (auto& v : x) v = g_() & 1 ? kInMin + static_cast<int64_t>(g_() % 4) : kInMax - static_cast<int64_t>(g_() % 4);
  all_modes("near extremes", x);
  all_modes("near extremes", x, true);
}

// Saturation at both ends in every mode: values near the top of [0, sqrt(2)) R saturate in
// SQ / CQ / E2; direct mode clips at lo and hi (including ranges that exclude zero).
TEST_F(SqCorners, SaturationAtBothEnds) {
  std::vector<int64_t> x;
  const int64_t m = sqrt2_threshold(kInW - 3) - 1;  // r = kInW - 3, |x| just below sqrt(2) R
  for (int64_t d = 0; d < 64; ++d) {
    x.push_back(m - d * (m >> 8));
    x.push_back(-(m - d * (m >> 8)));
  }
  all_modes("saturating", x, true);
  all_modes("saturating", x);
  struct Clip {
    int shift;
    int32_t lo, hi;
  };
  for (const Clip clip : {Clip{40, INT32_MIN, INT32_MAX}, Clip{127, -5, 9}, Clip{-128, 3, 9}, Clip{-128, -9, -3},
                          Clip{0, -127, 127}, Clip{-10, -1000, 1000}, Clip{20, INT32_MIN, INT32_MIN},
                          Clip{20, INT32_MAX, INT32_MAX}, Clip{-kInW, -1, 1}, Clip{-kInW + 1, -1, 1}}) {
    SqCase c;
    c.seed = seed_;
    c.name = "clip shift=" + std::to_string(clip.shift);
    c.cfg.mode = SqMode::kDirect;
    c.cfg.shift = clip.shift;
    c.cfg.lo = clip.lo;
    c.cfg.hi = clip.hi;
    c.x = x;
    c.x.insert(c.x.end(), {0, 1, -1, 2, -2, 3, -3, kInMin, kInMax});
    const SqCheck res = run_and_check(h_, c);
    ASSERT_TRUE(res.ok) << c.name;
    compared_ += res.compared;
  }
}

// The weight-decay adder, by hand: direct mode with shift 0 and the int32 clip passes
// x + shift(w, sh) through unchanged, so each payload is the sum itself. Right shifts round
// half to even; sums outside the InW-bit input raise err_overflow_o (and nothing else is
// defined for that tensor).
TEST_F(SqCorners, WeightDecayAdderByHand) {
  struct Sum {
    int64_t x;
    int8_t w;
    int sh;
    int64_t want;  // x + w * 2^sh, rounded half to even
  };
  const Sum sums[] = {
      {0, 1, 0, 1},        {10, -3, 2, -2},    {-7, 127, 13, -7 + 127 * 8192},  {5, -128, 20, 5 - 128 * 1048576},
      {0, 3, -1, 2},       {0, 5, -1, 2},      {0, -3, -1, -2},  {0, -5, -1, -2},   // 1.5, 2.5, -1.5, -2.5
      {1, 7, -2, 3},       {0, 6, -2, 2},      {0, 10, -2, 2},   {0, -10, -2, -2},  // 1.75, 1.5, 2.5, -2.5
      {0, -128, -8, 0},    {0, 127, -8, 0},    {0, -128, -7, -1}, {0, 127, -7, 1},  // -0.5, 0.496, -1, 0.992
      {0, 96, -8, 0},      {0, -127, -9, 0},   {0, 127, -128, 0}, {3, -128, -100, 3},
      {0, 0, 127, 0},      {-1, 0, 64, -1},
  };
  SqCase c;
  c.seed = seed_;
  c.name = "weight decay adder";
  c.cfg.mode = SqMode::kDirect;
  c.cfg.shift = 0;
  c.cfg.lo = INT32_MIN;
  c.cfg.hi = INT32_MAX;
  c.cfg.addend = true;
  for (const Sum& s : sums) {
    c.cfg.addend_shift = s.sh;
    c.x = {s.x};
    c.w = {s.w};
    const SqRun r = h_.run(c.cfg, c.x, {}, c.w);
    ASSERT_TRUE(r.protocol_error.empty()) << r.protocol_error;
    EXPECT_FALSE(r.overflow) << "x=" << s.x << " w=" << int{s.w} << " sh=" << s.sh;
    ASSERT_EQ(r.data.size(), 1u);
    EXPECT_EQ(r.data[0], s.want) << "x=" << s.x << " w=" << int{s.w} << " sh=" << s.sh;
  }
  // The edges of the input width, each alone in a tensor of 3 (lanes 1, 2 hold 0 + 0).
  struct Edge {
    int64_t x;
    int8_t w;
    int sh;
    bool overflow;
  };
  const Edge edges[] = {
      // -2^(InW-1), the most negative input; at InW = 64 golden's shift_left_checked throws
      // for any shift by 63 or more (even where -2^63 would fit), and so does the unit flag.
      {0, -1, kInW - 1, kInW == 64},
      {0, 1, kInW - 1, true},        // 2^(InW-1)
      {0, -2, kInW - 1, true},       // -2^InW
      {kInMax, 1, 0, true},          {kInMin, -1, 0, true},        {kInMax, -1, 0, false},
      {kInMax - 127, 127, 0, false}, {kInMax - 126, 127, 0, true}, {kInMin, 1, kInW - 2, false},
      {0, 1, kInW, true},            {0, -1, 127, true},           {kInMin, 127, kInW - 8, false},
      // 2^63 - 1 as a sum, but the term 2^63 alone leaves int64: golden throws (at InW = 64
      // the unit's term check flags it; at 48 the shift already does).
      {-1, 2, 62, true},
  };
  for (const Edge& e : edges) {
    c.cfg.addend_shift = e.sh;
    c.x = {e.x, 0, 0};
    c.w = {e.w, 0, 0};
    c.name = "adder edge x=" + std::to_string(e.x) + " w=" + std::to_string(e.w) + " sh=" + std::to_string(e.sh);
    const SqRun r = h_.run(c.cfg, c.x, {}, c.w);
    ASSERT_TRUE(r.protocol_error.empty()) << r.protocol_error;
    EXPECT_EQ(r.overflow, e.overflow) << c.name;
    // And the same case through the golden comparison in the CQ mode weight decay feeds.
    SqCase q = c;
    q.cfg = random_config(g_, SqMode::kConst);
    q.cfg.addend = true;
    q.cfg.addend_shift = e.sh;
    const SqCheck res = run_and_check(h_, q);
    ASSERT_TRUE(res.ok) << q.name;
    compared_ += res.compared;
  }
  // The flag is per tensor: a clean tensor right after an overflowing one clears it.
  c.cfg.addend_shift = 0;
  c.x = {kInMax, 0};
  c.w = {1, 0};
  ASSERT_TRUE(h_.run(c.cfg, c.x, {}, c.w).overflow);
  c.x = {1, 2};
  c.w = {1, 1};
  const SqRun clean = h_.run(c.cfg, c.x, {}, c.w);
  EXPECT_FALSE(clean.overflow);
  EXPECT_EQ(clean.data, (std::vector<int32_t>{2, 3}));
}
