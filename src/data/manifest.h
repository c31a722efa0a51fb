// manifest.json of a prepared dataset directory: which shards make up the train and validation
// splits, and the tokenizer they were made with. Example:
//
//   {"format": "osp-token-shards", "version": 1, "tokenizer": "tokenizer.json",
//    "tokenizer_hash": "9c1f...", "vocab_size": 8192, "eos_id": 0, "token_bits": 16,
//    "document_separator": "eos-after-each-document", "val_fraction": 0.01, "split_seed": 1234,
//    "splits": {"train": [{"file": "train_000000.bin", "tokens": 1234567, "documents": 1440}],
//               "val": [{"file": "val_000000.bin", "tokens": 12345, "documents": 15}]},
//    "sources": ["King James Bible (1189 chapters)"]}
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace osp::data {

struct ShardEntry {
  std::string file;  // relative to the manifest's directory
  uint64_t tokens = 0;
  uint64_t documents = 0;
};

struct Manifest {
  std::string tokenizer = "tokenizer.json";
  uint64_t tokenizer_hash = 0;
  uint32_t vocab_size = 0;
  uint32_t eos_id = 0;
  uint32_t token_bits = 16;
  double val_fraction = 0.0;
  uint64_t split_seed = 0;
  std::vector<ShardEntry> train, val;
  std::vector<std::string> sources;
};

Status write_manifest(const std::string& path, const Manifest& manifest);
Result<Manifest> read_manifest(const std::string& path);

}  // namespace osp::data
