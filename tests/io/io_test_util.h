// Helpers shared by the io tests: scratch folders, raw file images (and the shared fresh seed).
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/fresh_seed.h"

namespace osp::io::test {

using osp::test::fresh_seed;

// A scratch folder removed when the test ends.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(::testing::TempDir()) /
            (std::string("osp_io_") + info->test_suite_name() + "_" + info->name() + "_" +
             std::to_string(fresh_seed()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view leaf) const { return path_ / leaf; }

 private:
  std::filesystem::path path_;
};

inline std::vector<std::byte> to_bytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  if (!s.empty()) std::memcpy(out.data(), s.data(), s.size());
  return out;
}

// A safetensors image from a header text (used verbatim, no padding) and a data buffer, with
// an explicit header length so tests can lie about it.
inline std::vector<std::byte> raw_image(std::string_view header, std::string_view data,
                                        uint64_t header_len) {
  std::vector<std::byte> out(8);
  std::memcpy(out.data(), &header_len, 8);
  const auto h = to_bytes(header), d = to_bytes(data);
  out.insert(out.end(), h.begin(), h.end());
  out.insert(out.end(), d.begin(), d.end());
  return out;
}
inline std::vector<std::byte> raw_image(std::string_view header, std::string_view data = {}) {
  return raw_image(header, data, header.size());
}

inline std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  if (!chars.empty()) std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

inline void write_file(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// Files in `dir` (to check that no temporary file is left behind).
inline std::vector<std::string> list_dir(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace osp::io::test
