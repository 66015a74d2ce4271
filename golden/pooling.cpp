#include "golden/pooling.h"

#include <algorithm>
#include <stdexcept>

#include "golden/int_math.h"
#include "golden/parallel.h"

namespace octet::golden {

namespace {
PoolParams effective(const Shape& in, const PoolParams& p) {
  if (!p.global) return p;
  if (in[2] != in[3]) throw std::invalid_argument("global pooling needs a square plane");
  return PoolParams{static_cast<int>(in[2]), 1, 0, false};
}

// Visits the in-bounds input positions of output window (oy, ox).
template <typename F>
void for_window(const Shape& in, const PoolParams& p, int64_t oy, int64_t ox, F f) {
  for (int64_t ky = 0; ky < p.kernel; ++ky)
    for (int64_t kx = 0; kx < p.kernel; ++kx) {
      const int64_t iy = oy * p.stride + ky - p.pad, ix = ox * p.stride + kx - p.pad;
      if (iy >= 0 && iy < in[2] && ix >= 0 && ix < in[3]) f(iy, ix);
    }
}
}  // namespace

Shape pool_output_shape(const Shape& input, const PoolParams& p0) {
  if (input.size() != 4) throw std::invalid_argument("pooling input must be {N, C, H, W}");
  const PoolParams p = effective(input, p0);
  if (p.kernel < 1 || p.stride < 1 || p.pad < 0 || p.pad >= p.kernel)
    throw std::invalid_argument("pooling: need kernel >= 1, stride >= 1, 0 <= pad < kernel");
  // One rule for both dimensions (as network_desc's shape inference): the padded plane must
  // hold the window. Width used to rely on truncating division, which gave one output for a
  // padded width up to stride - 1 narrower than the window; that geometry is now an error.
  if (input[2] + 2 * p.pad < p.kernel || input[3] + 2 * p.pad < p.kernel)
    throw std::invalid_argument("pooling: window larger than the input");
  const int64_t ho = (input[2] + 2 * p.pad - p.kernel) / p.stride + 1;
  const int64_t wo = (input[3] + 2 * p.pad - p.kernel) / p.stride + 1;
  return {input[0], input[1], ho, wo};
}

MaxPoolForward maxpool_forward(const Tensor<uint8_t>& x, const PoolParams& p0) {
  const Shape os = pool_output_shape(x.shape, p0);
  const PoolParams p = effective(x.shape, p0);
  MaxPoolForward r{Tensor<uint8_t>(os, x.exp), std::vector<int64_t>(static_cast<size_t>(shape_elements(os)))};
  const int64_t H = x.shape[2], W = x.shape[3];
  for (int64_t nc = 0; nc < os[0] * os[1]; ++nc)
    for (int64_t oy = 0; oy < os[2]; ++oy)
      for (int64_t ox = 0; ox < os[3]; ++ox) {
        int best = -1;
        int64_t where = -1;
        for_window(x.shape, p, oy, ox, [&](int64_t iy, int64_t ix) {
          const int64_t i = (nc * H + iy) * W + ix;
          if (x.data[i] > best) {  // strict: the first maximum wins ties
            best = x.data[i];
            where = i;
          }
        });
        const int64_t o = (nc * os[2] + oy) * os[3] + ox;
        r.out.data[o] = static_cast<uint8_t>(best);
        r.argmax[o] = where;
      }
  return r;
}

Tensor<int64_t> maxpool_backward(const Tensor<int64_t>& e, const std::vector<int64_t>& argmax, const Shape& input_shape) {
  if (argmax.size() != e.data.size()) throw std::invalid_argument("maxpool_backward: argmax does not match the error");
  Tensor<int64_t> out(input_shape, e.exp);
  // Overlapping windows (stride < kernel) route several errors to one input: checked, as an
  // int64 error has no static bound here. Non-overlapping windows add each error to a zero.
  for (size_t o = 0; o < argmax.size(); ++o)
    if (__builtin_add_overflow(out.data[argmax[o]], e.data[o], &out.data[argmax[o]]))
      throw std::overflow_error("maxpool_backward: sum leaves the int64 accumulator");
  return out;
}

Tensor<uint8_t> avgpool_forward(const Tensor<uint8_t>& x, const PoolParams& p0, int threads) {
  const Shape os = pool_output_shape(x.shape, p0);
  const PoolParams p = effective(x.shape, p0);
  Tensor<uint8_t> out(os, x.exp);
  const int64_t H = x.shape[2], W = x.shape[3];
  parallel_for(os[0] * os[1], threads, [&](int64_t nc) {
    for (int64_t oy = 0; oy < os[2]; ++oy)
      for (int64_t ox = 0; ox < os[3]; ++ox) {
        int64_t sum = 0, count = 0;
        for_window(x.shape, p, oy, ox, [&](int64_t iy, int64_t ix) {
          sum += x.data[(nc * H + iy) * W + ix];
          ++count;
        });
        out.data[(nc * os[2] + oy) * os[3] + ox] = static_cast<uint8_t>(divide_round_half_even(sum, count));
      }
  });
  return out;
}

Tensor<int64_t> avgpool_backward(const Tensor<int64_t>& e, const Shape& input_shape, const PoolParams& p0,
                                 int threads) {
  const Shape os = pool_output_shape(input_shape, p0);
  if (e.shape != os) throw std::invalid_argument("avgpool_backward: error shape does not match the pool output");
  const PoolParams p = effective(input_shape, p0);
  Tensor<int64_t> out(input_shape, e.exp - 8, Uninitialized{});  // each plane zeroed by its thread
  const int64_t H = input_shape[2], W = input_shape[3];
  parallel_for(os[0] * os[1], threads, [&](int64_t nc) {
    std::fill(out.data.begin() + nc * H * W, out.data.begin() + (nc + 1) * H * W, int64_t{0});
    for (int64_t oy = 0; oy < os[2]; ++oy)
      for (int64_t ox = 0; ox < os[3]; ++ox) {
        int64_t count = 0;
        for_window(input_shape, p, oy, ox, [&](int64_t, int64_t) { ++count; });
        const int64_t share = divide_round_half_even(shift_left_checked(e.data[(nc * os[2] + oy) * os[3] + ox], 8), count);
        // Overlapping windows sum shares (each |share| <= 2^63 / count) into one input: checked.
        for_window(input_shape, p, oy, ox, [&](int64_t iy, int64_t ix) {
          int64_t& o = out.data[(nc * H + iy) * W + ix];
          if (__builtin_add_overflow(o, share, &o))
            throw std::overflow_error("avgpool_backward: sum leaves the int64 accumulator");
        });
      }
  });
  return out;
}

}  // namespace octet::golden
