// Validated, memory-mapped safetensors files with typed tensor access (see safetensors_reader.h).
#include "io/safetensors_reader.h"

#include <cstring>

#include "io/printable.h"

namespace osp::io {

Result<SafetensorsReader> SafetensorsReader::open(const std::filesystem::path& path) {
  auto map = MappedFile::open(path);
  if (!map) return map.error();
  const std::span<const std::byte> image = map->bytes();
  return build(std::move(map).value(), image, path.string());
}

Result<SafetensorsReader> SafetensorsReader::from_memory(std::span<const std::byte> image,
                                                         std::string file) {
  return build(MappedFile(), image, std::move(file));
}

// The mapping's address survives moves of MappedFile, so `image` stays valid inside the reader.
Result<SafetensorsReader> SafetensorsReader::build(MappedFile map, std::span<const std::byte> image,
                                                   std::string file) {
  auto header = parse_safetensors(image, file);
  if (!header) return header.error();
  SafetensorsReader r;
  r.map_ = std::move(map);
  r.image_ = image;
  r.file_ = std::move(file);
  r.header_ = std::move(header).value();
  for (size_t i = 0; i < r.header_.tensors.size(); ++i)
    r.index_.emplace(r.header_.tensors[i].name, i);
  return r;
}

std::vector<std::string> SafetensorsReader::names() const {
  std::vector<std::string> out;
  out.reserve(header_.tensors.size());
  for (const auto& t : header_.tensors) out.push_back(t.name);
  return out;
}

const SafetensorsTensorInfo* SafetensorsReader::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

Result<const SafetensorsTensorInfo*> SafetensorsReader::info(std::string_view name) const {
  const SafetensorsTensorInfo* t = find(name);
  if (t == nullptr) return make_error("{}: no tensor named '{}'", file_, printable(name));
  return t;
}

std::span<const std::byte> SafetensorsReader::bytes(const SafetensorsTensorInfo& t) const {
  // parse_safetensors proved buffer_offset + end <= image size for every tensor it returned.
  return image_.subspan(header_.buffer_offset + t.begin, t.nbytes());
}

Result<const SafetensorsTensorInfo*> SafetensorsReader::numeric_info(std::string_view name) const {
  auto t = info(name);
  if (!t) return t.error();
  const SafetensorsTensorInfo& ti = **t;
  if (!safetensors_dtype_is_numeric(ti.dtype))
    return make_error("{}: tensor '{}' is {}, which osp does not convert (it converts {})", file_,
                      printable(ti.name), safetensors_dtype_name(ti.dtype),
                      safetensors_numeric_dtype_list());
  return t;
}

template <class T>
Status SafetensorsReader::convert(std::string_view name, std::span<T> out) const {
  auto t = numeric_info(name);
  if (!t) return t.error();
  const SafetensorsTensorInfo& ti = **t;
  if (out.size() != ti.numel)
    return make_error("{}: tensor '{}' has {} elements but the destination holds {}", file_,
                      printable(ti.name), ti.numel, out.size());
  const std::span<const std::byte> src = bytes(ti);
  const size_t done = decode_elements(ti.dtype, src.data(), out.size(), out.data());
  if (done != out.size())
    return make_error("{}: tensor '{}' holds BOOL byte {} at element {}; a BOOL is 0 or 1", file_,
                      printable(ti.name), static_cast<unsigned>(src[done]), done);
  return {};
}

template <class T>
Result<std::vector<T>> SafetensorsReader::convert_to_vector(std::string_view name) const {
  // Numeric dtypes are at least a byte wide, so numel <= the tensor's bytes in the file: the
  // vector costs at most 8x what the file holds.
  auto t = numeric_info(name);
  if (!t) return t.error();
  std::vector<T> out((*t)->numel);
  OSP_TRY(convert(name, std::span<T>(out)));
  return out;
}

Status SafetensorsReader::read(std::string_view name, std::span<float> out) const {
  return convert(name, out);
}

Status SafetensorsReader::read(std::string_view name, std::span<double> out) const {
  return convert(name, out);
}

Result<std::vector<float>> SafetensorsReader::read_f32(std::string_view name) const {
  return convert_to_vector<float>(name);
}

Result<std::vector<double>> SafetensorsReader::read_f64(std::string_view name) const {
  return convert_to_vector<double>(name);
}

Status SafetensorsReader::read_exact(std::string_view name, SafetensorsDType dtype,
                                     std::span<std::byte> out) const {
  auto t = info(name);
  if (!t) return t.error();
  const SafetensorsTensorInfo& ti = **t;
  if (ti.dtype != dtype)
    return make_error("{}: tensor '{}' is stored as {}, expected {}", file_, printable(ti.name),
                      safetensors_dtype_name(ti.dtype), safetensors_dtype_name(dtype));
  if (out.size() != ti.nbytes())
    return make_error("{}: tensor '{}' has {} bytes but the destination holds {}", file_,
                      printable(ti.name), ti.nbytes(), out.size());
  if (!out.empty()) std::memcpy(out.data(), bytes(ti).data(), out.size());
  return {};
}

}  // namespace osp::io
