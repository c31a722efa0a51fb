// libFuzzer target for the safetensors reader (docs/fuzzing.md). For every input: the reader
// either refuses it with one line naming the file, or accepts it, and then every tensor's bytes
// lie inside the input (ASan checks each read), numeric tensors convert, and writing the tensors
// back and reading them again gives the same tensors. Anything else aborts as a finding.
// Built with clang and -fsanitize=fuzzer when OSP_FUZZ is on; otherwise linked with
// fuzz_replay_main.cpp so the GCC build replays the corpus as a regression test.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace {

using namespace osp::io;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz_safetensors: %s\n", what.c_str());
  std::abort();
}

// Re-serialises what the reader accepted and checks that it reads back identically.
void check_rewrite(const SafetensorsReader& r) {
  std::vector<SafetensorsTensor> tensors;
  for (const auto& t : r.tensors()) tensors.push_back({t.name, t.dtype, t.shape, r.bytes(t)});
  auto image = safetensors_to_bytes(tensors, r.metadata());
  if (!image) finding("writer refused what the reader accepted: " + image.error().message);
  auto again = SafetensorsReader::from_memory(*image, "rewrite");
  if (!again) finding("reader refused the writer's output: " + again.error().message);
  if (again->tensors().size() != tensors.size()) finding("tensor count changed on rewrite");
  for (const auto& t : r.tensors()) {
    const SafetensorsTensorInfo* u = again->find(t.name);
    if (u == nullptr || u->dtype != t.dtype || u->shape != t.shape) finding("tensor changed");
    const auto a = r.bytes(t), b = again->bytes(*u);
    if (a.size() != b.size() || (!a.empty() && std::memcmp(a.data(), b.data(), a.size()) != 0))
      finding("bytes changed on rewrite");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  auto r = SafetensorsReader::from_memory(input, "fuzz");
  if (!r) {
    const std::string& m = r.error().message;
    if (m.rfind("fuzz: ", 0) != 0 || m.find('\n') != std::string::npos)
      finding("badly formed message: " + m);
    return 0;
  }
  // Touch every byte of every tensor so ASan sees any out-of-bounds range; the volatile store
  // keeps the loop from being optimised away.
  unsigned sum = 0;
  for (const auto& t : r->tensors()) {
    for (std::byte b : r->bytes(t)) sum += static_cast<unsigned>(b);
    if (safetensors_dtype_is_numeric(t.dtype)) {
      auto v = r->read_f64(t.name);
      if (!v && t.dtype != SafetensorsDType::kBool)
        finding("conversion failed: " + v.error().message);
    }
  }
  static volatile unsigned sink;
  sink = sink + sum;
  check_rewrite(*r);
  return 0;
}
