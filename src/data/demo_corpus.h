// The default demo corpus, built from public-domain English text that Debian packages ship:
// the King James Bible (package bible-kjv, read through its `bible` program) and, when
// r-cran-janeaustenr is installed, Jane Austen's six novels (read through Rscript). One document
// per chapter, verse references stripped, Austen's wrapped lines joined into paragraphs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace osp::data {

struct DemoCorpusInfo {
  size_t documents = 0;
  uint64_t bytes = 0;
  std::vector<std::string> sources;  // "King James Bible (1189 chapters)", ...
  std::vector<std::string> notices;  // sources that were not available, and why
};

// Writes the corpus as JSON lines {"text": ..., "source": ...} to jsonl_path (atomically).
// Fails only when not even the Bible is available.
Result<DemoCorpusInfo> build_demo_corpus(const std::string& jsonl_path);

}  // namespace osp::data
