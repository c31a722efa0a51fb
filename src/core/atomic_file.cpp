// Crash-safe file replacement (see atomic_file.h).
#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace osp {
namespace {

std::filesystem::path folder_of(const std::filesystem::path& path) {
  const std::filesystem::path parent = path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

// A name no other writer uses: pid (other processes), a per-process counter (other threads and
// earlier attempts) and the clock (a recycled pid of a crashed writer whose leftover remains).
std::filesystem::path temp_name(const std::filesystem::path& path) {
  static std::atomic<uint64_t> counter{0};
  const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
  const std::string leaf =
      fmt::format(".{}.tmp-{}-{}-{:x}", path.filename().string(), static_cast<long>(::getpid()),
                  counter.fetch_add(1), static_cast<uint64_t>(ticks));
  return folder_of(path) / leaf;
}

}  // namespace

Status sync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return make_error("{}: cannot open folder to sync: {}", folder.string(), std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Some file systems cannot sync a folder (EINVAL); the rename is as durable as they allow.
  if (rc != 0 && err != EINVAL)
    return make_error("{}: cannot sync folder: {}", folder.string(), std::strerror(err));
  return {};
}

Result<AtomicFile> AtomicFile::create(const std::filesystem::path& path) {
  if (path.filename().empty()) return make_error("{}: not a file name", path.string());
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::filesystem::path temp = temp_name(path);
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return AtomicFile(path, std::move(temp), fd);
    if (errno != EEXIST)
      return make_error("{}: cannot create temporary file {}: {}", path.string(), temp.string(),
                        std::strerror(errno));
  }
  return make_error("{}: cannot find a free temporary file name", path.string());
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::move(other.temp_)),
      fd_(std::exchange(other.fd_, -1)) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    abandon();
    path_ = std::move(other.path_);
    temp_ = std::move(other.temp_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

AtomicFile::~AtomicFile() { abandon(); }

void AtomicFile::abandon() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(temp_.c_str());
  fd_ = -1;
}

Status AtomicFile::write(std::span<const std::byte> bytes) { return write_at(-1, bytes); }

Status AtomicFile::write_at(int64_t offset, std::span<const std::byte> bytes) {
  if (fd_ < 0) return make_error("{}: write after commit or failure", path_.string());
  while (!bytes.empty()) {
    const ssize_t n = offset < 0 ? ::write(fd_, bytes.data(), bytes.size())
                                 : ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      abandon();
      return make_error("{}: cannot write: {}", path_.string(), std::strerror(err));
    }
    bytes = bytes.subspan(static_cast<size_t>(n));
    if (offset >= 0) offset += n;
  }
  return {};
}

Status AtomicFile::commit() {
  if (fd_ < 0) return make_error("{}: commit after commit or failure", path_.string());
  if (::fsync(fd_) != 0) {
    const int err = errno;
    abandon();
    return make_error("{}: cannot sync: {}", path_.string(), std::strerror(err));
  }
  // close() can report a deferred write error (e.g. on network file systems).
  const int rc = ::close(fd_);
  const int close_err = errno;
  fd_ = -1;
  if (rc != 0) {
    ::unlink(temp_.c_str());
    return make_error("{}: cannot close: {}", path_.string(), std::strerror(close_err));
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp_.c_str());
    return make_error("{}: cannot rename {} into place: {}", path_.string(), temp_.string(),
                      std::strerror(err));
  }
  return sync_folder(folder_of(path_));
}

Status write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  return write_file_atomically(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

Status write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  auto file = AtomicFile::create(path);
  if (!file) return file.error();
  OSP_TRY(file->write(bytes));
  return file->commit();
}

}  // namespace osp
