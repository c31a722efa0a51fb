// The tokenizer a command uses, found the same way by every command, so that tokenize, eval,
// generate and export agree on it:
//   --tokenizer FILE        a tokenizer.json, or any GGUF's tokenizer.ggml.* keys (told by the
//                           file's first bytes);
//   else the model's own:   a GGUF's tokenizer keys, the tokenizer.json of a Hugging Face folder,
//                           or the tokenizer of an osp run's training data.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "data/tokenizer.h"
#include "io/model_file.h"

namespace osp::cli {

// A tokenizer as tokenizer.json text, and the file it came from (for messages).
struct TokenizerText {
  std::string json, source;
};

// The tokenizer.json text of a tokenizer.json or of a GGUF's tokenizer keys; errors name the file
// and what kind of file it is.
Result<TokenizerText> tokenizer_text_of_file(const std::filesystem::path& file);
// A tokenizer.json or a GGUF, parsed.
Result<data::Tokenizer> load_tokenizer_file(const std::filesystem::path& file);

// tokenizer_option: the command's --tokenizer (empty: not given). nullopt when neither it nor
// the model gives one. Prints where the tokenizer came from on stderr when it was not given.
Result<std::optional<TokenizerText>> find_model_tokenizer(const std::filesystem::path& model_path,
                                                          const io::LoadedModel& m, const std::string& tokenizer_option);
// The same, parsed; no tokenizer is an error that asks for --tokenizer.
Result<data::Tokenizer> tokenizer_for_model(const std::filesystem::path& model_path, const io::LoadedModel& m,
                                            const std::string& tokenizer_option);

// An evaluation token stream for a model command: a shards folder's split as stored, or a text
// file encoded (without BOS/EOS) with tokenizer_for_model's tokenizer, loaded only then.
Result<std::vector<int32_t>> model_eval_tokens(const std::filesystem::path& model_path, const io::LoadedModel& m,
                                               const std::string& tokenizer_option, const std::string& data,
                                               const std::string& split, uint64_t max_tokens);

}  // namespace osp::cli
