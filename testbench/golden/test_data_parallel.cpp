// Data-parallel integer training (docs/numerics.md §12): K shards of a global batch, combined
// by a BatchReducer, give bit for bit the state of one process training on the whole batch —
// for any K (uneven shards too), fast and reference kernels. The shards run as threads here
// (thread_shards.h); octet_train_mpi_test.sh checks the same across MPI processes.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "golden/int_network.h"
#include "random_tensors.h"
#include "thread_shards.h"
#include "tiny_network.h"

using namespace octet::golden;
using namespace octet::testing;

namespace {

struct Batch {
  Tensor<uint8_t> images;
  std::vector<Label> labels;
};

Batch random_batch(std::mt19937_64& gen, const Shape& chw, int n, int classes) {
  Batch b{Tensor<uint8_t>({n, chw[0], chw[1], chw[2]}, -8), std::vector<Label>(static_cast<size_t>(n))};
  for (auto& v : b.images.data) v = static_cast<uint8_t>(uniform(gen, 0, 255));
  for (auto& l : b.labels) l = static_cast<Label>(uniform(gen, 0, classes - 1));
  return b;
}

// Images [B·r/K, B·(r+1)/K) of the batch: shard r of K (uneven when K does not divide B).
Batch shard(const Batch& b, int rank, int shards) {
  const int64_t B = b.images.shape[0], per = b.images.size() / B;
  const int64_t lo = B * rank / shards, hi = B * (rank + 1) / shards;
  Shape s = b.images.shape;
  s[0] = hi - lo;
  Batch out{Tensor<uint8_t>(s, b.images.exp), {b.labels.begin() + lo, b.labels.begin() + hi}};
  std::copy(b.images.data.begin() + lo * per, b.images.data.begin() + hi * per, out.images.data.begin());
  return out;
}

struct RunResult {
  uint64_t digest = 0;
  std::vector<IntStepResult> steps;
};

// `steps` steps on random batches of `batch` images, in one process (shards == 0) or as
// `shards` shards; every shard must end with the same state.
RunResult train(const NetworkDesc& desc, int shards, int batch, int steps, uint64_t data_seed, IntTrainOptions opt) {
  std::mt19937_64 gen(data_seed);
  std::vector<Batch> batches;
  for (int s = 0; s < steps; ++s) batches.push_back(random_batch(gen, desc.input().out_shape, batch, desc.num_classes()));
  RunResult result;
  if (shards == 0) {
    IntNetwork net(desc, 3, opt);
    for (const Batch& b : batches) result.steps.push_back(net.train_step(b.images, b.labels, 200, 7));
    result.digest = net.state_digest();
    return result;
  }
  ThreadShardGroup group(shards);
  std::vector<uint64_t> digests(static_cast<size_t>(shards));
  std::vector<std::vector<IntStepResult>> reports(static_cast<size_t>(shards));
  group.run([&](int rank) {
    IntTrainOptions o = opt;
    o.reducer = &group.member(rank);
    IntNetwork net(desc, 3, o);
    for (const Batch& b : batches) {
      const Batch mine = shard(b, rank, shards);
      reports[rank].push_back(net.train_step(mine.images, mine.labels, 200, 7));
    }
    digests[rank] = net.state_digest();
  });
  for (int r = 1; r < shards; ++r) EXPECT_EQ(digests[r], digests[0]) << "shard " << r << " of " << shards;
  result.digest = digests[0];
  result.steps = reports[0];
  return result;
}

void expect_same_run(const RunResult& whole, const RunResult& sharded, int shards) {
  EXPECT_EQ(sharded.digest, whole.digest) << shards << " shards";
  ASSERT_EQ(sharded.steps.size(), whole.steps.size());
  for (size_t s = 0; s < whole.steps.size(); ++s) {
    EXPECT_EQ(sharded.steps[s].correct, whole.steps[s].correct) << "step " << s;
    EXPECT_NEAR(sharded.steps[s].loss, whole.steps[s].loss, 1e-12) << "step " << s;
  }
}
}  // namespace

TEST(DataParallel, ShardsMatchOneProcessFastKernels) {
  const uint64_t seed = std::random_device{}();
  std::printf("data seed %llu\n", static_cast<unsigned long long>(seed));
  const NetworkDesc desc = parse_network_text(kTinyNet, "tiny");
  const RunResult whole = train(desc, 0, 12, 6, seed, {});
  for (int shards : {1, 2, 3, 4, 5, 12}) expect_same_run(whole, train(desc, shards, 12, 6, seed, {}), shards);
}

TEST(DataParallel, ShardsMatchOneProcessReferenceKernels) {
  const uint64_t seed = std::random_device{}();
  std::printf("data seed %llu\n", static_cast<unsigned long long>(seed));
  const NetworkDesc desc = parse_network_text(kTinyNet, "tiny");
  IntTrainOptions ref;
  ref.reference_kernels = true;
  const RunResult whole = train(desc, 0, 6, 4, seed, {});  // the fast single process: the same bits
  for (int shards : {2, 4}) expect_same_run(whole, train(desc, shards, 6, 4, seed, ref), shards);
}

TEST(DataParallel, SmallResNetTwoAndThreeShards) {
  const uint64_t seed = std::random_device{}();
  std::printf("data seed %llu\n", static_cast<unsigned long long>(seed));
  const NetworkDesc desc = parse_network_file(OCTET_NETWORKS_DIR "/small_resnet.net");
  const RunResult whole = train(desc, 0, 12, 3, seed, {});
  for (int shards : {2, 3}) expect_same_run(whole, train(desc, shards, 12, 3, seed, {}), shards);
}

// The shards really are different data: a shard's state differs from the whole batch's when
// nothing is reduced (a reducer that only sums the batch size would pass the test above
// vacuously if the shards were equal).
TEST(DataParallel, UnreducedShardDiffers) {
  const NetworkDesc desc = parse_network_text(kTinyNet, "tiny");
  std::mt19937_64 gen(7);
  const Batch b = random_batch(gen, desc.input().out_shape, 8, 3);
  const Batch half = shard(b, 0, 2);
  IntNetwork whole(desc, 3), alone(desc, 3);
  whole.train_step(b.images, b.labels, 200, 7);
  alone.train_step(half.images, half.labels, 200, 7);
  EXPECT_NE(whole.state_digest(), alone.state_digest());
}
