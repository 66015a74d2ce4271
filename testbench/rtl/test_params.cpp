// The SystemVerilog package and the C++ header generated from params.def agree: every shared
// parameter, read from a verilated module (params_probe.sv) through the names the RTL uses, equals
// the C++ constant the golden model, the SystemC model and the programs use.
#include <gtest/gtest.h>

#include <memory>

#include "Vparams_probe.h"
#include "golden/gemm.h"
#include "model/gemm_plan.h"
#include "octet_params.h"
#include "verilated.h"

namespace {

class ParamsProbe : public ::testing::Test {
 protected:
  ParamsProbe() : ctx_(std::make_unique<VerilatedContext>()), probe_(std::make_unique<Vparams_probe>(ctx_.get())) {
    probe_->eval();
  }
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vparams_probe> probe_;
};

TEST_F(ParamsProbe, DatapathWidthsAgree) {
  EXPECT_EQ(probe_->acc_w_o, static_cast<uint32_t>(octet::params::kAccW));
  EXPECT_EQ(probe_->op_w_o, static_cast<uint32_t>(octet::params::kOpW));
  // The C++ names derived from them.
  EXPECT_EQ(probe_->acc_w_o, static_cast<uint32_t>(octet::golden::kAccBits));
  EXPECT_EQ(probe_->acc_w_o, static_cast<uint32_t>(8 * octet::model::kAccumBytes));
}

TEST_F(ParamsProbe, TrainingDefaultsAgree) {
  EXPECT_EQ(probe_->default_lr_q_o, static_cast<uint32_t>(octet::params::kDefaultLrQ));
  EXPECT_EQ(probe_->default_gscale_log2_o, static_cast<uint32_t>(octet::params::kDefaultGScaleLog2));
  EXPECT_EQ(probe_->default_weight_decay_log2_o, static_cast<uint32_t>(octet::params::kDefaultWeightDecayLog2));
}

}  // namespace
