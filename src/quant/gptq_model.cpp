// Sequential GPTQ over the model (measurement.md §3.11). Each group's Hessian is collected by a
// forward of the current, partly quantized model over the calibration windows through a
// ForwardTap (the one forward; no per-layer copy of it), stopped after layer l. Layers before l
// are already quantized and activations are not, so layer l sees exactly the inputs of the
// sequential procedure; the price is one forward through layers 0..l per group (2·L·(L+1)
// layer passes in all, against L for a layer-by-layer driver that keeps the activations).
#include <fmt/format.h>

#include "model/llama.h"
#include "ops/gemm.h"
#include "quant/gptq.h"
#include "quant/ptq.h"

namespace osp::quant {
namespace {

// Applies the online FFN M at every down_proj input (it is active during calibration) and
// accumulates Σ x·xᵀ at one (site, layer).
class HessianTap final : public model::ForwardTap {
 public:
  HessianTap(const Hadamard* ffn, model::LinearInput site, int layer, int64_t cols)
      : ffn_(ffn), site_(site), layer_(layer), cols_(cols), h_(size_t(cols * cols), 0.0f) {}
  void linear_input(ops::Context& ctx, model::LinearInput site, int layer, TensorView x) override {
    if (site == model::LinearInput::kDown && ffn_) ffn_->apply(ctx, x);
    if (site != site_ || layer != layer_) return;
    OSP_CHECK(x.cols() == cols_, "Hessian width {} != {}", x.cols(), cols_);
    ops::gemm(ctx, TensorView::of(h_.data(), {cols_, cols_}), x, x,
              {.trans_a = true, .trans_b = false, .alpha = 1.0, .beta = 1.0});
  }
  int64_t layers_needed() const override { return layer_ + 1; }
  std::vector<float>& hessian() { return h_; }

 private:
  const Hadamard* ffn_;
  model::LinearInput site_;
  int layer_;
  int64_t cols_;
  std::vector<float> h_;
};

}  // namespace

Status gptq_model(ops::Context& ctx, PlainModel& m, const Hadamard* ffn, const PtqSettings& s,
                  std::span<const int32_t> calib, std::vector<std::string>& notes,
                  const PtqProgressFn& progress) {
  const model::ModelConfig& c = m.config;
  const int64_t len = s.calib_len, n = int64_t(calib.size());
  if (len < 1 || n < len + 1)
    return make_error("GPTQ calibration needs more than {} tokens, the data has {}", len, n);
  for (int32_t t : calib)
    if (t < 0 || t >= c.vocab) return make_error("calibration token id {} is outside the vocabulary", t);
  // Windows at uniform offsets in [0, N − len − 1], overlap allowed (§3.11).
  Rng rng(s.seed);
  std::vector<int32_t> windows(size_t(s.calib_windows * len));
  for (int64_t w = 0; w < s.calib_windows; ++w) {
    const int64_t off = int64_t(rng.below(uint64_t(n - len)));
    std::copy_n(calib.data() + off, len, windows.data() + w * len);
  }
  const int64_t batch = std::clamp<int64_t>(8192 / len, 1, s.calib_windows);
  model::Llama<float> fwd(ctx, c, batch, len, model::ForwardMode::kInference);
  const int64_t d = c.hidden, f = c.ffn, qd = c.heads * c.head_dim(), kvd = c.kv_heads * c.head_dim();
  const GptqOptions opt{s.w_bits, s.damp, s.block};
  auto w = m.weights();
  for (int64_t l = 0; l < c.layers; ++l) {
    const auto& lw = w.layers[size_t(l)];
    struct Linear { const char* name; float* w; int64_t rows; };
    struct Group { model::LinearInput site; int64_t cols; std::vector<Linear> members; };
    const std::vector<Group> groups = {
        {model::LinearInput::kQkv, d, {{"k_proj", lw.k, kvd}, {"v_proj", lw.v, kvd}, {"q_proj", lw.q, qd}}},
        {model::LinearInput::kAttnOut, qd, {{"o_proj", lw.o, d}}},
        {model::LinearInput::kGateUp, d, {{"up_proj", lw.up, f}, {"gate_proj", lw.gate, f}}},
        {model::LinearInput::kDown, f, {{"down_proj", lw.down, d}}}};
    for (const Group& g : groups) {
      HessianTap tap(ffn, g.site, int(l), g.cols);
      for (int64_t w0 = 0; w0 < s.calib_windows; w0 += batch) {
        const int64_t b = std::min(batch, s.calib_windows - w0);
        fwd.forward(w, windows.data() + w0 * len, b, len, &tap);
      }
      std::vector<float>& h = tap.hessian();
      const float scale = 2.0f / float(s.calib_windows);  // H = (2/S)·Σ x·xᵀ
      for (float& v : h) v *= scale;
      for (const Linear& lin : g.members)
        OSP_TRY(gptq_quantize(ctx, lin.w, lin.rows, g.cols, h, opt,
                              fmt::format("model.layers.{}.{}", l, lin.name), &notes));
    }
    if (progress) progress(fmt::format("GPTQ: layer {}/{} quantized", l + 1, c.layers));
  }
  return {};
}

}  // namespace osp::quant
