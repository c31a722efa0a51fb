// tokenizer.json writer for trained models (see bpe_trainer.h): GPT-2-style files, optionally
// with SmolLM's Digits step or Llama-3's Split, in the layout the tokenizers library writes.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "data/bpe_trainer.h"
#include "data/byte_level.h"

namespace osp::data {
namespace {

using OrderedJson = nlohmann::ordered_json;

// Placeholders replaced by the hand-written vocab and merges. The model comes last in the file,
// so the last occurrence of each is the placeholder even if a special token spells it.
constexpr const char* kVocabMark = "@@osp-vocab@@";
constexpr const char* kMergesMark = "@@osp-merges@@";

OrderedJson byte_level(bool add_prefix_space, bool trim_offsets, bool use_regex) {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", add_prefix_space},
          {"trim_offsets", trim_offsets},
          {"use_regex", use_regex}};
}

OrderedJson pre_tokenizer_json(PreTokenizerStyle style) {
  switch (style) {
    case PreTokenizerStyle::kGpt2:
      return byte_level(false, true, true);
    case PreTokenizerStyle::kSmolLm:
      return {{"type", "Sequence"},
              {"pretokenizers",
               {{{"type", "Digits"}, {"individual_digits", true}}, byte_level(false, true, true)}}};
    case PreTokenizerStyle::kLlama3:
      return {{"type", "Sequence"},
              {"pretokenizers",
               {{{"type", "Split"},
                 {"pattern", {{"Regex", std::string(kLlama3Pattern)}}},
                 {"behavior", "Isolated"},
                 {"invert", false}},
                byte_level(false, true, false)}}};
  }
  return nullptr;
}

}  // namespace

std::string trained_tokenizer_json(const TrainedBpe& trained) {
  const auto n_special = static_cast<TokenId>(trained.special_tokens.size());
  std::vector<std::string> strings;  // byte-level spelling of every token, by id
  for (const std::string& s : trained.special_tokens) strings.push_back(s);
  for (const std::string& raw : trained.token_bytes) {
    std::string mapped;
    bytes_to_byte_level(raw, mapped);
    strings.push_back(std::move(mapped));
  }
  OrderedJson added = OrderedJson::array();
  for (TokenId id = 0; id < n_special; ++id)
    added.push_back({{"id", id},
                     {"content", trained.special_tokens[id]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  OrderedJson model = {{"type", "BPE"},
                       {"dropout", nullptr},
                       {"unk_token", nullptr},
                       {"continuing_subword_prefix", nullptr},
                       {"end_of_word_suffix", nullptr},
                       {"fuse_unk", false},
                       {"byte_fallback", false},
                       {"ignore_merges", trained.style == PreTokenizerStyle::kLlama3},
                       {"vocab", kVocabMark},
                       {"merges", kMergesMark}};
  OrderedJson root = {{"version", "1.0"},
                      {"truncation", nullptr},
                      {"padding", nullptr},
                      {"added_tokens", std::move(added)},
                      {"normalizer", nullptr},
                      {"pre_tokenizer", pre_tokenizer_json(trained.style)},
                      {"post_processor", byte_level(true, false, true)},
                      {"decoder", byte_level(true, true, true)},
                      {"model", std::move(model)}};
  // The vocab and merges are written by hand: ordered_json objects insert in linear time, and
  // one line per merge keeps the file readable.
  std::string vocab = "{";
  for (TokenId id = 0; id < strings.size(); ++id)
    vocab +=
        fmt::format("{}\n      {}: {}", id == 0 ? "" : ",", OrderedJson(strings[id]).dump(), id);
  vocab += "\n    }";
  std::string merges = "[";
  for (size_t i = 0; i < trained.merges.size(); ++i) {
    const auto& [left, right] = trained.merges[i];
    merges += fmt::format("{}\n      [{}, {}]", i == 0 ? "" : ",",
                          OrderedJson(strings[left]).dump(), OrderedJson(strings[right]).dump());
  }
  merges += "\n    ]";
  std::string text = root.dump(2);
  text.replace(text.rfind(OrderedJson(kVocabMark).dump()), OrderedJson(kVocabMark).dump().size(),
               vocab);
  text.replace(text.rfind(OrderedJson(kMergesMark).dump()), OrderedJson(kMergesMark).dump().size(),
               merges);
  return text + "\n";
}

}  // namespace osp::data
