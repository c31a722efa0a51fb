// Demo corpus (see demo_corpus.h).
#include "data/demo_corpus.h"

#include <fmt/format.h>
#include <sys/wait.h>

#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "data/file_util.h"

namespace osp::data {
namespace {

struct Chapter {
  std::string source;
  std::string text;
};

// Runs a shell command and returns its standard output; fails on a non-zero exit.
Result<std::string> command_output(const std::string& command) {
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return make_error("cannot run '{}'", command);
  std::string out;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  const int status = pclose(pipe);
  if (status != 0 || out.empty())
    return make_error("'{}' failed (exit status {})", command,
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return out;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = eol + 1;
  }
  return lines;
}

// `bible -f` prints "Ge1:1 In the beginning ..." per verse: the reference goes, the chapter
// ("Ge1") groups verses into one document, one verse per line.
Result<std::vector<Chapter>> bible_chapters() {
  auto text = command_output("bible -f -m 8000 gen1:1-rev22:21");
  if (!text) return text.error();
  std::vector<Chapter> chapters;
  std::string current_key;
  for (const std::string_view line : lines_of(*text)) {
    const size_t space = line.find(' '), colon = line.find(':');
    if (space == std::string_view::npos || colon == std::string_view::npos || colon > space)
      continue;
    const std::string key(line.substr(0, colon));
    if (key != current_key || chapters.empty()) {
      chapters.push_back({"kjv", ""});
      current_key = key;
    } else {
      chapters.back().text.push_back('\n');
    }
    chapters.back().text.append(line.substr(space + 1));
  }
  if (chapters.size() < 1000)
    return make_error("the bible program printed only {} chapters", chapters.size());
  return chapters;
}

bool is_chapter_heading(std::string_view line) {
  if (line.size() < 9 || line.size() > 20) return false;
  std::string head(line.substr(0, 8));
  for (char& c : head) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (head != "CHAPTER ") return false;
  for (const char c : line.substr(8))
    if (!std::isdigit(static_cast<unsigned char>(c)) &&
        std::string_view("IVXLC.").find(c) == std::string_view::npos)
      return false;
  return true;
}

// janeaustenr holds each novel as wrapped lines; chapters start at "CHAPTER n" lines. Lines of
// a paragraph are joined with spaces, paragraphs with a blank line; the front matter is skipped.
Result<std::vector<Chapter>> austen_chapters() {
  auto text = command_output(
      "Rscript --vanilla -e 'library(janeaustenr); for (b in c(\"sensesensibility\", "
      "\"prideprejudice\", \"mansfieldpark\", \"emma\", \"northangerabbey\", \"persuasion\")) "
      "{ cat(\"@@BOOK\\n\"); writeLines(get(b)) }'");
  if (!text) return text.error();
  std::vector<Chapter> chapters;
  bool in_chapter = false;
  std::string paragraph;
  const auto end_paragraph = [&] {
    if (in_chapter && !paragraph.empty()) {
      if (!chapters.back().text.empty()) chapters.back().text += "\n\n";
      chapters.back().text += paragraph;
    }
    paragraph.clear();
  };
  for (const std::string_view line : lines_of(*text)) {
    if (line == "@@BOOK" || is_chapter_heading(line)) {
      end_paragraph();
      in_chapter = line != "@@BOOK";
      if (in_chapter) chapters.push_back({"austen", ""});
      continue;
    }
    if (line.find_first_not_of(' ') == std::string_view::npos) {
      end_paragraph();
    } else {
      if (!paragraph.empty()) paragraph.push_back(' ');
      paragraph.append(line);
    }
  }
  end_paragraph();
  if (chapters.size() < 200)
    return make_error("janeaustenr gave only {} chapters", chapters.size());
  return chapters;
}

}  // namespace

Result<DemoCorpusInfo> build_demo_corpus(const std::string& jsonl_path) {
  DemoCorpusInfo info;
  auto bible = bible_chapters();
  if (!bible)
    return make_error(
        "the demo corpus needs the King James Bible: install the bible-kjv package "
        "(scripts/setup does) ({})",
        bible.error().message);
  std::vector<Chapter> chapters = std::move(*bible);
  info.sources.push_back(fmt::format("King James Bible ({} chapters)", chapters.size()));
  if (auto austen = austen_chapters()) {
    info.sources.push_back(fmt::format("Jane Austen's six novels ({} chapters)", austen->size()));
    for (auto& c : *austen) chapters.push_back(std::move(c));
  } else {
    info.notices.push_back(
        "Jane Austen's novels are left out (install r-cran-janeaustenr to add them): " +
        austen.error().message);
  }
  std::string out;
  for (const Chapter& c : chapters) {
    out += nlohmann::json{{"text", c.text}, {"source", c.source}}.dump();
    out.push_back('\n');
    info.bytes += c.text.size();
  }
  info.documents = chapters.size();
  OSP_TRY(write_file_atomically(jsonl_path, out));
  return info;
}

}  // namespace osp::data
