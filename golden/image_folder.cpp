#include "golden/image_folder.h"

// jpeglib.h needs FILE and size_t declared first.
#include <cstddef>
#include <cstdio>
#include <jpeglib.h>
// After jpeglib.h: which warnings exist depends on its configuration.
#include <jerror.h>

#include <algorithm>
#include <condition_variable>
#include <csetjmp>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "golden/checkpoint.h"  // fnv1a64
#include "golden/input_file.h"
#include "golden/int_math.h"

namespace octet::golden {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void data_fail(const std::string& path, const std::string& field, const std::string& what) {
  throw DataError(printable(path, 200) + ": field '" + field + "': " + what);
}

bool hidden(const fs::path& p) { return p.filename().string().starts_with('.'); }

std::vector<std::string> sorted_names(const fs::path& dir, bool directories) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (hidden(it->path())) continue;
    std::error_code type_ec;
    const bool match = directories ? it->is_directory(type_ec) : it->is_regular_file(type_ec);
    if (match) names.push_back(it->path().filename().string());
  }
  if (ec) data_fail(dir.string(), "folder", "cannot list: " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

ImageFolderIndex scan_image_folder(const std::string& root, const std::vector<std::string>* classes) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) data_fail(root, "folder", fs::exists(root, ec) ? "not a directory" : "no such directory");
  ImageFolderIndex index;
  index.root = root;
  const std::vector<std::string> folders = sorted_names(root, true);
  if (folders.empty()) data_fail(root, "classes", "no class folders (expected " + root + "/<class>/<image>.JPEG)");
  if (classes == nullptr) {
    if (static_cast<int64_t>(folders.size()) > kMaxClasses)
      data_fail(root, "classes", std::to_string(folders.size()) + " class folders, at most " +
                                     std::to_string(kMaxClasses));
    index.classes = folders;
  } else {
    index.classes = *classes;
  }
  std::map<std::string, Label> label_of;
  for (size_t i = 0; i < index.classes.size(); ++i) label_of.emplace(index.classes[i], static_cast<Label>(i));
  for (const std::string& folder : folders) {
    const auto it = label_of.find(folder);
    const fs::path dir = fs::path(root) / folder;
    if (it == label_of.end()) data_fail(dir.string(), "classes", "class folder not in the training split's classes");
    const std::vector<std::string> names = sorted_names(dir, false);
    if (names.empty()) data_fail(dir.string(), "images", "class folder has no images");
    for (const std::string& name : names) {
      const fs::path file = dir / name;
      const uintmax_t bytes = fs::file_size(file, ec);
      index.files.push_back(file.string());
      index.labels.push_back(it->second);
      index.bytes.push_back(ec ? 0 : static_cast<uint64_t>(bytes));
    }
  }
  return index;
}

ImageFolderIndex spread_subset(const ImageFolderIndex& index, int64_t n) {
  if (n < 0) throw std::invalid_argument("spread_subset: negative count");
  if (n >= index.size()) return index;
  ImageFolderIndex out;
  out.root = index.root;
  out.classes = index.classes;
  for (int64_t i = 0; i < n; ++i) {
    const auto j = static_cast<size_t>(static_cast<uint128>(i) * static_cast<uint128>(index.size()) / static_cast<uint128>(n));
    out.files.push_back(index.files[j]);
    out.labels.push_back(index.labels[j]);
    out.bytes.push_back(index.bytes[j]);
  }
  return out;
}

uint64_t index_digest(const ImageFolderIndex& index) {
  std::string bytes;
  const auto u64 = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes += static_cast<char>(v >> (8 * i) & 0xFF);
  };
  u64(index.classes.size());
  for (const std::string& c : index.classes) {
    u64(c.size());
    bytes += c;
  }
  for (int64_t i = 0; i < index.size(); ++i) {
    const std::string rel = fs::path(index.files[static_cast<size_t>(i)]).lexically_relative(index.root).generic_string();
    u64(rel.size());
    bytes += rel;
    u64(index.bytes[static_cast<size_t>(i)]);
    u64(index.labels[static_cast<size_t>(i)]);
  }
  return fnv1a64(bytes);
}

// ---- JPEG decoding ----

namespace {

struct JpegErrors {
  jpeg_error_mgr mgr;  // first: libjpeg's err pointer is cast back to JpegErrors
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = {};
  int damage_code = 0;  // the first warning that means lost data
  char damage[JMSG_LENGTH_MAX] = {};
};

// Warnings after which pixels are missing or wrong; the others (extraneous bytes between
// markers, an unknown JFIF revision or Adobe transform code, a bad ICC marker) lose nothing.
bool loses_data(int code) {
#if defined(C_ARITH_CODING_SUPPORTED) || defined(D_ARITH_CODING_SUPPORTED)
  if (code == JWRN_ARITH_BAD_CODE) return true;
#endif
  return code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE ||
         code == JWRN_MUST_RESYNC || code == JWRN_BOGUS_PROGRESSION || code == JWRN_NOT_SEQUENTIAL;
}

void on_error_exit(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

void on_emit_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  ++cinfo->err->num_warnings;
  if (e->damage_code == 0 && loses_data(cinfo->err->msg_code)) {
    e->damage_code = cinfo->err->msg_code;
    (*cinfo->err->format_message)(cinfo, e->damage);
  }
}

struct JpegJob {
  jpeg_decompress_struct cinfo;
  JpegErrors errors;
  const uint8_t* data = nullptr;
  size_t size = 0;
  DecodedImage image;
  bool cmyk = false, inverted = false;
  bool too_large = false;
};

// The libjpeg calls, apart: longjmp lands in this frame, which holds no C++ object (the job's
// members live in the caller), as setjmp requires.
bool run_libjpeg(JpegJob& job) {
  jpeg_decompress_struct& cinfo = job.cinfo;
  cinfo.err = jpeg_std_error(&job.errors.mgr);
  job.errors.mgr.error_exit = on_error_exit;
  job.errors.mgr.emit_message = on_emit_message;
  if (setjmp(job.errors.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, job.data, static_cast<unsigned long>(job.size));
  jpeg_read_header(&cinfo, TRUE);
  if (static_cast<int64_t>(cinfo.image_width) * cinfo.image_height > kMaxImagePixels) {
    job.too_large = true;
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; break;
    default: cinfo.out_color_space = JCS_RGB; break;
  }
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&cinfo);
  const auto row_bytes = static_cast<size_t>(cinfo.output_width) * static_cast<size_t>(cinfo.output_components);
  job.image.height = cinfo.output_height;
  job.image.width = cinfo.output_width;
  job.image.channels = cinfo.output_components;
  job.cmyk = cinfo.out_color_space == JCS_CMYK;
  job.inverted = cinfo.saw_Adobe_marker;
  job.image.pixels.resize(row_bytes * cinfo.output_height);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = job.image.pixels.data() + row_bytes * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

std::string fmt_hex(uint8_t b) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", b);
  return text;
}

uint8_t mul_div_255(unsigned a, unsigned b) { return static_cast<uint8_t>((a * b + 127) / 255); }  // never a tie

}  // namespace

DecodedImage decode_jpeg(std::span<const uint8_t> bytes, const std::string& origin) {
  const auto fail = [&](const std::string& what) -> ImageError {
    return ImageError(printable(origin, 200) + ": field 'jpeg': " + what);
  };
  auto job = std::make_unique<JpegJob>();
  job->data = bytes.data();
  job->size = bytes.size();
  if (bytes.size() >= 2 && !(bytes[0] == 0xFF && bytes[1] == 0xD8))
    throw fail("not a JPEG file (starts with " + fmt_hex(bytes[0]) + " " + fmt_hex(bytes[1]) + ")");
  if (!run_libjpeg(*job)) {
    if (job->too_large) throw fail("image larger than " + std::to_string(kMaxImagePixels) + " pixels");
    // A file cut in its headers: libjpeg reaches the end first, then misses what follows.
    if (job->errors.damage_code == JWRN_JPEG_EOF) throw fail(std::string("truncated: ") + job->errors.damage);
    throw fail(job->errors.message);
  }
  if (job->errors.damage_code != 0)
    throw fail((job->errors.damage_code == JWRN_JPEG_EOF ? "truncated: " : "") + std::string(job->errors.damage));
  DecodedImage image = std::move(job->image);
  if (job->cmyk) {
    DecodedImage rgb{image.height, image.width, 3, std::vector<uint8_t>(static_cast<size_t>(image.height * image.width * 3))};
    for (size_t p = 0; p < static_cast<size_t>(image.height * image.width); ++p) {
      const uint8_t* s = &image.pixels[4 * p];
      const unsigned k = job->inverted ? s[3] : 255u - s[3];
      for (int c = 0; c < 3; ++c) rgb.pixels[3 * p + c] = mul_div_255(job->inverted ? s[c] : 255u - s[c], k);
    }
    image = std::move(rgb);
  }
  return image;
}

DecodedImage decode_jpeg_file(const std::string& path) {
  // The project's bounded reader: also refuses a directory or a file over its size limit.
  const std::string bytes = read_input_file<ImageError>(path, printable(path, 200) + ": field 'file'");
  return decode_jpeg(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), path);
}

// ---- the source ----

// Bad files found so far (shared by every stream of the source): a file is decoded once in vain.
struct ImageFolderSource::BadFiles {
  std::mutex m;
  std::map<int64_t, std::exception_ptr> known;
};

ImageFolderSource::ImageFolderSource(ImageFolderIndex index, ImageFolderOptions options)
    : index_(std::move(index)), options_(std::move(options)), bad_(std::make_unique<BadFiles>()) {
  if (index_.size() < 1) throw std::invalid_argument("ImageFolderSource: empty index");
  if (options_.image_size < 1) throw std::invalid_argument("ImageFolderSource: image size must be >= 1");
  options_.threads = std::max(1, options_.threads);
  options_.prefetch_batches = std::max(1, options_.prefetch_batches);
}

ImageFolderSource::~ImageFolderSource() = default;

void ImageFolderSource::load(int64_t i, uint64_t epoch, uint8_t* out, Label* label) const {
  if (i < 0 || i >= size()) throw std::invalid_argument("ImageFolderSource::load: index " + std::to_string(i));
  // With kSkip, example i becomes the first readable image at i, i+1, ... (wrapping around); the
  // transform's random draws stay example i's.
  for (int64_t tried = 0; tried < size(); ++tried) {
    const int64_t j = (i + tried) % size();
    {
      std::lock_guard lock(bad_->m);
      if (const auto it = bad_->known.find(j); it != bad_->known.end()) {
        if (options_.bad_images == BadImagePolicy::kFatal) std::rethrow_exception(it->second);
        continue;
      }
    }
    DecodedImage image;
    try {
      image = decode_jpeg_file(index_.files[static_cast<size_t>(j)]);
    } catch (const ImageError& e) {
      bool first = false;
      {
        std::lock_guard lock(bad_->m);
        first = bad_->known.emplace(j, std::current_exception()).second;
        if (options_.bad_images == BadImagePolicy::kFatal) throw;
        if (first && options_.on_skip) options_.on_skip(e);
      }
      continue;
    }
    const int64_t s = options_.image_size;
    const ImageTransform t = options_.augment
                                 ? train_transform(image.height, image.width, s, augment_key(options_.seed, epoch, static_cast<uint64_t>(i)))
                                 : eval_transform(image.height, image.width, s);
    apply_transform(image, t, s, out);
    *label = index_.labels[static_cast<size_t>(j)];
    return;
  }
  throw DataError(printable(index_.root, 200) + ": field 'images': no image of the " + std::to_string(size()) +
                  " is readable");
}

namespace {

// Decodes a pass's images on `threads` workers, at most `depth` batches ahead of the consumer.
// Worker k claims images in pass order; every image is written to its own place in its batch,
// so the batches do not depend on which worker decoded what, or when.
class PrefetchStream final : public BatchStream {
 public:
  PrefetchStream(const ImageFolderSource& source, std::vector<std::vector<int64_t>> batches, uint64_t epoch)
      : source_(source), batches_(std::move(batches)), epoch_(epoch) {
    const int64_t s = source.options().image_size;
    for (const std::vector<int64_t>& b : batches_) {
      if (b.empty()) throw std::invalid_argument("ImageFolderSource: empty batch");
      for (int64_t i : b)
        if (i < 0 || i >= source.size())
          throw std::invalid_argument("ImageFolderSource: index " + std::to_string(i) + " outside 0.." +
                                      std::to_string(source.size() - 1));
      first_task_.push_back(total_tasks_);
      total_tasks_ += static_cast<int64_t>(b.size());
    }
    image_bytes_ = 3 * s * s;
    depth_ = source.options().prefetch_batches;
    const int workers = static_cast<int>(std::min<int64_t>(source.options().threads, std::max<int64_t>(1, total_tasks_)));
    for (int w = 0; w < workers; ++w) workers_.emplace_back([this] { work(); });
  }

  ~PrefetchStream() override {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  Batch next() override {
    std::unique_lock lock(m_);
    if (consumed_ >= static_cast<int64_t>(batches_.size())) throw std::out_of_range("ImageFolderSource: no batch left");
    Slot* slot = nullptr;
    done_cv_.wait(lock, [&] {
      const auto it = slots_.find(consumed_);
      slot = it == slots_.end() ? nullptr : it->second.get();
      return slot != nullptr && slot->remaining == 0;
    });
    std::unique_ptr<Slot> taken = std::move(slots_[consumed_]);
    slots_.erase(consumed_);
    ++consumed_;
    lock.unlock();
    work_cv_.notify_all();
    if (taken->error) std::rethrow_exception(taken->error);
    return std::move(taken->batch);
  }

 private:
  struct Slot {
    Batch batch;
    int64_t remaining = 0;
    std::exception_ptr error;  // of the lowest failing position
    int64_t error_position = -1;
  };

  void work() {
    for (;;) {
      int64_t task, b;
      Slot* slot;
      {
        std::unique_lock lock(m_);
        work_cv_.wait(lock, [&] {
          return stop_ || next_task_ >= total_tasks_ || batch_of(next_task_) < consumed_ + depth_;
        });
        if (stop_ || next_task_ >= total_tasks_) return;
        task = next_task_++;
        b = batch_of(task);
        std::unique_ptr<Slot>& s = slots_[b];
        if (!s) {
          const auto n = static_cast<int64_t>(batches_[static_cast<size_t>(b)].size());
          const int64_t size = source_.options().image_size;
          s = std::make_unique<Slot>();
          s->batch.images = Tensor<uint8_t>({n, 3, size, size}, kPixelExp);
          s->batch.labels.assign(static_cast<size_t>(n), 0);
          s->remaining = n;
        }
        slot = s.get();
      }
      const int64_t pos = task - first_task_[static_cast<size_t>(b)];
      std::exception_ptr error;
      try {
        source_.load(batches_[static_cast<size_t>(b)][static_cast<size_t>(pos)], epoch_,
                     slot->batch.images.data.data() + pos * image_bytes_, &slot->batch.labels[static_cast<size_t>(pos)]);
      } catch (...) {
        error = std::current_exception();
      }
      bool complete;
      {
        std::lock_guard lock(m_);
        if (error && (slot->error_position < 0 || pos < slot->error_position)) {
          slot->error = error;
          slot->error_position = pos;
        }
        complete = --slot->remaining == 0;
      }
      if (complete) done_cv_.notify_all();
    }
  }

  int64_t batch_of(int64_t task) const {
    return static_cast<int64_t>(std::upper_bound(first_task_.begin(), first_task_.end(), task) - first_task_.begin()) - 1;
  }

  const ImageFolderSource& source_;
  std::vector<std::vector<int64_t>> batches_;
  uint64_t epoch_;
  std::vector<int64_t> first_task_;
  int64_t total_tasks_ = 0, image_bytes_ = 0, depth_ = 1;
  std::mutex m_;
  std::condition_variable work_cv_, done_cv_;
  std::map<int64_t, std::unique_ptr<Slot>> slots_;
  int64_t next_task_ = 0, consumed_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace

std::unique_ptr<BatchStream> ImageFolderSource::open(std::vector<std::vector<int64_t>> batches, uint64_t epoch) const {
  return std::make_unique<PrefetchStream>(*this, std::move(batches), epoch);
}

}  // namespace octet::golden
