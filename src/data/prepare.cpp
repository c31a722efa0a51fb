// The prepare pipeline (see prepare.h). Documents are encoded in parallel batch by batch and
// written in input order, so the output does not depend on the thread count.
#include "data/prepare.h"

#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/timer.h"
#include "data/demo_corpus.h"
#include "core/atomic_file.h"
#include "data/file_util.h"
#include "data/manifest.h"
#include "data/parallel.h"
#include "data/progress.h"
#include "data/shard.h"
#include "data/tokenizer.h"

namespace osp::data {
namespace {

constexpr uint64_t kBatchBytes = 16 << 20;

// Train/val shards of one split, rolled over at the shard size.
class SplitWriter {
 public:
  SplitWriter(std::string dir, std::string name, ShardHeader header, uint64_t shard_tokens)
      : dir_(std::move(dir)),
        name_(std::move(name)),
        header_(header),
        shard_tokens_(shard_tokens) {}

  Status add_document(std::span<const TokenId> tokens) {
    if (!writer_) {
      const std::string file = fmt::format("{}_{:06d}.bin", name_, entries_.size());
      auto w = ShardWriter::create((std::filesystem::path(dir_) / file).string(), header_);
      if (!w) return w.error();
      writer_.emplace(std::move(*w));
      entries_.push_back({file, 0, 0});
    }
    OSP_TRY(writer_->append(tokens, 1));
    if (writer_->token_count() >= shard_tokens_) return close();
    return {};
  }
  Status close() {
    if (!writer_) return {};
    entries_.back().tokens = writer_->token_count();
    entries_.back().documents = writer_->document_count();
    OSP_TRY(writer_->finish());
    writer_.reset();
    return {};
  }
  const std::vector<ShardEntry>& entries() const { return entries_; }

 private:
  std::string dir_, name_;
  ShardHeader header_;
  uint64_t shard_tokens_;
  std::optional<ShardWriter> writer_;
  std::vector<ShardEntry> entries_;
};

Result<Tokenizer> train_tokenizer(const PrepareOptions& o, int threads, const std::string& out_path,
                                  PrepareReport& report,
                                  const std::function<void(const std::string&)>& log) {
  auto reader = CorpusReader::open(o.inputs, o.corpus);
  if (!reader) return reader.error();
  PieceCounter counter(o.style);
  {
    ProgressBar bar("counting pieces", reader->total_bytes(), "MB", 1e6, o.progress);
    std::vector<std::string> docs;
    for (;;) {
      docs.clear();
      auto more = reader->next_batch(docs, kBatchBytes);
      if (!more) return more.error();
      if (!*more) break;
      OSP_TRY(counter.add(docs, threads));
      bar.update(reader->bytes_read());
    }
    bar.update(reader->total_bytes());
  }
  BpeTrainerOptions t;
  t.vocab_size = o.vocab_size;
  t.min_frequency = o.min_frequency;
  t.style = o.style;
  if (!o.eos_token.empty()) t.special_tokens = {o.eos_token};
  std::optional<ProgressBar> bar;
  t.progress = [&](size_t done, size_t wanted) {
    if (!bar) bar.emplace("learning merges", wanted, "merges", 1.0, o.progress);
    bar->update(done);
  };
  log(fmt::format("training a {}-token BPE ({} pre-tokenizer) on {} distinct pieces", o.vocab_size,
                  style_name(o.style), counter.counts().size()));
  auto trained = train_bpe(counter, t);
  if (!trained) return trained.error();
  if (bar) bar->finish();
  const size_t size = trained->special_tokens.size() + trained->token_bytes.size();
  if (size < o.vocab_size)
    log(fmt::format(
        "notice: the corpus supports only {} tokens (pairs seen fewer than {} times are "
        "not merged)",
        size, std::max<uint64_t>(o.min_frequency, 1)));
  OSP_TRY(write_file_atomically(out_path, trained_tokenizer_json(*trained)));
  report.trained = true;
  return Tokenizer::load(out_path);
}

}  // namespace

Result<PrepareReport> prepare_dataset(const PrepareOptions& options,
                                      const std::function<void(const std::string&)>& log) {
  PrepareOptions o = options;
  PrepareReport report;
  const int threads = resolve_threads(o.threads);
  if (o.val_fraction < 0 || o.val_fraction > 0.5)
    return make_error("--val-fraction {} must be between 0 and 0.5", o.val_fraction);
  if (o.shard_tokens == 0) return make_error("--shard-tokens must be positive");
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) return make_error("{}: cannot create the directory: {}", o.out_dir, ec.message());
  const std::filesystem::path out(o.out_dir);

  if (o.inputs.empty()) {
    const std::string corpus = (out / "corpus.jsonl").string();
    log("building the demo corpus from Debian's public-domain texts");
    auto demo = build_demo_corpus(corpus);
    if (!demo) return demo.error();
    for (const auto& n : demo->notices) log("notice: " + n);
    report.sources = demo->sources;
    log(fmt::format("demo corpus: {} documents, {:.1f} MB in {} ({})", demo->documents,
                    static_cast<double>(demo->bytes) / 1e6, corpus,
                    fmt::join(demo->sources, ", ")));
    o.inputs = {corpus};
    o.corpus.text_field = "text";
  } else {
    report.sources = o.inputs;
  }

  report.tokenizer_path = (out / "tokenizer.json").string();
  Timer timer;
  Result<Tokenizer> tok = make_error("no tokenizer");
  if (!o.tokenizer_path.empty()) {
    tok = Tokenizer::load(o.tokenizer_path);
    if (!tok) return tok.error();
    auto bytes = read_file(o.tokenizer_path, 2ull << 30);
    if (!bytes) return bytes.error();
    if (std::filesystem::weakly_canonical(o.tokenizer_path, ec) !=
        std::filesystem::weakly_canonical(report.tokenizer_path, ec))
      OSP_TRY(write_file_atomically(report.tokenizer_path, *bytes));
  } else {
    tok = train_tokenizer(o, threads, report.tokenizer_path, report, log);
    if (!tok) return tok.error();
  }
  report.seconds_training = timer.seconds();
  for (const auto& n : tok->notices()) log("notice: tokenizer: " + n);

  std::optional<TokenId> eos = o.eos_token.empty() ? tok->eos_id() : tok->token_to_id(o.eos_token);
  if (!eos)
    return make_error(
        "{}: no end-of-text token to separate documents{}; name one with --eos",
        report.tokenizer_path,
        o.eos_token.empty() ? "" : fmt::format(" ('{}' is not in the vocabulary)", o.eos_token));
  report.vocab_size = tok->vocab_size();

  ShardHeader header;
  header.token_bits = token_bits_for(tok->vocab_size());
  header.vocab_size = tok->vocab_size();
  header.eos_id = *eos;
  header.tokenizer_hash = tok->hash();
  SplitWriter train(o.out_dir, "train", header, o.shard_tokens);
  SplitWriter val(o.out_dir, "val", header, o.shard_tokens);
  const uint64_t every =
      o.val_fraction > 0 ? std::max<uint64_t>(2, std::llround(1.0 / o.val_fraction)) : 0;
  const uint64_t offset = every > 0 ? o.seed % every : 0;

  timer.reset();
  auto reader = CorpusReader::open(o.inputs, o.corpus);
  if (!reader) return reader.error();
  std::vector<std::unique_ptr<Encoder>> encoders;
  for (int t = 0; t < threads; ++t)
    encoders.push_back(std::make_unique<Encoder>(*tok, /*special_tokens_as_text=*/true));
  {
    ProgressBar bar("encoding", reader->total_bytes(), "MB", 1e6, o.progress);
    std::vector<std::string> docs;
    std::vector<std::vector<TokenId>> ids;
    std::vector<Status> status(static_cast<size_t>(threads));
    for (;;) {
      docs.clear();
      auto more = reader->next_batch(docs, kBatchBytes);
      if (!more) return more.error();
      if (!*more) break;
      ids.assign(docs.size(), {});
      parallel_for(docs.size(), threads, [&](size_t d, int w) {
        if (status[w]) status[w] = encoders[w]->encode(docs[d], ids[d], false);
        ids[d].push_back(*eos);
      });
      for (const Status& s : status)
        if (!s) return s.error();
      for (size_t d = 0; d < docs.size(); ++d) {
        const bool is_val = every > 0 && (report.documents % every) == offset;
        OSP_TRY((is_val ? val : train).add_document(ids[d]));
        (is_val ? report.val_tokens : report.train_tokens) += ids[d].size();
        report.val_documents += is_val ? 1 : 0;
        report.text_bytes += docs[d].size();
        ++report.documents;
      }
      bar.update(reader->bytes_read());
    }
    bar.update(reader->total_bytes());
  }
  OSP_TRY(train.close());
  OSP_TRY(val.close());
  report.seconds_encoding = timer.seconds();
  if (reader->repaired_sequences() > 0)
    log(fmt::format("notice: {} invalid UTF-8 sequences in the input were replaced by U+FFFD",
                    reader->repaired_sequences()));
  size_t dropped = 0;
  for (const auto& e : encoders) dropped += e->dropped_characters();
  if (dropped > 0)
    log(fmt::format("warning: {} characters had no token and were dropped", dropped));
  if (report.documents == 0) return make_error("the input holds no documents");
  if (every > 0 && report.val_documents == 0)
    log(fmt::format("notice: no validation documents: only {} documents, one in {} is held out",
                    report.documents, every));

  Manifest m;
  m.tokenizer = "tokenizer.json";
  m.tokenizer_hash = tok->hash();
  m.vocab_size = tok->vocab_size();
  m.eos_id = *eos;
  m.token_bits = header.token_bits;
  m.val_fraction = o.val_fraction;
  m.split_seed = o.seed;
  m.train = train.entries();
  m.val = val.entries();
  m.sources = report.sources;
  report.train_shards = m.train.size();
  report.val_shards = m.val.size();
  report.manifest_path = (out / "manifest.json").string();
  OSP_TRY(write_manifest(report.manifest_path, m));
  return report;
}

}  // namespace osp::data
