// Added-token matching (see added_vocabulary.h).
#include "data/added_vocabulary.h"

#include <algorithm>

#include "data/utf8.h"

namespace osp::data {

AddedVocabulary::AddedVocabulary() {
  // The tokenizers library tests word boundaries with the regex crate's \w: Alphabetic, marks,
  // decimal numbers, connector punctuation and the two joiners.
  word_char_ = Regex::compile(R"([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}])").value();
}

void AddedVocabulary::set(std::vector<AddedToken> tokens) {
  tokens_ = std::move(tokens);
  by_id_.clear();
  by_content_.clear();
  special_.clear();
  for (MatchSet& set : sets_) {
    set.patterns.clear();
    for (auto& bucket : set.by_first) bucket.clear();
  }
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    by_id_[t.id] = i;
    by_content_[t.content] = i;
    if (t.special) special_.insert(t.content);
    const std::string& pattern = t.normalized ? t.match_text : t.content;
    if (pattern.empty()) continue;
    MatchSet& set = sets_[t.normalized ? 1 : 0];
    set.patterns.push_back(i);
    set.by_first[static_cast<uint8_t>(pattern[0])].push_back(i);
  }
  for (int n = 0; n < 2; ++n)
    for (auto& bucket : sets_[n].by_first)
      std::stable_sort(bucket.begin(), bucket.end(), [&](size_t a, size_t b) {
        const auto& ta = tokens_[a];
        const auto& tb = tokens_[b];
        return (n ? ta.match_text : ta.content).size() > (n ? tb.match_text : tb.content).size();
      });
}

const AddedToken* AddedVocabulary::find_id(TokenId id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocabulary::find_content(std::string_view content) const {
  const auto it = by_content_.find(std::string(content));
  return it == by_content_.end() ? nullptr : &tokens_[it->second];
}

bool AddedVocabulary::longest_match_at(const MatchSet& set, std::string_view text, size_t pos,
                                       size_t* token_index) const {
  const bool normalized = &set == &sets_[1];
  for (const size_t i : set.by_first[static_cast<uint8_t>(text[pos])]) {
    const std::string& pattern = normalized ? tokens_[i].match_text : tokens_[i].content;
    if (text.size() - pos >= pattern.size() && text.compare(pos, pattern.size(), pattern) == 0) {
      *token_index = i;
      return true;
    }
  }
  return false;
}

bool AddedVocabulary::ends_with_word(std::string_view text, RegexScratch& scratch) const {
  if (text.empty()) return false;
  size_t start = text.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return word_char_.matches_at_start(text.substr(start), scratch);
}

bool AddedVocabulary::starts_with_word(std::string_view text, RegexScratch& scratch) const {
  return !text.empty() && word_char_.matches_at_start(text, scratch);
}

void AddedVocabulary::split(std::string_view text, bool normalized, bool special_as_text,
                            std::vector<Segment>& out, RegexScratch& scratch) const {
  const MatchSet& set = sets_[normalized ? 1 : 0];
  const auto n = static_cast<uint32_t>(text.size());
  if (set.patterns.empty() || n == 0) {
    if (n > 0) out.push_back({0, n, -1});
    return;
  }
  uint32_t start_offset = 0;  // end of the last emitted segment
  size_t pos = 0;             // where the matcher resumes: the end of its last match
  while (pos < n) {
    size_t index;
    if (set.by_first[static_cast<uint8_t>(text[pos])].empty() ||
        !longest_match_at(set, text, pos, &index)) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[index];
    auto start = static_cast<uint32_t>(pos);
    auto stop = static_cast<uint32_t>(pos + (normalized ? token.match_text : token.content).size());
    pos = stop;
    if (special_as_text && token.special) continue;  // the matcher still moves past it
    if (token.single_word) {
      const bool space_before = start == 0 || !ends_with_word(text.substr(0, start), scratch);
      const bool space_after = stop == n || !starts_with_word(text.substr(stop), scratch);
      if (!space_before || !space_after) continue;
    }
    if (token.lstrip) {
      // Absorb the whitespace run before the token, but not text already emitted.
      uint32_t new_start = start;
      while (new_start > 0) {
        uint32_t k = new_start - 1;
        while (k > 0 && (static_cast<unsigned char>(text[k]) & 0xC0) == 0x80) --k;
        char32_t cp;
        utf8_decode(text, k, &cp);
        if (!is_white_space(cp)) break;
        new_start = k;
      }
      start = std::max(new_start, start_offset);
    }
    if (token.rstrip) {
      while (stop < n) {
        char32_t cp;
        const int len = utf8_decode(text, stop, &cp);
        if (len < 0 || !is_white_space(cp)) break;
        stop += static_cast<uint32_t>(len);
      }
    }
    if (start_offset < start) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, static_cast<int64_t>(token.id)});
    start_offset = stop;
  }
  if (start_offset != n) out.push_back({start_offset, n, -1});
}

}  // namespace osp::data
