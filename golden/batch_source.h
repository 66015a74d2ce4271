// Where the trainer's batches come from: a data set held in memory (DatasetSource) or images
// decoded from files as they are needed (golden/image_folder.h). Either way a batch's bytes are
// a pure function of its example indices and the epoch, whatever the thread count or timing.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "golden/dataset.h"

namespace octet::golden {

// The batches of one pass, handed out in order.
class BatchStream {
 public:
  virtual ~BatchStream() = default;
  // The next batch; std::out_of_range after the last.
  virtual Batch next() = 0;
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t size() const = 0;  // examples
  // A pass over `batches` (each a non-empty list of example indices) in that order. `epoch`
  // (0-based) selects the random augmentation of a source that augments.
  virtual std::unique_ptr<BatchStream> open(std::vector<std::vector<int64_t>> batches, uint64_t epoch) const = 0;
};

// make_batch over a Dataset that outlives the source (and its streams). No augmentation.
class DatasetSource final : public BatchSource {
 public:
  explicit DatasetSource(const Dataset& ds) : ds_(ds) {}
  int64_t size() const override { return ds_.size(); }
  std::unique_ptr<BatchStream> open(std::vector<std::vector<int64_t>> batches, uint64_t epoch) const override;

 private:
  const Dataset& ds_;
};

// Consecutive batches of `batch` examples of order[0 .. steps·batch): the training pass.
std::vector<std::vector<int64_t>> split_batches(const std::vector<int64_t>& order, int batch, int64_t steps);
// 0..n-1 in batches of `batch`, the last one partial: the evaluation pass.
std::vector<std::vector<int64_t>> sequential_batches(int64_t n, int batch);

}  // namespace octet::golden
