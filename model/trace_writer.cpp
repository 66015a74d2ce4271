#include "model/trace_writer.h"

#include <fmt/format.h>

#include "golden/write_atomically.h"

namespace octet::model {

namespace {

nlohmann::json metadata(const char* name, int pid, int tid, const nlohmann::json& args) {
  return {{"name", name}, {"ph", "M"}, {"ts", 0}, {"pid", pid}, {"tid", tid}, {"args", args}};
}

// "conv1 forward", and the args every event of a record carries.
std::string record_name(const StepReport& r, int rec) {
  if (rec < 0 || rec >= static_cast<int>(r.records.size())) return "?";
  const PassRecord& p = r.records[static_cast<size_t>(rec)];
  return p.layer + " " + pass_name(p.pass);
}
nlohmann::json record_args(const StepReport& r, int rec) {
  if (rec < 0 || rec >= static_cast<int>(r.records.size())) return nlohmann::json::object();
  const PassRecord& p = r.records[static_cast<size_t>(rec)];
  return {{"layer", p.layer}, {"kind", p.kind}, {"pass", pass_name(p.pass)}};
}

nlohmann::json complete(const std::string& name, int pid, int tid, int64_t ts, int64_t dur, nlohmann::json args) {
  return {{"name", name}, {"cat", tid == kTraceControllerTid ? "stage" : "op"}, {"ph", "X"}, {"ts", ts},
          {"dur", dur}, {"pid", pid}, {"tid", tid}, {"args", std::move(args)}};
}

}  // namespace

nlohmann::json trace_json(const StepReport& report) {
  nlohmann::json events = nlohmann::json::array();
  const std::string axis = "time axis: accelerator cycles (shown as µs)";
  events.push_back(metadata("process_name", kTraceUnitsPid, 0, {{"name", fmt::format("octet accelerator: {} batch {} ({})", report.workload, report.batch, axis)}}));
  events.push_back(metadata("process_sort_index", kTraceUnitsPid, 0, {{"sort_index", kTraceUnitsPid}}));
  events.push_back(metadata("process_name", kTraceMemoryPid, 0, {{"name", fmt::format("memory ({})", axis)}}));
  events.push_back(metadata("process_sort_index", kTraceMemoryPid, 0, {{"sort_index", kTraceMemoryPid}}));
  events.push_back(metadata("thread_name", kTraceUnitsPid, kTraceControllerTid, {{"name", "controller"}}));
  events.push_back(metadata("thread_sort_index", kTraceUnitsPid, kTraceControllerTid, {{"sort_index", 0}}));
  for (Unit u : {Unit::kSystolicArray, Unit::kShiftQuantizer, Unit::kBnUnit, Unit::kOptimizerUnit, Unit::kVectorUnit}) {
    const int tid = static_cast<int>(u) + 1;
    events.push_back(metadata("thread_name", kTraceUnitsPid, tid, {{"name", unit_name(u)}}));
    events.push_back(metadata("thread_sort_index", kTraceUnitsPid, tid, {{"sort_index", tid}}));
  }
  // The DRAM channel: one track per unit's DMA engine (their transfers share the channel's
  // bursts, so transfers of different units overlap in time; one unit's never do).
  const auto dram_tid = [](Unit source) { return static_cast<int>(Unit::kDram) + 1 + 10 * (static_cast<int>(source) + 1); };
  for (Unit u : {Unit::kSystolicArray, Unit::kShiftQuantizer, Unit::kBnUnit, Unit::kOptimizerUnit, Unit::kVectorUnit}) {
    events.push_back(metadata("thread_name", kTraceMemoryPid, dram_tid(u), {{"name", fmt::format("dram ({})", unit_name(u))}}));
    events.push_back(metadata("thread_sort_index", kTraceMemoryPid, dram_tid(u), {{"sort_index", dram_tid(u)}}));
  }

  for (const StageSpan& s : report.timeline.stages)
    events.push_back(complete(record_name(report, s.record), kTraceUnitsPid, kTraceControllerTid, s.start, s.end - s.start,
                              record_args(report, s.record)));
  for (const OpSpan& o : report.timeline.ops) {
    const bool dram = o.unit == Unit::kDram;
    const int pid = dram ? kTraceMemoryPid : kTraceUnitsPid, tid = dram ? dram_tid(o.source) : static_cast<int>(o.unit) + 1;
    nlohmann::json args = record_args(report, o.record);
    args["cycles"] = o.busy;
    if (o.read_bytes > 0) args["dram_read_bytes"] = o.read_bytes;
    if (o.write_bytes > 0) args["dram_write_bytes"] = o.write_bytes;
    std::string name = dram ? (o.read_bytes > 0 && o.write_bytes > 0 ? "read+write" : o.write_bytes > 0 ? "write" : "read")
                            : record_name(report, o.record);
    if (o.tiles > 0) {
      args["tile"] = fmt::format("m [{}, {}) n [{}, {}) d [{}, {})", o.m0, o.m0 + o.m_len, o.n0, o.n0 + o.n_len, o.d0,
                                 o.d0 + o.d_len);
      args["tiles"] = o.tiles;
    }
    if (o.wait_before > 0) {
      nlohmann::json s = record_args(report, o.record);
      s["cycles"] = o.wait_before;
      s["stall_reason"] = o.waited_for_release ? "accumulator half not yet written back" : "operands still loading from DRAM";
      if (o.contention > 0) s["contention_cycles"] = o.contention;  // of them, lost to other units' bursts
      events.push_back(complete("stall", pid, tid, o.start - o.wait_before, o.wait_before, std::move(s)));
    }
    if (dram && o.contention > 0) args["contention_cycles"] = o.contention;
    // A transfer that shared the channel spans its whole time on it (its own bursts and the
    // other units' in between).
    events.push_back(complete(name, pid, tid, o.start, dram ? o.busy + o.contention : o.busy, std::move(args)));
    if (o.wait_after > 0) {
      nlohmann::json s = record_args(report, o.record);
      s["cycles"] = o.wait_after;
      s["stall_reason"] = o.contention > 0 ? "waiting for its DRAM transfer (bandwidth / latency; other units' bursts on the shared channel)"
                                           : "waiting for its DRAM transfer (bandwidth / latency)";
      if (o.contention > 0) s["contention_cycles"] = o.contention;
      events.push_back(complete("stall", pid, tid, o.start + o.busy, o.wait_after, std::move(s)));
    }
  }
  return {{"traceEvents", std::move(events)},
          {"displayTimeUnit", "ns"},
          {"otherData",
           {{"format", "octet-sim-trace"},
            {"version", 1},
            {"time_unit", "cycle"},
            {"time_unit_note", "ts and dur are accelerator cycles; trace viewers label them microseconds"},
            {"clock_mhz", report.config.clock_mhz},
            {"workload", report.workload},
            {"batch", report.batch},
            {"schedule", report.schedule},
            {"total_cycles", report.total_cycles()}}}};
}

void write_trace_json(const StepReport& report, const std::string& path) {
  octet::write_atomically(path, trace_json(report).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                          "the trace");
}

}  // namespace octet::model
