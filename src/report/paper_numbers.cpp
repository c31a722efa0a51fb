// The paper's ablation table, transcribed from osp-method.md §4.2 (the W4A4KV4 column and the
// 16-16-16 perplexity; the ✗ and ✔ Hadamard rows of each model).
#include "report/paper_numbers.h"

namespace osp::report {

std::span<const PaperRow> paper_ablation() {
  static constexpr PaperRow kRows[] = {
      {"Adam", "adam · rms", "1818.56", "11.4", "8e4", "3e4"},
      {"Muon-Only (Muon\xE2\x80\xA0)", "muon-only · rms", "361.35", "11.7", "8e5", "24.8"},
      {"Muon", "muon · rms", "1575.12", "11.4", "1e4", "15.8"},
      {"Muon-SSNorm", "muon · ssnorm", "66.69", "11.2", "44.2", "34.1"},
      {"Muon-EmbProj", "muon · rms · emb_proj", "703.23", "12.3", "114.6", "22.3"},
      {"Muon-SSNorm-EmbProj (OSP)", "muon · ssnorm · emb_proj", "0.04", "11.2", "19.6", "13.5"},
  };
  return kRows;
}

}  // namespace osp::report
