// bench_interop: Hugging Face export / import and GGUF export throughput (GB/s) for a random
// model of the paper's 1.4B shape (osp-method.md §1.12), or fewer layers with --layers (the
// figures are per byte, so a shallower model measures the same paths; say so when reporting).
//   bench_interop [--layers 24] [--dir /tmp/osp-bench-interop] [--emb-proj 1]
// Timings include folding, dtype conversion, writing and fsync (export) or mapping, validation
// and conversion to fp32 (import). The page cache is warm for import (the file was just written).
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/aligned_buffer.h"
#include "io/gguf_export.h"
#include "io/hf_export.h"
#include "model/fold.h"
#include "io/hf_import.h"

namespace {

using namespace osp;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

uint64_t folder_bytes(const fs::path& dir) {
  uint64_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

int run(int64_t layers, const fs::path& dir, bool emb_proj) {
  model::ModelConfig c;
  c.layers = layers;
  c.hidden = 2048;
  c.heads = 16;
  c.vocab = 49152;
  c.ffn = 5504;
  c.norm = model::NormKind::kSingleScale;
  c.emb_proj = emb_proj;
  c = *model::resolve(c);
  const model::ParamTable table(c);
  AlignedBuffer<float> params(table.total_elems());
  uint64_t s = 0x9e3779b97f4a7c15ull;  // fast xorshift fill: the values do not matter here
  for (int64_t i = 0; i < table.total_elems(); ++i) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    params[i] = float(int64_t(s >> 40) - (int64_t(1) << 23)) * 1e-9f;
  }
  fmt::print("model: L={} D=2048 F=5504 V=49152 emb_proj={}, {:.3f} B parameters\n", layers, emb_proj,
             double(table.num_parameters()) / 1e9);
  fmt::print("| step | bytes | seconds | GB/s |\n|---|---|---|---|\n");
  auto row = [](const char* what, uint64_t bytes, double sec) {
    fmt::print("| {} | {:.2f} GB | {:.2f} | {:.2f} |\n", what, double(bytes) / 1e9, sec, double(bytes) / 1e9 / sec);
  };
  auto t0 = Clock::now();
  ops::Context ctx = ops::Context::cpu();
  model::PlainLlama plain = model::fold_to_plain_llama(ctx, c, params.data());
  row("fold (R1, R2 products in double)", uint64_t(table.num_parameters()) * 4, seconds_since(t0));
  for (auto dtype : {io::SafetensorsDType::kBF16, io::SafetensorsDType::kF32}) {
    const fs::path out = dir / std::string(io::safetensors_dtype_name(dtype));
    io::HfExportOptions opt;
    opt.dtype = dtype;
    t0 = Clock::now();
    auto rep = io::export_hf(plain, out, opt);
    if (!rep) return fmt::print(stderr, "{}\n", rep.error().message), 1;
    row(dtype == io::SafetensorsDType::kBF16 ? "export hf bf16 (write + fsync)" : "export hf f32 (write + fsync)",
        folder_bytes(out), seconds_since(t0));
    t0 = Clock::now();
    auto m = io::load_hf_llama(out);
    if (!m) return fmt::print(stderr, "{}\n", m.error().message), 1;
    row(dtype == io::SafetensorsDType::kBF16 ? "import hf bf16 -> f32" : "import hf f32", folder_bytes(out),
        seconds_since(t0));
    fs::remove_all(out);
  }
  for (auto type : {io::GgufExportType::kF16, io::GgufExportType::kQ8_0}) {
    const fs::path out = dir / "m.gguf";
    t0 = Clock::now();
    auto notes = io::export_gguf(plain, out, {type, std::nullopt, "bench", std::nullopt});
    if (!notes) return fmt::print(stderr, "{}\n", notes.error().message), 1;
    row(type == io::GgufExportType::kF16 ? "export gguf f16" : "export gguf q8_0", fs::file_size(out), seconds_since(t0));
    fs::remove(out);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t layers = 24;
  bool emb_proj = true;
  fs::path dir = fs::temp_directory_path() / "osp-bench-interop";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--layers")) layers = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--emb-proj")) emb_proj = std::stoi(argv[i + 1]) != 0;
  }
  fs::create_directories(dir);
  const int rc = run(layers, dir, emb_proj);
  fs::remove_all(dir);
  return rc;
}
