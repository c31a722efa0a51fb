// GGUF type tables (formats.md §3.2, §3.5).
#include "io/gguf_format.h"

namespace osp::io {

std::optional<GgufTypeTraits> gguf_type_traits(uint32_t type) {
  switch (static_cast<GgufType>(type)) {
    case GgufType::kF32: return GgufTypeTraits{"F32", 1, 4};
    case GgufType::kF16: return GgufTypeTraits{"F16", 1, 2};
    case GgufType::kQ4_0: return GgufTypeTraits{"Q4_0", 32, 18};
    case GgufType::kQ4_1: return GgufTypeTraits{"Q4_1", 32, 20};
    case GgufType::kQ5_0: return GgufTypeTraits{"Q5_0", 32, 22};
    case GgufType::kQ5_1: return GgufTypeTraits{"Q5_1", 32, 24};
    case GgufType::kQ8_0: return GgufTypeTraits{"Q8_0", 32, 34};
    case GgufType::kQ8_1: return GgufTypeTraits{"Q8_1", 32, 36};
    case GgufType::kQ2_K: return GgufTypeTraits{"Q2_K", 256, 84};
    case GgufType::kQ3_K: return GgufTypeTraits{"Q3_K", 256, 110};
    case GgufType::kQ4_K: return GgufTypeTraits{"Q4_K", 256, 144};
    case GgufType::kQ5_K: return GgufTypeTraits{"Q5_K", 256, 176};
    case GgufType::kQ6_K: return GgufTypeTraits{"Q6_K", 256, 210};
    case GgufType::kQ8_K: return GgufTypeTraits{"Q8_K", 256, 292};
    case GgufType::kI8: return GgufTypeTraits{"I8", 1, 1};
    case GgufType::kI16: return GgufTypeTraits{"I16", 1, 2};
    case GgufType::kI32: return GgufTypeTraits{"I32", 1, 4};
    case GgufType::kI64: return GgufTypeTraits{"I64", 1, 8};
    case GgufType::kF64: return GgufTypeTraits{"F64", 1, 8};
    case GgufType::kBF16: return GgufTypeTraits{"BF16", 1, 2};
  }
  return std::nullopt;
}

std::optional<uint64_t> gguf_scalar_size(uint32_t t) {
  switch (static_cast<GgufValueType>(t)) {
    case GgufValueType::kU8: case GgufValueType::kI8: case GgufValueType::kBool: return 1;
    case GgufValueType::kU16: case GgufValueType::kI16: return 2;
    case GgufValueType::kU32: case GgufValueType::kI32: case GgufValueType::kF32: return 4;
    case GgufValueType::kU64: case GgufValueType::kI64: case GgufValueType::kF64: return 8;
    case GgufValueType::kString: case GgufValueType::kArray: return 0;
  }
  return std::nullopt;
}

}  // namespace osp::io
