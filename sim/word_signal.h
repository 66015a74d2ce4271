// A signal whose width depends on the verilated configuration (an array's operand rows, a
// unit's lanes), read and written as 32-bit words, LSB first.
//
// Verilator's --sc ports are bool (1 bit), uint32_t (2-32 bits), uint64_t (33-64 bits) or
// sc_bv<W> (wider), so the C++ type of, say, a 4-lane unit's 64-bit bus differs from an
// 8-lane unit's. The wrappers (sim/rtl_*.h) drive such ports through this interface; the
// binder of each verilated configuration (sim/rtl_bind.h) creates the signal with the
// port's own type (word_signal_for) and binds it.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

namespace octet::sim {

class WordSignal {
 public:
  virtual ~WordSignal() = default;
  virtual void write(const std::vector<uint32_t>& words) = 0;
  virtual void read(std::vector<uint32_t>& words) const = 0;
};

template <typename T>
class WordSignalOf final : public WordSignal {
 public:
  explicit WordSignalOf(const char* name) : signal_(name) {}
  sc_core::sc_signal<T>& signal() { return signal_; }

  void write(const std::vector<uint32_t>& words) override {
    if constexpr (std::is_integral_v<T>) {
      uint64_t v = 0;
      for (size_t i = 0; i < words.size() && i < 2; ++i) v |= static_cast<uint64_t>(words[i]) << (32 * i);
      signal_.write(static_cast<T>(v));
    } else {
      T bv;
      for (size_t i = 0; i < words.size() && static_cast<int>(i) < (bv.length() + 31) / 32; ++i)
        bv.set_word(static_cast<int>(i), words[i]);
      signal_.write(bv);
    }
  }
  void read(std::vector<uint32_t>& words) const override {
    const T v = signal_.read();
    for (size_t i = 0; i < words.size(); ++i) {
      if constexpr (std::is_integral_v<T>) {
        words[i] = i < 2 ? static_cast<uint32_t>(static_cast<uint64_t>(v) >> (32 * i)) : 0;
      } else {
        words[i] = static_cast<int>(i) < (v.length() + 31) / 32 ? v.get_word(static_cast<int>(i)) : 0;
      }
    }
  }

 private:
  sc_core::sc_signal<T> signal_;
};

// Creates the signal of `port`'s type (an sc_in or sc_out) and binds the port to it.
template <typename Port>
std::unique_ptr<WordSignal> word_signal_for(Port& port, const char* name) {
  auto s = std::make_unique<WordSignalOf<typename Port::data_type>>(name);
  port(s->signal());
  return s;
}

}  // namespace octet::sim
