#include "golden/error_tensor.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "golden/parallel.h"
#include "golden/residual_fast.h"
#include "golden/simd_clones.h"

namespace octet::golden {

namespace {

OCTET_SIMD_CLONES_AVX512 void widen_kernel(const int32_t* __restrict x, int64_t* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i];
}

// a = (a << sa) + (b << sb) in 32-bit lanes (0 <= sa, sb <= 31), for operands whose maxima
// prove |a| 2^sa + |b| 2^sb <= INT32_MAX: every shift and sum is then exact (computed in
// wrapping uint32, which equals the exact value). Returns max |a| after the sum.
OCTET_SIMD_CLONES_AVX512 uint32_t add_in_place_32(int32_t* __restrict a, const int32_t* __restrict b, int64_t n, int sa,
                                                  int sb) {
  uint32_t m = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto r = static_cast<int32_t>((static_cast<uint32_t>(a[i]) << sa) + (static_cast<uint32_t>(b[i]) << sb));
    a[i] = r;
    const uint32_t mag = r < 0 ? 0u - static_cast<uint32_t>(r) : static_cast<uint32_t>(r);
    m = mag > m ? mag : m;
  }
  return m;
}

template <typename T>
Tensor<T> parallel_copy(const Tensor<T>& e, int threads) {
  Tensor<T> out(e.shape, e.exp, Uninitialized{});
  for_each_chunk(e.size(), element_workers(e.size(), threads), [&](int64_t, int64_t begin, int64_t end) {
    std::copy(e.data.begin() + begin, e.data.begin() + end, out.data.begin() + begin);
  });
  return out;
}

// The body of both ErrorTensor overloads (`owned`: e itself when the caller gave it away).
void accumulate_impl(ErrorTensor& into, const ErrorTensor& e, ErrorTensor* owned, int threads, KnownMax* into_max,
                     KnownMax e_max) {
  KnownMax unused;
  if (!into_max) into_max = &unused;
  const auto take = [&] {
    if (owned)
      into = std::move(*owned);
    else if (e.is_narrow())
      into = ErrorTensor::of_narrow(parallel_copy(e.narrow, threads));
    else
      into = ErrorTensor(parallel_copy(e.wide, threads));
    *into_max = e_max;
  };
  if (into.empty()) {
    into = ErrorTensor{};
    take();
    return;
  }
  if (into.is_narrow() && e.is_narrow() && into.narrow.shape == e.narrow.shape) {
    Tensor<int32_t>& a = into.narrow;
    const Tensor<int32_t>& b = e.narrow;
    const int exp = std::min(a.exp, b.exp);
    const int sa = a.exp - exp, sb = b.exp - exp;
    if (std::max(sa, sb) <= 31) {
      const int64_t n = a.size();
      const uint64_t ma = into_max->known ? into_max->value : max_magnitude_fast(a.data.data(), n, threads);
      const uint64_t mb = e_max.known ? e_max.value : max_magnitude_fast(b.data.data(), n, threads);
      // error_add's all-zero rules: an all-zero operand yields the other one.
      if (ma == 0) {
        take();
        if (!into_max->known) *into_max = KnownMax{true, mb};
        return;
      }
      if (mb == 0) {
        *into_max = KnownMax{true, ma};
        return;
      }
      if ((static_cast<unsigned __int128>(ma) << sa) + (static_cast<unsigned __int128>(mb) << sb) <=
          static_cast<unsigned __int128>(std::numeric_limits<int32_t>::max())) {
        const int workers = element_workers(n, threads);
        std::vector<uint32_t> part(static_cast<size_t>(workers), 0);
        for_each_chunk(n, workers, [&](int64_t c, int64_t begin, int64_t end) {
          part[static_cast<size_t>(c)] = add_in_place_32(a.data.data() + begin, b.data.data() + begin, end - begin, sa, sb);
        });
        a.exp = exp;
        *into_max = KnownMax{true, *std::max_element(part.begin(), part.end())};
        return;
      }
    }
  }
  // Otherwise in int64, as accumulate_error_fast decides (and with its exceptions).
  if (into.is_narrow()) into = ErrorTensor(widened(std::move(into), threads));
  if (e.is_narrow())
    accumulate_error_fast(into.wide, widened(e, threads), threads, into_max, e_max);
  else if (owned)
    accumulate_error_fast(into.wide, std::move(owned->wide), threads, into_max, e_max);
  else
    accumulate_error_fast(into.wide, e.wide, threads, KeepOperand{}, into_max, e_max);
}

}  // namespace

Tensor<int64_t> widened(const ErrorTensor& e, int threads) {
  if (!e.is_narrow()) return e.wide;
  Tensor<int64_t> out(e.narrow.shape, e.narrow.exp, Uninitialized{});
  for_each_chunk(e.narrow.size(), element_workers(e.narrow.size(), threads), [&](int64_t, int64_t begin, int64_t end) {
    widen_kernel(e.narrow.data.data() + begin, out.data.data() + begin, end - begin);
  });
  return out;
}

Tensor<int64_t> widened(ErrorTensor&& e, int threads) {
  if (!e.is_narrow()) return std::move(e.wide);
  return widened(static_cast<const ErrorTensor&>(e), threads);
}

void accumulate_error_fast(ErrorTensor& into, ErrorTensor e, int threads, KnownMax* into_max, KnownMax e_max) {
  accumulate_impl(into, e, &e, threads, into_max, e_max);
}

void accumulate_error_fast(ErrorTensor& into, const ErrorTensor& e, int threads, KeepOperand, KnownMax* into_max,
                           KnownMax e_max) {
  accumulate_impl(into, e, nullptr, threads, into_max, e_max);
}

}  // namespace octet::golden
