// What a file is, told by its first bytes and never by its extension: a GGUF ("GGUF" magic), a
// safetensors file (a little-endian u64 header length followed by '{'), JSON text, or something
// else. Every "this is not a model/tokenizer" message names the kind found.
#pragma once
#include <filesystem>
#include <string>

namespace osp::io {

enum class FileKind { kMissing, kFolder, kGguf, kSafetensors, kJson, kEmpty, kOther };

FileKind sniff_file_kind(const std::filesystem::path& path);

// "a GGUF file", "a safetensors file", "JSON text", "an empty file", "a folder", ...
std::string file_kind_name(FileKind kind);

}  // namespace osp::io
