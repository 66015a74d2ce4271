// Image-classification data in the ImageNet folder layout: <split>/<class>/<image>.JPEG, the
// label of a class being its position among the sorted class folder names. The images are
// JPEG-decoded with libjpeg-turbo on worker threads ahead of the trainer and transformed by
// golden/image_transform.h; docs/numerics.md §5.1.1 states the rules.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "golden/batch_source.h"
#include "golden/idx.h"  // DataError
#include "golden/image_transform.h"
#include "golden/label.h"

namespace octet::golden {

// The files of one split, class by class (classes sorted by folder name, byte-wise; files by
// name within a class).
struct ImageFolderIndex {
  std::string root;
  std::vector<std::string> classes;  // folder names; label = position
  std::vector<std::string> files;    // full paths
  std::vector<Label> labels;
  std::vector<uint64_t> bytes;  // file sizes when scanned
  int64_t size() const { return static_cast<int64_t>(files.size()); }
};

// Scans `root`: every sub-directory not starting with '.' is a class (symbolic links followed),
// every regular file in it not starting with '.' an image (whatever its name: a file that is not
// a JPEG is a bad image, see BadImagePolicy). Files directly in `root` are ignored. With
// `classes` (the training split's), labels follow that list and every folder must be in it;
// without, the folders define it. Throws DataError naming the path: a missing folder, no class
// folders, a class folder without images, more than kMaxClasses classes, an unknown class.
ImageFolderIndex scan_image_folder(const std::string& root, const std::vector<std::string>* classes = nullptr);

// `n` images spread evenly over the index (image ⌊i·size/n⌋ for i < n), so every class keeps its
// share; n >= size returns the index unchanged.
ImageFolderIndex spread_subset(const ImageFolderIndex& index, int64_t n);

// A digest of the index: relative paths, sizes and labels (not the pixels: reading them all
// would take as long as an epoch). Two indexes with the same digest name the same files.
uint64_t index_digest(const ImageFolderIndex& index);

// A bad image: unreadable, not a JPEG, corrupt or truncated. what() is
// "path: field 'jpeg': reason" (field 'file' when the file cannot be read).
class ImageError : public DataError {
 public:
  using DataError::DataError;
};

// The largest image decoded (width · height), against decompression bombs: 2^26 pixels.
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

// Decodes a JPEG into 1 (grey) or 3 (RGB) channels: YCbCr and RGB as libjpeg-turbo converts them
// (accurate integer IDCT, fancy upsampling), CMYK and YCCK converted to RGB by
// R = round((255 − C)(255 − K) / 255) (Adobe's inverted CMYK: R = round(C·K / 255)).
// Throws ImageError for a file that is not a JPEG, a libjpeg error, or a warning that means
// lost data (truncated file, corrupt entropy-coded data).
DecodedImage decode_jpeg(std::span<const uint8_t> bytes, const std::string& origin);
DecodedImage decode_jpeg_file(const std::string& path);

enum class BadImagePolicy {
  kFatal,  // the first bad image of a batch (in batch order) stops the pass with its ImageError
  kSkip,   // a bad image is replaced by the next readable one in index order (wrapping around)
};

struct ImageFolderOptions {
  int64_t image_size = 224;       // output size × size
  bool augment = false;           // training recipe (train_transform) or evaluation (eval_transform)
  uint64_t seed = 1;              // of the augmentation
  BadImagePolicy bad_images = BadImagePolicy::kFatal;
  int threads = 1;                // decoding threads
  int prefetch_batches = 2;       // batches decoded ahead of the consumer (bounded queue)
  // Called once per bad file that kSkip replaces (from a decoding thread, serialised).
  std::function<void(const ImageError&)> on_skip;
};

class ImageFolderSource final : public BatchSource {
 public:
  ImageFolderSource(ImageFolderIndex index, ImageFolderOptions options);
  ~ImageFolderSource() override;
  int64_t size() const override { return index_.size(); }
  const ImageFolderIndex& index() const { return index_; }
  const ImageFolderOptions& options() const { return options_; }
  std::unique_ptr<BatchStream> open(std::vector<std::vector<int64_t>> batches, uint64_t epoch) const override;

  // Example `i` of epoch `epoch` into out (3 × size × size) and its label: what a batch holds.
  void load(int64_t i, uint64_t epoch, uint8_t* out, Label* label) const;

 private:
  struct BadFiles;
  ImageFolderIndex index_;
  ImageFolderOptions options_;
  std::unique_ptr<BadFiles> bad_;
};

}  // namespace octet::golden
