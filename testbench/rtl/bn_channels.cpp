#include "testbench/rtl/bn_channels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace octet::tb {

const char* bn_mode_name(int mode) {
  return mode == kBnTrain ? "train" : mode == kBnInfer ? "infer" : "backward";
}

namespace {
struct View {
  int64_t batch, channels, inner;
  explicit View(const golden::Shape& s) : batch(s[0]), channels(s[1]), inner(1) {
    for (size_t i = 2; i < s.size(); ++i) inner *= s[i];
  }
  int64_t index(int64_t n, int64_t c, int64_t j) const { return (n * channels + c) * inner + j; }
};

template <typename T>
std::vector<T> channel_of(const golden::Tensor<T>& t, const View& v, int64_t c) {
  std::vector<T> out;
  out.reserve(static_cast<size_t>(v.batch * v.inner));
  for (int64_t n = 0; n < v.batch; ++n)
    for (int64_t j = 0; j < v.inner; ++j) out.push_back(t.data[v.index(n, c, j)]);
  return out;
}
}  // namespace

bool bn_channels_from(const BnTensorCase& tc, std::vector<BnChannel>& out) {
  const View v(tc.x.shape);
  std::vector<BnChannel> add;
  try {
    const golden::BnStats s = golden::bn_batch_statistics(tc.x);
    const golden::BnForward f = golden::bn_forward(tc.x, s, tc.gamma, tc.beta);
    golden::BnRunning updated = tc.running;
    golden::bn_update_running(updated, s, tc.decay);
    const golden::BnStats si = golden::bn_running_statistics(tc.infer_running, tc.x.exp, s.count);
    const golden::BnForward fi = golden::bn_forward(tc.x, si, tc.gamma, tc.beta);
    const golden::Tensor<int16_t>& xb = tc.xhat_bwd.data.empty() ? f.xhat : tc.xhat_bwd;
    const golden::BnBackward b = golden::bn_backward(tc.dy, xb, tc.gamma, s);
    for (int64_t c = 0; c < v.channels; ++c) {
      BnChannel base;
      base.origin = tc.origin;
      base.channel = static_cast<int>(c);
      base.n = s.count;
      base.in_shift = s.input_shift;
      base.gamma = tc.gamma.data[c];
      base.beta = tc.beta.data[c];
      base.decay = tc.decay;

      BnChannel t = base;
      t.mode = kBnTrain;
      t.mean_acc = tc.running.mean_acc[c];
      t.sigma_acc = tc.running.sigma_acc[c];
      t.data = channel_of(tc.x, v, c);
      t.stat = {s.mean[c], s.sigma[c], s.recip[c], s.recip_shift[c], updated.mean_acc[c], updated.sigma_acc[c], 0, 0};
      t.xhat = channel_of(f.xhat, v, c);
      t.y = channel_of(f.y, v, c);
      add.push_back(t);

      BnChannel i = base;
      i.mode = kBnInfer;
      i.mean_acc = tc.infer_running.mean_acc[c];
      i.sigma_acc = tc.infer_running.sigma_acc[c];
      i.data = t.data;
      i.stat = {si.mean[c], si.sigma[c], si.recip[c], si.recip_shift[c], i.mean_acc, i.sigma_acc, 0, 0};
      i.xhat = channel_of(fi.xhat, v, c);
      i.y = channel_of(fi.y, v, c);
      add.push_back(std::move(i));

      BnChannel k = base;
      k.mode = kBnBackward;
      k.sigma = s.sigma[c];
      k.e1 = tc.dy.exp;
      k.data = channel_of(tc.dy, v, c);
      k.xhat_in = channel_of(xb, v, c);
      k.stat = {0, s.sigma[c], s.recip[c], s.recip_shift[c], 0, 0, b.g_gamma.data[c], b.g_beta.data[c]};
      k.dx = channel_of(b.dx, v, c);
      add.push_back(std::move(k));
    }
  } catch (const std::overflow_error&) {
    return false;
  }
  out.insert(out.end(), std::make_move_iterator(add.begin()), std::make_move_iterator(add.end()));
  return true;
}

namespace {
int64_t uniform(std::mt19937_64& g, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(g);
}

int32_t clamp32(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

int16_t param16(std::mt19937_64& g) {
  switch (g() % 6) {
    case 0: return static_cast<int16_t>(g() & 1 ? 32767 : (g() & 1 ? -32767 : -32768));
    case 1: return static_cast<int16_t>(uniform(g, -4, 4));
    case 2: return static_cast<int16_t>(g());
    default: return static_cast<int16_t>(uniform(g, -256, 256));  // |γ|, |β| around 1 on 2^-7
  }
}
}  // namespace

BnTensorCase bn_random_case(std::mt19937_64& g, int max_elems) {
  BnTensorCase tc;
  // Shape: rank 2 ({N, C}) or 4 ({N, C, H, W}); N·H·W per channel up to max_elems.
  golden::Shape shape;
  const int64_t channels = uniform(g, 1, 3);
  const int64_t per = uniform(g, 1, max_elems);
  if (g() % 4 == 0) {
    shape = {per, channels};
  } else {
    const int64_t batch = uniform(g, 1, std::min<int64_t>(per, 8));
    const int64_t rest = std::max<int64_t>(1, per / batch);
    const int64_t h = uniform(g, 1, std::max<int64_t>(1, static_cast<int64_t>(std::sqrt(static_cast<double>(rest)))));
    shape = {batch, channels, h, std::max<int64_t>(1, rest / h)};
  }
  const int ex = -static_cast<int>(g() % 16);
  tc.x = golden::Tensor<int32_t>(shape, ex);
  const int64_t total = tc.x.size();
  // Scale: magnitudes up to 2^bits; an offset so that the mean is not always near zero.
  const int bits = static_cast<int>(uniform(g, 0, 31));
  const int64_t span = bits == 0 ? 0 : (int64_t{1} << bits) - 1;
  const int dist = static_cast<int>(g() % 6);
  const int64_t offset = g() % 3 == 0 ? uniform(g, -span, span) : 0;
  const int64_t noise = std::max<int64_t>(0, span >> uniform(g, 0, 12));
  const int64_t constant = uniform(g, -span, span);
  for (int64_t i = 0; i < total; ++i) {
    int64_t v = 0;
    switch (dist) {
      case 0: v = offset + uniform(g, -noise, noise); break;                 // offset plus noise
      case 1: v = g() % 8 == 0 ? uniform(g, -span, span) : 0; break;         // sparse
      case 2: v = g() % 2 ? span : -span - (g() % 2); break;                 // two values at the ends
      case 3: v = constant + (g() % 64 == 0 ? uniform(g, -1, 1) : 0); break;  // nearly constant
      default: v = uniform(g, -span, span); break;                           // uniform
    }
    tc.x.data[i] = clamp32(v);
  }
  tc.gamma = golden::Tensor<int16_t>({channels}, -7);
  tc.beta = golden::Tensor<int16_t>({channels}, -7);
  tc.running = golden::BnRunning(channels);
  tc.infer_running = golden::BnRunning(channels);
  for (int64_t c = 0; c < channels; ++c) {
    tc.gamma.data[c] = param16(g);
    tc.beta.data[c] = param16(g);
    // Running accumulators on 2^-23: a scale like the data's, or the initial state.
    const int acc_bits = std::min(60, bits + 8 + (ex + 15));
    if (g() % 4) {
      tc.running.mean_acc[c] = uniform(g, -(int64_t{1} << acc_bits), int64_t{1} << acc_bits);
      tc.running.sigma_acc[c] = uniform(g, 0, int64_t{1} << acc_bits);
    }
    switch (g() % 4) {
      case 0: break;  // initial: 0 and 2^23
      case 1:
        tc.infer_running.mean_acc[c] = uniform(g, -(int64_t{1} << acc_bits), int64_t{1} << acc_bits);
        tc.infer_running.sigma_acc[c] = uniform(g, -(int64_t{1} << 10), int64_t{1} << acc_bits);  // σ' may clamp to 1
        break;
      default:
        tc.infer_running.mean_acc[c] = tc.running.mean_acc[c];
        tc.infer_running.sigma_acc[c] = tc.running.sigma_acc[c];
        break;
    }
  }
  tc.decay = g() % 3 == 0 ? static_cast<int>(uniform(g, 0, 63)) : golden::kBnDecayShift;
  // dy: int8-range payloads (the masked E1), sometimes wider, many zeros (the ReLU mask).
  const int e1 = static_cast<int>(uniform(g, -30, 8));
  tc.dy = golden::Tensor<int32_t>(shape, e1);
  const int dy_bits = g() % 5 == 0 ? static_cast<int>(uniform(g, 8, 20)) : 7;  // int64 U stays exact
  const int64_t dy_span = (int64_t{1} << dy_bits) - 1;
  for (int64_t i = 0; i < total; ++i) tc.dy.data[i] = g() % 3 == 0 ? 0 : clamp32(uniform(g, -dy_span, dy_span));
  if (g() % 4 == 0) {  // arbitrary x̂ including the saturation values
    tc.xhat_bwd = golden::Tensor<int16_t>(shape, -7);
    for (int64_t i = 0; i < total; ++i)
      tc.xhat_bwd.data[i] = static_cast<int16_t>(g() % 4 == 0 ? (g() & 1 ? 32767 : -32767) : static_cast<int16_t>(g()));
  }
  tc.origin = "random";
  return tc;
}

}  // namespace octet::tb
