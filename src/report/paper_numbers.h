// The paper's ablation numbers (Park et al. 2025; osp-method.md §4.2: 1.4B parameters, 100B
// tokens), shown beside ours for orientation only. Kept as the published strings so nothing is
// re-rounded.
#pragma once
#include <span>

namespace osp::report {

struct PaperRow {
  const char* model;        // the paper's row name
  const char* recipe;       // osp settings (optim.groups · norm · emb_proj), osp-method.md §4.1
  const char* kurtosis;     // excess kurtosis, token protocol
  const char* ppl_fp;       // 16-16-16 WikiText-2 perplexity
  const char* ppl_w4a4kv4;  // W4A4KV4, no Hadamard
  const char* ppl_w4a4kv4_had;  // W4A4KV4 with the (FFN) Hadamard
};

std::span<const PaperRow> paper_ablation();

}  // namespace osp::report
