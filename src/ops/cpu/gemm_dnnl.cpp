// oneDNN bf16 matmul with a per-shape primitive cache (see gemm_dnnl.h).
#include "ops/cpu/gemm_dnnl.h"

#include <dnnl.hpp>
#include <fmt/format.h>

#include <map>
#include <mutex>
#include <tuple>

#include "core/check.h"

namespace osp::ops::cpu {

namespace {
using Key = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, float, float>;
}  // namespace

struct DnnlHandles {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::map<Key, std::pair<dnnl::matmul, std::string>> cache;
  std::mutex mutex;
};

void DnnlHandlesDeleter::operator()(DnnlHandles* h) const { delete h; }
DnnlHandlesPtr make_dnnl_handles() { return DnnlHandlesPtr(new DnnlHandles); }

namespace {

using dt = dnnl::memory::data_type;

// op(a) (m, k): stored (m, k) with row stride lda, or (k, m) when transposed.
dnnl::memory::desc operand(int64_t rows, int64_t cols, bool trans, int64_t ld, dt type) {
  return dnnl::memory::desc({rows, cols}, type, trans ? dnnl::memory::dims{1, ld} : dnnl::memory::dims{ld, 1});
}

const std::pair<dnnl::matmul, std::string>& primitive(DnnlHandles& h, const Key& key) {
  std::lock_guard<std::mutex> lock(h.mutex);
  auto it = h.cache.find(key);
  if (it != h.cache.end()) return it->second;
  const auto [ta, tb, m, n, k, lda, ldb, ldc, alpha, beta] = key;
  const auto a = operand(m, k, ta, lda, dt::bf16), b = operand(k, n, tb, ldb, dt::bf16);
  const dnnl::memory::desc c({m, n}, dt::f32, dnnl::memory::dims{ldc, 1});
  dnnl::primitive_attr attr;
  if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
  if (beta != 0.0f) {
    dnnl::post_ops po;
    po.append_sum(beta);  // c = alpha·a·b + beta·c, accumulated in fp32
    attr.set_post_ops(po);
  }
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, h.engine);
  return h.cache.emplace(key, std::make_pair(dnnl::matmul(pd), std::string(pd.impl_info_str()))).first->second;
}

}  // namespace

void dnnl_gemm_bf16(DnnlHandles& h, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                    float alpha, const BFloat16* a, int64_t lda, const BFloat16* b, int64_t ldb,
                    float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  const Key key{trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta};
  const dnnl::matmul& mm = primitive(h, key).first;
  const auto ad = operand(m, k, trans_a, lda, dt::bf16), bd = operand(k, n, trans_b, ldb, dt::bf16);
  const dnnl::memory::desc cd({m, n}, dt::f32, dnnl::memory::dims{ldc, 1});
  dnnl::memory am(ad, h.engine, const_cast<BFloat16*>(a)), bm(bd, h.engine, const_cast<BFloat16*>(b)),
      cm(cd, h.engine, c);
  mm.execute(h.stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
  h.stream.wait();
}

std::string dnnl_bf16_description(DnnlHandles& h) {
  const dnnl_version_t* v = dnnl_version();
  const Key key{false, true, 256, 256, 256, 256, 256, 256, 1.0f, 0.0f};
  return fmt::format("oneDNN {}.{}.{}, {} (ISA {})", v->major, v->minor, v->patch, primitive(h, key).second,
                     dnnl_isa_name(h));
}

bool dnnl_native_bf16(DnnlHandles&) {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl_cpu_isa_avx512_core_bf16);
  return (isa & bf16) == bf16;
}

std::string dnnl_isa_name(DnnlHandles&) {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

}  // namespace osp::ops::cpu
