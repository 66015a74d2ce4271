// A tiny pre-activation ResNet on 1x8x8 inputs with every op of an integer training step (3
// classes): the integer network's tests share it.
#pragma once

namespace octet::testing {

inline constexpr const char* kTinyNet = R"(network tiny
input  x   1x8x8
conv   c0  x   out=4 k=3 s=1 p=1
bnrelu a0  c0
conv   c1  a0  out=4 k=3 s=1 p=1
bnrelu a1  c1
conv   c2  a1  out=4 k=3 s=1 p=1
add    s1  c0 c2
bnrelu a2  s1
maxpool m  a2  k=2 s=2
conv   c3  m   out=8 k=3 s=2 p=1
conv   pr  m   out=8 k=1 s=2
add    s2  c3 pr
bnrelu a3  s2
avgpool p  a3  global
linear fc  p   out=3
)";

}  // namespace octet::testing
