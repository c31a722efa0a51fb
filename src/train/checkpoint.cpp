// Checkpoint writing (atomic) and reading (validated).
#include "train/checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <fstream>
#include <vector>

#include "core/atomic_file.h"
#include "io/model_file.h"
#include "io/safetensors.h"

namespace osp::train {

namespace fs = std::filesystem;

namespace {

constexpr int kFormatVersion = 1;

nlohmann::json rng_to_json(const Rng::State& s) {
  return {{"s", {s.s[0], s.s[1], s.s[2], s.s[3]}}, {"spare_bits", std::bit_cast<uint64_t>(s.spare)},
          {"has_spare", s.has_spare}};
}

Result<Rng::State> rng_from_json(const nlohmann::json& j) {
  Rng::State s{};
  if (!j.is_object() || !j.contains("s") || !j["s"].is_array() || j["s"].size() != 4 ||
      !j.contains("spare_bits") || !j["spare_bits"].is_number_unsigned() || !j.contains("has_spare"))
    return make_error("rng state is malformed");
  for (int i = 0; i < 4; ++i) {
    if (!j["s"][size_t(i)].is_number_unsigned()) return make_error("rng state is malformed");
    s.s[size_t(i)] = j["s"][size_t(i)].get<uint64_t>();
  }
  s.spare = std::bit_cast<double>(j["spare_bits"].get<uint64_t>());
  s.has_spare = j["has_spare"].get<bool>();
  return s;
}

Status write_text(const fs::path& file, const std::string& text) {
  return write_file_atomically(file, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

// Removes step folders beyond the newest `keep`, and temporary folders of interrupted saves.
void prune(const fs::path& ckpt_dir, int64_t keep, const std::string& current) {
  std::vector<std::string> steps;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(ckpt_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".step_", 0) == 0 && name != current) fs::remove_all(e.path(), ec);
    else if (name.rfind("step_", 0) == 0 && e.is_directory()) steps.push_back(name);
  }
  std::sort(steps.begin(), steps.end());
  for (size_t i = 0; i + size_t(keep) < steps.size(); ++i)
    if (steps[i] != current) fs::remove_all(ckpt_dir / steps[i], ec);
}

}  // namespace

Status save_checkpoint(const fs::path& run_dir, const RunConfig& config, const model::ParamTable& table,
                       const float* params, const std::vector<optim::StateTensor>& optimizer_state,
                       const TrainState& state) {
  const fs::path ckpt_dir = run_dir / "checkpoints";
  std::error_code ec;
  fs::create_directories(ckpt_dir, ec);
  if (ec) return make_error("{}: cannot create: {}", ckpt_dir.string(), ec.message());
  const std::string name = fmt::format("step_{:08d}", state.step);
  const fs::path tmp = ckpt_dir / ("." + name + ".tmp");
  fs::remove_all(tmp, ec);
  fs::create_directory(tmp, ec);
  if (ec) return make_error("{}: cannot create: {}", tmp.string(), ec.message());

  OSP_TRY(io::save_model(tmp / "model.safetensors", config.model, table, params));
  std::vector<io::SafetensorsTensor> opt_tensors;
  for (const auto& s : optimizer_state)
    opt_tensors.push_back({s.name, io::SafetensorsDType::kF32, std::vector<uint64_t>(s.shape.begin(), s.shape.end()),
                           std::as_bytes(std::span<const float>(s.data, size_t(s.numel)))});
  OSP_TRY(io::write_safetensors(tmp / "optimizer.safetensors", opt_tensors));
  const nlohmann::json st = {{"format", "osp-checkpoint"}, {"version", kFormatVersion},
                             {"step", state.step}, {"tokens_seen", state.tokens_seen},
                             {"elapsed_s", state.elapsed_s}, {"data", state.data},
                             {"rng", rng_to_json(state.rng)}, {"config", run_config_to_json(config)}};
  OSP_TRY(write_text(tmp / "state.json", st.dump(2) + "\n"));

  // Into place, then named as the latest; a crash before the rename leaves only a temporary.
  const fs::path final_dir = ckpt_dir / name;
  fs::remove_all(final_dir, ec);
  fs::rename(tmp, final_dir, ec);
  if (ec) return make_error("{}: cannot rename to {}: {}", tmp.string(), final_dir.string(), ec.message());
  OSP_TRY(sync_folder(ckpt_dir));
  OSP_TRY(write_text(ckpt_dir / "latest", name + "\n"));
  prune(ckpt_dir, config.train.keep_checkpoints, name);
  return {};
}

Result<CheckpointInfo> read_checkpoint_info(const fs::path& dir) {
  const fs::path file = dir / "state.json";
  std::ifstream in(file);
  if (!in) return make_error("{}: cannot read", file.string());
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("{}: not valid JSON", file.string());
  if (j.value("format", "") != "osp-checkpoint" || j.value("version", 0) != kFormatVersion)
    return make_error("{}: not an osp checkpoint of version {}", file.string(), kFormatVersion);
  for (const char* key : {"step", "tokens_seen", "elapsed_s", "data", "rng", "config"})
    if (!j.contains(key)) return make_error("{}: missing \"{}\"", file.string(), key);
  if (!j["step"].is_number_integer() || j["step"].get<int64_t>() < 0 || !j["tokens_seen"].is_number_integer() ||
      !j["elapsed_s"].is_number())
    return make_error("{}: step, tokens_seen or elapsed_s malformed", file.string());
  auto config = run_config_from_json(j["config"]);
  if (!config) return make_error("{}: stored config: {}", file.string(), config.error().message);
  auto rng = rng_from_json(j["rng"]);
  if (!rng) return make_error("{}: {}", file.string(), rng.error().message);
  CheckpointInfo info{dir, *config, {}};
  info.state.step = j["step"].get<int64_t>();
  info.state.tokens_seen = j["tokens_seen"].get<int64_t>();
  info.state.elapsed_s = j["elapsed_s"].get<double>();
  info.state.data = j["data"];
  info.state.rng = *rng;
  return info;
}

Status load_checkpoint_tensors(const fs::path& dir, const model::ParamTable& table, float* params,
                               const std::vector<optim::StateTensor>& state) {
  auto model = io::load_model_file(dir / "model.safetensors");
  if (!model) return model.error();
  if (model->table.total_elems() != table.total_elems() || model->table.params().size() != table.params().size())
    return make_error("{}: parameters do not match the run's model", (dir / "model.safetensors").string());
  std::copy(model->params.data(), model->params.data() + table.total_elems(), params);

  const fs::path opt_file = dir / "optimizer.safetensors";
  auto reader = io::SafetensorsReader::open(opt_file);
  if (!reader) return reader.error();
  if (reader->tensors().size() != state.size())
    return make_error("{}: holds {} tensors, the optimizer needs {} (different optim.groups?)", opt_file.string(),
                      reader->tensors().size(), state.size());
  for (const auto& s : state) {
    const auto* info = reader->find(s.name);
    if (info == nullptr)
      return make_error("{}: {} is missing (different optim.groups?)", opt_file.string(), s.name);
    if (info->shape != std::vector<uint64_t>(s.shape.begin(), s.shape.end()))
      return make_error("{}: {} has the wrong shape", opt_file.string(), s.name);
    OSP_TRY(reader->read_exact(s.name, std::span<float>(s.data, size_t(s.numel))));
  }
  return {};
}

Status check_compatible(const RunConfig& stored, const RunConfig& requested) {
  const nlohmann::json a = run_config_to_json(stored), b = run_config_to_json(requested);
  for (const auto& [key, value] : a["model"].items())
    if (b["model"][key] != value)
      return make_error("model.{} is {} in the checkpoint but {} now", key, value.dump(), b["model"][key].dump());
  if (a["optim"]["groups"] != b["optim"]["groups"])
    return make_error("optim.groups is {} in the checkpoint but {} now", a["optim"]["groups"].dump(),
                      b["optim"]["groups"].dump());
  return {};
}

}  // namespace osp::train
