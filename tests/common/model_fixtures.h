// Shared helpers for model tests: random parameters with non-trivial norm gains, random tokens.
#pragma once
#include <vector>

#include "core/aligned_buffer.h"
#include "core/rng.h"
#include "model/init.h"
#include "model/params.h"
#include "ops/cross_entropy.h"

namespace osp::test {

// Parameters drawn by the model's initialiser, then gains moved off 1 (so a swapped or ignored
// gain shows) and R1/R2 perturbed away from orthogonal.
template <class T>
AlignedBuffer<T> random_parameters(const model::ParamTable& table, const model::ModelConfig& c,
                                   Rng& rng) {
  AlignedBuffer<T> p(table.total_elems());
  model::init_parameters(p.data(), table, c, rng);
  for (const auto& info : table.params()) {
    if (info.role == model::ParamRole::kNormGain)
      for (int64_t i = 0; i < info.numel; ++i) p[info.offset + i] = T(0.5 + rng.uniform());
    if (info.role == model::ParamRole::kEmbProj || info.role == model::ParamRole::kHeadProj)
      for (int64_t i = 0; i < info.numel; ++i) p[info.offset + i] += T(0.1 * rng.normal());
  }
  return p;
}

inline std::vector<int32_t> random_tokens(Rng& rng, int64_t n, int64_t vocab) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = static_cast<int32_t>(rng.below(uint64_t(vocab)));
  return t;
}

// Targets with about one in five set to the ignore index.
inline std::vector<int32_t> random_targets(Rng& rng, int64_t n, int64_t vocab) {
  auto t = random_tokens(rng, n, vocab);
  for (auto& x : t)
    if (rng.uniform() < 0.2) x = ops::kIgnoreIndex;
  if (!t.empty()) t[0] = 0;  // at least one counted target
  return t;
}

}  // namespace osp::test
