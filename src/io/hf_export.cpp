// Hugging Face export: tensors in HF order, shards of at most shard_bytes, JSON side files.
#include "io/hf_export.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "io/hf_config.h"
#include "io/safetensors_writer.h"
#include "io/tokenizer_vocab.h"

namespace osp::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

template <class Json>
Status write_json(const fs::path& path, const Json& j, HfExportReport& report) {
  const std::string text = j.dump(2) + "\n";
  OSP_TRY(write_file_atomically(path, std::as_bytes(std::span(text.data(), text.size()))));
  report.files.push_back(path);
  return {};
}

std::string torch_dtype_name(SafetensorsDType d) {
  switch (d) {
    case SafetensorsDType::kBF16: return "bfloat16";
    case SafetensorsDType::kF16: return "float16";
    default: return "float32";
  }
}

// Splits tensors (in order) into groups of at most `limit` bytes; an oversized tensor gets its own.
std::vector<std::vector<size_t>> plan_shards(const std::vector<uint64_t>& sizes, uint64_t limit) {
  std::vector<std::vector<size_t>> shards(1);
  uint64_t used = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (!shards.back().empty() && used + sizes[i] > limit) {
      shards.emplace_back();
      used = 0;
    }
    shards.back().push_back(i);
    used += sizes[i];
  }
  return shards;
}

// Writes one safetensors file, converting each tensor to `dtype` just before its bytes go out
// (one rounding from the folded fp32 values, osp-method.md §3).
Status write_shard(const fs::path& path, const std::vector<SafetensorsTensor>& tensors,
                   const std::vector<size_t>& which, const model::PlainLlama& m, SafetensorsDType dtype) {
  auto layout = layout_safetensors(tensors, {}, path.string());
  if (!layout) return layout.error();
  auto file = AtomicFile::create(path);
  if (!file) return file.error();
  OSP_TRY(file->write(layout->header));
  for (size_t k : layout->order) {
    const auto data = m.tensors[which[k]].data();
    if (dtype == SafetensorsDType::kF32) {
      OSP_TRY(file->write(std::as_bytes(data)));
    } else {
      OSP_TRY(file->write(encode_f32(data, dtype)));
    }
  }
  return file->commit();
}

Status write_tensors(const model::PlainLlama& m, const fs::path& dir, const HfExportOptions& opt, HfExportReport& report) {
  const int bits = safetensors_dtype_bits(opt.dtype);
  std::vector<uint64_t> sizes;
  for (const auto& t : m.tensors) sizes.push_back(uint64_t(t.numel()) * uint64_t(bits / 8));
  for (uint64_t s : sizes) report.tensor_bytes += s;
  const auto shards = plan_shards(sizes, opt.shard_bytes);
  json weight_map = json::object();
  for (size_t s = 0; s < shards.size(); ++s) {
    const std::string name = shards.size() == 1 ? "model.safetensors" : hf_shard_name(s + 1, shards.size());
    std::vector<SafetensorsTensor> tensors;
    for (size_t i : shards[s]) {
      const model::PlainTensor& t = m.tensors[i];
      // The layout needs only each tensor's byte count; a prefix of the fp32 bytes (at least as
      // long as any 16- or 32-bit encoding) stands in, so no shard is ever held encoded in memory.
      tensors.push_back({t.name, opt.dtype, t.shape, std::as_bytes(t.data()).first(size_t(sizes[i]))});
      weight_map[t.name] = name;
    }
    OSP_TRY(write_shard(dir / name, tensors, shards[s], m, opt.dtype));
    report.files.push_back(dir / name);
  }
  if (shards.size() > 1) {
    json index = {{"metadata", {{"total_size", report.tensor_bytes}}}, {"weight_map", weight_map}};
    OSP_TRY(write_json(dir / "model.safetensors.index.json", index, report));
  }
  return {};
}

Status write_tokenizer(const std::string& text, const std::string& src, const model::PlainLlama& m, const fs::path& dir,
                       HfSpecialIds& ids, HfExportReport& report) {
  auto vocab = read_tokenizer_vocab(text, src);
  if (!vocab) return vocab.error();
  if (int64_t(vocab->tokens.size()) > m.config.vocab)
    return make_error("{}: the tokenizer has {} ids but the model's vocabulary only {}", src,
                      vocab->tokens.size(), m.config.vocab);
  ids = {vocab->bos, vocab->eos, vocab->pad};
  OSP_TRY(write_file_atomically(dir / "tokenizer.json", std::as_bytes(std::span(text.data(), text.size()))));
  report.files.push_back(dir / "tokenizer.json");
  json tc = {{"tokenizer_class", "PreTrainedTokenizerFast"},
             {"model_max_length", m.config.context},
             {"clean_up_tokenization_spaces", false}};
  auto put = [&](const char* key, const std::optional<std::string>& s) { if (s) tc[key] = *s; };
  put("bos_token", vocab->bos_token);
  put("eos_token", vocab->eos_token);
  put("pad_token", vocab->pad_token);
  put("unk_token", vocab->unk_token);
  return write_json(dir / "tokenizer_config.json", tc, report);
}

}  // namespace

std::string hf_shard_name(size_t index, size_t count) {
  return fmt::format("model-{:05d}-of-{:05d}.safetensors", index, count);
}

Result<HfExportReport> export_hf(const model::PlainLlama& m, const fs::path& dir, const HfExportOptions& opt) {
  if (opt.dtype != SafetensorsDType::kBF16 && opt.dtype != SafetensorsDType::kF16 && opt.dtype != SafetensorsDType::kF32)
    return make_error("{}: export dtype {} is not supported (bf16, f16, f32)", dir.string(), safetensors_dtype_name(opt.dtype));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error("{}: cannot create the folder: {}", dir.string(), ec.message());
  HfExportReport report;
  report.notices = m.notices;
  // Stale files from an earlier export with a different sharding would confuse loaders.
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if ((n.rfind("model-", 0) == 0 && n.ends_with(".safetensors")) || n == "model.safetensors" ||
        n == "model.safetensors.index.json")
      fs::remove(e.path(), ec);
  }
  HfSpecialIds ids;
  if (opt.tokenizer_json) OSP_TRY(write_tokenizer(*opt.tokenizer_json, opt.tokenizer_source, m, dir, ids, report));
  else report.notices.push_back("no tokenizer given or found: tokenizer files not written");
  OSP_TRY(write_tensors(m, dir, opt, report));
  OSP_TRY(write_json(dir / "config.json", hf_config_to_json(m.config, torch_dtype_name(opt.dtype), ids), report));
  OSP_TRY(write_json(dir / "generation_config.json", hf_generation_config_json(ids), report));
  return report;
}

}  // namespace osp::io
