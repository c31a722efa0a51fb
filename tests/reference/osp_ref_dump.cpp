// osp_ref_dump: runs the C++ fp32 forward and backward on random parameters and tokens and writes
// everything to one safetensors file for the PyTorch reference test (test_reference_model.py).
//   osp_ref_dump --config '{"layers":2,...,"batch":2,"seq":8}' --seed N --out FILE.safetensors
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "common/model_fixtures.h"
#include "io/safetensors.h"
#include "model/llama.h"

namespace {

using namespace osp;

std::span<const std::byte> as_bytes(const float* p, int64_t n) {
  return std::as_bytes(std::span<const float>(p, size_t(n)));
}

int run(const std::string& config_text, uint64_t seed, const std::string& out) {
  nlohmann::json j = nlohmann::json::parse(config_text);
  const int64_t b = j.at("batch").get<int64_t>(), t = j.at("seq").get<int64_t>();
  j.erase("batch");
  j.erase("seq");
  auto cfg = model::model_config_from_json(j);
  if (!cfg) {
    fmt::print(stderr, "osp_ref_dump: {}\n", cfg.error().message);
    return 2;
  }
  const model::ModelConfig c = *cfg;
  const model::ParamTable table(c);
  Rng rng(seed);
  AlignedBuffer<float> params = test::random_parameters<float>(table, c, rng);
  AlignedBuffer<float> grads(table.total_elems());
  const auto w = model::LlamaWeights<float>::bind(table, params.data());
  const auto g = model::LlamaWeights<float>::bind(table, grads.data());
  const auto tokens = test::random_tokens(rng, b * t, c.vocab);
  const auto targets = test::random_targets(rng, b * t, c.vocab);

  model::Llama<float> m(c, b, t, model::ForwardMode::kTrain);
  m.forward(w, tokens.data(), b, t);
  const std::vector<float> logits(m.logits(), m.logits() + b * t * c.vocab);
  const model::LossSum l = m.loss(targets.data(), b, t);
  const float loss = float(l.nll_sum / double(l.count));
  m.backward(w, g, tokens.data(), targets.data(), b, t, float(1.0 / double(l.count)));

  std::vector<io::SafetensorsTensor> out_tensors;
  for (const auto& p : table.params()) {
    const std::vector<uint64_t> shape(p.shape.begin(), p.shape.end());
    out_tensors.push_back({p.name, io::SafetensorsDType::kF32, shape, as_bytes(params.data() + p.offset, p.numel)});
    out_tensors.push_back({"grad." + p.name, io::SafetensorsDType::kF32, shape, as_bytes(grads.data() + p.offset, p.numel)});
  }
  const std::vector<uint64_t> bt = {uint64_t(b), uint64_t(t)};
  out_tensors.push_back({"input_ids", io::SafetensorsDType::kI32, bt, std::as_bytes(std::span(tokens))});
  out_tensors.push_back({"targets", io::SafetensorsDType::kI32, bt, std::as_bytes(std::span(targets))});
  out_tensors.push_back({"out.logits", io::SafetensorsDType::kF32, {uint64_t(b), uint64_t(t), uint64_t(c.vocab)},
                         std::as_bytes(std::span(logits))});
  out_tensors.push_back({"out.loss", io::SafetensorsDType::kF32, {}, as_bytes(&loss, 1)});
  const Status st = io::write_safetensors(out, out_tensors);
  if (!st) {
    fmt::print(stderr, "osp_ref_dump: {}\n", st.error().message);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config, out;
  uint64_t seed = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--config")) config = argv[i + 1];
    else if (!std::strcmp(argv[i], "--seed")) seed = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
  }
  if (config.empty() || out.empty()) {
    fmt::print(stderr, "usage: osp_ref_dump --config JSON --seed N --out FILE.safetensors\n");
    return 2;
  }
  return run(config, seed, out);
}
