// Byte-level BPE training: count the pre-tokenized pieces of a corpus (multithreaded), then learn
// merges until the vocabulary has the requested size, and write a tokenizer.json that the
// tokenizers library loads and encodes exactly as osp does (formats.md §4.10).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "data/bpe_model.h"
#include "data/pre_tokenizer.h"

namespace osp::data {

// How training text is cut into pieces (and how the saved tokenizer pre-tokenizes):
//   gpt2:   ByteLevel with the GPT-2 regex
//   smollm: Digits (each digit alone), then ByteLevel with the GPT-2 regex (SmolLM's tokenizer)
//   llama3: Split with the Llama-3 regex, then ByteLevel without regex; ignore_merges
enum class PreTokenizerStyle { kGpt2, kSmolLm, kLlama3 };
std::string_view style_name(PreTokenizerStyle style);
Result<PreTokenizerStyle> parse_style(std::string_view name);
PreTokenizer make_pre_tokenizer(PreTokenizerStyle style);

// Piece -> occurrence count over a corpus. Pieces are raw bytes (the byte-level mapping is left
// to the end, see PreTokenizer::output_is_raw_bytes).
class PieceCounter {
 public:
  explicit PieceCounter(PreTokenizerStyle style);

  // Counts the pieces of each document with up to `threads` threads. Documents longer than
  // 1 MiB are cut at line starts ("\n" then a letter), where both built-in regexes cut anyway.
  Status add(const std::vector<std::string>& documents, int threads);

  const std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>>& counts() const {
    return counts_;
  }
  uint64_t total_pieces() const { return total_; }

 private:
  PreTokenizer pre_tokenizer_;
  std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>> counts_;
  uint64_t total_ = 0;
};

struct BpeTrainerOptions {
  uint32_t vocab_size = 8192;  // including the special tokens and the 256 byte tokens
  uint64_t min_frequency = 2;  // pairs seen fewer times are never merged
  std::vector<std::string> special_tokens = {"<|endoftext|>"};
  PreTokenizerStyle style = PreTokenizerStyle::kSmolLm;
  // Called now and then with (merges done, merges wanted).
  std::function<void(size_t, size_t)> progress;
};

// The learned vocabulary: ids 0.. are the special tokens, then the 256 bytes, then merges.
struct TrainedBpe {
  std::vector<std::string> special_tokens;
  std::vector<std::string> token_bytes;             // raw bytes of each non-special token, by id
  std::vector<std::pair<TokenId, TokenId>> merges;  // in rank order
  PreTokenizerStyle style = PreTokenizerStyle::kSmolLm;
};

Result<TrainedBpe> train_bpe(const PieceCounter& counter, const BpeTrainerOptions& options);

// tokenizer.json text of a trained model (merges in the pair form, formats.md §4.6).
std::string trained_tokenizer_json(const TrainedBpe& trained);

}  // namespace osp::data
