#include "model/simulate.h"

#include <chrono>
#include <stdexcept>

#include "golden/counter_rng.h"
#include "golden/int_network.h"
#include "model/accelerator.h"
#include "model/compulsory_traffic.h"
#include "model/golden_backends.h"

namespace octet::model {

namespace {

constexpr uint64_t kImageStream = 0x494d47;  // "IMG"
constexpr uint64_t kLabelStream = 0x4c4142;  // "LAB"

StepReport start_report(const std::string& name, const std::string& origin, const SimOptions& o) {
  StepReport r;
  r.workload = name;
  r.workload_origin = origin;
  r.batch = o.batch;
  r.config = o.config;
  r.energy_origin = o.energy.origin;
  r.functional = o.functional;
  r.cosim = o.cosim;
  r.weight_decay_log2 = o.weight_decay_lambda < 0 ? -1 : o.weight_decay_lambda;
  return r;
}

void finish_report(StepReport& r, Ledger& ledger, const RunChecks& checks, const SimOptions& o,
                   std::chrono::steady_clock::time_point t0) {
  ledger.finish(o.energy);
  r.records = std::move(ledger.records());
  r.timeline = std::move(ledger.timeline_data());
  r.cycle_checks = checks.checked;
  r.cycle_mismatches = checks.mismatches;
  r.first_cycle_mismatch = checks.first_mismatch;
  r.cycle_differences = checks.differences;
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void check_options(const SimOptions& o) {
  if (o.batch < 1) throw std::invalid_argument("simulate: batch must be >= 1");
  if (o.cosim && !(o.backends.array && o.backends.shift_quantizer && o.backends.optimizer))
    throw std::invalid_argument("simulate: --cosim needs the RTL unit backends (sim/) bound in SimOptions::backends");
}

template <typename T, typename A>
bool first_difference(const std::vector<T, A>& model, const std::vector<T, A>& gold, const std::string& what, std::string& out) {
  for (size_t i = 0; i < model.size() && i < gold.size(); ++i)
    if (model[i] != gold[i]) {
      out = what + "[" + std::to_string(i) + "]: model " + std::to_string(model[i]) + ", golden " + std::to_string(gold[i]);
      return true;
    }
  if (model.size() != gold.size()) {
    out = what + ": model has " + std::to_string(model.size()) + " elements, golden " + std::to_string(gold.size());
    return true;
  }
  return false;
}

std::string compare_state(const FunctionalState& fs, const golden::IntNetwork& gold) {
  std::string m;
  for (size_t p = 0; p < fs.states.size(); ++p) {
    const std::string& name = fs.params[p].name;
    if (first_difference(fs.states[p].master.data, gold.states()[p].master.data, name + ".master", m) ||
        first_difference(fs.states[p].momentum.data, gold.states()[p].momentum.data, name + ".momentum", m))
      return m;
  }
  const auto& nodes = gold.desc().nodes;
  for (size_t i = 0; i < fs.running.size(); ++i)
    if (first_difference(fs.running[i].mean_acc, gold.running()[i].mean_acc, nodes[i].name + ".running_mean", m) ||
        first_difference(fs.running[i].sigma_acc, gold.running()[i].sigma_acc, nodes[i].name + ".running_sigma", m))
      return m;
  return {};
}

}  // namespace

FunctionalBatch functional_batch(const golden::NetworkDesc& desc, int batch, uint64_t seed) {
  const golden::Shape& in = desc.input().out_shape;
  FunctionalBatch b;
  b.images = golden::Tensor<uint8_t>({batch, in[0], in[1], in[2]}, -8);
  const golden::StreamKey ik = golden::make_stream_key(seed, 0, kImageStream);
  for (size_t i = 0; i < b.images.data.size(); ++i) b.images.data[i] = static_cast<uint8_t>(golden::random_bits(ik, i) & 0xff);
  const golden::StreamKey lk = golden::make_stream_key(seed, 0, kLabelStream);
  for (int n = 0; n < batch; ++n)
    b.labels.push_back(static_cast<golden::Label>(golden::random_bits(lk, static_cast<uint64_t>(n)) % static_cast<uint64_t>(desc.num_classes())));
  return b;
}

StepReport simulate_network_step(const golden::NetworkDesc& desc, const SimOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  check_options(o);
  StepReport report = start_report(desc.name, desc.origin, o);
  Ledger ledger(o.config);
  ledger.record_timeline(o.record_timeline);
  report.compulsory = compulsory_traffic(desc, o.batch);
  StepJob job;
  job.network = &desc;
  job.config = o.config;
  job.batch = o.batch;
  job.progress = o.progress;
  job.schedule = o.schedule;
  report.schedule = schedule_name(o.schedule);

  // Functional mode: the model starts from the golden network's initial state and trains on
  // the same batch as a golden::IntNetwork, which then takes its own step for the comparison.
  golden::IntTrainOptions to;
  to.threads = o.threads;
  to.weight_decay_lambda = o.weight_decay_lambda;
  job.weight_decay_lambda = o.weight_decay_lambda;
  std::unique_ptr<golden::IntNetwork> gold;
  FunctionalState fs;
  FunctionalBatch batch;
  if (o.functional) {
    gold = std::make_unique<golden::IntNetwork>(desc, o.seed, to);
    if (o.edit_initial_state) {
      std::vector<golden::ParamState> states = gold->states();
      o.edit_initial_state(states);
      gold->set_states(std::move(states));
    }
    fs.params = gold->params();
    fs.states = gold->states();
    fs.running = gold->running();
    fs.weight8.resize(fs.params.size());
    fs.affine.resize(fs.params.size());
    fs.bias.resize(fs.params.size());
    for (size_t p = 0; p < fs.params.size(); ++p) {
      switch (fs.params[p].kind) {
        case golden::ParamDesc::kWeight: fs.weight8[p] = golden::derive_weight8(fs.states[p].master); break;
        case golden::ParamDesc::kGamma:
        case golden::ParamDesc::kBeta: fs.affine[p] = golden::derive_bn_affine(fs.states[p].master); break;
        case golden::ParamDesc::kBias: fs.bias[p] = golden::derive_bias(fs.states[p].master); break;
      }
    }
    fs.seed = o.seed;
    fs.step = gold->step();
    fs.bn_decay_shift = to.bn_decay_shift;
    batch = functional_batch(desc, o.batch, o.seed);
    fs.images = batch.images;
    fs.labels = batch.labels;
    fs.lr_q = o.lr_q;
    fs.gscale_log2 = o.gscale_log2;
    job.state = &fs;
  }
  const RunChecks checks = Accelerator::instance().run(std::move(job), ledger, with_golden_defaults(o.backends, o.threads));
  if (o.functional) {
    gold->train_step(batch.images, batch.labels, o.lr_q, o.gscale_log2);
    report.state_digest = golden::training_state_digest(fs.seed, fs.step, fs.states, fs.running);
    report.golden_state_digest = gold->state_digest();
    report.functional_mismatch = compare_state(fs, *gold);
    if (report.functional_mismatch.empty() && report.state_digest != report.golden_state_digest)
      report.functional_mismatch = "state digests differ";
  }
  finish_report(report, ledger, checks, o, t0);
  return report;
}

StepReport simulate_topology_step(const Topology& topology, const SimOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  check_options(o);
  if (o.functional) throw std::invalid_argument("simulate: functional mode needs a network description, not a topology");
  StepReport report = start_report(topology.origin, topology.origin, o);
  Ledger ledger(o.config);
  ledger.record_timeline(o.record_timeline);
  report.compulsory = compulsory_traffic(topology, o.batch);
  StepJob job;
  job.topology = &topology;
  job.config = o.config;
  job.batch = o.batch;
  job.weight_decay_lambda = o.weight_decay_lambda;
  job.progress = o.progress;
  job.schedule = o.schedule;
  report.schedule = schedule_name(o.schedule);
  const RunChecks checks = Accelerator::instance().run(std::move(job), ledger, with_golden_defaults(o.backends, o.threads));
  finish_report(report, ledger, checks, o, t0);
  return report;
}

StepReport simulate_units(const std::function<void(Units, Ledger&)>& body, const SimOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  check_options(o);
  StepReport report = start_report("units", "test", o);
  report.schedule = schedule_name(o.schedule);
  Ledger ledger(o.config);
  ledger.record_timeline(o.record_timeline);
  StepJob job;
  job.config = o.config;
  job.batch = o.batch;
  job.schedule = o.schedule;
  job.custom = body;
  const RunChecks checks = Accelerator::instance().run(std::move(job), ledger, with_golden_defaults(o.backends, o.threads));
  finish_report(report, ledger, checks, o, t0);
  return report;
}

GemmRun simulate_gemm(int64_t m, int64_t d, int64_t n, const SimOptions& o) {
  check_options(o);
  Ledger ledger(o.config);
  const GemmShape shape{m, d, n, 1, 1, 1};
  GemmRun run;
  StepJob job;
  job.gemm = &shape;
  job.gemm_span = &run.array_span;
  job.config = o.config;
  Accelerator::instance().run(std::move(job), ledger, with_golden_defaults(o.backends, o.threads));
  ledger.finish(o.energy);
  run.record = ledger.records().at(0);
  return run;
}

}  // namespace octet::model
