// interop_tool: the C++ side of the interop pytests (test_hf_interop.py, test_gguf_interop.py).
//   interop_tool make CONFIG_JSON SEED OUT.safetensors   random osp model (gains off 1, R1/R2 perturbed)
//   interop_tool logits MODEL TOKENS_CSV OUT.safetensors our fp32 logits (T, V) for one sequence;
//                                                        MODEL is anything load_model accepts
//   interop_tool gguf-dump IN.gguf OUT.safetensors       every tensor decoded by osp's reader (fp32,
//                                                        numpy shape = reversed ggml dims)
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "common/test_context.h"
#include "common/model_fixtures.h"
#include "io/gguf_reader.h"
#include "io/model_file.h"
#include "io/safetensors.h"
#include "model/llama.h"

namespace {

using namespace osp;

int fail(const std::string& m) {
  fmt::print(stderr, "interop_tool: {}\n", m);
  return 1;
}

int make(const std::string& config_text, uint64_t seed, const std::string& out) {
  auto cfg = model::model_config_from_json(nlohmann::json::parse(config_text));
  if (!cfg) return fail(cfg.error().message);
  const model::ParamTable table(*cfg);
  Rng rng(seed);
  AlignedBuffer<float> params = test::random_parameters<float>(table, *cfg, rng);
  const Status st = io::save_model(out, *cfg, table, params.data());
  return st ? 0 : fail(st.error().message);
}

int logits(const std::string& model_path, const std::string& csv, const std::string& out) {
  auto m = io::load_model(model_path);
  if (!m) return fail(m.error().message);
  std::vector<int32_t> tokens;
  std::stringstream ss(csv);
  for (std::string item; std::getline(ss, item, ',');) tokens.push_back(std::stoi(item));
  const int64_t t = int64_t(tokens.size()), v = m->config.vocab;
  model::Llama<float> llama(osp::test::ctx(), m->config, 1, t, model::ForwardMode::kInference);
  llama.forward(model::LlamaWeights<float>::bind(m->table, m->params.data()), tokens.data(), 1, t);
  const std::vector<io::SafetensorsTensor> tensors = {
      {"logits", io::SafetensorsDType::kF32, {uint64_t(t), uint64_t(v)},
       std::as_bytes(std::span<const float>(llama.logits(), size_t(t * v)))}};
  const Status st = io::write_safetensors(out, tensors);
  return st ? 0 : fail(st.error().message);
}

int gguf_dump(const std::string& in, const std::string& out) {
  auto r = io::GgufReader::open(in);
  if (!r) return fail(r.error().message);
  std::vector<std::vector<float>> data;
  std::vector<io::SafetensorsTensor> tensors;
  data.reserve(r->tensors().size());
  for (const auto& t : r->tensors()) {
    auto v = r->read_f32(t.name);
    if (!v) return fail(v.error().message);
    data.push_back(std::move(*v));
    tensors.push_back({t.name, io::SafetensorsDType::kF32, std::vector<uint64_t>(t.ne.rbegin(), t.ne.rend()),
                       std::as_bytes(std::span<const float>(data.back()))});
  }
  const Status st = io::write_safetensors(out, tensors);
  return st ? 0 : fail(st.error().message);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 4 && a[0] == "make") return make(a[1], std::stoull(a[2]), a[3]);
  if (a.size() == 4 && a[0] == "logits") return logits(a[1], a[2], a[3]);
  if (a.size() == 3 && a[0] == "gguf-dump") return gguf_dump(a[1], a[2]);
  return fail("usage: make CONFIG SEED OUT | logits MODEL TOKENS OUT | gguf-dump IN OUT");
}
