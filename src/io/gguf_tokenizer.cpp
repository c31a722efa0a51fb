// GGUF tokenizer keys -> tokenizer.json (see gguf_tokenizer.h).
#include "io/gguf_tokenizer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "io/printable.h"

namespace osp::io {
namespace {

// std::map-backed objects: ordered_json looks keys up linearly, quadratic over a 150k vocabulary.
using Json = nlohmann::json;

// Token types (formats.md §3.9).
constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4;

// The split regexes llama.cpp applies for each tokenizer.ggml.pre, written as the Hugging Face
// pre-tokenizers of the models they come from (whose tokenizer.json llama.cpp's converter read).
const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

Json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
}
Json split_isolated(const char* regex) {
  return {{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}};
}

struct PreTokenization {
  Json normalizer, pre_tokenizer;
  bool ignore_merges = false;
  bool add_bos = false;  // llama.cpp's default when the file does not say
};

std::optional<PreTokenization> pre_tokenization(const std::string& pre) {
  PreTokenization p;
  if (pre == "gpt-2" || pre == "gpt2") {
    p.pre_tokenizer = byte_level(true);
  } else if (pre == "smollm") {
    p.pre_tokenizer = {{"type", "Sequence"},
                       {"pretokenizers", Json::array({{{"type", "Digits"}, {"individual_digits", true}}, byte_level(true)})}};
  } else if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") {
    p.pre_tokenizer = {{"type", "Sequence"}, {"pretokenizers", Json::array({split_isolated(kLlama3Regex), byte_level(false)})}};
    p.ignore_merges = true;
    p.add_bos = true;
  } else if (pre == "qwen2") {
    p.normalizer = {{"type", "NFC"}};
    p.pre_tokenizer = {{"type", "Sequence"}, {"pretokenizers", Json::array({split_isolated(kQwen2Regex), byte_level(false)})}};
  } else {
    return std::nullopt;
  }
  return p;
}

class Keys {
 public:
  explicit Keys(const GgufReader& r) : r_(r) {}
  const std::string& file() const { return r_.file(); }

  Result<std::string> string(const char* key) const {
    const GgufValue* v = r_.find(key);
    if (v == nullptr) return make_error("{}: {} is missing", file(), key);
    if (v->type != GgufValueType::kString) return make_error("{}: {} is a {}, not a string", file(), key, gguf_value_type_name(v->type));
    return v->s;
  }
  Result<const std::vector<GgufValue>*> array(const char* key, GgufValueType elem, bool required) const {
    const GgufValue* v = r_.find(key);
    if (v == nullptr) {
      if (required) return make_error("{}: {} is missing", file(), key);
      return static_cast<const std::vector<GgufValue>*>(nullptr);
    }
    if (v->type != GgufValueType::kArray || v->elem != elem)
      return make_error("{}: {} must be an array of {}", file(), key, gguf_value_type_name(elem));
    return &v->array;
  }
  // An optional token id below n.
  Result<std::optional<int64_t>> id(const char* key, size_t n) const {
    const GgufValue* v = r_.find(key);
    if (v == nullptr) return std::optional<int64_t>{};
    const auto u = v->as_uint();
    if (!u) return make_error("{}: {} is not an integer", file(), key);
    // Some converters write -1 (as u32 0xffffffff) for "none".
    if (*u == 0xffffffffull || *u == ~0ull) return std::optional<int64_t>{};
    if (*u >= n) return make_error("{}: {} = {} is not a token id (the vocabulary has {})", file(), key, *u, n);
    return std::optional<int64_t>(int64_t(*u));
  }
  Result<bool> flag(const char* key, bool fallback) const {
    const GgufValue* v = r_.find(key);
    if (v == nullptr) return fallback;
    if (v->type != GgufValueType::kBool) return make_error("{}: {} is a {}, not a bool", file(), key, gguf_value_type_name(v->type));
    return v->u != 0;
  }

 private:
  const GgufReader& r_;
};

// Well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF): tokenizer.json is
// JSON text, so a token that is not cannot be carried into it.
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = 0;
    uint32_t cp = 0;
    if (c < 0x80) n = 0, cp = c;
    else if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07;
    else return false;
    if (i + size_t(n) >= s.size() && n > 0) return false;  // the sequence runs past the end
    for (int k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + size_t(k)]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += size_t(n) + 1;
  }
  return true;
}

// One code point boundary list of a UTF-8 string (byte offsets of every character start, plus size).
std::vector<size_t> char_starts(const std::string& s) {
  std::vector<size_t> out;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  out.push_back(s.size());
  return out;
}

// SentencePiece vocabularies have scores, not merges. Merges are rebuilt as transformers' GGUF
// conversion does: every split of a token into two tokens is a merge; merges are ordered by the
// score of the token they make (highest first; stable), and among one token's splits by the
// scores of (left, right), highest first. The pieces are the distinct token strings in order of
// first appearance, each with the score of its last appearance.
Json merges_from_scores(const std::vector<std::string>& tokens, const std::vector<float>& scores) {
  std::unordered_map<std::string, float> score;
  std::vector<const std::string*> order;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!score.count(tokens[i])) order.push_back(&tokens[i]);
    score[tokens[i]] = scores[i];
  }
  struct Merge {
    std::string left, right;
    float score;
  };
  std::vector<Merge> merges;
  for (const std::string* piece : order) {
    const std::vector<size_t> starts = char_starts(*piece);
    std::vector<Merge> local;
    for (size_t k = 1; k + 1 < starts.size(); ++k) {
      std::string l = piece->substr(0, starts[k]), r = piece->substr(starts[k]);
      if (score.count(l) && score.count(r)) local.push_back({std::move(l), std::move(r), score[*piece]});
    }
    std::stable_sort(local.begin(), local.end(), [&](const Merge& a, const Merge& b) {
      const float al = score[a.left], bl = score[b.left];
      if (al != bl) return al > bl;
      return score[a.right] > score[b.right];
    });
    for (auto& m : local) merges.push_back(std::move(m));
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) { return a.score > b.score; });
  Json out = Json::array();
  for (const Merge& m : merges) out.push_back(Json::array({m.left, m.right}));
  return out;
}

Json template_processing(const std::vector<std::string>& tokens, std::optional<int64_t> bos, std::optional<int64_t> eos) {
  Json single = Json::array(), specials = Json::object();
  auto special = [&](int64_t id) {
    const std::string& t = tokens[size_t(id)];
    specials[t] = {{"id", t}, {"ids", Json::array({id})}, {"tokens", Json::array({t})}};
    return Json{{"SpecialToken", {{"id", t}, {"type_id", 0}}}};
  };
  if (bos) single.push_back(special(*bos));
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  if (eos) single.push_back(special(*eos));
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", Json::array()}, {"special_tokens", specials}};
}

}  // namespace

bool gguf_has_tokenizer(const GgufReader& r) { return r.find("tokenizer.ggml.model") != nullptr; }

Result<std::string> gguf_tokenizer_json(const GgufReader& r) {
  const Keys keys(r);
  const std::string& file = r.file();
  auto model = keys.string("tokenizer.ggml.model");
  if (!model) return model.error();
  if (*model != "gpt2" && *model != "llama")
    return make_error("{}: tokenizer.ggml.model '{}' is not supported (osp reads gpt2 and llama)", file, printable(*model));
  const bool spm = *model == "llama";

  auto tokens_v = keys.array("tokenizer.ggml.tokens", GgufValueType::kString, true);
  if (!tokens_v) return tokens_v.error();
  std::vector<std::string> tokens;
  tokens.reserve((*tokens_v)->size());
  for (const auto& t : **tokens_v) {
    if (!valid_utf8(t.s))
      return make_error("{}: tokenizer.ggml.tokens[{}] is not valid UTF-8", file, tokens.size());
    tokens.push_back(t.s);
  }
  const size_t n = tokens.size();
  if (n == 0) return make_error("{}: tokenizer.ggml.tokens is empty", file);

  std::vector<int32_t> types(n, kNormal);
  auto types_v = keys.array("tokenizer.ggml.token_type", GgufValueType::kI32, false);
  if (!types_v) return types_v.error();
  if (*types_v != nullptr) {
    if ((*types_v)->size() != n)
      return make_error("{}: tokenizer.ggml.token_type has {} entries for {} tokens", file, (*types_v)->size(), n);
    for (size_t i = 0; i < n; ++i) types[i] = int32_t((**types_v)[i].i);
  }

  auto bos = keys.id("tokenizer.ggml.bos_token_id", n);
  auto eos = keys.id("tokenizer.ggml.eos_token_id", n);
  auto unk = keys.id("tokenizer.ggml.unknown_token_id", n);
  if (!bos) return bos.error();
  if (!eos) return eos.error();
  if (!unk) return unk.error();

  Json root = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}};
  Json added = Json::array();
  for (size_t i = 0; i < n; ++i) {
    const int32_t t = types[i];
    if (t != kControl && t != kUnknown && t != kUserDefined) continue;
    if (tokens[i].empty()) continue;  // an empty string cannot be matched in text
    added.push_back({{"id", i}, {"content", tokens[i]}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", t != kUserDefined}});
  }
  root["added_tokens"] = std::move(added);

  Json vocab = Json::object();
  for (size_t i = 0; i < n; ++i) vocab[tokens[i]] = i;  // a repeated string keeps its last id, as in transformers

  Json bpe = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
              {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false}};
  bool add_bos_default = false, prefix_space = false;
  if (spm) {
    auto scores_v = keys.array("tokenizer.ggml.scores", GgufValueType::kF32, true);
    if (!scores_v) return scores_v.error();
    if ((*scores_v)->size() != n)
      return make_error("{}: tokenizer.ggml.scores has {} entries for {} tokens", file, (*scores_v)->size(), n);
    std::vector<float> scores(n);
    for (size_t i = 0; i < n; ++i) scores[i] = float((**scores_v)[i].f);
    auto space = keys.flag("tokenizer.ggml.add_space_prefix", true);
    if (!space) return space.error();
    prefix_space = *space;
    Json seq = Json::array();
    if (prefix_space) seq.push_back({{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}});
    seq.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}});
    root["normalizer"] = {{"type", "Sequence"}, {"normalizers", seq}};
    root["pre_tokenizer"] = nullptr;
    if (*unk) bpe["unk_token"] = tokens[size_t(**unk)];
    bpe["fuse_unk"] = true;
    bpe["byte_fallback"] = true;
    bpe["vocab"] = std::move(vocab);
    bpe["merges"] = merges_from_scores(tokens, scores);
    Json dec = Json::array({{{"type", "ByteFallback"}}, {{"type", "Fuse"}},
                            {{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}}});
    if (prefix_space) dec.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    root["decoder"] = {{"type", "Sequence"}, {"decoders", dec}};
    add_bos_default = true;
  } else {
    auto pre = keys.string("tokenizer.ggml.pre");
    if (!pre) return make_error("{}: tokenizer.ggml.pre is missing, so the pre-tokenizer is unknown", file);
    auto p = pre_tokenization(*pre);
    if (!p)
      return make_error("{}: tokenizer.ggml.pre '{}' is not supported (osp reads gpt-2, smollm, llama-bpe and qwen2)", file,
                        printable(*pre));
    root["normalizer"] = p->normalizer.is_null() ? Json(nullptr) : p->normalizer;
    root["pre_tokenizer"] = p->pre_tokenizer;
    bpe["ignore_merges"] = p->ignore_merges;
    add_bos_default = p->add_bos;
    auto merges_v = keys.array("tokenizer.ggml.merges", GgufValueType::kString, true);
    if (!merges_v) return merges_v.error();
    Json merges = Json::array();
    for (size_t i = 0; i < (*merges_v)->size(); ++i) {
      const std::string& m = (**merges_v)[i].s;
      if (!valid_utf8(m)) return make_error("{}: tokenizer.ggml.merges[{}] is not valid UTF-8", file, i);
      const size_t space = m.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == m.size() || m.find(' ', space + 1) != std::string::npos)
        return make_error("{}: tokenizer.ggml.merges[{}] '{}' is not two tokens separated by one space", file, i, printable(m));
      merges.push_back(Json::array({m.substr(0, space), m.substr(space + 1)}));
    }
    bpe["vocab"] = std::move(vocab);
    bpe["merges"] = std::move(merges);
    root["decoder"] = byte_level(true);
  }
  auto add_bos = keys.flag("tokenizer.ggml.add_bos_token", add_bos_default);
  auto add_eos = keys.flag("tokenizer.ggml.add_eos_token", false);
  if (!add_bos) return add_bos.error();
  if (!add_eos) return add_eos.error();
  if (*add_bos && !*bos) return make_error("{}: tokenizer.ggml.add_bos_token is true but there is no bos_token_id", file);
  if (*add_eos && !*eos) return make_error("{}: tokenizer.ggml.add_eos_token is true but there is no eos_token_id", file);
  std::optional<int64_t> pre_id, post_id;
  if (*add_bos) pre_id = **bos;
  if (*add_eos) post_id = **eos;
  root["post_processor"] = (pre_id || post_id) ? template_processing(tokens, pre_id, post_id) : Json(nullptr);
  root["model"] = std::move(bpe);
  try {
    return root.dump();
  } catch (const std::exception& e) {  // every string was checked above; report, never escape
    return make_error("{}: the tokenizer keys cannot be written as tokenizer.json: {}", file, e.what());
  }
}

}  // namespace osp::io
