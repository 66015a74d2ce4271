// ImageNet-layout data: the folder scan and its labels, JPEG decoding and its errors, the integer
// crop / flip / resize rules (docs/numerics.md §5.1.1) against hand-computed cases, and the
// prefetching source's determinism across threads, queue depths and bad-image policies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "golden/batch_source.h"
#include "golden/checkpoint.h"  // fnv1a64
#include "golden/image_folder.h"
#include "golden/image_transform.h"
#include "jpeg_writer.h"

using namespace octet::golden;
using octet::testing::encode_jpeg;
using octet::testing::make_image_folder;
using octet::testing::test_picture;
using octet::testing::write_bytes;
namespace fs = std::filesystem;

namespace {

class ImageFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("octet_test_imagefolder_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& rel) const { return (dir_ / rel).string(); }

  fs::path dir_;
};

// What a thrown error says, or "" when nothing is thrown.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Every batch of a pass, concatenated: images then labels.
std::vector<uint8_t> pass_bytes(const BatchSource& source, const std::vector<std::vector<int64_t>>& batches,
                                uint64_t epoch) {
  std::vector<uint8_t> bytes;
  const auto stream = source.open(batches, epoch);
  for (size_t b = 0; b < batches.size(); ++b) {
    const Batch batch = stream->next();
    EXPECT_EQ(batch.images.shape[0], static_cast<int64_t>(batches[b].size()));
    bytes.insert(bytes.end(), batch.images.data.begin(), batch.images.data.end());
    for (Label l : batch.labels) bytes.push_back(static_cast<uint8_t>(l));
  }
  EXPECT_THROW(stream->next(), std::out_of_range);
  return bytes;
}

DecodedImage image_of(int64_t h, int64_t w, const std::vector<uint8_t>& grey) {
  return DecodedImage{h, w, 1, grey};
}

}  // namespace

// ---- the folder scan ----

TEST_F(ImageFolderTest, LabelsFollowTheSortedFolderNames) {
  make_image_folder(path("data"), 3);
  const ImageFolderIndex train = scan_image_folder(path("data/train"));
  EXPECT_EQ(train.classes, (std::vector<std::string>{"Moth", "ant", "zebra"}));  // byte-wise: upper case first
  ASSERT_EQ(train.size(), 9);  // the hidden file and the top-level README are not images
  for (int64_t i = 0; i < train.size(); ++i) {
    EXPECT_EQ(train.labels[static_cast<size_t>(i)], i / 3);
    EXPECT_EQ(fs::path(train.files[static_cast<size_t>(i)]).parent_path().filename().string(),
              train.classes[static_cast<size_t>(i / 3)]);
    EXPECT_EQ(fs::path(train.files[static_cast<size_t>(i)]).filename().string(), "img_0" + std::to_string(i % 3) + ".JPEG");
  }
  // The validation split takes the training split's labels, also when it lacks a class.
  fs::remove_all(path("data/val/Moth"));
  const ImageFolderIndex val = scan_image_folder(path("data/val"), &train.classes);
  ASSERT_EQ(val.size(), 4);
  EXPECT_EQ(val.labels, (std::vector<Label>{1, 1, 2, 2}));
}

TEST_F(ImageFolderTest, LayoutErrorsNameThePath) {
  EXPECT_EQ(error_of([&] { scan_image_folder(path("nothing")); }), path("nothing") + ": field 'folder': no such directory");
  write_bytes(path("file"), {1});
  EXPECT_EQ(error_of([&] { scan_image_folder(path("file")); }), path("file") + ": field 'folder': not a directory");
  fs::create_directories(path("flat"));
  write_bytes(path("flat/a.JPEG"), {1});
  EXPECT_EQ(error_of([&] { scan_image_folder(path("flat")); }),
            path("flat") + ": field 'classes': no class folders (expected " + path("flat") + "/<class>/<image>.JPEG)");
  make_image_folder(path("data"), 2);
  fs::create_directories(path("data/train/empty"));
  write_bytes(path("data/train/empty/.DS_Store"), {1});
  EXPECT_EQ(error_of([&] { scan_image_folder(path("data/train")); }),
            path("data/train/empty") + ": field 'images': class folder has no images");
  const std::vector<std::string> classes = {"Moth", "zebra"};
  EXPECT_EQ(error_of([&] { scan_image_folder(path("data/val"), &classes); }),
            path("data/val/ant") + ": field 'classes': class folder not in the training split's classes");
}

TEST_F(ImageFolderTest, SpreadSubsetKeepsEveryClass) {
  make_image_folder(path("data"), 6);
  const ImageFolderIndex all = scan_image_folder(path("data/train"));
  const ImageFolderIndex some = spread_subset(all, 6);
  ASSERT_EQ(some.size(), 6);
  EXPECT_EQ(some.labels, (std::vector<Label>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(some.files[1], all.files[3]);  // image ⌊1·18/6⌋
  EXPECT_EQ(spread_subset(all, 100).size(), 18);
  EXPECT_NE(index_digest(all), index_digest(some));
  EXPECT_EQ(index_digest(all), index_digest(scan_image_folder(path("data/train"))));
}

// ---- decoding ----

TEST_F(ImageFolderTest, DecodesRgbGreyAndCmyk) {
  // Flat colours survive JPEG at quality 100 within a step or two.
  const std::vector<uint8_t> rgb(12 * 20 * 3, 0);
  std::vector<uint8_t> flat(12 * 20 * 3);
  for (size_t i = 0; i < flat.size(); ++i) flat[i] = i % 3 == 0 ? 200 : i % 3 == 1 ? 100 : 30;
  const DecodedImage a = decode_jpeg(encode_jpeg(flat, 12, 20, 3, 100), "flat.jpg");
  ASSERT_EQ(a.height, 12);
  ASSERT_EQ(a.width, 20);
  ASSERT_EQ(a.channels, 3);
  for (size_t i = 0; i < a.pixels.size(); ++i) EXPECT_NEAR(a.pixels[i], flat[i], 2) << i;

  const DecodedImage g = decode_jpeg(encode_jpeg(std::vector<uint8_t>(9 * 7, 77), 9, 7, 1, 100), "grey.jpg");
  EXPECT_EQ(g.channels, 1);
  EXPECT_EQ(g.pixels, std::vector<uint8_t>(9 * 7, 77));

  // libjpeg writes CMYK with an Adobe marker and reads it back as written; the marker means
  // inverted (Photoshop) CMYK: R = C·K/255. C=M=Y=255-x, K=255 → R=G=B=255-x... checked per channel.
  std::vector<uint8_t> cmyk(8 * 8 * 4);
  for (size_t p = 0; p < 64; ++p) {
    cmyk[4 * p] = 255;
    cmyk[4 * p + 1] = 128;
    cmyk[4 * p + 2] = 0;
    cmyk[4 * p + 3] = 200;
  }
  const DecodedImage c = decode_jpeg(encode_jpeg(cmyk, 8, 8, 4, 100), "cmyk.jpg");
  ASSERT_EQ(c.channels, 3);
  for (size_t p = 0; p < 64; ++p) {
    EXPECT_NEAR(c.pixels[3 * p], 200, 2);             // 255·200/255
    EXPECT_NEAR(c.pixels[3 * p + 1], 100, 2);         // 128·200/255 = 100.4
    EXPECT_NEAR(c.pixels[3 * p + 2], 0, 2);
  }
  (void)rgb;
}

TEST_F(ImageFolderTest, BadFilesGiveTheDocumentedErrors) {
  const std::vector<uint8_t> good = encode_jpeg(test_picture(30, 40, 3, 0, 0), 30, 40, 3);
  const std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13};
  write_bytes(path("png.JPEG"), png);
  EXPECT_EQ(error_of([&] { decode_jpeg_file(path("png.JPEG")); }),
            path("png.JPEG") + ": field 'jpeg': not a JPEG file (starts with 0x89 0x50)");
  // Cut in the entropy-coded data: libjpeg pads with grey and warns; Octet refuses.
  write_bytes(path("cut.JPEG"), std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(good.size() * 2 / 3)));
  EXPECT_EQ(error_of([&] { decode_jpeg_file(path("cut.JPEG")); }),
            path("cut.JPEG") + ": field 'jpeg': truncated: Premature end of JPEG file");
  // Cut in the headers.
  write_bytes(path("head.JPEG"), std::vector<uint8_t>(good.begin(), good.begin() + 20));
  EXPECT_EQ(error_of([&] { decode_jpeg_file(path("head.JPEG")); }).rfind(path("head.JPEG") + ": field 'jpeg': ", 0), 0u);
  write_bytes(path("empty.JPEG"), {});
  EXPECT_EQ(error_of([&] { decode_jpeg_file(path("empty.JPEG")); }), path("empty.JPEG") + ": field 'jpeg': Empty input file");
  EXPECT_EQ(error_of([&] { decode_jpeg_file(path("missing.JPEG")); }),
            path("missing.JPEG") + ": field 'file': cannot open: No such file or directory");
  // An end-of-image marker in the middle of the entropy-coded data (a damaged file): the rest
  // of the scan is missing.
  std::vector<uint8_t> corrupt = good;
  size_t sos = 0;  // the start-of-scan marker FF DA; its header is 14 bytes for 3 components
  while (sos + 1 < corrupt.size() && !(corrupt[sos] == 0xFF && corrupt[sos + 1] == 0xDA)) ++sos;
  const size_t mid = sos + 14 + (corrupt.size() - sos - 14) / 3;
  ASSERT_LT(mid + 2, corrupt.size());
  corrupt[mid] = 0xFF;
  corrupt[mid + 1] = 0xD9;
  write_bytes(path("corrupt.JPEG"), corrupt);
  EXPECT_EQ(error_of([&] { decode_jpeg_file(path("corrupt.JPEG")); }),
            path("corrupt.JPEG") + ": field 'jpeg': Corrupt JPEG data: premature end of data segment");
  EXPECT_NO_THROW(decode_jpeg(good, "good"));
}

// ---- the integer transforms ----

TEST(ImageTransform, EvalCentreCropByHand) {
  // 4×6 grey image, size 2: shorter side round(2·256/224) = 2, so 4×6 → 2×3 (area averages of
  // 2×2 blocks), then the centre 2×2 starts at column (3-2)/2 = 0.
  const std::vector<uint8_t> p = {0,  1,  2,  3,  4,  5,   //
                                  10, 11, 12, 13, 14, 15,  //
                                  20, 21, 22, 23, 24, 25,  //
                                  30, 31, 32, 33, 34, 35};
  const ImageTransform t = eval_transform(4, 6, 2);
  EXPECT_EQ(t.y.out_count, 2);
  EXPECT_EQ(t.x.out_count, 3);
  EXPECT_EQ(t.x.out_first, 0);
  std::vector<uint8_t> out(3 * 2 * 2);
  apply_transform(image_of(4, 6, p), t, 2, out.data());
  // Block means: (0+1+10+11)/4 = 5.5 → 6 (half to even), (2+3+12+13)/4 = 7.5 → 8,
  // (20+21+30+31)/4 = 25.5 → 26, (22+23+32+33)/4 = 27.5 → 28; grey → all three channels.
  const std::vector<uint8_t> plane = {6, 8, 26, 28};
  for (int c = 0; c < 3; ++c)
    EXPECT_EQ(std::vector<uint8_t>(out.begin() + 4 * c, out.begin() + 4 * c + 4), plane) << c;

  // Enlarging 2×2 → 3×3 (size 3: shorter side round(3·256/224) = 3): linear between pixel
  // centres, clamped at the borders: rows/cols (p0, (p0+p1)/2, p1).
  const std::vector<uint8_t> q = {0, 101, 200, 51};
  std::vector<uint8_t> out3(27);
  apply_transform(image_of(2, 2, q), eval_transform(2, 2, 3), 3, out3.data());
  // (0+101)/2 = 50.5 → 50, (200+51)/2 = 125.5 → 126, (0+200)/2 = 100, (101+51)/2 = 76,
  // centre (0+101+200+51)/4 = 88.
  EXPECT_EQ(std::vector<uint8_t>(out3.begin(), out3.begin() + 9), (std::vector<uint8_t>{0, 50, 101, 100, 88, 76, 200, 126, 51}));

  // A 224-recipe case: 300×400 at 224 → 256×341, crop rows 16.., columns 58...
  const ImageTransform big = eval_transform(300, 400, 224);
  EXPECT_EQ(big.y.out_count, 256);
  EXPECT_EQ(big.x.out_count, 341);
  EXPECT_EQ(big.y.out_first, 16);
  EXPECT_EQ(big.x.out_first, 58);
}

TEST(ImageTransform, AreaWeightsAreExactOverlaps) {
  // 5 inputs → 2 outputs: output 0 covers inputs [0, 2.5): weights 2, 2, 1 of 5 (on 1/2 pixels).
  const AxisTaps t = axis_taps(AxisMap{3, 5, 2, 0}, 2);
  EXPECT_EQ(t.denom, 5);
  EXPECT_EQ(t.first, (std::vector<int64_t>{0, 3, 6}));
  EXPECT_EQ(t.index, (std::vector<int64_t>{3, 4, 5, 5, 6, 7}));
  EXPECT_EQ(t.weight, (std::vector<int64_t>{2, 2, 1, 1, 2, 2}));
  // Same size: the identity.
  const AxisTaps id = axis_taps(AxisMap{0, 4, 4, 0}, 4);
  EXPECT_EQ(id.index, (std::vector<int64_t>{0, 1, 2, 3}));
}

TEST(ImageTransform, CropRatiosAreLogUniformGrid) {
  EXPECT_EQ(crop_ratio_q32(0), uint64_t{3} << 30);
  for (int k = 0; k <= 256; ++k) {
    const double want = 0.75 * std::pow(16.0 / 9.0, k / 256.0);
    EXPECT_NEAR(static_cast<double>(crop_ratio_q32(k)) / 4294967296.0, want, 1e-8) << k;
    if (k > 0) {
      EXPECT_GT(crop_ratio_q32(k), crop_ratio_q32(k - 1));
    }
  }
}

TEST(ImageTransform, RandomCropsStayInBoundsAndFollowTheRecipe) {
  const uint64_t seed = std::random_device{}();
  std::mt19937_64 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  int flips = 0, fallbacks = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    const int64_t h = 1 + static_cast<int64_t>(rng() % 600), w = 1 + static_cast<int64_t>(rng() % 600);
    const StreamKey key = augment_key(rng(), rng() % 100, rng() % 1000000);
    const ImageTransform t = train_transform(h, w, 32, key);
    ASSERT_GE(t.y.in_first, 0);
    ASSERT_GE(t.x.in_first, 0);
    ASSERT_GE(t.y.in_count, 1);
    ASSERT_GE(t.x.in_count, 1);
    ASSERT_LE(t.y.in_first + t.y.in_count, h) << h << "x" << w;
    ASSERT_LE(t.x.in_first + t.x.in_count, w) << h << "x" << w;
    ASSERT_EQ(t.y.out_count, 32);
    ASSERT_EQ(t.y.out_first, 0);
    const ImageTransform again = train_transform(h, w, 32, key);
    ASSERT_EQ(again.y.in_first, t.y.in_first);
    ASSERT_EQ(again.x.in_count, t.x.in_count);
    ASSERT_EQ(again.flip, t.flip);
    flips += t.flip;
    // On a large image the crop's area is 8%..100% and its ratio 3/4..4/3, up to rounding.
    if (h >= 100 && w >= 100 && std::max(h, w) <= 2 * std::min(h, w)) {
      const double area = static_cast<double>(t.y.in_count * t.x.in_count) / static_cast<double>(h * w);
      const double ratio = static_cast<double>(t.x.in_count) / static_cast<double>(t.y.in_count);
      if (t.y.in_count == h && t.x.in_count == w) ++fallbacks;
      EXPECT_GT(area, 0.08 * 0.95);
      EXPECT_LE(area, 1.0);
      EXPECT_GT(ratio, 0.75 * 0.97);
      EXPECT_LT(ratio, 4.0 / 3.0 * 1.03);
    }
  }
  EXPECT_NEAR(flips, n / 2, 4 * std::sqrt(n / 4.0));
  EXPECT_LT(fallbacks, n / 20);
  // A 1×100 strip never fits a crop of ratio ≥ 3/4 and area ≥ 8%: the centre 1×1 (4/3 rounds to 1).
  const ImageTransform strip = train_transform(1, 100, 8, augment_key(1, 0, 0));
  EXPECT_EQ(strip.y.in_count, 1);
  EXPECT_EQ(strip.x.in_count, 1);
  EXPECT_EQ(strip.x.in_first, 49);
  // A tall 400×100 image falls back to its centre 133×100 ((4·100)/3 rounded) when all ten draws miss;
  // at least the crop is inside it.
  const ImageTransform tall = train_transform(400, 100, 8, augment_key(2, 0, 0));
  EXPECT_LE(tall.y.in_count, 400);
}

TEST(ImageTransform, FlipMirrorsTheColumns) {
  std::vector<uint8_t> p(7 * 9);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 37 % 251);
  ImageTransform t{AxisMap{1, 5, 4, 0}, AxisMap{2, 6, 4, 0}, false};
  std::vector<uint8_t> a(48), b(48);
  apply_transform(image_of(7, 9, p), t, 4, a.data());
  t.flip = true;
  apply_transform(image_of(7, 9, p), t, 4, b.data());
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) EXPECT_EQ(b[c * 16 + y * 4 + x], a[c * 16 + y * 4 + 3 - x]);
  EXPECT_NE(a, b);
}

// ---- the prefetching source ----

TEST_F(ImageFolderTest, BatchesAreAPureFunctionOfSeedEpochAndIndices) {
  make_image_folder(path("data"), 6);
  const ImageFolderIndex index = scan_image_folder(path("data/train"));
  const auto batches = split_batches(shuffled_order(index.size(), 7, 0), 4, 4);
  ImageFolderOptions o;
  o.image_size = 24;
  o.augment = true;
  o.seed = 7;
  o.threads = 1;
  o.prefetch_batches = 1;
  const ImageFolderSource one(index, o);
  const std::vector<uint8_t> reference = pass_bytes(one, batches, 3);
  for (const auto& [threads, depth] : std::vector<std::pair<int, int>>{{2, 1}, {3, 2}, {8, 4}}) {
    o.threads = threads;
    o.prefetch_batches = depth;
    EXPECT_EQ(pass_bytes(ImageFolderSource(index, o), batches, 3), reference) << threads << " threads, depth " << depth;
  }
  EXPECT_EQ(pass_bytes(one, batches, 3), reference);  // the same source again
  EXPECT_NE(pass_bytes(one, batches, 4), reference);  // another epoch: other crops
  o.seed = 8;
  EXPECT_NE(pass_bytes(ImageFolderSource(index, o), batches, 3), reference);
  // Labels are the index's, images what load() gives.
  const auto stream = one.open(batches, 3);
  const Batch first = stream->next();
  for (size_t k = 0; k < 4; ++k) {
    const int64_t i = batches[0][k];
    EXPECT_EQ(first.labels[k], index.labels[static_cast<size_t>(i)]);
    std::vector<uint8_t> img(3 * 24 * 24);
    Label label = 0;
    one.load(i, 3, img.data(), &label);
    EXPECT_TRUE(std::equal(img.begin(), img.end(), first.images.data.begin() + static_cast<long>(k * img.size())));
  }
  EXPECT_EQ(first.images.shape, (Shape{4, 3, 24, 24}));
  EXPECT_EQ(first.images.exp, kPixelExp);
  // Evaluation: no randomness, every epoch the same; the grey image has three equal planes.
  o.augment = false;
  const ImageFolderSource eval(index, o);
  const auto all = sequential_batches(index.size(), 5);
  EXPECT_EQ(pass_bytes(eval, all, 0), pass_bytes(eval, all, 9));
  std::vector<uint8_t> grey(3 * 24 * 24);
  Label label = 0;
  eval.load(7, 0, grey.data(), &label);  // ant/img_01, the grey one
  EXPECT_EQ(label, 1);
  EXPECT_TRUE(std::equal(grey.begin(), grey.begin() + 576, grey.begin() + 576));
  EXPECT_TRUE(std::equal(grey.begin(), grey.begin() + 576, grey.begin() + 1152));
}

TEST_F(ImageFolderTest, BadImagesFatalOrSkippedDeterministically) {
  make_image_folder(path("data"), 4);
  const std::vector<uint8_t> good = encode_jpeg(test_picture(30, 40, 3, 0, 0), 30, 40, 3);
  write_bytes(path("data/train/ant/img_01.JPEG"), {0x89, 'P', 'N', 'G', 0, 0, 0, 0});  // was the grey image
  write_bytes(path("data/train/zebra/img_02.JPEG"), std::vector<uint8_t>(good.begin(), good.begin() + 300));  // in the headers
  const ImageFolderIndex index = scan_image_folder(path("data/train"));
  const auto batches = sequential_batches(index.size(), 3);  // bad images at 5 and 10
  ImageFolderOptions o;
  o.image_size = 16;
  o.augment = true;
  o.threads = 3;
  for (int depth : {1, 3}) {
    o.prefetch_batches = depth;
    const ImageFolderSource fatal(index, o);
    const auto stream = fatal.open(batches, 0);
    stream->next();
    EXPECT_EQ(error_of([&] { stream->next(); }),
              path("data/train/ant/img_01.JPEG") + ": field 'jpeg': not a JPEG file (starts with 0x89 0x50)");
  }
  // Two bad images in one batch: the error is the first one's in batch order, whichever thread
  // decoded which first.
  for (int threads : {1, 3}) {
    o.threads = threads;
    const ImageFolderSource fatal(index, o);
    EXPECT_EQ(error_of([&] { fatal.open({{0, 10, 5, 1}}, 0)->next(); }),
              path("data/train/zebra/img_02.JPEG") + ": field 'jpeg': truncated: Premature end of JPEG file")
        << threads;
  }
  o.bad_images = BadImagePolicy::kSkip;
  std::mutex m;
  std::vector<std::string> skipped;
  o.on_skip = [&](const ImageError& e) {
    std::lock_guard lock(m);
    skipped.push_back(e.what());
  };
  std::vector<uint8_t> reference;
  for (int threads : {1, 4}) {
    o.threads = threads;
    skipped.clear();
    const ImageFolderSource skip(index, o);
    const std::vector<uint8_t> bytes = pass_bytes(skip, batches, 0);
    if (reference.empty()) reference = bytes;
    EXPECT_EQ(bytes, reference) << threads;
    std::sort(skipped.begin(), skipped.end());
    EXPECT_EQ(skipped, (std::vector<std::string>{
                           path("data/train/ant/img_01.JPEG") + ": field 'jpeg': not a JPEG file (starts with 0x89 0x50)",
                           path("data/train/zebra/img_02.JPEG") + ": field 'jpeg': truncated: Premature end of JPEG file"}));
    // Example 5 became image 6 (same class), example 10 image 11: their labels and pixels.
    std::vector<uint8_t> a(768), b(768);
    Label la = 9, lb = 9;
    skip.load(5, 0, a.data(), &la);
    EXPECT_EQ(la, 1);
    skip.load(10, 0, b.data(), &lb);
    EXPECT_EQ(lb, 2);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), bytes.begin() + 5 * 768 + 3));  // after batch 0's 3 labels
  }
  // Every image bad: a DataError naming the folder.
  fs::remove_all(path("bad"));
  write_bytes(path("bad/c/x.JPEG"), {1, 2, 3});
  const ImageFolderSource none(scan_image_folder(path("bad")), o);
  std::vector<uint8_t> img(768);
  Label l = 0;
  EXPECT_EQ(error_of([&] { none.load(0, 0, img.data(), &l); }), path("bad") + ": field 'images': no image of the 1 is readable");
}

// The whole input pipeline on the generated folder (libjpeg encoding and decoding, crops,
// flips, resizing) pinned by digest: a change of the rules in docs/numerics.md §5.1.1, or a
// libjpeg-turbo that decodes other pixels, shows here. ctest also runs this test with
// libjpeg-turbo's SIMD off (JSIMD_FORCENONE) and limited to SSE2: the pixels must not depend
// on the machine's instruction set.
TEST_F(ImageFolderTest, PipelineDigestIsPinned) {
  make_image_folder(path("data"), 4);
  const ImageFolderIndex index = scan_image_folder(path("data/train"));
  ImageFolderOptions o;
  o.image_size = 20;
  o.seed = 3;
  o.threads = 2;
  o.augment = true;
  const std::vector<uint8_t> train = pass_bytes(ImageFolderSource(index, o), split_batches(shuffled_order(12, 3, 1), 4, 3), 1);
  o.augment = false;
  const std::vector<uint8_t> eval = pass_bytes(ImageFolderSource(index, o), sequential_batches(12, 5), 0);
  EXPECT_EQ(fnv1a64(std::string(train.begin(), train.end())), 0xf606ded5c16626a9ull);
  EXPECT_EQ(fnv1a64(std::string(eval.begin(), eval.end())), 0xc46f23afbec8aae3ull);
}
