// Corpus reading (see corpus.h).
#include "data/corpus.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/file_util.h"
#include "data/utf8.h"

namespace osp::data {
namespace {

constexpr uint64_t kMaxFileBytes = 64ull << 30;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Splits text into documents kept verbatim: blocks of lines separated by blank lines (only
// spaces and tabs), or single lines; line terminators ("\n" or "\r\n") between documents are
// dropped, those inside a block kept. Sizes count the input bytes each document consumed.
void split_text(const std::string& text, TextDocuments mode, std::vector<std::string>& docs,
                std::vector<uint64_t>& sizes) {
  size_t pos = 0, consumed = 0;
  size_t doc_begin = std::string::npos, doc_end = 0;  // current block: [begin, end)
  const auto flush = [&](size_t up_to) {
    if (doc_begin != std::string::npos) {
      docs.push_back(text.substr(doc_begin, doc_end - doc_begin));
      sizes.push_back(up_to - consumed);
      consumed = up_to;
    }
    doc_begin = std::string::npos;
  };
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    size_t content_end = eol;
    if (content_end > pos && text[content_end - 1] == '\r') --content_end;
    const size_t next = std::min(eol + 1, text.size());
    const bool blank = text.find_first_not_of(" \t", pos) >= content_end;
    if (blank) {
      flush(next);
    } else {
      if (doc_begin == std::string::npos) doc_begin = pos;
      doc_end = content_end;
      if (mode == TextDocuments::kLine) flush(next);
    }
    pos = next;
  }
  flush(text.size());
}

}  // namespace

Result<TextDocuments> parse_text_documents(std::string_view name) {
  if (name == "file") return TextDocuments::kFile;
  if (name == "blank-line") return TextDocuments::kBlankLine;
  if (name == "line") return TextDocuments::kLine;
  return make_error("unknown document split '{}' (use file, blank-line or line)", name);
}

Result<CorpusReader> CorpusReader::open(std::vector<std::string> paths, CorpusOptions options) {
  CorpusReader reader;
  for (const std::string& p : paths) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(p, ec);
    if (ec) return make_error("{}: cannot read: {}", p, ec.message());
    reader.total_bytes_ += size;
  }
  reader.paths_ = std::move(paths);
  reader.options_ = std::move(options);
  return reader;
}

Status CorpusReader::load_next_file() {
  const std::string& path = paths_[next_file_++];
  auto bytes = read_file(path, kMaxFileBytes);
  if (!bytes) return bytes.error();
  size_t repaired = 0;
  std::string text = utf8_first_invalid(*bytes) == std::string_view::npos
                         ? std::move(*bytes)
                         : utf8_repair(*bytes, &repaired);
  repaired_ += repaired;
  pending_.clear();
  pending_sizes_.clear();
  pending_pos_ = 0;
  if (!ends_with(path, ".jsonl")) {
    if (options_.text_documents == TextDocuments::kFile) {
      if (!text.empty()) {
        pending_sizes_.push_back(text.size());
        pending_.push_back(std::move(text));
      }
    } else {
      split_text(text, options_.text_documents, pending_, pending_sizes_);
    }
    return {};
  }
  size_t pos = 0;
  for (size_t line_no = 1; pos < text.size(); ++line_no) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string_view line(text.data() + pos, eol - pos);
    const uint64_t consumed = std::min(eol + 1, text.size()) - pos;
    pos += consumed;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) return make_error("{}: line {} is not valid JSON", path, line_no);
    const auto field = j.is_object() ? j.find(options_.text_field) : j.end();
    if (!j.is_object() || field == j.end() || !field->is_string())
      return make_error("{}: line {} has no string field \"{}\"", path, line_no,
                        options_.text_field);
    std::string doc = field->get<std::string>();
    if (doc.empty()) continue;
    pending_.push_back(std::move(doc));
    pending_sizes_.push_back(consumed);
  }
  return {};
}

Result<bool> CorpusReader::next_batch(std::vector<std::string>& docs, uint64_t batch_bytes) {
  uint64_t taken = 0;
  bool any = false;
  while (taken < batch_bytes) {
    if (pending_pos_ == pending_.size()) {
      if (next_file_ == paths_.size()) break;
      OSP_TRY(load_next_file());
      continue;
    }
    taken += pending_[pending_pos_].size();
    bytes_read_ += pending_sizes_[pending_pos_];
    docs.push_back(std::move(pending_[pending_pos_++]));
    any = true;
  }
  return any;
}

}  // namespace osp::data
