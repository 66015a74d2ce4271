#include "golden/fast_conv.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <vector>

#include "golden/gemm_s16.h"
#include "golden/input_error.h"
#include "golden/parallel.h"
#include "golden/tap_conv.h"
#include "golden/tap_conv_u8.h"

namespace octet::golden {

namespace {

struct Geometry {
  int64_t N, C, H, W, Co, K, Ho, Wo, P, KK;  // P = Ho*Wo pixels, KK = C*K*K reduction
  ConvParams p;
  Geometry(const Shape& in, const Shape& w, ConvParams cp) : p(cp) {
    const Shape os = conv_output_shape(in, w, cp);
    N = in[0], C = in[1], H = in[2], W = in[3], Co = w[0], K = w[2], Ho = os[2], Wo = os[3];
    P = Ho * Wo;
    KK = C * K * K;
  }
};

// col[kk][pix] = x[n, ci, oy*s+ky-pad, ox*s+kx-pad] (0 outside), kk = (ci*K + ky)*K + kx.
// The valid ox range of each row is computed once, so the inner loop has no bounds checks.
template <typename T>
void im2col(const Geometry& g, const T* x, int16_t* col) {
  const int64_t s = g.p.stride;
  for (int64_t ci = 0; ci < g.C; ++ci)
    for (int64_t ky = 0; ky < g.K; ++ky)
      for (int64_t kx = 0; kx < g.K; ++kx) {
        int16_t* row = col + ((ci * g.K + ky) * g.K + kx) * g.P;
        // ix = ox*s + kx - pad in [0, W)  <=>  ox in [lo, hi).
        const int64_t off = kx - g.p.pad;
        const int64_t lo = std::min(g.Wo, off >= 0 ? 0 : (-off + s - 1) / s);
        const int64_t hi = std::max(lo, std::min(g.Wo, g.W - 1 - off < 0 ? 0 : (g.W - 1 - off) / s + 1));
        for (int64_t oy = 0; oy < g.Ho; ++oy) {
          int16_t* out = row + oy * g.Wo;
          const int64_t iy = oy * s + ky - g.p.pad;
          if (iy < 0 || iy >= g.H) {
            std::fill(out, out + g.Wo, int16_t{0});
            continue;
          }
          const T* in = x + (ci * g.H + iy) * g.W + off;
          std::fill(out, out + lo, int16_t{0});
          for (int64_t ox = lo; ox < hi; ++ox) out[ox] = static_cast<int16_t>(in[ox * s]);
          std::fill(out + hi, out + g.Wo, int16_t{0});
        }
      }
}

// Min and max in the element type vectorise well; the scan runs on every call.
template <typename T>
__attribute__((target("avx2"))) int64_t max_abs_avx2(const T* v, size_t n) {
  T lo = 0, hi = 0;
  for (size_t i = 0; i < n; ++i) {
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
  }
  return std::max<int64_t>(hi, -int64_t{lo});
}

template <typename T>
int64_t max_abs(const Payload<T>& v) {
  if (gemm_s16_uses_avx2()) return max_abs_avx2(v.data(), v.size());
  int64_t m = 0;
  for (T x : v) m = std::max<int64_t>(m, x < 0 ? -int64_t{x} : int64_t{x});
  return m;
}

bool fits_int16(int64_t max_abs_value) { return max_abs_value <= std::numeric_limits<int16_t>::max(); }

// True when `terms` products of magnitudes <= a, b can never leave int32.
bool sums_fit_int32(int64_t terms, int64_t a, int64_t b) {
  return a == 0 || b == 0 || terms <= (int64_t{std::numeric_limits<int32_t>::max()} / a) / b;
}

std::vector<int16_t> widen16(const Payload<int8_t>& v) { return {v.begin(), v.end()}; }

}  // namespace

namespace {

constexpr ConvPath kAllPaths[] = {ConvPath::portable, ConvPath::avx2, ConvPath::avx2_u8, ConvPath::avx_vnni,
                                  ConvPath::avx512_vnni};

ConvPath fastest_path() {
  for (ConvPath path : {ConvPath::avx512_vnni, ConvPath::avx_vnni, ConvPath::avx2})
    if (conv_path_supported(path)) return path;
  return ConvPath::portable;
}

ConvPath initial_path() {
  const char* env = std::getenv("OCTET_CONV_PATH");
  if (env == nullptr || *env == '\0') return fastest_path();
  const ConvPath path = parse_conv_path(env, "environment variable OCTET_CONV_PATH");
  if (!conv_path_supported(path))
    throw InputError(std::string("environment variable OCTET_CONV_PATH: '") + env + "' is not supported by this CPU");
  return path;
}

// Set at the first call (not at load time, so a bad OCTET_CONV_PATH is an error a program reports).
std::atomic<int> g_path{-1};

// The int16 kernels' instruction set: vpdpwssd on zmm where the path has AVX-512 VNNI.
tap_conv::Isa s16_isa(ConvPath path) {
  return path == ConvPath::avx512_vnni ? tap_conv::Isa::avx512_vnni : tap_conv::Isa::avx2;
}

tap_conv_u8::Isa u8_isa(ConvPath path) {
  return path == ConvPath::avx512_vnni ? tap_conv_u8::Isa::avx512_vnni
         : path == ConvPath::avx_vnni  ? tap_conv_u8::Isa::avx_vnni
                                       : tap_conv_u8::Isa::avx2_maddubs;
}

}  // namespace

const char* conv_path_name(ConvPath path) {
  switch (path) {
    case ConvPath::portable:
      return "portable";
    case ConvPath::avx2:
      return "avx2";
    case ConvPath::avx2_u8:
      return "avx2_u8";
    case ConvPath::avx_vnni:
      return "avx_vnni";
    case ConvPath::avx512_vnni:
      return "avx512_vnni";
  }
  return "?";
}

bool conv_path_supported(ConvPath path) {
  switch (path) {
    case ConvPath::portable:
      return true;
    case ConvPath::avx2:
      return gemm_s16_uses_avx2();
    case ConvPath::avx2_u8:
    case ConvPath::avx_vnni:
    case ConvPath::avx512_vnni:
      return gemm_s16_uses_avx2() && tap_conv_u8::cpu_supports(u8_isa(path));
  }
  return false;
}

std::vector<ConvPath> conv_paths_supported() {
  std::vector<ConvPath> paths;
  for (ConvPath path : kAllPaths)
    if (conv_path_supported(path)) paths.push_back(path);
  return paths;
}

ConvPath parse_conv_path(const std::string& name, const std::string& what) {
  for (ConvPath path : kAllPaths)
    if (name == conv_path_name(path)) return path;
  throw InputError(what + ": unknown conv path '" + printable(name) +
                   "' (portable, avx2, avx2_u8, avx_vnni or avx512_vnni)");
}

ConvPath fast_conv_path() {
  int path = g_path.load(std::memory_order_relaxed);
  if (path < 0) {
    path = static_cast<int>(initial_path());
    g_path.store(path, std::memory_order_relaxed);
  }
  return static_cast<ConvPath>(path);
}

void fast_conv_set_path(ConvPath path) {
  if (!conv_path_supported(path))
    throw std::invalid_argument(std::string("fast_conv_set_path: this CPU cannot run ") + conv_path_name(path));
  g_path = static_cast<int>(path);
}

bool fast_kernels_use_avx2() { return fast_conv_path() != ConvPath::portable; }
void fast_kernels_set_avx2(bool enabled) { g_path = static_cast<int>(enabled ? fastest_path() : ConvPath::portable); }

Tensor<int32_t> conv2d_forward_fast(const Tensor<uint8_t>& x, const Tensor<int8_t>& w, ConvParams p, int threads) {
  const Geometry g(x.shape, w.shape, p);
  // Outside the no-overflow bound, the reference reports the overflow exactly. The type
  // bounds (uint8 x int8) settle it without scanning for any realistic C*K*K.
  if (!sums_fit_int32(g.KK, 255, 128) && !sums_fit_int32(g.KK, max_abs(x.data), max_abs(w.data)))
    return conv2d_forward(x, w, p);
  Tensor<int32_t> out({g.N, g.Co, g.Ho, g.Wo}, x.exp + w.exp, Uninitialized{});  // every element is written
  const ConvPath path = fast_conv_path();
  if (path == ConvPath::avx512_vnni || path == ConvPath::avx_vnni) {
    tap_conv_u8::forward(u8_isa(path), x, w, p, threads, out);  // exact for any bytes
    return out;
  }
  if (path == ConvPath::avx2_u8) {
    // vpmaddubsw's int16 pair sums are exact while x_max * |w|_max <= 16383; any
    // activation passes when |w| <= 64, so x is scanned only for larger weights.
    const int64_t wmax = max_abs(w.data);
    if (wmax * 255 <= 16383 || wmax * max_abs(x.data) <= 16383) {
      tap_conv_u8::forward(tap_conv_u8::Isa::avx2_maddubs, x, w, p, threads, out);
      return out;
    }
  }
  if (path != ConvPath::portable) {
    tap_conv::forward(x, w, p, threads, out);
    return out;
  }
  // Portable path: im2col + the portable GEMM.
  const std::vector<int16_t> w16 = widen16(w.data);  // {Co, KK} row-major already
  parallel_for(g.N, threads, [&](int64_t n) {
    std::vector<int16_t> col(static_cast<size_t>(g.KK * g.P));
    im2col(g, &x.data[n * g.C * g.H * g.W], col.data());
    gemm_s16(g.Co, g.P, g.KK, w16.data(), col.data(), &out.data[n * g.Co * g.P]);
  });
  return out;
}

Tensor<int64_t> conv2d_backward_data_fast(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p,
                                          const Shape& input_shape, int threads, KnownMax* out_max) {
  if (out_max) *out_max = KnownMax{};
  const Geometry g(input_shape, w.shape, p);
  if (e.shape != Shape{g.N, g.Co, g.Ho, g.Wo}) throw std::invalid_argument("conv2d_backward_data: error shape does not match the conv output");
  const int64_t wmax = max_abs(w.data);
  const ConvPath path = fast_conv_path();
  if (path != ConvPath::portable) {
    // When Co products of any int16 error fit int32 (Co <= 512 at |w| = 128), only
    // |e| <= 32767 remains to check, and the AVX2 path checks it while packing; otherwise
    // scan e first, as below.
    if (!sums_fit_int32(g.Co, std::numeric_limits<int16_t>::max(), wmax)) {
      const int64_t emax = max_abs(e.data);
      if (!fits_int16(emax) || !sums_fit_int32(g.Co, emax, wmax)) return conv2d_backward_data(e, w, p, input_shape);
    }
    Tensor<int64_t> out(input_shape, e.exp + w.exp, Uninitialized{});  // each image zeroed by its worker
    uint64_t m = 0;
    if (tap_conv::backward_data(e, w, p, wmax, threads, out, s16_isa(path), out_max ? &m : nullptr)) {
      if (out_max) *out_max = KnownMax{true, m};
      return out;
    }
    return conv2d_backward_data(e, w, p, input_shape);
  }
  const int64_t emax = max_abs(e.data);
  if (!fits_int16(emax) || !sums_fit_int32(g.Co, emax, wmax)) return conv2d_backward_data(e, w, p, input_shape);
  // Portable path: GEMM into columns, then col2im. W^T: {KK, Co}.
  std::vector<int16_t> wt(static_cast<size_t>(g.KK * g.Co));
  for (int64_t co = 0; co < g.Co; ++co)
    for (int64_t kk = 0; kk < g.KK; ++kk) wt[kk * g.Co + co] = w.data[co * g.KK + kk];
  Tensor<int64_t> out(input_shape, e.exp + w.exp);
  parallel_for(g.N, threads, [&](int64_t n) {
    std::vector<int16_t> e16(e.data.begin() + n * g.Co * g.P, e.data.begin() + (n + 1) * g.Co * g.P);
    std::vector<int32_t> col(static_cast<size_t>(g.KK * g.P));
    gemm_s16(g.KK, g.P, g.Co, wt.data(), e16.data(), col.data());
    // col2im: scatter-add every column entry to the input pixel it came from.
    int64_t* dst = &out.data[n * g.C * g.H * g.W];
    for (int64_t ci = 0; ci < g.C; ++ci)
      for (int64_t ky = 0; ky < g.K; ++ky)
        for (int64_t kx = 0; kx < g.K; ++kx) {
          const int32_t* row = &col[((ci * g.K + ky) * g.K + kx) * g.P];
          for (int64_t oy = 0; oy < g.Ho; ++oy) {
            const int64_t iy = oy * g.p.stride + ky - g.p.pad;
            if (iy < 0 || iy >= g.H) continue;
            for (int64_t ox = 0; ox < g.Wo; ++ox) {
              const int64_t ix = ox * g.p.stride + kx - g.p.pad;
              if (ix >= 0 && ix < g.W) dst[(ci * g.H + iy) * g.W + ix] += row[oy * g.Wo + ox];
            }
          }
        }
  });
  return out;
}

bool conv2d_backward_data_fast_narrow(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p,
                                      const Shape& input_shape, int threads, Tensor<int32_t>& out, KnownMax* out_max) {
  if (out_max) *out_max = KnownMax{};
  const ConvPath path = fast_conv_path();
  if (path == ConvPath::portable) return false;
  const Geometry g(input_shape, w.shape, p);
  if (e.shape != Shape{g.N, g.Co, g.Ho, g.Wo}) return false;
  const int64_t wmax = max_abs(w.data);
  // backward_data's precondition (one tap of any int16 error fits int32), else the int64 path decides.
  if (!sums_fit_int32(g.Co, std::numeric_limits<int16_t>::max(), wmax)) return false;
  out = Tensor<int32_t>(input_shape, e.exp + w.exp, Uninitialized{});
  uint64_t m = 0;
  if (!tap_conv::backward_data_narrow(e, w, p, wmax, threads, out, s16_isa(path), out_max ? &m : nullptr)) return false;
  if (out_max) *out_max = KnownMax{true, m};
  return true;
}

Tensor<int64_t> conv2d_weight_grad_fast(const Tensor<uint8_t>& x, const Tensor<int32_t>& e, ConvParams p,
                                        const Shape& weight_shape, int threads) {
  const Geometry g(x.shape, weight_shape, p);
  if (e.shape != Shape{g.N, g.Co, g.Ho, g.Wo}) throw std::invalid_argument("conv2d_weight_grad: error shape does not match the conv output");
  const ConvPath path = fast_conv_path();
  if (path != ConvPath::portable) {
    // |e| <= 32767 is checked while packing; outside it, the reference as below. (Byte
    // kernels lose here: E2 needs two bytes, so two vpdpbusd per 4 products plus the
    // narrowing pass measured slower than int16 rows; docs/numerics.md.)
    Tensor<int64_t> grad(weight_shape, x.exp + e.exp);
    if (tap_conv::weight_grad(x, e, p, threads, grad, s16_isa(path))) return grad;
    return conv2d_weight_grad(x, e, p, weight_shape);
  }
  const int64_t emax = max_abs(e.data), xmax = max_abs(x.data);
  if (!fits_int16(emax)) return conv2d_weight_grad(x, e, p, weight_shape);
  // Pixels per int32 partial sum, so that no partial leaves int32; then summed in int64.
  const int64_t chunk = (emax == 0 || xmax == 0) ? g.P : std::max<int64_t>(1, (int64_t{INT32_MAX} / emax) / xmax);
  const int workers = std::max(1, static_cast<int>(std::min<int64_t>(threads, g.N)));
  std::vector<std::vector<int64_t>> partial(workers, std::vector<int64_t>(static_cast<size_t>(g.Co * g.KK), 0));
  // Images are split into `workers` contiguous groups; integer sums are exact in any order.
  parallel_for(workers, workers, [&](int64_t t) {
    const int64_t per = (g.N + workers - 1) / workers;
    std::vector<int16_t> col(static_cast<size_t>(g.KK * g.P)), e16(static_cast<size_t>(g.Co * g.P));
    std::vector<int32_t> c32(static_cast<size_t>(g.Co * g.KK));
    for (int64_t n = t * per; n < std::min(g.N, (t + 1) * per); ++n) {
      im2col(g, &x.data[n * g.C * g.H * g.W], col.data());
      std::copy(e.data.begin() + n * g.Co * g.P, e.data.begin() + (n + 1) * g.Co * g.P, e16.begin());
      for (int64_t p0 = 0; p0 < g.P; p0 += chunk) {
        // G[co][kk] += sum over pixels p0..p0+pc of E2[co][p] * col[kk][p].
        gemm_s16_abt(g.Co, g.KK, std::min(chunk, g.P - p0), e16.data() + p0, g.P, col.data() + p0, g.P, c32.data());
        for (size_t i = 0; i < c32.size(); ++i) partial[t][i] += c32[i];
      }
    }
  });
  Tensor<int64_t> grad(weight_shape, x.exp + e.exp);
  for (const auto& part : partial)
    for (size_t i = 0; i < part.size(); ++i) grad.data[i] += part[i];
  return grad;
}

}  // namespace octet::golden
