// Benchmark of text generation (model/generate.h): prefill and KV-cached decode tokens/s, greedy,
// unquantized and at W4A4KV4 (RTN, as `osp generate --w 4 --a 4 --kv 4`), on random models of the
// demo's shape, the ~10M reference config of bench_train_step, and (--smollm) SmolLM2-135M's.
//   build/bench/bench_generate [--prompt 128] [--new 128] [--smollm] [--no-quant]
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/cpu_setup.h"
#include "core/rng.h"
#include "model/generate.h"
#include "model/init.h"
#include "quant/ptq.h"

namespace {

using namespace osp;
using namespace osp::model;

struct Shape {
  const char* name;
  ModelConfig cfg;
};

ModelConfig shape(int64_t layers, int64_t hidden, int64_t heads, int64_t kv_heads, int64_t ffn, int64_t vocab,
                  bool osp_norms, bool tie) {
  ModelConfig c;
  c.layers = layers, c.hidden = hidden, c.heads = heads, c.kv_heads = kv_heads, c.ffn = ffn, c.vocab = vocab;
  c.context = 2048, c.tie = tie;
  if (osp_norms) c.norm = NormKind::kSingleScale, c.emb_proj = true;
  return resolve(c).value();
}

// The best of two runs (the first also pays for first touches and the thread pool's start).
GenerateResult best_of_two(ops::Context& ctx, const ModelConfig& c, const LlamaWeights<float>& w,
                           const std::vector<int32_t>& prompt, int64_t new_tokens, ForwardTap* tap) {
  GenerateSettings s;
  s.max_tokens = new_tokens, s.sampling.temperature = 0;
  GenerateResult best;
  for (int rep = 0; rep < 2; ++rep) {
    const GenerateResult r = generate<float>(ctx, c, w, prompt, s, tap, {});
    if (rep == 0 || r.decode_seconds < best.decode_seconds) best = r;
  }
  return best;
}

void print_row(const char* model, const char* mode, const GenerateResult& r) {
  fmt::print("| {} | {} | {:.0f} | {:.1f} | {:.2f} |\n", model, mode, r.prompt_tokens / r.prefill_seconds,
             r.decode_steps / r.decode_seconds, 1e3 * r.decode_seconds / double(r.decode_steps));
}

}  // namespace

int main(int argc, char** argv) {
  select_blas_kernel(argv, /*latency_bound=*/true);  // as osp generate
  verify_blas(argv);
  enable_flush_to_zero();
  int64_t prompt_len = 128, new_tokens = 128;
  bool smollm = false, quant = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--prompt") && i + 1 < argc) prompt_len = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--new") && i + 1 < argc) new_tokens = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--smollm")) smollm = true;
    else if (!std::strcmp(argv[i], "--no-quant")) quant = false;
  }
  std::vector<Shape> shapes = {{"demo (4x128, V 8192)", shape(4, 128, 4, 4, 384, 8192, true, false)},
                               {"reference (4x384, V 4096)", shape(4, 384, 6, 6, 1024, 4096, false, false)}};
  if (smollm) shapes.push_back({"SmolLM2-135M shape (30x576)", shape(30, 576, 9, 3, 1536, 49152, false, true)});

  ops::Context ctx = ops::Context::cpu();
  fmt::print("prompt {} tokens, {} new tokens, greedy, {} threads\n\n", prompt_len, new_tokens, ctx.threads());
  fmt::print("| model | mode | prefill tok/s | decode tok/s | ms/token |\n|---|---|---|---|---|\n");
  for (const Shape& sh : shapes) {
    const ParamTable table(sh.cfg);
    AlignedBuffer<float> params(table.total_elems());
    Rng rng(0);
    init_parameters(params.data(), table, sh.cfg, rng);
    std::vector<int32_t> prompt(static_cast<size_t>(prompt_len));
    for (auto& x : prompt) x = int32_t(rng.below(uint64_t(sh.cfg.vocab)));
    const auto w = LlamaWeights<float>::bind(table, params.data());
    print_row(sh.name, "fp32", best_of_two(ctx, sh.cfg, w, prompt, new_tokens, nullptr));
    if (!quant) continue;
    auto q = quant::prepare_ptq(ctx, sh.cfg, table, params.data(), quant::PtqSettings{}, {});
    if (!q) {
      fmt::print(stderr, "W4A4KV4: {}\n", q.error().message);
      return 1;
    }
    print_row(sh.name, "W4A4KV4 RTN", best_of_two(ctx, q->model.config, q->model.weights(), prompt, new_tokens,
                                                  q->tap.get()));
  }
  return 0;
}
