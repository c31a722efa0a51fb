// AtomicFile: writes a file so that readers see either the old file or the complete new one,
// never a torn one (spec formats.md §0): the bytes go to a temporary file in the destination's
// folder, which is flushed to disk, renamed over the destination, and the folder is synced so
// the rename itself survives a crash. Abandoning the object before commit() removes the
// temporary file and leaves the destination untouched.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

#include "core/result.h"

namespace osp {

class AtomicFile {
 public:
  // Creates the temporary file next to `path` (same folder, so rename() stays within one file
  // system). The final file gets mode 0666 minus the umask, like a file made by open().
  static Result<AtomicFile> create(const std::filesystem::path& path);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();  // without commit(): removes the temporary file

  // Appends bytes (handles short writes and EINTR).
  Status write(std::span<const std::byte> bytes);
  Status write(std::string_view text) { return write(std::as_bytes(std::span<const char>(text.data(), text.size()))); }
  // Overwrites bytes already written at `offset` (e.g. a header finished last); the append
  // position is unchanged.
  Status write_at(int64_t offset, std::span<const std::byte> bytes);
  Status write_at(int64_t offset, std::string_view text) {
    return write_at(offset, std::as_bytes(std::span<const char>(text.data(), text.size())));
  }
  // fsync, close, rename over the destination, fsync the folder. The object is spent afterwards.
  Status commit();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temp_path() const { return temp_; }

 private:
  AtomicFile(std::filesystem::path path, std::filesystem::path temp, int fd)
      : path_(std::move(path)), temp_(std::move(temp)), fd_(fd) {}
  void abandon();

  std::filesystem::path path_;
  std::filesystem::path temp_;
  int fd_ = -1;
};

// fsync of a folder, so a rename inside it survives a crash (file systems that cannot sync a
// folder are accepted).
Status sync_folder(const std::filesystem::path& folder);

// Replaces (or creates) `path` with exactly `bytes`, atomically.
Status write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);
Status write_file_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace osp
