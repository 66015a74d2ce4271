// Test helpers: JPEG files written with libjpeg, and a small ImageNet-layout folder of them.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <jpeglib.h>

namespace octet::testing {

// A JPEG of height × width × components bytes (1 grey, 3 RGB, 4 CMYK, interleaved) at `quality`.
inline std::vector<uint8_t> encode_jpeg(const std::vector<uint8_t>& pixels, int height, int width, int components,
                                        int quality = 95) {
  if (pixels.size() != static_cast<size_t>(height) * width * components) throw std::invalid_argument("encode_jpeg: size");
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);  // errors here are bugs in the test: libjpeg exits
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  const size_t row = static_cast<size_t>(width) * components;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW r = const_cast<uint8_t*>(pixels.data()) + row * cinfo.next_scanline;
    jpeg_write_scanlines(&cinfo, &r, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::vector<uint8_t> out(buffer, buffer + size);
  jpeg_destroy_compress(&cinfo);
  std::free(buffer);
  return out;
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

// A picture for class `label`: a smooth gradient whose dominant channel is label % 3, plus a
// pattern from `variant`, so that a network can tell the classes apart.
inline std::vector<uint8_t> test_picture(int height, int width, int components, int label, int variant) {
  std::vector<uint8_t> p(static_cast<size_t>(height) * width * components);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < components; ++c) {
        int v = (x * 97 + y * 31 + variant * 17) % 96;
        if (components == 3 && c == label % 3) v += 150;
        if (components == 1) v += 60 * (label % 3);
        p[(static_cast<size_t>(y) * width + x) * components + c] = static_cast<uint8_t>(v);
      }
  return p;
}

// The classes of make_image_folder, in creation order (sorted byte-wise: "Moth", "ant", "zebra").
inline const std::vector<std::string>& test_classes() {
  static const std::vector<std::string> names = {"zebra", "ant", "Moth"};
  return names;
}

// root/train/<class>/ (per_class images) and root/val/<class>/ (2 images): sizes from 17×23 to
// 70×41, one grey image per split, a hidden file and a file at the split's top level (both ignored).
inline void make_image_folder(const std::string& root, int per_class = 6) {
  const int sizes[][2] = {{40, 56}, {64, 48}, {33, 77}, {70, 41}, {17, 23}, {48, 48}, {29, 60}, {52, 37}};
  for (const std::string split : {"train", "val"}) {
    const int n = split == "train" ? per_class : 2;
    int k = 0;
    for (size_t c = 0; c < test_classes().size(); ++c)
      for (int i = 0; i < n; ++i, ++k) {
        const int h = sizes[k % 8][0], w = sizes[k % 8][1];
        const int components = (c == 1 && i == 1) ? 1 : 3;
        char name[32];
        std::snprintf(name, sizeof name, "img_%02d.JPEG", i);
        write_bytes(root + "/" + split + "/" + test_classes()[c] + "/" + name,
                    encode_jpeg(test_picture(h, w, components, static_cast<int>(c), k), h, w, components));
      }
    write_bytes(root + "/" + split + "/" + test_classes()[0] + "/.hidden", {1, 2, 3});
    write_bytes(root + "/" + split + "/README.txt", {'h', 'i'});
  }
}

}  // namespace octet::testing
