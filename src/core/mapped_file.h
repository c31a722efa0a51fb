// MappedFile: a whole regular file mapped read-only into memory (RAII), for readers of large
// binary formats. The bytes stay valid while the object lives. As with any mapping, a file cut
// short by another process while mapped raises SIGBUS on access: osp's writers never truncate in
// place (they replace files by rename), so this only concerns files edited by outside tools.
#pragma once
#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>

#include "core/result.h"

namespace osp {

class MappedFile {
 public:
  // Maps `path`; refuses directories and other non-regular files by name. An empty file maps to
  // an empty span.
  static Result<MappedFile> open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  std::string_view chars() const { return {reinterpret_cast<const char*>(data_), size_}; }

 private:
  MappedFile(const std::byte* data, size_t size) : data_(data), size_(size) {}
  void release();

  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace osp
