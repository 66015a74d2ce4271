#include "golden/int_math.h"

#include <bit>
#include <limits>
#include <stdexcept>
#include <string>

namespace octet::golden {

int floor_log2(uint64_t m) {
  if (m == 0) throw std::invalid_argument("floor_log2: argument must be > 0");
  return 63 - std::countl_zero(m);
}

int round_log2(uint64_t m) {
  const int k = floor_log2(m);
  const uint128 square = static_cast<uint128>(m) * m;
  const uint128 threshold = static_cast<uint128>(1) << (2 * k + 1);
  return square >= threshold ? k + 1 : k;
}

uint64_t isqrt(uint128 m) {
  // Digit-by-digit (restoring) square root: one result bit per iteration.
  uint128 remainder = 0;
  uint128 root = 0;
  for (int i = 63; i >= 0; --i) {
    remainder = (remainder << 2) | ((m >> (2 * i)) & 3);
    const uint128 trial = (root << 2) | 1;
    root <<= 1;
    if (remainder >= trial) {
      remainder -= trial;
      root |= 1;
    }
  }
  return static_cast<uint64_t>(root);
}

namespace {
template <typename T>
T divide_rhe(T a, T b) {
  if (b <= 0) throw std::invalid_argument("divide_round_half_even: divisor must be > 0");
  const bool negative = a < 0;
  // Work on the magnitude so that the rule is symmetric about zero.
  using U = std::conditional_t<sizeof(T) == 8, uint64_t, uint128>;
  const U mag = negative ? static_cast<U>(0) - static_cast<U>(a) : static_cast<U>(a);
  const U ub = static_cast<U>(b);
  U q = mag / ub;
  const U r = mag % ub;
  const U twice_r = r * 2;  // r < b <= max/2: no overflow
  if (twice_r > ub || (twice_r == ub && (q & 1))) ++q;
  return negative ? -static_cast<T>(q) : static_cast<T>(q);
}
}  // namespace

void throw_shift_overflow(int64_t x, int s) {
  throw std::overflow_error("left shift of " + std::to_string(x) + " by " + std::to_string(s) + " overflows int64");
}

int64_t divide_round_half_even(int64_t a, int64_t b) { return divide_rhe<int64_t>(a, b); }
int128 divide_round_half_even(int128 a, int128 b) { return divide_rhe<int128>(a, b); }

void throw_narrow_overflow(const char* what) {
  throw std::overflow_error(std::string(what) + ": value exceeds the int64 accumulator");
}

}  // namespace octet::golden
