// Token shards (see shard.h).
#include "data/shard.h"

#include <cstring>

namespace osp::data {
namespace {

void put_u32(std::string& out, size_t at, uint32_t v) {
  for (int k = 0; k < 4; ++k) out[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
}
void put_u64(std::string& out, size_t at, uint64_t v) {
  for (int k = 0; k < 8; ++k) out[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
}
uint32_t get_u32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
uint64_t get_u64(const unsigned char* p) {
  return static_cast<uint64_t>(get_u32(p)) | static_cast<uint64_t>(get_u32(p + 4)) << 32;
}

constexpr size_t kFlushBytes = 8 << 20;

}  // namespace

std::string encode_shard_header(const ShardHeader& h) {
  std::string out(kShardHeaderBytes, '\0');
  std::memcpy(out.data(), kShardMagic, 8);
  put_u32(out, 8, h.version);
  put_u32(out, 12, h.token_bits);
  put_u64(out, 16, h.token_count);
  put_u32(out, 24, h.vocab_size);
  put_u32(out, 28, h.eos_id);
  put_u64(out, 32, h.tokenizer_hash);
  put_u64(out, 40, h.document_count);
  return out;
}

Result<ShardWriter> ShardWriter::create(const std::string& path, ShardHeader header) {
  if (header.token_bits != 16 && header.token_bits != 32)
    return make_error("{}: token width must be 16 or 32 bits", path);
  if (header.token_bits == 16 && header.vocab_size > 65536)
    return make_error("{}: a vocabulary of {} needs 32-bit tokens", path, header.vocab_size);
  auto file = AtomicFile::create(path);
  if (!file) return file.error();
  ShardWriter w;
  w.file_ = std::move(*file);
  w.header_ = header;
  w.header_.token_count = 0;
  w.header_.document_count = 0;
  w.path_ = path;
  OSP_TRY(w.file_->write(encode_shard_header(w.header_)));  // rewritten by finish()
  return w;
}

Status ShardWriter::append(std::span<const TokenId> tokens, uint64_t documents) {
  const size_t width = header_.token_bits / 8;
  const size_t at = buffer_.size();
  buffer_.resize(at + tokens.size() * width);
  char* p = buffer_.data() + at;
  for (const TokenId t : tokens) {
    OSP_CHECK(t < header_.vocab_size, "token id {} is not below the vocabulary size {}", t,
              header_.vocab_size);
    for (size_t k = 0; k < width; ++k) *p++ = static_cast<char>((t >> (8 * k)) & 0xff);
  }
  header_.token_count += tokens.size();
  header_.document_count += documents;
  if (buffer_.size() >= kFlushBytes) return flush();
  return {};
}

Status ShardWriter::flush() {
  OSP_TRY(file_->write(buffer_));
  buffer_.clear();
  return {};
}

Status ShardWriter::finish() {
  OSP_TRY(flush());
  OSP_TRY(file_->write_at(0, encode_shard_header(header_)));
  return file_->commit();
}

Result<ShardReader> ShardReader::open(const std::string& path) {
  auto file = MappedFile::open(path);
  if (!file) return file.error();
  const std::string_view bytes = file->chars();
  if (bytes.size() < kShardHeaderBytes)
    return make_error("{}: {} bytes is too short for a token shard (the header alone is {})", path,
                      bytes.size(), kShardHeaderBytes);
  if (std::memcmp(bytes.data(), kShardMagic, 8) != 0)
    return make_error("{}: not an osp token shard (the file does not start with \"OSPTOKEN\")",
                      path);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  ShardHeader h;
  h.version = get_u32(p + 8);
  h.token_bits = get_u32(p + 12);
  h.token_count = get_u64(p + 16);
  h.vocab_size = get_u32(p + 24);
  h.eos_id = get_u32(p + 28);
  h.tokenizer_hash = get_u64(p + 32);
  h.document_count = get_u64(p + 40);
  if (h.version != kShardVersion)
    return make_error("{}: shard version {} is not supported (osp reads version {})", path,
                      h.version, kShardVersion);
  if (h.token_bits != 16 && h.token_bits != 32)
    return make_error("{}: token width {} bits is not 16 or 32", path, h.token_bits);
  for (size_t k = 48; k < kShardHeaderBytes; ++k)
    if (p[k] != 0) return make_error("{}: reserved header byte {} is not zero", path, k);
  if (h.vocab_size == 0 || (h.token_bits == 16 && h.vocab_size > 65536))
    return make_error("{}: vocabulary size {} does not fit {}-bit tokens", path, h.vocab_size,
                      h.token_bits);
  if (h.eos_id >= h.vocab_size)
    return make_error("{}: EOS id {} is not below the vocabulary size {}", path, h.eos_id,
                      h.vocab_size);
  const uint64_t width = h.token_bits / 8;
  const uint64_t body = bytes.size() - kShardHeaderBytes;
  if (h.token_count > body / width || h.token_count * width != body)
    return make_error(
        "{}: header says {} tokens ({} bytes) but the file holds {} bytes after the "
        "header (truncated or corrupt)",
        path, h.token_count,
        h.token_count > body / width ? std::string("more than the file")
                                     : std::to_string(h.token_count * width),
        body);
  ShardReader reader;
  reader.header_ = h;
  reader.tokens_ = p + kShardHeaderBytes;
  for (uint64_t i = 0; i < h.token_count; ++i) {
    const TokenId t =
        width == 2 ? static_cast<TokenId>(reader.tokens_[2 * i] | reader.tokens_[2 * i + 1] << 8)
                   : get_u32(reader.tokens_ + 4 * i);
    if (t >= h.vocab_size)
      return make_error("{}: token {} has id {}, not below the vocabulary size {}", path, i, t,
                        h.vocab_size);
  }
  reader.file_ = std::move(*file);
  reader.path_ = path;
  return reader;
}

TokenId ShardReader::at(uint64_t i) const {
  OSP_DCHECK(i < header_.token_count, "token index out of range");
  if (header_.token_bits == 16)
    return static_cast<TokenId>(tokens_[2 * i] | tokens_[2 * i + 1] << 8);
  return get_u32(tokens_ + 4 * i);
}

void ShardReader::copy(uint64_t begin, uint64_t count, TokenId* out) const {
  OSP_CHECK(begin <= header_.token_count && count <= header_.token_count - begin,
            "shard read [{}, {}) beyond {} tokens", begin, begin + count, header_.token_count);
  for (uint64_t i = 0; i < count; ++i) out[i] = at(begin + i);
}

}  // namespace osp::data
