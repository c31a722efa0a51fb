// osp_quant_dump: runs osp's quantizers, Hadamard transforms, GPTQ, kurtosis and fake-quantized
// perplexity on fresh random inputs and writes inputs and results to one safetensors file for
// test_reference_quant.py (the PyTorch reference of measurement.md, quant_ref.py).
//   osp_quant_dump --seed N --out FILE.safetensors
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common/test_context.h"
#include "common/model_fixtures.h"
#include "eval/kurtosis.h"
#include "eval/perplexity.h"
#include "io/safetensors.h"
#include "ops/gemm.h"
#include "ops/quantize.h"
#include "quant/gptq.h"
#include "quant/hadamard.h"
#include "quant/ptq.h"
#include "quant/quantizer.h"

namespace {

using namespace osp;

// Keeps every dumped buffer alive until the file is written.
struct Dump {
  std::vector<std::vector<float>> f32;
  std::vector<std::vector<int32_t>> i32;
  std::vector<std::vector<double>> f64;
  std::vector<io::SafetensorsTensor> tensors;
  void add(const std::string& name, std::vector<float> v, std::vector<uint64_t> shape) {
    f32.push_back(std::move(v));
    tensors.push_back({name, io::SafetensorsDType::kF32, std::move(shape), std::as_bytes(std::span(f32.back()))});
  }
  void add_f64(const std::string& name, std::vector<double> v, std::vector<uint64_t> shape) {
    f64.push_back(std::move(v));
    tensors.push_back({name, io::SafetensorsDType::kF64, std::move(shape), std::as_bytes(std::span(f64.back()))});
  }
  void add_i32(const std::string& name, std::vector<int32_t> v, std::vector<uint64_t> shape) {
    i32.push_back(std::move(v));
    tensors.push_back({name, io::SafetensorsDType::kI32, std::move(shape), std::as_bytes(std::span(i32.back()))});
  }
};

std::vector<float> normal(Rng& rng, int64_t n, double outlier_rate = 0) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = float(rng.normal() * (rng.uniform() < outlier_rate ? 20 : 1));
  return v;
}

void dump_quantizers(Dump& d, Rng& rng) {
  for (int bits : {4, 3}) {
    auto w = normal(rng, 24 * 96, 0.01);
    std::vector<float> scale(24), q = w;
    for (int r = 0; r < 24; ++r) {
      scale[size_t(r)] = quant::weight_scale(w.data() + r * 96, 96, bits);
      quant::quantize_row_sym(q.data() + r * 96, w.data() + r * 96, 96, scale[size_t(r)], bits);
    }
    d.add(fmt::format("w{}.in", bits), w, {24, 96});
    d.add(fmt::format("w{}.scale", bits), scale, {24});
    d.add(fmt::format("w{}.out", bits), q, {24, 96});
  }
  for (int bits : {4, 8}) {
    auto a = normal(rng, 32 * 80, 0.02);
    for (int j = 0; j < 80; ++j) a[size_t(5 * 80 + j)] = std::abs(a[size_t(5 * 80 + j)]);  // all ≥ 0
    auto q = a;
    ops::fake_quant_per_token(osp::test::ctx(), TensorView::of(q.data(), {32, 80}), bits);
    d.add(fmt::format("tok{}.in", bits), a, {32, 80});
    d.add(fmt::format("tok{}.out", bits), q, {32, 80});
    auto g = normal(rng, 32 * 64, 0.02);
    for (int j = 0; j < 16; ++j) g[size_t(16 + j)] = 0.75f;  // one constant group
    auto gq = g;
    ops::fake_quant_per_group(osp::test::ctx(), TensorView::of(gq.data(), {32, 64}), 16, bits);
    d.add(fmt::format("grp{}.in", bits), g, {32, 64});
    d.add(fmt::format("grp{}.out", bits), gq, {32, 64});
  }
  // Ties: range [0, 15] gives scale 1, so k + 0.5 sits exactly between two levels.
  std::vector<float> tie(4 * 16);
  for (int r = 0; r < 4; ++r)
    for (int j = 0; j < 16; ++j) tie[size_t(r * 16 + j)] = j == 0 ? 0.0f : j == 1 ? 15.0f : float(j - 2) + 0.5f;
  auto tq = tie;
  ops::fake_quant_per_token(osp::test::ctx(), TensorView::of(tq.data(), {4, 16}), 4);
  d.add("tie.in", tie, {4, 16});
  d.add("tie.out", tq, {4, 16});
}

void dump_hadamard(Dump& d, Rng& rng) {
  for (int64_t n : {32, 48, 80, 112, 144, 160, 176, 208, 240, 432, 560}) {
    auto h = quant::Hadamard::create(n);
    OSP_CHECK(h.ok(), "{}", h.error().message);
    auto x = normal(rng, 3 * n);
    auto y = x;
    h->apply(osp::test::ctx(), TensorView::of(y.data(), {3, n}));
    d.add(fmt::format("had{}.in", n), x, {3, uint64_t(n)});
    d.add(fmt::format("had{}.out", n), y, {3, uint64_t(n)});
    const auto hk = *quant::hadamard_base(h->base());
    d.add(fmt::format("had{}.base", n), std::vector<float>(hk.begin(), hk.end()), {uint64_t(h->base()), uint64_t(h->base())});
  }
}

void dump_gptq(Dump& d, Rng& rng) {
  const int64_t rows = 32, cols = 200, tokens = 500;
  auto w = normal(rng, rows * cols, 0.01);
  auto x = normal(rng, tokens * cols);
  for (int64_t t = 0; t < tokens; ++t) x[size_t(t * cols + 7)] = 0, x[size_t(t * cols + 9)] += 2 * x[size_t(t * cols + 8)];
  std::vector<float> h(static_cast<size_t>(cols * cols));
  ops::gemm(osp::test::ctx(), TensorView::of(h.data(), {cols, cols}), TensorView::of(x.data(), {tokens, cols}),
            TensorView::of(x.data(), {tokens, cols}), {.trans_a = true, .trans_b = false, .alpha = 2.0 / double(tokens), .beta = 0.0});
  auto q = w;
  OSP_CHECK(quant::gptq_quantize(osp::test::ctx(), q.data(), rows, cols, h, {4, 0.01, 64}, "dump").ok());
  d.add("gptq.w", w, {uint64_t(rows), uint64_t(cols)});
  d.add("gptq.h", h, {uint64_t(cols), uint64_t(cols)});
  d.add("gptq.out", q, {uint64_t(rows), uint64_t(cols)});
}

int dump_model(Dump& d, Rng& rng, const std::string& config_text) {
  auto cfg = model::model_config_from_json(nlohmann::json::parse(config_text));
  if (!cfg) {
    fmt::print(stderr, "osp_quant_dump: {}\n", cfg.error().message);
    return 2;
  }
  const model::ModelConfig c = *cfg;
  const model::ParamTable table(c);
  auto p = test::random_parameters<float>(table, c, rng);
  for (const auto& info : table.params())
    d.add("param." + info.name, std::vector<float>(p.data() + info.offset, p.data() + info.offset + info.numel),
          std::vector<uint64_t>(info.shape.begin(), info.shape.end()));
  const auto tok = test::random_tokens(rng, 5 * 16 + 5, c.vocab);
  d.add_i32("tokens", tok, {tok.size()});
  const auto w = model::LlamaWeights<float>::bind(table, p.data());
  std::vector<float> res;
  for (auto proto : {eval::Protocol::kToken, eval::Protocol::kSequence}) {
    auto s = eval::measure_activations(osp::test::ctx(), c, w, tok, 4, 8, proto);
    OSP_CHECK(s.ok());
    std::vector<float> per;
    for (const auto& st : s->states) per.push_back(float(st.kurtosis));
    d.add(fmt::format("kurt.{}.states", eval::protocol_name(proto)), per, {per.size()});
    res.push_back(float(s->average));
  }
  d.add("kurt.average", res, {2});  // token, sequence
  std::vector<float> ppl;
  std::vector<double> ppl64;
  ppl.push_back(float(eval::perplexity(osp::test::ctx(), c, w, tok, 16)->ppl));
  for (auto rot : {quant::Rotate::kNone, quant::Rotate::kFfn}) {
    quant::PtqSettings s;  // W4A4KV4, RTN
    s.rotate = rot;
    auto q = quant::prepare_ptq(osp::test::ctx(), c, table, p.data(), s, {});
    OSP_CHECK(q.ok(), "{}", q.error().message);
    ppl.push_back(float(eval::perplexity(osp::test::ctx(), q->model.config, q->model.weights(), tok, 16, q->tap.get())->ppl));
    for (const auto& info : q->model.table.params())  // the folded, quantized plain model
        d.add(fmt::format("q.{}.{}", quant::rotate_name(rot), info.name),
              std::vector<float>(q->model.params.data() + info.offset, q->model.params.data() + info.offset + info.numel),
              std::vector<uint64_t>(info.shape.begin(), info.shape.end()));
    // The same quantized weights and tap logic in f64: no fp32 rounding flips, so the
    // reference can be held to a tight tolerance.
    AlignedBuffer<double> p64(q->model.table.total_elems());
    for (int64_t i = 0; i < p64.size(); ++i) p64[i] = q->model.params[i];
    std::optional<quant::Hadamard> ffn;
    if (rot == quant::Rotate::kFfn) ffn = *quant::Hadamard::create(c.ffn);
    const auto w64 = model::LlamaWeights<double>::bind(q->model.table, p64.data());
    for (auto [a, kv] : {std::pair{4, 16}, std::pair{16, 4}, std::pair{4, 4}}) {
      quant::FakeQuantTap tap64(q->model.config, {a, kv}, ffn, *quant::Hadamard::create(c.head_dim()));
      ppl64.push_back(eval::perplexity(osp::test::ctx(), q->model.config, w64, tok, 16, &tap64)->ppl);
    }
  }
  d.add("ppl", ppl, {3});  // FP, W4A4KV4 none, W4A4KV4 ffn
  d.add_f64("ppl64", ppl64, {2, 3});  // rotate none, ffn × (A4, KV4, A4KV4) in f64, W4
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out, config;
  uint64_t seed = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seed")) seed = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
    else if (!std::strcmp(argv[i], "--config")) config = argv[i + 1];
  }
  if (out.empty() || config.empty()) {
    fmt::print(stderr, "usage: osp_quant_dump --config JSON --seed N --out FILE.safetensors\n");
    return 2;
  }
  Rng rng(seed);
  Dump d;
  d.f32.reserve(256);  // tensors point into these vectors: no reallocation
  d.i32.reserve(8);
  d.f64.reserve(8);
  dump_quantizers(d, rng);
  dump_hadamard(d, rng);
  dump_gptq(d, rng);
  if (int rc = dump_model(d, rng, config); rc != 0) return rc;
  const Status st = io::write_safetensors(out, d.tensors);
  if (!st) {
    fmt::print(stderr, "osp_quant_dump: {}\n", st.error().message);
    return 1;
  }
  return 0;
}
