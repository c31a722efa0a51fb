// Tokenizer resolution for model commands (see model_tokenizer.h).
#include "cli/model_tokenizer.h"

#include <fmt/format.h>

#include "eval/eval_data.h"
#include "io/file_kind.h"
#include "io/gguf_reader.h"
#include "io/gguf_tokenizer.h"
#include "io/tokenizer_vocab.h"

namespace osp::cli {

namespace fs = std::filesystem;

Result<TokenizerText> tokenizer_text_of_file(const fs::path& file) {
  const io::FileKind kind = io::sniff_file_kind(file);
  if (kind == io::FileKind::kJson) {
    auto text = io::read_text_file(file);
    if (!text) return text.error();
    return TokenizerText{std::move(*text), file.string()};
  }
  if (kind == io::FileKind::kGguf) {
    auto r = io::GgufReader::open(file);
    if (!r) return r.error();
    if (!io::gguf_has_tokenizer(*r)) return make_error("{}: this GGUF has no tokenizer (no tokenizer.ggml.model)", file.string());
    auto json = io::gguf_tokenizer_json(*r);
    if (!json) return json.error();
    return TokenizerText{std::move(*json), file.string()};
  }
  return make_error("{}: is {}, not a tokenizer (osp reads tokenizer.json and GGUF files)", file.string(),
                    io::file_kind_name(kind));
}

Result<data::Tokenizer> load_tokenizer_file(const fs::path& file) {
  auto t = tokenizer_text_of_file(file);
  if (!t) return t.error();
  return data::Tokenizer::from_json(t->json, t->source);
}

Result<std::optional<TokenizerText>> find_model_tokenizer(const fs::path& model_path, const io::LoadedModel& m,
                                                          const std::string& tokenizer_option) {
  using Found = std::optional<TokenizerText>;
  if (!tokenizer_option.empty()) {
    auto t = tokenizer_text_of_file(tokenizer_option);
    if (!t) return t.error();
    return Found(std::move(*t));
  }
  if (!m.tokenizer_json.empty()) {
    fmt::print(stderr, "tokenizer: the one that came with {} (--tokenizer overrides)\n", m.file.string());
    return Found(TokenizerText{m.tokenizer_json, m.file.string()});
  }
  fs::path file = m.tokenizer_file;
  if (file.empty())
    if (auto found = io::find_training_tokenizer(model_path)) file = *found;
  if (file.empty()) return Found();
  fmt::print(stderr, "tokenizer: {} (found with the model; --tokenizer overrides)\n", file.string());
  auto t = tokenizer_text_of_file(file);
  if (!t) return t.error();
  return Found(std::move(*t));
}

Result<data::Tokenizer> tokenizer_for_model(const fs::path& model_path, const io::LoadedModel& m,
                                            const std::string& tokenizer_option) {
  auto t = find_model_tokenizer(model_path, m, tokenizer_option);
  if (!t) return t.error();
  if (!*t) return make_error("{}: no tokenizer came with this model; give one with --tokenizer", model_path.string());
  return data::Tokenizer::from_json((*t)->json, (*t)->source);
}

Result<std::vector<int32_t>> model_eval_tokens(const fs::path& model_path, const io::LoadedModel& m,
                                               const std::string& tokenizer_option, const std::string& data,
                                               const std::string& split, uint64_t max_tokens) {
  std::optional<data::Tokenizer> tok;
  std::error_code ec;
  if (!fs::is_directory(data, ec) && fs::exists(data, ec)) {
    auto t = tokenizer_for_model(model_path, m, tokenizer_option);
    if (!t) return t.error();
    tok = std::move(*t);
  }
  return eval::load_eval_tokens({data, split, tok ? &*tok : nullptr, max_tokens});
}

}  // namespace osp::cli
