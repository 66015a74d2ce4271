// IDX headers are bounded before any data is read or allocated: a forged header announcing
// more than the limit is a DataError naming the limit, whatever the file really holds.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <string>
#include <vector>

#include "golden/idx.h"

using namespace octet::golden;

namespace {

std::string write_idx(const std::string& name, const std::vector<uint32_t>& dims, size_t data_bytes) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("octet_idx_bounds_" + std::to_string(::getpid()) + "_" + name)).string();
  std::ofstream out(path, std::ios::binary);
  out.put(0).put(0).put(0x08).put(static_cast<char>(dims.size()));
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.put(static_cast<char>(d >> shift & 0xFF));
  out << std::string(data_bytes, '\x07');
  return path;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(IdxBounds, ForgedHugeHeaderIsRefusedBeforeReading) {
  // (2^32-1)^2 bytes fit in 64 bits, so only the bound can refuse it; the file holds 100.
  const std::string path = write_idx("huge", {0xFFFFFFFFu, 0xFFFFFFFFu}, 100);
  const std::string e = error_of([&] { read_idx(path); });
  EXPECT_NE(e.find(path + ": bad header: dimensions 4294967295×4294967295 = 18446744065119617025 data bytes, more "
                          "than the limit of "),
            std::string::npos)
      << e;
  EXPECT_EQ(error_of([&] { read_idx_header(path); }), e);
  std::remove(path.c_str());
}

TEST(IdxBounds, LimitIsInclusiveAndHeaderOnlyReadsNoData) {
  const std::string path = write_idx("small", {10, 4, 4}, 160);
  EXPECT_EQ(read_idx(path, 160).data.size(), 160u);
  EXPECT_EQ(error_of([&] { read_idx(path, 159); }),
            path + ": bad header: dimensions 10×4×4 = 160 data bytes, more than the limit of 159 (159 bytes)");
  const IdxArray h = read_idx_header(path, 160);
  EXPECT_EQ(h.dims, (std::vector<uint32_t>{10, 4, 4}));
  EXPECT_TRUE(h.data.empty());
  std::remove(path.c_str());
}
