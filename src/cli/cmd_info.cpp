// `osp info FILE_OR_DIR`: what a GGUF file, a safetensors file (osp model or not), a checkpoint or
// run folder, or a Hugging Face Llama folder holds: config, tensors (dtype, shape), parameters.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <memory>

#include "cli/commands.h"
#include "io/gguf_reader.h"
#include "io/hf_import.h"
#include "io/model_file.h"
#include "io/safetensors.h"

namespace osp::cli {
namespace {

namespace fs = std::filesystem;

int fail(const std::string& message) {
  fmt::print(stderr, "osp info: {}\n", message);
  return 1;
}

bool is_gguf(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

int info_gguf(const fs::path& p) {
  auto r = io::GgufReader::open(p);
  if (!r) return fail(r.error().message);
  fmt::print("{}: GGUF v{}, alignment {}, {} metadata keys, {} tensors\n", p.string(), r->version(),
             r->alignment(), r->metadata().size(), r->tensors().size());
  for (const auto& kv : r->metadata()) fmt::print("  {} = {}\n", kv.key, kv.value.summary());
  uint64_t params = 0;
  for (const auto& t : r->tensors()) {
    fmt::print("  {:<32} {:<5} [{}]\n", t.name, io::gguf_type_traits(uint32_t(t.type))->name, fmt::join(t.ne, ", "));
    params += t.numel;
  }
  fmt::print("parameters: {}\n", params);
  return 0;
}

// Prints one safetensors file's tensors; returns their element count.
uint64_t print_tensors(const io::SafetensorsReader& r) {
  uint64_t params = 0;
  for (const auto& t : r.tensors()) {
    fmt::print("  {:<48} {:<5} {}\n", t.name, io::safetensors_dtype_name(t.dtype), io::format_shape(t.shape));
    params += t.numel;
  }
  return params;
}

int info_safetensors(const fs::path& p) {
  auto r = io::SafetensorsReader::open(p);
  if (!r) return fail(r.error().message);
  fmt::print("{}: safetensors, {} tensors\n", p.string(), r->tensors().size());
  for (const auto& [k, v] : r->metadata()) fmt::print("  metadata {} = {}\n", k, v);
  fmt::print("parameters: {}\n", print_tensors(*r));
  return 0;
}

int info_hf(const fs::path& dir) {
  std::vector<std::string> notices;
  auto m = io::load_hf_llama(dir, &notices);
  if (!m) return fail(m.error().message);
  for (const auto& n : notices) fmt::print("note: {}\n", n);
  fmt::print("{}: Hugging Face LlamaForCausalLM\nconfig: {}\n", dir.string(), model::model_config_to_json(m->config).dump());
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".safetensors") {
      auto r = io::SafetensorsReader::open(e.path());
      if (!r) return fail(r.error().message);
      fmt::print("{}:\n", e.path().filename().string());
      print_tensors(*r);
    }
  fmt::print("parameters: {}\n", m->table.num_parameters());
  return 0;
}

int run_info(const std::string& target) {
  const fs::path p = target;
  std::error_code ec;
  if (!fs::exists(p, ec)) return fail(fmt::format("{}: no such file or folder", target));
  if (fs::is_directory(p, ec)) {
    if (io::is_hf_llama_dir(p)) return info_hf(p);
    auto m = io::load_model(p);
    if (!m) return fail(m.error().message);
    fmt::print("{}: osp model ({})\nconfig: {}\n", p.string(), m->file.string(), model::model_config_to_json(m->config).dump());
    for (const auto& t : m->table.params())
      fmt::print("  {:<48} F32   [{}]\n", t.name, fmt::join(t.shape, ", "));
    fmt::print("parameters: {}\n", m->table.num_parameters());
    return 0;
  }
  return is_gguf(p) ? info_gguf(p) : info_safetensors(p);
}

}  // namespace

void register_info(CLI::App& app, CommandRun& run) {
  auto target = std::make_shared<std::string>();
  CLI::App* info = app.add_subcommand("info", "Show what a checkpoint, safetensors, GGUF or HF folder holds");
  info->add_option("FILE_OR_DIR", *target, "File or folder to inspect")->required();
  info->callback([target, &run] { run = [target] { return run_info(*target); }; });
}

}  // namespace osp::cli
