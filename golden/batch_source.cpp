#include "golden/batch_source.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace octet::golden {

namespace {

class DatasetStream final : public BatchStream {
 public:
  DatasetStream(const Dataset& ds, std::vector<std::vector<int64_t>> batches)
      : ds_(ds), batches_(std::move(batches)) {}
  Batch next() override {
    if (next_ >= batches_.size()) throw std::out_of_range("DatasetStream: no batch left");
    return make_batch(ds_, batches_[next_++]);
  }

 private:
  const Dataset& ds_;
  std::vector<std::vector<int64_t>> batches_;
  size_t next_ = 0;
};

}  // namespace

std::unique_ptr<BatchStream> DatasetSource::open(std::vector<std::vector<int64_t>> batches, uint64_t) const {
  return std::make_unique<DatasetStream>(ds_, std::move(batches));
}

std::vector<std::vector<int64_t>> split_batches(const std::vector<int64_t>& order, int batch, int64_t steps) {
  if (batch < 1 || steps < 0 || steps * batch > static_cast<int64_t>(order.size()))
    throw std::invalid_argument("split_batches: " + std::to_string(steps) + " batches of " + std::to_string(batch) +
                                " from " + std::to_string(order.size()) + " examples");
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(steps));
  for (int64_t s = 0; s < steps; ++s)
    out[static_cast<size_t>(s)].assign(order.begin() + s * batch, order.begin() + (s + 1) * batch);
  return out;
}

std::vector<std::vector<int64_t>> sequential_batches(int64_t n, int batch) {
  if (batch < 1) throw std::invalid_argument("sequential_batches: batch must be >= 1");
  std::vector<std::vector<int64_t>> out;
  for (int64_t start = 0; start < n; start += batch) {
    std::vector<int64_t>& b = out.emplace_back();
    for (int64_t i = start; i < std::min(n, start + batch); ++i) b.push_back(i);
  }
  return out;
}

}  // namespace octet::golden
