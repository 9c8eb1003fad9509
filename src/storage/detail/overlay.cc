#include "storage/detail/overlay.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace eddy::storage::detail {

namespace {
// Arena blocks double from the first to the last size: a group of one small write (the
// common case for a single client) allocates 1 KiB, a big batch soon gets 32 KiB blocks.
constexpr size_t kFirstArenaBlock = 1 << 10;
constexpr size_t kArenaBlock = 32 << 10;
}  // namespace

std::string_view Overlay::CopyKey(std::string_view key) {
  if (key.size() > arena_left_) {
    size_t block = std::min(kArenaBlock, kFirstArenaBlock << std::min<size_t>(arena_.size(), 5));
    size_t n = std::max(block, key.size());
    // Not zeroed (make_unique<char[]> would memset the block: a third of a small group's
    // overlay cost).
    arena_.push_back(std::unique_ptr<char[]>(new char[n]));
    arena_next_ = arena_.back().get();
    arena_left_ = n;
  }
  char* p = arena_next_;
  std::memcpy(p, key.data(), key.size());
  arena_next_ += key.size();
  arena_left_ -= key.size();
  return std::string_view(p, key.size());
}

void Overlay::Record(Slot slot, std::string_view key, bool deleted, size_t value_len) {
  Op op;
  op.key = CopyKey(key);
  op.slot = slot;
  op.deleted = deleted;
  op.value_len = static_cast<uint32_t>(value_len);
  // A Put's value is the last thing appended to the batch's representation.
  op.value_off = static_cast<uint32_t>(batch_->GetDataSize() - value_len);
  ops_.push_back(op);
}

rocksdb::Status Overlay::Put(rocksdb::ColumnFamilyHandle* cf, Slot slot, std::string_view key,
                             std::string_view value) {
  rocksdb::Status s = batch_->Put(cf, rocksdb::Slice(key.data(), key.size()),
                                  rocksdb::Slice(value.data(), value.size()));
  if (s.ok()) Record(slot, key, false, value.size());
  return s;
}

rocksdb::Status Overlay::Delete(rocksdb::ColumnFamilyHandle* cf, Slot slot, std::string_view key) {
  rocksdb::Status s = batch_->Delete(cf, rocksdb::Slice(key.data(), key.size()));
  if (s.ok()) Record(slot, key, true, 0);
  return s;
}

void Overlay::CatchUpHash(Slot slot) {
  auto& hash = hash_[slot];
  for (uint32_t i = hash_upto_[slot]; i < ops_.size(); ++i) {
    Op& op = ops_[i];
    if (op.slot != slot) continue;
    auto [it, inserted] = hash.try_emplace(op.key, i);
    op.prev = inserted ? kNone : it->second;
    it->second = i;
  }
  hash_upto_[slot] = static_cast<uint32_t>(ops_.size());
}

Overlay::Hit Overlay::Get(Slot slot, std::string_view key, std::string_view* value) {
  if (ops_.empty()) return Hit::kMiss;
  CatchUpHash(slot);
  auto it = hash_[slot].find(key);
  if (it == hash_[slot].end()) return Hit::kMiss;
  if (ops_[it->second].deleted) return Hit::kDeleted;
  *value = value_of(it->second);
  return Hit::kFound;
}

const Overlay::OrderedMap& Overlay::Ordered(Slot slot) {
  auto& ordered = ordered_[slot];
  for (uint32_t i = ordered_upto_[slot]; i < ops_.size(); ++i) {
    Op& op = ops_[i];
    if (op.slot != slot) continue;
    auto [it, inserted] = ordered.try_emplace(op.key, i);
    op.prev = inserted ? kNone : it->second;
    it->second = i;
  }
  ordered_upto_[slot] = static_cast<uint32_t>(ops_.size());
  return ordered;
}

void Overlay::SetSavePoint() {
  batch_->SetSavePoint();
  savepoints_.push_back(static_cast<uint32_t>(ops_.size()));
}

void Overlay::RollbackToSavePoint() {
  (void)batch_->RollbackToSavePoint();
  uint32_t mark = savepoints_.back();
  savepoints_.pop_back();
  // Undo newest first, so each key's map entry goes back to the op before it.
  for (uint32_t i = static_cast<uint32_t>(ops_.size()); i-- > mark;) {
    const Op& op = ops_[i];
    if (i < hash_upto_[op.slot]) {
      if (op.prev == kNone) {
        hash_[op.slot].erase(op.key);
      } else {
        hash_[op.slot][op.key] = op.prev;
      }
    }
    if (i < ordered_upto_[op.slot]) {
      if (op.prev == kNone) {
        ordered_[op.slot].erase(op.key);
      } else {
        ordered_[op.slot][op.key] = op.prev;
      }
    }
  }
  ops_.resize(mark);
  for (int s = 0; s < kSlotCount; ++s) {
    hash_upto_[s] = std::min(hash_upto_[s], mark);
    ordered_upto_[s] = std::min(ordered_upto_[s], mark);
  }
}

void Overlay::PopSavePoint() {
  (void)batch_->PopSavePoint();
  savepoints_.pop_back();
}

// ---------------------------------------------------------------------------------------

namespace {

class OverlayIterator : public rocksdb::Iterator {
 public:
  OverlayIterator(std::vector<Overlay*> overlays, Slot slot,
                  std::unique_ptr<rocksdb::Iterator> base)
      : base_(std::move(base)) {
    for (Overlay* o : overlays) {
      if (o->empty()) continue;
      const Overlay::OrderedMap& m = o->Ordered(slot);
      if (!m.empty()) layers_.push_back(Layer{o, &m, m.end(), false});
    }
  }

  bool Valid() const override { return cur_ != kNoSource; }

  void SeekToFirst() override {
    forward_ = true;
    for (Layer& l : layers_) {
      l.it = l.map->begin();
      l.valid = l.it != l.map->end();
    }
    base_->SeekToFirst();
    Settle();
  }
  void SeekToLast() override {
    forward_ = false;
    for (Layer& l : layers_) {
      l.valid = !l.map->empty();
      if (l.valid) l.it = std::prev(l.map->end());
    }
    base_->SeekToLast();
    Settle();
  }
  void Seek(const rocksdb::Slice& target) override {
    forward_ = true;
    std::string_view t(target.data(), target.size());
    for (Layer& l : layers_) {
      l.it = l.map->lower_bound(t);
      l.valid = l.it != l.map->end();
    }
    base_->Seek(target);
    Settle();
  }
  void SeekForPrev(const rocksdb::Slice& target) override {
    forward_ = false;
    std::string_view t(target.data(), target.size());
    for (Layer& l : layers_) {
      l.it = l.map->upper_bound(t);
      l.valid = l.it != l.map->begin();
      if (l.valid) --l.it;
    }
    base_->SeekForPrev(target);
    Settle();
  }
  void Next() override {
    std::string k(CurrentKey());
    if (!forward_) {
      Seek(k);  // every source at or after k; the current entry is k again
      if (!Valid() || CurrentKey() != std::string_view(k)) return;
    }
    AdvancePast(k);
    Settle();
  }
  void Prev() override {
    std::string k(CurrentKey());
    if (forward_) {
      SeekForPrev(k);
      if (!Valid() || CurrentKey() != std::string_view(k)) return;
    }
    AdvancePast(k);
    Settle();
  }
  rocksdb::Slice key() const override {
    std::string_view k = CurrentKey();
    return rocksdb::Slice(k.data(), k.size());
  }
  rocksdb::Slice value() const override {
    if (cur_ == kBase) return base_->value();
    const Layer& l = layers_[cur_];
    std::string_view v = l.overlay->value_of(l.it->second);
    return rocksdb::Slice(v.data(), v.size());
  }
  rocksdb::Status status() const override { return base_->status(); }

 private:
  struct Layer {
    Overlay* overlay;
    const Overlay::OrderedMap* map;
    Overlay::OrderedMap::const_iterator it;
    bool valid;
  };
  static constexpr int kNoSource = -2;
  static constexpr int kBase = -1;

  std::string_view BaseKey() const {
    rocksdb::Slice k = base_->key();
    return std::string_view(k.data(), k.size());
  }
  std::string_view CurrentKey() const {
    return cur_ == kBase ? BaseKey() : layers_[cur_].it->first;
  }
  // Moves every source positioned at k one step in the current direction.
  void AdvancePast(std::string_view k) {
    for (Layer& l : layers_) {
      if (!l.valid || l.it->first != k) continue;
      if (forward_) {
        l.valid = ++l.it != l.map->end();
      } else if (l.it == l.map->begin()) {
        l.valid = false;
      } else {
        --l.it;
      }
    }
    if (base_->Valid() && BaseKey() == k) forward_ ? base_->Next() : base_->Prev();
  }
  // Picks the next key in the current direction; the newest layer holding it wins, and a
  // pending delete skips the key in every source.
  void Settle() {
    for (;;) {
      cur_ = kNoSource;
      std::string_view best;
      for (size_t i = 0; i < layers_.size(); ++i) {
        const Layer& l = layers_[i];
        if (!l.valid) continue;
        std::string_view k = l.it->first;
        if (cur_ == kNoSource || (forward_ ? k < best : k > best)) {
          cur_ = static_cast<int>(i);
          best = k;
        }
      }
      if (base_->Valid()) {
        std::string_view k = BaseKey();
        if (cur_ == kNoSource || (forward_ ? k < best : k > best)) {
          cur_ = kBase;
          best = k;
        }
      }
      if (cur_ < 0) return;  // base or nothing
      const Layer& l = layers_[cur_];
      if (!l.overlay->deleted(l.it->second)) return;
      std::string k(best);
      AdvancePast(k);
    }
  }

  std::vector<Layer> layers_;
  std::unique_ptr<rocksdb::Iterator> base_;
  bool forward_ = true;
  int cur_ = kNoSource;
};

}  // namespace

std::unique_ptr<rocksdb::Iterator> NewOverlayIterator(std::vector<Overlay*> layers, Slot slot,
                                                      std::unique_ptr<rocksdb::Iterator> base) {
  return std::make_unique<OverlayIterator>(std::move(layers), slot, std::move(base));
}

}  // namespace eddy::storage::detail
