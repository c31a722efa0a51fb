// osp: the command-line entry point. Sets up the CPU, parses the subcommand, runs it.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <string_view>

#include "cli/commands.h"
#include "core/cpu_setup.h"
#include "core/version.h"
#include "ops/gemm.h"
#include "ops/roofline.h"

namespace {

// What runs here and how fast: BLAS, the bf16 GEMM, the rooflines MFU is measured against (from
// the per-machine cache, measured now if it has none), and the CUDA backend (not built yet:
// issue 15 needs a GPU to be written against).
std::string version_text() {
  osp::ops::Context ctx = osp::ops::Context::cpu();
  const std::string missing = osp::ops::bf16_missing_cpu_feature(ctx);
  std::string roof;
  for (osp::DType dt : {osp::DType::kF32, osp::DType::kBF16}) {
    osp::ops::Roofline r = osp::ops::cached_roofline(ctx, dt);
    if (r.gflops == 0) r = osp::ops::gemm_roofline(ctx, dt);
    roof += fmt::format("\n  {}", r.describe());
  }
  return fmt::format("osp {}\nCPU: {}\nBLAS (fp32): {}\nbf16 GEMM: {}{}\nroofline for MFU ({}):{}\nCUDA: not compiled in",
                     OSP_VERSION, osp::cpu_model_name(), osp::blas_description(), osp::ops::bf16_gemm_description(ctx),
                     missing.empty() ? "" : "; slow here, no " + missing, osp::ops::roofline_cache_path(), roof);
}

}  // namespace

int main(int argc, char** argv) {
  // `osp generate` decodes one token per step: latency-bound (see select_blas_kernel).
  osp::select_blas_kernel(argv, argc > 1 && std::string_view(argv[1]) == "generate");
  osp::verify_blas(argv);
  osp::enable_flush_to_zero();

  CLI::App app{"osp: outlier-safe pre-training of Llama-style language models (Park et al., 2025)"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", version_text);

  osp::cli::CommandRun run;
  osp::cli::register_demo(app, run);
  osp::cli::register_data(app, run);
  osp::cli::register_tokenize(app, run);
  osp::cli::register_train(app, run);
  osp::cli::register_eval(app, run);
  osp::cli::register_export(app, run);
  osp::cli::register_import(app, run);
  osp::cli::register_info(app, run);
  osp::cli::register_report(app, run);
  osp::cli::register_generate(app, run);

  CLI11_PARSE(app, argc, argv);
  if (!run) {
    fmt::print("{}", app.help());
    return 0;
  }
  return run();
}
