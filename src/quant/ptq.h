// Post-training quantization pipeline in the order of measurement.md §3.3: fold to a plain
// Llama, rotate (none / ffn / full), quantize the weights (RTN or GPTQ), then build the fake-quant
// tap (activations, V, and the Q/K Hadamard + K quantizer when KV < 16).
//
//   auto q = quant::prepare_ptq(ctx, cfg, table, params, settings, calib_tokens);
//   eval::perplexity(ctx, q->model.config, q->model.weights(), tokens, W, q->tap.get());
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "quant/fake_quant.h"
#include "quant/rotation.h"

namespace osp::quant {

enum class Rotate { kNone, kFfn, kFull };
enum class WeightMethod { kRtn, kGptq };
Result<Rotate> parse_rotate(const std::string& s);
Result<WeightMethod> parse_weight_method(const std::string& s);
const char* rotate_name(Rotate r);
const char* weight_method_name(WeightMethod m);

struct PtqSettings {
  int w_bits = 4, a_bits = 4, kv_bits = 4;  // 16 = off (§0)
  Rotate rotate = Rotate::kNone;
  WeightMethod weights = WeightMethod::kRtn;
  bool center_embed = true;      // §3.10 step 1 (quirk Q4); --no-center-embed turns it off
  uint64_t seed = 0;             // rotation signs and calibration offsets
  int64_t calib_windows = 128;   // GPTQ (§3.11)
  int64_t calib_len = 2048;      // capped at the model's context by the caller
  double damp = 0.01;
  int64_t block = 128;
};

struct QuantizedModel {
  PlainModel model;
  std::unique_ptr<FakeQuantTap> tap;
  std::vector<std::string> notes;  // warnings worth printing (GPTQ damping retries)
};

// Progress of long steps (GPTQ): a line of text.
using PtqProgressFn = std::function<void(const std::string&)>;

// calib: the GPTQ calibration stream (unused for RTN). Bit widths must lie in 2..16. The offline
// steps run on the host copy of the model with ctx (a CPU context); the tap runs where the model runs.
Result<QuantizedModel> prepare_ptq(ops::Context& ctx, const model::ModelConfig& config, const model::ParamTable& table,
                                   const float* params, const PtqSettings& settings,
                                   std::span<const int32_t> calib,
                                   const PtqProgressFn& progress = {});

// GPTQ of every layer's seven linears, sequentially (§3.11); ffn: the online M when active.
Status gptq_model(ops::Context& ctx, PlainModel& m, const Hadamard* ffn, const PtqSettings& settings,
                  std::span<const int32_t> calib, std::vector<std::string>& notes,
                  const PtqProgressFn& progress);

}  // namespace osp::quant
