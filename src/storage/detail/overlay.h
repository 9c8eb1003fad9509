// The pending writes of one group commit, readable before they reach RocksDB.
//
// A group's writes go into a plain rocksdb::WriteBatch; the Overlay remembers the writes to
// the column families a request can read (documents and index entries) so that a request
// sees the writes of the requests before it, and the next groups see this group's writes
// while it is still being written and synced. Lookups build their structures lazily:
//   - a hash map for point lookups (_id duplicate checks, unique index checks, FindById),
//   - an ordered map only when a range scan over pending writes is asked for.
// A group that only inserts never sorts anything. Keys are copied once into an arena;
// values stay in the WriteBatch (looked up by offset), so nothing is stored twice.
//
// Savepoints roll the batch and the overlay back together.
//
// Thread-safety: none. The sequencer thread is the only user; once the group is handed to
// the committer thread only the WriteBatch is read there (never the overlay's maps).
#pragma once
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace eddy::storage::detail {

// Column families an Overlay tracks.
enum Slot : uint8_t { kSlotDocs = 0, kSlotIndex = 1, kSlotCount = 2 };

class Overlay {
 public:
  explicit Overlay(rocksdb::WriteBatch* batch) : batch_(batch) {}
  Overlay(const Overlay&) = delete;
  Overlay& operator=(const Overlay&) = delete;

  rocksdb::Status Put(rocksdb::ColumnFamilyHandle* cf, Slot slot, std::string_view key,
                      std::string_view value);
  rocksdb::Status Delete(rocksdb::ColumnFamilyHandle* cf, Slot slot, std::string_view key);

  enum class Hit { kMiss, kDeleted, kFound };
  // kFound sets *value (valid until the next write to this overlay).
  Hit Get(Slot slot, std::string_view key, std::string_view* value);

  // Key order view of the pending writes of `slot`: key -> op index (see value_of/deleted).
  using OrderedMap = std::map<std::string_view, uint32_t>;
  const OrderedMap& Ordered(Slot slot);
  bool deleted(uint32_t op) const { return ops_[op].deleted; }
  std::string_view value_of(uint32_t op) const {
    return std::string_view(batch_->Data()).substr(ops_[op].value_off, ops_[op].value_len);
  }

  void SetSavePoint();
  void RollbackToSavePoint();
  void PopSavePoint();

  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  // The batch itself, for writes nobody reads back before commit (change log, catalog).
  rocksdb::WriteBatch* batch() const { return batch_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Op {
    std::string_view key;  // in the arena
    uint32_t value_off = 0;
    uint32_t value_len = 0;
    uint32_t prev = kNone;  // the previous op on the same key (set when indexed)
    Slot slot;
    bool deleted = false;
  };
  std::string_view CopyKey(std::string_view key);
  void CatchUpHash(Slot slot);
  void Record(Slot slot, std::string_view key, bool deleted, size_t value_len);

  rocksdb::WriteBatch* batch_;
  std::vector<Op> ops_;
  std::unordered_map<std::string_view, uint32_t> hash_[kSlotCount];
  uint32_t hash_upto_[kSlotCount] = {0, 0};
  OrderedMap ordered_[kSlotCount];
  uint32_t ordered_upto_[kSlotCount] = {0, 0};
  std::vector<uint32_t> savepoints_;
  std::vector<std::unique_ptr<char[]>> arena_;
  char* arena_next_ = nullptr;
  size_t arena_left_ = 0;
};

// A RocksDB iterator over `base` with the pending writes of `layers` on top (layers[0] wins
// over layers[1] and so on over base; a pending delete hides the key). Supports forward and
// reverse iteration and changing direction. Pending writes made after creation are not seen.
std::unique_ptr<rocksdb::Iterator> NewOverlayIterator(std::vector<Overlay*> layers, Slot slot,
                                                      std::unique_ptr<rocksdb::Iterator> base);

}  // namespace eddy::storage::detail
