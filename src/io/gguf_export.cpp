// GGUF export of the plain Llama: keys, tokenizer, permutation, tensor types.
#include "io/gguf_export.h"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "io/gguf_quant.h"
#include "io/gguf_writer.h"
#include "io/tokenizer_vocab.h"

namespace osp::io {
namespace {

namespace fs = std::filesystem;

struct TypeChoice {
  GgufType weights, head;
  uint32_t file_type;
};

TypeChoice choice(GgufExportType t) {
  switch (t) {
    case GgufExportType::kF32: return {GgufType::kF32, GgufType::kF32, kGgufFileAllF32};
    case GgufExportType::kF16: return {GgufType::kF16, GgufType::kF16, kGgufFileF16};
    case GgufExportType::kBF16: return {GgufType::kBF16, GgufType::kBF16, kGgufFileBF16};
    case GgufExportType::kQ8_0: return {GgufType::kQ8_0, GgufType::kQ8_0, kGgufFileQ8_0};
    case GgufExportType::kQ4_0: return {GgufType::kQ4_0, GgufType::kQ8_0, kGgufFileQ4_0};  // §3.13
  }
  return {GgufType::kF32, GgufType::kF32, kGgufFileAllF32};
}

bool quantized(GgufType t) { return t == GgufType::kQ8_0 || t == GgufType::kQ4_0; }

void add_model_keys(GgufWriter& w, const model::ModelConfig& c, const GgufExportOptions& opt) {
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", opt.name);
  w.add_u32("general.file_type", choice(opt.type).file_type);
  if (quantized(choice(opt.type).weights)) w.add_u32("general.quantization_version", 2);
  w.add_u32("llama.context_length", uint32_t(c.context));
  w.add_u32("llama.embedding_length", uint32_t(c.hidden));
  w.add_u32("llama.block_count", uint32_t(c.layers));
  w.add_u32("llama.feed_forward_length", uint32_t(c.ffn));
  w.add_u32("llama.attention.head_count", uint32_t(c.heads));
  w.add_u32("llama.attention.head_count_kv", uint32_t(c.kv_heads));
  w.add_f32("llama.attention.layer_norm_rms_epsilon", float(c.norm_eps));
  w.add_f32("llama.rope.freq_base", float(c.rope_theta));
  w.add_u32("llama.rope.dimension_count", uint32_t(c.head_dim()));
  w.add_u32("llama.vocab_size", uint32_t(c.vocab));
}

Status add_tokenizer_keys(GgufWriter& w, TokenizerVocab v, const std::string& file, int64_t vocab) {
  if (v.pre.empty())
    return make_error("{}: {}; llama.cpp would tokenize differently, so it is not exported", file, v.pre_problem);
  OSP_TRY(pad_tokenizer_vocab(v, vocab, file));
  std::vector<int32_t> types;
  for (auto t : v.types) types.push_back(int32_t(t));
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", v.pre);
  w.add_string_array("tokenizer.ggml.tokens", v.tokens);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  w.add_string_array("tokenizer.ggml.merges", v.merges);
  if (v.bos) w.add_u32("tokenizer.ggml.bos_token_id", uint32_t(*v.bos));
  if (v.eos) w.add_u32("tokenizer.ggml.eos_token_id", uint32_t(*v.eos));
  if (v.unk) w.add_u32("tokenizer.ggml.unknown_token_id", uint32_t(*v.unk));
  if (v.pad) w.add_u32("tokenizer.ggml.padding_token_id", uint32_t(*v.pad));
  w.add_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  w.add_bool("tokenizer.ggml.add_eos_token", v.add_eos);
  return {};
}

Status add_tokenizer_keys(GgufWriter& w, const GgufExportOptions& opt, int64_t vocab) {
  const std::string file = opt.tokenizer ? opt.tokenizer->string() : std::string("tokenizer");
  if (opt.vocab) return add_tokenizer_keys(w, *opt.vocab, file, vocab);
  std::ifstream in(*opt.tokenizer, std::ios::binary);
  if (!in) return make_error("{}: cannot open", file);
  std::stringstream ss;
  ss << in.rdbuf();
  auto v = read_tokenizer_vocab(ss.str(), file);
  if (!v) return v.error();
  return add_tokenizer_keys(w, std::move(v).value(), file, vocab);
}

}  // namespace

std::optional<GgufExportType> parse_gguf_export_type(std::string_view n) {
  if (n == "f32") return GgufExportType::kF32;
  if (n == "f16") return GgufExportType::kF16;
  if (n == "bf16") return GgufExportType::kBF16;
  if (n == "q8_0") return GgufExportType::kQ8_0;
  if (n == "q4_0") return GgufExportType::kQ4_0;
  return std::nullopt;
}

std::vector<float> permute_qk_rows(std::span<const float> w, int64_t heads, int64_t dh, int64_t cols) {
  std::vector<float> out(w.size());
  const int64_t half = dh / 2;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        const float* src = w.data() + (h * dh + j * half + i) * cols;
        std::memcpy(out.data() + (h * dh + 2 * i + j) * cols, src, size_t(cols) * sizeof(float));
      }
  return out;
}

std::string gguf_tensor_name(std::string_view n) {
  if (n == "model.embed_tokens.weight") return "token_embd.weight";
  if (n == "model.norm.weight") return "output_norm.weight";
  if (n == "lm_head.weight") return "output.weight";
  constexpr std::string_view kLayers = "model.layers.";
  if (!n.starts_with(kLayers)) return "";
  n.remove_prefix(kLayers.size());
  const size_t dot = n.find('.');
  if (dot == std::string_view::npos) return "";
  const std::string_view layer = n.substr(0, dot), rest = n.substr(dot + 1);
  static const std::pair<std::string_view, std::string_view> kMap[] = {
      {"input_layernorm.weight", "attn_norm.weight"}, {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},   {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"}, {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},    {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"}};
  for (const auto& [hf, gg] : kMap)
    if (rest == hf) return fmt::format("blk.{}.{}", layer, gg);
  return "";
}

Result<std::vector<std::string>> export_gguf(const model::PlainLlama& m, const fs::path& out, const GgufExportOptions& opt) {
  const model::ModelConfig& c = m.config;
  std::vector<std::string> notices;
  GgufWriter w;
  add_model_keys(w, c, opt);
  if (opt.tokenizer || opt.vocab) OSP_TRY(add_tokenizer_keys(w, opt, c.vocab));
  else notices.push_back("no tokenizer given or found: the GGUF has no tokenizer keys (llama.cpp cannot run it)");
  const TypeChoice types = choice(opt.type);
  for (const auto& t : m.tensors) {
    const std::string name = gguf_tensor_name(t.name);
    if (name.empty()) return make_error("{}: tensor {} has no GGUF name", out.string(), t.name);
    const std::vector<uint64_t> ne(t.shape.rbegin(), t.shape.rend());  // ggml order (§3.3)
    GgufType type = GgufType::kF32;
    if (t.shape.size() == 2) {
      const bool head = name == "output.weight" || (c.tie && name == "token_embd.weight");
      type = head ? types.head : types.weights;
      if (quantized(type) && ne[0] % 32 != 0) {
        notices.push_back(fmt::format("{}: rows of {} are not a multiple of 32; written F16", name, ne[0]));
        type = GgufType::kF16;
      }
    }
    const bool is_q = name.ends_with("attn_q.weight"), is_k = name.ends_with("attn_k.weight");
    const model::PlainTensor* src = &t;
    const uint64_t row = ne[0];
    GgufWriter::Producer produce = [src, type, row, is_q, is_k, &c]() {
      if (!is_q && !is_k) return gguf_encode(src->data(), row, type);
      const std::vector<float> p = permute_qk_rows(src->data(), is_q ? c.heads : c.kv_heads, c.head_dim(), c.hidden);
      return gguf_encode(p, row, type);
    };
    OSP_TRY(w.add_tensor(name, ne, type, std::move(produce)));
  }
  OSP_TRY(w.write(out));
  return notices;
}

}  // namespace osp::io
