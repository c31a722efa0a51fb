// safetensors writer (see safetensors_writer.h).
#include "io/safetensors_writer.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <numeric>
#include <unordered_set>

#include "core/atomic_file.h"
#include "io/printable.h"

namespace osp::io {
namespace {

// Checks one tensor's byte count against dtype and shape.
Status check_tensor(const SafetensorsTensor& t, std::string_view file) {
  const std::string who = fmt::format("{}: tensor '{}'", file, printable(t.name));
  auto size = checked_tensor_size(t.dtype, t.shape, who);
  if (!size) return size.error();
  if (t.bytes.size() != size->bytes)
    return make_error("{}: shape {} of {} needs {} bytes but {} were given", who, format_shape(t.shape),
                      safetensors_dtype_name(t.dtype), size->bytes, t.bytes.size());
  return {};
}

// Spec §1.5: descending dtype alignment (the enum order), then name (bytewise, as the reference
// writer compares Rust strings); every tensor is then naturally aligned in an 8-aligned buffer.
std::vector<size_t> write_order(std::span<const SafetensorsTensor> tensors) {
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (tensors[a].dtype != tensors[b].dtype) return tensors[a].dtype > tensors[b].dtype;
    return tensors[a].name < tensors[b].name;
  });
  return order;
}

// The header JSON in the reference writer's key order (__metadata__ first, then tensors in
// buffer order; dtype, shape, data_offsets), compact, so files match byte for byte.
Result<std::string> header_json(std::span<const SafetensorsTensor> tensors,
                                std::span<const size_t> order, const SafetensorsMetadata& metadata,
                                std::string_view file) {
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  if (metadata.find("format") == metadata.end()) meta["format"] = "pt";
  for (const auto& [k, v] : metadata) meta[k] = v;
  root["__metadata__"] = std::move(meta);
  uint64_t offset = 0;
  for (size_t i : order) {
    const SafetensorsTensor& t = tensors[i];
    const uint64_t end = offset + t.bytes.size();  // no overflow: the bytes exist in memory
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = std::string(safetensors_dtype_name(t.dtype));
    entry["shape"] = t.shape;
    entry["data_offsets"] = {offset, end};
    root[t.name] = std::move(entry);
    offset = end;
  }
  try {
    return root.dump();
  } catch (const nlohmann::json::exception&) {
    // dump() refuses strings that are not UTF-8 (the format requires a UTF-8 header).
    return make_error("{}: a tensor name or metadata string is not valid UTF-8", file);
  }
}

}  // namespace

Result<SafetensorsLayout> layout_safetensors(std::span<const SafetensorsTensor> tensors,
                                             const SafetensorsMetadata& metadata,
                                             std::string_view file) {
  std::unordered_set<std::string_view> seen;
  for (const SafetensorsTensor& t : tensors) {
    if (t.name == "__metadata__")
      return make_error("{}: '__metadata__' is reserved and cannot name a tensor", file);
    if (!seen.insert(t.name).second)
      return make_error("{}: tensor '{}' is given twice", file, printable(t.name));
    OSP_TRY(check_tensor(t, file));
  }
  SafetensorsLayout layout;
  layout.order = write_order(tensors);
  auto json = header_json(tensors, layout.order, metadata, file);
  if (!json) return json.error();
  std::string& text = *json;
  text.append((8 - text.size() % 8) % 8, ' ');  // spec §1.1: the buffer starts 8-aligned
  if (text.size() > kSafetensorsMaxHeaderBytes)
    return make_error("{}: header of {} bytes exceeds the format's limit of {}", file, text.size(),
                      kSafetensorsMaxHeaderBytes);
  const uint64_t n = text.size();
  layout.header.resize(8 + text.size());
  std::memcpy(layout.header.data(), &n, 8);
  std::memcpy(layout.header.data() + 8, text.data(), text.size());
  return layout;
}

Status write_safetensors(const std::filesystem::path& path,
                         std::span<const SafetensorsTensor> tensors,
                         const SafetensorsMetadata& metadata) {
  auto layout = layout_safetensors(tensors, metadata, path.string());
  if (!layout) return layout.error();
  auto out = AtomicFile::create(path);
  if (!out) return out.error();
  OSP_TRY(out->write(layout->header));
  for (size_t i : layout->order) OSP_TRY(out->write(tensors[i].bytes));
  return out->commit();
}

Result<std::vector<std::byte>> safetensors_to_bytes(std::span<const SafetensorsTensor> tensors,
                                                    const SafetensorsMetadata& metadata) {
  auto layout = layout_safetensors(tensors, metadata, "<memory>");
  if (!layout) return layout.error();
  std::vector<std::byte> image = std::move(layout->header);
  for (size_t i : layout->order)
    image.insert(image.end(), tensors[i].bytes.begin(), tensors[i].bytes.end());
  return image;
}

}  // namespace osp::io
