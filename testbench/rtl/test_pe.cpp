// The processing element alone: every product of two 9-bit signed operands under all
// four flag combinations, then random multi-beat accumulations with idle beats whose
// tags and data are garbage. Reference: operands decoded with golden::flag_decode.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include <unistd.h>

#include "Vpe.h"
#include "golden/quantizers.h"
#include "sim/port_bits.h"
#include "testbench/rtl/rtl_env.h"
#include "octet_params.h"
#include "verilated.h"
#include "verilated_cov.h"

namespace {

using octet::sim::sign_extend;
constexpr unsigned kOpBits = octet::params::kOpW, kAccBits = octet::params::kAccW;

// An operand's value in fine units: coarse codes count 2^7 fine units.
int64_t decoded(int32_t value, bool coarse) { return octet::golden::flag_decode({value, !coarse}, 8); }

struct Beat {
  bool valid = false, first = false, last = false;
  int32_t a = 0, b = 0;
  bool a_coarse = false, b_coarse = false;
};

class PeBench {
 public:
  PeBench() : ctx_(std::make_unique<VerilatedContext>()), pe_(std::make_unique<Vpe>(ctx_.get(), "TOP")) {
    pe_->rst_ni = 0;
    clock();
    pe_->rst_ni = 1;
  }
  ~PeBench() {
    pe_->final();
#if VM_COVERAGE
    const std::string path = std::string(OCTET_COVERAGE_DIR) + "/pe_" + std::to_string(getpid()) + "_" +
                             std::to_string(instance_++) + ".dat";
    ctx_->coveragep()->write(path.c_str());
#endif
  }

  // Presents one beat for one clock cycle.
  void step(const Beat& x) {
    pe_->valid_i = x.valid, pe_->first_i = x.first, pe_->last_i = x.last;
    pe_->a_value_i = static_cast<uint16_t>(x.a) & 0x1FF, pe_->a_coarse_i = x.a_coarse;
    pe_->b_value_i = static_cast<uint16_t>(x.b) & 0x1FF, pe_->b_coarse_i = x.b_coarse;
    clock();
  }

  int64_t result() const { return sign_extend(pe_->result_o, kAccBits); }
  // The beat passed on east/south: what the previous step() presented.
  bool passes_on(const Beat& x) const {
    return pe_->valid_o == x.valid && pe_->first_o == x.first && pe_->last_o == x.last &&
           sign_extend(pe_->a_value_o, kOpBits) == x.a && pe_->a_coarse_o == x.a_coarse &&
           sign_extend(pe_->b_value_o, kOpBits) == x.b && pe_->b_coarse_o == x.b_coarse;
  }

 private:
  void clock() {
    pe_->clk_i = 0;
    pe_->eval();
    pe_->clk_i = 1;
    pe_->eval();
  }
#if VM_COVERAGE
  static inline int instance_ = 0;
#endif
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vpe> pe_;
};

}  // namespace

TEST(Pe, EveryProductOfNineBitOperandsAndFlags) {
  PeBench pe;
  Beat prev;
  int64_t expected_prev = 0;
  bool have_prev = false;
  int64_t checked = 0;
  for (int flags = 0; flags < 4; ++flags) {
    for (int32_t a = -256; a <= 255; ++a) {
      for (int32_t b = -256; b <= 255; ++b) {
        const Beat x{true, true, true, a, b, (flags & 1) != 0, (flags & 2) != 0};
        pe.step(x);  // after this edge: x is registered, prev's product is in result_o
        ASSERT_TRUE(pe.passes_on(x)) << "a=" << a << " b=" << b << " flags=" << flags;
        if (have_prev) {
          ASSERT_EQ(pe.result(), expected_prev)
              << "a=" << prev.a << (prev.a_coarse ? " (coarse)" : "") << " b=" << prev.b
              << (prev.b_coarse ? " (coarse)" : "");
          ++checked;
        }
        prev = x, have_prev = true;
        expected_prev = decoded(a, x.a_coarse) * decoded(b, x.b_coarse);
      }
    }
  }
  pe.step(Beat{});
  EXPECT_EQ(pe.result(), expected_prev);
  EXPECT_EQ(checked + 1, 4 * 512 * 512);
}

TEST(Pe, AccumulatesTilesAndIgnoresIdleBeats) {
  const uint64_t seed = octet::tb::test_seed("Pe.AccumulatesTilesAndIgnoresIdleBeats", 21);
  std::mt19937_64 rng(seed);
  auto draw = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  PeBench pe;
  int64_t held = 0;      // the finished tile result_o must show
  int64_t pending = 0;   // becomes `held` one edge after a last beat is registered
  bool last_registered = false;
  for (int tile = 0; tile < 2000; ++tile) {
    const int64_t K = draw(1, 40);
    int64_t sum = 0;
    for (int64_t k = 0; k < K;) {
      Beat x;
      x.valid = draw(0, 3) != 0;
      x.first = x.valid ? k == 0 : draw(0, 1);  // idle beats carry garbage tags and data
      x.last = x.valid ? k == K - 1 : draw(0, 1);
      x.a = static_cast<int32_t>(draw(-256, 255)), x.b = static_cast<int32_t>(draw(-256, 255));
      x.a_coarse = draw(0, 1), x.b_coarse = draw(0, 1);
      pe.step(x);
      if (last_registered) held = pending;
      ASSERT_EQ(pe.result(), held) << "tile " << tile << " beat " << k;
      last_registered = false;
      if (x.valid) {
        sum += decoded(x.a, x.a_coarse) * decoded(x.b, x.b_coarse);
        if (x.last) pending = sum, last_registered = true;
        ++k;
      }
    }
  }
  pe.step(Beat{});
  EXPECT_EQ(pe.result(), pending);
}
