// Binding a verilated configuration into its wrapper: one function template per unit, given
// the Verilator --sc model class of that configuration (an array size, a lane count). Only the
// build's generated list of configurations (sim/CMakeLists.txt, rtl_builds.cpp) includes this,
// next to the models' headers.
#pragma once

#include <verilated_fst_c.h>

#include <memory>

#include "sim/rtl_bn_unit.h"
#include "sim/rtl_optimizer_unit.h"
#include "sim/rtl_shift_quantizer.h"
#include "sim/rtl_systolic_array.h"
#include "sim/rtl_vector_unit.h"

namespace octet::sim {

// Creates the model as the wrapper's child "rtl" (the wrapper's constructor calls this) and
// binds clock and reset; `bind_ports` binds the rest.
template <typename V, typename Unit, typename BindPorts>
void adopt_verilated(Unit& unit, BindPorts bind_ports) {
  auto m = std::make_shared<V>("rtl");
  m->clk_i(unit.clock_signal());
  m->rst_ni(unit.reset_signal());
  bind_ports(*m, unit.pins());
  V* raw = m.get();
  unit.adopt_model(std::move(m), [raw](VerilatedFstC* fst) { raw->trace(fst, 99); });
}

template <typename V>
RtlSystolicArray* new_rtl_systolic_array(const char* name, int rows, int cols) {
  return new RtlSystolicArray(name, rows, cols, [](RtlSystolicArray& u) {
    adopt_verilated<V>(u, [](V& m, RtlSystolicArray::Pins& p) {
      m.in_valid_i(p.in_valid);
      m.in_ready_o(p.in_ready);
      m.in_first_i(p.in_first);
      m.in_last_i(p.in_last);
      m.in_job_first_i(p.in_job_first);
      p.in_a_value = word_signal_for(m.in_a_value_i, "in_a_value");
      p.in_a_coarse = word_signal_for(m.in_a_coarse_i, "in_a_coarse");
      p.in_b_value = word_signal_for(m.in_b_value_i, "in_b_value");
      p.in_b_coarse = word_signal_for(m.in_b_coarse_i, "in_b_coarse");
      m.out_valid_o(p.out_valid);
      m.out_last_o(p.out_last);
      p.out_row = word_signal_for(m.out_row_o, "out_row");
      m.out_max_o(p.out_max);
    });
  });
}

template <typename V>
RtlShiftQuantizer* new_rtl_shift_quantizer(const char* name, int lanes) {
  return new RtlShiftQuantizer(name, lanes, [](RtlShiftQuantizer& u) {
    adopt_verilated<V>(u, [](V& m, RtlShiftQuantizer::Pins& p) {
      m.cfg_valid_i(p.cfg_valid);
      m.cfg_ready_o(p.cfg_ready);
      m.cfg_mode_i(p.cfg_mode);
      m.cfg_count_i(p.cfg_count);
      m.cfg_bits_i(p.cfg_bits);
      m.cfg_shift_i(p.cfg_shift);
      m.cfg_lo_i(p.cfg_lo);
      m.cfg_hi_i(p.cfg_hi);
      m.cfg_log2_scale_i(p.cfg_log2_scale);
      m.cfg_seed_i(p.cfg_seed);
      m.cfg_step_i(p.cfg_step);
      m.cfg_tensor_i(p.cfg_tensor);
      m.cfg_max_valid_i(p.cfg_max_valid);
      m.cfg_max_i(p.cfg_max);
      m.cfg_addend_en_i(p.cfg_addend_en);
      m.cfg_addend_shift_i(p.cfg_addend_shift);
      m.in_valid_i(p.in_valid);
      m.in_ready_o(p.in_ready);
      m.out_valid_o(p.out_valid);
      m.out_ready_i(p.out_ready);
      p.out_fine = word_signal_for(m.out_fine_o, "out_fine");
      p.out_keep = word_signal_for(m.out_keep_o, "out_keep");
      m.out_last_o(p.out_last);
      m.out_scale_log2_o(p.out_scale_log2);
      m.out_exp_offset_o(p.out_exp_offset);
      m.err_overflow_o(p.err_overflow);
      p.in_data = word_signal_for(m.in_data_i, "in_data");
      p.in_addend = word_signal_for(m.in_addend_i, "in_addend");
      p.out_data = word_signal_for(m.out_data_o, "out_data");
      p.out_code = word_signal_for(m.out_code_o, "out_code");
      p.out_rand = word_signal_for(m.out_rand_o, "out_rand");
    });
  });
}

template <typename V>
RtlOptimizerUnit* new_rtl_optimizer_unit(const char* name, int lanes) {
  return new RtlOptimizerUnit(name, lanes, [](RtlOptimizerUnit& u) {
    adopt_verilated<V>(u, [](V& m, RtlOptimizerUnit::Pins& p) {
      m.lr_q_i(p.lr_q);
      m.kind_i(p.kind);
      m.in_valid_i(p.in_valid);
      m.in_ready_o(p.in_ready);
      p.grad = word_signal_for(m.grad_i, "grad");
      p.mom = word_signal_for(m.mom_i, "mom");
      p.master = word_signal_for(m.master_i, "master");
      m.out_valid_o(p.out_valid);
      m.out_ready_i(p.out_ready);
      p.master_out = word_signal_for(m.master_o, "master_out");
      p.mom_out = word_signal_for(m.mom_o, "mom_out");
      p.work_out = word_signal_for(m.work_o, "work_out");
    });
  });
}

template <typename V>
RtlBnUnit* new_rtl_bn_unit(const char* name, int lanes) {
  return new RtlBnUnit(name, lanes, [](RtlBnUnit& u) {
    adopt_verilated<V>(u, [](V& m, RtlBnUnit::Pins& p) {
      m.cmd_valid_i(p.cmd_valid);
      m.cmd_ready_o(p.cmd_ready);
      m.cmd_mode_i(p.cmd_mode);
      m.cmd_in_shift_i(p.cmd_in_shift);
      m.cmd_decay_i(p.cmd_decay);
      m.cmd_e1_i(p.cmd_e1);
      m.in_valid_i(p.in_valid);
      m.in_ready_o(p.in_ready);
      m.stat_valid_o(p.stat_valid);
      m.stat_ready_i(p.stat_ready);
      m.stat_recip_shift_o(p.stat_recip_shift);
      m.out_valid_o(p.out_valid);
      m.out_ready_i(p.out_ready);
      m.cmd_gamma_i(p.cmd_gamma);
      m.cmd_beta_i(p.cmd_beta);
      m.cmd_count_i(p.cmd_count);
      m.stat_recip_o(p.stat_recip);
      m.stat_g_gamma_o(p.stat_g_gamma);
      m.stat_g_beta_o(p.stat_g_beta);
      m.cmd_mean_acc_i(p.cmd_mean_acc);
      m.cmd_sigma_acc_i(p.cmd_sigma_acc);
      m.cmd_sigma_i(p.cmd_sigma);
      p.in_xhat = word_signal_for(m.in_xhat_i, "in_xhat");
      m.stat_mean_o(p.stat_mean);
      m.stat_sigma_o(p.stat_sigma);
      m.stat_mean_acc_o(p.stat_mean_acc);
      m.stat_sigma_acc_o(p.stat_sigma_acc);
      p.out_xhat = word_signal_for(m.out_xhat_o, "out_xhat");
      p.in_data = word_signal_for(m.in_data_i, "in_data");
      p.out_y = word_signal_for(m.out_y_o, "out_y");
      p.out_dx = word_signal_for(m.out_dx_o, "out_dx");
    });
  });
}

template <typename V>
RtlVectorUnit* new_rtl_vector_unit(const char* name, int lanes) {
  return new RtlVectorUnit(name, lanes, [](RtlVectorUnit& u) {
    adopt_verilated<V>(u, [](V& m, RtlVectorUnit::Pins& p) {
      m.cmd_valid_i(p.cmd_valid);
      m.cmd_ready_o(p.cmd_ready);
      m.cmd_op_i(p.cmd_op);
      m.cmd_shift_a_i(p.cmd_shift_a);
      m.cmd_shift_b_i(p.cmd_shift_b);
      m.cmd_count_i(p.cmd_count);
      m.cmd_height_i(p.cmd_height);
      m.cmd_width_i(p.cmd_width);
      m.cmd_kernel_i(p.cmd_kernel);
      m.cmd_stride_i(p.cmd_stride);
      m.cmd_pad_i(p.cmd_pad);
      m.cmd_global_i(p.cmd_global);
      m.cmd_batch_i(p.cmd_batch);
      m.busy_o(p.busy);
      m.rd_req_valid_o(p.rd_req_valid);
      m.rd_req_ready_i(p.rd_req_ready);
      m.rd_req_idx_o(p.rd_req_idx);
      m.in_valid_i(p.in_valid);
      m.in_ready_o(p.in_ready);
      p.in_a = word_signal_for(m.in_a_i, "in_a");
      p.in_b = word_signal_for(m.in_b_i, "in_b");
      m.out_valid_o(p.out_valid);
      m.out_ready_i(p.out_ready);
      p.out_data = word_signal_for(m.out_data_o, "out_data");
      p.out_aux = word_signal_for(m.out_aux_o, "out_aux");
      p.out_ovf = word_signal_for(m.out_ovf_o, "out_ovf");
    });
  });
}

}  // namespace octet::sim
