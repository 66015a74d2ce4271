// octet-train: trains a network from a description file with full 8-bit integer
// WAGEUBN (docs/numerics.md) and/or its FP32 twin on the same batches, with progress,
// a per-epoch JSON log, checkpoints and a final comparison table.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "golden/data_path.h"
#include "golden/dataset.h"
#include "golden/int_network.h"
#include "golden/trainer.h"
#include "golden/write_atomically.h"
#include "train_models.h"

using namespace octet::golden;
using octet::write_atomically;

namespace {

nlohmann::json to_json(const EpochRecord& r) {
  return {{"mode", r.mode},           {"epoch", r.epoch},
          {"lr_q", r.lr_q},           {"log2_gscale", r.gscale_log2},
          {"fp32_lr", r.fp32_lr},     {"train_loss", r.train_loss},
          {"train_accuracy", r.train_accuracy}, {"test_accuracy", r.test_accuracy},
          {"seconds", r.seconds},     {"images_per_second", r.images_per_second},
          {"state_digest", fmt::format("{:016x}", r.digest)}};
}

}  // namespace

int main(int argc, char** argv) {
  // A step allocates and frees the same multi-megabyte tensors every time: keep them on the heap
  // instead of mapping and page-faulting fresh memory per tensor.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  CLI::App app{"octet-train: full 8-bit integer WAGEUBN training, side by side with FP32"};
  std::string network = octet::data_path("networks/small_resnet.net");
  std::string data_dir = kDefaultFashionMnistDir;
  std::string mode = "both", schedule_text = "0:511:7:0.1,5:128:7:0.02,8:32:7:0.004";
  std::string log_path, checkpoint_path, resume_path;
  int epochs = 1, batch = 64, threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int bn_decay_shift = kBnDecayShift, weight_decay = 13, progress_every = 50;
  uint64_t seed = 1;
  int64_t train_limit = 0, test_limit = 0;
  app.add_option("--network", network, "network description file (docs/network-format.md)")->capture_default_str();
  app.add_option("--data", data_dir, "directory with the Fashion-MNIST IDX files (gzip or plain)")->capture_default_str();
  app.add_option("--mode", mode, "int8, fp32 or both")->check(CLI::IsMember({"int8", "fp32", "both"}))->capture_default_str();
  app.add_option("--epochs", epochs, "number of epochs")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--batch", batch, "batch size")->check(CLI::Range(1, 65536))->capture_default_str();
  app.add_option("--seed", seed, "seed of initialisation, shuffling and stochastic rounding")->capture_default_str();
  app.add_option("--threads", threads, "worker threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--schedule", schedule_text, "phases epoch:lr_q:log2_gscale:fp32_lr, comma-separated")->capture_default_str();
  app.add_option("--train-limit", train_limit, "use only the first N training images (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--test-limit", test_limit, "use only the first N test images (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--bn-decay-shift", bn_decay_shift, "running BN statistics decay 1 - 2^-b")->check(CLI::Range(1, 16))->capture_default_str();
  app.add_option("--weight-decay-log2", weight_decay, "integer weight decay 2^-λ (-1: off)")->check(CLI::Range(-1, 30))->capture_default_str();
  app.add_option("--log", log_path, "write the per-epoch records as JSON to this file");
  app.add_option("--checkpoint", checkpoint_path, "save the integer network's state here after every epoch");
  app.add_option("--resume", resume_path, "resume the integer network from this checkpoint");
  app.add_option("--progress-every", progress_every, "steps between progress lines")->check(CLI::Range(1, 1000000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    const std::vector<SchedulePhase> schedule = parse_schedule(schedule_text);
    const NetworkDesc desc = parse_network_file(network);
    Dataset train = load_fashion_mnist(data_dir, Split::kTrain);
    Dataset test = load_fashion_mnist(data_dir, Split::kTest);
    if (train_limit > 0) train = take_first(train, std::min(train_limit, train.size()));
    if (test_limit > 0) test = take_first(test, std::min(test_limit, test.size()));
    const Shape& in = desc.input().out_shape;
    if (in != Shape{train.channels, train.height, train.width})
      throw std::runtime_error(fmt::format("{}: field 'input': network expects {}x{}x{}, data is {}x{}x{}", network,
                                           in[0], in[1], in[2], train.channels, train.height, train.width));
    if (desc.num_classes() != train.num_classes)
      throw std::runtime_error(fmt::format("{}: field 'out' of the last layer: {} classes, data has {}", network,
                                           desc.num_classes(), train.num_classes));

    IntTrainOptions int_options;
    int_options.threads = threads;
    int_options.bn_decay_shift = bn_decay_shift;
    int_options.weight_decay_lambda = weight_decay;
    const int64_t steps_per_epoch = train.size() / batch;
    int first_epoch = 0;
    std::vector<std::unique_ptr<TrainableModel>> owned;
    IntModel* int_model = nullptr;
    if (mode != "fp32") {
      auto m = std::make_unique<IntModel>(desc, seed, int_options);
      if (!resume_path.empty()) {
        std::ifstream ck(resume_path, std::ios::binary);
        if (!ck) throw std::runtime_error(fmt::format("{}: cannot open checkpoint", resume_path));
        m->network().load(ck, resume_path);
        if (m->network().step() % steps_per_epoch != 0)
          throw std::runtime_error(fmt::format("{}: checkpoint step {} is not at an epoch boundary", resume_path,
                                               m->network().step()));
        first_epoch = static_cast<int>(m->network().step() / steps_per_epoch);
        seed = m->network().seed();
        fmt::print("resumed {} at epoch {} (step {})\n", resume_path, first_epoch, m->network().step());
      }
      int_model = m.get();
      owned.push_back(std::move(m));
    } else if (!resume_path.empty()) {
      throw std::runtime_error("--resume: checkpoints hold the integer network; use --mode int8 or both");
    }
    if (mode != "int8") {
      // Both start from the same masters; a fresh integer network only when none exists at step 0.
      if (int_model && resume_path.empty()) {
        owned.push_back(make_fp32_model(desc, int_model->network().states(), threads, bn_decay_shift));
      } else {
        const IntNetwork initial(desc, seed, int_options);
        owned.push_back(make_fp32_model(desc, initial.states(), threads, bn_decay_shift));
      }
    }
    std::vector<TrainableModel*> models;
    for (auto& m : owned) models.push_back(m.get());

    fmt::print("octet-train: {} ({} parameters), {} train / {} test images, batch {}, {} epochs, seed {}, {} threads\n",
               desc.name, count_params(desc), train.size(), test.size(), batch, epochs, seed, threads);
    TrainLoopOptions loop;
    loop.first_epoch = first_epoch;
    loop.epochs = epochs;
    loop.batch = batch;
    loop.seed = seed;
    loop.progress_every = progress_every;
    const bool tty = isatty(STDOUT_FILENO);
    nlohmann::json log = nlohmann::json::array();
    std::vector<EpochRecord> records;
    train_models(
        models, train, test, schedule, loop,
        [&](const Progress& p) {
          fmt::print("{}epoch {}/{} {:5} {:6}/{} images  {:7.1f} img/s  loss {:.4f}  acc {:.2f}%{}", tty ? "\r" : "",
                     p.epoch, epochs, p.mode, p.images, p.total, p.images_per_second, p.loss, 100 * p.accuracy,
                     tty ? "" : "\n");
          std::fflush(stdout);
        },
        [&](const EpochRecord& r) {
          fmt::print("{}epoch {}/{} {:5} done: train loss {:.4f}  train acc {:.2f}%  test acc {:.2f}%  {:.1f} img/s  "
                     "({:.1f} s)\n",
                     tty ? "\r" : "", r.epoch, epochs, r.mode, r.train_loss, 100 * r.train_accuracy,
                     100 * r.test_accuracy, r.images_per_second, r.seconds);
          records.push_back(r);
          log.push_back(to_json(r));
          if (!log_path.empty()) write_atomically(log_path, log.dump(2) + "\n", "the JSON log");
          if (!checkpoint_path.empty() && int_model && r.mode == int_model->mode()) {
            std::ostringstream ck;
            int_model->network().save(ck);
            write_atomically(checkpoint_path, ck.str(), "the checkpoint");
          }
        });

    fmt::print("\n{:>5} {:>5} {:>6} {:>7} {:>10} {:>10} {:>10} {:>9}\n", "epoch", "mode", "lr_q", "gscale", "train loss",
               "train acc", "test acc", "img/s");
    for (const EpochRecord& r : records)
      fmt::print("{:>5} {:>5} {:>6} {:>7} {:>10.4f} {:>9.2f}% {:>9.2f}% {:>9.1f}\n", r.epoch, r.mode, r.lr_q,
                 1 << r.gscale_log2, r.train_loss, 100 * r.train_accuracy, 100 * r.test_accuracy, r.images_per_second);
    if (int_model) fmt::print("integer state digest {:016x}\n", int_model->digest());
  } catch (const std::exception& e) {
    fmt::print(stderr, "octet-train: error: {}\n", e.what());
    return 2;
  }
  return 0;
}
