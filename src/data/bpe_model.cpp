// BPE model (see bpe_model.h).
#include "data/bpe_model.h"

#include <fmt/format.h>

#include <algorithm>

#include "data/byte_level.h"
#include "data/utf8.h"

namespace osp::data {

Result<BpeModel> BpeModel::create(StringIdMap vocab,
                                  const std::vector<std::pair<std::string, std::string>>& merges,
                                  BpeOptions options) {
  BpeModel model;
  TokenId max_id = 0;
  for (const auto& [token, id] : vocab) {
    if (id > kMaxTokenId)
      return make_error("model.vocab: id {} of '{}' is too large (osp supports ids up to {})", id,
                        token, kMaxTokenId);
    max_id = std::max(max_id, id);
  }
  model.id_to_token_.assign(vocab.empty() ? 0 : max_id + 1, std::string());
  model.has_id_.assign(model.id_to_token_.size(), false);
  for (const auto& [token, id] : vocab) {
    if (model.has_id_[id])
      return make_error("model.vocab: id {} is given to both '{}' and '{}'", id,
                        model.id_to_token_[id], token);
    model.has_id_[id] = true;
    model.id_to_token_[id] = token;
  }
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const auto l = vocab.find(left), r = vocab.find(right);
    const auto m = vocab.find(left + right);
    if (left.empty() || right.empty() || l == vocab.end() || r == vocab.end() || m == vocab.end())
      return make_error("model.merges[{}]: merge '{}' + '{}' refers to {} that is not in the vocab",
                        rank, left, right,
                        left.empty() || right.empty() ? "an empty string"
                        : l == vocab.end()            ? "'" + left + "'"
                        : r == vocab.end()            ? "'" + right + "'"
                                                      : "'" + left + right + "'");
    // A repeated pair keeps its last rank, as in the tokenizers library's merge map.
    model.merges_.insert(pack_pair(l->second, r->second),
                         Merge{static_cast<uint32_t>(rank), m->second});
    model.merge_list_.emplace_back(l->second, r->second);
  }
  for (int b = 0; b < 256; ++b) {
    // The library's format!("<{b:#04X}>"): "<0x" then two upper-case hex digits.
    const auto it = vocab.find(fmt::format("<0x{:02X}>", b));
    model.fallback_ids_[b] = it == vocab.end() ? -1 : static_cast<int64_t>(it->second);
  }
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    utf8_append(ch, byte_to_char(static_cast<uint8_t>(b)));
    const auto it = vocab.find(ch);
    model.byte_ids_[b] = it == vocab.end() ? -1 : static_cast<int64_t>(it->second);
  }
  if (options.ignore_merges) {
    std::string raw;
    for (const auto& [token, id] : vocab) {
      raw.clear();
      if (byte_level_to_bytes(token, raw)) model.raw_vocab_.emplace(raw, id);
    }
  }
  if (options.unk_token) {
    const auto it = vocab.find(*options.unk_token);
    if (it == vocab.end())
      return make_error("model.unk_token '{}' is not in the vocab", *options.unk_token);
    model.unk_id_ = it->second;
  }
  model.vocab_ = std::move(vocab);
  model.options_ = std::move(options);
  return model;
}

std::optional<TokenId> BpeModel::token_to_id(std::string_view token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(TokenId id) const {
  if (id >= id_to_token_.size() || !has_id_[id]) return nullptr;
  return &id_to_token_[id];
}

void BpeModel::add_symbol(TokenId id, BpeScratch& scratch) const {
  const auto n = static_cast<int32_t>(scratch.symbols.size());
  scratch.symbols.push_back({id, n - 1, n + 1, true});
}

// Repeatedly merges the adjacent pair of lowest rank, leftmost first, using a min-heap of
// (rank, position) candidates that are re-validated when popped.
void BpeModel::merge_symbols(BpeScratch& scratch) const {
  auto& sym = scratch.symbols;
  if (sym.size() < 2) return;
  sym.back().next = -1;
  auto& heap = scratch.heap;
  heap.clear();
  const auto greater = [](const auto& a, const auto& b) { return a.first > b.first; };
  const auto push_candidate = [&](int32_t pos) {
    const int32_t next = sym[pos].next;
    if (next < 0) return;
    if (const Merge* m = merges_.find(pack_pair(sym[pos].id, sym[next].id))) {
      heap.emplace_back((static_cast<uint64_t>(m->rank) << 32) | static_cast<uint32_t>(pos),
                        m->merged);
      std::push_heap(heap.begin(), heap.end(), greater);
    }
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(sym.size()); ++i) push_candidate(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), greater);
    const auto [key, merged] = heap.back();
    heap.pop_back();
    const auto pos = static_cast<int32_t>(key & 0xffffffffu);
    const auto rank = static_cast<uint32_t>(key >> 32);
    if (!sym[pos].alive || sym[pos].next < 0) continue;
    const int32_t next = sym[pos].next;
    const Merge* m = merges_.find(pack_pair(sym[pos].id, sym[next].id));
    if (m == nullptr || m->rank != rank) continue;  // stale: a neighbour changed since the push
    sym[pos].id = merged;
    sym[pos].next = sym[next].next;
    sym[next].alive = false;
    if (sym[pos].next >= 0) sym[sym[pos].next].prev = pos;
    if (sym[pos].prev >= 0) push_candidate(sym[pos].prev);
    push_candidate(pos);
  }
}

bool BpeModel::add_fallback(std::string_view character, BpeScratch& scratch) const {
  if (!options_.byte_fallback) return false;
  for (const char c : character)
    if (fallback_ids_[static_cast<uint8_t>(c)] < 0) return false;
  for (const char c : character)
    add_symbol(static_cast<TokenId>(fallback_ids_[static_cast<uint8_t>(c)]), scratch);
  return true;
}

void BpeModel::encode_piece(std::string_view piece, bool raw_bytes, std::vector<TokenId>& out,
                            BpeScratch& scratch) const {
  if (piece.empty()) return;
  if (options_.ignore_merges) {
    const StringIdMap& whole = raw_bytes ? raw_vocab_ : vocab_;
    if (const auto it = whole.find(piece); it != whole.end()) {
      out.push_back(it->second);
      return;
    }
  }
  scratch.symbols.clear();
  // A pending unknown: consecutive unknowns fuse into one when fuse_unk is set.
  bool pending_unk = false;
  const auto flush_unk = [&] {
    if (pending_unk) add_symbol(*unk_id_, scratch);
    pending_unk = false;
  };
  const auto unknown = [&] {
    if (!unk_id_) {
      ++scratch.dropped;
      return;
    }
    if (pending_unk && !options_.fuse_unk) add_symbol(*unk_id_, scratch);
    pending_unk = true;
  };
  // A byte-fallback hit leaves a pending unknown pending, as the library does.
  if (raw_bytes) {
    std::string ch;
    for (const char c : piece) {
      const int64_t id = byte_ids_[static_cast<uint8_t>(c)];
      if (id < 0) {
        // The missing symbol is the byte's character: its UTF-8 bytes are the fallback.
        ch.clear();
        utf8_append(ch, byte_to_char(static_cast<uint8_t>(c)));
        if (!add_fallback(ch, scratch)) unknown();
        continue;
      }
      flush_unk();
      add_symbol(static_cast<TokenId>(id), scratch);
    }
  } else {
    for (size_t i = 0; i < piece.size();) {
      const size_t len = static_cast<size_t>(utf8_length_from_lead(static_cast<uint8_t>(piece[i])));
      const std::string_view ch = piece.substr(i, len);
      const auto it = vocab_.find(ch);
      i += len;
      if (it == vocab_.end()) {
        if (!add_fallback(ch, scratch)) unknown();
        continue;
      }
      flush_unk();
      add_symbol(it->second, scratch);
    }
  }
  flush_unk();
  merge_symbols(scratch);
  for (const auto& s : scratch.symbols)
    if (s.alive) out.push_back(s.id);
}

}  // namespace osp::data
