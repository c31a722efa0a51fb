// Reading prepared token data for training and evaluation: a TokenDataset is one split (train or
// val) of a prepared directory, its shards memory-mapped and validated against the manifest; a
// WindowSampler draws (T+1)-token windows (inputs = window[0:T], targets = window[1:T+1]) at
// positions that depend only on (seed, window index), so any step of any rank can be recomputed
// on resume without saved loader state.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "data/manifest.h"
#include "data/shard.h"

namespace osp::data {

class TokenDataset {
 public:
  // dir holds manifest.json; split is "train" or "val". Every shard must match the manifest
  // (token count, vocabulary, width, tokenizer hash).
  static Result<TokenDataset> open(const std::string& dir, std::string_view split);

  uint64_t tokens() const { return total_; }
  const Manifest& manifest() const { return manifest_; }
  // Copies tokens [begin, begin + count) of the split's shards taken end to end.
  void read(uint64_t begin, uint64_t count, TokenId* out) const;

 private:
  Manifest manifest_;
  std::vector<ShardReader> shards_;
  std::vector<uint64_t> starts_;  // first token index of each shard
  uint64_t total_ = 0;
};

class WindowSampler {
 public:
  // window_tokens = T + 1. The dataset must hold at least window_tokens tokens.
  static Result<WindowSampler> create(const TokenDataset& data, uint64_t window_tokens,
                                      uint64_t seed);

  // Start of window k: uniform over all positions, from a hash of (seed, k).
  uint64_t start(uint64_t k) const;
  // Copies window k (window_tokens ids) into out.
  void window(uint64_t k, TokenId* out) const;
  uint64_t window_tokens() const { return window_tokens_; }

 private:
  const TokenDataset* data_ = nullptr;
  uint64_t window_tokens_ = 0;
  uint64_t seed_ = 0;
};

}  // namespace osp::data
