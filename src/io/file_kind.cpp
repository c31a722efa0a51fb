// File kinds by magic bytes (see file_kind.h).
#include "io/file_kind.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "io/gguf_format.h"

namespace osp::io {

FileKind sniff_file_kind(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return FileKind::kMissing;
  if (std::filesystem::is_directory(path, ec)) return FileKind::kFolder;
  std::ifstream in(path, std::ios::binary);
  std::array<char, 16> head{};
  in.read(head.data(), head.size());
  const std::streamsize n = in.gcount();
  if (n == 0) return FileKind::kEmpty;
  if (n >= 4) {
    uint32_t magic;
    std::memcpy(&magic, head.data(), 4);
    if (magic == kGgufMagic) return FileKind::kGguf;
  }
  if (n >= 9) {
    uint64_t header_len;
    std::memcpy(&header_len, head.data(), 8);
    if (header_len >= 2 && head[8] == '{') return FileKind::kSafetensors;
  }
  for (std::streamsize i = 0; i < n; ++i) {
    const char c = head[size_t(i)];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{' || c == '[' ? FileKind::kJson : FileKind::kOther;
  }
  return FileKind::kOther;
}

std::string file_kind_name(FileKind kind) {
  switch (kind) {
    case FileKind::kMissing: return "nothing (no such file or folder)";
    case FileKind::kFolder: return "a folder";
    case FileKind::kGguf: return "a GGUF file";
    case FileKind::kSafetensors: return "a safetensors file";
    case FileKind::kJson: return "JSON text";
    case FileKind::kEmpty: return "an empty file";
    case FileKind::kOther: return "a file of unknown kind (neither GGUF, safetensors nor JSON)";
  }
  return "?";
}

}  // namespace osp::io
