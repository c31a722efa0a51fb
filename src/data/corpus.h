// Reading training text: .jsonl files (one JSON object per line, the document in a text field)
// and plain text files (one document per file, per blank-line-separated block, or per line).
// Documents come out in input order, in batches; bad UTF-8 is repaired with U+FFFD and counted.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace osp::data {

enum class TextDocuments { kFile, kBlankLine, kLine };
Result<TextDocuments> parse_text_documents(std::string_view name);  // "file", "blank-line", "line"

struct CorpusOptions {
  std::string text_field = "text";                      // .jsonl: the field holding the document
  TextDocuments text_documents = TextDocuments::kFile;  // other files: what a document is
};

// Each input file is read whole when its turn comes: the largest file must fit in memory.
class CorpusReader {
 public:
  static Result<CorpusReader> open(std::vector<std::string> paths, CorpusOptions options);

  // Appends the next documents (about batch_bytes of text, at least one document) to docs.
  // Returns false at the end of the input.
  Result<bool> next_batch(std::vector<std::string>& docs, uint64_t batch_bytes);

  uint64_t total_bytes() const { return total_bytes_; }  // sum of the input file sizes
  uint64_t bytes_read() const { return bytes_read_; }    // input bytes consumed so far
  uint64_t repaired_sequences() const { return repaired_; }

 private:
  Status load_next_file();

  std::vector<std::string> paths_;
  CorpusOptions options_;
  size_t next_file_ = 0;
  std::vector<std::string> pending_;  // documents of the current file not handed out yet
  size_t pending_pos_ = 0;
  std::vector<uint64_t> pending_sizes_;  // input bytes each pending document stands for
  uint64_t total_bytes_ = 0, bytes_read_ = 0, repaired_ = 0;
};

}  // namespace osp::data
