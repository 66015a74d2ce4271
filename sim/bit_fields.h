// Bit fields of wide --sc ports (sc_bv<N>) through 32-bit word vectors: fields are packed
// into words, then a whole sc_bv is written or read with set_word/get_word.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace octet::sim {

inline void put_bits(std::vector<uint32_t>& words, unsigned lsb, unsigned width, uint64_t value) {
  for (unsigned i = 0; i < width;) {
    const unsigned bit = lsb + i, word = bit / 32, off = bit % 32;
    const unsigned n = std::min(32 - off, width - i);
    const uint32_t mask = (n == 32 ? ~uint32_t{0} : (uint32_t{1} << n) - 1) << off;
    const uint32_t bits = static_cast<uint32_t>(value >> i) << off;
    words[word] = (words[word] & ~mask) | (bits & mask);
    i += n;
  }
}

inline uint64_t get_bits(const std::vector<uint32_t>& words, unsigned lsb, unsigned width) {
  uint64_t v = 0;
  for (unsigned i = 0; i < width;) {
    const unsigned bit = lsb + i, word = bit / 32, off = bit % 32;
    const unsigned n = std::min(32 - off, width - i);
    v |= static_cast<uint64_t>(words[word] >> off) << i;
    i += n;
  }
  return width >= 64 ? v : v & ((uint64_t{1} << width) - 1);
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
