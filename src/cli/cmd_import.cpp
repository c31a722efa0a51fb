// `osp import hf DIR OUT_FILE` and `osp import gguf FILE OUT_FILE`: a Hugging Face Llama folder or
// a llama GGUF converted into an osp model file (fp32). Every model command also accepts the
// folder or GGUF directly, via load_model; importing once saves the decoding on every later use.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "io/gguf_import.h"
#include "io/hf_import.h"
#include "io/model_file.h"

namespace osp::cli {
namespace {

struct ImportOptions {
  std::string dir, gguf, out;
};

int run_import(const ImportOptions& o) {
  std::vector<std::string> notices;
  const auto t0 = std::chrono::steady_clock::now();
  auto m = o.gguf.empty() ? io::load_hf_llama(o.dir, &notices) : io::load_gguf_llama(o.gguf, &notices);
  for (const auto& n : notices) fmt::print("note: {}\n", n);
  if (!m) {
    fmt::print(stderr, "osp import: {}\n", m.error().message);
    return 1;
  }
  // The tokenizer that came with the model travels inside the model file (its metadata).
  std::string tokenizer = m->tokenizer_json;
  if (tokenizer.empty() && !m->tokenizer_file.empty()) {
    auto text = io::read_text_file(m->tokenizer_file);
    if (!text) {
      fmt::print(stderr, "osp import: {}\n", text.error().message);
      return 1;
    }
    tokenizer = std::move(*text);
  }
  const Status st = io::save_model(o.out, m->config, m->table, m->params.data(), tokenizer);
  if (!st) {
    fmt::print(stderr, "osp import: {}\n", st.error().message);
    return 1;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("wrote {} ({} parameters, {:.1f} s{})\n", o.out, m->table.num_parameters(), secs,
             tokenizer.empty() ? ", no tokenizer" : ", with its tokenizer");
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
  CLI::App* gg = imp->add_subcommand("gguf", "Convert a llama GGUF (any of its quant types, decoded to fp32) to an osp model file");
  gg->add_option("FILE", o->gguf, "llama GGUF file")->required();
  gg->add_option("OUT_FILE", o->out, "osp model file to write")->required();
  gg->callback([o, &run] { run = [o] { return run_import(*o); }; });
}

}  // namespace osp::cli
