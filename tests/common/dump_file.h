// Shared by the C++ dump programs of the PyTorch reference tests (tests/reference/*_dump.cpp):
// collecting named tensors into one safetensors file, and the common command line
//   <tool> --config JSON --seed N --out FILE.safetensors
#pragma once
#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace osp::test {

class DumpFile {
 public:
  // Copies n values now, so the caller's buffer may change afterwards.
  template <class T>
  void add(const std::string& name, const std::vector<int64_t>& shape, const T* data, int64_t n) {
    const auto* bytes = reinterpret_cast<const std::byte*>(data);
    keep_.emplace_back(bytes, bytes + sizeof(T) * size_t(n));
    tensors_.push_back({name, io::safetensors_dtype_of<T>(), std::vector<uint64_t>(shape.begin(), shape.end()),
                        std::span<const std::byte>(keep_.back())});
  }
  Status write(const std::string& file) const { return io::write_safetensors(file, tensors_); }
  // Writes the file; the process exit code (the error, if any, printed as "<tool>: <message>").
  int write_or_report(const std::string& file, const char* tool) const {
    if (const Status st = write(file); !st) {
      fmt::print(stderr, "{}: {}\n", tool, st.error().message);
      return 1;
    }
    return 0;
  }

 private:
  std::deque<std::vector<std::byte>> keep_;  // stable addresses for the spans below
  std::vector<io::SafetensorsTensor> tensors_;
};

// Parses the common command line and runs `body`; returns the process exit code.
inline int dump_main(int argc, char** argv, const char* tool,
                     const std::function<int(const std::string& config, uint64_t seed, const std::string& out)>& body) {
  std::string config, out;
  uint64_t seed = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--config")) config = argv[i + 1];
    else if (!std::strcmp(argv[i], "--seed")) seed = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
  }
  if (config.empty() || out.empty()) {
    fmt::print(stderr, "usage: {} --config JSON --seed N --out FILE.safetensors\n", tool);
    return 2;
  }
  return body(config, seed, out);
}

}  // namespace osp::test
