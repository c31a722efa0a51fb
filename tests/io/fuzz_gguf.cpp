// libFuzzer target for the GGUF reader (docs/fuzzing.md): every input is either refused with one
// line naming the file, or accepted, and then every tensor's bytes lie inside the input (ASan
// checks each read) and tensors of the types osp decodes decode to the right element count. The
// model and tokenizer views of an accepted file (the llama config, tokenizer.json from the
// tokenizer keys) are built too: they may refuse the file, in one line naming it, but not crash.
// Linked with fuzz_replay_main.cpp in every build, so the corpus is replayed as a regression test.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "io/gguf_import.h"
#include "io/gguf_reader.h"
#include "io/gguf_tokenizer.h"

namespace {

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz_gguf: %s\n", what.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace osp::io;
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  auto r = GgufReader::from_memory(input, "fuzz");
  if (!r) {
    const std::string& m = r.error().message;
    if (m.rfind("fuzz: ", 0) != 0 || m.find('\n') != std::string::npos) finding("badly formed message: " + m);
    return 0;
  }
  unsigned sum = 0;
  for (const auto& t : r->tensors()) {
    for (std::byte b : r->bytes(t)) sum += static_cast<unsigned>(b);
    const GgufType ty = t.type;
    if (ty == GgufType::kF32 || ty == GgufType::kF16 || ty == GgufType::kBF16 || ty == GgufType::kQ8_0 ||
        ty == GgufType::kQ4_0 || ty == GgufType::kQ4_1 || ty == GgufType::kQ5_0 || ty == GgufType::kQ5_1 ||
        ty == GgufType::kQ2_K || ty == GgufType::kQ3_K || ty == GgufType::kQ4_K || ty == GgufType::kQ5_K ||
        ty == GgufType::kQ6_K) {
      if (t.numel > (uint64_t(1) << 24)) continue;  // decoding is checked, not its memory use
      auto v = r->read_f32(t.name);
      if (!v || v->size() != t.numel) finding("decode failed for an accepted tensor " + t.name);
    }
  }
  for (const auto& kv : r->metadata()) sum += unsigned(kv.value.summary().size());
  auto one_line = [](const std::string& m, const char* what) {
    if (m.rfind("fuzz: ", 0) != 0 || m.find('\n') != std::string::npos) finding(std::string(what) + ": badly formed message: " + m);
  };
  if (auto c = gguf_llama_config(*r); !c) one_line(c.error().message, "config");
  if (gguf_has_tokenizer(*r)) {
    if (auto j = gguf_tokenizer_json(*r); !j) one_line(j.error().message, "tokenizer");
    else sum += unsigned(j->size());
  }
  static volatile unsigned sink;
  sink = sink + sum;
  return 0;
}
