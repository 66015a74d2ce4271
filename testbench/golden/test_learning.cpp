// A real learning check: a compact integer network trained for a few hundred steps on a
// Fashion-MNIST subset must reach a test accuracy far above chance (10%).
#include <gtest/gtest.h>

#include "golden/dataset.h"
#include "golden/int_network.h"
#include "golden/trainer.h"

using namespace octet::golden;

namespace {
const char* kCompactNet = R"(network compact
input   x   1x28x28
conv    c1  x   out=8  k=3 s=2 p=1
bnrelu  a1  c1
conv    c2  a1  out=16 k=3 s=2 p=1
bnrelu  a2  c2
conv    c3  a2  out=16 k=3 s=1 p=1
add     s3  c2 c3
bnrelu  a3  s3
avgpool p   a3  global
linear  fc  p   out=10
)";
}  // namespace

TEST(Learning, IntegerNetworkLearnsFashionMnistSubset) {
  Dataset train, test;
  try {
    train = take_first(load_fashion_mnist(Split::kTrain), 19200);
    test = take_first(load_fashion_mnist(Split::kTest), 2000);
  } catch (const std::exception& e) {
    GTEST_SKIP() << "Fashion-MNIST not installed: " << e.what();
  }
  const uint64_t seed = 1;
  std::printf("seed=%llu\n", static_cast<unsigned long long>(seed));
  IntTrainOptions opt;
  opt.threads = 2;
  opt.bn_decay_shift = 5;  // running statistics settle within 300 steps
  IntNetwork net(parse_network_text(kCompactNet, "compact"), seed, opt);
  const std::vector<int64_t> order = shuffled_order(train.size(), seed, 0);
  const int batch = 64;
  for (int64_t s = 0; s < train.size() / batch; ++s) {  // 300 steps at lr = 511 * 2^-9
    const Batch b = make_batch(train, std::span<const int64_t>(&order[s * batch], batch));
    net.train_step(b.images, b.labels, 511, 7);
  }
  int64_t correct = 0;
  for (int64_t start = 0; start < test.size(); start += 500) {
    std::vector<int64_t> idx;
    for (int64_t i = start; i < start + 500; ++i) idx.push_back(i);
    const Batch b = make_batch(test, idx);
    const Tensor<int32_t> z = net.infer(b.images);
    for (int64_t i = 0; i < 500; ++i)
      correct += (std::max_element(&z.data[i * 10], &z.data[i * 10] + 10) - &z.data[i * 10]) == b.labels[i];
  }
  const double accuracy = static_cast<double>(correct) / static_cast<double>(test.size());
  std::printf("integer test accuracy after 300 steps: %.2f%%\n", 100 * accuracy);
  EXPECT_GT(accuracy, 0.60);  // six times chance; the run is deterministic and gives 67.75%
}
