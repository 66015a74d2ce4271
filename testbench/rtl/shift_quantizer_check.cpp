#include "testbench/rtl/shift_quantizer_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "golden/quantizers.h"
#include "testbench/rtl/shift_quantizer_expect.h"

namespace octet::tb {

uint64_t test_seed() {
  const char* env = std::getenv("OCTET_SEED");
  const uint64_t seed = env ? std::strtoull(env, nullptr, 0) : 20200515;
  std::printf("seed=%llu (set OCTET_SEED to change)\n", static_cast<unsigned long long>(seed));
  return seed;
}

namespace {
std::string describe(const SqCase& c) {
  std::ostringstream s;
  s << "case '" << c.name << "' (run seed " << c.seed << ")" << " mode=" << mode_name(c.cfg.mode) << " n=" << c.x.size()
    << " k=" << c.cfg.bits << " shift=" << c.cfg.shift << " lo=" << c.cfg.lo << " hi=" << c.cfg.hi
    << " s=" << c.cfg.log2_scale << " key=(" << c.cfg.seed << "," << c.cfg.step << "," << c.cfg.tensor << ")"
    << " fused=" << c.cfg.fused << " addend=" << c.cfg.addend << " addend_shift=" << c.cfg.addend_shift << " lanes=" << kLanes << " in_w=" << kInW << " gap=" << c.timing.in_gap << " stall=" << c.timing.out_stall;
  return s.str();
}

void dump_waveform(const SqCase& c) {
  const std::string safe = [&] {
    std::string s = c.name;
    for (char& ch : s)
      if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return s;
  }();
  const std::string path = std::string(OCTET_SQ_DUMP_DIR) + "/sq_fail_" + std::to_string(kLanes) + "l_" + safe +
                           "_seed" + std::to_string(c.seed) + ".fst";
  {
    SqHarness traced(path);
    traced.run(c.cfg, c.x, c.timing, c.w);
  }
  ADD_FAILURE() << "waveform of the failing case: " << path;
}

template <typename T>
int report(const SqCase& c, const char* what, const std::vector<T>& want, const std::vector<T>& got,
           const SqRun& run) {
  int bad = 0;
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    if (want[i] == got[i]) continue;
    if (++bad <= 5)
      ADD_FAILURE() << describe(c) << ": " << what << " of element " << i << " (beat " << i / kLanes << ", lane "
                    << i % kLanes << ", x=" << c.x[i]
                    << (c.cfg.addend ? ", w=" + std::to_string(c.w.at(i)) : std::string()) << ", r=" << run.scale_log2 << "): golden "
                    << static_cast<int64_t>(want[i]) << " (0x" << std::hex << static_cast<uint64_t>(want[i])
                    << std::dec << "), RTL " << static_cast<int64_t>(got[i]) << " (0x" << std::hex
                    << static_cast<uint64_t>(got[i]) << std::dec << ")";
  }
  if (bad > 5) ADD_FAILURE() << describe(c) << ": " << bad << " " << what << " mismatches in all";
  return bad;
}
}  // namespace

SqCheck run_and_check(SqHarness& h, const SqCase& c0) {
  SqCheck res;
  const SqExpected e = sq_expected(c0.cfg, c0.x, c0.w);
  SqCase c = c0;
  // Fused with an addend: the given maximum is the sum's (what the unit quantizes).
  if (c.cfg.fused && c.cfg.addend && c.cfg.fused_max < 0 && !e.overflow)
    c.cfg.fused_max = static_cast<int64_t>(golden::tensor_max_magnitude(e.in.data(), static_cast<int64_t>(e.in.size())));
  res.run = h.run(c.cfg, c.x, c.timing, c.w);
  const SqRun& r = res.run;
  int bad = 0;
  if (!r.protocol_error.empty()) {
    ADD_FAILURE() << describe(c) << ": protocol: " << r.protocol_error;
    ++bad;
  }
  if (r.overflow != e.overflow) {
    ADD_FAILURE() << describe(c) << ": err_overflow_o " << r.overflow << ", expected " << e.overflow;
    ++bad;
  }
  if (e.overflow) {  // no payload is defined; the flag is the result
    res.ok = bad == 0;
    if (!res.ok) dump_waveform(c);
    return res;
  }
  if (r.data.size() != e.data.size()) {
    ADD_FAILURE() << describe(c) << ": " << r.data.size() << " values out, " << e.data.size() << " expected";
    ++bad;
  }
  if (r.scale_log2 != e.scale_log2 || r.exp_offset != e.exp_offset) {
    ADD_FAILURE() << describe(c) << ": r=" << r.scale_log2 << " exp_offset=" << r.exp_offset << ", golden r="
                  << e.scale_log2 << " exp_offset=" << e.exp_offset;
    ++bad;
  }
  bad += report(c, "payload", e.data, r.data, r);
  bad += report(c, "E2 code", e.code, r.code, r);
  bad += report(c, "E2 flag", e.fine, r.fine, r);
  if (!e.rand.empty()) bad += report(c, "random bits", e.rand, r.rand, r);
  res.compared = static_cast<int64_t>(std::min(r.data.size(), e.data.size()));
  res.ok = bad == 0;
  if (!res.ok) dump_waveform(c);
  return res;
}

}  // namespace octet::tb
