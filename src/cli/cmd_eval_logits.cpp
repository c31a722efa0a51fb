// `osp eval logits MODEL --tokens FILE --out LOGITS.safetensors`: the model's fp32 logits for one
// token sequence, so that users compare osp with other tools (transformers, llama.cpp) directly.
//   osp tokenize --model SmolLM2.gguf --input prompt.txt > ids.txt
//   osp eval logits SmolLM2.gguf --tokens ids.txt --out logits.safetensors
// The output holds "logits" (T, V) f32 and "tokens" (T) i32; the metadata names the model.
// --text FILE encodes a text file with the model's tokenizer instead (no BOS/EOS added).
#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/model_tokenizer.h"
#include "eval/eval_data.h"
#include "io/model_file.h"
#include "io/safetensors.h"
#include "model/llama.h"

namespace osp::cli {
namespace {

struct LogitsOptions {
  std::string model, tokens, text, tokenizer, out;
};

int fail(const std::string& message) {
  fmt::print(stderr, "osp eval logits: {}\n", message);
  return 1;
}

// Integers separated by whitespace, commas or brackets: `osp tokenize` output, plain or --json.
Result<std::vector<int32_t>> read_token_ids(const std::string& path, int64_t vocab) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("{}: cannot open for reading", path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c) || c == ',' || c == '[' || c == ']') {
      ++i;
      continue;
    }
    if (!std::isdigit(c)) return make_error("{}: byte {}: '{}' is not part of a token id", path, i, s[i]);
    int64_t v = 0;
    const size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      v = v * 10 + (s[i] - '0');
      if (v >= vocab) return make_error("{}: byte {}: token id {}... is not below the vocabulary size {}", path, start, v, vocab);
      ++i;
    }
    ids.push_back(int32_t(v));
  }
  if (ids.empty()) return make_error("{}: holds no token ids", path);
  return ids;
}

Result<std::vector<int32_t>> sequence(const LogitsOptions& o, const io::LoadedModel& m) {
  if (!o.tokens.empty()) return read_token_ids(o.tokens, m.config.vocab);
  auto tok = tokenizer_for_model(o.model, m, o.tokenizer);
  if (!tok) return tok.error();
  auto ids = eval::load_eval_tokens({o.text, "", &*tok, 0});  // encoded as perplexity encodes text
  if (!ids) return ids.error();
  if (ids->empty()) return make_error("{}: encodes to no tokens", o.text);
  for (const auto id : *ids)
    if (int64_t(id) >= m.config.vocab)
      return make_error("{}: the tokenizer gives id {}, beyond the model's vocabulary {}", o.text, id, m.config.vocab);
  return ids;
}

int run_logits(const LogitsOptions& o) {
  if (o.tokens.empty() == o.text.empty()) return fail("give exactly one of --tokens FILE and --text FILE");
  auto m = io::load_model(o.model);
  if (!m) return fail(m.error().message);
  auto ids = sequence(o, *m);
  if (!ids) return fail(ids.error().message);
  const int64_t t = int64_t(ids->size()), v = m->config.vocab;
  if (t > m->config.context)
    return fail(fmt::format("{} tokens exceed the model's context of {}", t, m->config.context));
  ops::Context ctx = ops::Context::cpu();
  const auto t0 = std::chrono::steady_clock::now();
  model::Llama<float> net(ctx, m->config, 1, t, model::ForwardMode::kInference);
  const auto w = model::LlamaWeights<float>::bind(m->table, m->params.data());
  net.forward(w, ids->data(), 1, t);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::vector<io::SafetensorsTensor> tensors = {
      {"logits", io::SafetensorsDType::kF32, {uint64_t(t), uint64_t(v)},
       std::as_bytes(std::span<const float>(net.logits(), size_t(t * v)))},
      {"tokens", io::SafetensorsDType::kI32, {uint64_t(t)}, std::as_bytes(std::span<const int32_t>(*ids))}};
  const io::SafetensorsMetadata meta = {{"model", m->file.string()}};
  if (auto st = io::write_safetensors(o.out, tensors, meta); !st) return fail(st.error().message);
  fmt::print(stderr, "logits of {} tokens ({} x {}) in {:.2f} s ({:.0f} tokens/s) -> {}\n", t, t, v, secs, double(t) / secs,
             o.out);
  return 0;
}

}  // namespace

void register_eval_logits(CLI::App& eval, CommandRun& run) {
  auto o = std::make_shared<LogitsOptions>();
  CLI::App* cmd = eval.add_subcommand("logits", "The model's fp32 logits for one token sequence, as safetensors");
  cmd->add_option("model", o->model, "Model file, GGUF, checkpoint, run or Hugging Face folder")->required();
  cmd->add_option("--tokens", o->tokens, "Token ids (whitespace, comma or JSON separated), e.g. `osp tokenize` output");
  cmd->add_option("--text", o->text, "A text file to encode with the model's tokenizer instead (no BOS/EOS)");
  cmd->add_option("--tokenizer", o->tokenizer, "tokenizer.json or GGUF for --text (default: the model's)");
  cmd->add_option("--out", o->out, "Output safetensors file: logits (T, V) f32, tokens (T) i32")->required();
  cmd->callback([o, &run] { run = [o] { return run_logits(*o); }; });
}

}  // namespace osp::cli
