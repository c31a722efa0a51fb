// GGUF reader: a bounds-checked cursor over the image; nothing is trusted before it is checked.
#include "io/gguf_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "io/gguf_quant.h"
#include "io/printable.h"

namespace osp::io {
namespace {

constexpr int kMaxArrayDepth = 8;

// Reads little-endian values from the image; every read checks the remaining length first.
class Cursor {
 public:
  Cursor(std::span<const std::byte> image, const std::string& file) : image_(image), file_(file) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return image_.size() - pos_; }

  template <class T>
  Result<T> get(const char* what) {
    if (left() < sizeof(T))
      return make_error("{}: truncated at byte {} while reading {}", file_, pos_, what);
    T v;
    std::memcpy(&v, image_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  Result<std::string> string(const char* what) {
    auto n = get<uint64_t>(what);
    if (!n) return n.error();
    if (*n > left())
      return make_error("{}: {} of {} bytes at byte {} runs past the end of the file", file_, what, *n, pos_);
    std::string s(reinterpret_cast<const char*>(image_.data() + pos_), size_t(*n));
    pos_ += *n;
    return s;
  }

 private:
  std::span<const std::byte> image_;
  const std::string& file_;
  uint64_t pos_ = 0;
};

Result<GgufValue> read_value(Cursor& c, uint32_t type, int depth, const std::string& file, const std::string& key) {
  GgufValue v;
  const auto size = gguf_scalar_size(type);
  if (!size) return make_error("{}: key {} has unknown value type {}", file, key, type);
  v.type = static_cast<GgufValueType>(type);
  switch (v.type) {
    case GgufValueType::kString: {
      auto s = c.string("a string value");
      if (!s) return s.error();
      v.s = std::move(*s);
      return v;
    }
    case GgufValueType::kArray: {
      if (depth >= kMaxArrayDepth) return make_error("{}: key {} nests arrays deeper than {}", file, key, kMaxArrayDepth);
      auto et = c.get<uint32_t>("an array type");
      auto n = c.get<uint64_t>("an array length");
      if (!et || !n) return make_error("{}: truncated array header of key {}", file, key);
      const auto esize = gguf_scalar_size(*et);
      if (!esize) return make_error("{}: key {} has an array of unknown type {}", file, key, *et);
      // Every element takes at least 1 byte (strings and arrays at least 8), so this bounds n.
      const uint64_t min_each = *esize ? *esize : 8;
      if (*n > c.left() / min_each)
        return make_error("{}: array of key {} claims {} elements, more than the file holds", file, key, *n);
      v.elem = static_cast<GgufValueType>(*et);
      v.array.reserve(size_t(*n));
      for (uint64_t i = 0; i < *n; ++i) {
        auto e = read_value(c, *et, depth + 1, file, key);
        if (!e) return e.error();
        v.array.push_back(std::move(*e));
      }
      return v;
    }
    default:
      break;
  }
  uint64_t raw = 0;
  if (c.left() < *size) return make_error("{}: truncated value of key {}", file, key);
  for (uint64_t b = 0; b < *size; ++b) {
    auto byte = c.get<uint8_t>("a value");
    raw |= uint64_t(*byte) << (8 * b);
  }
  switch (v.type) {
    case GgufValueType::kI8: v.i = int8_t(raw); break;
    case GgufValueType::kI16: v.i = int16_t(raw); break;
    case GgufValueType::kI32: v.i = int32_t(raw); break;
    case GgufValueType::kI64: v.i = int64_t(raw); break;
    case GgufValueType::kF32: { float f; uint32_t r = uint32_t(raw); std::memcpy(&f, &r, 4); v.f = f; break; }
    case GgufValueType::kF64: std::memcpy(&v.f, &raw, 8); break;
    case GgufValueType::kBool:
      if (raw > 1) return make_error("{}: key {} has bool value {}", file, key, raw);
      v.u = raw;
      break;
    default: v.u = raw;
  }
  return v;
}

bool overflow_mul(uint64_t a, uint64_t b, uint64_t& out) { return __builtin_mul_overflow(a, b, &out); }

Result<GgufTensorInfo> read_tensor_info(Cursor& c, const std::string& file) {
  GgufTensorInfo t;
  auto name = c.string("a tensor name");
  if (!name) return name.error();
  t.name = std::move(*name);
  const std::string shown = printable(t.name, 64, true);  // names are untrusted bytes
  if (t.name.size() > kGgufMaxNameBytes) return make_error("{}: tensor name \"{}\" is longer than 63 bytes", file, printable(t.name, 32, true));
  auto nd = c.get<uint32_t>("n_dims");
  if (!nd) return nd.error();
  if (*nd == 0 || *nd > 4) return make_error("{}: tensor {} has {} dims (1 to 4 allowed)", file, shown, *nd);
  t.numel = 1;
  for (uint32_t d = 0; d < *nd; ++d) {
    auto ne = c.get<uint64_t>("a dim");
    if (!ne) return ne.error();
    if (*ne == 0 || *ne > uint64_t(INT64_MAX)) return make_error("{}: tensor {} has dim {} = {}", file, shown, d, int64_t(*ne));
    if (overflow_mul(t.numel, *ne, t.numel)) return make_error("{}: tensor {} element count overflows", file, shown);
    t.ne.push_back(*ne);
  }
  auto type = c.get<uint32_t>("a tensor type");
  auto off = c.get<uint64_t>("a tensor offset");
  if (!type || !off) return make_error("{}: truncated tensor info of {}", file, shown);
  const auto traits = gguf_type_traits(*type);
  if (!traits) return make_error("{}: tensor {} has unknown or unsupported type id {}", file, shown, *type);
  t.type = static_cast<GgufType>(*type);
  if (t.ne[0] % traits->block != 0)
    return make_error("{}: tensor {}: ne[0] = {} is not a multiple of {}'s block {}", file, shown, t.ne[0], traits->name, traits->block);
  if (overflow_mul(t.numel / traits->block, traits->type_size, t.nbytes))
    return make_error("{}: tensor {} byte size overflows", file, shown);
  t.offset = *off;
  return t;
}

}  // namespace

std::optional<uint64_t> GgufValue::as_uint() const {
  switch (type) {
    case GgufValueType::kU8: case GgufValueType::kU16: case GgufValueType::kU32: case GgufValueType::kU64: return u;
    case GgufValueType::kI8: case GgufValueType::kI16: case GgufValueType::kI32: case GgufValueType::kI64:
      if (i >= 0) return uint64_t(i);
      return std::nullopt;
    default: return std::nullopt;
  }
}

const char* gguf_value_type_name(GgufValueType t) {
  static constexpr const char* kNames[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
                                           "string", "array", "u64", "i64", "f64"};
  const auto i = uint32_t(t);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

std::string GgufValue::summary() const {
  switch (type) {
    case GgufValueType::kString: return s.size() > 60 ? fmt::format("\"{}…\" ({} bytes)", s.substr(0, 60), s.size()) : fmt::format("\"{}\"", s);
    case GgufValueType::kArray: return fmt::format("[{} × {}]", array.size(), gguf_value_type_name(elem));
    case GgufValueType::kF32: case GgufValueType::kF64: return fmt::format("{}", f);
    case GgufValueType::kBool: return u ? "true" : "false";
    case GgufValueType::kI8: case GgufValueType::kI16: case GgufValueType::kI32: case GgufValueType::kI64: return fmt::format("{}", i);
    default: return fmt::format("{}", u);
  }
}

Result<GgufReader> GgufReader::open(const std::filesystem::path& path) {
  auto map = MappedFile::open(path);
  if (!map) return map.error();
  const auto image = map->bytes();
  return parse(std::move(*map), image, path.string());
}

Result<GgufReader> GgufReader::from_memory(std::span<const std::byte> image, std::string file) {
  return parse(MappedFile(), image, std::move(file));
}

Result<GgufReader> GgufReader::parse(MappedFile map, std::span<const std::byte> image, std::string file) {
  GgufReader r;
  r.map_ = std::move(map);
  r.image_ = image;
  r.file_ = std::move(file);
  const std::string& f = r.file_;
  Cursor c(image, f);
  auto magic = c.get<uint32_t>("the magic");
  if (!magic) return magic.error();
  if (*magic != kGgufMagic) return make_error("{}: not a GGUF file (bad magic)", f);
  auto version = c.get<uint32_t>("the version");
  if (!version) return version.error();
  if (*version == 0x03000000u || *version == 0x02000000u) return make_error("{}: big-endian GGUF is not supported", f);
  if (*version == 1) return make_error("{}: GGUF version 1 is not supported", f);
  if (*version != 2 && *version != 3) return make_error("{}: unsupported GGUF version {}", f, *version);
  r.version_ = *version;
  auto n_tensors = c.get<uint64_t>("tensor_count");
  auto n_kv = c.get<uint64_t>("metadata_kv_count");
  if (!n_tensors || !n_kv) return make_error("{}: truncated header", f);
  // A KV pair takes at least 12 bytes and a tensor info at least 32: bounds for hostile counts.
  if (*n_kv > c.left() / 12) return make_error("{}: metadata_kv_count {} exceeds what the file can hold", f, *n_kv);
  if (*n_tensors > c.left() / 32) return make_error("{}: tensor_count {} exceeds what the file can hold", f, *n_tensors);
  std::set<std::string, std::less<>> keys;
  for (uint64_t k = 0; k < *n_kv; ++k) {
    auto key = c.string("a key");
    if (!key) return key.error();
    if (!keys.insert(*key).second) return make_error("{}: duplicate key {}", f, printable(*key, 120, true));
    auto type = c.get<uint32_t>("a value type");
    if (!type) return type.error();
    auto v = read_value(c, *type, 0, f, printable(*key, 120, true));
    if (!v) return v.error();
    r.kv_.push_back({std::move(*key), std::move(*v)});
  }
  if (const GgufValue* a = r.find("general.alignment")) {
    if (a->type != GgufValueType::kU32) return make_error("{}: general.alignment must be a u32", f);
    if (a->u == 0 || (a->u & (a->u - 1)) != 0) return make_error("{}: general.alignment {} is not a power of two", f, a->u);
    r.alignment_ = uint32_t(a->u);
  }
  std::set<std::string, std::less<>> names;
  for (uint64_t t = 0; t < *n_tensors; ++t) {
    auto info = read_tensor_info(c, f);
    if (!info) return info.error();
    if (!names.insert(info->name).second) return make_error("{}: duplicate tensor name {}", f, printable(info->name, 64, true));
    r.tensors_.push_back(std::move(*info));
  }
  const uint64_t a = r.alignment_;
  r.data_offset_ = (c.pos() + a - 1) / a * a;
  if (r.data_offset_ > image.size() && !r.tensors_.empty()) return make_error("{}: the data section starts past the end of the file", f);
  const uint64_t data_size = image.size() > r.data_offset_ ? image.size() - r.data_offset_ : 0;
  std::vector<const GgufTensorInfo*> by_offset;
  for (const auto& t : r.tensors_) {
    if (t.offset % a != 0) return make_error("{}: tensor {} offset {} is not aligned to {}", f, printable(t.name, 64, true), t.offset, a);
    if (t.offset > data_size || t.nbytes > data_size - t.offset)
      return make_error("{}: tensor {} ends past the end of the file ({} + {} bytes, data section {})", f, printable(t.name, 64, true), t.offset, t.nbytes, data_size);
    by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(), [](auto* x, auto* y) { return x->offset < y->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i - 1]->offset + by_offset[i - 1]->nbytes > by_offset[i]->offset)
      return make_error("{}: tensors {} and {} overlap", f, printable(by_offset[i - 1]->name, 64, true), printable(by_offset[i]->name, 64, true));
  return r;
}

const GgufValue* GgufReader::find(std::string_view key) const {
  for (const auto& kv : kv_)
    if (kv.key == key) return &kv.value;
  return nullptr;
}

const GgufTensorInfo* GgufReader::tensor(std::string_view name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

std::span<const std::byte> GgufReader::bytes(const GgufTensorInfo& t) const {
  return image_.subspan(size_t(data_offset_ + t.offset), size_t(t.nbytes));
}

Result<std::vector<float>> GgufReader::read_f32(std::string_view name) const {
  const GgufTensorInfo* t = tensor(name);
  if (t == nullptr) return make_error("{}: no tensor {}", file_, printable(name, 64, true));
  auto v = gguf_decode(bytes(*t), t->numel, t->type);
  if (!v) return make_error("{}: tensor {}: {}", file_, printable(name, 64, true), v.error().message);
  return v;
}

}  // namespace osp::io
