// A flat open-addressing hash map from a token pair (two 32-bit ids packed in 64 bits) to a
// value: the BPE merge table is probed for every adjacent pair of every piece, so it is kept in
// one contiguous array instead of std::unordered_map's nodes.
#pragma once
#include <cstdint>
#include <vector>

namespace osp::data {

inline uint64_t pack_pair(uint32_t left, uint32_t right) {
  return (static_cast<uint64_t>(left) << 32) | right;
}

template <class Value>
class PairMap {
 public:
  // Inserts or overwrites.
  void insert(uint64_t key, const Value& value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    Slot& slot = find_slot(key);
    if (slot.key == kEmpty) ++size_;
    slot.key = key;
    slot.value = value;
  }
  const Value* find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      if (slots_[i].key == key) return &slots_[i].value;
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~0ull;  // ids are < 2^24, so this key never occurs
  struct Slot {
    uint64_t key = kEmpty;
    Value value{};
  };
  static size_t hash(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return static_cast<size_t>(key);
  }
  Slot& find_slot(uint64_t key) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash(key) & mask;; i = (i + 1) & mask)
      if (slots_[i].key == key || slots_[i].key == kEmpty) return slots_[i];
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    for (const Slot& s : old)
      if (s.key != kEmpty) find_slot(s.key) = s;
  }
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace osp::data
