// Helpers for the interop tests: random osp models, their logits, relative errors, rewriting an
// exported folder's safetensors to build malformed inputs.
#pragma once
#include <cmath>
#include <filesystem>
#include <functional>
#include <vector>

#include "common/test_context.h"
#include "common/model_fixtures.h"
#include "io/safetensors.h"
#include "model/llama.h"

namespace osp::io::test {

struct RandomModel {
  model::ModelConfig config;
  AlignedBuffer<float> params{0};
};

inline RandomModel random_model(model::ModelConfig c, uint64_t seed) {
  c = *model::resolve(c);
  Rng rng(seed);
  RandomModel m{c, osp::test::random_parameters<float>(model::ParamTable(c), c, rng)};
  return m;
}

inline model::ModelConfig tiny_config(bool ssnorm, bool emb_proj, bool tie, int64_t kv_heads) {
  model::ModelConfig c;
  c.layers = 2;
  c.hidden = 64;
  c.heads = 4;
  c.kv_heads = kv_heads;
  c.ffn = 96;
  c.vocab = 160;
  c.context = 64;
  c.norm = ssnorm ? model::NormKind::kSingleScale : model::NormKind::kRms;
  c.emb_proj = emb_proj;
  c.tie = tie;
  return *model::resolve(c);
}

inline std::vector<float> logits_of(const model::ModelConfig& c, const float* params, const std::vector<int32_t>& tokens) {
  const model::ParamTable table(c);
  const int64_t t = int64_t(tokens.size());
  model::Llama<float> llama(osp::test::ctx(), c, 1, t, model::ForwardMode::kInference);
  llama.forward(model::LlamaWeights<float>::bind(table, const_cast<float*>(params)), tokens.data(), 1, t);
  return std::vector<float>(llama.logits(), llama.logits() + t * c.vocab);
}

// max |a − b| / max |b|
inline double max_rel_error(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::fabs(double(a[i]) - double(b[i])));
    den = std::max(den, std::fabs(double(b[i])));
  }
  return num / den;
}

// Reads `file`, lets `edit` change the tensor list (owning bytes), writes it back.
struct OwnedTensor {
  std::string name;
  SafetensorsDType dtype;
  std::vector<uint64_t> shape;
  std::vector<std::byte> bytes;
};
inline void rewrite_safetensors(const std::filesystem::path& file, const std::function<void(std::vector<OwnedTensor>&)>& edit) {
  std::vector<OwnedTensor> ts;
  {
    auto r = SafetensorsReader::open(file);
    ASSERT_TRUE(r) << r.error().message;
    for (const auto& t : r->tensors()) {
      const auto b = r->bytes(t);
      ts.push_back({t.name, t.dtype, t.shape, std::vector<std::byte>(b.begin(), b.end())});
    }
  }
  edit(ts);
  std::vector<SafetensorsTensor> out;
  for (const auto& t : ts) out.push_back({t.name, t.dtype, t.shape, t.bytes});
  ASSERT_TRUE(write_safetensors(file, out));
}

}  // namespace osp::io::test
