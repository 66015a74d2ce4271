// The tiny network the checkpoint fuzz target loads into (fuzz_checkpoint.cpp) and
// make_checkpoint_seeds.cpp writes corpus/checkpoint/ from. It has every kind of state (conv and
// linear weights, a bias, BN affine parameters and running statistics), so each section of a
// checkpoint file is reached.
#pragma once

#include "golden/int_network.h"

namespace octet::fuzz {

inline constexpr char kCheckpointNet[] = R"(network fuzz_tiny
input  x  1x4x4
conv   c1 x out=2 k=3 p=1
bnrelu b1 c1
avgpool g b1 global
linear fc g out=3
)";
inline constexpr uint64_t kCheckpointSeed = 1;

inline golden::IntNetwork checkpoint_network() {
  return golden::IntNetwork(golden::parse_network_text(kCheckpointNet, "fuzz_tiny.net"), kCheckpointSeed);
}

}  // namespace octet::fuzz
