// osp_ref_dump: runs the C++ forward and backward on random parameters and tokens and writes
// everything to one safetensors file for the PyTorch reference tests (test_reference_model.py
// for fp32, test_reference_bf16.py for "precision": "bf16", the mixed-precision model).
//   osp_ref_dump --config '{"layers":2,...,"batch":2,"seq":8[,"precision":"bf16"]}' --seed N --out FILE
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "common/test_context.h"
#include "common/model_fixtures.h"
#include "common/dump_file.h"
#include "model/llama.h"

namespace {

using namespace osp;

int run(const std::string& config_text, uint64_t seed, const std::string& out) {
  nlohmann::json j = nlohmann::json::parse(config_text);
  const int64_t b = j.at("batch").get<int64_t>(), t = j.at("seq").get<int64_t>();
  const auto precision = model::parse_precision(j.value("precision", "fp32"));
  j.erase("batch");
  j.erase("seq");
  j.erase("precision");
  auto cfg = model::model_config_from_json(j);
  if (!cfg || !precision) {
    fmt::print(stderr, "osp_ref_dump: {}\n", cfg ? precision.error().message : cfg.error().message);
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

  model::Llama<float> m(osp::test::ctx(), c, b, t, model::ForwardMode::kTrain, *precision);
  m.cast_weights(w);
  m.forward(w, tokens.data(), b, t);
  const std::vector<float> logits(m.logits(), m.logits() + b * t * c.vocab);
  const model::LossSum l = m.loss(targets.data(), b, t);
  const float loss = float(l.nll_sum / double(l.count));
  m.backward(w, g, tokens.data(), targets.data(), b, t, 1.0 / double(l.count));

  test::DumpFile dump;
  for (const auto& p : table.params()) {
    dump.add(p.name, p.shape, params.data() + p.offset, p.numel);
    dump.add("grad." + p.name, p.shape, grads.data() + p.offset, p.numel);
  }
  dump.add("input_ids", {b, t}, tokens.data(), b * t);
  dump.add("targets", {b, t}, targets.data(), b * t);
  dump.add("out.logits", {b, t, c.vocab}, logits.data(), b * t * c.vocab);
  dump.add("out.loss", {}, &loss, 1);
  return dump.write_or_report(out, "osp_ref_dump");
}

}  // namespace

int main(int argc, char** argv) { return osp::test::dump_main(argc, argv, "osp_ref_dump", run); }
