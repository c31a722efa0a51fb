// safetensors header parsing and validation (see safetensors_header.h; rules: spec formats.md §1).
#include "io/safetensors_header.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <nlohmann/json.hpp>
#include <tuple>
#include <unordered_set>

#include "io/printable.h"

namespace osp::io {
namespace {

using nlohmann::json;

// A valid header nests containers at most three deep: the top object, a tensor entry, its shape.
constexpr size_t kMaxNesting = 3;

// Thrown by the parser callback to stop at the first structural problem; caught in parse_json.
struct HeaderProblem {
  std::string message;
};

// nlohmann's messages start with "[json.exception.parse_error.101] "; users need the rest.
std::string_view strip_json_prefix(std::string_view what) {
  if (!what.empty() && what.front() == '[') {
    const size_t close = what.find("] ");
    if (close != std::string_view::npos) what.remove_prefix(close + 2);
  }
  return what;
}

// Parses the header text, refusing duplicate keys at any level (spec §1.2; nlohmann would keep
// one silently) and nesting deeper than the format has (which only serves to exhaust memory).
Result<json> parse_json(std::string_view text, std::string_view file) {
  std::vector<std::unordered_set<std::string>> open;  // keys seen, per open container
  auto callback = [&open](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (open.size() >= kMaxNesting)
          throw HeaderProblem{fmt::format(
              "header nests JSON deeper than the format allows ({} levels)", kMaxNesting)};
        open.emplace_back();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        open.pop_back();
        break;
      case json::parse_event_t::key: {
        const auto& key = parsed.get_ref<const std::string&>();
        if (!open.back().insert(key).second)
          throw HeaderProblem{fmt::format("duplicate key '{}' in the header", printable(key))};
        break;
      }
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const HeaderProblem& p) {
    return make_error("{}: {}", file, p.message);
  } catch (const json::exception& e) {
    return make_error("{}: header is not valid JSON: {}", file,
                      printable(strip_json_prefix(e.what()), 200, /*ascii_only=*/true));
  } catch (const std::bad_alloc&) {
    return make_error("{}: header too large to parse in memory", file);
  }
}

// "a JSON string", "a JSON number", ... for messages about values of the wrong type.
std::string json_kind(const json& value) { return fmt::format("a JSON {}", value.type_name()); }

// Reads a JSON array of unsigned integers (shape, data_offsets); false if it is anything else.
bool read_u64_array(const json& value, std::vector<uint64_t>& out) {
  if (!value.is_array()) return false;
  out.clear();
  out.reserve(value.size());
  for (const json& v : value) {
    if (!v.is_number_unsigned()) return false;
    out.push_back(v.get<uint64_t>());
  }
  return true;
}

Status read_metadata(const json& value, std::string_view file, SafetensorsMetadata& out) {
  if (!value.is_object())
    return make_error("{}: __metadata__ is {}; it must be an object of strings", file,
                      json_kind(value));
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string())
      return make_error("{}: __metadata__ key '{}' holds {}; only strings are allowed", file,
                        printable(key), json_kind(v));
    out.emplace(key, v.get<std::string>());
  }
  return {};
}

Status size_tensor(SafetensorsTensorInfo& t, const std::string& who) {
  auto size = checked_tensor_size(t.dtype, t.shape, who);
  if (!size) return size.error();
  t.numel = size->numel;
  if (t.end - t.begin != size->bytes)
    return make_error("{}: shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {}", who,
                      format_shape(t.shape), safetensors_dtype_name(t.dtype), size->bytes, t.begin,
                      t.end, t.end - t.begin);
  return {};
}

Result<SafetensorsTensorInfo> read_entry(const std::string& name, const json& entry,
                                         uint64_t buffer_len, std::string_view file) {
  const std::string who = fmt::format("{}: tensor '{}'", file, printable(name));
  if (!entry.is_object())
    return make_error("{}: entry is {}, not an object", who, json_kind(entry));
  for (const auto& [key, v] : entry.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      return make_error("{}: unknown field '{}'", who, printable(key));
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!entry.contains(key)) return make_error("{}: missing field '{}'", who, key);

  SafetensorsTensorInfo t;
  t.name = name;
  const json& dtype = entry.at("dtype");
  if (!dtype.is_string()) return make_error("{}: dtype is {}, not a string", who, json_kind(dtype));
  const auto parsed = parse_safetensors_dtype(dtype.get_ref<const std::string&>());
  if (!parsed)
    return make_error("{}: unknown dtype '{}'", who,
                      printable(dtype.get_ref<const std::string&>(), 40));
  t.dtype = *parsed;
  if (!read_u64_array(entry.at("shape"), t.shape))
    return make_error("{}: shape must be an array of non-negative integers", who);
  std::vector<uint64_t> offsets;
  if (!read_u64_array(entry.at("data_offsets"), offsets) || offsets.size() != 2)
    return make_error("{}: data_offsets must be two non-negative integers [begin, end]", who);
  t.begin = offsets[0];
  t.end = offsets[1];
  if (t.end < t.begin)
    return make_error("{}: data_offsets [{}, {}] end before they begin", who, t.begin, t.end);
  OSP_TRY(size_tensor(t, who));
  if (t.end > buffer_len)
    return make_error("{}: tensor '{}' ends at byte {} but the buffer has {} bytes", file,
                      printable(name), t.end, buffer_len);
  return t;
}

// Spec §1.4: sorted by begin, the tensors tile the buffer exactly (no gap, no overlap, no tail).
Status check_tiling(const std::vector<SafetensorsTensorInfo>& tensors, uint64_t buffer_len,
                    std::string_view file) {
  uint64_t covered = 0;  // bytes [0, covered) belong to the tensors seen so far
  const SafetensorsTensorInfo* prev = nullptr;
  for (const SafetensorsTensorInfo& t : tensors) {
    if (t.begin > covered)
      return make_error("{}: bytes [{}, {}) of the buffer belong to no tensor (gap before '{}')",
                        file, covered, t.begin, printable(t.name));
    if (t.begin < covered)
      return make_error("{}: tensors '{}' [{}, {}) and '{}' [{}, {}) overlap", file,
                        printable(prev->name), prev->begin, prev->end, printable(t.name), t.begin,
                        t.end);
    covered = t.end;
    prev = &t;
  }
  if (covered != buffer_len)
    return make_error("{}: bytes [{}, {}) of the buffer belong to no tensor (trailing data)", file,
                      covered, buffer_len);
  return {};
}

}  // namespace

std::string format_shape(std::span<const uint64_t> shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

Result<SafetensorsHeader> parse_safetensors(std::span<const std::byte> image,
                                            std::string_view file) {
  if (image.size() < 8)
    return make_error(
        "{}: {} bytes is too short for a safetensors file (the header length alone "
        "takes 8)",
        file, image.size());
  uint64_t n = 0;
  std::memcpy(&n, image.data(), 8);  // little-endian u64 (host order checked in safetensors_dtype)
  if (n > kSafetensorsMaxHeaderBytes)
    return make_error("{}: header length {} exceeds the limit of {} bytes", file, n,
                      kSafetensorsMaxHeaderBytes);
  if (n > image.size() - 8)
    return make_error("{}: header length {} runs past the end of the file ({} bytes)", file, n,
                      image.size());
  const std::string_view text(reinterpret_cast<const char*>(image.data()) + 8, n);
  if (text.empty() || text.front() != '{')
    return make_error("{}: header does not start with '{{'", file);

  // nlohmann's lexer takes a NUL byte for the end of input and would ignore what follows; JSON
  // allows no raw NUL anywhere, so refuse it here (NUL padding is the usual culprit).
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos)
    return make_error("{}: header is not valid JSON: NUL byte at header offset {}", file, nul);
  auto root = parse_json(text, file);
  if (!root) return root.error();
  SafetensorsHeader header;
  header.buffer_offset = 8 + n;
  const uint64_t buffer_len = image.size() - header.buffer_offset;
  for (const auto& [key, value] : root->items()) {
    if (key == "__metadata__") {
      OSP_TRY(read_metadata(value, file, header.metadata));
      continue;
    }
    auto entry = read_entry(key, value, buffer_len, file);
    if (!entry) return entry.error();
    header.tensors.push_back(std::move(entry).value());
  }
  std::sort(header.tensors.begin(), header.tensors.end(), [](const auto& a, const auto& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  OSP_TRY(check_tiling(header.tensors, buffer_len, file));
  return header;
}

Result<TensorSize> checked_tensor_size(SafetensorsDType dtype, const std::vector<uint64_t>& shape,
                                      const std::string& who) {
  uint64_t numel = 1;
  for (uint64_t d : shape)
    if (__builtin_mul_overflow(numel, d, &numel))
      return make_error("{}: shape {} has more elements than 64 bits can count", who, format_shape(shape));
  uint64_t bits = 0;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(safetensors_dtype_bits(dtype)), &bits))
    return make_error("{}: shape {} of {} is too large to address", who, format_shape(shape),
                      safetensors_dtype_name(dtype));
  if (bits % 8 != 0)
    return make_error("{}: {} elements of {} do not fill a whole number of bytes", who, numel,
                      safetensors_dtype_name(dtype));
  return TensorSize{numel, bits / 8};
}

}  // namespace osp::io
