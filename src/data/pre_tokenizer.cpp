// Pre-tokenizers (see pre_tokenizer.h). The split behaviours follow the tokenizers library's
// NormalizedString::split, including how empty regex matches take part in merging.
#include "data/pre_tokenizer.h"

#include <algorithm>

#include "data/byte_level.h"

namespace osp::data {
namespace {

struct Cut {
  uint32_t begin, end;
  bool is_match;
};

// Turns matches into the alternating list of gaps and matches, applies the behaviour, and
// appends the kept, non-empty parts of piece to out. Returns whether the first part appended
// starts at offset 0 of piece.
bool apply_split(std::string_view piece, const std::vector<Span>& matches, SplitBehavior behavior,
                 bool invert, Pieces& out) {
  std::vector<Cut> cuts;
  cuts.reserve(matches.size() * 2 + 1);
  uint32_t prev = 0;
  for (const Span& m : matches) {
    if (prev != m.begin) cuts.push_back({prev, m.begin, false});
    cuts.push_back({m.begin, m.end, true});
    prev = m.end;
  }
  const auto n = static_cast<uint32_t>(piece.size());
  if (prev != n) cuts.push_back({prev, n, false});
  if (invert)
    for (Cut& c : cuts) c.is_match = !c.is_match;

  std::vector<Cut> kept;  // is_match now means "remove"
  kept.reserve(cuts.size());
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const Cut& c : cuts) kept.push_back({c.begin, c.end, false});
      break;
    case SplitBehavior::kRemoved:
      kept = cuts;
      break;
    case SplitBehavior::kContiguous:
      for (const Cut& c : cuts) {
        if (c.is_match == previous_match && !kept.empty())
          kept.back().end = c.end;
        else
          kept.push_back({c.begin, c.end, false});
        previous_match = c.is_match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Cut& c : cuts) {
        if (c.is_match && !previous_match && !kept.empty())
          kept.back().end = c.end;
        else
          kept.push_back({c.begin, c.end, false});
        previous_match = c.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (size_t k = cuts.size(); k-- > 0;) {
        const Cut& c = cuts[k];
        if (c.is_match && !previous_match && !kept.empty())
          kept.back().begin = c.begin;
        else
          kept.push_back({c.begin, c.end, false});
        previous_match = c.is_match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
  }
  bool first_at_zero = false, first = true;
  for (const Cut& c : kept)
    if (!c.is_match && c.end > c.begin) {
      if (first) first_at_zero = c.begin == 0;
      first = false;
      out.add(piece.substr(c.begin, c.end - c.begin));
    }
  return first_at_zero;
}

// Metaspace: spaces become the replacement, which the prepend scheme may put in front; then,
// with split, a new piece starts at every replacement.
Status metaspace(const PreTokenizerStep& step, std::string_view piece, bool at_origin,
                 Pieces& out, PreTokenizeScratch& scratch) {
  std::string& text = scratch.mapped;
  text.clear();
  // The library replaces first, then prepends unless the piece starts with the replacement.
  const bool scheme = step.prepend == PrependScheme::kAlways ||
                      (step.prepend == PrependScheme::kFirst && at_origin);
  if (scheme && !piece.starts_with(' ') && !piece.starts_with(step.replacement))
    text = step.replacement;
  for (const char c : piece) {
    if (c == ' ')
      text += step.replacement;
    else
      text.push_back(c);
  }
  if (!step.metaspace_split) {
    out.add(text);
    return {};
  }
  scratch.matches.clear();
  OSP_TRY(step.regex.find_all(text, scratch.regex, scratch.matches));
  apply_split(text, scratch.matches, SplitBehavior::kMergedWithNext, false, out);
  return {};
}

// at_origin: in's first piece starts at offset 0 of the input; on return, whether out's does.
Status apply_step(const PreTokenizerStep& step, bool map_bytes, const Pieces& in, Pieces& out,
                  PreTokenizeScratch& scratch, bool& at_origin) {
  out.clear();
  bool out_at_origin = false;
  for (size_t i = 0; i < in.size(); ++i) {
    std::string_view piece = in.piece(i);
    const bool piece_at_origin = i == 0 && at_origin;
    if (step.kind == PreTokenizerStep::Kind::kSplit) {
      scratch.matches.clear();
      OSP_TRY(step.regex.find_all(piece, scratch.regex, scratch.matches));
      const size_t before = out.size();
      const bool at_zero = apply_split(piece, scratch.matches, step.behavior, step.invert, out);
      if (before == 0 && out.size() > 0) out_at_origin = piece_at_origin && at_zero;
      continue;
    }
    if (out.size() == 0) out_at_origin = piece_at_origin;  // these never drop a piece's start
    if (step.kind == PreTokenizerStep::Kind::kMetaspace) {
      OSP_TRY(metaspace(step, piece, piece_at_origin, out, scratch));
      continue;
    }
    // ByteLevel: optional prefix space, optional GPT-2 split, then the byte mapping.
    std::string prefixed;
    if (step.add_prefix_space && piece.front() != ' ') {
      prefixed.reserve(piece.size() + 1);
      prefixed.push_back(' ');
      prefixed.append(piece);
      piece = prefixed;
    }
    const size_t first_new = out.size();
    if (step.use_regex) {
      scratch.matches.clear();
      OSP_TRY(step.regex.find_all(piece, scratch.regex, scratch.matches));
      apply_split(piece, scratch.matches, SplitBehavior::kIsolated, false, out);
    } else {
      out.add(piece);
    }
    if (!map_bytes) continue;
    // Mapping in the middle of the sequence: rewrite the new pieces as byte-level text.
    Pieces mapped;
    for (size_t k = first_new; k < out.size(); ++k) {
      scratch.mapped.clear();
      bytes_to_byte_level(out.piece(k), scratch.mapped);
      mapped.add(scratch.mapped);
    }
    out.text.resize(out.size() > first_new ? out.spans[first_new].begin : out.text.size());
    out.spans.resize(first_new);
    for (size_t k = 0; k < mapped.size(); ++k) out.add(mapped.piece(k));
  }
  at_origin = out_at_origin;
  return {};
}

}  // namespace

Status PreTokenizer::split(std::string_view text, Pieces& out, PreTokenizeScratch& scratch,
                          bool at_origin) const {
  if (text.empty()) return {};
  if (steps_.empty()) {
    out.add(text);
    return {};
  }
  Pieces current;
  current.add(text);
  for (size_t s = 0; s < steps_.size(); ++s) {
    const bool last = s + 1 == steps_.size();
    const bool map_bytes = !last;  // the last ByteLevel's mapping is left to the model
    OSP_TRY(apply_step(steps_[s], map_bytes, current, scratch.swap, scratch, at_origin));
    std::swap(current, scratch.swap);
  }
  for (size_t i = 0; i < current.size(); ++i) out.add(current.piece(i));
  return {};
}

}  // namespace osp::data
