#include "golden/optimizer.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "golden/counter_rng.h"
#include "golden/int_math.h"

namespace octet::golden {

namespace {
int64_t sat32(int64_t v) {
  return saturate(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
}
}  // namespace

ParamState make_param_state(Tensor<int32_t> master) {
  if (master.exp != -23) throw std::invalid_argument("master weights must be on 2^-23");
  Tensor<int32_t> momentum(master.shape, -12);
  return ParamState{std::move(master), std::move(momentum)};
}

void momentum_update(ParamState& s, const Tensor<int32_t>& grad, int lr_q) {
  if (grad.exp != -14) throw std::invalid_argument("momentum_update: gradient must be on 2^-14");
  if (grad.shape != s.master.shape) throw std::invalid_argument("momentum_update: gradient shape differs");
  if (lr_q < 0 || lr_q > kLrQMax)
    throw std::invalid_argument("momentum_update: lr_q outside [0, " + std::to_string(kLrQMax) + "]");
  for (int64_t i = 0; i < grad.size(); ++i) {
    const int64_t acc = int64_t{s.momentum.data[i]} + grad.data[i];  // V/4 on 2^-14 is V's payload
    s.master.data[i] = static_cast<int32_t>(sat32(int64_t{s.master.data[i]} - int64_t{lr_q} * acc));
    s.momentum.data[i] = static_cast<int32_t>(sat32(shift_right_round_half_even(acc, 2)));
  }
}

Tensor<int8_t> derive_weight8(const Tensor<int32_t>& master) {
  Tensor<int8_t> w(master.shape, -7);
  for (int64_t i = 0; i < master.size(); ++i)
    w.data[i] = static_cast<int8_t>(saturate(shift_right_round_half_even(int64_t{master.data[i]}, 16), -127, 127));
  return w;
}

Tensor<int16_t> derive_bn_affine(const Tensor<int32_t>& master) {
  Tensor<int16_t> w(master.shape, -7);
  for (int64_t i = 0; i < master.size(); ++i)
    w.data[i] = static_cast<int16_t>(saturate(shift_right_round_half_even(int64_t{master.data[i]}, 16), -32767, 32767));
  return w;
}

Tensor<int32_t> derive_bias(const Tensor<int32_t>& master) {
  Tensor<int32_t> b(master.shape, -14);
  for (int64_t i = 0; i < master.size(); ++i)
    b.data[i] = static_cast<int32_t>(shift_right_round_half_even(int64_t{master.data[i]}, 9));
  return b;
}

void add_weight_decay(Tensor<int64_t>& g_raw, const Tensor<int8_t>& w8, int lambda) {
  if (g_raw.shape != w8.shape) throw std::invalid_argument("add_weight_decay: shapes differ");
  const int shift = -7 - lambda - g_raw.exp;
  // Checked: g_raw is any int64 here (within §10 it is < 2^47 and the term is <= 127 * 2^(7-λ),
  // but the function does not rely on its callers); one add per parameter per step.
  for (int64_t i = 0; i < g_raw.size(); ++i)
    if (__builtin_add_overflow(g_raw.data[i], shift_round_half_even(w8.data[i], shift), &g_raw.data[i]))
      throw std::overflow_error("add_weight_decay: sum leaves the int64 accumulator");
}

Tensor<int32_t> init_weight_master(const Shape& shape, int64_t fan_in, uint64_t seed, uint64_t tensor_id) {
  if (fan_in < 1) throw std::invalid_argument("init_weight_master: fan_in must be >= 1");
  const StreamKey key = make_stream_key(seed, 0, tensor_id);
  const int128 F = isqrt((static_cast<uint128>(1) << 62) / static_cast<uint128>(fan_in));  // ~ 2^31 / sqrt(fan_in)
  Tensor<int32_t> m(shape, -23);
  for (int64_t i = 0; i < m.size(); ++i) {
    const uint64_t r = random_bits(key, static_cast<uint64_t>(i));
    int64_t z = -(int64_t{1} << 17);
    for (int j = 0; j < 4; ++j) z += static_cast<int64_t>((r >> (16 * j)) & 0xFFFF);
    const int128 v = divide_round_half_even(static_cast<int128>(z) * F * 56756, static_cast<int128>(1) << (16 + 8 + 15));
    m.data[i] = static_cast<int32_t>(sat32(narrow_checked(v, "init")));
  }
  return m;
}

Tensor<int32_t> constant_master(const Shape& shape, int32_t value) {
  Tensor<int32_t> m(shape, -23);
  std::fill(m.data.begin(), m.data.end(), value);
  return m;
}

int quantize_learning_rate(double lr) {
  if (!std::isfinite(lr) || lr < 0) throw std::invalid_argument("learning rate must be finite and >= 0");
  return static_cast<int>(std::min<double>(kLrQMax, std::nearbyint(std::ldexp(lr, params::kLrFracBits))));
}

}  // namespace octet::golden
