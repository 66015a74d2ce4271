#include "golden/fp32_layers.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/fp32_gemm.h"
#include "golden/parallel.h"

namespace octet::golden::fp32 {

namespace {

// Runs fn(begin, end, chunk) over [0, n) split into at most `threads` contiguous chunks on the
// project's worker pool (golden/parallel.h). The chunk index selects per-chunk scratch; the split
// is a pure function of (n, threads).
template <typename F>
void parallel_chunks(int64_t n, int threads, F fn) {
  if (n <= 0) return;
  const int workers = static_cast<int>(std::clamp<int64_t>(threads, 1, n));
  for_each_chunk(n, workers, [&](int64_t chunk, int64_t begin, int64_t end) { fn(begin, end, static_cast<int>(chunk)); });
}

constexpr int64_t kParallelMinElements = 32768;  // below this, elementwise layers stay on one thread

int elementwise_threads(int64_t elements, int threads) { return elements >= kParallelMinElements ? threads : 1; }

// Output columns ox whose input column ox*s + kx - p lies inside [0, W): [lo, hi).
inline void valid_range(int Wo, int W, int s, int off, int* lo, int* hi) {
  // ox*s + off >= 0  <=>  ox >= ceil(-off / s);  ox*s + off < W  <=>  ox <= floor((W - 1 - off) / s)
  int l = off >= 0 ? 0 : (-off + s - 1) / s;
  int h = (W - 1 - off) < 0 ? 0 : (W - 1 - off) / s + 1;
  *lo = std::min(l, Wo);
  *hi = std::max(*lo, std::min(h, Wo));
}

// col[K = Ci*k*k][P = Ho*Wo] of one sample x[Ci][H][W].
template <typename T>
void im2col(const ConvGeom& g, const T* x, T* col) {
  const int Ho = g.Ho(), Wo = g.Wo(), P = Ho * Wo;
  for (int ci = 0; ci < g.Ci; ++ci)
    for (int ky = 0; ky < g.k; ++ky)
      for (int kx = 0; kx < g.k; ++kx) {
        T* dst = col + static_cast<size_t>((ci * g.k + ky) * g.k + kx) * P;
        const T* plane = x + static_cast<size_t>(ci) * g.H * g.W;
        const int off = kx - g.p;
        int lo, hi;
        valid_range(Wo, g.W, g.s, off, &lo, &hi);
        for (int oy = 0; oy < Ho; ++oy) {
          const int iy = oy * g.s + ky - g.p;
          T* d = dst + oy * Wo;
          if (iy < 0 || iy >= g.H) {
            std::fill_n(d, Wo, T(0));
            continue;
          }
          const T* row = plane + static_cast<size_t>(iy) * g.W + off;
          std::fill_n(d, lo, T(0));
          if (g.s == 1)
            std::copy(row + lo, row + hi, d + lo);
          else
            for (int ox = lo; ox < hi; ++ox) d[ox] = row[ox * g.s];
          std::fill(d + hi, d + Wo, T(0));
        }
      }
}

// dx[Ci][H][W] += col2im(dcol[K][P]).
template <typename T>
void col2im_add(const ConvGeom& g, const T* dcol, T* dx) {
  const int Ho = g.Ho(), Wo = g.Wo(), P = Ho * Wo;
  for (int ci = 0; ci < g.Ci; ++ci)
    for (int ky = 0; ky < g.k; ++ky)
      for (int kx = 0; kx < g.k; ++kx) {
        const T* src = dcol + static_cast<size_t>((ci * g.k + ky) * g.k + kx) * P;
        T* plane = dx + static_cast<size_t>(ci) * g.H * g.W;
        const int off = kx - g.p;
        int lo, hi;
        valid_range(Wo, g.W, g.s, off, &lo, &hi);
        for (int oy = 0; oy < Ho; ++oy) {
          const int iy = oy * g.s + ky - g.p;
          if (iy < 0 || iy >= g.H) continue;
          T* row = plane + static_cast<size_t>(iy) * g.W + off;
          const T* sp = src + oy * Wo;
          if (g.s == 1)
            for (int ox = lo; ox < hi; ++ox) row[ox] += sp[ox];
          else
            for (int ox = lo; ox < hi; ++ox) row[ox * g.s] += sp[ox];
        }
      }
}

bool is_pointwise(const ConvGeom& g) { return g.k == 1 && g.s == 1 && g.p == 0; }

}  // namespace

template <typename T>
void conv2d_forward(const ConvGeom& g, const T* x, const T* w, T* y, int threads) {
  const int P = g.Ho() * g.Wo(), K = g.Ci * g.k * g.k;
  const size_t in_sz = static_cast<size_t>(g.Ci) * g.H * g.W, out_sz = static_cast<size_t>(g.Co) * P;
  parallel_chunks(g.N, threads, [&](int64_t b, int64_t e, int) {
    std::vector<T> col;
    if (!is_pointwise(g)) col.resize(static_cast<size_t>(K) * P);
    for (int64_t n = b; n < e; ++n) {
      const T* xs = x + n * in_sz;
      const T* c = xs;
      if (!is_pointwise(g)) {
        im2col(g, xs, col.data());
        c = col.data();
      }
      gemm<T>(false, false, g.Co, P, K, w, K, c, P, y + n * out_sz, P, false);
    }
  });
}

template <typename T>
void conv2d_backward(const ConvGeom& g, const T* x, const T* w, const T* dy, T* dx, T* dw, int threads) {
  const int P = g.Ho() * g.Wo(), K = g.Ci * g.k * g.k;
  const size_t in_sz = static_cast<size_t>(g.Ci) * g.H * g.W, out_sz = static_cast<size_t>(g.Co) * P;
  const size_t w_sz = static_cast<size_t>(g.Co) * K;
  const int workers = std::max(1, std::min(threads, g.N));
  std::vector<std::vector<T>> partial(static_cast<size_t>(workers));
  parallel_chunks(g.N, workers, [&](int64_t b, int64_t e, int t) {
    std::vector<T> col, dcol;
    const bool pw = is_pointwise(g);
    if (!pw) {
      col.resize(static_cast<size_t>(K) * P);
      if (dx) dcol.resize(static_cast<size_t>(K) * P);
    }
    T* dwt = dw;
    if (t > 0) {
      partial[static_cast<size_t>(t)].resize(w_sz);
      dwt = partial[static_cast<size_t>(t)].data();
    }
    for (int64_t n = b; n < e; ++n) {
      const T* xs = x + n * in_sz;
      const T* dys = dy + n * out_sz;
      const T* c = xs;
      if (!pw) {
        im2col(g, xs, col.data());
        c = col.data();
      }
      gemm<T>(false, true, g.Co, K, P, dys, P, c, P, dwt, K, n != b);
      if (dx) {
        T* dxs = dx + n * in_sz;
        if (pw) {
          gemm<T>(true, false, K, P, g.Co, w, K, dys, P, dxs, P, true);
        } else {
          gemm<T>(true, false, K, P, g.Co, w, K, dys, P, dcol.data(), P, false);
          col2im_add(g, dcol.data(), dxs);
        }
      }
    }
  });
  for (int t = 1; t < workers; ++t)
    for (size_t i = 0; i < w_sz; ++i) dw[i] += partial[static_cast<size_t>(t)][i];
}

template <typename T>
void linear_forward(int N, int I, int O, const T* x, const T* w, const T* b, T* y) {
  gemm<T>(false, true, N, O, I, x, I, w, I, y, O, false);
  for (int n = 0; n < N; ++n)
    for (int o = 0; o < O; ++o) y[static_cast<size_t>(n) * O + o] += b[o];
}

template <typename T>
void linear_backward(int N, int I, int O, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db) {
  if (dx) gemm<T>(false, false, N, I, O, dy, O, w, I, dx, I, true);
  gemm<T>(true, false, O, I, N, dy, O, x, I, dw, I, false);
  for (int o = 0; o < O; ++o) {
    double s = 0;
    for (int n = 0; n < N; ++n) s += dy[static_cast<size_t>(n) * O + o];
    db[o] = static_cast<T>(s);
  }
}

namespace {
template <typename T>
T bn_inverse_scale(T sigma) {
  return static_cast<T>(1.0 / (static_cast<double>(sigma) + kBnEps));
}
}  // namespace

namespace {
// Row reductions in T with SIMD lanes (omp simd), accumulated across rows in double.
template <typename T>
T row_sum(const T* p, int n) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int i = 0; i < n; ++i) s += p[i];
  return s;
}
template <typename T>
T row_sq_dev(const T* p, int n, T m) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int i = 0; i < n; ++i) s += (p[i] - m) * (p[i] - m);
  return s;
}
}  // namespace

template <typename T>
void batchnorm_train_forward(int N, int C, int HW, const T* x, const T* gamma, const T* beta, T* y, T* mean,
                             T* sigma, bool relu, int threads) {
  const double count = static_cast<double>(N) * HW;
  parallel_chunks(C, elementwise_threads(int64_t{N} * C * HW, threads), [&](int64_t cb, int64_t ce, int) {
    for (int64_t c = cb; c < ce; ++c) {
      double s1 = 0;
      for (int n = 0; n < N; ++n) s1 += row_sum(x + (static_cast<size_t>(n) * C + c) * HW, HW);
      const T m = static_cast<T>(s1 / count);
      double s2 = 0;
      for (int n = 0; n < N; ++n) s2 += row_sq_dev(x + (static_cast<size_t>(n) * C + c) * HW, HW, m);
      const T sg = static_cast<T>(std::sqrt(s2 / count));
      const T inv = bn_inverse_scale(sg), ga = gamma[c], be = beta[c];
      mean[c] = m;
      sigma[c] = sg;
      for (int n = 0; n < N; ++n) {
        const size_t off = (static_cast<size_t>(n) * C + c) * HW;
        const T* p = x + off;
        T* q = y + off;
        if (relu) {
#pragma omp simd
          for (int i = 0; i < HW; ++i) {
            const T v = ga * ((p[i] - m) * inv) + be;
            q[i] = v > T(0) ? v : T(0);
          }
        } else {
#pragma omp simd
          for (int i = 0; i < HW; ++i) q[i] = ga * ((p[i] - m) * inv) + be;
        }
      }
    }
  });
}

template <typename T>
void batchnorm_infer_forward(int N, int C, int HW, const T* x, const T* gamma, const T* beta, const T* run_mean,
                             const T* run_scale, T* y, bool relu, int threads) {
  parallel_chunks(C, elementwise_threads(int64_t{N} * C * HW, threads), [&](int64_t cb, int64_t ce, int) {
    for (int64_t c = cb; c < ce; ++c) {
      const T m = run_mean[c], inv = static_cast<T>(1.0 / static_cast<double>(run_scale[c]));
      const T ga = gamma[c], be = beta[c];
      for (int n = 0; n < N; ++n) {
        const size_t off = (static_cast<size_t>(n) * C + c) * HW;
        const T* p = x + off;
        T* q = y + off;
        if (relu) {
#pragma omp simd
          for (int i = 0; i < HW; ++i) {
            const T v = ga * ((p[i] - m) * inv) + be;
            q[i] = v > T(0) ? v : T(0);
          }
        } else {
#pragma omp simd
          for (int i = 0; i < HW; ++i) q[i] = ga * ((p[i] - m) * inv) + be;
        }
      }
    }
  });
}

template <typename T>
void batchnorm_backward(int N, int C, int HW, const T* x, const T* gamma, const T* mean, const T* sigma,
                        const T* dy, const T* relu_out, T* dx, T* dgamma, T* dbeta, int threads) {
  const double count = static_cast<double>(N) * HW;
  parallel_chunks(C, elementwise_threads(int64_t{N} * C * HW, threads), [&](int64_t cb, int64_t ce, int) {
    std::vector<T> d(static_cast<size_t>(HW));
    // The error at the BN output, masked by the fused ReLU when there is one.
    const auto masked = [&](size_t off) {
      const T* e = dy + off;
      if (!relu_out) return e;
      const T* r = relu_out + off;
      T* dd = d.data();
#pragma omp simd
      for (int i = 0; i < HW; ++i) {
        const T ei = e[i];  // unconditional load: lets the select vectorise
        dd[i] = r[i] > T(0) ? ei : T(0);
      }
      return static_cast<const T*>(dd);
    };
    for (int64_t c = cb; c < ce; ++c) {
      const T m = mean[c], inv = bn_inverse_scale(sigma[c]);
      double sdy = 0, sdyx = 0;
      for (int n = 0; n < N; ++n) {
        const size_t off = (static_cast<size_t>(n) * C + c) * HW;
        const T* e = masked(off);
        const T* p = x + off;
        T a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
        for (int i = 0; i < HW; ++i) {
          a += e[i];
          b += e[i] * ((p[i] - m) * inv);
        }
        sdy += a;
        sdyx += b;
      }
      dbeta[c] = static_cast<T>(sdy);
      dgamma[c] = static_cast<T>(sdyx);
      if (!dx) continue;
      // dx = (1/s)(g - mean g) - x^ mean(g x^) / sigma, g = gamma dy, s = sigma + eps.
      const double ga = gamma[c], s_inv = inv;
      const T a = static_cast<T>(ga * s_inv);
      const T b = static_cast<T>(-ga * sdy / count * s_inv);
      const T k = sigma[c] > T(0) ? static_cast<T>(ga * sdyx / count / static_cast<double>(sigma[c])) : T(0);
      for (int n = 0; n < N; ++n) {
        const size_t off = (static_cast<size_t>(n) * C + c) * HW;
        const T* e = masked(off);
        const T* p = x + off;
        T* q = dx + off;
#pragma omp simd
        for (int i = 0; i < HW; ++i) q[i] += a * e[i] + b - ((p[i] - m) * inv) * k;
      }
    }
  });
}

template <typename T>
void relu_forward(int64_t n, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}

template <typename T>
void relu_backward(int64_t n, const T* y, const T* dy, T* dx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const T d = dy[i];
    dx[i] += y[i] > T(0) ? d : T(0);
  }
}

namespace {
struct Window {
  int y0, y1, x0, x1;
};
inline Window window(const PoolGeom& g, int oy, int ox) {
  const int ys = oy * g.s - g.p, xs = ox * g.s - g.p;
  return {std::max(0, ys), std::min(g.H, ys + g.kh), std::max(0, xs), std::min(g.W, xs + g.kw)};
}
}  // namespace

template <typename T>
void maxpool_forward(const PoolGeom& g, const T* x, T* y, int32_t* argmax, int threads) {
  const int Ho = g.Ho(), Wo = g.Wo();
  const int64_t planes = int64_t{g.N} * g.C;
  parallel_chunks(planes, elementwise_threads(planes * g.H * g.W, threads), [&](int64_t pb, int64_t pe, int) {
    for (int64_t pl = pb; pl < pe; ++pl) {
      const T* xp = x + pl * g.H * g.W;
      T* yp = y + pl * Ho * Wo;
      int32_t* ap = argmax + pl * Ho * Wo;
      for (int oy = 0; oy < Ho; ++oy)
        for (int ox = 0; ox < Wo; ++ox) {
          const Window w = window(g, oy, ox);
          int32_t best_i = w.y0 * g.W + w.x0;
          T best = xp[best_i];
          for (int iy = w.y0; iy < w.y1; ++iy)
            for (int ix = w.x0; ix < w.x1; ++ix)
              if (xp[iy * g.W + ix] > best) {
                best = xp[iy * g.W + ix];
                best_i = iy * g.W + ix;
              }
          yp[oy * Wo + ox] = best;
          ap[oy * Wo + ox] = best_i;
        }
    }
  });
}

template <typename T>
void maxpool_backward(const PoolGeom& g, const int32_t* argmax, const T* dy, T* dx) {
  const int64_t out_plane = int64_t{g.Ho()} * g.Wo(), in_plane = int64_t{g.H} * g.W;
  for (int64_t pl = 0; pl < int64_t{g.N} * g.C; ++pl)
    for (int64_t o = 0; o < out_plane; ++o) dx[pl * in_plane + argmax[pl * out_plane + o]] += dy[pl * out_plane + o];
}

template <typename T>
void avgpool_forward(const PoolGeom& g, const T* x, T* y, int threads) {
  const int Ho = g.Ho(), Wo = g.Wo();
  const int64_t planes = int64_t{g.N} * g.C;
  parallel_chunks(planes, elementwise_threads(planes * g.H * g.W, threads), [&](int64_t pb, int64_t pe, int) {
    for (int64_t pl = pb; pl < pe; ++pl) {
      const T* xp = x + pl * g.H * g.W;
      T* yp = y + pl * Ho * Wo;
      for (int oy = 0; oy < Ho; ++oy)
        for (int ox = 0; ox < Wo; ++ox) {
          const Window w = window(g, oy, ox);
          double s = 0;
          for (int iy = w.y0; iy < w.y1; ++iy)
            for (int ix = w.x0; ix < w.x1; ++ix) s += xp[iy * g.W + ix];
          yp[oy * Wo + ox] = static_cast<T>(s / ((w.y1 - w.y0) * (w.x1 - w.x0)));
        }
    }
  });
}

template <typename T>
void avgpool_backward(const PoolGeom& g, const T* dy, T* dx, int threads) {
  const int Ho = g.Ho(), Wo = g.Wo();
  const int64_t planes = int64_t{g.N} * g.C;
  parallel_chunks(planes, elementwise_threads(planes * g.H * g.W, threads), [&](int64_t pb, int64_t pe, int) {
    for (int64_t pl = pb; pl < pe; ++pl) {
      T* xp = dx + pl * g.H * g.W;
      const T* yp = dy + pl * Ho * Wo;
      for (int oy = 0; oy < Ho; ++oy)
        for (int ox = 0; ox < Wo; ++ox) {
          const Window w = window(g, oy, ox);
          const T d = yp[oy * Wo + ox] / static_cast<T>((w.y1 - w.y0) * (w.x1 - w.x0));
          for (int iy = w.y0; iy < w.y1; ++iy)
            for (int ix = w.x0; ix < w.x1; ++ix) xp[iy * g.W + ix] += d;
        }
    }
  });
}

template <typename T>
double softmax_cross_entropy(int N, int classes, const T* logits, const Label* labels, T* dlogits) {
  double total = 0;
  std::vector<double> e(static_cast<size_t>(classes));
  for (int n = 0; n < N; ++n) {
    const T* z = logits + static_cast<size_t>(n) * classes;
    const int label = labels[n];
    if (label >= classes)
      throw std::invalid_argument("label " + std::to_string(label) + " of sample " + std::to_string(n) +
                                  " is not below the class count " + std::to_string(classes));
    double mx = z[0];
    for (int i = 1; i < classes; ++i) mx = std::max(mx, static_cast<double>(z[i]));
    double sum = 0;
    for (int i = 0; i < classes; ++i) sum += (e[static_cast<size_t>(i)] = std::exp(static_cast<double>(z[i]) - mx));
    total += std::log(sum) - (static_cast<double>(z[label]) - mx);
    if (dlogits)
      for (int i = 0; i < classes; ++i)
        dlogits[static_cast<size_t>(n) * classes + i] =
            static_cast<T>((e[static_cast<size_t>(i)] / sum - (i == label ? 1.0 : 0.0)) / N);
  }
  return total / N;
}

#define OCTET_FP32_INSTANTIATE(T)                                                                               \
  template void conv2d_forward<T>(const ConvGeom&, const T*, const T*, T*, int);                                \
  template void conv2d_backward<T>(const ConvGeom&, const T*, const T*, const T*, T*, T*, int);                 \
  template void linear_forward<T>(int, int, int, const T*, const T*, const T*, T*);                             \
  template void linear_backward<T>(int, int, int, const T*, const T*, const T*, T*, T*, T*);                    \
  template void batchnorm_train_forward<T>(int, int, int, const T*, const T*, const T*, T*, T*, T*, bool, int); \
  template void batchnorm_infer_forward<T>(int, int, int, const T*, const T*, const T*, const T*, const T*, T*, \
                                           bool, int);                                                          \
  template void batchnorm_backward<T>(int, int, int, const T*, const T*, const T*, const T*, const T*,          \
                                      const T*, T*, T*, T*, int);                                               \
  template void relu_forward<T>(int64_t, const T*, T*);                                                         \
  template void relu_backward<T>(int64_t, const T*, const T*, T*);                                              \
  template void maxpool_forward<T>(const PoolGeom&, const T*, T*, int32_t*, int);                               \
  template void maxpool_backward<T>(const PoolGeom&, const int32_t*, const T*, T*);                             \
  template void avgpool_forward<T>(const PoolGeom&, const T*, T*, int);                                         \
  template void avgpool_backward<T>(const PoolGeom&, const T*, T*, int);                                        \
  template double softmax_cross_entropy<T>(int, int, const T*, const Label*, T*);

OCTET_FP32_INSTANTIATE(float)
OCTET_FP32_INSTANTIATE(double)
#undef OCTET_FP32_INSTANTIATE

}  // namespace octet::golden::fp32
