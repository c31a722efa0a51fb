// Malformed GGUF files (formats.md §3.12): each is refused with one line naming the file, never
// a crash; images are built byte by byte so every field can lie.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "io/gguf_reader.h"
#include "io/gguf_writer.h"

namespace osp::io {
namespace {

// A GGUF image assembled field by field.
struct Image {
  std::vector<std::byte> b;
  template <class T>
  Image& put(T v) {
    const size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &v, sizeof(T));
    return *this;
  }
  Image& str(const std::string& s) {
    put<uint64_t>(s.size());
    for (char c : s) b.push_back(std::byte(c));
    return *this;
  }
  Image& header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
    return put<uint32_t>(kGgufMagic).put<uint32_t>(version).put<uint64_t>(tensors).put<uint64_t>(kvs);
  }
  Image& kv_u32(const std::string& k, uint32_t v) { return str(k).put<uint32_t>(4).put<uint32_t>(v); }
  Image& info(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    str(name).put<uint32_t>(uint32_t(ne.size()));
    for (uint64_t d : ne) put<uint64_t>(d);
    return put<uint32_t>(type).put<uint64_t>(offset);
  }
  Image& align(size_t a = 32) {
    b.resize((b.size() + a - 1) / a * a);
    return *this;
  }
  Image& data(size_t n) {
    b.resize(b.size() + n, std::byte{0x3c});
    return *this;
  }
};

std::string error_of(const Image& img) {
  auto r = GgufReader::from_memory(img.b, "bad.gguf");
  if (r) return "accepted";
  const std::string m = r.error().message;
  EXPECT_EQ(m.rfind("bad.gguf: ", 0), 0u) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  return m;
}

#define EXPECT_REFUSED(img, text)                                            \
  do {                                                                       \
    const std::string e_ = error_of(img);                                    \
    EXPECT_NE(e_.find(text), std::string::npos) << "got: " << e_;            \
  } while (0)

Image valid() {
  Image i;
  i.header(2, 1).kv_u32("llama.block_count", 1).info("a", {8, 2}, 0, 0).info("b", {32}, 8, 64).align().data(64 + 34);
  return i;
}

TEST(GgufMalformed, ValidImageIsAccepted) {
  auto r = GgufReader::from_memory(valid().b, "ok.gguf");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->tensors().size(), 2u);
}

TEST(GgufMalformed, Version2IsRead) {  // same layout as 3 (formats.md §3.1)
  Image v2;
  v2.header(1, 0, 2).info("a", {4}, 0, 0).align().data(16);
  auto r = GgufReader::from_memory(v2.b, "v2.gguf");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->version(), 2u);
}

TEST(GgufMalformed, EveryTruncationIsRefused) {
  const Image full = valid();
  for (size_t n = 0; n < full.b.size(); ++n) {
    Image cut;
    cut.b.assign(full.b.begin(), full.b.begin() + long(n));
    auto r = GgufReader::from_memory(cut.b, "cut.gguf");
    EXPECT_FALSE(r) << "accepted a file cut at " << n;
  }
}

TEST(GgufMalformed, HeaderFields) {
  Image magic = valid();
  magic.b[0] = std::byte{'X'};
  EXPECT_REFUSED(magic, "bad magic");
  Image v1;
  v1.header(0, 0, 1);
  EXPECT_REFUSED(v1, "version 1");
  Image big;
  big.header(0, 0, 0x03000000u);
  EXPECT_REFUSED(big, "big-endian");
  Image v9;
  v9.header(0, 0, 9);
  EXPECT_REFUSED(v9, "unsupported GGUF version 9");
  Image kvs;
  kvs.header(0, uint64_t(1) << 60);
  EXPECT_REFUSED(kvs, "metadata_kv_count");
  Image ts;
  ts.header(uint64_t(1) << 62, 0);
  EXPECT_REFUSED(ts, "tensor_count");
}

TEST(GgufMalformed, MetadataFields) {
  Image longstr;
  longstr.header(0, 1).put<uint64_t>(1000).str("k");
  EXPECT_REFUSED(longstr, "runs past the end");
  Image type;
  type.header(0, 1).str("k").put<uint32_t>(13).put<uint32_t>(0);
  EXPECT_REFUSED(type, "unknown value type 13");
  Image arr;
  arr.header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(uint64_t(1) << 40);
  EXPECT_REFUSED(arr, "more than the file holds");
  Image deep;
  deep.header(0, 1).str("k");
  deep.put<uint32_t>(9);  // the value is an array of arrays of arrays ...
  for (int i = 0; i < 10; ++i) deep.put<uint32_t>(9).put<uint64_t>(1);
  deep.put<uint32_t>(4).put<uint64_t>(1).put<uint32_t>(1);
  EXPECT_REFUSED(deep, "nests arrays");
  Image dup;
  dup.header(0, 2).kv_u32("k", 1).kv_u32("k", 2);
  EXPECT_REFUSED(dup, "duplicate key k");
  Image boolean;
  boolean.header(0, 1).str("k").put<uint32_t>(7).put<uint8_t>(2);
  EXPECT_REFUSED(boolean, "bool value 2");
  Image align3;
  align3.header(0, 1).kv_u32("general.alignment", 48);
  EXPECT_REFUSED(align3, "not a power of two");
  Image align64;
  align64.header(0, 1).str("general.alignment").put<uint32_t>(10).put<uint64_t>(32);
  EXPECT_REFUSED(align64, "must be a u32");
}

TEST(GgufMalformed, TensorInfos) {
  auto one = [](const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t off, size_t data) {
    Image i;
    i.header(1, 0).info(name, ne, type, off).align().data(data);
    return i;
  };
  EXPECT_REFUSED(one(std::string(64, 'n'), {4}, 0, 0, 16), "longer than 63 bytes");
  EXPECT_REFUSED(one("t", {4, 1, 1, 1, 1}, 0, 0, 16), "5 dims");
  EXPECT_REFUSED(one("t", {}, 0, 0, 16), "0 dims");
  EXPECT_REFUSED(one("t", {4, 0}, 0, 0, 16), "dim 1 = 0");
  EXPECT_REFUSED(one("t", {4}, 99, 0, 16), "type id 99");
  EXPECT_REFUSED(one("t", {4}, 16, 0, 16), "type id 16");  // IQ2_XXS: no fixed layout in §3.5
  EXPECT_REFUSED(one("t", {4}, 4, 0, 16), "type id 4");    // retired
  EXPECT_REFUSED(one("t", {16}, 8, 0, 64), "not a multiple of Q8_0's block 32");
  EXPECT_REFUSED(one("t", {uint64_t(1) << 40, uint64_t(1) << 40}, 0, 0, 16), "overflows");
  EXPECT_REFUSED(one("t", {4}, 0, 8, 64), "not aligned");
  EXPECT_REFUSED(one("t", {4}, 0, 0, 15), "ends past the end");
  EXPECT_REFUSED(one("t", {4}, 0, uint64_t(1) << 63, 64), "ends past the end");
  EXPECT_REFUSED(one("t", {uint64_t(1) << 61}, 0, 0, 64), "ends past the end");
  Image dup;
  dup.header(2, 0).info("t", {4}, 0, 0).info("t", {4}, 0, 32).align().data(64);
  EXPECT_REFUSED(dup, "duplicate tensor name t");
  Image overlap;
  overlap.header(2, 0).info("a", {16}, 0, 0).info("b", {4}, 0, 32).align().data(64);
  EXPECT_REFUSED(overlap, "overlap");
}

}  // namespace
}  // namespace osp::io
