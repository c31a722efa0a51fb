// tokenizer.json reader (formats.md §4): validates every component and refuses unsupported ones
// by name. Messages are "<file>: <field>: <problem>".
#include <fstream>
#include <map>
#include <sstream>

#include "data/file_util.h"
#include "data/json_fields.h"
#include "data/tokenizer.h"
#include "data/utf8.h"

namespace osp::data {

using json_fields::get_bool;
using json_fields::get_bool_or;
using json_fields::get_string;
using json_fields::get_type;
using json_fields::Json;
using json_fields::member;

class TokenizerLoader {
 public:
  static Result<Tokenizer> build(const Json& root);

 private:
  static constexpr int kMaxSequenceDepth = 8;
  static Status model(const Json& j, Tokenizer& tok);
  static Status normalizer(const Json& j, const std::string& where, int depth, Normalizer& out);
  static Status pre_tokenizer(const Json& j, const std::string& where, int depth,
                              PreTokenizer& out);
  static Status post_processor(const Json& j, const std::string& where, int depth, Tokenizer& tok);
  static Status decoder(const Json& j, const std::string& where, int depth, Tokenizer& tok);
  static Status added_tokens(const Json& j, Tokenizer& tok);
};

namespace {

uint64_t fnv1a(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

Result<Regex> pattern_of(const Json& j, const std::string& where) {
  if (!j.is_object() || j.size() != 1)
    return make_error("{} must be {{\"String\": ...}} or {{\"Regex\": ...}}", where);
  const auto only = j.begin();
  const std::string& kind = only.key();
  const Json& value = only.value();
  if ((kind != "String" && kind != "Regex") || !value.is_string())
    return make_error("{} must be {{\"String\": ...}} or {{\"Regex\": ...}}", where);
  auto regex = Regex::compile(value.get<std::string>(), kind == "String");
  if (!regex) return make_error("{}: {}", where, regex.error().message);
  return regex;
}

// The pattern and content of a Replace (the normalizer and the decoder have the same fields).
Status replace_of(const Json& j, const std::string& where, Regex& pattern, std::string& content) {
  auto pattern_json = json_fields::required(j, "pattern", where);
  if (!pattern_json) return pattern_json.error();
  auto regex = pattern_of(**pattern_json, where + ".pattern");
  if (!regex) return regex.error();
  auto text = get_string(j, "content", where);
  if (!text) return text.error();
  pattern = std::move(regex).value();
  content = std::move(text).value();
  return {};
}

Result<SplitBehavior> behavior_of(const Json& j, const std::string& where) {
  static const std::map<std::string, SplitBehavior> kNames = {
      {"Removed", SplitBehavior::kRemoved},
      {"Isolated", SplitBehavior::kIsolated},
      {"MergedWithPrevious", SplitBehavior::kMergedWithPrevious},
      {"MergedWithNext", SplitBehavior::kMergedWithNext},
      {"Contiguous", SplitBehavior::kContiguous}};
  auto name = get_string(j, "behavior", where);
  if (!name) return name.error();
  const auto it = kNames.find(*name);
  if (it == kNames.end())
    return make_error("{}.behavior '{}' is not a known behavior", where, *name);
  return it->second;
}

// A field holding exactly one character (the library's serde `char`).
Result<char32_t> get_char(const Json& j, const char* key, const std::string& where) {
  auto text = get_string(j, key, where);
  if (!text) return text.error();
  char32_t cp = 0;
  if (text->empty() || utf8_decode(*text, 0, &cp) != static_cast<int>(text->size()))
    return make_error("{}.{}: {} must be exactly one character", where, key, Json(*text).dump());
  return cp;
}

// Metaspace's fields, shared by the pre-tokenizer and the decoder. The legacy add_prefix_space
// false means the "never" scheme, and contradicts any other, as in the library.
Result<PreTokenizerStep> metaspace_of(const Json& j, const std::string& where) {
  PreTokenizerStep step;
  step.kind = PreTokenizerStep::Kind::kMetaspace;
  auto replacement = get_char(j, "replacement", where);
  if (!replacement) return replacement.error();
  utf8_append(step.replacement, *replacement);
  step.regex = Regex::compile(step.replacement, true).value();
  if (const Json* v = member(j, "prepend_scheme"); v != nullptr) {
    static const std::map<std::string, PrependScheme> kSchemes = {
        {"always", PrependScheme::kAlways},
        {"first", PrependScheme::kFirst},
        {"never", PrependScheme::kNever}};
    const auto it = v->is_string() ? kSchemes.find(v->get<std::string>()) : kSchemes.end();
    if (it == kSchemes.end())
      return make_error("{}.prepend_scheme: {} is not one of \"always\", \"first\", \"never\"",
                        where, v->dump());
    step.prepend = it->second;
  }
  auto prefix = get_bool_or(j, "add_prefix_space", where, true);
  if (!prefix) return prefix.error();
  if (!*prefix) {
    if (step.prepend != PrependScheme::kNever)
      return make_error("{}.add_prefix_space: false does not match prepend_scheme (\"never\")",
                        where);
    step.prepend = PrependScheme::kNever;
  }
  auto split = get_bool_or(j, "split", where, true);
  if (!split) return split.error();
  step.metaspace_split = *split;
  return step;
}

Status sequence_depth_ok(int depth, const std::string& where) {
  if (depth > 8) return make_error("{}: Sequences nested too deeply", where);
  return {};
}

}  // namespace

Status TokenizerLoader::model(const Json& j, Tokenizer& tok) {
  if (!j.is_object()) return make_error("model must be an object");
  auto type = get_string(j, "type", "model");
  if (!type) return type.error();
  if (*type != "BPE")
    return make_error("model type '{}' is not supported (osp reads BPE models only)", *type);
  if (const Json* d = member(j, "dropout"); d != nullptr && !d->is_null()) {
    if (!d->is_number() || d->get<double>() != 0.0)
      return make_error("model.dropout must be null: BPE dropout (random merges) is not supported");
  }
  // transformers' GPT-2 and Qwen2 conversions write "" here, which the library treats as none.
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const Json* v = member(j, key);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_string()) return make_error("model.{}: must be a string or null", key);
    if (!v->get<std::string>().empty())
      return make_error(
          "model.{}: {} is not supported (osp reads byte-level and SentencePiece-style BPE, "
          "which have none)",
          key, v->dump());
  }
  BpeOptions options;
  auto byte_fallback = get_bool_or(j, "byte_fallback", "model", false);
  if (!byte_fallback) return byte_fallback.error();
  options.byte_fallback = *byte_fallback;
  if (const Json* unk = member(j, "unk_token"); unk != nullptr && !unk->is_null()) {
    if (!unk->is_string()) return make_error("model.unk_token must be a string or null");
    options.unk_token = unk->get<std::string>();
  }
  auto fuse = get_bool_or(j, "fuse_unk", "model", false);
  if (!fuse) return fuse.error();
  auto ignore = get_bool_or(j, "ignore_merges", "model", false);
  if (!ignore) return ignore.error();
  options.fuse_unk = *fuse;
  options.ignore_merges = *ignore;

  auto vocab_json = json_fields::required(j, "vocab", "model");
  if (!vocab_json) return vocab_json.error();
  if (!(*vocab_json)->is_object()) return make_error("model.vocab must be an object");
  StringIdMap vocab;
  vocab.reserve((*vocab_json)->size());
  for (const auto& [token, id] : (*vocab_json)->items()) {
    auto value = json_fields::as_uint(id, "model.vocab['" + token + "']");
    if (!value) return value.error();
    if (*value > kMaxTokenId)
      return make_error("model.vocab['{}']: id {} is too large (osp supports ids up to {})", token,
                        *value, kMaxTokenId);
    vocab.emplace(token, static_cast<TokenId>(*value));
  }

  auto merges_json = json_fields::required(j, "merges", "model");
  if (!merges_json) return merges_json.error();
  if (!(*merges_json)->is_array()) return make_error("model.merges must be an array");
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve((*merges_json)->size());
  int forms = 0;  // bit 1: "a b" strings, bit 2: ["a", "b"] pairs
  size_t index = 0;
  for (const Json& m : **merges_json) {
    if (m.is_string()) {
      forms |= 1;
      const std::string line = m.get<std::string>();
      if (line.rfind("#version", 0) == 0) continue;  // header line of old merges.txt files
      const size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
        return make_error("model.merges[{}]: '{}' is not two tokens separated by one space", index,
                          line);
      merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      forms |= 2;
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      return make_error("model.merges[{}] must be \"a b\" or [\"a\", \"b\"]", index);
    }
    ++index;
  }
  if (forms == 3) return make_error("model.merges mixes the \"a b\" and [\"a\", \"b\"] forms");
  auto bpe = BpeModel::create(std::move(vocab), merges, options);
  if (!bpe) return bpe.error();
  tok.model_ = std::move(bpe).value();
  return {};
}

Status TokenizerLoader::normalizer(const Json& j, const std::string& where, int depth,
                                   Normalizer& out) {
  if (j.is_null()) return {};
  OSP_TRY(sequence_depth_ok(depth, where));
  auto type = get_type(j, where);
  if (!type) return type.error();
  static const std::map<std::string, NormalizerKind> kForms = {
      {"NFC", NormalizerKind::kNfc},
      {"NFD", NormalizerKind::kNfd},
      {"NFKC", NormalizerKind::kNfkc},
      {"NFKD", NormalizerKind::kNfkd},
      {"Lowercase", NormalizerKind::kLowercase},
      {"StripAccents", NormalizerKind::kStripAccents}};
  NormalizerStep step;
  if (const auto it = kForms.find(*type); it != kForms.end()) {
    step.kind = it->second;
  } else if (*type == "Sequence") {
    auto list = json_fields::required(j, "normalizers", where);
    if (!list) return list.error();
    if (!(*list)->is_array()) return make_error("{}.normalizers must be an array", where);
    for (size_t i = 0; i < (*list)->size(); ++i)
      OSP_TRY(normalizer((**list)[i], fmt::format("{}.normalizers[{}]", where, i), depth + 1, out));
    return {};
  } else if (*type == "Strip") {
    auto left = get_bool(j, "strip_left", where);
    if (!left) return left.error();
    auto right = get_bool(j, "strip_right", where);
    if (!right) return right.error();
    step.kind = NormalizerKind::kStrip, step.strip_left = *left, step.strip_right = *right;
  } else if (*type == "Replace") {
    OSP_TRY(replace_of(j, where, step.pattern, step.content));
    step.kind = NormalizerKind::kReplace;
  } else if (*type == "Prepend") {
    auto prepend = get_string(j, "prepend", where);
    if (!prepend) return prepend.error();
    step.kind = NormalizerKind::kPrepend, step.content = *prepend;
  } else {
    return make_error(
        "{} type '{}' is not supported (osp reads NFC, NFD, NFKC, NFKD, Lowercase, "
        "Strip, StripAccents, Replace, Prepend and Sequence)",
        where, *type);
  }
  out.add(std::move(step));
  return {};
}

Status TokenizerLoader::pre_tokenizer(const Json& j, const std::string& where, int depth,
                                      PreTokenizer& out) {
  if (j.is_null()) return {};
  OSP_TRY(sequence_depth_ok(depth, where));
  auto type = get_type(j, where);
  if (!type) return type.error();
  PreTokenizerStep step;
  if (*type == "Sequence") {
    auto list = json_fields::required(j, "pretokenizers", where);
    if (!list) return list.error();
    if (!(*list)->is_array()) return make_error("{}.pretokenizers must be an array", where);
    for (size_t i = 0; i < (*list)->size(); ++i)
      OSP_TRY(pre_tokenizer((**list)[i], fmt::format("{}.pretokenizers[{}]", where, i), depth + 1,
                            out));
    return {};
  } else if (*type == "ByteLevel") {
    // Defaults are the tokenizers library's ByteLevel::default().
    auto prefix = get_bool_or(j, "add_prefix_space", where, true);
    if (!prefix) return prefix.error();
    auto use_regex = get_bool_or(j, "use_regex", where, true);
    if (!use_regex) return use_regex.error();
    if (auto trim = get_bool_or(j, "trim_offsets", where, true); !trim) return trim.error();
    step.kind = PreTokenizerStep::Kind::kByteLevel;
    step.add_prefix_space = *prefix;
    step.use_regex = *use_regex;
    if (step.use_regex) step.regex = Regex::compile(kGpt2Pattern).value();
  } else if (*type == "Split") {
    auto pattern_json = json_fields::required(j, "pattern", where);
    if (!pattern_json) return pattern_json.error();
    auto regex = pattern_of(**pattern_json, where + ".pattern");
    if (!regex) return regex.error();
    auto behavior = behavior_of(j, where);
    if (!behavior) return behavior.error();
    auto invert = get_bool(j, "invert", where);
    if (!invert) return invert.error();
    step.regex = *regex, step.behavior = *behavior, step.invert = *invert;
  } else if (*type == "Digits") {
    auto individual = get_bool_or(j, "individual_digits", where, false);
    if (!individual) return individual.error();
    // One match per numeric character; Contiguous then joins runs, as the library's Digits does.
    step.regex = Regex::compile(R"(\p{N})").value();
    step.behavior = *individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous;
  } else if (*type == "Metaspace") {
    auto metaspace = metaspace_of(j, where);
    if (!metaspace) return metaspace.error();
    step = std::move(metaspace).value();
  } else {
    return make_error(
        "{} type '{}' is not supported (osp reads ByteLevel, Split, Digits, Metaspace and "
        "Sequence)",
        where, *type);
  }
  out.add(std::move(step));
  return {};
}

Status TokenizerLoader::post_processor(const Json& j, const std::string& where, int depth,
                                       Tokenizer& tok) {
  if (j.is_null()) return {};
  OSP_TRY(sequence_depth_ok(depth, where));
  auto type = get_type(j, where);
  if (!type) return type.error();
  if (*type == "ByteLevel") return {};  // adjusts offsets only
  if (*type == "Sequence") {
    auto list = json_fields::required(j, "processors", where);
    if (!list) return list.error();
    if (!(*list)->is_array()) return make_error("{}.processors must be an array", where);
    for (size_t i = 0; i < (*list)->size(); ++i)
      OSP_TRY(
          post_processor((**list)[i], fmt::format("{}.processors[{}]", where, i), depth + 1, tok));
    return {};
  }
  std::vector<TokenId> prefix, suffix;
  if (*type == "RobertaProcessing" || *type == "BertProcessing") {
    // {"cls": ["<s>", 0], "sep": ["</s>", 2]}: cls, the sequence, sep.
    for (const char* key : {"cls", "sep"}) {
      const Json* v = member(j, key);
      if (v == nullptr || !v->is_array() || v->size() != 2 || !(*v)[1].is_number_unsigned())
        return make_error("{}.{} must be [token, id]", where, key);
      (std::string(key) == "cls" ? prefix : suffix).push_back((*v)[1].get<TokenId>());
    }
  } else if (*type == "TemplateProcessing") {
    auto single = json_fields::required(j, "single", where);
    if (!single) return single.error();
    auto specials = json_fields::required(j, "special_tokens", where);
    if (!specials) return specials.error();
    if (!(*single)->is_array() || !(*specials)->is_object())
      return make_error("{}: single must be an array and special_tokens an object", where);
    int sequences = 0;
    for (const Json& item : **single) {
      if (const Json* seq = member(item, "Sequence")) {
        auto id = get_string(*seq, "id", where + ".single.Sequence");
        if (!id) return id.error();
        if (*id != "A")
          return make_error("{}.single uses sequence '{}' (only A exists for one input)", where,
                            *id);
        ++sequences;
        continue;
      }
      const Json* special = member(item, "SpecialToken");
      if (special == nullptr)
        return make_error("{}.single items must be Sequence or SpecialToken", where);
      auto name = get_string(*special, "id", where + ".single.SpecialToken");
      if (!name) return name.error();
      const Json* entry = member(**specials, *name);
      const Json* ids = entry != nullptr ? member(*entry, "ids") : nullptr;
      if (ids == nullptr || !ids->is_array())
        return make_error("{}.special_tokens has no ids for '{}'", where, *name);
      for (const Json& id : *ids) {
        auto value = json_fields::as_uint(id, where + ".special_tokens['" + *name + "'].ids");
        if (!value) return value.error();
        (sequences == 0 ? prefix : suffix).push_back(static_cast<TokenId>(*value));
      }
    }
    if (sequences != 1)
      return make_error("{}.single must contain the sequence A exactly once", where);
  } else {
    return make_error(
        "{} type '{}' is not supported (osp reads ByteLevel, TemplateProcessing, "
        "RobertaProcessing, BertProcessing and Sequence)",
        where, *type);
  }
  // A later processor wraps what the earlier ones produced.
  tok.template_prefix_.insert(tok.template_prefix_.begin(), prefix.begin(), prefix.end());
  tok.template_suffix_.insert(tok.template_suffix_.end(), suffix.begin(), suffix.end());
  return {};
}

Status TokenizerLoader::decoder(const Json& j, const std::string& where, int depth,
                                Tokenizer& tok) {
  if (j.is_null()) return {};
  OSP_TRY(sequence_depth_ok(depth, where));
  auto type = get_type(j, where);
  if (!type) return type.error();
  tok.decoder_.set_present();
  if (*type == "Sequence") {
    auto list = json_fields::required(j, "decoders", where);
    if (!list) return list.error();
    if (!(*list)->is_array()) return make_error("{}.decoders must be an array", where);
    for (size_t i = 0; i < (*list)->size(); ++i)
      OSP_TRY(decoder((**list)[i], fmt::format("{}.decoders[{}]", where, i), depth + 1, tok));
    return {};
  }
  DecoderStep step;
  using Kind = DecoderStep::Kind;
  if (*type == "ByteLevel") {
    step.kind = Kind::kByteLevel;
  } else if (*type == "ByteFallback") {
    step.kind = Kind::kByteFallback;
  } else if (*type == "Fuse") {
    step.kind = Kind::kFuse;
  } else if (*type == "Strip") {
    auto content = get_char(j, "content", where);
    if (!content) return content.error();
    auto start = json_fields::get_uint(j, "start", where);
    if (!start) return start.error();
    auto stop = json_fields::get_uint(j, "stop", where);
    if (!stop) return stop.error();
    step.kind = Kind::kStrip, step.character = *content;
    step.start = static_cast<size_t>(*start), step.stop = static_cast<size_t>(*stop);
  } else if (*type == "Replace") {
    OSP_TRY(replace_of(j, where, step.pattern, step.content));
    step.kind = Kind::kReplace;
  } else if (*type == "Metaspace") {
    auto metaspace = metaspace_of(j, where);
    if (!metaspace) return metaspace.error();
    char32_t replacement = 0;
    utf8_decode(metaspace->replacement, 0, &replacement);
    step.kind = Kind::kMetaspace, step.character = replacement;
    step.first_drops_meta = metaspace->prepend != PrependScheme::kNever;
  } else {
    return make_error(
        "{} type '{}' is not supported (osp reads ByteLevel, ByteFallback, Fuse, Strip, Replace, "
        "Metaspace and Sequence)",
        where, *type);
  }
  tok.decoder_.add(std::move(step));
  return {};
}

// Ids are assigned the way the tokenizers library assigns them on load (an added token keeps
// its vocab id, others count up from the vocab size); a file whose ids disagree would be
// renumbered by the library, so it is refused rather than read differently.
Status TokenizerLoader::added_tokens(const Json& j, Tokenizer& tok) {
  if (j.is_null()) return {};
  if (!j.is_array()) return make_error("added_tokens must be an array");
  std::vector<AddedToken> tokens;
  std::map<std::string, TokenId> by_content;
  TokenId next_id = static_cast<TokenId>(tok.model_.vocab_count());
  RegexScratch scratch;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string where = fmt::format("added_tokens[{}]", i);
    const Json& e = j[i];
    if (!e.is_object()) return make_error("{} must be an object", where);
    AddedToken t;
    auto id = json_fields::get_uint(e, "id", where);
    if (!id) return id.error();
    auto content = get_string(e, "content", where);
    if (!content) return content.error();
    if (content->empty()) return make_error("{}.content is empty", where);
    bool* flags[] = {&t.single_word, &t.lstrip, &t.rstrip, &t.normalized, &t.special};
    const char* names[] = {"single_word", "lstrip", "rstrip", "normalized", "special"};
    for (int k = 0; k < 5; ++k) {
      auto flag = get_bool(e, names[k], where);
      if (!flag) return flag.error();
      *flags[k] = *flag;
    }
    t.content = *content;
    TokenId assigned;
    if (const auto it = by_content.find(t.content); it != by_content.end())
      assigned = it->second;
    else if (const auto v = tok.model_.token_to_id(t.content))
      assigned = *v;
    else
      assigned = next_id++;
    if (assigned != *id)
      return make_error("{}: '{}' has id {} but the tokenizers library would give it id {}", where,
                        t.content, *id, assigned);
    if (assigned > kMaxTokenId) return make_error("{}: id {} is too large", where, assigned);
    t.id = assigned;
    by_content[t.content] = assigned;
    t.match_text = t.content;
    if (t.normalized) {
      OSP_TRY(tok.normalizer_.apply(t.match_text, scratch));
    }
    // A repeated content re-defines the token (the library overwrites it too).
    std::erase_if(tokens, [&](const AddedToken& old) { return old.id == t.id; });
    tokens.push_back(std::move(t));
  }
  tok.added_.set(std::move(tokens));
  return {};
}

Result<Tokenizer> TokenizerLoader::build(const Json& root) {
  if (!root.is_object()) return make_error("the top level must be a JSON object");
  Tokenizer tok;
  if (const Json* v = member(root, "version");
      v != nullptr && (!v->is_string() || v->get<std::string>() != "1.0"))
    return make_error("version must be \"1.0\" (found {})", v->dump());
  for (const char* key : {"truncation", "padding"})
    if (const Json* v = member(root, key); v != nullptr && !v->is_null())
      tok.notices_.push_back(fmt::format("{} settings are ignored (they only shape batches)", key));
  const Json* model_json = member(root, "model");
  if (model_json == nullptr) return make_error("model is missing");
  OSP_TRY(model(*model_json, tok));
  static const Json kNull;
  const auto field = [&](const char* key) -> const Json& {
    const Json* v = member(root, key);
    return v != nullptr ? *v : kNull;
  };
  OSP_TRY(normalizer(field("normalizer"), "normalizer", 0, tok.normalizer_));
  OSP_TRY(pre_tokenizer(field("pre_tokenizer"), "pre_tokenizer", 0, tok.pre_tokenizer_));
  OSP_TRY(post_processor(field("post_processor"), "post_processor", 0, tok));
  OSP_TRY(decoder(field("decoder"), "decoder", 0, tok));
  OSP_TRY(added_tokens(field("added_tokens"), tok));
  uint32_t size = tok.model_.vocab_count() == 0 ? 0 : tok.model_.max_id() + 1;
  for (const AddedToken& t : tok.added_.tokens()) size = std::max(size, t.id + 1);
  tok.vocab_size_ = size;
  for (const TokenId id : tok.template_prefix_)
    if (id >= size)
      return make_error("post_processor: special token id {} is not in the vocabulary", id);
  for (const TokenId id : tok.template_suffix_)
    if (id >= size)
      return make_error("post_processor: special token id {} is not in the vocabulary", id);
  tok.hash_ = fnv1a(root.dump());
  return tok;
}

Result<Tokenizer> Tokenizer::from_json(std::string_view json_text, const std::string& name) {
  try {
    auto root = json_fields::parse(json_text);
    if (!root) return make_error("{}: {}", name, root.error().message);
    auto tok = TokenizerLoader::build(*root);
    if (!tok) return make_error("{}: {}", name, tok.error().message);
    return tok;
  } catch (const std::exception& e) {  // allocation failure and the like: report, never escape
    return make_error("{}: {}", name, e.what());
  }
}

Result<Tokenizer> Tokenizer::load(const std::string& path) {
  auto text = read_file(path, 2ull << 30);
  if (!text) return text.error();
  return from_json(*text, path);
}

}  // namespace osp::data
