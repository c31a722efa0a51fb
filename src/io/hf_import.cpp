// Hugging Face import: config, shard index validation, tensor checks, conversion to fp32.
#include "io/hf_import.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <memory>

#include "io/hf_config.h"
#include "core/mapped_file.h"
#include "io/printable.h"
#include "io/safetensors_reader.h"

namespace osp::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Result<std::string> read_small_file(const fs::path& path) {
  auto map = MappedFile::open(path);
  if (!map) return map.error();
  const auto b = map->bytes();
  if (b.size() > 64u << 20) return make_error("{}: {} bytes is too large for a JSON side file", path.string(), b.size());
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

struct Located {
  const SafetensorsReader* reader;
  const SafetensorsTensorInfo* info;
};

using Readers = std::vector<std::unique_ptr<SafetensorsReader>>;

Status open_reader(const fs::path& path, Readers& readers) {
  auto r = SafetensorsReader::open(path);
  if (!r) return r.error();
  readers.push_back(std::make_unique<SafetensorsReader>(std::move(*r)));
  return {};
}

// Opens the shards of an index and checks that map and shards agree exactly (§2.5).
Status open_sharded(const fs::path& dir, Readers& readers, std::map<std::string, Located, std::less<>>& all) {
  const fs::path index_path = dir / "model.safetensors.index.json";
  const std::string file = index_path.string();
  auto text = read_small_file(index_path);
  if (!text) return text.error();
  const json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    return make_error("{}: not an index (no \"weight_map\" object)", file);
  std::map<std::string, size_t> shard_index;  // shard file -> reader
  for (const auto& [name, shard] : j["weight_map"].items()) {
    if (!shard.is_string()) return make_error("{}: weight_map[\"{}\"] is not a file name", file, printable(name));
    const std::string s = shard.get<std::string>();
    if (s.empty() || s.find('/') != std::string::npos || s.find('\\') != std::string::npos || s == "." || s == "..")
      return make_error("{}: shard name \"{}\" is not a plain file name", file, printable(s));
    if (!shard_index.count(s)) {
      OSP_TRY(open_reader(dir / s, readers));
      shard_index[s] = readers.size() - 1;
    }
    const SafetensorsReader* r = readers[shard_index[s]].get();
    const SafetensorsTensorInfo* info = r->find(name);
    if (info == nullptr) return make_error("{}: maps tensor {} to {}, which does not hold it", file, printable(name), printable(s));
    all[name] = {r, info};
  }
  for (const auto& r : readers)
    for (const auto& t : r->tensors()) {
      auto it = all.find(t.name);
      if (it == all.end() || it->second.reader != r.get())
        return make_error("{}: holds tensor {} which the index does not map to it", r->file(), printable(t.name));
    }
  return {};
}

bool is_leftover(std::string_view name) { return name.ends_with("rotary_emb.inv_freq"); }

Status check_dtype(const Located& t) {
  const auto d = t.info->dtype;
  if (d != SafetensorsDType::kF32 && d != SafetensorsDType::kF16 && d != SafetensorsDType::kBF16)
    return make_error("{}: tensor {} has dtype {}; only F32, F16 and BF16 are supported", t.reader->file(),
                      t.info->name, safetensors_dtype_name(d));
  return {};
}

}  // namespace

bool is_hf_llama_dir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && fs::exists(dir / "config.json", ec) &&
         (fs::exists(dir / "model.safetensors", ec) || fs::exists(dir / "model.safetensors.index.json", ec));
}

Result<LoadedModel> load_hf_llama(const fs::path& dir, std::vector<std::string>* notices) {
  std::vector<std::string> local;
  if (notices == nullptr) notices = &local;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return make_error("{}: not a folder", dir.string());
  auto text = read_small_file(dir / "config.json");
  if (!text) return text.error();
  auto hf = parse_hf_config(*text, (dir / "config.json").string());
  if (!hf) return hf.error();
  notices->insert(notices->end(), hf->notices.begin(), hf->notices.end());
  const model::ModelConfig& c = hf->model;

  Readers readers;
  std::map<std::string, Located, std::less<>> all;
  if (fs::exists(dir / "model.safetensors.index.json", ec)) {
    OSP_TRY(open_sharded(dir, readers, all));
  } else {
    OSP_TRY(open_reader(dir / "model.safetensors", readers));
    for (const auto& t : readers[0]->tensors()) all[t.name] = {readers[0].get(), &t};
  }

  LoadedModel m{c, model::ParamTable(c), AlignedBuffer<float>(0), dir, {}, {}, {}};
  m.params = AlignedBuffer<float>(m.table.total_elems());
  if (fs::exists(dir / "tokenizer.json", ec)) m.tokenizer_file = dir / "tokenizer.json";
  m.eos_id = hf->special.eos;
  std::vector<Located> sources;  // by parameter, in table order
  for (const auto& p : m.table.params()) {
    auto it = all.find(p.name);
    if (it == all.end()) {
      if (p.name == "lm_head.weight")
        return make_error("{}: lm_head.weight is missing and tie_word_embeddings is false", dir.string());
      return make_error("{}: tensor {} is missing", dir.string(), p.name);
    }
    const Located& t = it->second;
    OSP_TRY(check_dtype(t));
    const std::vector<uint64_t> want(p.shape.begin(), p.shape.end());
    if (t.info->shape != want)
      return make_error("{}: tensor {} has shape {}, config.json implies {}", t.reader->file(), p.name,
                        format_shape(t.info->shape), format_shape(want));
    sources.push_back(t);
    all.erase(it);
  }
  // Conversion to fp32 dominates import time; tensors are independent, so both cores share it.
  const auto& params = m.table.params();
  std::vector<std::string> errors(params.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    const Status st = sources[i].reader->read(p.name, std::span<float>(m.params.data() + p.offset, size_t(p.numel)));
    if (!st) errors[i] = st.error().message;
  }
  for (const auto& e : errors)
    if (!e.empty()) return Error{e};
  for (const auto& [name, t] : all) {
    if (is_leftover(name)) {
      notices->push_back(fmt::format("{}: ignoring non-parameter tensor {}", t.reader->file(), printable(name)));
    } else if (name == "lm_head.weight" && c.tie) {
      // transformers uses the embedding when tied (§2.3); say so when the stored head differs.
      OSP_TRY(check_dtype(t));
      auto head = t.reader->read_f32(name);
      if (!head) return head.error();
      const auto* e = m.table.find("model.embed_tokens.weight");
      bool same = head->size() == size_t(e->numel);
      for (size_t i = 0; same && i < head->size(); ++i) same = (*head)[i] == m.params[e->offset + int64_t(i)];
      if (!same) notices->push_back(fmt::format("{}: tie_word_embeddings is true; lm_head.weight differs from the embedding and is ignored", dir.string()));
    } else if (name.ends_with(".bias")) {
      return make_error("{}: bias tensor {} is not supported (osp models have no biases)", t.reader->file(), printable(name));
    } else {
      return make_error("{}: unexpected tensor {}", t.reader->file(), printable(name));
    }
  }
  return m;
}

}  // namespace osp::io
