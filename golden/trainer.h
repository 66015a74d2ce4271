// The training loop shared by the integer network and its FP32 twin: per-epoch
// deterministic shuffles, the piecewise-constant schedule, evaluation, and per-epoch
// records for progress, JSON logs and the final table.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "golden/batch_reducer.h"
#include "golden/batch_source.h"
#include "golden/dataset.h"
#include "octet_params.h"

namespace octet::golden {

// One phase of the schedule, in force from `first_epoch` until the next phase.
struct SchedulePhase {
  int first_epoch = 0;
  int lr_q = params::kDefaultLrQ;                // integer learning rate on 2^-9
  int gscale_log2 = params::kDefaultGScaleLog2;  // integer gradient scale 2^s
  double fp32_lr = 0.05;  // the FP32 twin's learning rate
};

// "epoch:lr_q:log2_gscale:fp32_lr,..." e.g. "0:26:7:0.1,6:6:7:0.02"; throws std::invalid_argument
// naming the phase and field.
std::vector<SchedulePhase> parse_schedule(const std::string& text);
const SchedulePhase& phase_at(const std::vector<SchedulePhase>& schedule, int epoch);

struct StepStats {
  int64_t correct = 0;
  double loss = 0;  // mean over the batch
};

// A network the trainer can drive: the integer engine or the FP32 twin.
class TrainableModel {
 public:
  virtual ~TrainableModel() = default;
  virtual std::string mode() const = 0;  // "int8" or "fp32"
  virtual StepStats train_step(const Batch& batch, const SchedulePhase& phase) = 0;
  virtual std::vector<int> predict(const Batch& batch) = 0;  // inference mode
  virtual uint64_t digest() const { return 0; }             // bit-exact state digest, if defined
};

struct EpochRecord {
  std::string mode;
  int epoch = 0;  // 1-based
  int lr_q = 0, gscale_log2 = 0;
  double fp32_lr = 0;
  double train_loss = 0, train_accuracy = 0, test_accuracy = 0;
  double seconds = 0, images_per_second = 0;
  uint64_t digest = 0;
};

// Data parallelism: this process is shard `rank` of `ranks`. It trains on images
// [B·rank/ranks, B·(rank+1)/ranks) of every global batch of B (its models reduce their steps
// across the shards: IntTrainOptions::reducer) and evaluates its contiguous slice of the test
// set; `reducer` sums the shards' evaluation counts.
struct DataParallel {
  int rank = 0, ranks = 1;
  const BatchReducer* reducer = nullptr;  // required when ranks > 1
};

struct TrainLoopOptions {
  int first_epoch = 0;  // 0-based epoch to start at (resume)
  int epochs = 1;       // total epochs (the run ends after epoch `epochs`)
  int batch = 64;       // the global batch
  uint64_t seed = 1;
  int progress_every = 50;  // steps between progress reports
  DataParallel shards;
};

struct Progress {
  std::string mode;
  int epoch = 0;
  int64_t images = 0, total = 0;
  double loss = 0, accuracy = 0, images_per_second = 0;
};

// Trains every model for the epochs requested, on the same batches in the same order: epoch e
// visits shuffled_order(train.size(), seed, e) in full batches (the last partial one dropped),
// augmented (if the source augments) for epoch e. Progress and records count the global batch. `on_progress` is called during an epoch,
// `on_epoch` after each model's epoch (whose record includes the test accuracy).
void train_models(const std::vector<TrainableModel*>& models, const BatchSource& train, const BatchSource& test,
                  const std::vector<SchedulePhase>& schedule, const TrainLoopOptions& options,
                  const std::function<void(const Progress&)>& on_progress,
                  const std::function<void(const EpochRecord&)>& on_epoch);
void train_models(const std::vector<TrainableModel*>& models, const Dataset& train, const Dataset& test,
                  const std::vector<SchedulePhase>& schedule, const TrainLoopOptions& options,
                  const std::function<void(const Progress&)>& on_progress,
                  const std::function<void(const EpochRecord&)>& on_epoch);

// Top-1 accuracy over the whole source, in order, `batch` examples at a time (epoch 0); with
// shards, each evaluates its slice and the counts are summed.
double evaluate(TrainableModel& model, const BatchSource& test, int batch, const DataParallel& shards = {});

// Shard `rank` of `ranks` of one batch: its elements [n·rank/ranks, n·(rank+1)/ranks).
std::vector<int64_t> shard_of(const std::vector<int64_t>& batch, int rank, int ranks);
double evaluate(TrainableModel& model, const Dataset& test, int batch);

}  // namespace octet::golden
