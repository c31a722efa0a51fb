// Token streams for evaluation (measurement.md §1.1, §2): a prepared shards directory (its
// manifest's split, tokens as stored) or a text file encoded as one string without BOS/EOS.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "data/tokenizer.h"

namespace osp::eval {

struct EvalDataSpec {
  std::string path;         // shards directory (holding manifest.json) or a text file
  std::string split = "val";  // split of a shards directory
  const data::Tokenizer* tokenizer = nullptr;  // encodes a text file; unused for shards
  uint64_t max_tokens = 0;  // 0: all; otherwise the first max_tokens of the stream
};

// The first max_tokens tokens of the stream. Errors name the file and the problem.
Result<std::vector<int32_t>> load_eval_tokens(const EvalDataSpec& spec);

}  // namespace osp::eval
