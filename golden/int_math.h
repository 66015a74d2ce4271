// Integer building blocks of the WAGEUBN numerics contract (docs/numerics.md §2).
// Every function here has a fixed-cycle hardware counterpart: a leading-one
// detector, a comparator, a digit-by-digit square root, a restoring divider.
#pragma once

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace octet::golden {

using int128 = __int128;
using uint128 = unsigned __int128;

// floor(log2 m) for m > 0: the position of the leading one.
int floor_log2(uint64_t m);

// round(log2 m) for m > 0, exact: k = floor_log2(m), plus one iff m^2 >= 2^(2k+1).
// log2 of an integer is never a half-integer, so there is no tie (contract §2.2).
int round_log2(uint64_t m);

// floor(sqrt(m)), digit-by-digit (one result bit per step, 64 steps).
uint64_t isqrt(uint128 m);

// x / 2^s rounded half to even, for s >= 0 (contract §2.1, rule R1). Inline: hot in every layer.
template <typename T>
inline T shift_right_rhe_impl(T x, int s, int width) {
  if (s < 0) throw std::invalid_argument("shift_right_round_half_even: negative shift");
  if (s == 0) return x;
  if (s >= width) return 0;  // |x| <= 2^(width-1) <= 2^(s-1): at most a tie, which rounds to even 0
  const T floor_q = x >> s;  // arithmetic shift: floor division by 2^s
  // The mask 2^s - 1 in the unsigned type: for s = width-1, 2^s does not fit T.
  using U = std::make_unsigned_t<T>;
  const T rem = static_cast<T>(static_cast<U>(x) & ((U{1} << s) - 1));
  const T half = static_cast<T>(1) << (s - 1);
  return (rem > half || (rem == half && (floor_q & 1))) ? floor_q + 1 : floor_q;
}
inline int64_t shift_right_round_half_even(int64_t x, int s) { return shift_right_rhe_impl<int64_t>(x, s, 64); }
inline int128 shift_right_round_half_even(int128 x, int s) { return shift_right_rhe_impl<int128>(x, s, 128); }

[[noreturn]] void throw_shift_overflow(int64_t x, int s);

// x * 2^s exactly; throws std::overflow_error if the result leaves int64.
inline int64_t shift_left_checked(int64_t x, int s) {
  if (s < 0) throw std::invalid_argument("shift_left_checked: negative shift");
  if (x == 0) return 0;
  if (s >= 63) throw_shift_overflow(x, s);
  const int64_t limit = std::numeric_limits<int64_t>::max() >> s;
  if (x > limit || x < -limit - 1) throw_shift_overflow(x, s);
  return static_cast<int64_t>(static_cast<uint64_t>(x) << s);
}

// x * 2^s for any s: an exact left shift (checked) or a round-half-even right shift.
inline int64_t shift_round_half_even(int64_t x, int s) {
  return s >= 0 ? shift_left_checked(x, s) : shift_right_round_half_even(x, -s);
}

// a / b rounded half to even, b > 0 (restoring divider: quotient, then remainder compare).
int64_t divide_round_half_even(int64_t a, int64_t b);
int128 divide_round_half_even(int128 a, int128 b);

// Clamp to [lo, hi].
constexpr int64_t saturate(int64_t x, int64_t lo, int64_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

[[noreturn]] void throw_narrow_overflow(const char* what);

// Narrow an int128 to int64, throwing std::overflow_error naming `what` if it does not fit.
inline int64_t narrow_checked(int128 x, const char* what) {
  if (x > std::numeric_limits<int64_t>::max() || x < std::numeric_limits<int64_t>::min()) throw_narrow_overflow(what);
  return static_cast<int64_t>(x);
}

}  // namespace octet::golden
