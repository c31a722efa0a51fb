// Malformed safetensors files: each is refused with one line that names the file and the problem
// (spec formats.md §0, §1.1-1.4), and random corruption never crashes the reader.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/rng.h"
#include "io/safetensors.h"
#include "io_test_util.h"

namespace osp::io {
namespace {

using test::raw_image;

constexpr const char* kFile = "bad.safetensors";

// Parses `image` and checks the refusal: "<file>: ..." on one line, containing `want`.
void expect_refused(const std::vector<std::byte>& image, const std::string& want) {
  auto r = SafetensorsReader::from_memory(image, kFile);
  ASSERT_FALSE(r.ok()) << "accepted; expected: " << want;
  const std::string& msg = r.error().message;
  EXPECT_EQ(msg.rfind(std::string(kFile) + ": ", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_NE(msg.find(want), std::string::npos) << "message: " << msg << "\nexpected: " << want;
}

// One tensor entry's JSON.
std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  uint64_t begin, uint64_t end) {
  return fmt::format(R"("{}":{{"dtype":"{}","shape":{},"data_offsets":[{},{}]}})", name, dtype,
                     shape, begin, end);
}

// A header object around entries, "{" + inner + "}" (via fmt: GCC 12 warns falsely, -Wrestrict,
// on that string concatenation).
std::string obj(const std::string& inner) { return fmt::format("{{{}}}", inner); }

TEST(SafetensorsMalformed, TooShortForTheLengthField) {
  expect_refused({}, "0 bytes is too short for a safetensors file");
  expect_refused(std::vector<std::byte>(7), "7 bytes is too short");
}

TEST(SafetensorsMalformed, HeaderLengthBeyondTheFileOrTheLimit) {
  const std::string h = obj(entry("a", "F32", "[2]", 0, 8));
  expect_refused(raw_image(h, std::string(8, '\0'), h.size() + 9),
                 fmt::format("header length {} runs past the end of the file ({} bytes)",
                             h.size() + 9, 8 + h.size() + 8));
  expect_refused(raw_image(h, "", ~0ull), "header length 18446744073709551615 exceeds the limit");
  expect_refused(raw_image(h, "", 100'000'001), "exceeds the limit of 100000000 bytes");
}

TEST(SafetensorsMalformed, EveryTruncationOfAValidFileIsRefused) {
  const std::vector<float> w{1, 2, 3, 4, 5, 6};
  const std::vector<std::byte> b16(4);
  auto image =
      safetensors_to_bytes({{{"w", SafetensorsDType::kF32, {2, 3}, std::as_bytes(std::span(w))},
                             {"b", SafetensorsDType::kBF16, {2}, b16}}});
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(SafetensorsReader::from_memory(*image, kFile).ok());
  for (size_t len = 0; len < image->size(); ++len) {
    SCOPED_TRACE(len);
    const std::vector<std::byte> cut(image->begin(), image->begin() + static_cast<long>(len));
    auto r = SafetensorsReader::from_memory(cut, kFile);
    ASSERT_FALSE(r.ok());
  }
  // Cut inside the data: the last tensor's range is named.
  const std::vector<std::byte> cut(image->begin(), image->end() - 1);
  expect_refused(cut, "tensor 'b' ends at byte 28 but the buffer has 27 bytes");
}

TEST(SafetensorsMalformed, SpecExampleMessage) {
  // spec formats.md §0's example, word for word: 203 F32 values need 812 bytes; 640 are there.
  const std::string h = obj(entry("lm_head.weight", "F32", "[203]", 0, 812));
  auto r =
      SafetensorsReader::from_memory(raw_image(h, std::string(640, '\0')), "model.safetensors");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "model.safetensors: tensor 'lm_head.weight' ends at byte 812 but the buffer has 640 "
            "bytes");
}

TEST(SafetensorsMalformed, HeaderIsNotAJsonObject) {
  expect_refused(raw_image(""), "header does not start with '{'");
  expect_refused(raw_image(" {}"), "header does not start with '{'");
  expect_refused(raw_image("[]"), "header does not start with '{'");
  expect_refused(raw_image("{\"a\":"), "header is not valid JSON: parse error");
  expect_refused(raw_image("{} x"), "header is not valid JSON");
  expect_refused(raw_image(std::string_view("{}\0\0", 4)),
                 "header is not valid JSON");                             // NUL padding
  expect_refused(raw_image("{\"\xff\":1}"), "header is not valid JSON");  // not UTF-8
  expect_refused(raw_image("{\"a\":[[[[1]]]]}"), "nests JSON deeper than the format allows");
}

TEST(SafetensorsMalformed, DuplicateKeys) {
  const std::string a = entry("a", "F32", "[1]", 0, 4);
  expect_refused(raw_image(obj(a + "," + a), std::string(4, '\0')), "duplicate key 'a'");
  expect_refused(
      raw_image(R"({"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                std::string(4, '\0')),
      "duplicate key 'dtype'");
  expect_refused(raw_image(R"({"__metadata__":{"k":"1","k":"2"}})"), "duplicate key 'k'");
}

TEST(SafetensorsMalformed, BadTensorEntries) {
  const std::string d4(4, '\0');
  expect_refused(raw_image(R"({"a":[1]})"), "tensor 'a': entry is a JSON array, not an object");
  expect_refused(raw_image(R"({"a":{"dtype":"F32","shape":[1]}})", d4),
                 "tensor 'a': missing field 'data_offsets'");
  expect_refused(raw_image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":0}})", d4),
                 "tensor 'a': unknown field 'x'");
  expect_refused(raw_image(obj(entry("a", "F17", "[1]", 0, 4)), d4),
                 "tensor 'a': unknown dtype 'F17'");
  expect_refused(raw_image(obj(entry("a", "f32", "[1]", 0, 4)), d4), "unknown dtype 'f32'");
  expect_refused(raw_image(R"({"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", d4),
                 "tensor 'a': dtype is a JSON number, not a string");
  for (const char* shape : {"[-1]", "[1.0]", "[\"1\"]", "1", "[null]", "[18446744073709551616]"})
    expect_refused(raw_image(obj(entry("a", "F32", shape, 0, 4)), d4),
                   "tensor 'a': shape must be an array of non-negative integers");
  for (const char* offsets : {"[0]", "[0,4,4]", "[0,-4]", "{}", "[0,4.0]"})
    expect_refused(
        raw_image(
            fmt::format(R"({{"a":{{"dtype":"F32","shape":[1],"data_offsets":{}}}}})", offsets), d4),
        "tensor 'a': data_offsets must be two non-negative integers [begin, end]");
  expect_refused(raw_image(obj(entry("a", "F32", "[1]", 4, 0)), d4),
                 "tensor 'a': data_offsets [4, 0] end before they begin");
}

TEST(SafetensorsMalformed, ShapeAndByteCountsDisagree) {
  expect_refused(raw_image(obj(entry("a", "F32", "[2,3]", 0, 20)), std::string(20, '\0')),
                 "tensor 'a': shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20");
  expect_refused(raw_image(obj(entry("a", "BF16", "[]", 0, 4)), std::string(4, '\0')),
                 "shape [] of BF16 needs 2 bytes");
  expect_refused(raw_image(obj(entry("a", "F4", "[3]", 0, 2)), std::string(2, '\0')),
                 "tensor 'a': 3 elements of F4 do not fill a whole number of bytes");
  expect_refused(raw_image(obj(entry("a", "F6_E2M3", "[2]", 0, 2)), std::string(2, '\0')),
                 "2 elements of F6_E2M3 do not fill a whole number of bytes");
  expect_refused(raw_image(obj(entry("a", "U8", "[4294967296,4294967296]", 0, 0))),
                 "tensor 'a': shape [4294967296, 4294967296] has more elements than 64 bits can "
                 "count");
  expect_refused(raw_image(obj(entry("a", "F64", "[4294967296,536870912]", 0, 0))),
                 "tensor 'a': shape [4294967296, 536870912] of F64 is too large to address");
}

TEST(SafetensorsMalformed, OffsetsOutOfRangeOverlappingOrLeavingGaps) {
  const std::string d8(8, '\0'), d12(12, '\0');
  expect_refused(raw_image(obj(entry("a", "F32", "[1]", 8, 12)), d8),
                 "tensor 'a' ends at byte 12 but the buffer has 8 bytes");
  expect_refused(
      raw_image(obj(entry("a", "U8", "[1]", 18446744073709551615ull, 18446744073709551615ull))),
      "needs 1 bytes but data_offsets [18446744073709551615, 18446744073709551615] hold 0");
  expect_refused(
      raw_image(obj(entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[1]", 4, 8)), d8),
      "tensors 'a' [0, 8) and 'b' [4, 8) overlap");
  expect_refused(
      raw_image(obj(entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 0, 8)), d8),
      "tensors 'a' [0, 8) and 'b' [0, 8) overlap");
  expect_refused(
      raw_image(obj(entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12)), d12),
      "bytes [4, 8) of the buffer belong to no tensor (gap before 'b')");
  expect_refused(raw_image(obj(entry("a", "F32", "[1]", 4, 8)), d8),
                 "bytes [0, 4) of the buffer belong to no tensor (gap before 'a')");
  expect_refused(raw_image(obj(entry("a", "F32", "[1]", 0, 4)), d8),
                 "bytes [4, 8) of the buffer belong to no tensor (trailing data)");
  expect_refused(raw_image("{}", "x"), "bytes [0, 1) of the buffer belong to no tensor");
}

TEST(SafetensorsMalformed, MetadataMustMapStringsToStrings) {
  expect_refused(raw_image(R"({"__metadata__":["pt"]})"),
                 "__metadata__ is a JSON array; it must be an object of strings");
  expect_refused(raw_image(R"({"__metadata__":null})"), "__metadata__ is a JSON null");
  expect_refused(raw_image(R"({"__metadata__":{"step":5}})"),
                 "__metadata__ key 'step' holds a JSON number; only strings are allowed");
  expect_refused(raw_image(R"({"__metadata__":{"a":{"b":"c"}}})"), "key 'a' holds a JSON object");
}

TEST(SafetensorsMalformed, NamesInMessagesAreEscaped) {
  expect_refused(raw_image(obj(entry("a\\nb", "F99", "[1]", 0, 4)), std::string(4, '\0')),
                 "tensor 'a\\x0ab': unknown dtype 'F99'");
}

TEST(SafetensorsMalformed, AcceptsWhatTheSpecAllows) {
  // Trailing spaces (and other JSON whitespace) after the object; zero-sized tensors sharing an
  // offset with their neighbours; an empty header object with no data.
  const std::string h =
      obj(entry("z", "F32", "[0]", 4, 4) + "," + entry("a", "F32", "[1]", 0, 4) + "," +
          entry("y", "I8", "[0,7]", 4, 4) + "," + entry("b", "F32", "[1]", 4, 8)) +
      "  \n ";
  auto r = SafetensorsReader::from_memory(raw_image(h, std::string(8, '\0')), kFile);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->names(), (std::vector<std::string>{"a", "y", "z", "b"}));
  ASSERT_TRUE(SafetensorsReader::from_memory(raw_image("{}"), kFile).ok());
}

TEST(SafetensorsMalformed, OpenNamesThePath) {
  test::ScratchDir dir;
  const auto path = dir / "trunc.safetensors";
  test::write_file(path, raw_image("{", "", 50));
  auto r = SafetensorsReader::open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            path.string() + ": header length 50 runs past the end of the file (9 bytes)");
}

// Random corruption of a valid file (bit flips, byte overwrites, truncation, a rewritten header
// length): the reader answers every variant without crashing, and what it accepts is sound.
TEST(SafetensorsMalformed, RandomCorruptionNeverCrashes) {
  const uint64_t seed = test::fresh_seed();
  SCOPED_TRACE(fmt::format("OSP_TEST_SEED={}", seed));
  Rng rng(seed);
  std::vector<float> w(24);
  for (auto& x : w) x = static_cast<float>(rng.normal());
  const auto bf16 = encode_f32(w, SafetensorsDType::kBF16);
  auto base =
      safetensors_to_bytes({{{"w", SafetensorsDType::kF32, {4, 6}, std::as_bytes(std::span(w))},
                             {"h", SafetensorsDType::kBF16, {24}, bf16}}},
                           {{"k", "v"}});
  ASSERT_TRUE(base.ok());
  int accepted = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<std::byte> img = *base;
    const int edits = 1 + static_cast<int>(rng.below(4));
    for (int e = 0; e < edits && !img.empty(); ++e) {
      const size_t at = rng.below(img.size());
      switch (rng.below(4)) {
        case 0:
          img[at] ^= static_cast<std::byte>(1u << rng.below(8));
          break;
        case 1:
          img[at] = static_cast<std::byte>(rng.below(256));
          break;
        case 2:
          img.resize(at);
          break;
        default: {
          const uint64_t n = rng.below(img.size() + 16);
          std::memcpy(img.data(), &n, std::min<size_t>(8, img.size()));
        }
      }
    }
    auto r = SafetensorsReader::from_memory(img, kFile);
    if (!r.ok()) {
      ASSERT_EQ(r.error().message.rfind(std::string(kFile) + ": ", 0), 0u) << r.error().message;
      ASSERT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
      continue;
    }
    ++accepted;
    uint64_t covered = 0;
    for (const auto& t : r->tensors()) {
      ASSERT_EQ(t.begin, covered);
      covered = t.end;
      ASSERT_LE(r->buffer_offset() + t.end, img.size());
      if (safetensors_dtype_is_numeric(t.dtype)) (void)r->read_f64(t.name);
    }
    ASSERT_EQ(r->buffer_offset() + covered, img.size());
  }
  EXPECT_GT(accepted, 0);  // flips in the data bytes leave valid files
}

}  // namespace
}  // namespace osp::io
