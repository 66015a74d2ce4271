#include "testbench/rtl/training_gemm.h"

#include <array>

#include "golden/gemm.h"

namespace octet::tb {

namespace og = octet::golden;

namespace {

int64_t draw(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

// True with probability percent / 100.
bool chance(std::mt19937_64& rng, int percent) { return draw(rng, 0, 99) < percent; }

bool pick_extreme(std::mt19937_64& rng, ValueStyle style) {
  return style == ValueStyle::kExtreme || (style == ValueStyle::kMixed && chance(rng, 50));
}

uint8_t activation(std::mt19937_64& rng, ValueStyle style) {
  if (style == ValueStyle::kSparse && chance(rng, 85)) return 0;
  if (pick_extreme(rng, style)) return chance(rng, 50) ? 0 : 255;
  return static_cast<uint8_t>(draw(rng, 0, 255));
}

int8_t weight(std::mt19937_64& rng, ValueStyle style) {
  // -128 never comes out of the weight quantizer, but the PE must handle it.
  static constexpr std::array<int8_t, 4> extremes{-128, -127, 127, 0};
  if (style == ValueStyle::kSparse && chance(rng, 85)) return 0;
  if (pick_extreme(rng, style)) return extremes[static_cast<size_t>(draw(rng, 0, 3))];
  return static_cast<int8_t>(draw(rng, -128, 127));
}

og::FlagCode error_code(std::mt19937_64& rng, ValueStyle style) {
  if (style == ValueStyle::kSparse && chance(rng, 85)) return {0, true};
  const bool fine = chance(rng, 50);
  if (pick_extreme(rng, style)) return {chance(rng, 50) ? 127 : -127, fine};
  return {static_cast<int32_t>(draw(rng, -127, 127)), fine};
}

Operand from_activation(uint8_t v) { return {v, false}; }
Operand from_weight(int8_t v) { return {v, false}; }
Operand from_error(const og::FlagCode& c) { return {c.value, !c.fine}; }

}  // namespace

const char* kind_name(GemmKind kind) {
  switch (kind) {
    case GemmKind::kForward: return "forward";
    case GemmKind::kBackwardData: return "backward_data";
    case GemmKind::kWeightGrad: return "weight_grad";
  }
  return "?";
}

TrainingGemm make_training_gemm(GemmKind kind, int64_t M, int64_t K, int64_t N, ValueStyle style,
                                std::mt19937_64& rng) {
  TrainingGemm g;
  g.kind = kind, g.M = M, g.K = K, g.N = N;
  switch (kind) {
    case GemmKind::kForward:
      g.a = og::Tensor<uint8_t>({M, K}, -7);
      g.w = og::Tensor<int8_t>({K, N}, -7);
      break;
    case GemmKind::kBackwardData:
      g.e = og::Tensor<og::FlagCode>({M, K}, -20);
      g.w = og::Tensor<int8_t>({N, K}, -7);
      break;
    case GemmKind::kWeightGrad:
      g.a = og::Tensor<uint8_t>({K, M}, -7);
      g.e = og::Tensor<og::FlagCode>({K, N}, -20);
      break;
  }
  for (auto& v : g.a.data) v = activation(rng, style);
  for (auto& v : g.w.data) v = weight(rng, style);
  for (auto& v : g.e.data) v = error_code(rng, style);
  return g;
}

ArrayGemm to_array(const TrainingGemm& g) {
  ArrayGemm out;
  out.M = g.M, out.K = g.K, out.N = g.N;
  out.x.resize(static_cast<size_t>(g.M * g.K));
  out.y.resize(static_cast<size_t>(g.K * g.N));
  for (int64_t m = 0; m < g.M; ++m) {
    for (int64_t k = 0; k < g.K; ++k) {
      Operand& x = out.x[static_cast<size_t>(m * g.K + k)];
      switch (g.kind) {
        case GemmKind::kForward: x = from_activation(g.a.data[static_cast<size_t>(m * g.K + k)]); break;
        case GemmKind::kBackwardData: x = from_error(g.e.data[static_cast<size_t>(m * g.K + k)]); break;
        case GemmKind::kWeightGrad: x = from_activation(g.a.data[static_cast<size_t>(k * g.M + m)]); break;
      }
    }
  }
  for (int64_t k = 0; k < g.K; ++k) {
    for (int64_t n = 0; n < g.N; ++n) {
      Operand& y = out.y[static_cast<size_t>(k * g.N + n)];
      switch (g.kind) {
        case GemmKind::kForward: y = from_weight(g.w.data[static_cast<size_t>(k * g.N + n)]); break;
        case GemmKind::kBackwardData: y = from_weight(g.w.data[static_cast<size_t>(n * g.K + k)]); break;
        case GemmKind::kWeightGrad: y = from_error(g.e.data[static_cast<size_t>(k * g.N + n)]); break;
      }
    }
  }
  return out;
}

namespace {
std::vector<int64_t> plain(const og::Payload<int64_t>& p) { return {p.begin(), p.end()}; }
}  // namespace

std::vector<int64_t> golden_result(const TrainingGemm& g) {
  switch (g.kind) {
    case GemmKind::kForward: return plain(og::gemm_forward(g.a, g.w).data);
    case GemmKind::kBackwardData: return plain(og::gemm_backward_data(g.e, g.w).data);
    case GemmKind::kWeightGrad: return plain(og::gemm_weight_grad(g.a, g.e).data);
  }
  return {};
}

std::string describe(const TrainingGemm& g) {
  return std::string(kind_name(g.kind)) + " M=" + std::to_string(g.M) + " K=" + std::to_string(g.K) +
         " N=" + std::to_string(g.N);
}

}  // namespace octet::tb
