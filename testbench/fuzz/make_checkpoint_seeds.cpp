// Writes the checkpoint seed corpus (corpus/checkpoint/) of the network in checkpoint_net.h:
// valid checkpoints before and after a training step, and near-valid ones (cut short, another
// network's name). Rerun after a change of the checkpoint format:
//   cmake --build build --target make_checkpoint_seeds && build/bin/make_checkpoint_seeds testbench/fuzz/corpus/checkpoint
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "testbench/fuzz/checkpoint_net.h"

namespace {

std::string saved(const octet::golden::IntNetwork& net) {
  std::ostringstream out;
  net.save(out);
  return out.str();
}

void write(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "%s/%s: cannot write\n", dir.c_str(), name.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus/checkpoint dir>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  octet::golden::IntNetwork net = octet::fuzz::checkpoint_network();
  const std::string fresh = saved(net);
  write(dir, "step0.ckpt", fresh);

  octet::golden::Tensor<uint8_t> images({2, 1, 4, 4}, -8);
  for (size_t i = 0; i < images.data.size(); ++i) images.data[i] = static_cast<uint8_t>(i * 29);
  net.train_step(images, {0, 2}, 511, 7);
  const std::string trained = saved(net);
  write(dir, "step1.ckpt", trained);

  write(dir, "near_cut_short.ckpt", trained.substr(0, trained.size() - 5));
  std::string renamed = fresh;
  renamed.replace(renamed.find("fuzz_tiny"), 9, "fuzz_tinz");
  write(dir, "near_other_network.ckpt", renamed);
  return 0;
}
