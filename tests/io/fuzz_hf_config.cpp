// libFuzzer target for config.json parsing (docs/fuzzing.md): every input is refused with one
// line naming the file, or accepted; an accepted config written back by osp's writer parses to
// the same model configuration. Replayed over its corpus in every build (fuzz_replay_main.cpp).
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "io/hf_config.h"

namespace {

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz_hf_config: %s\n", what.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace osp;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = io::parse_hf_config(text, "fuzz");
  if (!c) {
    const std::string& m = c.error().message;
    if (m.rfind("fuzz: ", 0) != 0 || m.find('\n') != std::string::npos) finding("badly formed message: " + m);
    return 0;
  }
  const std::string again = io::hf_config_to_json(c->model, "float32", c->special).dump();
  auto d = io::parse_hf_config(again, "rewrite");
  if (!d) finding("own output refused: " + d.error().message);
  if (model::model_config_to_json(d->model) != model::model_config_to_json(c->model)) finding("config changed on rewrite");
  return 0;
}
