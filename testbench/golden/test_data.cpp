// Data loading: IDX reading (plain and gzip), every DataError, batches, and the
// deterministic per-epoch shuffle; the real Fashion-MNIST when Debian's package is installed.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "golden/dataset.h"
#include "golden/idx.h"

using namespace octet::golden;
namespace fs = std::filesystem;

namespace {

// The bytes of an IDX file: magic 0 0 type ndims, big-endian dims, data.
std::vector<uint8_t> idx_bytes(uint8_t type, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> b = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<uint8_t>(d >> shift));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

std::vector<uint8_t> iota_bytes(size_t n, uint8_t start = 0) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(start + i);
  return v;
}

// Each test gets its own directory: ctest runs the tests of this binary in parallel.
class DataFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("octet_test_data_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_plain(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string p = (dir_ / name).string();
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    EXPECT_TRUE(out.good());
    return p;
  }
  std::string write_gz(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string p = (dir_ / name).string();
    gzFile f = gzopen(p.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
    EXPECT_EQ(gzclose(f), Z_OK);
    return p;
  }

  fs::path dir_;
};

// Runs `f`, expects a DataError whose message is one line "<path>: <...want...>".
void expect_data_error(const std::function<void()>& f, const std::string& path, const std::string& want) {
  try {
    f();
    ADD_FAILURE() << "no DataError; expected \"" << want << "\"";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(want), std::string::npos) << "message: " << msg << "\nwanted: " << want;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

}  // namespace

// ---- IDX reader ---------------------------------------------------------------------------

TEST_F(DataFiles, ReadsPlainAndGzipIdentically) {
  const std::vector<uint8_t> data = iota_bytes(3 * 4 * 5, 7);
  const auto bytes = idx_bytes(0x08, {3, 4, 5}, data);
  for (const std::string& p : {write_plain("a.idx", bytes), write_gz("a.idx.gz", bytes)}) {
    const IdxArray a = read_idx(p);
    EXPECT_EQ(a.dims, (std::vector<uint32_t>{3, 4, 5})) << p;
    EXPECT_EQ(a.data, data) << p;
  }
}

TEST_F(DataFiles, ReadsLargeDimensionsAndMultiChunkData) {
  // Dimensions above 2^24 exercise all four big-endian bytes; 5 MB spans several read chunks.
  const auto big = read_idx(write_plain("v.idx", idx_bytes(0x08, {5, 1000, 1000},
                                                           std::vector<uint8_t>(5'000'000, 0xAB))));
  EXPECT_EQ(big.dims, (std::vector<uint32_t>{5, 1000, 1000}));
  EXPECT_EQ(big.data.size(), 5'000'000u);
  EXPECT_TRUE(std::all_of(big.data.begin(), big.data.end(), [](uint8_t v) { return v == 0xAB; }));

  std::vector<uint8_t> header = {0, 0, 0x08, 1, 0x01, 0x02, 0x03, 0x04};  // one dim of 16909060: truncated
  const std::string p = write_plain("h.idx", header);
  expect_data_error([&] { read_idx(p); }, p, "truncated: header says 16909060 = 16909060 data bytes, file has 0");
}

TEST_F(DataFiles, MissingFile) {
  const std::string p = (dir_ / "nope.gz").string();
  expect_data_error([&] { read_idx(p); }, p, "cannot open: No such file or directory");
}

TEST_F(DataFiles, TruncatedData) {
  const auto bytes = idx_bytes(0x08, {3, 2, 2}, iota_bytes(7));
  const std::string want = "truncated: header says 3×2×2 = 12 data bytes, file has 7";
  const std::string plain = write_plain("t.idx", bytes);
  expect_data_error([&] { read_idx(plain); }, plain, want);
  const std::string gz = write_gz("t.idx.gz", bytes);
  expect_data_error([&] { read_idx(gz); }, gz, want);
}

TEST_F(DataFiles, TruncatedGzipStream) {
  // A complete IDX payload whose compressed file was cut short (an interrupted download).
  const std::string full = write_gz("full.gz", idx_bytes(0x08, {1000}, iota_bytes(1000)));
  std::ifstream in(full, std::ios::binary);
  std::vector<uint8_t> gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  gz.resize(gz.size() / 2);
  const std::string cut = write_plain("cut.gz", gz);
  expect_data_error([&] { read_idx(cut); }, cut, "truncated: header says 1000 = 1000 data bytes, file has ");
  expect_data_error([&] { read_idx(cut); }, cut, " (gzip: unexpected end of file)");
}

TEST_F(DataFiles, TruncatedHeader) {
  const std::string p2 = write_plain("two.idx", {0, 0});
  expect_data_error([&] { read_idx(p2); }, p2, "truncated: 2 bytes, too short for the 4-byte IDX magic");
  const std::string e = write_plain("empty.idx", {});
  expect_data_error([&] { read_idx(e); }, e, "truncated: 0 bytes");
  const std::string d = write_plain("dims.idx", {0, 0, 8, 3, 0, 0, 0, 5, 0, 0});
  expect_data_error([&] { read_idx(d); }, d, "truncated: magic announces 3 dimensions (12 bytes), file has 6");
}

TEST_F(DataFiles, BadMagic) {
  const std::string p = write_plain("x.txt", {'h', 'e', 'l', 'l', 'o'});
  expect_data_error([&] { read_idx(p); }, p, "bad magic 0x68 0x65 0x6C 0x6C: not an IDX file");
  const std::string z = write_plain("z.idx", {0, 0, 8, 0});
  expect_data_error([&] { read_idx(z); }, z, "bad magic: zero dimensions");
  const std::string u = write_plain("u.idx", idx_bytes(0x07, {1}, {0}));
  expect_data_error([&] { read_idx(u); }, u, "bad magic: unknown IDX element type 0x07");
}

TEST_F(DataFiles, WrongElementType) {
  const std::string p = write_gz("f.idx.gz", idx_bytes(0x0D, {1}, {0, 0, 0, 0}));
  expect_data_error([&] { read_idx(p); }, p,
                    "unsupported element type 0x0D (float32); only 0x08 (unsigned byte) is supported");
  const std::string s = write_plain("s.idx", idx_bytes(0x09, {1}, {0}));
  expect_data_error([&] { read_idx(s); }, s, "unsupported element type 0x09 (signed byte)");
}

TEST_F(DataFiles, TrailingData) {
  const std::string p = write_plain("t.idx", idx_bytes(0x08, {2}, {1, 2, 3}));
  expect_data_error([&] { read_idx(p); }, p, "trailing data: 1 bytes after the 2 array");
}

TEST_F(DataFiles, CorruptGzip) {
  // A valid gzip header, then a deflate block of the reserved type 3: inflate fails.
  const std::string p = write_plain("c.gz", {0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF});
  expect_data_error([&] { read_idx(p); }, p, "corrupt gzip stream: invalid block type");
  // A directory opens but cannot be read.
  const std::string d = dir_.string();
  expect_data_error([&] { read_idx(d); }, d, "read error: Is a directory");
}

// ---- Dataset --------------------------------------------------------------------------------

TEST_F(DataFiles, LoadsImagesAndLabels) {
  const std::string img = write_gz("i.gz", idx_bytes(0x08, {3, 2, 2}, iota_bytes(12)));
  const std::string lab = write_plain("l.idx", idx_bytes(0x08, {3}, {2, 0, 1}));
  const Dataset ds = load_idx_dataset(img, lab, 3);
  EXPECT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.channels, 1);
  EXPECT_EQ(ds.height, 2);
  EXPECT_EQ(ds.width, 2);
  EXPECT_EQ(ds.num_classes, 3);
  EXPECT_EQ(ds.image_elements(), 4);
  EXPECT_EQ(ds.images, iota_bytes(12));
  EXPECT_EQ(ds.labels, (std::vector<Label>{2, 0, 1}));

  // N×C×H×W images keep their channels.
  const std::string img4 = write_plain("i4.idx", idx_bytes(0x08, {3, 2, 1, 2}, iota_bytes(12)));
  const Dataset d4 = load_idx_dataset(img4, lab, 3);
  EXPECT_EQ(d4.channels, 2);
  EXPECT_EQ(d4.height, 1);
  EXPECT_EQ(d4.width, 2);
}

TEST_F(DataFiles, DatasetErrors) {
  const std::string img = write_plain("i.idx", idx_bytes(0x08, {5, 2, 2}, iota_bytes(20)));
  const std::string lab4 = write_plain("l4.idx", idx_bytes(0x08, {4}, {0, 1, 2, 3}));
  expect_data_error([&] { load_idx_dataset(img, lab4, 10); }, lab4, "4 labels but " + img + " has 5 images");

  const std::string lab = write_plain("l.idx", idx_bytes(0x08, {5}, {0, 1, 9, 10, 3}));
  expect_data_error([&] { load_idx_dataset(img, lab, 10); }, lab,
                    "label 10 at index 3 is not below the number of classes 10");
  EXPECT_NO_THROW(load_idx_dataset(img, lab, 11));
  EXPECT_EQ(load_idx_dataset(img, lab, 1000).num_classes, 1000);  // more classes than a byte holds
  EXPECT_EQ(load_idx_dataset(img, lab, 65536).num_classes, 65536);
  EXPECT_THROW(load_idx_dataset(img, lab, 65537), std::invalid_argument);

  const std::string flat = write_plain("flat.idx", idx_bytes(0x08, {5, 4}, iota_bytes(20)));
  expect_data_error([&] { load_idx_dataset(flat, lab, 11); }, flat,
                    "images must be N×H×W or N×C×H×W, file has 5×4");
  const std::string lab2 = write_plain("l2.idx", idx_bytes(0x08, {5, 1}, iota_bytes(5)));
  expect_data_error([&] { load_idx_dataset(img, lab2, 11); }, lab2, "labels must be a vector of N, file has 5×1");
  const std::string none = write_plain("none.idx", idx_bytes(0x08, {0, 2, 2}, {}));
  expect_data_error([&] { load_idx_dataset(none, lab, 11); }, none, "empty data set");
  // File errors propagate with the failing file's name.
  const std::string missing = (dir_ / "missing").string();
  expect_data_error([&] { load_idx_dataset(img, missing, 11); }, missing, "cannot open");
  EXPECT_THROW(load_idx_dataset(img, lab, 0), std::invalid_argument);
}

TEST_F(DataFiles, FashionMnistFileNames) {
  // Unpacked files are accepted when no .gz exists; a missing set names the .gz it wanted.
  write_plain("t10k-images-idx3-ubyte", idx_bytes(0x08, {2, 28, 28}, std::vector<uint8_t>(2 * 28 * 28, 1)));
  write_gz("t10k-labels-idx1-ubyte.gz", idx_bytes(0x08, {2}, {9, 0}));
  const Dataset ds = load_fashion_mnist(dir_.string(), Split::kTest);
  EXPECT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.num_classes, 10);
  const std::string want = (dir_ / "train-images-idx3-ubyte.gz").string();
  expect_data_error([&] { load_fashion_mnist(dir_.string(), Split::kTrain); }, want, "cannot open");
}

TEST_F(DataFiles, TakeFirst) {
  const std::string img = write_plain("i.idx", idx_bytes(0x08, {3, 1, 2}, iota_bytes(6)));
  const std::string lab = write_plain("l.idx", idx_bytes(0x08, {3}, {1, 2, 0}));
  const Dataset ds = load_idx_dataset(img, lab, 3);
  const Dataset two = take_first(ds, 2);
  EXPECT_EQ(two.size(), 2);
  EXPECT_EQ(two.images, iota_bytes(4));
  EXPECT_EQ(two.labels, (std::vector<Label>{1, 2}));
  EXPECT_EQ(two.height, 1);
  EXPECT_EQ(two.width, 2);
  EXPECT_EQ(two.num_classes, 3);
  EXPECT_EQ(take_first(ds, 0).size(), 0);
  EXPECT_EQ(take_first(ds, 3).images, ds.images);
  EXPECT_THROW(take_first(ds, 4), std::invalid_argument);
  EXPECT_THROW(take_first(ds, -1), std::invalid_argument);
}

TEST(Batch, LayoutExponentAndLabels) {
  Dataset ds;
  ds.channels = 2;
  ds.height = 1;
  ds.width = 3;
  ds.num_classes = 4;
  ds.images = iota_bytes(4 * 6, 100);  // image k holds 100 + 6k .. 100 + 6k + 5
  ds.labels = {3, 2, 1, 0};
  const std::vector<int64_t> idx = {2, 0, 2};
  const Batch b = make_batch(ds, idx);
  EXPECT_EQ(b.images.shape, (Shape{3, 2, 1, 3}));
  EXPECT_EQ(b.images.exp, -8);
  EXPECT_EQ(b.images.exp, kPixelExp);
  std::vector<uint8_t> want;
  for (int64_t k : idx)
    for (int e = 0; e < 6; ++e) want.push_back(static_cast<uint8_t>(100 + 6 * k + e));
  EXPECT_EQ(b.images.data, want);
  EXPECT_EQ(b.labels, (std::vector<Label>{1, 3, 1}));
  // The payload is the raw pixel: p means p / 256.
  EXPECT_DOUBLE_EQ(b.images.as_double(0), 112.0 / 256.0);

  EXPECT_THROW(make_batch(ds, std::vector<int64_t>{4}), std::invalid_argument);
  EXPECT_THROW(make_batch(ds, std::vector<int64_t>{-1}), std::invalid_argument);
  EXPECT_THROW(make_batch(ds, std::vector<int64_t>{}), std::invalid_argument);
}

// ---- bounded draw and shuffle -----------------------------------------------------------------

namespace {

// High and low 64-bit words of a·b from 32-bit limbs: a second, independent way to
// compute Lemire's product (the library uses unsigned __int128).
std::pair<uint64_t, uint64_t> mul_64x64(uint64_t a, uint64_t b) {
  const uint64_t a0 = a & 0xFFFFFFFFu, a1 = a >> 32, b0 = b & 0xFFFFFFFFu, b1 = b >> 32;
  const uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFFu) + (p10 & 0xFFFFFFFFu);
  const uint64_t hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  const uint64_t lo = (mid << 32) | (p00 & 0xFFFFFFFFu);
  return {hi, lo};
}

// Reference bounded draw: accept draw r iff the low word of r·bound is at least
// 2^64 mod bound, result the high word.
uint64_t reference_below(StreamKey key, uint64_t& counter, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const auto [hi, lo] = mul_64x64(random_bits(key, counter++), bound);
    if (lo >= threshold) return hi;
  }
}

std::vector<int64_t> reference_shuffle(int64_t n, uint64_t seed, uint64_t epoch) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  const StreamKey key = make_stream_key(seed, epoch, kShuffleStreamId);
  uint64_t counter = 0;
  for (int64_t i = n - 1; i >= 1; --i) {
    const int64_t j = static_cast<int64_t>(reference_below(key, counter, static_cast<uint64_t>(i + 1)));
    const int64_t t = p[static_cast<size_t>(i)];
    p[static_cast<size_t>(i)] = p[static_cast<size_t>(j)];
    p[static_cast<size_t>(j)] = t;
  }
  return p;
}

}  // namespace

TEST(Shuffle, ReferenceMultiplyIsExact) {
  using P = std::pair<uint64_t, uint64_t>;
  EXPECT_EQ(mul_64x64(~uint64_t{0}, ~uint64_t{0}), P(~uint64_t{0} - 1, 1));  // (2^64-1)^2 = 2^128 - 2^65 + 1
  EXPECT_EQ(mul_64x64(uint64_t{1} << 63, 2), P(1, 0));
  EXPECT_EQ(mul_64x64(0x123456789u, 0x1000), P(0, 0x123456789000u));
}

TEST(Shuffle, BoundedDrawMatchesReferenceIncludingRejections) {
  const StreamKey key = make_stream_key(42, 0, 1);
  // bound = 2^63 + 1 rejects about half the draws, so the counter must advance in step.
  for (uint64_t bound : {1ull, 2ull, 3ull, 10ull, 60000ull, (1ull << 63) + 1, ~0ull}) {
    uint64_t c1 = 0, c2 = 0;
    for (int i = 0; i < 2000; ++i) {
      const uint64_t v = uniform_below(key, c1, bound);
      ASSERT_LT(v, bound);
      ASSERT_EQ(v, reference_below(key, c2, bound)) << "bound " << bound << " draw " << i;
      ASSERT_EQ(c1, c2);
    }
    if (bound == (1ull << 63) + 1) {
      EXPECT_GT(c1, 3000u);  // rejections happened
    }
    if (bound <= 60000) {
      EXPECT_EQ(c1, 2000u);  // rejection chance < 2^-47 per draw: none expected
    }
  }
  uint64_t c = 0;
  EXPECT_THROW(uniform_below(key, c, 0), std::invalid_argument);
}

TEST(Shuffle, BoundedDrawIsUniform) {
  // Chi-square over 7 buckets, 70000 draws, 6 degrees of freedom: p = 0.001 at 22.46.
  const StreamKey key = make_stream_key(3, 4, 5);
  std::array<int64_t, 7> hist{};
  uint64_t c = 0;
  for (int i = 0; i < 70000; ++i) ++hist[uniform_below(key, c, 7)];
  double chi2 = 0;
  for (int64_t h : hist) chi2 += (h - 10000.0) * (h - 10000.0) / 10000.0;
  EXPECT_LT(chi2, 22.46);
}

TEST(Shuffle, MatchesIndependentFisherYates) {
  for (int64_t n : {0, 1, 2, 5, 17, 1000})
    for (uint64_t seed : {0ull, 1ull, 12345ull})
      for (uint64_t epoch : {0ull, 1ull, 7ull})
        ASSERT_EQ(shuffled_order(n, seed, epoch), reference_shuffle(n, seed, epoch))
            << n << " " << seed << " " << epoch;
}

TEST(Shuffle, PinnedTinyCase) {
  // Expected orders computed outside C++ (a Python big-integer re-implementation of
  // SplitMix64, make_stream_key, Lemire's draw and Fisher–Yates), pinned so that any
  // change of key, stream id or draw order, on any platform, is caught.
  EXPECT_EQ(shuffled_order(8, 1, 0), (std::vector<int64_t>{1, 3, 5, 0, 6, 7, 2, 4}));
  EXPECT_EQ(shuffled_order(5, 7, 2), (std::vector<int64_t>{4, 1, 2, 0, 3}));
}

TEST(Shuffle, IsAReproduciblePermutationThatChangesPerEpoch) {
  const int64_t n = 10000;
  const auto a = shuffled_order(n, 99, 3);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> ident(static_cast<size_t>(n));
  std::iota(ident.begin(), ident.end(), int64_t{0});
  EXPECT_EQ(sorted, ident);
  EXPECT_NE(a, ident);
  EXPECT_EQ(a, shuffled_order(n, 99, 3));
  EXPECT_NE(a, shuffled_order(n, 99, 4));
  EXPECT_NE(a, shuffled_order(n, 98, 3));
}

TEST(Shuffle, AllPermutationsEquallyLikely) {
  // The 6 orders of 3 elements over 60000 epochs; an off-by-one in Fisher–Yates
  // (e.g. drawing j from [0, i)) would make some orders impossible or skewed.
  std::map<std::vector<int64_t>, int64_t> count;
  for (uint64_t epoch = 0; epoch < 60000; ++epoch) ++count[shuffled_order(3, 5, epoch)];
  ASSERT_EQ(count.size(), 6u);
  double chi2 = 0;  // 5 degrees of freedom: p = 0.001 at 20.52
  for (const auto& [perm, c] : count) chi2 += (c - 10000.0) * (c - 10000.0) / 10000.0;
  EXPECT_LT(chi2, 20.52);
}

// ---- the real Fashion-MNIST ----------------------------------------------------------------

TEST(FashionMnist, DebianPackageCountsAndBalance) {
  const fs::path dir = kDefaultFashionMnistDir;
  for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                        "t10k-labels-idx1-ubyte.gz"}) {
    if (!fs::exists(dir / f)) GTEST_SKIP() << (dir / f) << " absent (install dataset-fashion-mnist)";
  }

  const struct {
    Split split;
    int64_t n;
  } splits[] = {{Split::kTrain, 60000}, {Split::kTest, 10000}};
  for (const auto& s : splits) {
    const Dataset ds = load_fashion_mnist(s.split);
    ASSERT_EQ(ds.size(), s.n);
    EXPECT_EQ(ds.channels, 1);
    EXPECT_EQ(ds.height, 28);
    EXPECT_EQ(ds.width, 28);
    EXPECT_EQ(ds.num_classes, 10);
    EXPECT_EQ(static_cast<int64_t>(ds.images.size()), s.n * 28 * 28);
    std::array<int64_t, 10> per_class{};
    for (Label l : ds.labels) ++per_class[l];
    for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class[static_cast<size_t>(c)], s.n / 10) << "class " << c;
    // Not all-zero images: the pixels span the full byte range.
    EXPECT_EQ(*std::max_element(ds.images.begin(), ds.images.end()), 255);

    const Batch b = make_batch(ds, std::vector<int64_t>{0, s.n - 1});
    EXPECT_EQ(b.images.shape, (Shape{2, 1, 28, 28}));
    EXPECT_EQ(b.labels[0], ds.labels[0]);
  }
}
