// st_tool: a small command-line front end to osp's safetensors reader and writer, used by the
// interop tests (test_safetensors_interop.py) to check files against the Python package.
//   st_tool dump FILE             JSON: metadata, and per tensor dtype, shape, offsets, raw bytes
//                                 (hex) and, for numeric dtypes, the values as f64 (hex, LE)
//   st_tool copy IN OUT           read IN with our reader, write every tensor to OUT with our
//   writer st_tool convert IN OUT DTYPE  like copy, but F32 tensors are re-encoded as DTYPE (F16,
//   BF16, F64) st_tool check FILE            exit 0 if FILE is valid, else print the error and exit
//   1
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace {

using namespace osp::io;

std::string hex(std::span<const std::byte> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) out += fmt::format("{:02x}", static_cast<unsigned>(b));
  return out;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  return 1;
}

int dump(const char* file) {
  auto r = SafetensorsReader::open(file);
  if (!r) return fail(r.error().message);
  nlohmann::json out;
  out["metadata"] = r->metadata();
  out["buffer_offset"] = r->buffer_offset();
  out["tensors"] = nlohmann::json::array();
  for (const auto& t : r->tensors()) {
    nlohmann::json j;
    j["name"] = t.name;
    j["dtype"] = std::string(safetensors_dtype_name(t.dtype));
    j["shape"] = t.shape;
    j["data_offsets"] = {t.begin, t.end};
    j["hex"] = hex(r->bytes(t));
    if (safetensors_dtype_is_numeric(t.dtype)) {
      auto values = r->read_f64(t.name);
      if (!values) return fail(values.error().message);
      j["f64hex"] = hex(std::as_bytes(std::span(*values)));
    }
    out["tensors"].push_back(std::move(j));
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

// Copies IN to OUT; with `to` set, F32 tensors are re-encoded through encode_f32.
int rewrite(const char* in, const char* out, std::optional<SafetensorsDType> to) {
  auto r = SafetensorsReader::open(in);
  if (!r) return fail(r.error().message);
  std::vector<std::vector<std::byte>> converted;  // owns re-encoded bytes until written
  converted.reserve(r->tensors().size());
  std::vector<SafetensorsTensor> tensors;
  for (const auto& t : r->tensors()) {
    SafetensorsTensor w{t.name, t.dtype, t.shape, r->bytes(t)};
    if (to && t.dtype == SafetensorsDType::kF32) {
      auto values = r->read_f32(t.name);
      if (!values) return fail(values.error().message);
      converted.push_back(encode_f32(*values, *to));
      w.dtype = *to;
      w.bytes = converted.back();
    }
    tensors.push_back(std::move(w));
  }
  const auto st = write_safetensors(out, tensors, r->metadata());
  return st ? 0 : fail(st.error().message);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "dump" && argc == 3) return dump(argv[2]);
  if (cmd == "copy" && argc == 4) return rewrite(argv[2], argv[3], std::nullopt);
  if (cmd == "convert" && argc == 5) {
    const auto to = parse_safetensors_dtype(argv[4]);
    if (!to || (*to != SafetensorsDType::kF16 && *to != SafetensorsDType::kBF16 &&
                *to != SafetensorsDType::kF64 && *to != SafetensorsDType::kF32))
      return fail(fmt::format("st_tool: cannot convert to '{}'", argv[4]));
    return rewrite(argv[2], argv[3], to);
  }
  if (cmd == "check" && argc == 3) {
    auto r = SafetensorsReader::open(argv[2]);
    return r ? 0 : fail(r.error().message);
  }
  return fail("usage: st_tool dump FILE | copy IN OUT | convert IN OUT DTYPE | check FILE");
}
