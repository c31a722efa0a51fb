// `osp info FILE_OR_DIR [--json]`: what a GGUF file, a safetensors file (osp model or not), a
// checkpoint or run folder, or a Hugging Face Llama folder holds: config, tensors (dtype, shape),
// parameters. `--json` prints the same as one JSON object (schema in docs/interop.md).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "io/file_kind.h"
#include "io/gguf_import.h"
#include "io/gguf_reader.h"
#include "io/hf_import.h"
#include "io/model_file.h"
#include "io/safetensors.h"

namespace osp::cli {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

// GGUF arrays longer than this, and strings longer than kMaxJsonString bytes, are summarised in
// --json output (the vocabulary and merges would otherwise be most of it).
constexpr size_t kMaxJsonArray = 64;
constexpr size_t kMaxJsonString = 4096;

int fail(const std::string& message) {
  fmt::print(stderr, "osp info: {}\n", message);
  return 1;
}

// Invalid UTF-8 from a file becomes U+FFFD rather than an exception.
void print_json(const ojson& j) {
  fmt::print("{}\n", j.dump(2, ' ', false, ojson::error_handler_t::replace));
}

std::string gguf_type_label(const io::GgufValue& v) {
  return v.type == io::GgufValueType::kArray ? fmt::format("array[{}]", io::gguf_value_type_name(v.elem))
                                             : io::gguf_value_type_name(v.type);
}

// A metadata value as JSON: scalars as numbers/bools/strings (f32 by its shortest decimal form),
// short arrays as lists, long arrays and strings as {"type", "length"[, "prefix"]}.
ojson gguf_value_json(const io::GgufValue& v) {
  switch (v.type) {
    case io::GgufValueType::kString:
      if (v.s.size() > kMaxJsonString)
        return {{"type", "string"}, {"length", v.s.size()}, {"prefix", v.s.substr(0, 60)}};
      return v.s;
    case io::GgufValueType::kArray: {
      if (v.array.size() > kMaxJsonArray)
        return {{"type", gguf_type_label(v)}, {"length", v.array.size()}};
      ojson a = ojson::array();
      for (const auto& e : v.array) a.push_back(gguf_value_json(e));
      return a;
    }
    case io::GgufValueType::kF32: return std::stod(fmt::format("{}", float(v.f)));
    case io::GgufValueType::kF64: return v.f;
    case io::GgufValueType::kBool: return v.u != 0;
    case io::GgufValueType::kI8: case io::GgufValueType::kI16: case io::GgufValueType::kI32:
    case io::GgufValueType::kI64: return v.i;
    default: return v.u;
  }
}

template <class Shape>
ojson shape_json(const Shape& shape) {
  ojson a = ojson::array();
  for (auto d : shape) a.push_back(d);
  return a;
}

int info_gguf(const fs::path& p, bool json) {
  auto r = io::GgufReader::open(p);
  if (!r) return fail(r.error().message);
  uint64_t params = 0;
  for (const auto& t : r->tensors()) params += t.numel;
  // The model osp reads from it, when it is one (every model command accepts the file).
  const auto config = io::gguf_llama_config(*r);
  const ojson config_json = config ? ojson::parse(model::model_config_to_json(*config).dump()) : ojson(nullptr);
  if (json) {
    ojson meta = ojson::object(), types = ojson::object(), tensors = ojson::array();
    for (const auto& kv : r->metadata()) {
      meta[kv.key] = gguf_value_json(kv.value);
      types[kv.key] = gguf_type_label(kv.value);
    }
    for (const auto& t : r->tensors())
      tensors.push_back({{"name", t.name},
                         {"dtype", std::string(io::gguf_type_traits(uint32_t(t.type))->name)},
                         {"shape", shape_json(std::vector<uint64_t>(t.ne.rbegin(), t.ne.rend()))},
                         {"ne", shape_json(t.ne)}});
    print_json({{"path", p.string()}, {"kind", "gguf"}, {"config", config_json},
                {"model_problem", config ? ojson(nullptr) : ojson(config.error().message)},
                {"gguf", {{"version", r->version()}, {"alignment", r->alignment()}}},
                {"metadata", meta}, {"metadata_types", types}, {"tensors", tensors},
                {"parameters", params}});
    return 0;
  }
  fmt::print("{}: GGUF v{}, alignment {}, {} metadata keys, {} tensors\n", p.string(), r->version(),
             r->alignment(), r->metadata().size(), r->tensors().size());
  for (const auto& kv : r->metadata()) fmt::print("  {} = {}\n", kv.key, kv.value.summary());
  for (const auto& t : r->tensors())
    fmt::print("  {:<32} {:<5} [{}]\n", t.name, io::gguf_type_traits(uint32_t(t.type))->name, fmt::join(t.ne, ", "));
  fmt::print("parameters: {}\n", params);
  if (config) fmt::print("osp model: {}\n", config_json.dump());
  else fmt::print("not a model osp can run: {}\n", config.error().message);
  return 0;
}

// One safetensors file's tensors as JSON (with `file` on each when given); adds their element
// counts to `params`.
ojson tensors_json(const io::SafetensorsReader& r, uint64_t& params, const std::string& file = {}) {
  ojson a = ojson::array();
  for (const auto& t : r.tensors()) {
    ojson e = {{"name", t.name}, {"dtype", std::string(io::safetensors_dtype_name(t.dtype))},
               {"shape", shape_json(t.shape)}};
    if (!file.empty()) e["file"] = file;
    a.push_back(std::move(e));
    params += t.numel;
  }
  return a;
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

int info_safetensors(const fs::path& p, bool json) {
  auto r = io::SafetensorsReader::open(p);
  if (!r) return fail(r.error().message);
  if (json) {
    ojson meta = ojson::object(), config = nullptr;
    for (const auto& [k, v] : r->metadata()) meta[k] = v;
    // An osp model file carries its config as JSON text in the metadata.
    if (auto it = r->metadata().find("osp.model_config"); it != r->metadata().end()) {
      auto c = ojson::parse(it->second, nullptr, false);
      if (!c.is_discarded()) config = std::move(c);
    }
    uint64_t params = 0;
    ojson tensors = tensors_json(*r, params);
    print_json({{"path", p.string()}, {"kind", config.is_null() ? "safetensors" : "osp_model_file"},
                {"config", config}, {"metadata", meta}, {"tensors", tensors},
                {"parameters", params}});
    return 0;
  }
  fmt::print("{}: safetensors, {} tensors\n", p.string(), r->tensors().size());
  for (const auto& [k, v] : r->metadata()) fmt::print("  metadata {} = {}\n", k, v);
  fmt::print("parameters: {}\n", print_tensors(*r));
  return 0;
}

int info_hf(const fs::path& dir, bool json) {
  std::vector<std::string> notices;
  auto m = io::load_hf_llama(dir, &notices);
  if (!m) return fail(m.error().message);
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".safetensors") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (json) {
    ojson tensors = ojson::array();
    uint64_t stored = 0;
    for (const auto& f : files) {
      auto r = io::SafetensorsReader::open(f);
      if (!r) return fail(r.error().message);
      for (auto& t : tensors_json(*r, stored, f.filename().string())) tensors.push_back(std::move(t));
    }
    print_json({{"path", dir.string()}, {"kind", "hf_llama"},
                {"config", ojson::parse(model::model_config_to_json(m->config).dump())},
                {"notes", notices},
                {"tensors", tensors}, {"parameters", m->table.num_parameters()}});
    return 0;
  }
  for (const auto& n : notices) fmt::print("note: {}\n", n);
  fmt::print("{}: Hugging Face LlamaForCausalLM\nconfig: {}\n", dir.string(), model::model_config_to_json(m->config).dump());
  for (const auto& f : files) {
    auto r = io::SafetensorsReader::open(f);
    if (!r) return fail(r.error().message);
    fmt::print("{}:\n", f.filename().string());
    print_tensors(*r);
  }
  fmt::print("parameters: {}\n", m->table.num_parameters());
  return 0;
}

int info_osp_dir(const fs::path& p, bool json) {
  auto m = io::load_model(p);
  if (!m) return fail(m.error().message);
  if (json) {
    ojson tensors = ojson::array();
    for (const auto& t : m->table.params())
      tensors.push_back({{"name", t.name}, {"dtype", "F32"}, {"shape", shape_json(t.shape)}});
    print_json({{"path", p.string()}, {"kind", "osp_model"}, {"model_file", m->file.string()},
                {"config", ojson::parse(model::model_config_to_json(m->config).dump())},
                {"tensors", tensors}, {"parameters", m->table.num_parameters()}});
    return 0;
  }
  fmt::print("{}: osp model ({})\nconfig: {}\n", p.string(), m->file.string(), model::model_config_to_json(m->config).dump());
  for (const auto& t : m->table.params())
    fmt::print("  {:<48} F32   [{}]\n", t.name, fmt::join(t.shape, ", "));
  fmt::print("parameters: {}\n", m->table.num_parameters());
  return 0;
}

int run_info(const std::string& target, bool json) {
  const fs::path p = target;
  std::error_code ec;
  if (!fs::exists(p, ec)) return fail(fmt::format("{}: no such file or folder", target));
  if (fs::is_directory(p, ec)) return io::is_hf_llama_dir(p) ? info_hf(p, json) : info_osp_dir(p, json);
  const io::FileKind kind = io::sniff_file_kind(p);
  if (kind == io::FileKind::kGguf) return info_gguf(p, json);
  if (kind == io::FileKind::kSafetensors) return info_safetensors(p, json);
  return fail(fmt::format("{}: is {}; osp info reads GGUF and safetensors files and model folders", target,
                          io::file_kind_name(kind)));
}

}  // namespace

void register_info(CLI::App& app, CommandRun& run) {
  auto target = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* info = app.add_subcommand("info", "Show what a checkpoint, safetensors, GGUF or HF folder holds");
  info->add_option("FILE_OR_DIR", *target, "File or folder to inspect")->required();
  info->add_flag("--json", *json, "Print one JSON object for machines");
  info->callback([target, json, &run] { run = [target, json] { return run_info(*target, *json); }; });
}

}  // namespace osp::cli
