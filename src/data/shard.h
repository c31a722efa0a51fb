// Token shards: osp's binary file of token ids (formats.md §5). Little-endian, a 64-byte header
// then the tokens, 2 or 4 bytes each:
//
//   offset size  field
//    0      8    magic "OSPTOKEN"
//    8      4    version (1)
//   12      4    token width in bits (16 or 32)
//   16      8    token count N
//   24      4    vocabulary size V (every token id is < V)
//   28      4    EOS id (the document separator: appended after every document)
//   32      8    tokenizer hash (Tokenizer::hash of the tokenizer.json that made the tokens)
//   40      8    document count
//   48     16    zero
//   64   N*w/8   tokens
//
// Readers memory-map the file and refuse anything that does not add up, naming the file.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "data/added_vocabulary.h"
#include "core/atomic_file.h"
#include "core/mapped_file.h"

namespace osp::data {

inline constexpr char kShardMagic[9] = "OSPTOKEN";
inline constexpr uint32_t kShardVersion = 1;
inline constexpr size_t kShardHeaderBytes = 64;

struct ShardHeader {
  uint32_t version = kShardVersion;
  uint32_t token_bits = 16;
  uint64_t token_count = 0;
  uint32_t vocab_size = 0;
  uint32_t eos_id = 0;
  uint64_t tokenizer_hash = 0;
  uint64_t document_count = 0;
};

// 16-bit tokens when every id fits, else 32-bit.
inline uint32_t token_bits_for(uint32_t vocab_size) { return vocab_size <= 65536 ? 16 : 32; }

std::string encode_shard_header(const ShardHeader& header);

class ShardWriter {
 public:
  static Result<ShardWriter> create(const std::string& path, ShardHeader header);
  // Buffers tokens (ids must be < vocab_size: checked, as a wrong id is a bug upstream).
  Status append(std::span<const TokenId> tokens, uint64_t documents);
  // Writes the final header and publishes the file atomically.
  Status finish();
  uint64_t token_count() const { return header_.token_count; }
  uint64_t document_count() const { return header_.document_count; }
  const std::string& path() const { return path_; }

 private:
  Status flush();
  std::optional<AtomicFile> file_;
  ShardHeader header_;
  std::string path_;
  std::string buffer_;
};

class ShardReader {
 public:
  // Maps and validates the whole file: header fields, size = 64 + N * width, and every id < V.
  static Result<ShardReader> open(const std::string& path);

  const ShardHeader& header() const { return header_; }
  uint64_t size() const { return header_.token_count; }
  TokenId at(uint64_t i) const;
  // Copies tokens [begin, begin + count) (must be in range) into out.
  void copy(uint64_t begin, uint64_t count, TokenId* out) const;
  const std::string& path() const { return path_; }

 private:
  MappedFile file_;
  std::string path_;
  ShardHeader header_;
  const unsigned char* tokens_ = nullptr;
};

}  // namespace osp::data
