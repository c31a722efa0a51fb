// osp generate: text from a model, streamed token by token over a KV cache.
//   osp generate MODEL --prompt TEXT [--max-tokens 64] [--temperature 0.8] [--top-k K] [--top-p P]
//                [--seed S] [--tokenizer T] [--ignore-eos] [--w 4 --a 4 --kv 4 [--rotate none|ffn]]
//                [--json]
// stdout: the prompt, then each new token's text as soon as it is whole UTF-8; stderr: prefill and
// decode tokens/s. With --w/--a/--kv below 16 the model is the one `osp eval quant` measures
// (quant::prepare_ptq, RTN weights), so the text shows what 4-bit quantization does to it.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/model_tokenizer.h"
#include "io/model_file.h"
#include "model/generate.h"
#include "quant/ptq.h"

namespace osp::cli {
namespace {

struct GenerateOptions {
  std::string model, prompt, tokenizer, rotate = "none";
  int64_t max_tokens = 64, top_k = 0;
  double temperature = 0.8, top_p = 1.0;
  uint64_t seed = 0;
  int w_bits = 16, a_bits = 16, kv_bits = 16;
  bool ignore_eos = false, json = false;
};

int fail(const std::string& message) {
  fmt::print(stderr, "osp generate: {}\n", message);
  return 1;
}

// Incremental detokenization: the text of the ids so far, released once it is whole UTF-8 (a
// multi-byte character split across tokens decodes to U+FFFD until its last byte arrives). Each
// step decodes only a few tokens: those since the last release plus a little context before it,
// so that decoders that look at neighbours see the same text as a decode of everything.
class TextStream {
 public:
  TextStream(const data::Tokenizer& tok, std::span<const data::TokenId> prompt)
      : tok_(tok),
        ids_(prompt.begin(), prompt.end()),
        prefix_(ids_.size() > 5 ? ids_.size() - 5 : 0),
        read_(ids_.size()) {}

  // The new text once it is complete (else empty, held back).
  std::string push(int32_t id) {
    ids_.push_back(data::TokenId(id));
    const std::string before = decode(prefix_, read_), now = decode(prefix_, ids_.size());
    if (now.size() <= before.size() || now.ends_with("\xEF\xBF\xBD")) return {};
    prefix_ = read_;
    read_ = ids_.size();
    return now.substr(before.size());
  }
  // Whatever is still held back (an incomplete character at the end decodes as U+FFFD).
  std::string finish() {
    const std::string before = decode(prefix_, read_), now = decode(prefix_, ids_.size());
    read_ = ids_.size();
    return now.size() > before.size() ? now.substr(before.size()) : std::string();
  }

 private:
  std::string decode(size_t from, size_t to) const {
    return tok_.decode(std::span<const data::TokenId>(ids_).subspan(from, to - from));
  }
  const data::Tokenizer& tok_;
  std::vector<data::TokenId> ids_;
  size_t prefix_, read_;
};

Status check_lengths(const GenerateOptions& o, const model::ModelConfig& c, int64_t prompt_tokens) {
  if (prompt_tokens == 0)
    return make_error("the prompt encodes to no tokens (and the tokenizer adds no BOS)");
  if (o.max_tokens < 0) return make_error("--max-tokens {} is negative", o.max_tokens);
  if (prompt_tokens + o.max_tokens > c.context)
    return make_error(
        "the prompt ({} tokens) + --max-tokens {} exceed the model's context of {} tokens{}",
        prompt_tokens, o.max_tokens, c.context,
        prompt_tokens < c.context
            ? fmt::format("; use --max-tokens {} or less", c.context - prompt_tokens)
            : std::string("; shorten the prompt"));
  return {};
}

Result<model::SamplingSettings> sampling(const GenerateOptions& o) {
  if (o.temperature < 0) return make_error("--temperature {} is negative", o.temperature);
  if (o.top_k < 0) return make_error("--top-k {} is negative", o.top_k);
  if (!(o.top_p > 0 && o.top_p <= 1)) return make_error("--top-p {} is not in (0, 1]", o.top_p);
  return model::SamplingSettings{o.temperature, o.top_k, o.top_p, o.seed};
}

void print_speed(const model::GenerateResult& r) {
  auto rate = [](int64_t n, double s) { return s > 0 ? n / s : 0.0; };
  fmt::print(stderr,
             "prefill: {} tokens in {:.3f} s ({:.1f} tok/s); decode: {} tokens in {:.3f} s ({:.1f} "
             "tok/s){}\n",
             r.prompt_tokens, r.prefill_seconds, rate(r.prompt_tokens, r.prefill_seconds),
             r.decode_steps, r.decode_seconds, rate(r.decode_steps, r.decode_seconds),
             r.stopped_at_eos ? "; stopped at EOS" : "");
}

int cmd_generate(const GenerateOptions& o) {
  auto samp = sampling(o);
  if (!samp) return fail(samp.error().message);
  auto rot = quant::parse_rotate(o.rotate);
  if (!rot) return fail(rot.error().message);
  auto m = io::load_model(o.model);
  if (!m) return fail(m.error().message);
  auto tok = tokenizer_for_model(o.model, *m, o.tokenizer);
  if (!tok) return fail(tok.error().message);
  auto encoded = tok->encode(o.prompt, /*add_special_tokens=*/true);  // BOS from the post-processor
  if (!encoded) return fail(encoded.error().message);
  const std::vector<int32_t> prompt(encoded->begin(), encoded->end());
  for (const int32_t id : prompt)
    if (id >= m->config.vocab)
      return fail(fmt::format("the prompt has token {}, outside the model's vocabulary of {}", id,
                              m->config.vocab));
  if (auto st = check_lengths(o, m->config, int64_t(prompt.size())); !st)
    return fail(st.error().message);

  ops::Context ctx = ops::Context::cpu();
  model::GenerateSettings s;
  s.max_tokens = o.max_tokens, s.sampling = *samp;
  // EOS: the model file's (GGUF, config.json) when it names one, else the tokenizer's.
  if (!o.ignore_eos) {
    if (m->eos_id)
      s.eos = int32_t(*m->eos_id);
    else if (auto e = tok->eos_id())
      s.eos = int32_t(*e);
  }
  const bool quantized =
      o.w_bits < 16 || o.a_bits < 16 || o.kv_bits < 16 || *rot != quant::Rotate::kNone;
  std::optional<quant::QuantizedModel> qm;
  if (quantized) {
    quant::PtqSettings ps;
    ps.w_bits = o.w_bits, ps.a_bits = o.a_bits, ps.kv_bits = o.kv_bits, ps.rotate = *rot,
    ps.seed = o.seed;
    auto q = quant::prepare_ptq(ctx, m->config, m->table, m->params.data(), ps, {});
    if (!q) return fail(q.error().message);
    qm = std::move(*q);
    fmt::print(stderr, "model: W{}A{}KV{} (RTN weights, rotate {}), as osp eval quant\n", o.w_bits,
               o.a_bits, o.kv_bits, o.rotate);
  }
  const model::ModelConfig& cfg = quantized ? qm->model.config : m->config;
  const auto w =
      quantized ? qm->model.weights()
                : model::LlamaWeights<float>::bind(m->table, const_cast<float*>(m->params.data()));

  TextStream stream(*tok, *encoded);
  std::string text;
  auto emit = [&](const std::string& piece) {
    if (o.json) {
      text += piece;
    } else if (!piece.empty()) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
  };
  if (!o.json) emit(o.prompt);
  const auto r = model::generate<float>(ctx, cfg, w, prompt, s, quantized ? qm->tap.get() : nullptr,
                                        [&](int32_t id) { emit(stream.push(id)); });
  emit(stream.finish());
  if (o.json) {
    fmt::print("{}\n", nlohmann::json{{"prompt_ids", prompt},
                                      {"ids", r.tokens},
                                      {"text", text},
                                      {"stopped_at_eos", r.stopped_at_eos},
                                      {"prefill_tokens", r.prompt_tokens},
                                      {"prefill_seconds", r.prefill_seconds},
                                      {"decode_tokens", r.decode_steps},
                                      {"decode_seconds", r.decode_seconds}}
                           .dump());
  } else {
    emit("\n");
  }
  print_speed(r);
  return 0;
}

}  // namespace

void register_generate(CLI::App& app, CommandRun& run) {
  auto o = std::make_shared<GenerateOptions>();
  CLI::App* g = app.add_subcommand("generate", "Generate text from a model (KV-cached, streamed)");
  g->add_option("model", o->model,
                "Model file, checkpoint or run folder, Hugging Face folder or GGUF")
      ->required();
  g->add_option("--prompt", o->prompt, "The text to continue")->required();
  g->add_option("--max-tokens", o->max_tokens, "New tokens at most (default 64)");
  g->add_option("--temperature", o->temperature, "Sampling temperature (default 0.8; 0 = greedy)");
  g->add_option("--top-k", o->top_k, "Sample among the K most likely tokens (default 0 = all)");
  g->add_option("--top-p", o->top_p,
                "Sample within the nucleus of probability P (default 1 = all)");
  g->add_option("--seed", o->seed, "Seed of the sampler and of rotation signs (default 0)");
  g->add_option("--tokenizer", o->tokenizer, "tokenizer.json or GGUF (default: the model's own)");
  g->add_flag("--ignore-eos", o->ignore_eos, "Do not stop at the end-of-text token");
  g->add_option("--w", o->w_bits, "Weight bits, RTN (default 16 = off)");
  g->add_option("--a", o->a_bits, "Activation bits (default 16 = off)");
  g->add_option("--kv", o->kv_bits,
                "K and V bits, applied to what enters the cache (default 16 = off)");
  g->add_option("--rotate", o->rotate, "none, ffn or full (as osp eval quant)");
  g->add_flag("--json", o->json, "Print one JSON object (ids, text, timings) instead of streaming");
  g->callback([o, &run] { run = [o] { return cmd_generate(*o); }; });
}

}  // namespace osp::cli
