#include "golden/trainer.h"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <stdexcept>
#include <string>

#include "golden/optimizer.h"

namespace octet::golden {

std::vector<SchedulePhase> parse_schedule(const std::string& text) {
  std::vector<SchedulePhase> phases;
  std::stringstream all(text);
  std::string item;
  int index = 0;
  while (std::getline(all, item, ',')) {
    ++index;
    std::stringstream fields(item);
    std::string f[4];
    int n = 0;
    while (n < 4 && std::getline(fields, f[n], ':')) ++n;
    const std::string where = "schedule phase " + std::to_string(index) + " '" + item + "'";
    if (n != 4 || fields.peek() != EOF) throw std::invalid_argument(where + ": expected epoch:lr_q:log2_gscale:fp32_lr");
    SchedulePhase p;
    const char* names[4] = {"epoch", "lr_q", "log2_gscale", "fp32_lr"};
    try {
      size_t used = 0;
      p.first_epoch = std::stoi(f[0], &used);
      if (used != f[0].size()) throw std::invalid_argument(names[0]);
      p.lr_q = std::stoi(f[1], &used);
      if (used != f[1].size()) throw std::invalid_argument(names[1]);
      p.gscale_log2 = std::stoi(f[2], &used);
      if (used != f[2].size()) throw std::invalid_argument(names[2]);
      p.fp32_lr = std::stod(f[3], &used);
      if (used != f[3].size()) throw std::invalid_argument(names[3]);
    } catch (const std::exception&) {
      throw std::invalid_argument(where + ": a field is not a number");
    }
    if (p.lr_q < 0 || p.lr_q > kLrQMax)
      throw std::invalid_argument(where + ": field 'lr_q' must be in [0, " + std::to_string(kLrQMax) + "]");
    if (p.gscale_log2 < 1 || p.gscale_log2 > 15)
      throw std::invalid_argument(where + ": field 'log2_gscale' must be in [1, 15]");
    if (!(p.fp32_lr >= 0)) throw std::invalid_argument(where + ": field 'fp32_lr' must be >= 0");
    if (phases.empty() ? p.first_epoch != 0 : p.first_epoch <= phases.back().first_epoch)
      throw std::invalid_argument(where + ": field 'epoch' must start at 0 and increase");
    phases.push_back(p);
  }
  if (phases.empty()) throw std::invalid_argument("schedule is empty");
  return phases;
}

const SchedulePhase& phase_at(const std::vector<SchedulePhase>& schedule, int epoch) {
  const SchedulePhase* current = &schedule.front();
  for (const SchedulePhase& p : schedule)
    if (p.first_epoch <= epoch) current = &p;
  return *current;
}

std::vector<int64_t> shard_of(const std::vector<int64_t>& batch, int rank, int ranks) {
  const auto n = static_cast<int64_t>(batch.size());
  return {batch.begin() + n * rank / ranks, batch.begin() + n * (rank + 1) / ranks};
}

namespace {
void check_shards(const DataParallel& shards) {
  if (shards.ranks < 1 || shards.rank < 0 || shards.rank >= shards.ranks)
    throw std::invalid_argument("data parallelism: rank " + std::to_string(shards.rank) + " of " +
                                std::to_string(shards.ranks));
  if (shards.ranks > 1 && shards.reducer == nullptr) throw std::invalid_argument("data parallelism needs a reducer");
}
}  // namespace

double evaluate(TrainableModel& model, const BatchSource& test, int batch, const DataParallel& shards) {
  check_shards(shards);
  std::vector<int64_t> all(static_cast<size_t>(test.size()));
  for (int64_t i = 0; i < test.size(); ++i) all[static_cast<size_t>(i)] = i;
  const std::vector<int64_t> mine = shard_of(all, shards.rank, shards.ranks);
  std::vector<std::vector<int64_t>> batches;
  for (size_t start = 0; start < mine.size(); start += static_cast<size_t>(batch))
    batches.emplace_back(mine.begin() + static_cast<std::ptrdiff_t>(start),
                         mine.begin() + static_cast<std::ptrdiff_t>(std::min(mine.size(), start + batch)));
  const size_t count = batches.size();
  int64_t correct = 0;
  const std::unique_ptr<BatchStream> stream = test.open(std::move(batches), 0);
  for (size_t k = 0; k < count; ++k) {
    const Batch b = stream->next();
    const std::vector<int> predicted = model.predict(b);
    for (size_t i = 0; i < b.labels.size(); ++i) correct += predicted[i] == b.labels[i];
  }
  if (shards.ranks > 1) correct = shards.reducer->sum(correct);
  return static_cast<double>(correct) / static_cast<double>(test.size());
}

double evaluate(TrainableModel& model, const Dataset& test, int batch) {
  return evaluate(model, DatasetSource(test), batch);
}

void train_models(const std::vector<TrainableModel*>& models, const BatchSource& train, const BatchSource& test,
                  const std::vector<SchedulePhase>& schedule, const TrainLoopOptions& options,
                  const std::function<void(const Progress&)>& on_progress,
                  const std::function<void(const EpochRecord&)>& on_epoch) {
  if (options.batch < 1) throw std::invalid_argument("batch size must be >= 1");
  check_shards(options.shards);
  if (options.batch < options.shards.ranks)
    throw std::invalid_argument("the batch of " + std::to_string(options.batch) + " is smaller than the " +
                                std::to_string(options.shards.ranks) + " shards");
  const int64_t steps = train.size() / options.batch;  // the last partial batch is dropped
  if (steps < 1) throw std::invalid_argument("the training set is smaller than one batch");
  using clock = std::chrono::steady_clock;
  for (int epoch = options.first_epoch; epoch < options.epochs; ++epoch) {
    const std::vector<int64_t> order = shuffled_order(train.size(), options.seed, static_cast<uint64_t>(epoch));
    std::vector<std::vector<int64_t>> batches = split_batches(order, options.batch, steps);
    if (options.shards.ranks > 1)
      for (std::vector<int64_t>& b : batches) b = shard_of(b, options.shards.rank, options.shards.ranks);
    const SchedulePhase& phase = phase_at(schedule, epoch);
    for (TrainableModel* model : models) {
      const auto start = clock::now();
      int64_t correct = 0, seen = 0;
      double loss_sum = 0;
      const std::unique_ptr<BatchStream> stream = train.open(batches, static_cast<uint64_t>(epoch));
      for (int64_t s = 0; s < steps; ++s) {
        const Batch b = stream->next();
        const StepStats st = model->train_step(b, phase);
        correct += st.correct;
        loss_sum += st.loss * options.batch;
        seen += options.batch;
        if (on_progress && ((s + 1) % options.progress_every == 0 || s + 1 == steps)) {
          const double dt = std::chrono::duration<double>(clock::now() - start).count();
          on_progress(Progress{model->mode(), epoch + 1, seen, steps * options.batch, loss_sum / seen,
                               static_cast<double>(correct) / seen, seen / std::max(dt, 1e-9)});
        }
      }
      const double seconds = std::chrono::duration<double>(clock::now() - start).count();
      EpochRecord r;
      r.mode = model->mode();
      r.epoch = epoch + 1;
      r.lr_q = phase.lr_q;
      r.gscale_log2 = phase.gscale_log2;
      r.fp32_lr = phase.fp32_lr;
      r.train_loss = loss_sum / seen;
      r.train_accuracy = static_cast<double>(correct) / seen;
      r.seconds = seconds;
      r.images_per_second = seen / std::max(seconds, 1e-9);
      r.test_accuracy = evaluate(*model, test, 256, options.shards);
      r.digest = model->digest();
      if (on_epoch) on_epoch(r);
    }
  }
}

void train_models(const std::vector<TrainableModel*>& models, const Dataset& train, const Dataset& test,
                  const std::vector<SchedulePhase>& schedule, const TrainLoopOptions& options,
                  const std::function<void(const Progress&)>& on_progress,
                  const std::function<void(const EpochRecord&)>& on_epoch) {
  train_models(models, DatasetSource(train), DatasetSource(test), schedule, options, on_progress, on_epoch);
}

}  // namespace octet::golden
