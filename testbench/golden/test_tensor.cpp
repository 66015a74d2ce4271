// Tensor shapes: the element count is exact in int64 or rejected, never wrapped.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>

#include "golden/tensor.h"

using namespace octet::golden;

TEST(Tensor, ShapeElementsIsTheExactProduct) {
  EXPECT_EQ(shape_elements({2, 3, 5, 7}), 210);
  EXPECT_EQ(shape_elements({int64_t{1} << 31, int64_t{1} << 31}), int64_t{1} << 62);
  EXPECT_EQ(shape_elements({7, std::numeric_limits<int64_t>::max() / 7}), std::numeric_limits<int64_t>::max());  // 7 divides it
}

TEST(Tensor, ShapeElementsRejectsProductsBeyondInt64) {
  // 2^64 wraps to 0 and 2^63 to INT64_MIN in int64 arithmetic (signed overflow: caught by UBSan).
  EXPECT_THROW(shape_elements({int64_t{1} << 32, int64_t{1} << 32}), std::invalid_argument);
  EXPECT_THROW(shape_elements({int64_t{1} << 31, int64_t{1} << 31, 2}), std::invalid_argument);
  EXPECT_THROW(shape_elements({2, std::numeric_limits<int64_t>::max() / 2 + 1}), std::invalid_argument);
  EXPECT_THROW(shape_elements({4, 0}), std::invalid_argument);
  // A tensor of such a shape is refused before anything is allocated.
  EXPECT_THROW(Tensor<int8_t>({int64_t{1} << 32, int64_t{1} << 32}, 0), std::invalid_argument);
}
