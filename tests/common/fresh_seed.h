// A fresh seed per run, so that repeated runs cover new data. Every test that draws one puts it in
// its failure messages (SCOPED_TRACE or <<), and setting OSP_TEST_SEED replays that failure.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <random>

namespace osp::test {

inline uint64_t fresh_seed() {
  if (const char* s = std::getenv("OSP_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace osp::test
