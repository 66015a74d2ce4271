#include "golden/residual_fast.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "golden/parallel.h"
#include "golden/residual.h"
#include "golden/simd_clones.h"

namespace octet::golden {

namespace {

struct Range {
  int64_t lo = std::numeric_limits<int64_t>::max();
  int64_t hi = std::numeric_limits<int64_t>::min();
};

// out = (a << sa) + (b << sb) in 32-bit lanes for 0 <= sa, sb <= 31. Returns nonzero iff some
// shift lost bits (shifting back does not restore the operand) or some sum left int32 (its
// sign differs from both addends'); otherwise every element equals the reference's exact sum.
OCTET_SIMD_CLONES uint32_t residual_add_kernel(const int32_t* __restrict a, const int32_t* __restrict b,
                                               int32_t* __restrict out, int64_t n, int sa, int sb) {
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t x = static_cast<uint32_t>(a[i]) << sa, y = static_cast<uint32_t>(b[i]) << sb;
    const uint32_t s = x + y;
    bad |= static_cast<uint32_t>((static_cast<int32_t>(x) >> sa) ^ a[i]);
    bad |= static_cast<uint32_t>((static_cast<int32_t>(y) >> sb) ^ b[i]);
    bad |= ((s ^ x) & (s ^ y)) >> 31;
    out[i] = static_cast<int32_t>(s);
  }
  return bad;
}

// out = (a << sa) + (b << sb) in wrapping uint64 arithmetic, 0 <= sa, sb <= 62; the operand
// ranges tell afterwards whether the result is exact (and whether an operand is all zero).
OCTET_SIMD_CLONES void error_add_kernel(const int64_t* __restrict a, const int64_t* __restrict b,
                                        int64_t* __restrict out, int64_t n, int sa, int sb, Range* ra, Range* rb) {
  int64_t alo = std::numeric_limits<int64_t>::max(), ahi = std::numeric_limits<int64_t>::min();
  int64_t blo = alo, bhi = ahi;
  for (int64_t i = 0; i < n; ++i) {
    alo = a[i] < alo ? a[i] : alo;
    ahi = a[i] > ahi ? a[i] : ahi;
    blo = b[i] < blo ? b[i] : blo;
    bhi = b[i] > bhi ? b[i] : bhi;
    out[i] = static_cast<int64_t>((static_cast<uint64_t>(a[i]) << sa) + (static_cast<uint64_t>(b[i]) << sb));
  }
  *ra = Range{alo, ahi};
  *rb = Range{blo, bhi};
}

// True iff x[0..n) are all zero; stops at the first block holding a nonzero value.
OCTET_SIMD_CLONES bool all_zero_kernel(const int64_t* __restrict x, int64_t n) {
  constexpr int64_t kBlock = 256;
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    uint64_t any = 0;
    for (int64_t j = 0; j < kBlock; ++j) any |= static_cast<uint64_t>(x[i + j]);
    if (any != 0) return false;
  }
  uint64_t any = 0;
  for (; i < n; ++i) any |= static_cast<uint64_t>(x[i]);
  return any == 0;
}

// a = (a << sa) + (b << sb) block by block (0 <= sa, sb <= 62), each block only after its
// operand ranges prove every sum exact: |a| 2^sa + |b| 2^sb <= INT64_MAX. Returns how many
// leading elements were summed (n unless a block failed the check; that block is untouched).
constexpr int64_t kAddBlock = 1024;  // two 8 KiB operand blocks stay in L1 between the passes

// *sum gets the smallest and largest sum written (with 0: the range only bounds max |sum|).
OCTET_SIMD_CLONES int64_t add_in_place_kernel(int64_t* __restrict a, const int64_t* __restrict b, int64_t n, int sa,
                                              int sb, Range* sum) {
  int64_t slo = 0, shi = 0;
  for (int64_t begin = 0; begin < n; begin += kAddBlock) {
    const int64_t len = std::min(kAddBlock, n - begin);
    int64_t alo = 0, ahi = 0, blo = 0, bhi = 0;
    for (int64_t i = begin; i < begin + len; ++i) {
      alo = a[i] < alo ? a[i] : alo;
      ahi = a[i] > ahi ? a[i] : ahi;
      blo = b[i] < blo ? b[i] : blo;
      bhi = b[i] > bhi ? b[i] : bhi;
    }
    const uint64_t ma = std::max(static_cast<uint64_t>(ahi), 0 - static_cast<uint64_t>(alo));
    const uint64_t mb = std::max(static_cast<uint64_t>(bhi), 0 - static_cast<uint64_t>(blo));
    const auto bound = (static_cast<unsigned __int128>(ma) << sa) + (static_cast<unsigned __int128>(mb) << sb);
    if (bound > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max())) {
      *sum = Range{slo, shi};
      return begin;
    }
    for (int64_t i = begin; i < begin + len; ++i) {
      const auto r = static_cast<int64_t>((static_cast<uint64_t>(a[i]) << sa) + (static_cast<uint64_t>(b[i]) << sb));
      a[i] = r;
      slo = r < slo ? r : slo;
      shi = r > shi ? r : shi;
    }
  }
  *sum = Range{slo, shi};
  return n;
}

Range merged(const std::vector<Range>& parts) {
  Range r;
  for (const Range& p : parts) r = Range{std::min(r.lo, p.lo), std::max(r.hi, p.hi)};
  return r;
}

uint64_t magnitude(const Range& r) {
  const uint64_t up = r.hi > 0 ? static_cast<uint64_t>(r.hi) : 0;
  const uint64_t down = r.lo < 0 ? 0 - static_cast<uint64_t>(r.lo) : 0;
  return std::max(up, down);
}

}  // namespace

Tensor<int32_t> residual_add_fast(const Tensor<int32_t>& a, const Tensor<int32_t>& b, int threads) {
  const int e = std::min(a.exp, b.exp);
  const int sa = a.exp - e, sb = b.exp - e;
  if (a.shape != b.shape || std::max(sa, sb) > 31) return residual_add(a, b);  // errors, or shifts that overflow
  const int64_t n = a.size();
  Tensor<int32_t> out(a.shape, e, Uninitialized{});
  const int workers = element_workers(n, threads);
  std::vector<uint32_t> bad(static_cast<size_t>(workers));
  for_each_chunk(n, workers, [&](int64_t c, int64_t begin, int64_t end) {
    bad[static_cast<size_t>(c)] =
        residual_add_kernel(a.data.data() + begin, b.data.data() + begin, out.data.data() + begin, end - begin, sa, sb);
  });
  for (uint32_t flag : bad)
    if (flag != 0) return residual_add(a, b);  // throws the reference's overflow error
  return out;
}

Tensor<int64_t> error_add_fast(const Tensor<int64_t>& a, const Tensor<int64_t>& b, int threads) {
  const int e = std::min(a.exp, b.exp);
  const int sa = a.exp - e, sb = b.exp - e;
  if (a.shape != b.shape || std::max(sa, sb) > 62) return error_add(a, b);
  const int64_t n = a.size();
  Tensor<int64_t> out(a.shape, e, Uninitialized{});
  const int workers = element_workers(n, threads);
  std::vector<Range> ra(static_cast<size_t>(workers)), rb(static_cast<size_t>(workers));
  for_each_chunk(n, workers, [&](int64_t c, int64_t begin, int64_t end) {
    error_add_kernel(a.data.data() + begin, b.data.data() + begin, out.data.data() + begin, end - begin, sa, sb,
                     &ra[static_cast<size_t>(c)], &rb[static_cast<size_t>(c)]);
  });
  const Range a_range = merged(ra), b_range = merged(rb);
  // The reference returns an all-zero operand's partner unchanged (its own exponent).
  if (a_range.lo == 0 && a_range.hi == 0) return b;
  if (b_range.lo == 0 && b_range.hi == 0) return a;
  // Exact iff both shifts and the sum stay inside int64; |a| 2^sa + |b| 2^sb < 2^63 suffices.
  const auto ma = static_cast<unsigned __int128>(magnitude(a_range)) << sa;
  const auto mb = static_cast<unsigned __int128>(magnitude(b_range)) << sb;
  if (ma + mb > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max())) return error_add(a, b);
  return out;
}

namespace {
// into = e, copied in parallel chunks (an error tensor is megabytes; a serial copy stalls the other workers).
void assign_copy(Tensor<int64_t>& into, const Tensor<int64_t>& e, int threads) {
  Tensor<int64_t> out(e.shape, e.exp, Uninitialized{});
  for_each_chunk(e.size(), element_workers(e.size(), threads), [&](int64_t, int64_t begin, int64_t end) {
    std::copy(e.data.begin() + begin, e.data.begin() + end, out.data.begin() + begin);
  });
  into = std::move(out);
}

// The body of both accumulate_error_fast overloads: `owned` is e itself when the caller gave it
// away (then "into = e" is a move), null when e must be copied.
void accumulate_impl(Tensor<int64_t>& into, const Tensor<int64_t>& e, Tensor<int64_t>* owned, int threads,
                     KnownMax* into_max, KnownMax e_max) {
  KnownMax unused;
  if (!into_max) into_max = &unused;
  const auto take = [&] {
    if (owned) into = std::move(*owned);
    else assign_copy(into, e, threads);
    *into_max = e_max;
  };
  if (into.empty()) {
    take();
    return;
  }
  const int exp = std::min(into.exp, e.exp);
  const int sa = into.exp - exp, sb = e.exp - exp;
  if (into.shape != e.shape || std::max(sa, sb) > 62) {
    into = error_add(into, e);  // the reference's exception or result
    *into_max = KnownMax{};
    return;
  }
  const int64_t n = into.size();
  // The reference's all-zero rules, in its order: an all-zero operand yields the other one.
  if (all_zero_kernel(into.data.data(), n)) {
    take();
    return;
  }
  if (all_zero_kernel(e.data.data(), n)) return;  // into and *into_max unchanged
  const int workers = element_workers(n, threads);
  std::vector<int64_t> done(static_cast<size_t>(workers));
  std::vector<Range> sums(static_cast<size_t>(workers));
  std::vector<int64_t> begins(static_cast<size_t>(workers)), ends(static_cast<size_t>(workers));
  for_each_chunk(n, workers, [&](int64_t c, int64_t begin, int64_t end) {
    const auto w = static_cast<size_t>(c);
    begins[w] = begin;
    ends[w] = end;
    done[w] = begin + add_in_place_kernel(into.data.data() + begin, e.data.data() + begin, end - begin, sa, sb, &sums[w]);
  });
  bool complete = true;
  for (size_t w = 0; w < done.size(); ++w) complete = complete && done[w] == ends[w];
  if (complete) {
    into.exp = exp;
    *into_max = KnownMax{true, magnitude(merged(sums))};
    return;
  }
  // Some block might overflow: undo the exact sums made so far, then let the reference decide.
  for (size_t w = 0; w < done.size(); ++w)
    for (int64_t i = begins[w]; i < done[w]; ++i)
      into.data[i] = (into.data[i] - static_cast<int64_t>(static_cast<uint64_t>(e.data[i]) << sb)) >> sa;
  into = error_add(into, e);
  *into_max = KnownMax{};
}
}  // namespace

void accumulate_error_fast(Tensor<int64_t>& into, Tensor<int64_t> e, int threads) {
  accumulate_impl(into, e, &e, threads, nullptr, KnownMax{});
}

void accumulate_error_fast(Tensor<int64_t>& into, const Tensor<int64_t>& e, int threads, KeepOperand) {
  accumulate_impl(into, e, nullptr, threads, nullptr, KnownMax{});
}

void accumulate_error_fast(Tensor<int64_t>& into, Tensor<int64_t> e, int threads, KnownMax* into_max, KnownMax e_max) {
  accumulate_impl(into, e, &e, threads, into_max, e_max);
}

void accumulate_error_fast(Tensor<int64_t>& into, const Tensor<int64_t>& e, int threads, KeepOperand,
                           KnownMax* into_max, KnownMax e_max) {
  accumulate_impl(into, e, nullptr, threads, into_max, e_max);
}

}  // namespace octet::golden
