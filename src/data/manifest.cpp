// manifest.json reader and writer (see manifest.h).
#include "data/manifest.h"

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "data/file_util.h"
#include "data/json_fields.h"

namespace osp::data {
namespace {

constexpr const char* kFormat = "osp-token-shards";

Result<std::vector<ShardEntry>> read_split(const nlohmann::json& splits, const char* name) {
  const auto* list = json_fields::member(splits, name);
  if (list == nullptr || !list->is_array()) return make_error("splits.{} must be an array", name);
  std::vector<ShardEntry> out;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string where = fmt::format("splits.{}[{}]", name, i);
    ShardEntry e;
    auto file = json_fields::get_string((*list)[i], "file", where);
    if (!file) return file.error();
    if (file->empty() || file->find('/') != std::string::npos || *file == "." || *file == "..")
      return make_error("{}.file '{}' must be a plain file name", where, *file);
    auto tokens = json_fields::get_uint((*list)[i], "tokens", where);
    if (!tokens) return tokens.error();
    auto docs = json_fields::get_uint((*list)[i], "documents", where);
    if (!docs) return docs.error();
    out.push_back({*file, *tokens, *docs});
  }
  return out;
}

Result<Manifest> parse_manifest(const nlohmann::json& j) {
  Manifest m;
  auto format = json_fields::get_string(j, "format", "");
  if (!format) return format.error();
  if (*format != kFormat) return make_error("format '{}' is not {}", *format, kFormat);
  auto version = json_fields::get_uint(j, "version", "");
  if (!version) return version.error();
  if (*version != 1) return make_error("manifest version {} is not supported", *version);
  auto tokenizer = json_fields::get_string(j, "tokenizer", "");
  if (!tokenizer) return tokenizer.error();
  auto hash = json_fields::get_string(j, "tokenizer_hash", "");
  if (!hash) return hash.error();
  if (hash->size() != 16 || hash->find_first_not_of("0123456789abcdef") != std::string::npos)
    return make_error("tokenizer_hash must be 16 lowercase hex digits");
  m.tokenizer = *tokenizer;
  m.tokenizer_hash = std::stoull(*hash, nullptr, 16);
  for (auto [key, field] : {std::pair{"vocab_size", &m.vocab_size},
                            {"eos_id", &m.eos_id},
                            {"token_bits", &m.token_bits}}) {
    auto v = json_fields::get_uint(j, key, "");
    if (!v) return v.error();
    if (*v > UINT32_MAX) return make_error("{} {} is too large", key, *v);
    *field = static_cast<uint32_t>(*v);
  }
  if (m.token_bits != 16 && m.token_bits != 32) return make_error("token_bits must be 16 or 32");
  if (const auto* f = json_fields::member(j, "val_fraction"); f != nullptr && f->is_number())
    m.val_fraction = f->get<double>();
  if (const auto* s = json_fields::member(j, "split_seed"); s != nullptr && s->is_number_unsigned())
    m.split_seed = s->get<uint64_t>();
  const auto* splits = json_fields::member(j, "splits");
  if (splits == nullptr || !splits->is_object()) return make_error("splits must be an object");
  auto train = read_split(*splits, "train");
  if (!train) return train.error();
  auto val = read_split(*splits, "val");
  if (!val) return val.error();
  m.train = std::move(*train);
  m.val = std::move(*val);
  if (const auto* src = json_fields::member(j, "sources"); src != nullptr && src->is_array())
    for (const auto& s : *src)
      if (s.is_string()) m.sources.push_back(s.get<std::string>());
  return m;
}

}  // namespace

Status write_manifest(const std::string& path, const Manifest& m) {
  const auto split = [](const std::vector<ShardEntry>& entries) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& e : entries)
      list.push_back({{"file", e.file}, {"tokens", e.tokens}, {"documents", e.documents}});
    return list;
  };
  const nlohmann::ordered_json j = {{"format", kFormat},
                                    {"version", 1},
                                    {"tokenizer", m.tokenizer},
                                    {"tokenizer_hash", fmt::format("{:016x}", m.tokenizer_hash)},
                                    {"vocab_size", m.vocab_size},
                                    {"eos_id", m.eos_id},
                                    {"token_bits", m.token_bits},
                                    {"document_separator", "eos-after-each-document"},
                                    {"val_fraction", m.val_fraction},
                                    {"split_seed", m.split_seed},
                                    {"splits", {{"train", split(m.train)}, {"val", split(m.val)}}},
                                    {"sources", m.sources}};
  return write_file_atomically(path, j.dump(2) + "\n");
}

Result<Manifest> read_manifest(const std::string& path) {
  auto text = read_file(path, 64 << 20);
  if (!text) return text.error();
  auto j = json_fields::parse(*text);
  if (!j) return make_error("{}: {}", path, j.error().message);
  auto m = parse_manifest(*j);
  if (!m) return make_error("{}: {}", path, m.error().message);
  return m;
}

}  // namespace osp::data
