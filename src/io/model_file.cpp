// Model files: save, load with validation, and resolving checkpoint and run folders.
#include "io/model_file.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <vector>

#include "io/file_kind.h"
#include "io/gguf_import.h"
#include "io/hf_import.h"
#include "io/safetensors.h"

namespace osp::io {

namespace fs = std::filesystem;
constexpr const char* kConfigKey = "osp.model_config";
constexpr const char* kTokenizerKey = "osp.tokenizer";

Status save_model(const fs::path& file, const model::ModelConfig& config,
                  const model::ParamTable& table, const float* params, const std::string& tokenizer_json) {
  std::vector<SafetensorsTensor> tensors;
  for (const auto& p : table.params())
    tensors.push_back({p.name, SafetensorsDType::kF32, std::vector<uint64_t>(p.shape.begin(), p.shape.end()),
                       std::as_bytes(std::span<const float>(params + p.offset, size_t(p.numel)))});
  SafetensorsMetadata meta;
  meta[kConfigKey] = model::model_config_to_json(config).dump();
  if (!tokenizer_json.empty()) meta[kTokenizerKey] = tokenizer_json;
  return write_safetensors(file, tensors, meta);
}

Result<LoadedModel> load_model_file(const fs::path& file) {
  auto reader = SafetensorsReader::open(file);
  if (!reader) return reader.error();
  const auto& meta = reader->metadata();
  auto it = meta.find(kConfigKey);
  if (it == meta.end())
    return make_error("{}: not an osp model file (no \"{}\" in its metadata)", file.string(), kConfigKey);
  const nlohmann::json j = nlohmann::json::parse(it->second, nullptr, false);
  if (j.is_discarded()) return make_error("{}: metadata {} is not valid JSON", file.string(), kConfigKey);
  auto config = model::model_config_from_json(j);
  if (!config) return make_error("{}: {}", file.string(), config.error().message);
  LoadedModel m{*config, model::ParamTable(*config), AlignedBuffer<float>(0), file, {}, {}, {}};
  m.params = AlignedBuffer<float>(m.table.total_elems());
  if (const auto tok = meta.find(kTokenizerKey); tok != meta.end()) m.tokenizer_json = tok->second;
  for (const auto& p : m.table.params()) {
    const SafetensorsTensorInfo* info = reader->find(p.name);
    if (info == nullptr) return make_error("{}: tensor {} is missing", file.string(), p.name);
    const std::vector<uint64_t> want(p.shape.begin(), p.shape.end());
    if (info->shape != want)
      return make_error("{}: tensor {} has shape [{}], the config needs [{}]", file.string(), p.name,
                        fmt::join(info->shape, ", "), fmt::join(want, ", "));
    OSP_TRY(reader->read(p.name, std::span<float>(m.params.data() + p.offset, size_t(p.numel))));
  }
  if (reader->tensors().size() != m.table.params().size())
    return make_error("{}: holds {} tensors, the config has {}", file.string(), reader->tensors().size(),
                      m.table.params().size());
  return m;
}

Result<std::string> read_text_file(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return make_error("{}: cannot read ({})", file.string(), ec.message());
  if (size > (256u << 20)) return make_error("{}: {} bytes is too large for a side file", file.string(), size);
  std::ifstream in(file, std::ios::binary);
  std::string text(size_t(size), '\0');
  if (!in || !in.read(text.data(), std::streamsize(size))) return make_error("{}: cannot read", file.string());
  return text;
}

Result<fs::path> latest_checkpoint(const fs::path& run_dir) {
  const fs::path latest = run_dir / "checkpoints" / "latest";
  std::ifstream in(latest);
  std::string name;
  if (!in || !std::getline(in, name) || name.empty())
    return make_error("{}: no checkpoint (missing or empty {})", run_dir.string(), latest.string());
  if (name.find('/') != std::string::npos || name == "." || name == "..")
    return make_error("{}: names an invalid checkpoint \"{}\"", latest.string(), name);
  return run_dir / "checkpoints" / name;
}

Result<LoadedModel> load_model(const fs::path& path) {
  std::error_code ec;
  const FileKind kind = sniff_file_kind(path);
  if (kind == FileKind::kMissing) return make_error("{}: no such file or folder", path.string());
  if (kind == FileKind::kGguf) return load_gguf_llama(path);
  if (kind == FileKind::kSafetensors) return load_model_file(path);
  if (kind != FileKind::kFolder)
    return make_error("{}: is {}, not a model (osp reads osp/safetensors model files, GGUF files and model folders)",
                      path.string(), file_kind_name(kind));
  if (is_hf_llama_dir(path)) return load_hf_llama(path);  // a Hugging Face Llama folder
  if (fs::exists(path / "model.safetensors", ec)) return load_model_file(path / "model.safetensors");
  auto ckpt = latest_checkpoint(path);
  if (!ckpt) return make_error("{}: neither a model file, a checkpoint nor a run folder", path.string());
  return load_model_file(*ckpt / "model.safetensors");
}

}  // namespace osp::io
