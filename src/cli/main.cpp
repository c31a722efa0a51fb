// osp: the command-line entry point. Sets up the CPU, parses the subcommand, runs it.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "core/cpu_setup.h"
#include "core/version.h"

namespace {

std::string version_text() {
  return fmt::format("osp {}\nBLAS: {}\nCUDA: {}", OSP_VERSION, osp::blas_description(),
#ifdef OSP_WITH_CUDA
                     "compiled in"
#else
                     "not compiled in"
#endif
  );
}

}  // namespace

int main(int argc, char** argv) {
  osp::select_blas_kernel(argv);
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

  CLI11_PARSE(app, argc, argv);
  if (!run) {
    fmt::print("{}", app.help());
    return 0;
  }
  return run();
}
