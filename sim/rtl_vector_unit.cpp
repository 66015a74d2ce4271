#include "sim/rtl_vector_unit.h"

#include <verilated_fst_c.h>

#include <algorithm>
#include <deque>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/int_network.h"
#include "sim/port_bits.h"

namespace octet::sim {

namespace {

using model::VuOp;

bool all_zero(const golden::Tensor<int64_t>& t) {
  return std::all_of(t.data.begin(), t.data.end(), [](int64_t v) { return v == 0; });
}
// A shift on the 8-bit signed command field; beyond it the RTL's result is the same (every
// left shift of 63 or more is flagged, as golden throws).
int shift_field(int s) { return std::clamp(s, -128, 127); }

// Where the results of a job go: one int64 per output element (values of every width), the
// argmax of max pooling, and the overflow flags.
struct Results {
  std::vector<int64_t> values, argmax;
  std::vector<uint8_t> flags;
  void resize(int64_t n, bool with_argmax) {
    values.assign(static_cast<size_t>(n), 0);
    flags.assign(static_cast<size_t>(n), 0);
    argmax.assign(with_argmax ? static_cast<size_t>(n) : 0, 0);
  }
};

// The command fields' ranges (docs/architecture.md "Vector unit", Interface): a job beyond them
// is an error, not a silent truncation.
void check_range(const model::VuJob& job, int lanes) {
  const model::VuShape& s = job.shape;
  const auto refuse = [&](const std::string& why) {
    throw std::invalid_argument(std::string("vector_unit cosim: ") + model::vu_op_name(s.op) + ": " + why);
  };
  const int64_t max_count = (int64_t{1} << 32) - 1;
  switch (s.op) {
    case VuOp::kResidualAdd:
    case VuOp::kErrorAdd: {
      const int64_t n = s.op == VuOp::kResidualAdd ? job.a32.size() : job.a64.size();
      if ((n + lanes - 1) / lanes > max_count) refuse("more beats than the 32-bit count");
      break;
    }
    case VuOp::kBiasGrad:
      if (job.a64.shape.size() != 2 || job.a64.shape[0] > max_count) refuse("the error must be {N, C}, N < 2^32");
      break;
    case VuOp::kLoss:
      if (job.a32.shape.size() != 2 || job.a32.shape[1] > (int64_t{1} << 16) || job.a32.shape[0] > max_count)
        refuse("the logits must be {B, C}, 1 <= C <= 2^16");
      break;
    default: {  // pooling
      const bool global = s.pool.global;
      if (s.in.size() != 4 || s.in[2] >= (int64_t{1} << 16) || s.in[3] >= (int64_t{1} << 16) ||
          s.in[2] * s.in[3] > (int64_t{1} << 16))
        refuse("the input plane must be H x W < 2^16 each, H * W <= 2^16");
      if (!global && (s.pool.kernel > 255 || s.pool.stride > 255 || s.pool.pad > 255)) refuse("window fields above 255");
      break;
    }
  }
}

std::vector<RtlVectorUnit::Command> commands(const model::VuJob& job, int lanes, Results& r) {
  check_range(job, lanes);
  const model::VuShape& s = job.shape;
  std::vector<RtlVectorUnit::Command> cmds;
  const auto lane_element = [lanes](int64_t beat, int lane) { return beat * lanes + lane; };
  switch (s.op) {
    case VuOp::kResidualAdd:
    case VuOp::kErrorAdd: {
      const bool residual = s.op == VuOp::kResidualAdd;
      const int64_t n = residual ? job.a32.size() : job.a64.size();
      int ea = residual ? job.a32.exp : job.a64.exp, eb = residual ? job.b32.exp : job.b64.exp;
      int e = std::min(ea, eb);
      if (!residual && all_zero(job.a64)) ea = eb = e = job.b64.exp;  // error_add: an all-zero operand never constrains
      else if (!residual && all_zero(job.b64)) ea = eb = e = job.a64.exp;
      RtlVectorUnit::Command c;
      c.op = static_cast<uint32_t>(s.op);
      c.sa = shift_field(ea - e);
      c.sb = shift_field(eb - e);
      c.count = static_cast<uint32_t>((n + lanes - 1) / lanes);
      c.in_beats = c.out_beats = c.count;
      c.operands = [&job, n, residual, lane_element](int64_t beat, int lane, uint64_t& a, uint64_t& b) {
        const int64_t i = lane_element(beat, lane);
        a = i >= n ? 0 : static_cast<uint64_t>(residual ? int64_t{job.a32.data[i]} : job.a64.data[i]);
        b = i >= n ? 0 : static_cast<uint64_t>(residual ? int64_t{job.b32.data[i]} : job.b64.data[i]);
      };
      r.resize(n, false);
      c.result = [&r, n, lane_element](int64_t beat, int lane, uint64_t data, uint32_t, bool ovf) {
        const int64_t i = lane_element(beat, lane);
        if (i < n) r.values[i] = static_cast<int64_t>(data), r.flags[i] = ovf;
      };
      cmds.push_back(std::move(c));
      break;
    }
    case VuOp::kBiasGrad: {  // err {N, C}: Lanes classes per command, one beat per sample
      const int64_t N = job.a64.shape.at(0), C = job.a64.shape.at(1);
      r.resize(C, false);
      for (int64_t c0 = 0; c0 < C; c0 += lanes) {
        RtlVectorUnit::Command c;
        c.op = static_cast<uint32_t>(s.op);
        c.sa = shift_field(job.a64.exp - golden::kIntGradientExp);
        c.count = static_cast<uint32_t>(N);
        c.in_beats = N;
        c.out_beats = 1;
        c.operands = [&job, C, c0](int64_t beat, int lane, uint64_t& a, uint64_t& b) {
          a = c0 + lane < C ? static_cast<uint64_t>(job.a64.data[beat * C + c0 + lane]) : 0;
          b = 0;
        };
        c.result = [&r, C, c0](int64_t, int lane, uint64_t data, uint32_t, bool ovf) {
          if (c0 + lane < C) r.values[c0 + lane] = static_cast<int64_t>(data), r.flags[c0 + lane] = ovf;
        };
        cmds.push_back(std::move(c));
      }
      break;
    }
    case VuOp::kMaxPool:
    case VuOp::kAvgPool:
    case VuOp::kMaxPoolBwd:
    case VuOp::kAvgPoolBwd: {  // Lanes planes (n, c) per command
      const golden::Shape os = golden::pool_output_shape(s.in, s.pool);
      const int64_t planes = s.in[0] * s.in[1], in_plane = s.in[2] * s.in[3], out_plane = os[2] * os[3];
      const bool fwd = s.op == VuOp::kMaxPool || s.op == VuOp::kAvgPool;
      const int64_t results = fwd ? out_plane : in_plane;
      r.resize(planes * results, s.op == VuOp::kMaxPool);
      for (int64_t p0 = 0; p0 < planes; p0 += lanes) {
        RtlVectorUnit::Command c;
        c.op = static_cast<uint32_t>(s.op);
        c.h = static_cast<uint32_t>(s.in[2]);
        c.w = static_cast<uint32_t>(s.in[3]);
        c.kernel = static_cast<uint32_t>(s.pool.kernel);
        c.stride = static_cast<uint32_t>(s.pool.stride);
        c.pad = static_cast<uint32_t>(s.pool.pad);
        c.global = s.pool.global;
        c.out_beats = results;
        c.plane = fwd ? in_plane : out_plane;
        if (fwd) {
          c.operands = [&job, planes, p0, in_plane](int64_t idx, int lane, uint64_t& a, uint64_t& b) {
            a = p0 + lane < planes ? job.act.data[(p0 + lane) * in_plane + idx] : 0;
            b = 0;
          };
        } else {
          const bool mx = s.op == VuOp::kMaxPoolBwd;
          c.operands = [&job, planes, p0, in_plane, out_plane, mx](int64_t idx, int lane, uint64_t& a, uint64_t& b) {
            const int64_t p = p0 + lane, o = p * out_plane + idx;
            a = p < planes ? static_cast<uint64_t>(job.a64.data[o]) : 0;
            b = p < planes && mx ? static_cast<uint64_t>(job.argmax[o] - p * in_plane) : 0;
          };
        }
        c.result = [&r, planes, p0, results, in_plane](int64_t beat, int lane, uint64_t data, uint32_t aux, bool ovf) {
          const int64_t p = p0 + lane, i = p * results + beat;
          if (p >= planes) return;
          r.values[i] = static_cast<int64_t>(data);
          r.flags[i] = ovf;
          if (!r.argmax.empty()) r.argmax[i] = p * in_plane + aux;
        };
        cmds.push_back(std::move(c));
      }
      break;
    }
    case VuOp::kLoss: {  // logits {B, C}: Lanes samples per command, one beat per class
      const int64_t B = job.a32.shape.at(0), C = job.a32.shape.at(1);
      r.resize(B * C, false);
      for (int64_t r0 = 0; r0 < B; r0 += lanes) {
        RtlVectorUnit::Command c;
        c.op = static_cast<uint32_t>(s.op);
        c.sa = shift_field(job.a32.exp - 7);
        c.count = static_cast<uint32_t>(C);
        c.batch = static_cast<uint32_t>(B);
        c.out_beats = C;
        c.plane = C;
        c.operands = [&job, B, C, r0](int64_t idx, int lane, uint64_t& a, uint64_t& b) {
          const int64_t row = r0 + lane;
          a = row < B ? static_cast<uint64_t>(int64_t{job.a32.data[row * C + idx]}) : 0;
          b = row < B ? job.labels.at(static_cast<size_t>(row)) : 0;
        };
        c.result = [&r, B, C, r0](int64_t beat, int lane, uint64_t data, uint32_t, bool ovf) {
          const int64_t row = r0 + lane;
          if (row < B) r.values[row * C + beat] = static_cast<int64_t>(data), r.flags[row * C + beat] = ovf;
        };
        cmds.push_back(std::move(c));
      }
      break;
    }
  }
  return cmds;
}

}  // namespace

RtlVectorUnit::RtlVectorUnit(const sc_core::sc_module_name& name, int lanes, const std::function<void(RtlVectorUnit&)>& bind)
    : RtlUnit(name), lanes_(lanes) {
  bind(*this);
}

RtlVectorUnit::~RtlVectorUnit() = default;

model::VuOutcome RtlVectorUnit::run(const model::VuJob& job) {
  // The golden result first: a job golden refuses (shapes) is refused here too; one where
  // golden overflows must be flagged by the RTL.
  model::VuOutcome want;
  std::exception_ptr overflow;
  try {
    want = golden_.run(job);
  } catch (const std::overflow_error&) {
    overflow = std::current_exception();
  }
  Results res;
  const std::vector<Command> cmds = commands(job, lanes_, res);
  const int lanes = lanes_;
  int64_t cycles = -1;
  auto drive = [&] {
    Pins& p = pins_;
    reset_if_needed();
    const uint64_t begin = cycle();
    p.rd_req_ready.write(true);
    p.out_ready.write(true);
    const int words = 2 * lanes;
    std::vector<uint32_t> a(static_cast<size_t>(words)), b(static_cast<size_t>(words)), out(static_cast<size_t>(words)),
        aux(static_cast<size_t>((16 * lanes + 31) / 32)), ovf(static_cast<size_t>((lanes + 31) / 32));
    // A watchdog, not a budget: a gather command's reads (a global pool's whole plane per
    // output) make any per-beat budget too small for some geometry; no handshake for this many
    // cycles means the unit hangs (its longest quiet stretch is a few cycles between commands).
    constexpr uint64_t kQuietLimit = 1000;
    note_progress();
    size_t next = 0;     // next command to offer
    int running = -1;    // the last accepted command
    int64_t in_beat = 0, out_beat = 0;
    std::deque<std::pair<uint32_t, uint64_t>> reads;  // gather: index, first cycle its data may be offered
    uint64_t start = 0;
    bool finished = false;
    while (!finished) {
      check_progress(kQuietLimit, "vector_unit");
      const bool offer = next < cmds.size() && (running < 0 || static_cast<size_t>(running) + 1 == next);
      p.cmd_valid.write(offer);
      if (offer) {
        const Command& c = cmds[next];
        p.cmd_op.write(c.op);
        p.cmd_shift_a.write(static_cast<uint32_t>(c.sa) & 0xFFu);
        p.cmd_shift_b.write(static_cast<uint32_t>(c.sb) & 0xFFu);
        p.cmd_count.write(c.count);
        p.cmd_height.write(c.h);
        p.cmd_width.write(c.w);
        p.cmd_kernel.write(c.kernel);
        p.cmd_stride.write(c.stride);
        p.cmd_pad.write(c.pad);
        p.cmd_global.write(c.global);
        p.cmd_batch.write(c.batch);
      }
      // Input: the running command's beats, or the data of its accepted reads in order.
      bool presenting = false;
      if (running >= 0) {
        const Command& c = cmds[static_cast<size_t>(running)];
        int64_t at = -1;
        if (c.in_beats > 0 && in_beat < c.in_beats) at = in_beat;
        if (c.in_beats == 0 && !reads.empty() && reads.front().second <= cycle()) at = reads.front().first;
        if (at >= 0) {
          presenting = true;
          for (int l = 0; l < lanes; ++l) {
            uint64_t va = 0, vb = 0;
            c.operands(at, l, va, vb);
            a[2 * l] = static_cast<uint32_t>(va), a[2 * l + 1] = static_cast<uint32_t>(va >> 32);
            b[2 * l] = static_cast<uint32_t>(vb), b[2 * l + 1] = static_cast<uint32_t>(vb >> 32);
          }
          p.in_a->write(a);
          p.in_b->write(b);
        }
      }
      p.in_valid.write(presenting);
      clock_low();
      if (offer && p.cmd_ready.read()) {
        if (next == 0) {
          start = cycle();
          time_window_begin();  // the job's cycles: first command accepted .. the next one accepted
        }
        running = static_cast<int>(next++);
        in_beat = out_beat = 0;
        reads.clear();
      } else if (running >= 0) {
        const Command& c = cmds[static_cast<size_t>(running)];
        if (p.rd_req_valid.read()) {
          if (p.rd_req_idx.read() >= c.plane)
            throw std::runtime_error("vector_unit cosim: read request " + std::to_string(p.rd_req_idx.read()) +
                                     " outside the plane of " + std::to_string(c.plane) + " values");
          reads.emplace_back(p.rd_req_idx.read(), cycle() + 1);
        }
        if (presenting && p.in_ready.read()) {
          if (c.in_beats > 0) ++in_beat;
          else reads.pop_front();
        }
        if (p.out_valid.read()) {
          if (out_beat >= c.out_beats) throw std::runtime_error("vector_unit cosim: output beat beyond the command");
          p.out_data->read(out);
          p.out_aux->read(aux);
          p.out_ovf->read(ovf);
          for (int l = 0; l < lanes; ++l) {
            const uint64_t data = out[2 * l] | static_cast<uint64_t>(out[2 * l + 1]) << 32;
            const uint32_t x = (aux[static_cast<size_t>(l / 2)] >> (16 * (l % 2))) & 0xFFFFu;
            c.result(out_beat, l, data, x, ((ovf[static_cast<size_t>(l / 32)] >> (l % 32)) & 1u) != 0);
          }
          if (++out_beat == c.out_beats && next == cmds.size()) {
            cycles = static_cast<int64_t>(cycle() - start + 1);
            finished = true;
          }
        }
      }
      if ((offer && p.cmd_ready.read()) || p.rd_req_valid.read() || (presenting && p.in_ready.read()) || p.out_valid.read())
        note_progress();
      clock_high();
    }
    // The last transfer's edge was the job's last cycle; the unit takes the next command in the one after.
    if (time_window_end() != cycles) throw std::logic_error("vector_unit cosim: timed window");
    p.cmd_valid.write(false);
    p.in_valid.write(false);
    stats_.rtl_cycles += static_cast<int64_t>(cycle() - begin);
  };
  execute(drive);

  ++stats_.jobs;
  const model::VuShape& s = job.shape;
  const std::string what = std::string(model::vu_op_name(s.op)) + " of " + std::to_string(res.values.size()) +
                           " results, " + std::to_string(cmds.size()) + " commands (job " + std::to_string(stats_.jobs) + ")";
  const std::string tag = "vector_unit_job" + std::to_string(stats_.jobs);
  const auto flagged = std::find(res.flags.begin(), res.flags.end(), 1);
  if (overflow) {
    if (flagged == res.flags.end())
      mismatch(drive, mismatch_prefix(where, "vector_unit", what) + "golden overflows, the RTL flags no element", tag);
    std::rethrow_exception(overflow);  // the run stops where the golden model stops
  }
  if (flagged != res.flags.end())
    mismatch(drive, mismatch_prefix(where, "vector_unit", what) + "the RTL flags an overflow at element " +
                        std::to_string(flagged - res.flags.begin()) + ", golden does not",
             tag);
  model::VuOutcome got;
  got.cycles = cycles;
  const auto check = [&](const char* name, const golden::Shape& shape, const auto& want_data) {
    const int64_t bad = first_difference(want_data, res.values);
    if (bad >= 0) mismatch(drive, mismatch_line(where, "vector_unit", what, name, shape, bad, want_data, res.values), tag);
  };
  switch (s.op) {
    case VuOp::kResidualAdd:
    case VuOp::kBiasGrad:
      check("out", want.out32.shape, want.out32.data);
      got.out32 = golden::Tensor<int32_t>(want.out32.shape, want.out32.exp);
      std::copy(res.values.begin(), res.values.end(), got.out32.data.begin());
      break;
    case VuOp::kMaxPool:
    case VuOp::kAvgPool:
      check("act", want.act.shape, want.act.data);
      if (s.op == VuOp::kMaxPool) {
        const int64_t bad = first_difference(want.argmax, res.argmax);
        if (bad >= 0)
          mismatch(drive, mismatch_line(where, "vector_unit", what, "argmax", want.act.shape, bad, want.argmax, res.argmax), tag);
        got.argmax = res.argmax;
      }
      got.act = golden::Tensor<uint8_t>(want.act.shape, want.act.exp);
      std::copy(res.values.begin(), res.values.end(), got.act.data.begin());
      break;
    case VuOp::kErrorAdd:
    case VuOp::kMaxPoolBwd:
    case VuOp::kAvgPoolBwd:
    case VuOp::kLoss:
      check(s.op == VuOp::kLoss ? "error" : "out", want.out64.shape, want.out64.data);
      got.out64 = golden::Tensor<int64_t>(want.out64.shape, res.values, want.out64.exp);
      break;
  }
  stats_.values += static_cast<int64_t>(res.values.size());
  return got;
}

}  // namespace octet::sim
