// Token dataset and window sampler (see token_loader.h).
#include "data/token_loader.h"

#include <algorithm>
#include <filesystem>

namespace osp::data {
namespace {

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

Result<TokenDataset> TokenDataset::open(const std::string& dir, std::string_view split) {
  if (split != "train" && split != "val")
    return make_error("split '{}' is not train or val", split);
  const std::filesystem::path base(dir);
  auto manifest = read_manifest((base / "manifest.json").string());
  if (!manifest) return manifest.error();
  TokenDataset ds;
  ds.manifest_ = std::move(*manifest);
  for (const ShardEntry& e : split == "train" ? ds.manifest_.train : ds.manifest_.val) {
    const std::string path = (base / e.file).string();
    auto shard = ShardReader::open(path);
    if (!shard) return shard.error();
    const ShardHeader& h = shard->header();
    if (h.token_count != e.tokens || h.document_count != e.documents)
      return make_error("{}: holds {} tokens in {} documents but manifest.json lists {} in {}",
                        path, h.token_count, h.document_count, e.tokens, e.documents);
    if (h.vocab_size != ds.manifest_.vocab_size || h.token_bits != ds.manifest_.token_bits ||
        h.tokenizer_hash != ds.manifest_.tokenizer_hash || h.eos_id != ds.manifest_.eos_id)
      return make_error(
          "{}: made with a different tokenizer than manifest.json says "
          "(vocab {}, hash {:016x}; manifest: vocab {}, hash {:016x})",
          path, h.vocab_size, h.tokenizer_hash, ds.manifest_.vocab_size,
          ds.manifest_.tokenizer_hash);
    ds.starts_.push_back(ds.total_);
    ds.total_ += h.token_count;
    ds.shards_.push_back(std::move(*shard));
  }
  return ds;
}

void TokenDataset::read(uint64_t begin, uint64_t count, TokenId* out) const {
  OSP_CHECK(begin <= total_ && count <= total_ - begin, "read [{}, {}) beyond {} tokens", begin,
            begin + count, total_);
  // The shard holding `begin`: the last one starting at or before it.
  size_t s = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), begin) -
                                 starts_.begin()) -
             1;
  while (count > 0) {
    const uint64_t offset = begin - starts_[s];
    const uint64_t n = std::min(count, shards_[s].size() - offset);
    shards_[s].copy(offset, n, out);
    out += n, begin += n, count -= n;
    ++s;
  }
}

Result<WindowSampler> WindowSampler::create(const TokenDataset& data, uint64_t window_tokens,
                                            uint64_t seed) {
  if (window_tokens < 2) return make_error("a window needs at least 2 tokens (T + 1 with T >= 1)");
  if (data.tokens() < window_tokens)
    return make_error("the split holds {} tokens, fewer than one window of {}", data.tokens(),
                      window_tokens);
  WindowSampler s;
  s.data_ = &data;
  s.window_tokens_ = window_tokens;
  s.seed_ = seed;
  return s;
}

uint64_t WindowSampler::start(uint64_t k) const {
  const uint64_t positions = data_->tokens() - window_tokens_ + 1;
  const uint64_t r = mix64(mix64(seed_ ^ 0x9e3779b97f4a7c15ull) + k);
  // Multiply-shift maps r to [0, positions) without modulo bias worth noticing (< 2^-32).
  return static_cast<uint64_t>((static_cast<unsigned __int128>(r) * positions) >> 64);
}

void WindowSampler::window(uint64_t k, TokenId* out) const {
  data_->read(start(k), window_tokens_, out);
}

}  // namespace osp::data
