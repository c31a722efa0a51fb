// BPE training (see bpe_trainer.h). Merges are learned with incremental pair counts: each pair
// keeps its count and the words it occurs in; a max-heap with lazy re-validation picks the most
// frequent pair (ties: smaller ids first, as the tokenizers library's trainer); merging updates
// only the words that contain the pair.
#include "data/bpe_trainer.h"

#include <algorithm>
#include <queue>
#include <unordered_set>

#include "data/byte_level.h"
#include "data/pair_map.h"
#include "data/parallel.h"

namespace osp::data {
namespace {

constexpr size_t kMaxChunkBytes = 1 << 20;

// Cuts a long document at line starts (a '\n' followed by an ASCII letter): both built-in
// regexes end a piece at such a '\n', so the pieces are the same as for the whole document.
std::vector<std::string_view> chunks_of(std::string_view doc) {
  std::vector<std::string_view> out;
  while (doc.size() > kMaxChunkBytes) {
    size_t cut = std::string_view::npos;
    for (size_t i = kMaxChunkBytes; i + 1 < doc.size(); ++i) {
      const char next = doc[i + 1];
      if (doc[i] == '\n' && ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z'))) {
        cut = i + 1;
        break;
      }
    }
    if (cut == std::string_view::npos) break;
    out.push_back(doc.substr(0, cut));
    doc.remove_prefix(cut);
  }
  out.push_back(doc);
  return out;
}

struct PairStat {
  int64_t count = 0;
  std::vector<uint32_t> words;  // words that contained the pair when it was counted (may be stale)
};

struct HeapEntry {
  int64_t count;
  uint64_t pair;
  bool operator<(const HeapEntry& o) const {
    return count != o.count ? count < o.count : pair > o.pair;  // max count, then min pair
  }
};

}  // namespace

std::string_view style_name(PreTokenizerStyle style) {
  switch (style) {
    case PreTokenizerStyle::kGpt2:
      return "gpt2";
    case PreTokenizerStyle::kSmolLm:
      return "smollm";
    case PreTokenizerStyle::kLlama3:
      return "llama3";
  }
  return "?";
}

Result<PreTokenizerStyle> parse_style(std::string_view name) {
  for (auto s : {PreTokenizerStyle::kGpt2, PreTokenizerStyle::kSmolLm, PreTokenizerStyle::kLlama3})
    if (style_name(s) == name) return s;
  return make_error("unknown pre-tokenizer style '{}' (use gpt2, smollm or llama3)", name);
}

PreTokenizer make_pre_tokenizer(PreTokenizerStyle style) {
  PreTokenizer pre;
  PreTokenizerStep byte_level;
  byte_level.kind = PreTokenizerStep::Kind::kByteLevel;
  byte_level.use_regex = style != PreTokenizerStyle::kLlama3;
  if (byte_level.use_regex) byte_level.regex = Regex::compile(kGpt2Pattern).value();
  if (style == PreTokenizerStyle::kSmolLm) {
    PreTokenizerStep digits;
    digits.regex = Regex::compile(R"(\p{N})").value();
    pre.add(std::move(digits));
  } else if (style == PreTokenizerStyle::kLlama3) {
    PreTokenizerStep split;
    split.regex = Regex::compile(kLlama3Pattern).value();
    pre.add(std::move(split));
  }
  pre.add(std::move(byte_level));
  return pre;
}

PieceCounter::PieceCounter(PreTokenizerStyle style) : pre_tokenizer_(make_pre_tokenizer(style)) {}

Status PieceCounter::add(const std::vector<std::string>& documents, int threads) {
  std::vector<std::string_view> chunks;
  for (const std::string& doc : documents)
    for (const std::string_view c : chunks_of(doc)) chunks.push_back(c);
  const int workers = std::max(1, std::min<int>(threads, static_cast<int>(chunks.size())));
  using Map = std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>>;
  std::vector<Map> maps(static_cast<size_t>(workers));
  std::vector<PreTokenizeScratch> scratch(static_cast<size_t>(workers));
  std::vector<Pieces> pieces(static_cast<size_t>(workers));
  std::vector<Status> status(static_cast<size_t>(workers));
  std::vector<uint64_t> totals(static_cast<size_t>(workers), 0);
  parallel_for(chunks.size(), workers, [&](size_t task, int w) {
    if (!status[w]) return;
    Pieces& p = pieces[w];
    p.clear();
    status[w] = pre_tokenizer_.split(chunks[task], p, scratch[w]);
    Map& map = maps[w];
    for (size_t i = 0; i < p.size(); ++i) {
      const std::string_view piece = p.piece(i);
      if (auto it = map.find(piece); it != map.end())
        ++it->second;
      else
        map.emplace(std::string(piece), 1);
    }
    totals[w] += p.size();
  });
  for (int w = 0; w < workers; ++w) {
    if (!status[w]) return status[w];
    total_ += totals[w];
    if (counts_.empty()) {
      counts_ = std::move(maps[w]);
      continue;
    }
    for (auto& [piece, n] : maps[w]) counts_[piece] += n;
  }
  return {};
}

namespace {

// The merge loop's state: words (distinct pieces as symbol ids, with counts), per-pair counts and
// occurrence lists, and the heap of candidate pairs.
class MergeLearner {
 public:
  MergeLearner(const PieceCounter& counter, const std::array<TokenId, 256>& byte_id) {
    words_.reserve(counter.counts().size());
    for (const auto& [piece, n] : counter.counts()) {
      std::vector<TokenId> w;
      w.reserve(piece.size());
      for (const char c : piece) w.push_back(byte_id[static_cast<uint8_t>(c)]);
      words_.push_back(std::move(w));
      word_count_.push_back(static_cast<int64_t>(n));
    }
    word_stamp_.assign(words_.size(), 0);
    for (uint32_t w = 0; w < words_.size(); ++w)
      for (size_t i = 0; i + 1 < words_[w].size(); ++i) {
        PairStat& s = stat_of(pack_pair(words_[w][i], words_[w][i + 1]));
        s.count += word_count_[w];
        if (s.words.empty() || s.words.back() != w) s.words.push_back(w);
      }
    for (uint32_t i = 0; i < stats_.size(); ++i) heap_.push({stats_[i].count, keys_[i]});
  }

  // The most frequent pair and its count; false when no pair is left.
  bool best(uint64_t* pair, int64_t* count) {
    while (!heap_.empty()) {
      const HeapEntry top = heap_.top();
      heap_.pop();
      const int64_t current = stats_[index_of(top.pair)].count;
      if (current == top.count && current > 0) {
        *pair = top.pair, *count = current;
        return true;
      }
      // Counts that fell since the push get a fresh entry; risen ones already have one.
      if (current > 0 && current < top.count) heap_.push({current, top.pair});
    }
    return false;
  }

  // Never merge this pair (its result would collide with a special token).
  void block(uint64_t pair) { stats_[index_of(pair)].count = 0; }

  // Replaces every occurrence of pair by `merged` and updates the counts of the pairs around.
  void apply(uint64_t pair, TokenId merged) {
    const auto left = static_cast<TokenId>(pair >> 32);
    const auto right = static_cast<TokenId>(pair & 0xffffffffu);
    ++stamp_;
    const std::vector<uint32_t> where = std::move(stats_[index_of(pair)].words);
    stats_[index_of(pair)].words.clear();
    grown_.clear();
    for (const uint32_t w : where) {
      if (word_stamp_[w] == stamp_) continue;  // listed twice
      word_stamp_[w] = stamp_;
      if (merge_word(w, left, right, merged)) update_counts(w);
    }
    std::sort(grown_.begin(), grown_.end());
    grown_.erase(std::unique(grown_.begin(), grown_.end()), grown_.end());
    for (const uint64_t p : grown_) heap_.push({stats_[index_of(p)].count, p});
  }

 private:
  uint32_t index_of(uint64_t pair) const {
    const uint32_t* i = index_.find(pair);
    OSP_CHECK(i != nullptr, "pair {:x} was never counted", pair);
    return *i;
  }
  PairStat& stat_of(uint64_t pair) {
    if (const uint32_t* i = index_.find(pair)) return stats_[*i];
    index_.insert(pair, static_cast<uint32_t>(stats_.size()));
    keys_.push_back(pair);
    stats_.emplace_back();
    return stats_.back();
  }

  // Writes the merged form of word w to merged_word_ (non-overlapping, left to right).
  bool merge_word(uint32_t w, TokenId left, TokenId right, TokenId merged) {
    const std::vector<TokenId>& word = words_[w];
    merged_word_.clear();
    bool changed = false;
    for (size_t i = 0; i < word.size(); ++i) {
      if (i + 1 < word.size() && word[i] == left && word[i + 1] == right) {
        merged_word_.push_back(merged);
        ++i;
        changed = true;
      } else {
        merged_word_.push_back(word[i]);
      }
    }
    return changed;
  }

  // Old pairs of word w out, new pairs (of merged_word_) in, netted per pair; the word becomes
  // merged_word_.
  void update_counts(uint32_t w) {
    std::vector<TokenId>& word = words_[w];
    delta_.clear();
    for (size_t i = 0; i + 1 < word.size(); ++i)
      delta_.emplace_back(pack_pair(word[i], word[i + 1]), -1);
    for (size_t i = 0; i + 1 < merged_word_.size(); ++i)
      delta_.emplace_back(pack_pair(merged_word_[i], merged_word_[i + 1]), +1);
    std::sort(delta_.begin(), delta_.end());
    for (size_t i = 0; i < delta_.size();) {
      int64_t net = 0;
      size_t j = i;
      for (; j < delta_.size() && delta_[j].first == delta_[i].first; ++j) net += delta_[j].second;
      if (net != 0) {
        PairStat& s = stat_of(delta_[i].first);
        s.count += net * word_count_[w];
        if (net > 0) {
          s.words.push_back(w);
          grown_.push_back(delta_[i].first);
        }
      }
      i = j;
    }
    word.swap(merged_word_);
  }

  std::vector<std::vector<TokenId>> words_;
  std::vector<int64_t> word_count_;
  std::vector<uint32_t> word_stamp_;
  uint32_t stamp_ = 0;
  PairMap<uint32_t> index_;  // pair -> index into stats_ and keys_
  std::vector<PairStat> stats_;
  std::vector<uint64_t> keys_;
  std::priority_queue<HeapEntry> heap_;
  std::vector<TokenId> merged_word_;
  std::vector<std::pair<uint64_t, int64_t>> delta_;
  std::vector<uint64_t> grown_;
};

}  // namespace

Result<TrainedBpe> train_bpe(const PieceCounter& counter, const BpeTrainerOptions& options) {
  TrainedBpe out;
  out.style = options.style;
  out.special_tokens = options.special_tokens;
  std::unordered_set<std::string> specials;
  for (const std::string& s : options.special_tokens) {
    if (s.empty()) return make_error("special tokens must not be empty");
    if (!specials.insert(s).second) return make_error("special token '{}' is given twice", s);
  }
  const auto n_special = static_cast<uint32_t>(specials.size());
  if (options.vocab_size < n_special + 256)
    return make_error("vocab size {} is too small: {} special tokens and 256 bytes need {}",
                      options.vocab_size, n_special, n_special + 256);
  if (options.vocab_size > kMaxTokenId)
    return make_error("vocab size {} is too large", options.vocab_size);

  // Byte tokens in the order of their byte-level characters (GPT-2's vocabulary order).
  std::vector<uint8_t> byte_order(256);
  for (int b = 0; b < 256; ++b) byte_order[b] = static_cast<uint8_t>(b);
  std::sort(byte_order.begin(), byte_order.end(),
            [](uint8_t a, uint8_t b) { return byte_to_char(a) < byte_to_char(b); });
  std::array<TokenId, 256> byte_id{};
  std::unordered_map<std::string, TokenId> id_of;  // raw bytes -> id, for repeated merge results
  for (uint32_t k = 0; k < 256; ++k) {
    byte_id[byte_order[k]] = n_special + k;
    out.token_bytes.emplace_back(1, static_cast<char>(byte_order[k]));
    id_of[out.token_bytes.back()] = n_special + k;
  }

  MergeLearner learner(counter, byte_id);
  const size_t merges_wanted = options.vocab_size - n_special - 256;
  const auto min_count = static_cast<int64_t>(std::max<uint64_t>(options.min_frequency, 1));
  uint64_t pair;
  int64_t count;
  while (out.token_bytes.size() + n_special < options.vocab_size && learner.best(&pair, &count) &&
         count >= min_count) {
    const auto left = static_cast<TokenId>(pair >> 32),
               right = static_cast<TokenId>(pair & 0xffffffffu);
    std::string joined = out.token_bytes[left - n_special] + out.token_bytes[right - n_special];
    std::string spelled;
    bytes_to_byte_level(joined, spelled);
    if (specials.count(spelled) > 0) {  // would collide with a special token's vocab entry
      learner.block(pair);
      continue;
    }
    TokenId merged;
    if (const auto it = id_of.find(joined); it != id_of.end()) {
      merged = it->second;  // the same bytes were already reached by another merge
    } else {
      merged = n_special + static_cast<TokenId>(out.token_bytes.size());
      id_of.emplace(joined, merged);
      out.token_bytes.push_back(std::move(joined));
    }
    out.merges.emplace_back(left, right);
    learner.apply(pair, merged);
    if (options.progress && out.merges.size() % 256 == 0)
      options.progress(out.merges.size(), merges_wanted);
  }
  if (options.progress) options.progress(out.merges.size(), merges_wanted);
  return out;
}

}  // namespace osp::data
