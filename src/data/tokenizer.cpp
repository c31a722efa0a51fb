// Encoding and decoding (see tokenizer.h). The pipeline is the tokenizers library's:
// raw added tokens -> normalizer -> normalized added tokens -> pre-tokenizer -> BPE per piece ->
// post-processor (formats.md §4.10).
#include "data/tokenizer.h"

#include "data/utf8.h"

namespace osp::data {
namespace {

// Pieces longer than this are not cached (long runs are rare and would crowd the cache).
constexpr size_t kMaxCachedPiece = 256;
constexpr size_t kMaxCacheEntries = 1 << 16;

}  // namespace

Result<std::vector<TokenId>> Tokenizer::encode(std::string_view text,
                                               bool add_special_tokens) const {
  Encoder encoder(*this);
  std::vector<TokenId> ids;
  OSP_TRY(encoder.encode(text, ids, add_special_tokens));
  return ids;
}

std::optional<TokenId> Tokenizer::token_to_id(std::string_view token) const {
  if (const AddedToken* t = added_.find_content(token)) return t->id;
  return model_.token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(TokenId id) const {
  if (const AddedToken* t = added_.find_id(id)) return t->content;
  if (const std::string* s = model_.id_to_token(id)) return *s;
  return std::nullopt;
}

std::optional<TokenId> Tokenizer::eos_id() const {
  for (const char* name : {"<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>", "<|eos|>"}) {
    const AddedToken* t = added_.find_content(name);
    if (t != nullptr && t->special) return t->id;
  }
  return std::nullopt;
}

SpecialIds Tokenizer::special_ids() const {
  const auto named = [&](std::initializer_list<const char*> names) -> std::optional<TokenId> {
    for (const char* name : names) {
      const AddedToken* t = added_.find_content(name);
      if (t != nullptr && t->special) return t->id;
    }
    return std::nullopt;
  };
  SpecialIds ids;
  ids.add_bos = !template_prefix_.empty();
  ids.add_eos = !template_suffix_.empty();
  ids.bos = ids.add_bos ? std::optional(template_prefix_.front())
                        : named({"<s>", "<|begin_of_text|>", "<bos>"});
  ids.eos = ids.add_eos ? std::optional(template_suffix_.back()) : eos_id();
  ids.pad = named({"<pad>", "<|pad|>", "[PAD]"});
  if (const auto& unk = model_.options().unk_token) ids.unk = model_.token_to_id(*unk);
  return ids;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const TokenId id : ids) {
    std::string_view token;
    if (const AddedToken* t = added_.find_id(id)) {
      // Its content, as written in the file, even for a normalized token (tokenizers <= 0.23;
      // newer releases plan to decode the normalized form).
      token = t->content;
    } else if (const std::string* s = model_.id_to_token(id)) {
      token = *s;
    } else {
      continue;
    }
    if (skip_special_tokens && added_.is_special(token)) continue;
    tokens.emplace_back(token);
  }
  return decoder_.decode(std::move(tokens));
}

Encoder::Encoder(const Tokenizer& tokenizer, bool special_tokens_as_text)
    : tok_(&tokenizer), special_as_text_(special_tokens_as_text) {}

void Encoder::encode_piece(std::string_view piece, std::vector<TokenId>& out) {
  const bool raw = tok_->pre_tokenizer_.output_is_raw_bytes();
  if (piece.size() > kMaxCachedPiece) {
    tok_->model_.encode_piece(piece, raw, out, bpe_);
    return;
  }
  if (const auto it = cache_.find(piece); it != cache_.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  const size_t first = out.size();
  const size_t dropped_before = bpe_.dropped;
  tok_->model_.encode_piece(piece, raw, out, bpe_);
  if (bpe_.dropped != dropped_before) return;  // keep the drop count exact: do not cache these
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_.emplace(std::string(piece), std::vector<TokenId>(out.begin() + first, out.end()));
}

Status Encoder::encode_plain(std::string_view text, bool at_origin, std::vector<TokenId>& out) {
  pieces_.clear();
  OSP_TRY(tok_->pre_tokenizer_.split(text, pieces_, pre_, at_origin));
  for (size_t i = 0; i < pieces_.size(); ++i) encode_piece(pieces_.piece(i), out);
  return {};
}

Status Encoder::encode(std::string_view text, std::vector<TokenId>& out, bool add_special_tokens) {
  if (text.size() >= (1ull << 32))
    return make_error("text of {} bytes is too long to encode (4 GiB at most)", text.size());
  if (const size_t bad = utf8_first_invalid(text); bad != std::string_view::npos)
    return make_error("text is not valid UTF-8 (byte {})", bad);
  if (add_special_tokens)
    out.insert(out.end(), tok_->template_prefix_.begin(), tok_->template_prefix_.end());
  const AddedVocabulary& added = tok_->added_;
  raw_segments_.clear();
  added.split(text, false, special_as_text_, raw_segments_, pre_.regex);
  for (const Segment& raw : raw_segments_) {
    if (raw.token >= 0) {
      out.push_back(static_cast<TokenId>(raw.token));
      continue;
    }
    std::string_view part = text.substr(raw.begin, raw.end - raw.begin);
    if (!tok_->normalizer_.empty()) {
      normalized_.assign(part);
      OSP_TRY(tok_->normalizer_.apply(normalized_, pre_.regex));
      part = normalized_;
    }
    const bool at_origin = raw.begin == 0;
    if (!added.has_tokens(true)) {
      OSP_TRY(encode_plain(part, at_origin, out));
      continue;
    }
    normalized_segments_.clear();
    added.split(part, true, special_as_text_, normalized_segments_, pre_.regex);
    for (const Segment& seg : normalized_segments_) {
      if (seg.token >= 0)
        out.push_back(static_cast<TokenId>(seg.token));
      else
        OSP_TRY(encode_plain(part.substr(seg.begin, seg.end - seg.begin),
                             at_origin && seg.begin == 0, out));
    }
  }
  if (add_special_tokens)
    out.insert(out.end(), tok_->template_suffix_.begin(), tok_->template_suffix_.end());
  return {};
}

}  // namespace osp::data
