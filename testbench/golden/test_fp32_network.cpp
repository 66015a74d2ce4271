// FP32 twin: GEMM against a naive product, analytic gradients of every layer against central
// finite differences (in double), the whole network's gradients, float vs double, the SGD step,
// BN running statistics, and training progress on a fixed batch.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "golden/fp32_gemm.h"
#include "golden/fp32_layers.h"
#include "golden/fp32_network.h"

using namespace octet::golden;
using namespace octet::golden::fp32;

namespace {

// Every random input is drawn from a seeded generator; the seed is printed.
std::mt19937_64 seeded(uint64_t seed, const char* what) {
  std::printf("[seed] %s: %llu\n", what, static_cast<unsigned long long>(seed));
  return std::mt19937_64(seed);
}

template <typename T>
std::vector<T> uniform(std::mt19937_64& rng, size_t n, double lo = -1, double hi = 1) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(u(rng));
  return v;
}

// Values bounded away from each other by at least `gap` (a shuffled ladder): no ties or
// near-ties for max pooling under finite-difference steps.
std::vector<double> distinct(std::mt19937_64& rng, size_t n, double gap) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = (static_cast<double>(i) - static_cast<double>(n) / 2) * gap;
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Compares an analytic gradient with the central difference of f at `x` for every element.
// The objective is f(); `x` is perturbed in place.
void check_gradient(const char* what, std::vector<double>& x, const std::vector<double>& analytic,
                    const std::function<double()>& f, double h = 1e-6, double tol = 1e-6) {
  ASSERT_EQ(x.size(), analytic.size()) << what;
  double max_abs = 0, max_err = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + h;
    const double fp = f();
    x[i] = keep - h;
    const double fm = f();
    x[i] = keep;
    const double fd = (fp - fm) / (2 * h);
    max_abs = std::max(max_abs, std::fabs(fd));
    max_err = std::max(max_err, std::fabs(fd - analytic[i]));
    EXPECT_NEAR(analytic[i], fd, tol * std::max(1.0, std::fabs(fd))) << what << " element " << i;
  }
  std::printf("%-28s %5zu elements, max |grad| %.3e, max |analytic - fd| %.3e\n", what, x.size(), max_abs, max_err);
  EXPECT_GT(max_abs, 1e-3) << what << ": gradient is trivially zero";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// GEMM

template <typename T>
void gemm_case(std::mt19937_64& rng, bool ta, bool tb, int M, int N, int K, bool acc) {
  const int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
  const auto A = uniform<T>(rng, static_cast<size_t>(ta ? K : M) * lda);
  const auto B = uniform<T>(rng, static_cast<size_t>(tb ? N : K) * ldb);
  auto C = uniform<T>(rng, static_cast<size_t>(M) * ldc);
  const auto C0 = C;
  gemm<T>(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C.data(), ldc, acc);
  const double tol = sizeof(T) == 4 ? 1e-5 * (K + 1) : 1e-13 * (K + 1);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < ldc; ++j) {
      const size_t ci = static_cast<size_t>(i) * ldc + j;
      if (j >= N) {
        ASSERT_EQ(C[ci], C0[ci]) << "wrote outside the N columns";
        continue;
      }
      double s = acc ? static_cast<double>(C0[ci]) : 0.0;
      for (int k = 0; k < K; ++k)
        s += static_cast<double>(ta ? A[static_cast<size_t>(k) * lda + i] : A[static_cast<size_t>(i) * lda + k]) *
             static_cast<double>(tb ? B[static_cast<size_t>(j) * ldb + k] : B[static_cast<size_t>(k) * ldb + j]);
      ASSERT_NEAR(C[ci], s, tol) << "M" << M << " N" << N << " K" << K << " ta" << ta << " tb" << tb << " at " << i
                                 << "," << j;
    }
}

TEST(Fp32Gemm, MatchesNaiveProductAllTransposesAndEdges) {
  auto rng = seeded(101, "gemm");
  std::printf("AVX2+FMA kernel in use: %s\n", gemm_uses_avx2() ? "yes" : "no");
  const int sizes[][3] = {{1, 1, 1}, {5, 7, 3}, {6, 16, 1}, {13, 33, 300}, {97, 20, 257}, {7, 2100, 9}, {200, 3, 40}};
  for (const auto& s : sizes)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (int acc = 0; acc < 2; ++acc) {
          gemm_case<float>(rng, ta, tb, s[0], s[1], s[2], acc);
          gemm_case<double>(rng, ta, tb, s[0], s[1], s[2], acc);
        }
}

TEST(Fp32Gemm, ZeroDepthClearsOrKeeps) {
  std::vector<float> C = {1, 2, 3, 4};
  gemm<float>(false, false, 2, 2, 0, nullptr, 1, nullptr, 2, C.data(), 2, true);
  EXPECT_EQ(C, (std::vector<float>{1, 2, 3, 4}));
  gemm<float>(false, false, 2, 2, 0, nullptr, 1, nullptr, 2, C.data(), 2, false);
  EXPECT_EQ(C, (std::vector<float>{0, 0, 0, 0}));
}

// ---------------------------------------------------------------------------------------------
// Layers, in double against central differences. Objective: L = sum(r * y) for a random r.

class ConvGrad : public ::testing::TestWithParam<ConvGeom> {};

TEST_P(ConvGrad, MatchesFiniteDifferences) {
  const ConvGeom g = GetParam();
  auto rng = seeded(200 + static_cast<uint64_t>(g.k * 10 + g.s * 3 + g.p), "conv");
  const size_t nx = static_cast<size_t>(g.N) * g.Ci * g.H * g.W, nw = static_cast<size_t>(g.Co) * g.Ci * g.k * g.k;
  const size_t ny = static_cast<size_t>(g.N) * g.Co * g.Ho() * g.Wo();
  auto x = uniform<double>(rng, nx), w = uniform<double>(rng, nw);
  const auto r = uniform<double>(rng, ny);
  std::vector<double> y(ny), dx(nx, 0.0), dw(nw);
  conv2d_backward(g, x.data(), w.data(), r.data(), dx.data(), dw.data(), 2);
  const auto f = [&] {
    conv2d_forward(g, x.data(), w.data(), y.data(), 2);
    return dot(r, y);
  };
  check_gradient("conv dx", x, dx, f);
  check_gradient("conv dw", w, dw, f);

  // Float and any thread count agree with double; dx accumulates.
  std::vector<float> xf(x.begin(), x.end()), wf(w.begin(), w.end()), rf(r.begin(), r.end());
  std::vector<float> yf(ny), dxf(nx, 1.0f), dwf(nw);
  for (int threads : {1, 3}) {
    conv2d_forward(g, xf.data(), wf.data(), yf.data(), threads);
    std::fill(dxf.begin(), dxf.end(), 1.0f);
    conv2d_backward(g, xf.data(), wf.data(), rf.data(), dxf.data(), dwf.data(), threads);
    f();
    for (size_t i = 0; i < ny; ++i) ASSERT_NEAR(yf[i], y[i], 1e-4);
    for (size_t i = 0; i < nx; ++i) ASSERT_NEAR(dxf[i], dx[i] + 1.0, 1e-4);
    for (size_t i = 0; i < nw; ++i) ASSERT_NEAR(dwf[i], dw[i], 1e-4);
  }
}

INSTANTIATE_TEST_SUITE_P(Geometries, ConvGrad,
                         ::testing::Values(ConvGeom{2, 3, 7, 6, 4, 3, 2, 1},   // stride 2, pad 1, non-square
                                           ConvGeom{3, 2, 5, 5, 3, 3, 1, 1},   // same-size 3x3
                                           ConvGeom{2, 2, 6, 7, 3, 2, 3, 2},   // k=2 s=3 p=2
                                           ConvGeom{2, 4, 5, 5, 5, 1, 1, 0},   // pointwise fast path
                                           ConvGeom{2, 4, 6, 5, 3, 1, 2, 0})); // 1x1 stride-2 projection

TEST(Fp32Layers, LinearGradients) {
  auto rng = seeded(301, "linear");
  const int N = 3, I = 7, O = 4;
  auto x = uniform<double>(rng, N * I), w = uniform<double>(rng, O * I), b = uniform<double>(rng, O);
  const auto r = uniform<double>(rng, N * O);
  std::vector<double> y(N * O), dx(N * I, 0.0), dw(O * I), db(O);
  linear_backward(N, I, O, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data());
  const auto f = [&] {
    linear_forward(N, I, O, x.data(), w.data(), b.data(), y.data());
    return dot(r, y);
  };
  check_gradient("linear dx", x, dx, f);
  check_gradient("linear dw", w, dw, f);
  check_gradient("linear db", b, db, f);
}

TEST(Fp32Layers, BatchNormTrainingGradients) {
  for (bool relu : {false, true}) {
    auto rng = seeded(relu ? 402 : 401, relu ? "bn+relu" : "bn");
    const int N = 3, C = 2, HW = 5;
    auto x = uniform<double>(rng, N * C * HW, -2, 3), gamma = uniform<double>(rng, C, 0.5, 1.5),
         beta = uniform<double>(rng, C, -0.5, 0.5);
    const auto r = uniform<double>(rng, N * C * HW);
    std::vector<double> y(x.size()), mean(C), sigma(C), dx(x.size(), 0.0), dg(C), dbt(C);
    batchnorm_train_forward(N, C, HW, x.data(), gamma.data(), beta.data(), y.data(), mean.data(), sigma.data(), relu,
                            1);
    // With ReLU, the mask comes from the output; the error at the BN output is r.
    batchnorm_backward<double>(N, C, HW, x.data(), gamma.data(), mean.data(), sigma.data(), r.data(),
                       relu ? y.data() : nullptr, dx.data(), dg.data(), dbt.data(), 1);
    const auto f = [&] {
      std::vector<double> m(C), s(C);
      batchnorm_train_forward(N, C, HW, x.data(), gamma.data(), beta.data(), y.data(), m.data(), s.data(), relu, 1);
      return dot(r, y);
    };
    check_gradient(relu ? "bnrelu dx" : "bn dx", x, dx, f);
    check_gradient(relu ? "bnrelu dgamma" : "bn dgamma", gamma, dg, f);
    check_gradient(relu ? "bnrelu dbeta" : "bn dbeta", beta, dbt, f);
  }
}

TEST(Fp32Layers, BatchNormForwardDefinition) {
  // x^ = (x - mu) / (sigma + 2^-15) with the biased sigma; inference uses the given statistics.
  const std::vector<double> x = {1, 2, 3, 4, 10, 10, 10, 10};  // N=2, C=2, HW=2: channel 0 = {1,2,5,6}?
  const int N = 2, C = 2, HW = 2;
  const std::vector<double> gamma = {2, 1}, beta = {0.5, -1};
  std::vector<double> y(8), mean(2), sigma(2);
  batchnorm_train_forward(N, C, HW, x.data(), gamma.data(), beta.data(), y.data(), mean.data(), sigma.data(), false, 1);
  // channel 0: samples' elements {1,2} and {10,10}; channel 1: {3,4} and {10,10}.
  EXPECT_DOUBLE_EQ(mean[0], 23.0 / 4);
  const double var0 = ((1 - 5.75) * (1 - 5.75) + (2 - 5.75) * (2 - 5.75) + 2 * (10 - 5.75) * (10 - 5.75)) / 4;
  EXPECT_DOUBLE_EQ(sigma[0], std::sqrt(var0));
  EXPECT_DOUBLE_EQ(y[0], 2 * (1 - 5.75) / (std::sqrt(var0) + kBnEps) + 0.5);
  // A constant channel normalises to beta and has a finite gradient.
  const std::vector<double> xc = {3, 3, 3, 3};
  std::vector<double> yc(4), mc(1), sc(1), dxc(4, 0.0), dg(1), db(1);
  batchnorm_train_forward(2, 1, 2, xc.data(), gamma.data(), beta.data(), yc.data(), mc.data(), sc.data(), false, 1);
  EXPECT_EQ(sc[0], 0.0);
  EXPECT_EQ(yc[2], 0.5);
  const std::vector<double> r = {1, -2, 3, 0.5};
  batchnorm_backward<double>(2, 1, 2, xc.data(), gamma.data(), mc.data(), sc.data(), r.data(), nullptr, dxc.data(),
                             dg.data(),
                     db.data(), 1);
  for (double d : dxc) EXPECT_TRUE(std::isfinite(d));
  const std::vector<double> rm = {1, 2}, rs = {4, 0.5};
  batchnorm_infer_forward(N, C, HW, x.data(), gamma.data(), beta.data(), rm.data(), rs.data(), y.data(), false, 1);
  EXPECT_DOUBLE_EQ(y[0], 2 * (1 - 1) / 4.0 + 0.5);
  EXPECT_DOUBLE_EQ(y[3], 1 * (4 - 2) / 0.5 - 1);
}

TEST(Fp32Layers, ReluGradients) {
  auto rng = seeded(501, "relu");
  auto x = uniform<double>(rng, 40);
  for (auto& v : x)
    if (std::fabs(v) < 0.05) v += 0.1;  // away from the kink
  const auto r = uniform<double>(rng, 40);
  std::vector<double> y(40), dx(40, 0.0);
  relu_forward<double>(40, x.data(), y.data());
  relu_backward<double>(40, y.data(), r.data(), dx.data());
  check_gradient("relu dx", x, dx, [&] {
    relu_forward<double>(40, x.data(), y.data());
    return dot(r, y);
  });
}

class PoolGrad : public ::testing::TestWithParam<PoolGeom> {};

TEST_P(PoolGrad, MaxAndAverageMatchFiniteDifferences) {
  const PoolGeom g = GetParam();
  auto rng = seeded(600 + static_cast<uint64_t>(g.kh * 7 + g.s * 3 + g.p), "pool");
  const size_t nx = static_cast<size_t>(g.N) * g.C * g.H * g.W, ny = static_cast<size_t>(g.N) * g.C * g.Ho() * g.Wo();
  auto x = distinct(rng, nx, 0.01);
  const auto r = uniform<double>(rng, ny);
  std::vector<double> y(ny), dx(nx, 0.0);
  std::vector<int32_t> am(ny);
  maxpool_forward(g, x.data(), y.data(), am.data(), 2);
  maxpool_backward(g, am.data(), r.data(), dx.data());
  check_gradient("maxpool dx", x, dx, [&] {
    maxpool_forward(g, x.data(), y.data(), am.data(), 2);
    return dot(r, y);
  });
  std::fill(dx.begin(), dx.end(), 0.0);
  avgpool_backward(g, r.data(), dx.data(), 2);
  check_gradient("avgpool dx", x, dx, [&] {
    avgpool_forward(g, x.data(), y.data(), 2);
    return dot(r, y);
  });
}

INSTANTIATE_TEST_SUITE_P(Geometries, PoolGrad,
                         ::testing::Values(PoolGeom{2, 3, 7, 6, 3, 3, 2, 1},  // ResNet stem pool shape
                                           PoolGeom{2, 2, 6, 6, 2, 2, 2, 0},
                                           PoolGeom{1, 2, 5, 7, 3, 3, 1, 1},
                                           PoolGeom::global(2, 3, 4, 5)));

TEST(Fp32Layers, PoolingPaddingAndTies) {
  // 1x1x2x2 input, k=3 s=1 p=1: every window is clipped; padding never takes part.
  const PoolGeom g{1, 1, 2, 2, 3, 3, 1, 1};
  const std::vector<double> x = {-4, -3, -2, -1};
  std::vector<double> y(4);
  std::vector<int32_t> am(4);
  maxpool_forward(g, x.data(), y.data(), am.data(), 1);
  EXPECT_EQ(y, (std::vector<double>{-1, -1, -1, -1}));  // not the zero padding
  avgpool_forward(g, x.data(), y.data(), 1);
  EXPECT_EQ(y, (std::vector<double>{-2.5, -2.5, -2.5, -2.5}));  // divided by 4 real elements, not 9
  // Ties route to the first maximum in row-major window order.
  const PoolGeom t{1, 1, 2, 2, 2, 2, 1, 0};
  const std::vector<double> xt = {1, 5, 5, 5};
  std::vector<double> yt(1), dx(4, 0.0);
  std::vector<int32_t> amt(1);
  maxpool_forward(t, xt.data(), yt.data(), amt.data(), 1);
  EXPECT_EQ(amt[0], 1);
  const std::vector<double> one = {1};
  maxpool_backward(t, amt.data(), one.data(), dx.data());
  EXPECT_EQ(dx, (std::vector<double>{0, 1, 0, 0}));
}

TEST(Fp32Layers, SoftmaxCrossEntropyGradientAndValue) {
  auto rng = seeded(701, "softmax-ce");
  const int N = 4, K = 5;
  auto z = uniform<double>(rng, N * K, -3, 3);
  const std::vector<Label> labels = {0, 4, 2, 2};
  std::vector<double> dz(N * K);
  const double loss = softmax_cross_entropy(N, K, z.data(), labels.data(), dz.data());
  check_gradient("softmax-ce dlogits", z, dz,
                 [&] { return softmax_cross_entropy<double>(N, K, z.data(), labels.data(), nullptr); });
  double expect = 0;
  for (int n = 0; n < N; ++n) {
    double s = 0;
    for (int k = 0; k < K; ++k) s += std::exp(z[n * K + k]);
    expect += -std::log(std::exp(z[n * K + labels[n]]) / s);
  }
  EXPECT_NEAR(loss, expect / N, 1e-12);
  // Uniform logits: log K. Large logits stay finite.
  std::vector<float> big = {1000.f, -1000.f, 0.f};
  const Label l1 = 1;
  EXPECT_NEAR(softmax_cross_entropy<float>(1, 3, big.data(), &l1, nullptr), 2000.0, 1e-3);
  std::vector<float> flat(3, 0.f);
  EXPECT_NEAR(softmax_cross_entropy<float>(1, 3, flat.data(), &l1, nullptr), std::log(3.0), 1e-6);
  const Label bad = 3;
  EXPECT_THROW(softmax_cross_entropy<float>(1, 3, flat.data(), &bad, nullptr), std::invalid_argument);
}

// Labels beyond 255: with 300 equal logits the gradient is 1/300 everywhere but -299/300 at the label.
TEST(Fp32Layers, SoftmaxCrossEntropyLabelAbove255) {
  const std::vector<double> z(300, 0.5);
  std::vector<double> dz(300);
  const Label label = 299;
  EXPECT_NEAR(softmax_cross_entropy<double>(1, 300, z.data(), &label, dz.data()), std::log(300.0), 1e-12);
  for (int i = 0; i < 300; ++i) EXPECT_NEAR(dz[i], (i == 299 ? -299.0 : 1.0) / 300.0, 1e-15) << i;
}

// ---------------------------------------------------------------------------------------------
// Whole networks

namespace {

// Every op: strided/padded conv, projection shortcut, add of a stream and an activation, BN on an
// activation, max and windowed average pooling, global pooling, linear.
const char* kTinyNet = R"(
network tiny
input   x    2x8x7
conv    c1   x    out=3 k=3 s=1 p=1
bnrelu  a1   c1
conv    c2   a1   out=4 k=3 s=2 p=1
bnrelu  a2   c2
conv    c3   a2   out=4 k=3 p=1
conv    pr   a1   out=4 k=1 s=2
add     s1   pr c3
maxpool m1   a2   k=2 s=1
bnrelu  a3   s1
avgpool q1   a3   k=2 s=1
add     s2   q1 m1
bnrelu  a4   s2
avgpool g    a4   global
linear  fc   g    out=3
)";

template <typename T>
std::vector<std::vector<T>> random_params(const NetworkDesc& net, uint64_t seed) {
  auto rng = seeded(seed, "initial parameters");
  std::vector<std::vector<T>> params;
  for (const ParamDesc& p : network_params(net)) {
    const double a = std::sqrt(3.0 / static_cast<double>(p.fan_in));
    switch (p.kind) {
      case ParamDesc::kWeight: params.push_back(uniform<T>(rng, static_cast<size_t>(p.size()), -a, a)); break;
      case ParamDesc::kBias: params.push_back(uniform<T>(rng, static_cast<size_t>(p.size()), -0.1, 0.1)); break;
      case ParamDesc::kGamma: params.push_back(uniform<T>(rng, static_cast<size_t>(p.size()), 0.7, 1.3)); break;
      case ParamDesc::kBeta: params.push_back(uniform<T>(rng, static_cast<size_t>(p.size()), -0.2, 0.2)); break;
    }
  }
  return params;
}

struct Batch {
  int n = 0;
  std::vector<double> images;
  std::vector<Label> labels;
};

Batch random_batch(const NetworkDesc& net, int n, uint64_t seed) {
  auto rng = seeded(seed, "batch");
  Batch b;
  b.n = n;
  b.images = uniform<double>(rng, static_cast<size_t>(n * node_elements(net.input())), 0, 1);
  for (int i = 0; i < n; ++i) b.labels.push_back(static_cast<Label>(rng() % static_cast<uint64_t>(net.num_classes())));
  return b;
}

}  // namespace

TEST(Fp32Network, WholeNetworkGradientsMatchFiniteDifferences) {
  const NetworkDesc net = parse_network_text(kTinyNet, "tiny");
  Fp64Network model(net, random_params<double>(net, 801));
  model.set_compute_input_grad(true);
  const Batch b = random_batch(net, 3, 802);
  const double loss = model.forward_backward(b.images.data(), b.labels.data(), b.n);
  EXPECT_TRUE(std::isfinite(loss));
  const auto grads = model.grads();
  auto images = b.images;
  const auto f = [&] { return static_cast<double>(model.loss(images.data(), b.labels.data(), b.n, true)); };
  for (size_t p = 0; p < grads.size(); ++p)
    check_gradient(model.param_descs()[p].name.c_str(), model.params()[p], grads[p], f, 1e-6, 2e-5);
  check_gradient("input", images, model.input_grad(), f, 1e-6, 2e-5);
}

TEST(Fp32Network, FloatMatchesDoubleAndThreadCounts) {
  const NetworkDesc net = parse_network_text(kTinyNet, "tiny");
  const auto pd = random_params<double>(net, 811);
  const Batch b = random_batch(net, 5, 812);
  Fp64Network ref(net, pd);
  const double loss_d = ref.forward_backward(b.images.data(), b.labels.data(), b.n);
  std::vector<std::vector<float>> pf;
  for (const auto& v : pd) pf.emplace_back(v.begin(), v.end());
  const std::vector<float> imf(b.images.begin(), b.images.end());
  for (int threads : {1, 2, 4}) {
    Fp32Network m(net, pf);
    m.set_threads(threads);
    const float loss_f = m.forward_backward(imf.data(), b.labels.data(), b.n);
    EXPECT_NEAR(loss_f, loss_d, 1e-5 * std::max(1.0, loss_d)) << threads << " threads";
    for (size_t p = 0; p < pd.size(); ++p)
      for (size_t i = 0; i < pd[p].size(); ++i)
        ASSERT_NEAR(m.grads()[p][i], ref.grads()[p][i], 2e-4) << m.param_descs()[p].name << "[" << i << "]";
  }
}

TEST(Fp32Network, SgdStepMomentumAndWeightDecay) {
  const NetworkDesc net = parse_network_text(kTinyNet, "tiny");
  Fp64Network m(net, random_params<double>(net, 821));
  const Batch b = random_batch(net, 4, 822);
  const double lr = 0.1, mu = 0.9, wd = 1e-2;
  const auto w0 = m.params();
  m.forward_backward(b.images.data(), b.labels.data(), b.n);
  const auto g1 = m.grads();
  m.sgd_step(lr, mu, wd);
  const auto w1 = m.params();
  m.forward_backward(b.images.data(), b.labels.data(), b.n);
  const auto g2 = m.grads();
  m.sgd_step(lr, mu, wd);
  for (size_t p = 0; p < w0.size(); ++p) {
    const double d = m.param_descs()[p].kind == ParamDesc::kWeight ? wd : 0.0;
    for (size_t i = 0; i < w0[p].size(); ++i) {
      const double v1 = g1[p][i] + d * w0[p][i];
      EXPECT_DOUBLE_EQ(w1[p][i], w0[p][i] - lr * v1);
      const double v2 = mu * v1 + g2[p][i] + d * w1[p][i];
      EXPECT_NEAR(m.params()[p][i], w1[p][i] - lr * v2, 1e-15);
      EXPECT_NEAR(m.momentum_buffers()[p][i], v2, 1e-15);
    }
  }
}

TEST(Fp32Network, RunningStatisticsAndInference) {
  const NetworkDesc net = parse_network_text(
      "network t\ninput x 2x4x4\nbnrelu a x\nconv c a out=3 k=3 p=1\nbnrelu b c\navgpool g b global\n"
      "linear fc g out=4\n",
      "t");
  Fp64Network m(net, random_params<double>(net, 831));
  const Batch b = random_batch(net, 6, 832);
  m.forward_backward(b.images.data(), b.labels.data(), b.n);
  // First BN reads the images: check mu and sigma + eps averaging with momentum kBnMomentum.
  for (int c = 0; c < 2; ++c) {
    double s1 = 0, s2 = 0;
    for (int n = 0; n < b.n; ++n)
      for (int i = 0; i < 16; ++i) s1 += b.images[static_cast<size_t>((n * 2 + c) * 16 + i)];
    const double mu = s1 / (b.n * 16);
    for (int n = 0; n < b.n; ++n)
      for (int i = 0; i < 16; ++i) {
        const double d = b.images[static_cast<size_t>((n * 2 + c) * 16 + i)] - mu;
        s2 += d * d;
      }
    const double sigma = std::sqrt(s2 / (b.n * 16));
    EXPECT_NEAR(m.running_mean(1)[c], mu * (1 - kBnMomentum), 1e-15);
    EXPECT_NEAR(m.running_scale(1)[c], kBnMomentum + (sigma + kBnEps) * (1 - kBnMomentum), 1e-15);
  }
  // Side-effect-free loss leaves the statistics alone.
  const double rm = m.running_mean(3)[0];
  m.loss(b.images.data(), b.labels.data(), b.n, true);
  EXPECT_EQ(m.running_mean(3)[0], rm);
  // With the running statistics converged to the batch's, inference equals training mode.
  for (int i = 0; i < 4000; ++i) m.forward_backward(b.images.data(), b.labels.data(), b.n);
  const double train = m.loss(b.images.data(), b.labels.data(), b.n, true);
  const double infer = m.loss(b.images.data(), b.labels.data(), b.n, false);
  EXPECT_NEAR(infer, train, 1e-4);
  std::vector<int> classes;
  m.predict(b.images.data(), b.n, classes);
  ASSERT_EQ(classes.size(), 6u);
  const auto& z = m.logits();
  for (int n = 0; n < b.n; ++n)
    for (int k = 0; k < 4; ++k) EXPECT_LE(z[static_cast<size_t>(n * 4 + k)], z[static_cast<size_t>(n * 4 + classes[n])]);
}

TEST(Fp32Network, LossDecreasesOnAFixedBatch) {
  const NetworkDesc net = parse_network_text(kTinyNet, "tiny");
  Fp32Network m(net, random_params<float>(net, 841));
  const Batch b = random_batch(net, 16, 842);
  const std::vector<float> im(b.images.begin(), b.images.end());
  std::vector<float> losses;
  for (int step = 0; step < 30; ++step) {
    losses.push_back(m.forward_backward(im.data(), b.labels.data(), b.n));
    m.sgd_step(0.1f, 0.9f, 1e-4f);
  }
  std::printf("loss: step 0 %.4f, step 10 %.4f, step 29 %.4f\n", losses[0], losses[10], losses[29]);
  EXPECT_LT(losses[10], losses[0]);
  EXPECT_LT(losses[29], 0.5f * losses[0]);
}

TEST(Fp32Network, RejectsWrongParameters) {
  const NetworkDesc net = parse_network_text(kTinyNet, "tiny");
  auto p = random_params<float>(net, 851);
  p.pop_back();
  EXPECT_THROW(Fp32Network(net, p), std::invalid_argument);
  p = random_params<float>(net, 851);
  p[0].push_back(0.f);
  try {
    Fp32Network m(net, p);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "parameter c1.weight needs 54 values, got 55");
  }
}

TEST(Fp32Network, SmallResnetTrainsAStep) {
  const NetworkDesc net = parse_network_file(std::string(OCTET_NETWORKS_DIR) + "/small_resnet.net");
  Fp32Network m(net, random_params<float>(net, 861));
  const Batch b = random_batch(net, 32, 862);
  const std::vector<float> im(b.images.begin(), b.images.end());
  const auto t0 = std::chrono::steady_clock::now();
  const float l0 = m.forward_backward(im.data(), b.labels.data(), b.n);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("small_resnet batch 32, %d threads: forward+backward %.1f ms (%.1f GFLOP/s counting 3x forward MACs)\n",
              m.threads(), s * 1e3, 6.0 * static_cast<double>(count_macs_forward(net, 32)) / s / 1e9);
  m.sgd_step(0.05f, 0.9f, 1e-4f);
  float l = l0;
  for (int i = 0; i < 5; ++i) {
    l = m.forward_backward(im.data(), b.labels.data(), b.n);
    m.sgd_step(0.05f, 0.9f, 1e-4f);
  }
  EXPECT_TRUE(std::isfinite(l0));
  EXPECT_LT(l, l0);
}
