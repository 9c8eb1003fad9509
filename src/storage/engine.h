// Engine owns the RocksDB instance and is the only way to change persistent state.
//
// Writes: every write request is a function run by the single write sequencer (whichever
// thread holds the sequence role of the pipeline below) against a Txn. The sequencer drains all queued requests and runs them in order as one group (each
// sees the writes of the requests before it, and of the groups before it that are still
// being written). The documents, index entries and change-log entries of a group go into
// one RocksDB WriteBatch, so after any crash a group is entirely present or entirely absent:
// no event without its write, no write without its event.
//
// A request with many document writes (an insertMany of thousands) is handed on in pieces
// of about 512 writes, each piece a group of its own made of whole operations (never
// splitting a savepoint), so it is written while the rest is applied; like MongoDB's
// insertMany, such a request is not atomic, and readers may see a durable prefix of it
// before it is acknowledged.
//
// Commit is a pipeline of three stages run by a pool of three threads: while the syncer
// fsyncs the WAL holding group N, the committer writes group N+1 to RocksDB (without sync)
// and the sequencer applies group N+2 on top of both. Each role is held by one thread at a
// time; an idle pipeline's worker carries a group through all three (one thread hand-off
// per durable write rather than three). One fsync covers every group written since the previous one; a RocksDB
// WAL record holds one group, and the WAL replays a prefix after a crash, so an unsynced
// group is lost only together with every group after it.
//
// Durability and visibility (per request, WriteOptions):
//   - wait_durable = true (the default, MongoDB j:true): Write() returns once the WAL holding
//     the group is fsynced (SyncMode::kOn). Then the write is visible to new ReadViews and
//     its change-log entries are below committed().
//   - wait_durable = false (MongoDB w:1 j:false): Write() returns once the group is written
//     to RocksDB and visible to new ReadViews; the syncer fsyncs it within
//     EngineOptions::unjournaled_sync_delay (10 ms; MongoDB's journal interval is 100 ms),
//     or at once when a durable write comes or a change stream waits for the watermark. A
//     crash before that fsync may lose it. Its change-log entries still appear only once
//     durable.
// Visibility is a prefix of the sequence: a write made visible early by a j:false request
// also makes visible the (not yet durable) writes sequenced before it, as in MongoDB, where
// reads see every applied write. Without j:false requests a ReadView sees only durable
// writes. Change-log readers (ScanChangeLog, watchers) only ever see durable entries.
// With SyncMode::kOff nothing is fsynced and every write is acknowledged once written.
//
// A failed RocksDB write or WAL sync fails the requests of that group and of every group
// applied after it, and the engine then refuses writes (a disk error leaves the sequence
// unknown); reopen the engine to recover.
//
// Reads: a ReadView is a consistent RocksDB snapshot plus the catalog of that moment (the
// latest visible group).
//
// Thread-safety: all Engine methods may be called concurrently. Write() blocks for group
// commit; call it from a storage/worker thread, never from an I/O thread (use SubmitWrite, or
// Write() with WriteOptions::only_if_idle, which never waits).
#pragma once
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "bson/value.h"
#include "storage/catalog.h"
#include "storage/options.h"

namespace rocksdb {
class DB;
class Env;
class ColumnFamilyHandle;
class Iterator;
class Snapshot;
}  // namespace rocksdb

namespace eddy::storage {

class Engine;
class Txn;
namespace detail {
class Overlay;
struct Snapshot;
}  // namespace detail

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
  virtual std::unique_ptr<DocIterator> ScanIndex(const CollectionInfo& coll, const IndexInfo& index,
                                                 const IndexRange& range) = 0;
};

// A collection's exact document count, the total size of its documents' BSON and of their
// keys (the _id index), kept by every write in the same WriteBatch as the documents: O(1) to
// read, and as of the reader's snapshot.
struct CollectionCounts {
  int64_t documents = 0;
  int64_t data_bytes = 0;
  int64_t key_bytes = 0;
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
  // The collection's counts as of this view (see CollectionCounts).
  Result<CollectionCounts> Counts(const CollectionInfo& coll);

 private:
  friend class Engine;
  ReadView(Engine* engine, std::shared_ptr<const Catalog> catalog,
           std::shared_ptr<const detail::Snapshot> snapshot);
  Engine* engine_;
  std::shared_ptr<const Catalog> catalog_;
  std::shared_ptr<const detail::Snapshot> snapshot_;
};

// What a write did, for change events and command replies.
enum class WriteOp { kInsert, kUpdate, kReplace, kDelete };

// The write sequencer's view of one group commit, handed to write requests.
// REQUIRES: used only inside the request function, by the sequencer.
class Txn : public Reader {
 public:
  const Catalog& catalog() const override { return catalog_ ? *catalog_ : *base_catalog_; }
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
                const bson::Document& after, WriteOp op, const bson::Document* update_description);
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
  Txn(Engine* engine, detail::Overlay* overlay, std::shared_ptr<const Catalog> catalog);
  // The catalog to change (copied from the group's starting catalog on first use).
  Catalog& MutableCatalog();
  // The newest pending or stored value of key in the docs or index column family.
  Result<bool> Lookup(int slot, std::string_view key, std::string* value);
  std::unique_ptr<rocksdb::Iterator> NewIterator(int slot);
  bson::Timestamp NextTimestamp();
  // After a document write outside any savepoint: hands the writes so far to the committer
  // when they are many, so a large request is written while it is still being applied.
  void MaybeCut();
  Status PutChangeLog(bson::Document entry);
  // The entry plus already-encoded documents (empty: absent) appended as doc/pre/ud.
  Status PutChangeLog(bson::Document entry, std::string_view doc_raw, std::string_view pre_raw,
                      const bson::Document* update_description);
  Status WriteIndexEntries(const CollectionInfo& coll, const IndexInfo& index,
                           const bson::Document& doc, const std::string& id_key, bool remove);
  Status CheckUnique(const CollectionInfo& coll, const IndexInfo& index, const std::string& key,
                     const std::string& id_key, const bson::Document& doc);
  void MarkMultikey(const CollectionInfo& coll, const IndexInfo& index);
  std::shared_ptr<CollectionInfo> MutableCollection(const CollectionInfo& coll);
  Status Persist(const CollectionInfo& coll);
  uint32_t AllocateId();
  bson::Document EventBase(std::string_view op, std::string_view db, std::string_view coll);
  // A document write's change to its collection's counts (applied at SealGroup).
  void AddCounts(uint32_t coll_id, const CollectionCounts& delta);

  Engine* engine_;
  detail::Overlay* overlay_;  // the group's WriteBatch and its pending-write index
  std::shared_ptr<const Catalog> base_catalog_;  // as of the group's start
  std::shared_ptr<Catalog> catalog_;             // copy on first change; published after commit
  bool catalog_changed_ = false;
  uint64_t entries_ = 0;
  bool building_multikey_ = false;
  bson::DateTime now_;
  bson::Timestamp last_ts_;
  std::vector<uint32_t> dropped_ids_;  // key spaces to delete after commit
  std::vector<uint32_t> savepoint_dropped_;
  struct CountsDelta {
    uint32_t coll_id;
    CollectionCounts delta;
  };
  std::vector<CountsDelta> counts_deltas_;      // this group's, in write order
  std::vector<uint32_t> savepoint_counts_;      // counts_deltas_.size() at each savepoint
  uint64_t group_ts_before_ = 0;       // last_ts_ when the current group started
  uint32_t group_next_id_before_ = 0;  // next_id_ when the current group started
};

using WriteFn = std::function<Status(Txn&)>;

struct EngineStats {
  uint64_t groups = 0;    // group commits
  uint64_t requests = 0;  // write requests committed
  uint64_t entries = 0;   // change-log entries written
  uint64_t syncs = 0;     // WAL fsyncs (one covers every group written before it)
  // WriteOptions::only_if_idle requests run on their caller's thread, and refused as busy.
  uint64_t ran_on_caller = 0;
  uint64_t refused_busy = 0;
};

// Per-request durability (see the top of this file).
struct WriteOptions {
  // true: acknowledge once durable (fsynced). false: acknowledge once applied and visible
  // (MongoDB writeConcern j:false); fsynced right after. Default: true
  bool wait_durable = true;
  // true: run now on the calling thread, never waiting for another thread, or not at all.
  // When the pipeline is idle and RocksDB is not stalling writes, the request is applied and
  // written by the caller, and Write() returns once it is acknowledged; otherwise fn is not
  // run and Write() returns LockBusy (46) at once. Only for requests acknowledged before
  // their fsync (wait_durable = false, or SyncMode::kOff): others always get LockBusy. An
  // I/O thread may use it for a small write: it costs the caller the write itself (point
  // reads, a RocksDB write without sync), not a hand-off to a worker and back.
  // Default: false
  bool only_if_idle = false;
};

// One change-log reader's iterator between scans (Engine::ScanChangeLog with a reader).
// An iterator pins the memtables and files it reads, so it is kept only while it pays:
// it is dropped once it reached the end of what it sees, after kMaxAge, or by Release().
// Not thread-safe: one per reader. Must not outlive its engine.
class ChangeLogReader {
 public:
  ChangeLogReader();
  ~ChangeLogReader();
  ChangeLogReader(const ChangeLogReader&) = delete;
  ChangeLogReader& operator=(const ChangeLogReader&) = delete;
  void Release();
  // An iterator older than this is replaced (so a stalled reader pins little).
  static constexpr std::chrono::milliseconds kMaxAge{1000};

 private:
  friend class Engine;
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs fn in the sequencer and waits until its group is durable (or, with
  // options.wait_durable = false, written and visible). Returns fn's Status, or the
  // commit's error. fn's effects are committed even when it returns an error (so an
  // ordered insertMany keeps the documents before the failing one, as MongoDB does); use
  // savepoints to undo a partial operation. Requests are acknowledged in sequence order.
  // When the pipeline is idle the calling thread runs it (apply, write, fsync) itself, and
  // may then run other requests' done callbacks: call it holding no lock a callback takes.
  Status Write(WriteFn fn, WriteOptions options = {});
  // The same, asynchronously: done(status) is called after commit, on whichever thread runs
  // the pipeline's sync stage (its commit stage for wait_durable = false). done must be fast,
  // must not block and must not call Write(). SubmitWrite never runs the pipeline itself.
  void SubmitWrite(WriteFn fn, std::function<void(Status)> done, WriteOptions options = {});

  std::unique_ptr<ReadView> NewReadView();
  std::shared_ptr<const Catalog> catalog() const;

  // --- change log ---
  // The newest durable cluster time (the watermark); change-log readers see entries up to
  // it. (With SyncMode::kOff: the newest written.)
  bson::Timestamp committed() const { return bson::Timestamp::FromUint64(committed_.load()); }
  // Entries with after < ts <= committed(), oldest first, at most max_entries.
  // ChangeStreamHistoryLost (286) when `after` is older than the retained history.
  Result<std::vector<ChangeLogEntry>> ReadChangeLog(bson::Timestamp after, size_t max_entries);
  // The same without copying: visit(ts, raw) for each entry, in order, while it returns true.
  // `raw` is valid only during the call. Returns the number of entries visited.
  using ChangeLogVisitor = std::function<bool(bson::Timestamp ts, std::string_view raw)>;
  Result<size_t> ScanChangeLog(bson::Timestamp after, size_t max_entries,
                               const ChangeLogVisitor& visit);
  // The same for a reader that scans on from where its last scan stopped (a catch-up):
  // `reader` keeps the RocksDB iterator, and its read-ahead, from one scan to the next
  // instead of seeking anew each time. See ChangeLogReader.
  Result<size_t> ScanChangeLog(bson::Timestamp after, size_t max_entries,
                               const ChangeLogVisitor& visit, ChangeLogReader* reader);
  // Blocks until committed() > after or the deadline passes; returns committed() > after.
  bool WaitForCommit(bson::Timestamp after, std::chrono::steady_clock::time_point deadline);
  // Someone waits for the watermark to move (a parked change stream; WaitForCommit counts
  // itself): unjournaled groups are then synced at once rather than after
  // EngineOptions::unjournaled_sync_delay, so their events reach the waiter without that
  // delay. Each Add is paired with one Remove; they are cheap (an atomic, and a lock only
  // when the syncer is delaying).
  void AddWatermarkWaiter();
  void RemoveWatermarkWaiter();
  // Called on the syncer thread each time the watermark advances, with the new watermark.
  // Must be fast and must not call Write(). Returns an id for RemoveCommitListener.
  uint64_t AddCommitListener(std::function<void(bson::Timestamp)> listener);
  // What one advance of the watermark made visible: every change-log entry with
  // `before` < ts <= `after`, in order, in `entries` (one vector per group commit; shared,
  // so a listener may keep them without copying the bytes).
  struct Committed {
    bson::Timestamp before, after;
    std::vector<std::shared_ptr<const std::vector<ChangeLogEntry>>> entries;
  };
  // The same listener, handed the entries too (a tailer need not read them back).
  uint64_t AddCommitListener(std::function<void(const Committed&)> listener);
  void RemoveCommitListener(uint64_t id);
  // The oldest cluster time still resumable from (entries after it are all retained).
  bson::Timestamp history_start() const;
  // The approximate bytes a collection's documents and index entries take (on disk after
  // compression, plus what memtables hold): RocksDB's size estimates, no scan.
  uint64_t ApproximateCollectionBytes(const CollectionInfo& coll) const;
  // The same estimate per part: the documents, and each secondary index's entries by index
  // name (the _id index is the documents' own keys: it has no entries of its own).
  struct CollectionBytes {
    uint64_t documents = 0;
    std::vector<std::pair<std::string, uint64_t>> indexes;
  };
  CollectionBytes ApproximateCollectionSizes(const CollectionInfo& coll) const;
  // Trims the change log now by the retention options (also done periodically).
  Status TrimChangeLog();
  // Writes every memtable to SST files, and compacts the change log (tests and tools: the
  // engine never needs either for correctness).
  Status Flush();
  Status CompactChangeLog();

  EngineStats stats() const;
  const EngineOptions& options() const { return options_; }

  // Column families, for the storage module's own files.
  rocksdb::DB* db() const { return db_; }
  rocksdb::ColumnFamilyHandle* cf(int i) const { return cfs_[i]; }

 private:
  struct Request;
  struct Group;
  explicit Engine(const EngineOptions& options);
  Status Recover();
  // Loads every collection's counts into counts_; a data directory from before counts were
  // kept gets them by one scan per collection, written once.
  Status LoadCounts();
  // The write pipeline (engine.cc, Engine::Shared): a pipeline worker thread; the stage
  // passes; running stages from `stage` on while their roles are free.
  void WorkerLoop();
  void RunStage(int stage);
  void RunStages(int stage, const std::atomic<bool>* until_done);
  void SequencePass();
  void CommitPass();
  void SyncPass();
  void RetentionLoop();
  void RunGroup(std::vector<std::unique_ptr<Request>>& requests);
  void StartGroup(Txn& txn, Group* group);
  void SealGroup(Txn& txn, Group& group);
  void CutGroup(Txn& txn);
  void HandOff(std::shared_ptr<Group> group, bool wake_committer);
  void WriteGroups(std::vector<std::shared_ptr<Group>>& groups);
  void SyncGroups(std::vector<std::shared_ptr<Group>>& groups);
  void Publish(const Group& group);
  friend class Txn;
  friend class ReadView;

  EngineOptions options_;
  std::unique_ptr<rocksdb::Env> env_;  // outlives db_ (deleted in ~Engine's body)
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  struct Shared;
  std::unique_ptr<Shared> shared_;
  std::atomic<uint64_t> committed_{0};
  std::atomic<int64_t> watermark_waiters_{0};  // see AddWatermarkWaiter
  // Column families whose writes RocksDB currently delays or stops (only_if_idle refuses
  // while any are: the caller must not sleep in RocksDB's write controller).
  std::atomic<int> stalled_families_{0};
  // The fields below belong to the holder of a pipeline role ("sequencer" or "committer"),
  // whichever thread that is; taking and releasing roles under Shared::mu orders them.
  uint64_t last_ts_ = 0;  // sequencer only (after recovery)
  uint32_t next_id_ = 1;  // sequencer only
  // Sequencer only: the catalog after the last applied group, and the groups handed to the
  // committer whose writes are not yet in RocksDB (oldest first).
  std::shared_ptr<const Catalog> applied_catalog_;
  std::deque<std::shared_ptr<Group>> unwritten_;
  std::shared_ptr<Group> current_group_;  // being applied
  // Sequencer only: each collection's counts after the last applied group (absent: 0).
  std::unordered_map<uint32_t, CollectionCounts> counts_;
  uint64_t handed_off_ = 0;               // groups handed to the committer
  // Committer only: the snapshot after the last group written.
  std::shared_ptr<const detail::Snapshot> last_snapshot_;
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
                                                 std::string start, std::string end, bool reverse,
                                                 uint32_t coll_id, FetchFn fetch);
void IndexScanBounds(const IndexInfo& index, const IndexRange& range, std::string* start,
                     std::string* end);

// Encoded document key of `id` in collection `coll_id`.
std::string DocKey(uint32_t coll_id, const bson::Value& id);

}  // namespace eddy::storage
