// The BPE model of tokenizer.json (formats.md §4.6): vocabulary, ranked merges, and the
// per-piece merge loop (lowest rank first, leftmost among equal ranks), as the tokenizers library
// does it, including unk_token/fuse_unk, byte_fallback and ignore_merges.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.h"
#include "data/added_vocabulary.h"
#include "data/pair_map.h"

namespace osp::data {

// Ids above this are refused: osp keeps id -> token tables as flat arrays.
inline constexpr TokenId kMaxTokenId = (1u << 24) - 1;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringIdMap = std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>>;

struct BpeOptions {
  std::optional<std::string> unk_token;
  bool fuse_unk = false;
  bool ignore_merges = false;
  // A character missing from the vocab becomes the "<0xNN>" tokens of its UTF-8 bytes when all
  // of them exist (else unk_token, or nothing).
  bool byte_fallback = false;
};

// Per-thread work area of the merge loop.
struct BpeScratch {
  struct Symbol {
    TokenId id;
    int32_t prev, next;
    bool alive;
  };
  std::vector<Symbol> symbols;
  std::vector<std::pair<uint64_t, uint32_t>> heap;  // (rank << 32 | position, merged id)
  size_t dropped = 0;  // characters without a vocab entry and no unk_token (silently dropped)
};

class BpeModel {
 public:
  // merges are (left, right) token strings in rank order. Fails, naming the entry, when a merge
  // refers to a string that is not in the vocab or the unk token is missing from it.
  static Result<BpeModel> create(StringIdMap vocab,
                                 const std::vector<std::pair<std::string, std::string>>& merges,
                                 BpeOptions options);

  // Encodes one pre-tokenized piece, appending ids. raw_bytes: the piece holds raw bytes whose
  // byte-level characters (byte_level.h) are the symbols.
  void encode_piece(std::string_view piece, bool raw_bytes, std::vector<TokenId>& out,
                    BpeScratch& scratch) const;

  std::optional<TokenId> token_to_id(std::string_view token) const;
  // The token string of id, or nullptr.
  const std::string* id_to_token(TokenId id) const;
  size_t vocab_count() const { return vocab_.size(); }
  TokenId max_id() const { return static_cast<TokenId>(id_to_token_.size()) - 1; }
  size_t merge_count() const { return merges_.size(); }
  // The merges as written in the file, (left id, right id) in rank order, repeats included.
  const std::vector<std::pair<TokenId, TokenId>>& merge_list() const { return merge_list_; }
  const BpeOptions& options() const { return options_; }

 private:
  struct Merge {
    uint32_t rank;
    TokenId merged;
  };
  void add_symbol(TokenId id, BpeScratch& scratch) const;
  void merge_symbols(BpeScratch& scratch) const;
  // Adds the byte-fallback tokens of a missing character (its UTF-8 bytes); false when
  // byte_fallback is off or one of them is not in the vocab.
  bool add_fallback(std::string_view character, BpeScratch& scratch) const;

  StringIdMap vocab_;
  std::vector<std::string> id_to_token_;
  std::vector<bool> has_id_;
  PairMap<Merge> merges_;
  std::vector<std::pair<TokenId, TokenId>> merge_list_;
  std::array<int64_t, 256> fallback_ids_{};  // id of "<0xNN>" for each byte, or -1
  std::array<int64_t, 256> byte_ids_{};  // id of each byte's byte-level character, or -1
  StringIdMap raw_vocab_;                // raw-byte spelling of tokens, for ignore_merges
  std::optional<TokenId> unk_id_;
  BpeOptions options_;
};

}  // namespace osp::data
