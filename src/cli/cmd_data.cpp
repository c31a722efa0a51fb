// `osp data prepare`: text -> tokenizer.json + token shards; `osp data info`: check and summarize
// a prepared directory.
//   osp data prepare                                   (demo: KJV Bible + Austen -> data/demo)
//   osp data prepare --input a.txt b.jsonl --out data/mine --vocab 16384
//   osp data info --dir data/demo
#include <fmt/format.h>

#include <filesystem>

#include "cli/commands.h"
#include "data/prepare.h"
#include "data/token_loader.h"

namespace osp::cli {
namespace {

struct DataOptions {
  data::PrepareOptions prepare;
  std::string style = "smollm";
  std::string text_documents = "file";
  bool quiet = false;
  std::string info_dir = "data/demo";
};

int fail(const std::string& message) {
  fmt::print(stderr, "osp: {}\n", message);
  return 1;
}

int run_prepare(DataOptions& o) {
  auto style = data::parse_style(o.style);
  if (!style) return fail(style.error().message);
  auto split = data::parse_text_documents(o.text_documents);
  if (!split) return fail(split.error().message);
  o.prepare.style = *style;
  o.prepare.corpus.text_documents = *split;
  o.prepare.progress = !o.quiet;
  const auto log = [&](const std::string& line) {
    if (!o.quiet || line.rfind("notice", 0) == 0 || line.rfind("warning", 0) == 0)
      fmt::print(stderr, "osp: {}\n", line);
  };
  auto report = data::prepare_dataset(o.prepare, log);
  if (!report) return fail(report.error().message);
  const auto& r = *report;
  const double mb = static_cast<double>(r.text_bytes) / 1e6;
  fmt::print("tokenizer   {} ({}, vocab {})\n", r.tokenizer_path, r.trained ? "trained" : "given",
             r.vocab_size);
  fmt::print("documents   {} ({} held out for validation)\n", r.documents, r.val_documents);
  fmt::print("text        {:.1f} MB, {:.2f} bytes per token\n", mb,
             static_cast<double>(r.text_bytes) /
                 static_cast<double>(std::max<uint64_t>(1, r.train_tokens + r.val_tokens)));
  fmt::print("train       {} tokens in {} shard(s)\n", r.train_tokens, r.train_shards);
  fmt::print("val         {} tokens in {} shard(s)\n", r.val_tokens, r.val_shards);
  fmt::print("time        {:.1f}s tokenizer, {:.1f}s encoding ({:.1f} MB/s)\n", r.seconds_training,
             r.seconds_encoding, r.seconds_encoding > 0 ? mb / r.seconds_encoding : 0.0);
  fmt::print("manifest    {}\n", r.manifest_path);
  return 0;
}

int run_info(const DataOptions& o) {
  for (const char* split : {"train", "val"}) {
    auto ds = data::TokenDataset::open(o.info_dir, split);
    if (!ds) return fail(ds.error().message);
    const auto& m = ds->manifest();
    const auto& entries = std::string(split) == "train" ? m.train : m.val;
    uint64_t docs = 0;
    for (const auto& e : entries) docs += e.documents;
    if (std::string(split) == "train")
      fmt::print("tokenizer   {} (hash {:016x}, vocab {}, EOS {}, {}-bit tokens)\n",
                 (std::filesystem::path(o.info_dir) / m.tokenizer).string(), m.tokenizer_hash,
                 m.vocab_size, m.eos_id, m.token_bits);
    fmt::print("{:<11} {} tokens, {} documents, {} shard(s): all valid\n", split, ds->tokens(),
               docs, entries.size());
  }
  return 0;
}

}  // namespace

void register_data(CLI::App& app, CommandRun& run) {
  auto o = std::make_shared<DataOptions>();
  CLI::App* data = app.add_subcommand("data", "Prepare training data: tokenizer and token shards");
  data->require_subcommand(1);

  CLI::App* prep = data->add_subcommand(
      "prepare", "Train (or take) a tokenizer and turn text into train/val token shards");
  auto& p = o->prepare;
  prep->add_option("--input", p.inputs,
                   ".txt or .jsonl files (default: the demo corpus, King James Bible and Austen)");
  prep->add_option("--out", p.out_dir, "Output directory")->capture_default_str();
  prep->add_option("--vocab", p.vocab_size, "Vocabulary size of the trained tokenizer")
      ->capture_default_str();
  prep->add_option("--tokenizer", p.tokenizer_path,
                   "Use this tokenizer.json instead of training one");
  prep->add_option("--pre-tokenizer", o->style,
                   "Pre-tokenizer of the trained tokenizer: gpt2, smollm, llama3")
      ->capture_default_str();
  prep->add_option("--min-frequency", p.min_frequency, "Merge only pairs seen at least this often")
      ->capture_default_str();
  prep->add_option("--eos", p.eos_token,
                   "Document separator token (default: <|endoftext|> or the tokenizer's EOS)");
  prep->add_option("--val-fraction", p.val_fraction, "Share of documents held out for validation")
      ->capture_default_str();
  prep->add_option("--seed", p.seed, "Chooses which documents are held out")->capture_default_str();
  prep->add_option("--shard-tokens", p.shard_tokens, "Tokens per shard")->capture_default_str();
  prep->add_option("--threads", p.threads, "Worker threads (0: all cores)")->capture_default_str();
  prep->add_option("--text-field", p.corpus.text_field, "Field holding the text in .jsonl files")
      ->capture_default_str();
  prep->add_option("--text-documents", o->text_documents,
                   "What a document is in text files: file, blank-line, line")
      ->capture_default_str();
  prep->add_flag("--quiet", o->quiet, "No progress bars");
  prep->callback([o, &run] { run = [o] { return run_prepare(*o); }; });

  CLI::App* info = data->add_subcommand("info", "Validate a prepared directory and summarize it");
  info->add_option("--dir", o->info_dir, "Prepared directory (holds manifest.json)")
      ->capture_default_str();
  info->callback([o, &run] { run = [o] { return run_info(*o); }; });
}

}  // namespace osp::cli
