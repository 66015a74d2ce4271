// octet-train: trains a network from a description file with full 8-bit integer
// WAGEUBN (docs/numerics.md) and/or its FP32 twin on the same batches, with progress on
// stderr, a per-epoch JSON log with the run's configuration, a PNG of the curves beside it,
// checkpoints and a final comparison table on stdout. Started by mpirun / srun, its ranks train
// the integer network data-parallel, bit-identical to one process (tools/mpi_session.h); rank 0
// prints, logs and checkpoints.
//
// Every option, the outputs' writability, the sizes (memory estimate against --max-memory) and a
// resumed checkpoint are checked before the data is loaded; bad input exits 2 (tools/cli_common.h).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli_common.h"
#include "golden/checkpoint.h"
#include "golden/data_path.h"
#include "golden/dataset.h"
#include "golden/image_folder.h"
#include "golden/int_network.h"
#include "golden/memory_estimate.h"
#include "golden/optimizer.h"
#include "golden/trainer.h"
#include "golden/write_atomically.h"
#include "mpi_session.h"
#include "output_path.h"
#include "train_models.h"

using namespace octet::golden;
using octet::InputError;
using octet::printable;
using octet::write_atomically;

namespace {

constexpr const char* kProgram = "octet-train";
constexpr int kLogFormatVersion = 2;

nlohmann::ordered_json to_json(const EpochRecord& r) {
  return {{"mode", r.mode},           {"epoch", r.epoch},
          {"lr_q", r.lr_q},           {"log2_gscale", r.gscale_log2},
          {"fp32_lr", r.fp32_lr},     {"train_loss", r.train_loss},
          {"train_accuracy", r.train_accuracy}, {"test_accuracy", r.test_accuracy},
          {"seconds", r.seconds},     {"images_per_second", r.images_per_second},
          {"state_digest", fmt::format("{:016x}", r.digest)}};
}

// A seed is a decimal integer in 0..2^64-1; "-1" (which CLI11 would wrap to 2^64-1), "0x10" or
// "1e3" are refused.
uint64_t parse_seed(const std::string& text) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end)
    throw InputError("--seed: field 'seed': '" + printable(text) + "' is not an integer in 0..18446744073709551615");
  return v;
}

// The canonical text of a parsed schedule, so that "0:511:7:0.10" and "0:511:7:0.1" compare equal.
// The default schedule (docs/numerics.md [D19]): the largest learning rate, then two steps down,
// with params.def's default gradient scale throughout.
std::string default_schedule() {
  const int g = octet::params::kDefaultGScaleLog2;
  return fmt::format("0:{}:{}:0.1,5:128:{}:0.02,8:32:{}:0.004", kLrQMax, g, g, g);
}

std::string schedule_text(const std::vector<SchedulePhase>& schedule) {
  std::string s;
  for (const SchedulePhase& p : schedule)
    s += fmt::format("{}{}:{}:{}:{}", s.empty() ? "" : ",", p.first_epoch, p.lr_q, p.gscale_log2, p.fp32_lr);
  return s;
}

// A data digest that does not depend on the label type's width.
template <typename Labels>
uint64_t data_digest(const std::vector<uint8_t>& images, const Labels& labels) {
  std::string bytes(images.begin(), images.end());
  for (const auto label : labels)
    for (int i = 0; i < 8; ++i) bytes += static_cast<char>(static_cast<uint64_t>(label) >> (8 * i) & 0xFF);
  return fnv1a64(bytes);
}

// The size of one split, from the IDX headers alone.
struct SplitShape {
  std::string images_path;
  int64_t count = 0, channels = 1, height = 0, width = 0;
  int64_t bytes() const { return saturating_mul(count, saturating_add(saturating_mul(channels, height * width), 8)); }
};

SplitShape split_shape(const std::string& dir, Split split) {
  SplitShape s;
  s.images_path = fashion_mnist_file(dir, split, false);
  const IdxArray h = read_idx_header(s.images_path);
  if (h.dims.size() != 3 && h.dims.size() != 4)
    throw DataError(s.images_path + ": images must be N×H×W or N×C×H×W, file has " + format_dims(h.dims));
  s.count = h.dims[0];
  if (h.dims.size() == 4) s.channels = h.dims[1];
  s.height = h.dims[h.dims.size() - 2];
  s.width = h.dims.back();
  read_idx_header(fashion_mnist_file(dir, split, true));  // exists and is an IDX file
  return s;
}

// The training and test batches: Fashion-MNIST held in memory, or an ImageNet-layout folder
// decoded as it is read.
struct TrainingData {
  Dataset train_set, test_set;  // Fashion-MNIST
  std::unique_ptr<BatchSource> train, test;
};

// True when two descriptions have the same parameters (names and shapes): the same network.
bool same_parameters(const NetworkDesc& a, const NetworkDesc& b) {
  const std::vector<ParamDesc> pa = network_params(a), pb = network_params(b);
  if (pa.size() != pb.size()) return false;
  for (size_t i = 0; i < pa.size(); ++i)
    if (pa[i].name != pb[i].name || pa[i].shape != pb[i].shape) return false;
  return true;
}

// The description at `size` × `size` RGB input, for ImageNet-layout data: as written when its input
// already is 3 × size × size, else re-inferred at that size if its parameters stay the same
// (a global average pool before the classifier).
NetworkDesc imagenet_network(const std::string& path, int64_t size) {
  const std::string text = read_text_file(path);
  NetworkDesc desc = parse_network_text(text, path);
  const Shape& in = desc.input().out_shape;
  const Shape want{3, size, size};
  if (in[0] != 3)
    throw InputError(fmt::format("{}: field 'input': the network takes {}x{}x{} images, ImageNet-layout data is "
                                 "3x{}x{} (RGB)", path, in[0], in[1], in[2], size, size));
  if (in == want) return desc;
  NetworkDesc resized;
  try {
    resized = parse_network_text(text, path, &want);
  } catch (const DescError& e) {
    throw InputError(fmt::format("--image-size: field 'image_size': {} at {}x{}: {}", path, size, size, e.what()));
  }
  if (!same_parameters(desc, resized))
    throw InputError(fmt::format("--image-size: field 'image_size': {}'s parameters depend on its {}x{} input size "
                                 "(no global average pool before the classifier); use {} or a description with "
                                 "input 3x{}x{}", path, in[1], in[2], in[1], size, size));
  return resized;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// An interpreter that can import matplotlib ($OCTET_PYTHON if set, else python3), or "".
std::string python_with_matplotlib() {
  const char* forced = std::getenv("OCTET_PYTHON");
  const std::vector<std::string> candidates =
      forced ? std::vector<std::string>{forced} : std::vector<std::string>{"/usr/bin/python3", "python3"};
  for (const std::string& py : candidates)
    if (std::system(fmt::format("{} -c 'import matplotlib' >/dev/null 2>&1", shell_quote(py)).c_str()) == 0) return py;
  return "";
}

// run.json -> run.png; run -> run.png.
std::string plot_path_beside(const std::string& log_path) {
  const std::string::size_type dot = log_path.rfind('.'), slash = log_path.rfind('/');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  return (has_ext ? log_path.substr(0, dot) : log_path) + ".png";
}

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<octet::tools::MpiSession> mpi;
  const int launch_status = octet::tools::run_guarded(kProgram, [&] {
    mpi = octet::tools::MpiSession::start_if_launched(&argc, &argv);
    return 0;
  });
  if (launch_status != 0) return launch_status;
  const int rank = mpi ? mpi->rank() : 0, ranks = mpi ? mpi->size() : 1;
  // Ranks other than 0 say nothing on stdout or stderr; their own errors and skipped-image
  // warnings go to `errors` (the original stderr), named by rank.
  FILE* errors = stderr;
  const std::string program = rank == 0 ? kProgram : fmt::format("{} (rank {})", kProgram, rank);
  if (rank > 0) {
    errors = fdopen(dup(STDERR_FILENO), "w");
    if (errors == nullptr || !std::freopen("/dev/null", "w", stdout) || !std::freopen("/dev/null", "w", stderr)) {
      fmt::print(stderr, "{}: internal error: cannot redirect output\n", program);
      return 1;
    }
  }

  // A step allocates and frees the same multi-megabyte tensors every time: keep them on the heap
  // instead of mapping and page-faulting fresh memory per tensor.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  CLI::App app{"octet-train: full 8-bit integer WAGEUBN training, side by side with FP32"};
  std::string network = octet::data_path("networks/small_resnet.net");
  std::string data_dir = kDefaultFashionMnistDir;
  std::string mode = "both", schedule_arg = default_schedule();
  std::string log_path, checkpoint_path, resume_path, plot_path, seed_text = "1";
  std::string imagenet_dir, bad_images = "fatal";
  int64_t image_size = 224;
  int decode_threads = 0;
  int epochs = 1, batch = 64, threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int bn_decay_shift = kBnDecayShift, weight_decay = octet::params::kDefaultWeightDecayLog2, progress_every = 50;
  int64_t train_limit = 0, test_limit = 0;
  const int64_t physical = physical_memory_bytes();
  double max_memory_gib = physical > 0 ? 0.75 * static_cast<double>(physical) / (1 << 30) : 16.0;
  bool no_plot = false;
  CLI::Option* network_opt =
      app.add_option("--network", network, "network description file (docs/network-format.md; with --imagenet "
                                           "the default is networks/resnet18.net)")
          ->capture_default_str();
  CLI::Option* mode_opt = nullptr;
  CLI::Option* data_opt =
      app.add_option("--data", data_dir, "directory with the Fashion-MNIST IDX files (gzip or plain)")->capture_default_str();
  CLI::Option* imagenet_opt =
      app.add_option("--imagenet", imagenet_dir, "train on an ImageNet-layout folder DIR/{train,val}/<class>/*.JPEG "
                                                  "instead of Fashion-MNIST")
          ->excludes(data_opt);
  app.add_option("--image-size", image_size, "with --imagenet: the network's input size N (NxN crops)")
      ->check(CLI::Range(1, 4096))->needs(imagenet_opt)->capture_default_str();
  app.add_option("--bad-images", bad_images, "with --imagenet: on an unreadable, corrupt or non-JPEG image, stop "
                                             "(fatal) or replace it by the next readable image (skip)")
      ->check(CLI::IsMember({"fatal", "skip"}))->needs(imagenet_opt)->capture_default_str();
  app.add_option("--decode-threads", decode_threads, "with --imagenet: JPEG decoding threads (default: --threads)")
      ->check(CLI::Range(1, 256))->needs(imagenet_opt);
  mode_opt = app.add_option("--mode", mode, "int8, fp32 or both (data-parallel runs: int8, the default there)")
                 ->check(CLI::IsMember({"int8", "fp32", "both"}))
                 ->capture_default_str();
  app.add_option("--epochs", epochs, "number of epochs")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--batch", batch, "batch size (the global batch: with K ranks, each trains on 1/K of it)")->check(CLI::Range(1, 65536))->capture_default_str();
  app.add_option("--seed", seed_text, "seed of initialisation, shuffling and stochastic rounding (0..2^64-1)")
      ->capture_default_str();
  app.add_option("--threads", threads, "worker threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--schedule", schedule_arg, "phases epoch:lr_q:log2_gscale:fp32_lr, comma-separated")->capture_default_str();
  app.add_option("--train-limit", train_limit, "use only the first N training images (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--test-limit", test_limit, "use only the first N test images (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--bn-decay-shift", bn_decay_shift, "running BN statistics decay 1 - 2^-b")->check(CLI::Range(1, 16))->capture_default_str();
  app.add_option("--weight-decay-log2", weight_decay, "integer weight decay 2^-λ (-1: off)")->check(CLI::Range(-1, 30))->capture_default_str();
  app.add_option("--max-memory", max_memory_gib, "refuse a run whose estimated memory exceeds this many GiB "
                                                 "(default: 3/4 of physical memory)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--log", log_path, "write the run's configuration and per-epoch records as JSON to this file");
  app.add_option("--plot", plot_path, "PNG of accuracy and loss per epoch (default: beside --log, .png)");
  app.add_flag("--no-plot", no_plot, "do not plot the log");
  app.add_option("--checkpoint", checkpoint_path, "save the integer network's state here after every epoch");
  app.add_option("--resume", resume_path, "resume the integer network from this checkpoint");
  app.add_option("--progress-every", progress_every, "steps between progress lines")->check(CLI::Range(1, 1000000));
  octet::tools::add_version_flag(app, kProgram);
  if (const auto status = octet::tools::parse_command_line(app, argc, argv, kProgram)) return *status;
  // Data-parallel: the ranks agree once, before training, that every one has set up (a rank
  // that failed must not leave the others waiting in a collective).
  bool agreed = false;
  std::string failure;
  const int status = octet::tools::run_guarded(program, [&]() -> int {
    if (ranks > 1) {
      if (mode_opt->count() == 0) mode = "int8";
      if (mode != "int8")
        throw InputError(fmt::format("--mode: field 'mode': a data-parallel run ({} ranks) trains the integer network "
                                     "only; use --mode int8 (the FP32 twin runs in one process)", ranks));
    }
    // ---- every option, before any data is read ----
    const uint64_t seed = parse_seed(seed_text);
    std::vector<SchedulePhase> schedule;
    try {
      schedule = parse_schedule(schedule_arg);
    } catch (const std::invalid_argument& e) {
      throw InputError(std::string("--schedule: ") + e.what());
    }
    if (!resume_path.empty() && mode == "fp32")
      throw InputError("--resume: field 'mode': checkpoints hold the integer network; use --mode int8 or both");
    if (!plot_path.empty() && no_plot) throw InputError("--plot: field 'plot': --plot and --no-plot exclude each other");
    if (plot_path.empty() && !log_path.empty() && !no_plot) plot_path = plot_path_beside(log_path);
    if (!log_path.empty()) octet::tools::check_output_file(log_path, "--log");
    if (!checkpoint_path.empty()) octet::tools::check_output_file(checkpoint_path, "--checkpoint");
    if (!plot_path.empty()) octet::tools::check_output_file(plot_path, "--plot");
    const bool imagenet = !imagenet_dir.empty();
    if (imagenet) data_dir = imagenet_dir;
    if (imagenet && network_opt->count() == 0) network = octet::data_path("networks/resnet18.net");
    if (decode_threads == 0) decode_threads = threads;
    const NetworkDesc desc = imagenet ? imagenet_network(network, image_size) : parse_network_file(network);

    // ---- sizes: the data from its headers (or the folders' listing), the training memory from the description ----
    int64_t train_images = 0, need = 0;
    ImageFolderIndex train_index, val_index;
    if (imagenet) {
      train_index = scan_image_folder(imagenet_dir + "/train");
      val_index = scan_image_folder(imagenet_dir + "/val", &train_index.classes);
      if (static_cast<int64_t>(train_index.classes.size()) > desc.num_classes())
        throw InputError(fmt::format("{}: field 'out' of the last layer: {} classes, {} has {}", network,
                                     desc.num_classes(), train_index.root, train_index.classes.size()));
      if (train_limit > 0) train_index = spread_subset(train_index, train_limit);
      if (test_limit > 0) val_index = spread_subset(val_index, test_limit);
      train_images = train_index.size();
      // The index, and the batches decoded ahead (training and evaluation) with the threads' images.
      need = saturating_mul(train_index.size() + val_index.size(), 256);
      need = saturating_add(need, saturating_mul(saturating_mul(3 * image_size, image_size),
                                                 saturating_mul(ImageFolderOptions{}.prefetch_batches + 1, batch + 256)));
      need = saturating_add(need, saturating_mul(decode_threads, int64_t{64} << 20));
    } else {
      const SplitShape train_shape = split_shape(data_dir, Split::kTrain);
      const SplitShape test_shape = split_shape(data_dir, Split::kTest);
      const Shape& in = desc.input().out_shape;
      if (in != Shape{train_shape.channels, train_shape.height, train_shape.width})
        throw InputError(fmt::format("{}: field 'input': network expects {}x{}x{}, {} is {}x{}x{}", network, in[0],
                                     in[1], in[2], train_shape.images_path, train_shape.channels, train_shape.height,
                                     train_shape.width));
      if (desc.num_classes() != kFashionMnistClasses)
        throw InputError(fmt::format("{}: field 'out' of the last layer: {} classes, the data has {}", network,
                                     desc.num_classes(), kFashionMnistClasses));
      train_images = train_limit > 0 ? std::min(train_limit, train_shape.count) : train_shape.count;
      need = saturating_add(train_shape.bytes(), test_shape.bytes());
      if (train_limit > 0 || test_limit > 0) need = saturating_mul(2, need);  // the full sets and the limited copies
    }
    const int64_t steps_per_epoch = train_images / batch;
    if (steps_per_epoch < 1)
      throw InputError(fmt::format("--batch: field 'batch': {} is larger than the {} training images{}", batch,
                                   train_images, train_limit > 0 ? " (--train-limit)" : ""));
    if (batch < ranks)
      throw InputError(fmt::format("--batch: field 'batch': {} is smaller than the {} ranks of this data-parallel run",
                                   batch, ranks));
    const int shard_batch = (batch + ranks - 1) / ranks;  // the largest shard
    if (mode != "fp32") need = saturating_add(need, int_training_memory(desc, shard_batch).total());
    if (mode != "int8") need = saturating_add(need, fp32_training_memory(desc, batch).total());
    const auto limit = static_cast<int64_t>(std::min(max_memory_gib * (1 << 30), 9.2e18));
    if (need > limit)
      throw InputError(fmt::format("{}: field 'batch': training {} at batch {} needs about {} (data and {} training "
                                   "state{}), more than --max-memory {:.3g} GiB",
                                   network, desc.name, batch, format_bytes(need), mode,
                                   ranks > 1 ? fmt::format(" of a shard of {}", shard_batch) : "", max_memory_gib));

    // ---- the options that define the trajectory, stored in and compared with a checkpoint ----
    RunConfig config = {{"network", desc.name},
                        {"network_digest", fmt::format("{:016x}", network_digest(desc))},
                        {"seed", std::to_string(seed)},
                        {"batch", std::to_string(batch)},
                        {"schedule", schedule_text(schedule)},
                        {"bn_decay_shift", std::to_string(bn_decay_shift)},
                        {"weight_decay_log2", std::to_string(weight_decay)},
                        {"train_images", std::to_string(train_images)}};
    if (imagenet) {  // (a Fashion-MNIST run's configuration is unchanged, so its checkpoints still resume)
      config.emplace_back("data", "imagenet-folder");
      config.emplace_back("image_size", std::to_string(image_size));
      config.emplace_back("bad_images", bad_images);

    }

    IntTrainOptions int_options;
    int_options.threads = threads;
    int_options.bn_decay_shift = bn_decay_shift;
    int_options.weight_decay_lambda = weight_decay;
    if (mpi) int_options.reducer = &mpi->reducer();
    int first_epoch = 0;
    std::unique_ptr<IntModel> int_model;
    RunConfig resumed_config;
    if (mode != "fp32") {
      int_model = std::make_unique<IntModel>(desc, seed, int_options);
      if (!resume_path.empty()) {
        std::ifstream ck(resume_path, std::ios::binary);
        if (!ck) throw CheckpointError(resume_path + ": field 'file': cannot open checkpoint");
        resumed_config = int_model->network().load(ck, resume_path);
        check_run_config(resumed_config, config, resume_path, false);
        first_epoch = resume_epoch(int_model->network().step(), steps_per_epoch, epochs, resume_path);
      }
    }

    // ---- the data ----
    TrainingData data;
    if (imagenet) {
      ImageFolderOptions folder;
      folder.image_size = image_size;
      folder.seed = seed;
      folder.bad_images = bad_images == "skip" ? BadImagePolicy::kSkip : BadImagePolicy::kFatal;
      folder.threads = decode_threads;
      folder.on_skip = [&](const ImageError& e) {
        fmt::print(errors, "{}: warning: {} (skipped: --bad-images skip)\n", program, e.what());
      };
      config.emplace_back("train_data", fmt::format("{:016x}", index_digest(train_index)));
      folder.augment = true;
      data.train = std::make_unique<ImageFolderSource>(std::move(train_index), folder);
      folder.augment = false;
      data.test = std::make_unique<ImageFolderSource>(std::move(val_index), folder);
    } else {
      Dataset& train = data.train_set;
      Dataset& test = data.test_set;
      train = load_fashion_mnist(data_dir, Split::kTrain);
      test = load_fashion_mnist(data_dir, Split::kTest);
      if (train_limit > 0) train = take_first(train, std::min(train_limit, train.size()));
      if (test_limit > 0) test = take_first(test, std::min(test_limit, test.size()));
      if (train.size() != train_images)  // the loader checks the files against their headers
        throw std::logic_error("the training set changed size while loading");
      config.emplace_back("train_data", fmt::format("{:016x}", data_digest(train.images, train.labels)));
      data.train = std::make_unique<DatasetSource>(train);
      data.test = std::make_unique<DatasetSource>(test);
    }
    const BatchSource& train = *data.train;
    const BatchSource& test = *data.test;
    if (!resume_path.empty()) {
      check_run_config(resumed_config, config, resume_path, true);
      fmt::print(stderr, "resumed {} at epoch {} (step {})\n", resume_path, first_epoch, int_model->network().step());
    }

    std::vector<std::unique_ptr<TrainableModel>> owned;
    IntModel* int_net = int_model.get();
    if (int_model) owned.push_back(std::move(int_model));
    if (mode != "int8") {
      // Both start from the same masters; a fresh integer network only when none exists at step 0.
      if (int_net && resume_path.empty()) {
        owned.push_back(make_fp32_model(desc, int_net->network().states(), threads, bn_decay_shift));
      } else {
        const IntNetwork initial(desc, seed, int_options);
        owned.push_back(make_fp32_model(desc, initial.states(), threads, bn_decay_shift));
      }
    }
    std::vector<TrainableModel*> models;
    for (auto& m : owned) models.push_back(m.get());

    const std::string python = plot_path.empty() || rank > 0 ? "" : python_with_matplotlib();
    if (!plot_path.empty() && python.empty())
      fmt::print(stderr, "{}: warning: no python3 with matplotlib (Debian: python3-matplotlib): {} will not be drawn\n",
                 kProgram, plot_path);

    fmt::print(stderr, "{}: {} ({} parameters), {} train / {} test images{}, batch {}, {} epochs, seed {}, {} threads{}\n",
               kProgram, desc.name, count_params(desc), train.size(), test.size(),
               imagenet ? fmt::format(" ({}x{}, {} decoding threads)", image_size, image_size, decode_threads) : "",
               batch, epochs, seed, threads,
               ranks > 1 ? fmt::format(" per rank, {} ranks (data-parallel, {}-{} images per rank and step)", ranks,
                                       batch / ranks, shard_batch)
                         : "");
    TrainLoopOptions loop;
    loop.first_epoch = first_epoch;
    loop.epochs = epochs;
    loop.batch = batch;
    loop.seed = seed;
    loop.progress_every = progress_every;
    if (mpi) loop.shards = DataParallel{rank, ranks, &mpi->reducer()};

    nlohmann::ordered_json log_config = {
        {"program", octet::tools::version_line(kProgram)},
        {"network_file", network},
        {"network", desc.name},
        {"network_digest", fmt::format("{:016x}", network_digest(desc))},
        {"data", imagenet ? "imagenet-folder" : "fashion-mnist"},
        {"data_dir", data_dir},
        {"train_data_digest", config.back().second},
        {"mode", mode},
        {"epochs", epochs},
        {"first_epoch", first_epoch},
        {"batch", batch},
        {"seed", seed},
        {"threads", threads},
        {"ranks", ranks},
        {"schedule", schedule_text(schedule)},
        {"train_limit", train_limit},
        {"test_limit", test_limit},
        {"train_images", train.size()},
        {"test_images", test.size()},
        {"bn_decay_shift", bn_decay_shift},
        {"weight_decay_log2", weight_decay},
        {"progress_every", progress_every},
        {"max_memory_gib", max_memory_gib},
        {"memory_estimate_bytes", need},
        {"checkpoint", checkpoint_path},
        {"resume", resume_path},
        {"plot", plot_path}};
    if (imagenet) {
      log_config["image_size"] = image_size;
      log_config["bad_images"] = bad_images;
      log_config["decode_threads"] = decode_threads;
      log_config["classes"] = static_cast<int64_t>(dynamic_cast<const ImageFolderSource&>(train).index().classes.size());
    }
    nlohmann::ordered_json log = {{"format", "octet-train-log"}, {"version", kLogFormatVersion}, {"config", log_config},
                          {"epochs", nlohmann::ordered_json::array()}};
    std::vector<EpochRecord> records;
    const bool tty = isatty(STDERR_FILENO);
    octet::tools::MpiSession::CommStats comm;  // the reducer's counts at the last epoch's end
    if (mpi) {
      const std::vector<int> all = mpi->gather_status(0);
      agreed = true;
      for (int st : all)
        if (st != 0) return st;  // the rank that failed has said why
    }
    try {
      train_models(
          models, train, test, schedule, loop,
          [&](const Progress& p) {
            fmt::print(stderr, "{}epoch {}/{} {:5} {:6}/{} images  {:7.1f} img/s  loss {:.4f}  acc {:.2f}%{}",
                       tty ? "\r" : "", p.epoch, epochs, p.mode, p.images, p.total, p.images_per_second, p.loss,
                       100 * p.accuracy, tty ? "" : "\n");
          },
          [&](const EpochRecord& r) {
            fmt::print(stderr,
                       "{}epoch {}/{} {:5} done: train loss {:.4f}  train acc {:.2f}%  test acc {:.2f}%  {:.1f} img/s  "
                       "({:.1f} s)\n",
                       tty ? "\r" : "", r.epoch, epochs, r.mode, r.train_loss, 100 * r.train_accuracy,
                       100 * r.test_accuracy, r.images_per_second, r.seconds);
            records.push_back(r);
            log["epochs"].push_back(to_json(r));
            if (mpi) {  // what the ranks' reductions cost this epoch (its evaluation's one count included)
              const auto now = mpi->comm_stats();
              const int64_t steps = std::max<int64_t>(1, train.size() / batch);
              const double calls = static_cast<double>(now.calls - comm.calls) / static_cast<double>(steps);
              const double bytes = static_cast<double>(now.bytes - comm.bytes) / static_cast<double>(steps);
              const double seconds = now.seconds - comm.seconds;
              log["epochs"].back()["allreduce"] = {{"calls", now.calls - comm.calls},
                                                   {"bytes", now.bytes - comm.bytes},
                                                   {"seconds", seconds},
                                                   {"calls_per_step", calls},
                                                   {"bytes_per_step", bytes}};
              fmt::print(stderr,
                         "epoch {}/{} allreduce (rank {}): {:.0f} calls and {:.2f} MB per step, {:.1f} s in "
                         "MPI_Allreduce ({:.1f}% of the epoch's training time, waiting for other ranks included)\n",
                         r.epoch, epochs, rank, calls, bytes / 1e6, seconds, 100 * seconds / std::max(r.seconds, 1e-9));
              comm = now;
            }
            if (rank > 0) return;  // rank 0 writes the log and the checkpoint
            if (!log_path.empty()) write_atomically(log_path, log.dump(2) + "\n", "the JSON log");
            if (!checkpoint_path.empty() && int_net && r.mode == int_net->mode()) {
              std::ostringstream ck;
              int_net->network().save(ck, config);
              write_atomically(checkpoint_path, ck.str(), "the checkpoint");
            }
          });
    } catch (const ImageError& e) {  // --bad-images fatal
      throw ImageError(std::string(e.what()) + " (--bad-images skip replaces such images)");
    }

    fmt::print("{:>5} {:>5} {:>6} {:>7} {:>10} {:>10} {:>10} {:>9}\n", "epoch", "mode", "lr_q", "gscale", "train loss",
               "train acc", "test acc", "img/s");
    for (const EpochRecord& r : records)
      fmt::print("{:>5} {:>5} {:>6} {:>7} {:>10.4f} {:>9.2f}% {:>9.2f}% {:>9.1f}\n", r.epoch, r.mode, r.lr_q,
                 1 << r.gscale_log2, r.train_loss, 100 * r.train_accuracy, 100 * r.test_accuracy, r.images_per_second);
    if (int_net) fmt::print("integer state digest {:016x}\n", int_net->digest());

    // The curves: the script reads the log (a temporary one without --log). A failure to plot
    // is a warning; the training and its log are done.
    if (rank == 0 && !plot_path.empty() && !python.empty() && !records.empty()) {
      const std::string script = octet::data_path("tools/plot_train_log.py");
      const std::string json = log_path.empty() ? plot_path + ".log.json.tmp" : log_path;
      if (log_path.empty()) write_atomically(json, log.dump(2) + "\n", "the JSON log");
      const int rc = std::system(
          fmt::format("{} {} {} {}", shell_quote(python), shell_quote(script), shell_quote(json), shell_quote(plot_path))
              .c_str());
      if (log_path.empty()) std::remove(json.c_str());
      if (rc != 0)
        fmt::print(stderr, "{}: warning: {} exited with status {}; no plot\n", kProgram, script,
                   WIFEXITED(rc) ? WEXITSTATUS(rc) : rc);
    }
    return 0;
  }, mpi ? &failure : nullptr);
  if (mpi && status != 0) {
    if (!agreed) {  // failed while setting up: rank 0 speaks for all when it failed too
      const std::vector<int> all = mpi->gather_status(status);
      if (rank == 0 || all[0] == 0) fmt::print(errors, "{}", failure);
    } else {  // failed while training: the others may be waiting for this rank
      fmt::print(errors, "{}", failure);
      mpi->abort(status);
    }
  }
  return status;
}
