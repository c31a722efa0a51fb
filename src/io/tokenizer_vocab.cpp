// Reading the export-relevant parts of a tokenizer.json (formats.md §3.9, §4). `osp export gguf`
// fills TokenizerVocab from the data module's tokenizer instead (cli/cmd_export.cpp); this
// reader remains for the HF exporter and io's own tests, and follows the same BOS/EOS rule.
#include "io/tokenizer_vocab.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "io/printable.h"

namespace osp::io {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kGpt2Regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
constexpr const char* kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

bool flag(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return (it != j.end() && it->is_boolean()) ? it->get<bool>() : fallback;
}
bool is_type(const json& j, const char* type) {
  return j.is_object() && j.contains("type") && j["type"].is_string() && j["type"] == type;
}
bool byte_level(const json& j, bool use_regex) {
  return is_type(j, "ByteLevel") && !flag(j, "add_prefix_space", false) && flag(j, "use_regex", true) == use_regex;
}

// llama.cpp's pre-tokenizer id for the tokenizer's pre-tokenization (§3.9), or "".
std::string pre_name(const json& pre) {
  if (byte_level(pre, true)) return "gpt-2";
  if (!is_type(pre, "Sequence") || !pre.contains("pretokenizers") || !pre["pretokenizers"].is_array()) return "";
  const json& s = pre["pretokenizers"];
  if (s.size() == 2 && is_type(s[0], "Digits") && flag(s[0], "individual_digits", false) && byte_level(s[1], true))
    return "smollm";
  if (s.size() == 2 && is_type(s[0], "Split") && byte_level(s[1], false) && s[0].value("behavior", "") == "Isolated" &&
      !flag(s[0], "invert", false) && s[0].contains("pattern") && s[0]["pattern"].is_object() &&
      s[0]["pattern"].value("Regex", "") == kLlama3Regex)
    return "llama-bpe";
  if (s.size() == 1 && byte_level(s[0], true)) return "gpt-2";
  return "";
}

std::optional<int64_t> first_special(const std::vector<std::pair<std::string, int64_t>>& specials,
                                     std::initializer_list<const char*> names, std::optional<std::string>& text) {
  for (const char* n : names)
    for (const auto& [content, id] : specials)
      if (content == n) {
        text = content;
        return id;
      }
  return std::nullopt;
}

Status read_merges(const json& model, TokenizerVocab& v, std::string_view file) {
  if (!model.contains("merges")) return {};
  if (!model["merges"].is_array()) return make_error("{}: model.merges must be a list", file);
  for (const auto& m : model["merges"]) {
    if (m.is_string()) {
      v.merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      const std::string a = m[0].get<std::string>(), b = m[1].get<std::string>();
      if (a.find(' ') != std::string::npos || b.find(' ') != std::string::npos)
        return make_error("{}: merge [\"{}\", \"{}\"] contains a space; GGUF's \"a b\" form cannot express it", file, printable(a), printable(b));
      v.merges.push_back(a + " " + b);
    } else {
      return make_error("{}: merge {} is neither \"a b\" nor [\"a\", \"b\"]", file, m.dump());
    }
  }
  return {};
}

// Places `token` at `id`, growing the tables; a second, different string for an id is refused.
Status place(TokenizerVocab& v, int64_t id, const std::string& token, GgufTokenType type, std::string_view file) {
  if (id < 0 || id >= (int64_t(1) << 24)) return make_error("{}: token id {} is out of range", file, id);
  if (size_t(id) >= v.tokens.size()) {
    v.tokens.resize(size_t(id) + 1);
    v.types.resize(size_t(id) + 1, GgufTokenType::kUnused);
  }
  if (v.types[size_t(id)] != GgufTokenType::kUnused && v.tokens[size_t(id)] != token)
    return make_error("{}: id {} names both \"{}\" and \"{}\"", file, id, printable(v.tokens[size_t(id)]), printable(token));
  v.tokens[size_t(id)] = token;
  v.types[size_t(id)] = type;
  return {};
}

// The ids a TemplateProcessing puts before and after one sequence (a later processor in a
// Sequence wraps the earlier ones), as data::Tokenizer reads them.
void read_post_processor(const json& pp, std::vector<int64_t>& prefix, std::vector<int64_t>& suffix) {
  if (is_type(pp, "Sequence") && pp.contains("processors") && pp["processors"].is_array()) {
    for (const auto& p : pp["processors"]) read_post_processor(p, prefix, suffix);
    return;
  }
  if (!is_type(pp, "TemplateProcessing") || !pp.contains("single") || !pp["single"].is_array() ||
      !pp.contains("special_tokens") || !pp["special_tokens"].is_object())
    return;
  std::vector<int64_t> before, after;
  bool seen_sequence = false;
  for (const auto& item : pp["single"]) {
    if (!item.is_object()) return;
    if (item.contains("Sequence")) {
      seen_sequence = true;
      continue;
    }
    if (!item.contains("SpecialToken") || !item["SpecialToken"].is_object()) return;
    // A token without ids (a file the data module refuses) still counts as added, id unknown.
    const json name = item["SpecialToken"].value("id", json());
    const json* entry = name.is_string() && pp["special_tokens"].contains(name.get<std::string>())
                            ? &pp["special_tokens"][name.get<std::string>()]
                            : nullptr;
    const json ids = entry != nullptr ? entry->value("ids", json()) : json();
    auto& side = seen_sequence ? after : before;
    if (!ids.is_array() || ids.empty()) side.push_back(-1);
    for (const auto& id : ids) side.push_back(id.is_number_integer() ? id.get<int64_t>() : -1);
  }
  prefix.insert(prefix.begin(), before.begin(), before.end());
  suffix.insert(suffix.end(), after.begin(), after.end());
}

}  // namespace

Result<TokenizerVocab> read_tokenizer_vocab(std::string_view text, std::string_view file) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("{}: not a JSON object", file);
  if (!j.contains("model") || !j["model"].is_object()) return make_error("{}: no \"model\" object", file);
  const json& model = j["model"];
  if (!is_type(model, "BPE"))
    return make_error("{}: model type {} is not supported (only BPE)", file, model.value("type", json()).dump());
  if (!model.contains("vocab") || !model["vocab"].is_object()) return make_error("{}: model.vocab is missing", file);
  TokenizerVocab v;
  for (const auto& [token, id] : model["vocab"].items()) {
    if (!id.is_number_integer()) return make_error("{}: vocab entry \"{}\" has no integer id", file, printable(token));
    OSP_TRY(place(v, id.get<int64_t>(), token, GgufTokenType::kNormal, file));
  }
  std::vector<std::pair<std::string, int64_t>> specials;
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const auto& a : j["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
          !a["content"].is_string())
        return make_error("{}: an added_tokens entry lacks an integer id or a content string", file);
      const bool special = flag(a, "special", false);
      const std::string content = a["content"].get<std::string>();
      const int64_t id = a["id"].get<int64_t>();
      if (size_t(id) < v.tokens.size() && v.types[size_t(id)] == GgufTokenType::kNormal && v.tokens[size_t(id)] == content)
        v.types[size_t(id)] = GgufTokenType::kUnused;  // re-placed below with its added type
      OSP_TRY(place(v, id, content, special ? GgufTokenType::kControl : GgufTokenType::kUserDefined, file));
      if (special) specials.emplace_back(content, id);
    }
  }
  for (size_t i = 0; i < v.tokens.size(); ++i)
    if (v.types[i] == GgufTokenType::kUnused) v.tokens[i] = fmt::format("[PAD{}]", i);
  OSP_TRY(read_merges(model, v, file));
  v.eos = first_special(specials, {"<|endoftext|>", "</s>", "<|end_of_text|>", "<|eot_id|>", "<eos>"}, v.eos_token);
  v.bos = first_special(specials, {"<s>", "<|begin_of_text|>", "<bos>"}, v.bos_token);
  v.pad = first_special(specials, {"<pad>", "<|pad|>", "[PAD]"}, v.pad_token);
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    const std::string unk = model["unk_token"].get<std::string>();
    for (size_t i = 0; i < v.tokens.size(); ++i)
      if (v.tokens[i] == unk) {
        v.unk = int64_t(i);
        v.unk_token = unk;
        v.types[i] = GgufTokenType::kUnknown;
      }
  }
  // BOS/EOS are the tokens the post-processor adds, where it adds them (data::Tokenizer's rule).
  std::vector<int64_t> prefix, suffix;
  if (j.contains("post_processor")) read_post_processor(j["post_processor"], prefix, suffix);
  const auto string_of = [&](int64_t id) -> std::optional<std::string> {
    if (id >= 0 && size_t(id) < v.tokens.size()) return v.tokens[size_t(id)];
    return std::nullopt;
  };
  v.add_bos = !prefix.empty();
  v.add_eos = !suffix.empty();
  if (v.add_bos && prefix.front() >= 0) v.bos = prefix.front(), v.bos_token = string_of(prefix.front());
  if (v.add_eos && suffix.back() >= 0) v.eos = suffix.back(), v.eos_token = string_of(suffix.back());
  apply_bos_convention(v);
  const json pre = j.value("pre_tokenizer", json());
  v.pre = pre_name(pre);
  if (v.pre.empty()) v.pre_problem = fmt::format("pre_tokenizer {} has no llama.cpp equivalent", pre.dump());
  if (j.contains("normalizer") && !j["normalizer"].is_null() &&
      !(is_type(j["normalizer"], "Sequence") && j["normalizer"].value("normalizers", json::array()).empty())) {
    v.pre.clear();
    v.pre_problem = fmt::format("normalizer {} has no llama.cpp equivalent", j["normalizer"].dump());
  }
  return v;
}

void apply_bos_convention(TokenizerVocab& v) {
  if (!v.bos && v.eos) {  // GPT-2 / SmolLM convention (formats.md §2.2)
    v.bos = v.eos;
    v.bos_token = v.eos_token;
  }
}

Status pad_tokenizer_vocab(TokenizerVocab& v, int64_t vocab, std::string_view file) {
  if (int64_t(v.tokens.size()) > vocab)
    return make_error("{}: the tokenizer has {} ids but the model's vocabulary only {}", file, v.tokens.size(), vocab);
  for (int64_t i = int64_t(v.tokens.size()); i < vocab; ++i) {
    v.tokens.push_back(fmt::format("[PAD{}]", i));
    v.types.push_back(GgufTokenType::kUnused);
  }
  return {};
}

std::optional<fs::path> find_training_tokenizer(const fs::path& model_path) {
  std::error_code ec;
  std::vector<fs::path> candidates;
  const fs::path dir = fs::is_directory(model_path, ec) ? model_path : model_path.parent_path();
  candidates.push_back(dir / "state.json");
  std::ifstream latest(dir / "checkpoints" / "latest");  // a run folder
  std::string name;
  if (latest && std::getline(latest, name) && !name.empty()) candidates.push_back(dir / "checkpoints" / name / "state.json");
  for (const auto& state : candidates) {
    std::ifstream in(state);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    const json j = json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    const json* train = nullptr;
    if (j.contains("config") && j["config"].is_object() && j["config"].contains("data") && j["config"]["data"].is_object() &&
        j["config"]["data"].contains("train") && j["config"]["data"]["train"].is_string())
      train = &j["config"]["data"]["train"];
    if (train == nullptr) continue;
    fs::path folder = train->get<std::string>();
    if (!fs::is_directory(folder, ec)) folder = folder.parent_path();  // a manifest file
    if (fs::exists(folder / "tokenizer.json", ec)) return folder / "tokenizer.json";
  }
  if (fs::exists(dir / "tokenizer.json", ec)) return dir / "tokenizer.json";
  return std::nullopt;
}

}  // namespace osp::io
