// Bit fields of verilated ports through one interface: --cc scalar ports (CData..QData), --cc
// wide ports (VlWide) and the 32-bit word vectors that --sc wide ports (sc_bv<N>) are packed
// into (write_words / read_words), all 32-bit words LSB first.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace octet::sim {

template <typename Port>
void put_bits(Port& port, unsigned lsb, unsigned width, uint64_t value) {
  if constexpr (std::is_integral_v<Port>) {
    const uint64_t mask = (width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1) << lsb;
    port = static_cast<Port>((static_cast<uint64_t>(port) & ~mask) | ((value << lsb) & mask));
  } else {
    for (unsigned i = 0; i < width;) {
      const unsigned bit = lsb + i, word = bit / 32, off = bit % 32;
      const unsigned n = std::min(32 - off, width - i);
      const uint32_t mask = (n == 32 ? ~uint32_t{0} : (uint32_t{1} << n) - 1) << off;
      const uint32_t bits = static_cast<uint32_t>(value >> i) << off;
      port[word] = (port[word] & ~mask) | (bits & mask);
      i += n;
    }
  }
}

template <typename Port>
uint64_t get_bits(const Port& port, unsigned lsb, unsigned width) {
  const uint64_t mask = width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  if constexpr (std::is_integral_v<Port>) {
    return (static_cast<uint64_t>(port) >> lsb) & mask;
  } else {
    uint64_t v = 0;
    for (unsigned i = 0; i < width;) {
      const unsigned bit = lsb + i, word = bit / 32, off = bit % 32;
      const unsigned n = std::min(32 - off, width - i);
      v |= static_cast<uint64_t>(port[word] >> off) << i;
      i += n;
    }
    return v & mask;
  }
}

// Two's-complement value of the low `width` bits.
inline int64_t sign_extend(uint64_t v, unsigned width) {
  if (width >= 64) return static_cast<int64_t>(v);
  const uint64_t sign = uint64_t{1} << (width - 1);
  v &= (sign << 1) - 1;
  return static_cast<int64_t>(v ^ sign) - static_cast<int64_t>(sign);
}

inline uint64_t low_bits(int64_t v, unsigned width) {
  return width >= 64 ? static_cast<uint64_t>(v) : static_cast<uint64_t>(v) & ((uint64_t{1} << width) - 1);
}

template <typename Bv>
void write_words(Bv& bv, const std::vector<uint32_t>& words) {
  for (size_t i = 0; i < words.size(); ++i) bv.set_word(static_cast<int>(i), words[i]);
}

template <typename Bv>
void read_words(const Bv& bv, std::vector<uint32_t>& words) {
  for (size_t i = 0; i < words.size(); ++i) words[i] = bv.get_word(static_cast<int>(i));
}

}  // namespace octet::sim
