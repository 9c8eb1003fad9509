// Engine owns the RocksDB instance and is the only way to change persistent state.
//
// Writes: every write request is a function run by the single write sequencer thread against
// a Txn. The sequencer drains all queued requests, runs them in order (each sees the writes
// of the requests before it), writes documents, index entries and change-log entries of the
// whole group in one RocksDB WriteBatch with one fsync, then advances the committed
// watermark. No event without its write, no write without its event, after any crash.
//
// Reads: a ReadView is a consistent RocksDB snapshot plus the catalog of that moment; it
// sees only committed (durable) writes.
//
// Thread-safety: all Engine methods may be called concurrently. Write() blocks for group
// commit; call it from a storage/worker thread, never from an I/O thread (use SubmitWrite).
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "bson/value.h"
#include "storage/catalog.h"
#include "storage/options.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Iterator;
class Snapshot;
class WriteBatchWithIndex;
}  // namespace rocksdb

namespace eddy::storage {

class Engine;
class Txn;

// One change-log entry as stored (see docs/formats/change_log.md).
struct ChangeLogEntry {
  bson::Timestamp ts;
  std::string raw;  // the entry's BSON bytes
  Result<bson::Document> Decode() const;
};

// Iterates a collection's documents in _id order, or the documents an index range points at
// in index order (a document may come more than once from a multikey index).
class DocIterator {
 public:
  virtual ~DocIterator() = default;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  // The raw BSON of the current document.
  virtual std::string_view raw() const = 0;
  // The encoded _id key of the current document (unique per document, for de-duplication).
  virtual std::string_view id_key() const = 0;
  virtual Status status() const = 0;
  Result<bson::Document> Decode() const;
};

// Bounds of an index scan, over encoded index keys (index key bytes without the index id
// prefix): [lower, upper) or with inclusive flags. Empty lower = from the start; empty upper
// = to the end.
struct IndexRange {
  std::string lower;
  bool lower_inclusive = true;
  std::string upper;
  bool upper_inclusive = true;
  bool reverse = false;
};

// Reading methods shared by snapshots and transactions.
class Reader {
 public:
  virtual ~Reader() = default;
  virtual const Catalog& catalog() const = 0;
  virtual Result<std::optional<bson::Document>> FindById(const CollectionInfo& coll,
                                                         const bson::Value& id) = 0;
  virtual std::unique_ptr<DocIterator> ScanCollection(const CollectionInfo& coll,
                                                      bool reverse = false) = 0;
  virtual std::unique_ptr<DocIterator> ScanIndex(const CollectionInfo& coll,
                                                 const IndexInfo& index,
                                                 const IndexRange& range) = 0;
};

class ReadView : public Reader {
 public:
  ~ReadView() override;
  const Catalog& catalog() const override { return *catalog_; }
  Result<std::optional<bson::Document>> FindById(const CollectionInfo& coll,
                                                 const bson::Value& id) override;
  std::unique_ptr<DocIterator> ScanCollection(const CollectionInfo& coll, bool reverse) override;
  std::unique_ptr<DocIterator> ScanIndex(const CollectionInfo& coll, const IndexInfo& index,
                                         const IndexRange& range) override;
  // Approximate number of documents (exact counts scan).
 private:
  friend class Engine;
  ReadView(Engine* engine, std::shared_ptr<const Catalog> catalog);
  Engine* engine_;
  std::shared_ptr<const Catalog> catalog_;
  const rocksdb::Snapshot* snapshot_;
};

// What a write did, for change events and command replies.
enum class WriteOp { kInsert, kUpdate, kReplace, kDelete };

// The write sequencer's view of one group commit, handed to write requests.
// REQUIRES: used only inside the request function, on the sequencer thread.
class Txn : public Reader {
 public:
  const Catalog& catalog() const override { return *catalog_; }
  Result<std::optional<bson::Document>> FindById(const CollectionInfo& coll,
                                                 const bson::Value& id) override;
  std::unique_ptr<DocIterator> ScanCollection(const CollectionInfo& coll, bool reverse) override;
  std::unique_ptr<DocIterator> ScanIndex(const CollectionInfo& coll, const IndexInfo& index,
                                         const IndexRange& range) override;

  // --- catalog ---
  // Creates the collection (event "create"). NamespaceExists (48) if it exists.
  Result<CollectionPtr> CreateCollection(std::string_view db, std::string_view coll,
                                         const bson::Document& options);
  // The collection, created with default options if missing (as inserts do).
  Result<CollectionPtr> GetOrCreateCollection(std::string_view db, std::string_view coll);
  // Drops the collection and its indexes (event "drop"). NamespaceNotFound if missing.
  Status DropCollection(std::string_view db, std::string_view coll);
  // Renames (event "rename"); drop_target removes an existing target first.
  Status RenameCollection(std::string_view db, std::string_view from, std::string_view to_db,
                          std::string_view to, bool drop_target);
  // Drops every collection of db (an event "drop" each, then "dropDatabase").
  Status DropDatabase(std::string_view db);
  // Changes collection options (collMod: changeStreamPreAndPostImages); event "modify".
  Status ModifyCollection(std::string_view db, std::string_view coll,
                          const bson::Document& changes);
  // Builds an index over the existing documents (event "createIndexes"). Building fails
  // with DuplicateKey if a unique index finds duplicates, and then nothing changes.
  Result<CollectionPtr> CreateIndex(std::string_view db, std::string_view coll, IndexInfo index);
  Status DropIndex(std::string_view db, std::string_view coll, std::string_view name);

  // --- documents --- (each is atomic with its change-log entry and index entries)
  // REQUIRES: doc has an _id. DuplicateKey (11000) on _id or unique index conflict;
  // BSONObjectTooLarge (10334) past 16 MiB.
  Status Insert(const CollectionInfo& coll, const bson::Document& doc);
  // Replaces `before` (as read in this Txn) with `after` (same _id). For kUpdate,
  // update_description is {updatedFields, removedFields, truncatedArrays}.
  Status Update(const CollectionInfo& coll, const bson::Document& before,
                const bson::Document& after, WriteOp op,
                const bson::Document* update_description);
  Status Delete(const CollectionInfo& coll, const bson::Document& before);

  // Per-operation atomicity inside a request: a failed document write rolls back to here.
  void SetSavePoint();
  void RollbackToSavePoint();
  void PopSavePoint();

  bson::DateTime now() const { return now_; }
  // The cluster time of the last entry this Txn wrote.
  bson::Timestamp last_timestamp() const { return last_ts_; }

 private:
  friend class Engine;
  Txn(Engine* engine, rocksdb::WriteBatchWithIndex* batch, std::shared_ptr<Catalog> catalog);
  bson::Timestamp NextTimestamp();
  Status PutChangeLog(bson::Document entry);
  // The entry plus already-encoded documents (empty: absent) appended as doc/pre/ud.
  Status PutChangeLog(bson::Document entry, std::string_view doc_raw, std::string_view pre_raw,
                      const bson::Document* update_description);
  Status WriteIndexEntries(const CollectionInfo& coll, const IndexInfo& index,
                           const bson::Document& doc, const std::string& id_key, bool remove);
  Status CheckUnique(const CollectionInfo& coll, const IndexInfo& index,
                     const std::string& key, const std::string& id_key,
                     const bson::Document& doc);
  void MarkMultikey(const CollectionInfo& coll, const IndexInfo& index);
  std::shared_ptr<CollectionInfo> MutableCollection(const CollectionInfo& coll);
  Status Persist(const CollectionInfo& coll);
  uint32_t AllocateId();
  bson::Document EventBase(std::string_view op, std::string_view db, std::string_view coll);

  Engine* engine_;
  rocksdb::WriteBatchWithIndex* batch_;
  std::shared_ptr<Catalog> catalog_;  // working copy; published after commit
  bool catalog_changed_ = false;
  uint64_t entries_ = 0;
  bool building_multikey_ = false;
  bson::DateTime now_;
  bson::Timestamp last_ts_;
  std::vector<bson::Timestamp> savepoint_ts_;
  std::vector<uint32_t> dropped_ids_;  // key spaces to delete after commit
  std::vector<uint32_t> savepoint_dropped_;
};

using WriteFn = std::function<Status(Txn&)>;

struct EngineStats {
  uint64_t groups = 0;       // group commits
  uint64_t requests = 0;     // write requests committed
  uint64_t entries = 0;      // change-log entries written
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs fn in the sequencer and waits until its group is durable. Returns fn's Status, or
  // the commit's error. fn's effects are committed even when it returns an error (so an
  // ordered insertMany keeps the documents before the failing one, as MongoDB does); use
  // savepoints to undo a partial operation.
  Status Write(WriteFn fn);
  // The same, asynchronously: done(status) is called on the sequencer thread after commit.
  void SubmitWrite(WriteFn fn, std::function<void(Status)> done);

  std::unique_ptr<ReadView> NewReadView();
  std::shared_ptr<const Catalog> catalog() const;

  // --- change log ---
  // The newest committed cluster time (the watermark); readers see entries up to it.
  bson::Timestamp committed() const { return bson::Timestamp::FromUint64(committed_.load()); }
  // Entries with after < ts <= committed(), oldest first, at most max_entries.
  // ChangeStreamHistoryLost (286) when `after` is older than the retained history.
  Result<std::vector<ChangeLogEntry>> ReadChangeLog(bson::Timestamp after, size_t max_entries);
  // The same without copying: visit(ts, raw) for each entry, in order, while it returns true.
  // `raw` is valid only during the call. Returns the number of entries visited.
  using ChangeLogVisitor = std::function<bool(bson::Timestamp ts, std::string_view raw)>;
  Result<size_t> ScanChangeLog(bson::Timestamp after, size_t max_entries,
                               const ChangeLogVisitor& visit);
  // Blocks until committed() > after or the deadline passes; returns committed() > after.
  bool WaitForCommit(bson::Timestamp after, std::chrono::steady_clock::time_point deadline);
  // Called on the sequencer thread after each group commit with the new watermark. Must be
  // fast and must not call Write(). Returns an id for RemoveCommitListener.
  uint64_t AddCommitListener(std::function<void(bson::Timestamp)> listener);
  void RemoveCommitListener(uint64_t id);
  // The oldest cluster time still resumable from (entries after it are all retained).
  bson::Timestamp history_start() const;
  // Trims the change log now by the retention options (also done periodically).
  Status TrimChangeLog();

  EngineStats stats() const;
  const EngineOptions& options() const { return options_; }

  // Column families, for the storage module's own files.
  rocksdb::DB* db() const { return db_; }
  rocksdb::ColumnFamilyHandle* cf(int i) const { return cfs_[i]; }

 private:
  struct Request;
  explicit Engine(const EngineOptions& options);
  Status Recover();
  void SequencerLoop();
  void RetentionLoop();
  void RunGroup(std::vector<std::unique_ptr<Request>>& group);
  friend class Txn;
  friend class ReadView;

  EngineOptions options_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  struct Shared;
  std::unique_ptr<Shared> shared_;
  std::atomic<uint64_t> committed_{0};
  uint64_t last_ts_ = 0;        // sequencer thread only (after recovery)
  uint32_t next_id_ = 1;        // sequencer thread only
};

// Column family indexes.
inline constexpr int kCfDefault = 0;
inline constexpr int kCfCatalog = 1;
inline constexpr int kCfDocs = 2;
inline constexpr int kCfIndex = 3;
inline constexpr int kCfChangeLog = 4;

// Internal: the index iterator shared by snapshots and transactions.
using FetchFn = std::function<bool(const std::string& doc_key, std::string* value)>;
std::unique_ptr<DocIterator> NewIndexDocIterator(std::unique_ptr<rocksdb::Iterator> it,
                                                 std::string start, std::string end,
                                                 bool reverse, uint32_t coll_id, FetchFn fetch);
void IndexScanBounds(const IndexInfo& index, const IndexRange& range, std::string* start,
                     std::string* end);

// Encoded document key of `id` in collection `coll_id`.
std::string DocKey(uint32_t coll_id, const bson::Value& id);

}  // namespace eddy::storage
