// GGUF writer: little-endian encoding of metadata and tensor infos, aligned data section.
#include "io/gguf_writer.h"

#include <cstring>

#include "core/atomic_file.h"

namespace osp::io {
namespace {

template <class T>
void put(std::vector<std::byte>& out, T v) {  // hosts are little-endian (x86-64, aarch64)
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}
void put_string(std::vector<std::byte>& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  const size_t at = out.size();
  out.resize(at + s.size());
  if (!s.empty()) std::memcpy(out.data() + at, s.data(), s.size());
}
uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

void GgufWriter::key(std::string_view k, GgufValueType t) {
  put_string(kv_, k);
  put<uint32_t>(kv_, uint32_t(t));
  ++kv_count_;
}
void GgufWriter::add_string(std::string_view k, std::string_view v) {
  key(k, GgufValueType::kString);
  put_string(kv_, v);
}
void GgufWriter::add_u32(std::string_view k, uint32_t v) {
  key(k, GgufValueType::kU32);
  put<uint32_t>(kv_, v);
}
void GgufWriter::add_f32(std::string_view k, float v) {
  key(k, GgufValueType::kF32);
  put<float>(kv_, v);
}
void GgufWriter::add_bool(std::string_view k, bool v) {
  key(k, GgufValueType::kBool);
  put<uint8_t>(kv_, v ? 1 : 0);
}
void GgufWriter::add_string_array(std::string_view k, std::span<const std::string> values) {
  key(k, GgufValueType::kArray);
  put<uint32_t>(kv_, uint32_t(GgufValueType::kString));
  put<uint64_t>(kv_, values.size());
  for (const auto& s : values) put_string(kv_, s);
}
void GgufWriter::add_i32_array(std::string_view k, std::span<const int32_t> values) {
  key(k, GgufValueType::kArray);
  put<uint32_t>(kv_, uint32_t(GgufValueType::kI32));
  put<uint64_t>(kv_, values.size());
  for (int32_t v : values) put<int32_t>(kv_, v);
}

Status GgufWriter::add_tensor(std::string name, std::vector<uint64_t> ne, GgufType type, Producer produce) {
  const auto traits = gguf_type_traits(uint32_t(type));
  if (!traits) return make_error("tensor {}: unknown GGUF type {}", name, uint32_t(type));
  if (name.size() > kGgufMaxNameBytes) return make_error("tensor name {} is longer than 63 bytes", name);
  if (ne.empty() || ne.size() > 4) return make_error("tensor {}: {} dims (1 to 4 allowed)", name, ne.size());
  for (const auto& t : tensors_)
    if (t.name == name) return make_error("tensor {} is added twice", name);
  uint64_t numel = 1;
  for (uint64_t d : ne) numel *= d;
  if (ne[0] % traits->block != 0)
    return make_error("tensor {}: row of {} elements is not a multiple of {}'s block {}", name, ne[0], traits->name, traits->block);
  const uint64_t nbytes = numel / traits->block * traits->type_size;
  const uint64_t offset = align_up(data_size_, kGgufDefaultAlignment);
  data_size_ = offset + nbytes;
  tensors_.push_back({std::move(name), std::move(ne), type, nbytes, offset, std::move(produce)});
  return {};
}

std::vector<std::byte> GgufWriter::header() const {
  std::vector<std::byte> h;
  put<uint32_t>(h, kGgufMagic);
  put<uint32_t>(h, kGgufVersion);
  put<uint64_t>(h, tensors_.size());
  put<uint64_t>(h, kv_count_);
  h.insert(h.end(), kv_.begin(), kv_.end());
  for (const auto& t : tensors_) {
    put_string(h, t.name);
    put<uint32_t>(h, uint32_t(t.ne.size()));
    for (uint64_t d : t.ne) put<uint64_t>(h, d);
    put<uint32_t>(h, uint32_t(t.type));
    put<uint64_t>(h, t.offset);
  }
  h.resize(align_up(h.size(), kGgufDefaultAlignment), std::byte{0});
  return h;
}

Status GgufWriter::emit(const std::function<Status(std::span<const std::byte>)>& sink) const {
  OSP_TRY(sink(header()));
  uint64_t pos = 0;
  const std::vector<std::byte> zeros(kGgufDefaultAlignment);
  for (const auto& t : tensors_) {
    OSP_TRY(sink(std::span(zeros).first(size_t(t.offset - pos))));
    const std::vector<std::byte> bytes = t.produce();
    if (bytes.size() != t.nbytes)
      return make_error("tensor {}: produced {} bytes, expected {}", t.name, bytes.size(), t.nbytes);
    OSP_TRY(sink(bytes));
    pos = t.offset + t.nbytes;
  }
  return {};
}

Status GgufWriter::write(const std::filesystem::path& path) const {
  auto file = AtomicFile::create(path);
  if (!file) return file.error();
  OSP_TRY(emit([&](std::span<const std::byte> b) { return file->write(b); }));
  return file->commit();
}

Result<std::vector<std::byte>> GgufWriter::to_bytes() const {
  std::vector<std::byte> out;
  OSP_TRY(emit([&](std::span<const std::byte> b) -> Status {
    out.insert(out.end(), b.begin(), b.end());
    return {};
  }));
  return out;
}

}  // namespace osp::io
