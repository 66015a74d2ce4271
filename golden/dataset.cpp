#include "golden/dataset.h"

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace octet::golden {

Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path, int num_classes) {
  if (num_classes < 1 || num_classes > kMaxClasses)
    throw std::invalid_argument("number of classes must be in 1.." + std::to_string(kMaxClasses) + ", got " +
                                std::to_string(num_classes));
  IdxArray img = read_idx(images_path);
  IdxArray lab = read_idx(labels_path);

  const auto fail = [](const std::string& path, const std::string& what) { throw DataError(path + ": " + what); };
  if (img.dims.size() != 3 && img.dims.size() != 4)
    fail(images_path, "images must be N×H×W or N×C×H×W, file has " + format_dims(img.dims));
  if (lab.dims.size() != 1) fail(labels_path, "labels must be a vector of N, file has " + format_dims(lab.dims));
  for (size_t d = 0; d < img.dims.size(); ++d)
    if (img.dims[d] == 0) fail(images_path, "empty data set: dimensions " + format_dims(img.dims));
  if (lab.dims[0] != img.dims[0])
    fail(labels_path, std::to_string(lab.dims[0]) + " labels but " + images_path + " has " +
                          std::to_string(img.dims[0]) + " images");
  for (size_t i = 0; i < lab.data.size(); ++i)
    if (lab.data[i] >= num_classes)
      fail(labels_path, "label " + std::to_string(lab.data[i]) + " at index " + std::to_string(i) +
                            " is not below the number of classes " + std::to_string(num_classes));

  Dataset ds;
  const bool has_channels = img.dims.size() == 4;
  ds.channels = has_channels ? img.dims[1] : 1;
  ds.height = img.dims[has_channels ? 2 : 1];
  ds.width = img.dims[has_channels ? 3 : 2];
  ds.num_classes = num_classes;
  ds.images = std::move(img.data);
  ds.labels.assign(lab.data.begin(), lab.data.end());  // IDX bytes widened to Label
  return ds;
}

std::string fashion_mnist_file(const std::string& dir, Split split, bool labels) {
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  // Prefer the .gz the Debian package ships; fall back to an unpacked copy.
  const std::filesystem::path base =
      std::filesystem::path(dir) / (prefix + (labels ? "-labels-idx1-ubyte" : "-images-idx3-ubyte"));
  const std::filesystem::path gz = base.string() + ".gz";
  return (!std::filesystem::exists(gz) && std::filesystem::exists(base) ? base : gz).string();
}

Dataset load_fashion_mnist(const std::string& dir, Split split) {
  return load_idx_dataset(fashion_mnist_file(dir, split, false), fashion_mnist_file(dir, split, true),
                          kFashionMnistClasses);
}

Dataset take_first(const Dataset& ds, int64_t n) {
  if (n < 0 || n > ds.size())
    throw std::invalid_argument("cannot take the first " + std::to_string(n) + " of " + std::to_string(ds.size()) +
                                " examples");
  Dataset out;
  out.channels = ds.channels;
  out.height = ds.height;
  out.width = ds.width;
  out.num_classes = ds.num_classes;
  out.images.assign(ds.images.begin(), ds.images.begin() + n * ds.image_elements());
  out.labels.assign(ds.labels.begin(), ds.labels.begin() + n);
  return out;
}

uint64_t uniform_below(StreamKey key, uint64_t& counter, uint64_t bound) {
  if (bound == 0) throw std::invalid_argument("uniform_below: bound must be >= 1");
  unsigned __int128 m = static_cast<unsigned __int128>(random_bits(key, counter++)) * bound;
  auto low = static_cast<uint64_t>(m);
  if (low < bound) {  // only then can the draw be in the rejected zone; skips the division usually
    const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
    while (low < threshold) {
      m = static_cast<unsigned __int128>(random_bits(key, counter++)) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, uint64_t epoch) {
  if (n < 0) throw std::invalid_argument("shuffled_order: negative size");
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  const StreamKey key = make_stream_key(seed, epoch, kShuffleStreamId);
  uint64_t counter = 0;
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(uniform_below(key, counter, static_cast<uint64_t>(i) + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

Batch make_batch(const Dataset& ds, std::span<const int64_t> indices) {
  if (indices.empty()) throw std::invalid_argument("make_batch: empty batch");
  const auto b = static_cast<int64_t>(indices.size());
  const int64_t per_image = ds.image_elements();
  Batch batch{Tensor<uint8_t>({b, ds.channels, ds.height, ds.width}, kPixelExp), {}};
  batch.labels.reserve(indices.size());
  auto out = batch.images.data.begin();
  for (int64_t idx : indices) {
    if (idx < 0 || idx >= ds.size())
      throw std::invalid_argument("make_batch: index " + std::to_string(idx) + " outside 0.." +
                                  std::to_string(ds.size() - 1));
    const auto src = ds.images.begin() + idx * per_image;
    out = std::copy(src, src + per_image, out);
    batch.labels.push_back(ds.labels[static_cast<size_t>(idx)]);
  }
  return batch;
}

}  // namespace octet::golden
