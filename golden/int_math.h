// Integer building blocks of the WAGEUBN numerics contract (docs/numerics.md §2).
// Every function here has a fixed-cycle hardware counterpart: a leading-one
// detector, a comparator, a digit-by-digit square root, a restoring divider.
#pragma once

#include <cstdint>

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

// x / 2^s rounded half to even, for s >= 0 (contract §2.1, rule R1).
int64_t shift_right_round_half_even(int64_t x, int s);
int128 shift_right_round_half_even(int128 x, int s);

// x * 2^s exactly; throws std::overflow_error if the result leaves int64.
int64_t shift_left_checked(int64_t x, int s);

// x * 2^s for any s: an exact left shift (checked) or a round-half-even right shift.
int64_t shift_round_half_even(int64_t x, int s);

// a / b rounded half to even, b > 0 (restoring divider: quotient, then remainder compare).
int64_t divide_round_half_even(int64_t a, int64_t b);
int128 divide_round_half_even(int128 a, int128 b);

// Clamp to [lo, hi].
constexpr int64_t saturate(int64_t x, int64_t lo, int64_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

// Narrow an int128 to int64, throwing std::overflow_error naming `what` if it does not fit.
int64_t narrow_checked(int128 x, const char* what);

}  // namespace octet::golden
