// `osp data prepare` as a library call: text files (or the demo corpus) -> tokenizer.json (trained
// or given) -> train/val token shards + manifest.json in one directory.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "data/bpe_trainer.h"
#include "data/corpus.h"

namespace osp::data {

struct PrepareOptions {
  std::vector<std::string> inputs;  // .txt / .jsonl; empty: build the demo corpus
  std::string out_dir = "data/demo";
  std::string tokenizer_path;  // use this tokenizer.json; empty: train one
  uint32_t vocab_size = 8192;
  uint64_t min_frequency = 2;
  PreTokenizerStyle style = PreTokenizerStyle::kSmolLm;
  std::string eos_token;       // empty: the tokenizer's own end-of-text token
  double val_fraction = 0.01;  // every round(1/f)-th document goes to val
  uint64_t seed = 1234;        // which documents (the offset among each round(1/f))
  uint64_t shard_tokens = 100'000'000;
  int threads = 0;  // 0: all cores
  bool progress = true;
  CorpusOptions corpus;
};

struct PrepareReport {
  std::string tokenizer_path, manifest_path;
  bool trained = false;
  uint32_t vocab_size = 0;
  uint64_t documents = 0, val_documents = 0;
  uint64_t train_tokens = 0, val_tokens = 0;
  uint64_t text_bytes = 0;
  size_t train_shards = 0, val_shards = 0;
  double seconds_training = 0, seconds_encoding = 0;
  std::vector<std::string> sources;
};

// `log` receives progress notes and notices (one line each).
Result<PrepareReport> prepare_dataset(const PrepareOptions& options,
                                      const std::function<void(const std::string&)>& log);

}  // namespace osp::data
