// osp_optim_dump: runs `steps` optimizer steps of the C++ AdamW/Muon on the reference model and
// writes initial parameters, each step's raw gradient, the parameters after each step, the
// gradient norms and schedule multipliers, for test_reference_optim.py.
//   osp_optim_dump --config '{...model..., "batch":2, "seq":8, "steps":5, "optim":{...}}' --seed N --out F
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "common/test_context.h"
#include "common/model_fixtures.h"
#include "common/dump_file.h"
#include "model/llama.h"
#include "optim/optim_config.h"
#include "optim/optimizer.h"

namespace {

using namespace osp;

int run(const std::string& config_text, uint64_t seed, const std::string& out) {
  nlohmann::json j = nlohmann::json::parse(config_text);
  const int64_t b = j.at("batch").get<int64_t>(), t = j.at("seq").get<int64_t>();
  const int64_t steps = j.at("steps").get<int64_t>();
  auto ocfg = optim::optim_config_from_json(j.at("optim"));
  for (const char* k : {"batch", "seq", "steps", "optim"}) j.erase(k);
  auto cfg = model::model_config_from_json(j);
  if (!cfg || !ocfg) {
    fmt::print(stderr, "osp_optim_dump: {}\n", !cfg ? cfg.error().message : ocfg.error().message);
    return 2;
  }
  const model::ModelConfig c = *cfg;
  const model::ParamTable table(c);
  Rng rng(seed);
  AlignedBuffer<float> params = test::random_parameters<float>(table, c, rng);
  AlignedBuffer<float> grads(table.total_elems());
  const auto w = model::LlamaWeights<float>::bind(table, params.data());
  const auto g = model::LlamaWeights<float>::bind(table, grads.data());
  model::Llama<float> m(osp::test::ctx(), c, b, t, model::ForwardMode::kTrain);
  optim::Optimizer opt(osp::test::ctx(), table, *ocfg);

  test::DumpFile file;
  auto dump = [&](const std::string& name, const std::vector<int64_t>& shape, const float* p, int64_t n) {
    file.add(name, shape, p, n);
  };
  for (const auto& p : table.params()) dump("init." + p.name, p.shape, params.data() + p.offset, p.numel);
  for (int64_t k = 1; k <= steps; ++k) {
    const auto tokens = test::random_tokens(rng, b * t, c.vocab);
    const auto targets = test::random_targets(rng, b * t, c.vocab);
    grads.zero();
    m.forward(w, tokens.data(), b, t);
    const model::LossSum l = m.loss(targets.data(), b, t);
    m.backward(w, g, tokens.data(), targets.data(), b, t, float(1.0 / double(l.count)));
    for (const auto& p : table.params())
      dump(fmt::format("grad.{}.{}", k, p.name), p.shape, grads.data() + p.offset, p.numel);
    const float norm = float(opt.clip_gradients(grads.data()));
    const float mult = float(ocfg->schedule.multiplier(k));
    opt.step(params.data(), grads.data(), mult);
    for (const auto& p : table.params())
      dump(fmt::format("param.{}.{}", k, p.name), p.shape, params.data() + p.offset, p.numel);
    dump(fmt::format("grad_norm.{}", k), {}, &norm, 1);
    dump(fmt::format("lr_mult.{}", k), {}, &mult, 1);
  }
  return file.write_or_report(out, "osp_optim_dump");
}

}  // namespace

int main(int argc, char** argv) { return osp::test::dump_main(argc, argv, "osp_optim_dump", run); }
