// Writes the tests' small ImageNet-layout folder (jpeg_writer.h): make_image_folder ROOT [PER_CLASS].
#include <cstdlib>
#include <iostream>

#include "jpeg_writer.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: make_image_folder ROOT [PER_CLASS]\n";
    return 2;
  }
  octet::testing::make_image_folder(argv[1], argc == 3 ? std::atoi(argv[2]) : 6);
  return 0;
}
