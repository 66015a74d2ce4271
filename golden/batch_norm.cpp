#include "golden/batch_norm.h"

#include <limits>
#include <stdexcept>
#include <string>

#include "golden/int_math.h"
#include "golden/parallel.h"

namespace octet::golden {

namespace {
// Channel-major view of an {N, C, ...} tensor: element (n, c, j) at (n*C + c)*inner + j.
struct ChannelView {
  int64_t batch, channels, inner;
  explicit ChannelView(const Shape& s) {
    if (s.size() < 2) throw std::invalid_argument("batch norm input must have rank >= 2 ({N, C, ...})");
    batch = s[0];
    channels = s[1];
    inner = 1;
    for (size_t i = 2; i < s.size(); ++i) inner *= s[i];
  }
  int64_t index(int64_t n, int64_t c, int64_t j) const { return (n * channels + c) * inner + j; }
};

constexpr int64_t kBnMaxCount = int64_t{1} << 24;  // elements per channel (docs/numerics.md §10)

int16_t sat16(int64_t v) { return static_cast<int16_t>(saturate(v, -32767, 32767)); }
int32_t sat32(int64_t v) {
  return static_cast<int32_t>(saturate(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
}

}  // namespace

int64_t bn_exact_std(uint128 D, int64_t N, int a, uint64_t (*floor_sqrt)(uint128)) {
  const int shift = 2 * a + 2;
  if (D != 0 && (shift >= 128 || D > (~static_cast<uint128>(0) >> shift)))
    throw std::overflow_error("batch norm: variance numerator exceeds 128 bits (docs/numerics.md §10)");
  const uint128 num = D << shift;
  const uint128 den = static_cast<uint128>(N) * static_cast<uint128>(N);
  const uint128 M = num / den;
  const uint64_t t = floor_sqrt(M);
  int64_t sigma = static_cast<int64_t>((static_cast<uint128>(t) + 1) >> 1);
  const bool tie = (t & 1) && static_cast<uint128>(t) * t == M && num % den == 0;
  if (tie) sigma = ((t + 1) / 2) % 2 == 0 ? static_cast<int64_t>((t + 1) / 2) : static_cast<int64_t>((t - 1) / 2);
  return sigma;
}

BnRunning::BnRunning(int64_t channels)
    : mean_acc(static_cast<size_t>(channels), 0), sigma_acc(static_cast<size_t>(channels), int64_t{1} << 23) {}

void bn_fill_reciprocals(BnStats& s) {
  s.recip.resize(s.sigma.size());
  s.recip_shift.resize(s.sigma.size());
  for (size_t c = 0; c < s.sigma.size(); ++c) {
    if (s.sigma[c] < 1) throw std::invalid_argument("batch norm: sigma' must be >= 1");
    const int L = floor_log2(static_cast<uint64_t>(s.sigma[c]));
    s.recip_shift[c] = L;
    s.recip[c] = narrow_checked(divide_round_half_even(static_cast<int128>(1) << (L + 24), static_cast<int128>(s.sigma[c])),
                                "batch norm reciprocal");
  }
}

BnMoments bn_moments(const Tensor<int32_t>& x, int threads) {
  const ChannelView v(x.shape);
  if (x.exp < -15 || x.exp > 0)
    throw std::invalid_argument("batch norm: input exponent " + std::to_string(x.exp) + " outside [-15, 0]");
  BnMoments m;
  m.count = v.batch * v.inner;
  if (m.count > kBnMaxCount) throw std::invalid_argument("batch norm: more than 2^24 elements per channel");
  m.input_shift = x.exp + 15;
  m.s1.resize(v.channels);
  m.s2.resize(v.channels);
  parallel_for(v.channels, threads, [&](int64_t c) {
    int64_t s1 = 0;
    uint128 s2 = 0;
    for (int64_t n = 0; n < v.batch; ++n)
      for (int64_t j = 0; j < v.inner; ++j) {
        const int64_t xv = x.data[v.index(n, c, j)];
        s1 += xv;
        s2 += static_cast<uint128>(xv * xv);
      }
    m.s1[c] = s1;
    m.s2[c] = s2;
  });
  return m;
}

BnStats bn_statistics_from_moments(const BnMoments& m, uint64_t (*floor_sqrt)(uint128)) {
  if (m.count < 1 || m.count > kBnMaxCount) throw std::invalid_argument("batch norm: more than 2^24 elements per channel");
  if (m.s1.size() != m.s2.size()) throw std::invalid_argument("batch norm: moments of different channel counts");
  BnStats s;
  s.count = m.count;
  s.input_shift = m.input_shift;
  s.mean.resize(m.s1.size());
  s.sigma.resize(m.s1.size());
  for (size_t c = 0; c < m.s1.size(); ++c) {
    s.mean[c] = divide_round_half_even(shift_left_checked(m.s1[c], s.input_shift), s.count);
    const int128 d = static_cast<int128>(static_cast<uint128>(s.count) * m.s2[c]) - static_cast<int128>(m.s1[c]) * m.s1[c];
    s.sigma[c] = bn_exact_std(static_cast<uint128>(d), s.count, s.input_shift, floor_sqrt) + 1;  // + ε = 2^-15
  }
  bn_fill_reciprocals(s);
  return s;
}

BnStats bn_batch_statistics(const Tensor<int32_t>& x, int threads) {
  return bn_statistics_from_moments(bn_moments(x, threads), isqrt);
}

BnStats bn_running_statistics(const BnRunning& running, int input_exp, int64_t count) {
  BnStats s;
  s.count = count;
  s.input_shift = input_exp + 15;
  for (size_t c = 0; c < running.mean_acc.size(); ++c) {
    s.mean.push_back(shift_right_round_half_even(running.mean_acc[c], 8));
    s.sigma.push_back(std::max<int64_t>(1, shift_right_round_half_even(running.sigma_acc[c], 8)));
  }
  bn_fill_reciprocals(s);
  return s;
}

void bn_update_running(BnRunning& running, const BnStats& batch, int decay_shift) {
  for (size_t c = 0; c < running.mean_acc.size(); ++c) {
    running.mean_acc[c] += shift_right_round_half_even(shift_left_checked(batch.mean[c], 8) - running.mean_acc[c], decay_shift);
    running.sigma_acc[c] +=
        shift_right_round_half_even(shift_left_checked(batch.sigma[c], 8) - running.sigma_acc[c], decay_shift);
  }
}

BnForward bn_forward(const Tensor<int32_t>& x, const BnStats& s, const Tensor<int16_t>& gamma,
                     const Tensor<int16_t>& beta, int threads) {
  const ChannelView v(x.shape);
  if (static_cast<int64_t>(s.mean.size()) != v.channels || gamma.size() != v.channels || beta.size() != v.channels)
    throw std::invalid_argument("bn_forward: statistics or parameters do not match the channel count");
  if (x.exp + 15 != s.input_shift) throw std::invalid_argument("bn_forward: statistics were taken at another exponent");
  BnForward out{Tensor<int16_t>(x.shape, -7), Tensor<int32_t>(x.shape, -14)};
  parallel_for(v.channels, threads, [&](int64_t c) {
  for (int64_t n = 0; n < v.batch; ++n)
      for (int64_t j = 0; j < v.inner; ++j) {
        const int64_t i = v.index(n, c, j);
        const int64_t centred = shift_left_checked(x.data[i], s.input_shift) - s.mean[c];  // on 2^-15
        const int128 prod = static_cast<int128>(centred) * s.recip[c];
        const int16_t xhat = sat16(narrow_checked(shift_right_round_half_even(prod, s.recip_shift[c] + 17), "x̂"));
        out.xhat.data[i] = xhat;
        out.y.data[i] = static_cast<int32_t>(int64_t{xhat} * gamma.data[c] + int64_t{beta.data[c]} * 128);
      }
  });
  return out;
}

BnBackwardSums bn_backward_sums(const Tensor<int32_t>& dy, const Tensor<int16_t>& xhat, int threads) {
  const ChannelView v(dy.shape);
  if (xhat.shape != dy.shape) throw std::invalid_argument("bn_backward: x̂ and dy shapes differ");
  BnBackwardSums sums{std::vector<int64_t>(v.channels), std::vector<int64_t>(v.channels)};
  parallel_for(v.channels, threads, [&](int64_t c) {
    int64_t dbeta = 0, dgamma = 0;
    for (int64_t n = 0; n < v.batch; ++n)
      for (int64_t j = 0; j < v.inner; ++j) {
        const int64_t i = v.index(n, c, j);
        dbeta += dy.data[i];
        dgamma += int64_t{dy.data[i]} * xhat.data[i];
      }
    sums.dbeta[c] = dbeta;
    sums.dgamma[c] = dgamma;
  });
  return sums;
}

BnBackward bn_backward(const Tensor<int32_t>& dy, const Tensor<int16_t>& xhat, const Tensor<int16_t>& gamma,
                       const BnStats& s, int threads, const BnBackwardSums* batch_sums) {
  const ChannelView v(dy.shape);
  if (xhat.shape != dy.shape) throw std::invalid_argument("bn_backward: x̂ and dy shapes differ");
  if (gamma.size() != v.channels) throw std::invalid_argument("bn_backward: gamma does not match the channel count");
  const int e1 = dy.exp;
  const BnBackwardSums sums = batch_sums ? *batch_sums : bn_backward_sums(dy, xhat, threads);
  if (static_cast<int64_t>(sums.dbeta.size()) != v.channels || static_cast<int64_t>(sums.dgamma.size()) != v.channels)
    throw std::invalid_argument("bn_backward: batch sums do not match the channel count");
  BnBackward out{Tensor<int64_t>(dy.shape, e1 - 16), Tensor<int32_t>({v.channels}, -14),
                 Tensor<int32_t>({v.channels}, -14)};
  parallel_for(v.channels, threads, [&](int64_t c) {
    const int64_t dbeta = sums.dbeta[c], dgamma = sums.dgamma[c];
    out.g_beta.data[c] = sat32(shift_round_half_even(dbeta, e1 + 14));
    out.g_gamma.data[c] = sat32(shift_round_half_even(dgamma, e1 - 7 + 14));
    const int64_t mb = divide_round_half_even(shift_left_checked(dbeta, 8), s.count);   // on 2^(e1-8)
    const int64_t mg = divide_round_half_even(shift_left_checked(dgamma, 8), s.count);  // on 2^(e1-15)
    const int64_t cg = int64_t{gamma.data[c]} * s.recip[c];
    for (int64_t n = 0; n < v.batch; ++n)
      for (int64_t j = 0; j < v.inner; ++j) {
        const int64_t i = v.index(n, c, j);
        // U is int64 (contract §6.3): computed in int128, an overflow is an error, not a wrap.
        const int64_t u = narrow_checked(static_cast<int128>(shift_left_checked(dy.data[i], 22)) -
                                             shift_left_checked(mb, 14) - static_cast<int128>(xhat.data[i]) * mg,
                                         "BN U");
        out.dx.data[i] =
            narrow_checked(shift_right_round_half_even(static_cast<int128>(u) * cg, s.recip_shift[c] + 22), "BN dx");
      }
  });
  return out;
}

}  // namespace octet::golden
