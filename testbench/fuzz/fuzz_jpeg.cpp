// Fuzz target: JPEG images of ImageNet-layout folders (golden/image_folder.cpp decode_jpeg, on
// libjpeg-turbo), then the integer crop / resize of golden/image_transform.cpp on what decoded.
// A bad image must be an ImageError (path and reason), never a crash, a longjmp through our
// frames or a read outside the pixels; a decoded image must survive both transforms.
#include <span>
#include <vector>

#include "golden/image_folder.h"
#include "golden/image_transform.h"
#include "testbench/fuzz/fuzz_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace octet::golden;
  return octet::fuzz::accept_input_errors([&] {
    const DecodedImage image = decode_jpeg(std::span<const uint8_t>(data, size), "fuzz.jpg");
    constexpr int64_t kSize = 8;  // small: the transforms' cost is the taps, not the output
    std::vector<uint8_t> out(3 * kSize * kSize);
    apply_transform(image, eval_transform(image.height, image.width, kSize), kSize, out.data());
    const StreamKey key = augment_key(size, 0, data[size / 2]);
    apply_transform(image, train_transform(image.height, image.width, kSize, key), kSize, out.data());
  });
}
