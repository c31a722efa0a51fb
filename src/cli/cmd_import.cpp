// `osp import hf DIR OUT_FILE`: a Hugging Face Llama folder converted into an osp model file
// (every command also accepts the folder directly, via load_model).
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "io/hf_import.h"
#include "io/model_file.h"

namespace osp::cli {
namespace {

struct ImportOptions {
  std::string dir, out;
};

int run_import(const ImportOptions& o) {
  std::vector<std::string> notices;
  auto m = io::load_hf_llama(o.dir, &notices);
  for (const auto& n : notices) fmt::print("note: {}\n", n);
  if (!m) {
    fmt::print(stderr, "osp import: {}\n", m.error().message);
    return 1;
  }
  const Status st = io::save_model(o.out, m->config, m->table, m->params.data());
  if (!st) {
    fmt::print(stderr, "osp import: {}\n", st.error().message);
    return 1;
  }
  fmt::print("wrote {} ({} parameters)\n", o.out, m->table.num_parameters());
  return 0;
}

}  // namespace

void register_import(CLI::App& app, CommandRun& run) {
  auto o = std::make_shared<ImportOptions>();
  CLI::App* imp = app.add_subcommand("import", "Import a model from another format");
  imp->require_subcommand(1);
  CLI::App* hf = imp->add_subcommand("hf", "Convert a Hugging Face Llama folder to an osp model file");
  hf->add_option("DIR", o->dir, "Folder with config.json and model.safetensors (or shards)")->required();
  hf->add_option("OUT_FILE", o->out, "osp model file to write")->required();
  hf->callback([o, &run] { run = [o] { return run_import(*o); }; });
}

}  // namespace osp::cli
