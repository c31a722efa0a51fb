// Whole-file reads with a size cap (atomic writes and memory maps are core/atomic_file.h and
// core/mapped_file.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace osp::data {

// Reads a whole file; refuses files larger than max_bytes.
Result<std::string> read_file(const std::string& path, uint64_t max_bytes);

}  // namespace osp::data
