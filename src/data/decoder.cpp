// Decoder steps (see decoder.h), each written after the tokenizers library's decoders/*.rs.
#include "data/decoder.h"

#include <algorithm>

#include "data/byte_level.h"
#include "data/utf8.h"

namespace osp::data {
namespace {

using Tokens = std::vector<std::string>;

std::vector<char32_t> code_points(std::string_view text) {
  std::vector<char32_t> cps;
  for (size_t i = 0; i < text.size();) {
    char32_t cp;
    const int len = utf8_decode(text, i, &cp);
    if (len <= 0) {  // cannot happen for token strings (valid UTF-8); never loop forever
      ++i;
      continue;
    }
    cps.push_back(cp);
    i += static_cast<size_t>(len);
  }
  return cps;
}

// Every token's characters back to bytes (or the token's own UTF-8 when a character is outside
// the byte map), all tokens fused into one string, ill-formed UTF-8 repaired.
Tokens byte_level(const Tokens& tokens) {
  std::string bytes;
  for (const std::string& token : tokens) {
    const size_t mark = bytes.size();
    if (!byte_level_to_bytes(token, bytes)) {
      bytes.resize(mark);
      bytes.append(token);
    }
  }
  return {utf8_repair(bytes)};
}

// "<0xNN>" as Rust's u8::from_str_radix(&token[3..5], 16) reads it (which takes a leading '+').
int fallback_byte(std::string_view token) {
  if (token.size() != 6 || !token.starts_with("<0x") || token.back() != '>') return -1;
  const auto hex = [](char c) {
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  };
  const int hi = token[3] == '+' ? 0 : hex(token[3]), lo = hex(token[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// Runs of byte tokens become their UTF-8 text, or one U+FFFD per byte when it is not valid.
Tokens byte_fallback(const Tokens& tokens) {
  Tokens out;
  std::string run;
  const auto flush = [&] {
    if (run.empty()) return;
    if (utf8_first_invalid(run) == std::string_view::npos)
      out.push_back(run);
    else
      out.insert(out.end(), run.size(), "\xEF\xBF\xBD");
    run.clear();
  };
  for (const std::string& token : tokens) {
    if (const int b = fallback_byte(token); b >= 0) {
      run.push_back(static_cast<char>(b));
      continue;
    }
    flush();
    out.push_back(token);
  }
  flush();
  return out;
}

// Up to `start` leading and `stop` trailing copies of the character are cut. Where the library
// would panic (both ends cut past each other) the token becomes empty.
void strip(std::string& token, const DecoderStep& step) {
  const std::vector<char32_t> cps = code_points(token);
  size_t begin = 0, end = cps.size();
  for (size_t i = 0; i < std::min(step.start, cps.size()) && cps[i] == step.character; ++i)
    begin = i + 1;
  for (size_t i = 0; i < std::min(step.stop, cps.size()) && cps[cps.size() - i - 1] == step.character; ++i)
    end = cps.size() - i - 1;
  std::string out;
  for (size_t i = begin; i < end; ++i) utf8_append(out, cps[i]);
  token = std::move(out);
}

// The replacement becomes a space, except in the first token, where every replacement is dropped
// unless the prepend scheme is "never".
void metaspace(Tokens& tokens, const DecoderStep& step) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string out;
    for (const char32_t cp : code_points(tokens[i])) {
      if (cp != step.character)
        utf8_append(out, cp);
      else if (i != 0 || !step.first_drops_meta)
        out.push_back(' ');
    }
    tokens[i] = std::move(out);
  }
}

}  // namespace

std::string Decoder::decode(Tokens tokens) const {
  if (!present_) {
    std::string joined;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) joined.push_back(' ');
      joined.append(tokens[i]);
    }
    return joined;
  }
  RegexScratch scratch;
  for (const DecoderStep& step : steps_) {
    switch (step.kind) {
      case DecoderStep::Kind::kByteLevel:
        tokens = byte_level(tokens);
        break;
      case DecoderStep::Kind::kByteFallback:
        tokens = byte_fallback(tokens);
        break;
      case DecoderStep::Kind::kFuse: {
        std::string fused;
        for (const std::string& t : tokens) fused += t;
        tokens.assign(1, std::move(fused));
        break;
      }
      case DecoderStep::Kind::kStrip:
        for (std::string& t : tokens) strip(t, step);
        break;
      case DecoderStep::Kind::kReplace:
        // Token strings are valid UTF-8, so only PCRE2's match limits could fail; such a token
        // is left as it is.
        for (std::string& t : tokens) (void)step.pattern.replace_all(t, step.content, scratch);
        break;
      case DecoderStep::Kind::kMetaspace:
        metaspace(tokens, step);
        break;
    }
  }
  std::string text;
  for (const std::string& t : tokens) text += t;
  return text;
}

}  // namespace osp::data
