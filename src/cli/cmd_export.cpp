// `osp export hf` and `osp export gguf`: a checkpoint (any model load_model accepts) folded into a
// plain Llama (osp-method.md §3) and written as a Hugging Face folder or a GGUF file.
//   osp export hf runs/tiny out/hf --dtype bf16
//   osp export gguf runs/tiny out/model.gguf --type q8_0
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "cli/export_vocab.h"
#include "cli/model_tokenizer.h"
#include "data/tokenizer.h"
#include "io/gguf_export.h"
#include "io/hf_export.h"
#include "model/fold.h"
#include "io/model_file.h"

namespace osp::cli {
namespace {

struct ExportOptions {
  std::string model, out, dtype = "bf16", type = "f16", tokenizer, name = "osp";
  uint64_t shard_bytes = 5'000'000'000;
};

int fail(const std::string& message) {
  fmt::print(stderr, "osp export: {}\n", message);
  return 1;
}

int run_export(const ExportOptions& o, bool gguf) {
  auto m = io::load_model(o.model);
  if (!m) return fail(m.error().message);
  ops::Context ctx = ops::Context::cpu();
  const model::PlainLlama plain = model::fold_to_plain_llama(ctx, m->config, m->params.data());
  // --tokenizer, else the model's own (a GGUF's keys, an HF folder's, the run's training data's).
  auto text = find_model_tokenizer(o.model, *m, o.tokenizer);
  if (!text) return fail(text.error().message);
  for (const auto& n : plain.notices) fmt::print("note: {}\n", n);
  if (gguf) {
    auto type = io::parse_gguf_export_type(o.type);
    if (!type) return fail(fmt::format("--type {} is not one of f32, f16, bf16, q8_0, q4_0", o.type));
    io::GgufExportOptions options{*type, std::nullopt, o.name, std::nullopt};
    if (*text) {  // read by the tokenizer that encodes, not re-parsed by io
      const std::string& source = (*text)->source;
      options.tokenizer = source;
      auto tok = data::Tokenizer::from_json((*text)->json, source);
      if (!tok) return fail(tok.error().message);
      std::vector<std::string> notes;
      auto vocab = gguf_vocab(*tok, source, notes);
      if (!vocab) return fail(vocab.error().message);
      for (const auto& n : notes) fmt::print("note: {}\n", n);
      options.vocab = std::move(vocab).value();
    }
    auto notices = io::export_gguf(plain, o.out, options);
    if (!notices) return fail(notices.error().message);
    for (const auto& n : *notices) fmt::print("note: {}\n", n);
    fmt::print("wrote {} ({}, {} tensors)\n", o.out, o.type, plain.tensors.size());
    return 0;
  }
  io::HfExportOptions opt;
  if (o.dtype == "bf16") opt.dtype = io::SafetensorsDType::kBF16;
  else if (o.dtype == "f16") opt.dtype = io::SafetensorsDType::kF16;
  else if (o.dtype == "f32") opt.dtype = io::SafetensorsDType::kF32;
  else return fail(fmt::format("--dtype {} is not one of bf16, f16, f32", o.dtype));
  opt.shard_bytes = o.shard_bytes;
  if (*text) opt.tokenizer_json = (*text)->json, opt.tokenizer_source = (*text)->source;
  auto report = io::export_hf(plain, o.out, opt);
  if (!report) return fail(report.error().message);
  for (const auto& n : report->notices) fmt::print("note: {}\n", n);
  fmt::print("wrote {} ({} files, {:.1f} MB of {} tensors)\n", o.out, report->files.size(),
             double(report->tensor_bytes) / 1e6, o.dtype);
  return 0;
}

}  // namespace

void register_export(CLI::App& app, CommandRun& run) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* exp = app.add_subcommand("export", "Export a model as a Hugging Face folder or a GGUF file");
  exp->require_subcommand(1);
  CLI::App* hf = exp->add_subcommand("hf", "Write a Hugging Face LlamaForCausalLM folder");
  hf->add_option("CHECKPOINT", o->model, "Model file, GGUF, checkpoint, run or HF folder")->required();
  hf->add_option("OUT_DIR", o->out, "Folder to write")->required();
  hf->add_option("--dtype", o->dtype, "Storage dtype: bf16, f16 or f32")->capture_default_str();
  hf->add_option("--tokenizer", o->tokenizer, "tokenizer.json or GGUF to include (default: the model's own)");
  hf->add_option("--shard-bytes", o->shard_bytes, "Tensor bytes per file before sharding")->capture_default_str();
  hf->callback([o, &run] { run = [o] { return run_export(*o, false); }; });
  CLI::App* gg = exp->add_subcommand("gguf", "Write a GGUF llama file (llama.cpp)");
  gg->add_option("CHECKPOINT", o->model, "Model file, GGUF, checkpoint, run or HF folder")->required();
  gg->add_option("OUT", o->out, "GGUF file to write")->required();
  gg->add_option("--type", o->type, "Tensor type: f32, f16, bf16, q8_0 or q4_0")->capture_default_str();
  gg->add_option("--tokenizer", o->tokenizer, "tokenizer.json or GGUF to embed (default: the model's own)");
  gg->add_option("--name", o->name, "general.name")->capture_default_str();
  gg->callback([o, &run] { run = [o] { return run_export(*o, true); }; });
}

}  // namespace osp::cli
