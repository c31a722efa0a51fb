// Files for the data module: whole-file reads with a size cap, atomic writes (temporary name in
// the destination folder, flush, fsync, rename: formats.md §0), and read-only memory maps.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace osp::data {

// Reads a whole file; refuses files larger than max_bytes.
Result<std::string> read_file(const std::string& path, uint64_t max_bytes);

// Writes bytes to path atomically.
Status write_file_atomic(const std::string& path, std::string_view bytes);

// A read-only memory map of a whole file (RAII). An empty file maps to an empty view.
class MappedFile {
 public:
  static Result<MappedFile> open(const std::string& path);
  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }
  const std::string& path() const { return path_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// An output file written in pieces and published atomically by commit(); destroying an
// uncommitted writer removes the temporary file.
class AtomicFileWriter {
 public:
  static Result<AtomicFileWriter> create(const std::string& path);
  AtomicFileWriter() = default;
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  Status write(std::string_view bytes);
  // Overwrites bytes at an offset already written (used to finish a header).
  Status write_at(uint64_t offset, std::string_view bytes);
  Status commit();

 private:
  int fd_ = -1;
  std::string path_, temp_path_;
};

}  // namespace osp::data
