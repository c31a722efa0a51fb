// Tokenizer encoding throughput: osp beside the Hugging Face tokenizers package, on the same
// documents and the same tokenizer.json, with 1 and 2 threads. The text is the demo corpus (King
// James Bible + Austen, built as `osp data prepare` does) or --input (JSON lines, "text" field);
// the tokenizers are trained by osp on that text (SmolLM and Llama-3 pre-tokenizers).
//   build/bench/bench_tokenizer [--input docs.jsonl] [--vocab 32768] [--repeats 3]
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/timer.h"
#include "core/atomic_file.h"
#include "data/bpe_trainer.h"
#include "data/demo_corpus.h"
#include "data/file_util.h"
#include "data/parallel.h"
#include "data/tokenizer.h"
#include "reference_run.h"

namespace {

using namespace osp;
using namespace osp::data;

struct Figures {
  double mb_per_s = 0;
  uint64_t tokens = 0;
};

Figures osp_throughput(const Tokenizer& tok, const std::vector<std::string>& docs, int threads,
                       int repeats, uint64_t bytes) {
  double best = 1e30;
  uint64_t tokens = 0;
  std::vector<std::unique_ptr<Encoder>> encoders;
  for (int t = 0; t < threads; ++t) encoders.push_back(std::make_unique<Encoder>(tok));
  std::vector<std::vector<TokenId>> ids(docs.size());
  for (int r = 0; r < repeats; ++r) {
    Timer timer;
    parallel_for(docs.size(), threads, [&](size_t d, int w) {
      ids[d].clear();
      OSP_CHECK(encoders[w]->encode(docs[d], ids[d], false).ok(), "encoding failed");
    });
    best = std::min(best, timer.seconds());
    tokens = 0;
    for (const auto& v : ids) tokens += v.size();
  }
  return {static_cast<double>(bytes) / 1e6 / best, tokens};
}

Figures reference_throughput(const std::string& tokenizer, const std::string& docs, int threads,
                             int repeats) {
  const std::string command =
      fmt::format("'{}' '{}/tokenizers_throughput.py' '{}' '{}' {} {}", OSP_BENCH_PYTHON,
                  OSP_BENCH_DIR, tokenizer, docs, threads, repeats);
  const auto j = osp::bench::run_reference(command);
  if (j.is_null()) return {};
  return {j["bytes"].get<double>() / 1e6 / j["seconds"].get<double>(), j["tokens"].get<uint64_t>()};
}

}  // namespace

int main(int argc, char** argv) {
  std::string input;
  uint32_t vocab = 32768;
  int repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--input")
      input = argv[i + 1];
    else if (flag == "--vocab")
      vocab = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    else if (flag == "--repeats")
      repeats = std::stoi(argv[i + 1]);
    else {
      fmt::print(stderr, "usage: bench_tokenizer [--input docs.jsonl] [--vocab N] [--repeats N]\n");
      return 2;
    }
  }
  const auto dir =
      std::filesystem::temp_directory_path() / fmt::format("osp_bench_tokenizer_{}", getpid());
  std::filesystem::create_directories(dir);
  if (input.empty()) {
    input = (dir / "corpus.jsonl").string();
    auto demo = build_demo_corpus(input);
    if (!demo) {
      fmt::print(stderr, "{}\n", demo.error().message);
      return 1;
    }
  }
  auto text = read_file(input, 8ull << 30);
  if (!text) {
    fmt::print(stderr, "{}\n", text.error().message);
    return 1;
  }
  std::vector<std::string> docs;
  uint64_t bytes = 0;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t eol = text->find('\n', pos);
    if (eol == std::string::npos) eol = text->size();
    const auto j =
        nlohmann::json::parse(std::string_view(*text).substr(pos, eol - pos), nullptr, false);
    if (j.is_object() && j.contains("text") && j["text"].is_string()) {
      docs.push_back(j["text"].get<std::string>());
      bytes += docs.back().size();
    }
    pos = eol + 1;
  }
  fmt::print("text: {} documents, {:.1f} MB ({})\n", docs.size(), static_cast<double>(bytes) / 1e6,
             input);
  fmt::print("{:<8} {:>8} {:>14} {:>14} {:>14} {:>14} {:>8}\n", "style", "threads", "osp MB/s",
             "tokenizers MB/s", "osp/tokenizers", "tokens", "same");
  for (const auto style : {PreTokenizerStyle::kSmolLm, PreTokenizerStyle::kLlama3}) {
    PieceCounter counter(style);
    OSP_CHECK(counter.add(docs, 2).ok(), "counting failed");
    BpeTrainerOptions options;
    options.vocab_size = vocab;
    options.style = style;
    const std::string path = (dir / fmt::format("{}.json", style_name(style))).string();
    OSP_CHECK(
        write_file_atomically(path, trained_tokenizer_json(train_bpe(counter, options).value())).ok(),
        "write");
    const Tokenizer tok = Tokenizer::load(path).value();
    for (const int threads : {1, 2}) {
      const Figures ours = osp_throughput(tok, docs, threads, repeats, bytes);
      const Figures theirs = reference_throughput(path, input, threads, repeats);
      fmt::print("{:<8} {:>8} {:>14.1f} {:>14.1f} {:>13.2f}x {:>14} {:>8}\n", style_name(style),
                 threads, ours.mb_per_s, theirs.mb_per_s,
                 theirs.mb_per_s > 0 ? ours.mb_per_s / theirs.mb_per_s : 0.0, ours.tokens,
                 ours.tokens == theirs.tokens ? "yes" : "NO");
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
