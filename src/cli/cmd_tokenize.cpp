// `osp tokenize` and `osp detokenize`: text to token ids and back with a tokenizer.json, a GGUF's
// tokenizer keys, or the tokenizer that came with a model (--model).
//   osp tokenize --tokenizer data/demo/tokenizer.json --input notes.txt --json
//   osp tokenize --model SmolLM2-135M-Instruct.Q4_1.gguf --input notes.txt
//   echo "15496 995" | osp detokenize --tokenizer data/demo/tokenizer.json
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_tokenizer.h"
#include "data/file_util.h"
#include "data/tokenizer.h"
#include "io/file_kind.h"

namespace osp::cli {
namespace {

using data::TokenId;

struct TokenizeOptions {
  std::string tokenizer, model;
  std::string input;  // empty: stdin
  bool json = false;
  bool jsonl = false;
  bool no_special = false;
  bool special_as_text = false;
  bool skip_special = false;
};

Result<std::string> read_input(const std::string& path) {
  if (!path.empty()) return data::read_file(path, 4ull << 30);
  std::string text;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), stdin)) > 0) text.append(buffer, n);
  if (std::ferror(stdin)) return make_error("stdin: read failed");
  return text;
}

std::string ids_text(const std::vector<TokenId>& ids, bool json) {
  return json ? fmt::format("[{}]", fmt::join(ids, ", ")) : fmt::format("{}", fmt::join(ids, " "));
}

// Splits text at '\n' (a final line without '\n' counts too).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Each line of a --jsonl input is a JSON string, or an object with a "text" string.
Result<std::string> jsonl_text(std::string_view line, size_t number) {
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("text") && j["text"].is_string())
    return j["text"].get<std::string>();
  return make_error("line {}: expected a JSON string or an object with a \"text\" string", number);
}

int fail(const std::string& message) {
  fmt::print(stderr, "osp: {}\n", message);
  return 1;
}

// --tokenizer FILE (tokenizer.json or GGUF), or the tokenizer of --model.
Result<data::Tokenizer> tokenizer_of(const TokenizeOptions& o) {
  if (o.tokenizer.empty() == o.model.empty()) return make_error("give exactly one of --tokenizer FILE and --model MODEL");
  if (!o.tokenizer.empty()) return load_tokenizer_file(o.tokenizer);
  if (io::sniff_file_kind(o.model) == io::FileKind::kGguf) return load_tokenizer_file(o.model);  // no need to decode weights
  auto m = io::load_model(o.model);
  if (!m) return m.error();
  return tokenizer_for_model(o.model, *m, "");
}

int run_tokenize(const TokenizeOptions& o) {
  auto tok = tokenizer_of(o);
  if (!tok) return fail(tok.error().message);
  for (const auto& notice : tok->notices())
    fmt::print(stderr, "osp: notice: {}: {}\n", o.tokenizer, notice);
  auto input = read_input(o.input);
  if (!input) return fail(input.error().message);
  const std::string source = o.input.empty() ? "stdin" : o.input;
  data::Encoder encoder(*tok, o.special_as_text);
  std::vector<TokenId> ids;
  std::string out;
  if (o.jsonl) {
    const auto lines = split_lines(*input);
    for (size_t number = 1; number <= lines.size(); ++number) {
      const std::string_view line = lines[number - 1];
      if (line.empty()) continue;
      auto text = jsonl_text(line, number);
      if (!text) return fail(fmt::format("{}: {}", source, text.error().message));
      ids.clear();
      if (auto st = encoder.encode(*text, ids, !o.no_special); !st)
        return fail(fmt::format("{}: line {}: {}", source, number, st.error().message));
      out += ids_text(ids, true) + "\n";
    }
  } else {
    if (auto st = encoder.encode(*input, ids, !o.no_special); !st)
      return fail(fmt::format("{}: {}", source, st.error().message));
    out = ids_text(ids, o.json) + "\n";
  }
  if (encoder.dropped_characters() > 0)
    fmt::print(stderr, "osp: warning: {} characters had no token and were dropped\n",
               encoder.dropped_characters());
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

// Ids separated by spaces, commas or newlines, optionally inside [ ].
Result<std::vector<TokenId>> parse_ids(std::string_view text, const data::Tokenizer& tok) {
  std::vector<TokenId> ids;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == ',' || c == '\n' || c == '\r' || c == '\t' || c == '[' || c == ']') {
      ++i;
      continue;
    }
    uint64_t value = 0;
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && value <= 0xffffffffull)
      value = value * 10 + static_cast<uint64_t>(text[i++] - '0');
    if (i == start)
      return make_error("unexpected character '{}' at byte {} (expected token ids)", c, i);
    if (value >= tok.vocab_size())
      return make_error("token id {} at byte {} is not below the vocabulary size {}", value, start,
                        tok.vocab_size());
    ids.push_back(static_cast<TokenId>(value));
  }
  return ids;
}

int run_detokenize(const TokenizeOptions& o) {
  auto tok = tokenizer_of(o);
  if (!tok) return fail(tok.error().message);
  auto input = read_input(o.input);
  if (!input) return fail(input.error().message);
  const std::string source = o.input.empty() ? "stdin" : o.input;
  std::string out;
  if (o.jsonl) {
    const auto lines = split_lines(*input);
    for (size_t number = 1; number <= lines.size(); ++number) {
      const std::string_view line = lines[number - 1];
      if (line.empty()) continue;
      auto ids = parse_ids(line, *tok);
      if (!ids) return fail(fmt::format("{}: line {}: {}", source, number, ids.error().message));
      out += nlohmann::json(tok->decode(*ids, o.skip_special)).dump() + "\n";
    }
  } else {
    auto ids = parse_ids(*input, *tok);
    if (!ids) return fail(fmt::format("{}: {}", source, ids.error().message));
    out = tok->decode(*ids, o.skip_special);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

void register_tokenize(CLI::App& app, CommandRun& run) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* tok = app.add_subcommand("tokenize", "Print the token ids of a text (a file or stdin)");
  tok->add_option("--tokenizer", o->tokenizer, "tokenizer.json or GGUF to use");
  tok->add_option("--model", o->model, "Use the tokenizer that came with this model (GGUF, HF folder, osp run)");
  tok->add_option("--input", o->input, "Text file to encode (default: stdin)");
  tok->add_flag("--json", o->json, "Print the ids as a JSON list");
  tok->add_flag(
      "--jsonl", o->jsonl,
      "Each input line is a JSON string (or {\"text\": ...}); print one JSON list per line");
  tok->add_flag("--no-special-tokens", o->no_special,
                "Do not add the post-processor's tokens (BOS etc.)");
  tok->add_flag("--special-tokens-as-text", o->special_as_text,
                "Encode special tokens' text like other text (as osp data prepare does)");
  tok->callback([o, &run] { run = [o] { return run_tokenize(*o); }; });

  CLI::App* detok =
      app.add_subcommand("detokenize", "Print the text of token ids (a file or stdin)");
  detok->add_option("--tokenizer", o->tokenizer, "tokenizer.json or GGUF to use");
  detok->add_option("--model", o->model, "Use the tokenizer that came with this model (GGUF, HF folder, osp run)");
  detok->add_option("--input", o->input,
                    "File of ids separated by spaces, commas or newlines (default: stdin)");
  detok->add_flag("--skip-special-tokens", o->skip_special, "Leave special tokens out of the text");
  detok->add_flag("--jsonl", o->jsonl,
                  "Each input line is a JSON list of ids; print one JSON string per line");
  detok->callback([o, &run] { run = [o] { return run_detokenize(*o); }; });
}

}  // namespace osp::cli
