// Evaluation token streams: shards as stored (documents separated by EOS, §2) or text encoded
// once as one string with no post-processor additions (no BOS, §1.1 / §2).
#include "eval/eval_data.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/token_loader.h"
#include "data/tokenizer.h"

namespace osp::eval {

namespace fs = std::filesystem;

Result<std::vector<int32_t>> load_eval_tokens(const EvalDataSpec& spec) {
  std::error_code ec;
  if (spec.path.empty()) return make_error("--data is required (a shards directory or a text file)");
  if (!fs::exists(spec.path, ec)) return make_error("{}: no such file or directory", spec.path);
  std::vector<int32_t> out;
  if (fs::is_directory(spec.path, ec)) {
    if (!fs::exists(fs::path(spec.path) / "manifest.json", ec))
      return make_error("{}: not a prepared token directory (no manifest.json)", spec.path);
    auto ds = data::TokenDataset::open(spec.path, spec.split);
    if (!ds) return ds.error();
    uint64_t n = ds->tokens();
    if (spec.max_tokens > 0) n = std::min(n, spec.max_tokens);
    std::vector<data::TokenId> ids(n);
    if (n > 0) ds->read(0, n, ids.data());
    out.assign(ids.begin(), ids.end());
    return out;
  }
  if (spec.tokenizer == nullptr)
    return make_error("{}: a text file needs a tokenizer to be encoded (--tokenizer)", spec.path);
  const data::Tokenizer* tok = spec.tokenizer;
  std::ifstream in(spec.path, std::ios::binary);
  if (!in) return make_error("{}: cannot open for reading", spec.path);
  std::stringstream buf;
  buf << in.rdbuf();
  auto ids = tok->encode(buf.str(), /*add_special_tokens=*/false);
  if (!ids) return make_error("{}: {}", spec.path, ids.error().message);
  size_t n = ids->size();
  if (spec.max_tokens > 0) n = std::min<size_t>(n, spec.max_tokens);
  out.assign(ids->begin(), ids->begin() + std::ptrdiff_t(n));
  return out;
}

}  // namespace osp::eval
