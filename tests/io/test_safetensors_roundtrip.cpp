// safetensors round trips: every dtype with fresh random data through the writer and the reader,
// the spec's layout rules (order, padding, metadata), conversions against independent decoders,
// exact reads, and the writer's refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/rng.h"
#include "io/safetensors.h"
#include "io_test_util.h"

namespace osp::io {
namespace {

using test::fresh_seed;
using test::ScratchDir;

constexpr SafetensorsDType kAll[] = {
    SafetensorsDType::kBool,       SafetensorsDType::kF4,         SafetensorsDType::kF6E2M3,
    SafetensorsDType::kF6E3M2,     SafetensorsDType::kU8,         SafetensorsDType::kI8,
    SafetensorsDType::kF8E5M2,     SafetensorsDType::kF8E4M3,     SafetensorsDType::kF8E8M0,
    SafetensorsDType::kF8E4M3Fnuz, SafetensorsDType::kF8E5M2Fnuz, SafetensorsDType::kI16,
    SafetensorsDType::kU16,        SafetensorsDType::kF16,        SafetensorsDType::kBF16,
    SafetensorsDType::kI32,        SafetensorsDType::kU32,        SafetensorsDType::kF32,
    SafetensorsDType::kC64,        SafetensorsDType::kF64,        SafetensorsDType::kI64,
    SafetensorsDType::kU64};

// A random tensor (shape of rank 0-3 whose element count fills whole bytes) with random bytes;
// BOOL bytes are 0 or 1, every other bit pattern is a legal value of its dtype.
struct Sample {
  std::string name;
  SafetensorsDType dtype;
  std::vector<uint64_t> shape;
  std::vector<std::byte> bytes;
};

Sample random_sample(Rng& rng, SafetensorsDType dtype, std::string name) {
  const uint64_t bits = static_cast<uint64_t>(safetensors_dtype_bits(dtype));
  Sample s{std::move(name), dtype, {}, {}};
  uint64_t numel = 1;
  do {
    s.shape.assign(rng.below(4), 0);
    numel = 1;
    for (auto& d : s.shape) numel *= (d = rng.below(6));
  } while ((numel * bits) % 8 != 0);
  s.bytes.resize(numel * bits / 8);
  for (auto& b : s.bytes)
    b = static_cast<std::byte>(dtype == SafetensorsDType::kBool ? rng.below(2) : rng.below(256));
  return s;
}

std::vector<SafetensorsTensor> as_tensors(const std::vector<Sample>& samples) {
  std::vector<SafetensorsTensor> out;
  for (const Sample& s : samples) out.push_back({s.name, s.dtype, s.shape, s.bytes});
  return out;
}

// Independent decoders (bit fields, not the library's code) for the conversion checks.
double half_value(uint16_t h) {
  const int exp = (h >> 10) & 31, man = h & 1023;
  double v = exp == 0    ? std::ldexp(man, -24)
             : exp == 31 ? (man != 0 ? std::nan("") : INFINITY)
                         : std::ldexp(1024 + man, exp - 25);
  return (h >> 15) != 0 ? -v : v;
}
double bfloat_value(uint16_t h) {
  const int exp = (h >> 7) & 255, man = h & 127;
  double v = exp == 0     ? std::ldexp(man, -133)
             : exp == 255 ? (man != 0 ? std::nan("") : INFINITY)
                          : std::ldexp(128 + man, exp - 134);
  return (h >> 15) != 0 ? -v : v;
}

template <class S>
S load(const std::byte* p) {
  S s;
  std::memcpy(&s, p, sizeof(S));
  return s;
}

// Element i of a numeric tensor as T, converted directly from its stored type.
template <class T>
T expected_value(SafetensorsDType dtype, const std::byte* base, size_t i) {
  switch (dtype) {
    case SafetensorsDType::kBool:
    case SafetensorsDType::kU8:
      return static_cast<T>(load<uint8_t>(base + i));
    case SafetensorsDType::kI8:
      return static_cast<T>(load<int8_t>(base + i));
    case SafetensorsDType::kI16:
      return static_cast<T>(load<int16_t>(base + 2 * i));
    case SafetensorsDType::kU16:
      return static_cast<T>(load<uint16_t>(base + 2 * i));
    case SafetensorsDType::kF16:
      return static_cast<T>(half_value(load<uint16_t>(base + 2 * i)));
    case SafetensorsDType::kBF16:
      return static_cast<T>(bfloat_value(load<uint16_t>(base + 2 * i)));
    case SafetensorsDType::kI32:
      return static_cast<T>(load<int32_t>(base + 4 * i));
    case SafetensorsDType::kU32:
      return static_cast<T>(load<uint32_t>(base + 4 * i));
    case SafetensorsDType::kF32:
      return static_cast<T>(load<float>(base + 4 * i));
    case SafetensorsDType::kF64:
      return static_cast<T>(load<double>(base + 8 * i));
    case SafetensorsDType::kI64:
      return static_cast<T>(load<int64_t>(base + 8 * i));
    case SafetensorsDType::kU64:
      return static_cast<T>(load<uint64_t>(base + 8 * i));
    default:
      ADD_FAILURE() << "not numeric";
      return T{};
  }
}

template <class T>
void expect_same_values(const std::vector<T>& got, const Sample& s) {
  ASSERT_EQ(got.size(), s.bytes.size() * 8 / safetensors_dtype_bits(s.dtype));
  for (size_t i = 0; i < got.size(); ++i) {
    const T want = expected_value<T>(s.dtype, s.bytes.data(), i);
    if (std::isnan(want))
      EXPECT_TRUE(std::isnan(got[i])) << s.name << "[" << i << "]";
    else
      EXPECT_EQ(got[i], want) << s.name << "[" << i << "]";
  }
}

std::vector<Sample> samples_of_every_dtype(Rng& rng) {
  std::vector<Sample> samples;
  for (SafetensorsDType dtype : kAll)
    for (int k = 0; k < 3; ++k)
      samples.push_back(random_sample(
          rng, dtype, fmt::format("t{}.{}", rng.below(1000000), safetensors_dtype_name(dtype))));
  return samples;
}

TEST(SafetensorsRoundTrip, EveryDTypeWithRandomData) {
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE(fmt::format("OSP_TEST_SEED={}", seed));
  Rng rng(seed);
  ScratchDir dir;
  const std::vector<Sample> samples = samples_of_every_dtype(rng);
  const SafetensorsMetadata meta{{"step", std::to_string(rng.below(100000))}, {"note", "x\ny\"z"}};
  const auto path = dir / "all.safetensors";
  ASSERT_TRUE(write_safetensors(path, as_tensors(samples), meta).ok());

  auto r = SafetensorsReader::open(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->metadata().at("step"), meta.at("step"));
  EXPECT_EQ(r->metadata().at("note"), meta.at("note"));
  EXPECT_EQ(r->metadata().at("format"), "pt");
  ASSERT_EQ(r->tensors().size(), samples.size());
  for (const Sample& s : samples) {
    auto info = r->info(s.name);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ((*info)->dtype, s.dtype) << s.name;
    EXPECT_EQ((*info)->shape, s.shape) << s.name;
    const auto got = r->bytes(**info);
    ASSERT_EQ(got.size(), s.bytes.size()) << s.name;
    EXPECT_TRUE(std::equal(got.begin(), got.end(), s.bytes.begin())) << s.name;
    if (safetensors_dtype_is_numeric(s.dtype)) {
      auto f64 = r->read_f64(s.name);
      ASSERT_TRUE(f64.ok()) << f64.error().message;
      expect_same_values(*f64, s);
      auto f32 = r->read_f32(s.name);
      ASSERT_TRUE(f32.ok()) << f32.error().message;
      expect_same_values(*f32, s);
    }
  }
}

TEST(SafetensorsRoundTrip, OrderIsDescendingAlignmentThenName) {
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE(fmt::format("OSP_TEST_SEED={}", seed));
  Rng rng(seed);
  std::vector<Sample> samples = samples_of_every_dtype(rng);
  auto image = safetensors_to_bytes(as_tensors(samples));
  ASSERT_TRUE(image.ok()) << image.error().message;
  auto r = SafetensorsReader::from_memory(*image, "mem");
  ASSERT_TRUE(r.ok()) << r.error().message;
  // The writer's order (the reader lists zero-sized tensors by offset, where ties carry no order).
  const auto tensors = as_tensors(samples);
  auto layout = layout_safetensors(tensors, {}, "mem");
  ASSERT_TRUE(layout.ok());
  const auto& order = layout->order;
  ASSERT_EQ(order.size(), samples.size());
  for (size_t i = 1; i < order.size(); ++i) {
    const Sample &a = samples[order[i - 1]], &b = samples[order[i]];
    const bool ordered = a.dtype > b.dtype || (a.dtype == b.dtype && a.name < b.name);
    EXPECT_TRUE(ordered) << a.name << " before " << b.name;
  }
  const auto& ts = r->tensors();
  // Natural alignment follows from the order: each tensor starts at a multiple of its width.
  for (const auto& t : ts) {
    if (safetensors_dtype_bits(t.dtype) < 8) continue;
    EXPECT_EQ((r->buffer_offset() + t.begin) % (safetensors_dtype_bits(t.dtype) / 8), 0u) << t.name;
  }

  // The same tensors given in another order give the same bytes.
  std::reverse(samples.begin(), samples.end());
  auto again = safetensors_to_bytes(as_tensors(samples));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *image);
}

TEST(SafetensorsRoundTrip, HeaderIsPaddedWithSpacesAndMatchesTheReferenceWriter) {
  // Bytes the reference writer (Python safetensors 0.8) produces for these three tensors.
  const std::string json =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"F32","shape":[3],"data_offsets":[8,20]},)"
      R"("c":{"dtype":"I8","shape":[2],"data_offsets":[20,22]}})";
  const std::string padded = json + std::string(7, ' ');
  ASSERT_EQ((8 + padded.size()) % 8, 0u);
  const std::vector<std::byte> want = test::raw_image(padded, std::string(22, '\0'));

  const std::vector<std::byte> zeros(22);
  const std::vector<SafetensorsTensor> tensors{
      {"b", SafetensorsDType::kF32, {3}, std::span(zeros).first(12)},
      {"c", SafetensorsDType::kI8, {2}, std::span(zeros).first(2)},
      {"a", SafetensorsDType::kF64, {1}, std::span(zeros).first(8)}};
  auto image = safetensors_to_bytes(tensors);
  ASSERT_TRUE(image.ok()) << image.error().message;
  EXPECT_EQ(*image, want);
}

TEST(SafetensorsRoundTrip, CallerFormatIsKeptAndEmptyFilesWork) {
  auto image = safetensors_to_bytes({}, {{"format", "mlx"}});
  ASSERT_TRUE(image.ok());
  auto r = SafetensorsReader::from_memory(*image, "mem");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->tensors().empty());
  EXPECT_EQ(r->metadata(), (SafetensorsMetadata{{"format", "mlx"}}));
  EXPECT_EQ(r->buffer_offset(), image->size());
}

TEST(SafetensorsRoundTrip, ScalarsAndZeroSizedTensors) {
  const float pi = 3.25f;
  const std::vector<SafetensorsTensor> tensors{
      {"scalar", SafetensorsDType::kF32, {}, std::as_bytes(std::span(&pi, 1))},
      {"empty", SafetensorsDType::kF32, {4, 0, 3}, {}},
      {"empty2", SafetensorsDType::kBF16, {0}, {}}};
  auto image = safetensors_to_bytes(tensors);
  ASSERT_TRUE(image.ok()) << image.error().message;
  auto r = SafetensorsReader::from_memory(*image, "mem");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->read_f32("scalar").value(), std::vector<float>{pi});
  EXPECT_TRUE(r->read_f32("empty").value().empty());
  EXPECT_EQ((*r->info("empty"))->shape, (std::vector<uint64_t>{4, 0, 3}));
}

TEST(SafetensorsRoundTrip, LargeTensorThroughTheMapping) {
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE(fmt::format("OSP_TEST_SEED={}", seed));
  Rng rng(seed);
  ScratchDir dir;
  std::vector<float> w(1 << 20);
  for (auto& x : w) x = static_cast<float>(rng.normal());
  const auto bf16 = encode_f32(w, SafetensorsDType::kBF16);
  const std::vector<SafetensorsTensor> tensors{
      {"w", SafetensorsDType::kF32, {1024, 1024}, std::as_bytes(std::span(w))},
      {"w_bf16", SafetensorsDType::kBF16, {1024, 1024}, bf16}};
  ASSERT_TRUE(write_safetensors(dir / "big.safetensors", tensors).ok());
  auto r = SafetensorsReader::open(dir / "big.safetensors");
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<float> back(w.size());
  ASSERT_TRUE(r->read("w", std::span(back)).ok());
  EXPECT_EQ(back, w);
  std::vector<float> exact(w.size());
  ASSERT_TRUE(r->read_exact("w", std::span(exact)).ok());
  EXPECT_EQ(exact, w);
  auto rounded = r->read_f32("w_bf16");
  ASSERT_TRUE(rounded.ok());
  for (size_t i = 0; i < w.size(); ++i) ASSERT_EQ((*rounded)[i], round_bf16(w[i])) << i;
}

TEST(SafetensorsEncode, RoundsToNearestEvenAndKeepsNaN) {
  const std::vector<float> v{
      1.0f + 0x1.0p-8f, 1.0f + 3 * 0x1.0p-8f, 1.0f + 0x1.0p-11f, 65520.0f, -0.0f, std::nanf("")};
  auto bf16 = encode_f32(v, SafetensorsDType::kBF16);
  auto f16 = encode_f32(v, SafetensorsDType::kF16);
  auto f64 = encode_f32(v, SafetensorsDType::kF64);
  ASSERT_EQ(bf16.size(), 12u);
  ASSERT_EQ(f64.size(), 48u);
  std::vector<float> b(v.size()), h(v.size());
  std::vector<double> d(v.size());
  ASSERT_EQ(decode_elements(SafetensorsDType::kBF16, bf16.data(), v.size(), b.data()), v.size());
  ASSERT_EQ(decode_elements(SafetensorsDType::kF16, f16.data(), v.size(), h.data()), v.size());
  ASSERT_EQ(decode_elements(SafetensorsDType::kF64, f64.data(), v.size(), d.data()), v.size());
  EXPECT_EQ(b[0], 1.0f);              // tie -> even
  EXPECT_EQ(b[1], 1.0f + 0x1.0p-6f);  // tie -> even (up)
  EXPECT_EQ(h[2], 1.0f);              // f16 tie -> even
  EXPECT_TRUE(std::isinf(h[3]));      // 65520 rounds past the largest half, 65504
  EXPECT_TRUE(std::signbit(b[4]) && std::signbit(h[4]));
  EXPECT_TRUE(std::isnan(b[5]) && std::isnan(h[5]) && std::isnan(d[5]));
  EXPECT_EQ(d[0], static_cast<double>(v[0]));
}

TEST(SafetensorsRead, ExactReadsAndTheirRefusals) {
  const std::vector<uint64_t> state{0xfedcba9876543210ull, 1ull, ~0ull};
  const std::vector<SafetensorsTensor> tensors{
      {"rng", SafetensorsDType::kU64, {3}, std::as_bytes(std::span(state))}};
  auto image = safetensors_to_bytes(tensors);
  ASSERT_TRUE(image.ok());
  auto r = SafetensorsReader::from_memory(*image, "ckpt.safetensors");
  ASSERT_TRUE(r.ok());
  std::vector<uint64_t> back(3);
  ASSERT_TRUE(r->read_exact("rng", std::span(back)).ok());
  EXPECT_EQ(back, state);

  std::vector<int64_t> wrong_type(3);
  auto st = r->read_exact("rng", std::span(wrong_type));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "ckpt.safetensors: tensor 'rng' is stored as U64, expected I64");
  std::vector<uint64_t> short_buf(2);
  st = r->read_exact("rng", std::span(short_buf));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "ckpt.safetensors: tensor 'rng' has 24 bytes but the destination holds 16");
  std::vector<float> f(2);
  st = r->read("rng", std::span(f));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "ckpt.safetensors: tensor 'rng' has 3 elements but the destination holds 2");
  auto missing = r->read_f32("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "ckpt.safetensors: no tensor named 'nope'");
  EXPECT_FALSE(r->contains("nope"));
  EXPECT_EQ(r->find("nope"), nullptr);
  EXPECT_EQ(r->names(), std::vector<std::string>{"rng"});
}

TEST(SafetensorsRead, RefusesToConvertNonNumericDTypesByName) {
  const std::vector<std::byte> bytes(4, std::byte{0x38}), c64(8);
  const std::vector<SafetensorsTensor> tensors{{"q", SafetensorsDType::kF8E4M3, {4}, bytes},
                                               {"c", SafetensorsDType::kC64, {}, c64},
                                               {"f4", SafetensorsDType::kF4, {2, 4}, bytes}};
  auto image = safetensors_to_bytes(tensors);
  ASSERT_TRUE(image.ok()) << image.error().message;
  auto r = SafetensorsReader::from_memory(*image, "m.safetensors");
  ASSERT_TRUE(r.ok()) << r.error().message;  // a file holding them is valid; converting is not
  for (const char* name : {"q", "c", "f4"}) {
    auto v = r->read_f32(name);
    ASSERT_FALSE(v.ok()) << name;
    EXPECT_NE(v.error().message.find(fmt::format("m.safetensors: tensor '{}' is ", name)),
              std::string::npos);
    EXPECT_NE(v.error().message.find("which osp does not convert"), std::string::npos);
  }
  EXPECT_NE(r->read_f32("q").error().message.find("is F8_E4M3"), std::string::npos);
  // Their bytes stay available as stored.
  EXPECT_EQ(r->bytes(**r->info("q")).size(), 4u);
}

TEST(SafetensorsRead, RefusesBoolBytesOtherThanZeroAndOne) {
  const std::vector<std::byte> bytes{std::byte{1}, std::byte{0}, std::byte{2}};
  auto image = safetensors_to_bytes({{{"mask", SafetensorsDType::kBool, {3}, bytes}}});
  ASSERT_TRUE(image.ok());
  auto r = SafetensorsReader::from_memory(*image, "m.safetensors");
  ASSERT_TRUE(r.ok());
  auto v = r->read_f32("mask");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message,
            "m.safetensors: tensor 'mask' holds BOOL byte 2 at element 2; a BOOL is 0 or 1");
}

TEST(SafetensorsWrite, RefusesBadInputAndWritesNothing) {
  ScratchDir dir;
  const auto path = dir / "out.safetensors";
  const std::vector<std::byte> b8(8), b3(3);
  const std::string bad_utf8 = "w\xff";
  struct Case {
    std::vector<SafetensorsTensor> tensors;
    std::string want;
  };
  const std::vector<Case> cases{
      {{{"a", SafetensorsDType::kF32, {2}, b8}, {"a", SafetensorsDType::kF32, {2}, b8}},
       "tensor 'a' is given twice"},
      {{{"a", SafetensorsDType::kF32, {3}, b8}},
       "tensor 'a': shape [3] of F32 needs 12 bytes but 8 were given"},
      {{{"a", SafetensorsDType::kF4, {3}, b3}},
       "tensor 'a': 3 elements of F4 do not fill a whole number of bytes"},
      {{{"a", SafetensorsDType::kU8, {1ull << 32, 1ull << 32}, b8}},
       "tensor 'a': shape [4294967296, 4294967296] has more elements than 64 bits can count"},
      {{{"__metadata__", SafetensorsDType::kU8, {8}, b8}}, "'__metadata__' is reserved"},
      {{{bad_utf8, SafetensorsDType::kU8, {8}, b8}}, "not valid UTF-8"},
  };
  for (const Case& c : cases) {
    auto st = write_safetensors(path, c.tensors);
    ASSERT_FALSE(st.ok()) << c.want;
    EXPECT_NE(st.error().message.find(c.want), std::string::npos) << st.error().message;
    EXPECT_EQ(st.error().message.rfind(path.string() + ": ", 0), 0u) << st.error().message;
    EXPECT_TRUE(test::list_dir(dir.path()).empty());
  }
}

TEST(SafetensorsRead, OpenNamesMissingFilesAndFolders) {
  ScratchDir dir;
  auto missing = SafetensorsReader::open(dir / "none.safetensors");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            (dir / "none.safetensors").string() + ": cannot open: No such file or directory");
  auto folder = SafetensorsReader::open(dir.path());
  ASSERT_FALSE(folder.ok());
  EXPECT_EQ(folder.error().message, dir.path().string() + ": not a regular file");
}

TEST(SafetensorsDTypeTable, NamesBitsAndOrder) {
  // spec formats.md §1.3, in its enumeration order.
  const char* names[] = {"BOOL",    "F4",      "F6_E2M3", "F6_E3M2",     "U8",          "I8",
                         "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16",
                         "U16",     "F16",     "BF16",    "I32",         "U32",         "F32",
                         "C64",     "F64",     "I64",     "U64"};
  const int bits[] = {8, 4, 6, 6, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 32, 32, 32, 64, 64, 64, 64};
  for (size_t i = 0; i < std::size(kAll); ++i) {
    EXPECT_EQ(safetensors_dtype_name(kAll[i]), names[i]);
    EXPECT_EQ(parse_safetensors_dtype(names[i]), kAll[i]);
    EXPECT_EQ(safetensors_dtype_bits(kAll[i]), bits[i]) << names[i];
    if (i > 0) {
      EXPECT_LT(kAll[i - 1], kAll[i]);
    }
  }
  EXPECT_FALSE(parse_safetensors_dtype("f32").has_value());  // names are case-sensitive
  EXPECT_EQ(to_safetensors_dtype(DType::kBF16), SafetensorsDType::kBF16);
  EXPECT_EQ(from_safetensors_dtype(SafetensorsDType::kF16), DType::kF16);
  EXPECT_FALSE(from_safetensors_dtype(SafetensorsDType::kI32).has_value());
}

}  // namespace
}  // namespace osp::io
