// The engine: RocksDB layout, recovery, the write sequencer and group commit, snapshot reads,
// and the change log. Layout (docs/formats/storage_layout.md):
//   catalog   "ns:<db>.<coll>"           -> CollectionInfo::ToDocument()
//   docs      u32(coll id) + ks(_id)      -> document BSON
//   index     u32(index id) + ks(fields) [+ ks(_id) unless unique] -> ks(_id)
//   changelog u64(cluster time)           -> entry BSON (docs/formats/change_log.md)
//   default   "meta:*"                    -> next id, last cluster time, history start
#include "storage/engine.h"

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "bson/codec.h"
#include "storage/detail/group.h"
#include "storage/detail/rocksdb_status.h"
#include "storage/key_encoding.h"

namespace eddy::storage {

namespace {
constexpr std::string_view kMetaNextId = "meta:next_id";
constexpr std::string_view kMetaLastTs = "meta:last_ts";
constexpr std::string_view kMetaHistoryStart = "meta:history_start";
constexpr std::string_view kMetaPendingDrop = "meta:pending_drop:";
// meta:counts:<collection id, 4 bytes big-endian> -> documents, data bytes, key bytes (8
// bytes each, big-endian), written with the documents. meta:counts_version is set once they
// are complete (a data directory from before them gets them on open).
constexpr std::string_view kMetaCounts = "meta:counts:";
constexpr std::string_view kMetaCountsVersion = "meta:counts_version";

std::string CountsKey(uint32_t coll_id) {
  std::string k(kMetaCounts);
  AppendBigEndian32(coll_id, &k);
  return k;
}

std::string EncodeCounts(const CollectionCounts& c) {
  std::string v;
  AppendBigEndian64(static_cast<uint64_t>(c.documents), &v);
  AppendBigEndian64(static_cast<uint64_t>(c.data_bytes), &v);
  AppendBigEndian64(static_cast<uint64_t>(c.key_bytes), &v);
  return v;
}

bool DecodeCounts(std::string_view v, CollectionCounts* c) {
  if (v.size() != 24) return false;
  c->documents = static_cast<int64_t>(ReadBigEndian64(v.substr(0, 8)));
  c->data_bytes = static_cast<int64_t>(ReadBigEndian64(v.substr(8, 8)));
  c->key_bytes = static_cast<int64_t>(ReadBigEndian64(v.substr(16, 8)));
  return true;
}

std::string U64Key(uint64_t v) {
  std::string s;
  AppendBigEndian64(v, &s);
  return s;
}

bson::DateTime WallNow() {
  using namespace std::chrono;
  return bson::DateTime{
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()};
}
}  // namespace

std::string DocKey(uint32_t coll_id, const bson::Value& id) {
  std::string key;
  AppendBigEndian32(coll_id, &key);
  AppendKeyString(id, false, &key);
  return key;
}

Result<bson::Document> ChangeLogEntry::Decode() const { return bson::Decode(raw); }

Result<bson::Document> DocIterator::Decode() const { return bson::Decode(raw()); }

// ---------------------------------------------------------------------------------------
// Shared state of the sequencer and the watchers.

namespace detail {
// A RocksDB snapshot shared by the ReadViews of one published group.
struct Snapshot {
  explicit Snapshot(rocksdb::DB* d) : db(d), snapshot(d->GetSnapshot()) {}
  ~Snapshot() { db->ReleaseSnapshot(snapshot); }
  rocksdb::DB* db;
  const rocksdb::Snapshot* snapshot;
};
}  // namespace detail

struct Engine::Shared {
  // The write pipeline has three stages: sequence (apply requests into a group), commit
  // (write groups to RocksDB) and sync (fsync the WAL, publish, acknowledge). Each stage
  // runs on one thread at a time, the holder of its role (busy[stage]), so groups pass
  // through every stage in order. Any of kWorkers pipeline threads takes a free role that
  // has input, and carries its group on into the next stage while that role is free: an
  // uncontended durable write costs one thread hand-off (the request's, to a worker)
  // instead of one per stage (each a futex wake and a context switch, which on a small VM
  // cost more than the stage's work). A caller of Write() may take free roles itself the
  // same way (see Write). Under load the stages still overlap: a role is released before
  // the next one is taken and the input left behind wakes another worker, so one thread
  // fsyncs while others apply and write the groups behind it (group commit).
  static constexpr int kWorkers = 3;
  std::mutex mu;
  enum Stage { kSequence = 0, kCommit = 1, kSync = 2 };
  bool busy[3] = {false, false, false};
  std::condition_variable work_cv;  // a pipeline worker may have a role to take
  std::deque<std::unique_ptr<Request>> queue;  // input of kSequence
  bool stopping = false;
  std::vector<std::thread> workers;
  std::thread retention;
  std::condition_variable retention_cv;

  // Applied groups waiting to be committed (input of kCommit). The sequencer waits on
  // ready_space_cv while kMaxReadyGroups are queued.
  static constexpr size_t kMaxReadyGroups = 64;
  std::deque<std::shared_ptr<Group>> ready;
  std::condition_variable ready_space_cv;
  // Written groups waiting to be synced (input of kSync).
  std::deque<std::shared_ptr<Group>> to_sync;
  // to_sync holds a group that may not wait (EngineOptions::unjournaled_sync_delay): a
  // request waits for its fsync, or the group failed. The syncer, while it delays
  // (sync_delaying), is woken on sync_delay_cv for one.
  bool sync_urgent = false;
  bool sync_delaying = false;
  std::condition_variable sync_delay_cv;
  // Set once a commit failed; every later write fails with it (guarded by mu).
  Status failed;

  // Nothing queued, applied or being written but the `queued` requests (0 before the caller
  // queues its own, 1 after). An fsync may be running: it does not delay a request that is
  // acknowledged before the fsync.
  bool idle(size_t queued) const {
    return queue.size() == queued && ready.empty() && !busy[kSequence] && !busy[kCommit];
  }

  bool has_input(int stage) const {
    switch (stage) {
      case kSequence: return !queue.empty();
      case kCommit: return !ready.empty();
      default: return !to_sync.empty();
    }
  }

  // A free role with input, the latest stage first (draining the pipeline before filling
  // it), or -1.
  int takeable() const {
    for (int s = kSync; s >= kSequence; --s) {
      if (!busy[s] && has_input(s)) return s;
    }
    return -1;
  }

  // Stopping, and every request taken in has been answered: the workers may exit.
  bool drained() const {
    return stopping && queue.empty() && ready.empty() && to_sync.empty() && !busy[kSequence] &&
           !busy[kCommit] && !busy[kSync];
  }

  // Readers take the catalog and their RocksDB snapshot together under catalog_mu, and the
  // committer publishes a group's catalog and snapshot together under it, so a reader never
  // sees data newer than its catalog (e.g. arrays in an index its catalog says is not
  // multikey).
  std::mutex catalog_mu;
  std::shared_ptr<const Catalog> catalog;            // guarded by catalog_mu
  std::shared_ptr<const detail::Snapshot> snapshot;  // guarded by catalog_mu
  uint64_t published_seq = 0;                        // guarded by catalog_mu

  std::mutex commit_mu;
  std::condition_variable commit_cv;
  std::mutex listeners_mu;
  std::vector<std::pair<uint64_t, std::function<void(const Committed&)>>> listeners;
  uint64_t next_listener = 1;

  // Held shared by change-log readers between the history check and creating their
  // iterator, exclusive by the trimmer, so no reader silently skips trimmed entries.
  std::shared_mutex history_mu;
  std::atomic<uint64_t> history_start{0};

  std::mutex stats_mu;
  EngineStats stats;
  std::atomic<uint64_t> ran_on_caller{0}, refused_busy{0};
};

// ---------------------------------------------------------------------------------------
// Iterators.

namespace {

class RocksDocIterator : public DocIterator {
 public:
  // Iterates docs of one collection [prefix, PrefixSuccessor(prefix)).
  RocksDocIterator(std::unique_ptr<rocksdb::Iterator> it, std::string prefix, bool reverse)
      : it_(std::move(it)),
        prefix_(std::move(prefix)),
        end_(PrefixSuccessor(prefix_)),
        reverse_(reverse) {
    if (reverse_) {
      if (end_.empty()) {
        it_->SeekToLast();
      } else {
        it_->SeekForPrev(end_);
        if (it_->Valid() && it_->key().compare(end_) >= 0) it_->Prev();
      }
    } else {
      it_->Seek(prefix_);
    }
  }
  bool Valid() const override { return it_->Valid() && it_->key().starts_with(prefix_); }
  void Next() override { reverse_ ? it_->Prev() : it_->Next(); }
  std::string_view raw() const override {
    rocksdb::Slice v = it_->value();
    return {v.data(), v.size()};
  }
  std::string_view id_key() const override {
    rocksdb::Slice k = it_->key();
    return std::string_view(k.data(), k.size()).substr(4);
  }
  Status status() const override { return detail::ToStatus(it_->status()); }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
  std::string prefix_;
  std::string end_;
  bool reverse_;
};

// Walks index entries in [start, end) and fetches each document through `fetch`.
class IndexDocIterator : public DocIterator {
 public:
  using Fetch = std::function<bool(const std::string& doc_key, std::string* value)>;
  IndexDocIterator(std::unique_ptr<rocksdb::Iterator> it, std::string start, std::string end,
                   bool reverse, uint32_t coll_id, Fetch fetch)
      : it_(std::move(it)),
        start_(std::move(start)),
        end_(std::move(end)),
        reverse_(reverse),
        fetch_(std::move(fetch)) {
    AppendBigEndian32(coll_id, &doc_key_);
    prefix_len_ = doc_key_.size();
    if (reverse_) {
      it_->SeekForPrev(end_);
      if (it_->Valid() && it_->key().compare(end_) >= 0) it_->Prev();
    } else {
      it_->Seek(start_);
    }
    Settle();
  }
  bool Valid() const override { return valid_; }
  void Next() override {
    reverse_ ? it_->Prev() : it_->Next();
    Settle();
  }
  std::string_view raw() const override { return value_; }
  std::string_view id_key() const override {
    return std::string_view(doc_key_).substr(prefix_len_);
  }
  Status status() const override {
    return status_.ok() ? detail::ToStatus(it_->status()) : status_;
  }

 private:
  bool InRange() const {
    if (!it_->Valid()) return false;
    rocksdb::Slice k = it_->key();
    return k.compare(start_) >= 0 && k.compare(end_) < 0;
  }
  void Settle() {
    valid_ = false;
    while (InRange()) {
      doc_key_.resize(prefix_len_);
      doc_key_.append(it_->value().data(), it_->value().size());
      if (fetch_(doc_key_, &value_)) {
        valid_ = true;
        return;
      }
      // An index entry without its document cannot happen (they commit together); skip.
      reverse_ ? it_->Prev() : it_->Next();
    }
  }
  std::unique_ptr<rocksdb::Iterator> it_;
  std::string start_, end_;
  bool reverse_;
  Fetch fetch_;
  std::string doc_key_;
  size_t prefix_len_ = 0;
  std::string value_;
  bool valid_ = false;
  Status status_;
};

}  // namespace

std::unique_ptr<DocIterator> NewIndexDocIterator(std::unique_ptr<rocksdb::Iterator> it,
                                                 std::string start, std::string end, bool reverse,
                                                 uint32_t coll_id, FetchFn fetch) {
  return std::make_unique<IndexDocIterator>(std::move(it), std::move(start), std::move(end),
                                            reverse, coll_id, std::move(fetch));
}

void IndexScanBounds(const IndexInfo& index, const IndexRange& range, std::string* start,
                     std::string* end) {
  std::string prefix;
  AppendBigEndian32(index.id, &prefix);
  *start = prefix;
  if (!range.lower.empty()) {
    start->append(range.lower);
    if (!range.lower_inclusive) *start = PrefixSuccessor(*start);
  }
  if (range.upper.empty()) {
    *end = PrefixSuccessor(prefix);
  } else {
    *end = prefix + range.upper;
    if (range.upper_inclusive) *end = PrefixSuccessor(*end);
  }
}

// ---------------------------------------------------------------------------------------
// ReadView

ReadView::ReadView(Engine* engine, std::shared_ptr<const Catalog> catalog,
                   std::shared_ptr<const detail::Snapshot> snapshot)
    : engine_(engine), catalog_(std::move(catalog)), snapshot_(std::move(snapshot)) {}

ReadView::~ReadView() = default;

Result<CollectionCounts> ReadView::Counts(const CollectionInfo& coll) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_->snapshot;
  std::string value;
  rocksdb::Status s = engine_->db_->Get(ro, engine_->cfs_[kCfDefault], CountsKey(coll.id), &value);
  CollectionCounts c;
  if (s.IsNotFound()) return c;  // no document written since the collection was created
  if (!s.ok()) return detail::ToStatus(s);
  if (!DecodeCounts(value, &c)) {
    return Status(ErrorCode::kInternalError, "corrupt counts of collection " + coll.ns());
  }
  return c;
}

Result<std::optional<bson::Document>> ReadView::FindById(const CollectionInfo& coll,
                                                         const bson::Value& id) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_->snapshot;
  std::string value;
  rocksdb::Status s = engine_->db_->Get(ro, engine_->cfs_[kCfDocs], DocKey(coll.id, id), &value);
  if (s.IsNotFound()) return std::optional<bson::Document>();
  if (!s.ok()) return detail::ToStatus(s);
  EDDY_ASSIGN_OR_RETURN(bson::Document doc, bson::Decode(value));
  return std::optional<bson::Document>(std::move(doc));
}

std::unique_ptr<DocIterator> ReadView::ScanCollection(const CollectionInfo& coll, bool reverse) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_->snapshot;
  std::string prefix;
  AppendBigEndian32(coll.id, &prefix);
  return std::make_unique<RocksDocIterator>(
      std::unique_ptr<rocksdb::Iterator>(engine_->db_->NewIterator(ro, engine_->cfs_[kCfDocs])),
      prefix, reverse);
}

std::unique_ptr<DocIterator> ReadView::ScanIndex(const CollectionInfo& coll, const IndexInfo& index,
                                                 const IndexRange& range) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_->snapshot;
  std::string start, end;
  IndexScanBounds(index, range, &start, &end);
  Engine* engine = engine_;
  std::shared_ptr<const detail::Snapshot> snap = snapshot_;
  return std::make_unique<IndexDocIterator>(
      std::unique_ptr<rocksdb::Iterator>(engine->db_->NewIterator(ro, engine->cfs_[kCfIndex])),
      start, end, range.reverse, coll.id,
      [engine, snap](const std::string& key, std::string* value) {
        rocksdb::ReadOptions r;
        r.snapshot = snap->snapshot;
        return engine->db_->Get(r, engine->cfs_[kCfDocs], key, value).ok();
      });
}

// ---------------------------------------------------------------------------------------
// Engine: open, recovery, sequencer.

namespace {
// RocksDB preallocates each WAL file (about 1.1 write buffers) with FALLOC_FL_KEEP_SIZE, so
// every append still grows the file's size and each group commit's fdatasync writes the
// inode as well as the data: three device round trips (data, inode, cache flush) where two
// do. Preallocating with the size instead makes an append an overwrite of allocated space.
// `bench/fsync_append.py` on this VM's ext4 (300-byte write + fdatasync, medians of 3):
// append 194 us, into space preallocated with its size 150 us, overwrite 148 us.
// A crash leaves the file's zero tail, which RocksDB's log reader skips (zero records are
// what its preallocating writers have always left); a clean close trims it.
class WalSizedPreallocation : public rocksdb::FileSystemWrapper {
 public:
  explicit WalSizedPreallocation(const std::shared_ptr<rocksdb::FileSystem>& target)
      : rocksdb::FileSystemWrapper(target) {}
  static const char* kClassName() { return "EddyWalSizedPreallocation"; }
  const char* Name() const override { return kClassName(); }
  rocksdb::FileOptions OptimizeForLogWrite(const rocksdb::FileOptions& file_options,
                                           const rocksdb::DBOptions& db_options) const override {
    rocksdb::FileOptions o = target()->OptimizeForLogWrite(file_options, db_options);
    o.fallocate_with_keep_size = false;
    return o;
  }
};

// Counts the column families whose writes RocksDB's write controller delays or stops, so a
// caller that must never sleep (WriteOptions::only_if_idle) can stay out of its way.
class StallCounter : public rocksdb::EventListener {
 public:
  explicit StallCounter(std::atomic<int>* stalled) : stalled_(stalled) {}
  void OnStallConditionsChanged(const rocksdb::WriteStallInfo& info) override {
    const int was = info.condition.prev != rocksdb::WriteStallCondition::kNormal;
    const int is = info.condition.cur != rocksdb::WriteStallCondition::kNormal;
    if (is != was) stalled_->fetch_add(is - was, std::memory_order_relaxed);
  }

 private:
  std::atomic<int>* stalled_;
};
}  // namespace

Engine::Engine(const EngineOptions& options) : options_(options), shared_(new Shared) {}

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return Status(ErrorCode::kInternalError,
                  "cannot create data directory " + options.path + ": " + ec.message());
  }
  std::unique_ptr<Engine> engine(new Engine(options));
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;
  db_options.max_total_wal_size = options.max_wal_bytes;
  // The WAL is our durability; its fsync is the group commit's one fsync.
  db_options.manual_wal_flush = false;
  engine->env_ = rocksdb::NewCompositeEnv(
      std::make_shared<WalSizedPreallocation>(rocksdb::FileSystem::Default()));
  db_options.env = engine->env_.get();
  // Compactions (RocksDB's LOW pool) yield the cores to the foreground: on a small machine
  // a compaction of just-written data otherwise competes with the watchers reading it (a
  // catch-up of 1M events right after they were written: median 2.18 -> 2.00 s over 8 runs
  // each). Flushes (HIGH pool) keep their priority; if compactions fall behind, RocksDB's
  // L0 triggers slow the writers down, which is the backpressure wanted.
  engine->env_->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW,
                                           rocksdb::CpuPriority::kLow);
  db_options.listeners.push_back(std::make_shared<StallCounter>(&engine->stalled_families_));

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.write_buffer_size = 64 << 20;
  rocksdb::ColumnFamilyOptions log_options = cf_options;
  // Inserts look up keys that are almost never there (_id duplicate checks, unique index
  // checks): a whole-key bloom filter in the memtable answers those without walking the
  // skiplist. The change log is only scanned, so it gets none.
  cf_options.memtable_prefix_bloom_size_ratio = 0.02;
  cf_options.memtable_whole_key_filtering = true;
  log_options.compression = rocksdb::kLZ4Compression;
  log_options.write_buffer_size = options.change_log_file_bytes;
  log_options.target_file_size_base = options.change_log_file_bytes;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {"catalog", cf_options},
      {"docs", cf_options},
      {"index", cf_options},
      {"changelog", log_options},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &db);
  if (!s.ok()) {
    return detail::ToStatus(s).WithPrefix("cannot open data directory " + options.path + ": ");
  }
  engine->db_ = db;
  engine->cfs_ = handles;
  EDDY_RETURN_IF_ERROR(engine->Recover());
  for (int i = 0; i < Shared::kWorkers; ++i) {
    engine->shared_->workers.emplace_back([e = engine.get()] { e->WorkerLoop(); });
  }
  engine->shared_->retention = std::thread([e = engine.get()] { e->RetentionLoop(); });
  return engine;
}

Engine::~Engine() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->stopping = true;
  }
  // The workers drain what was taken in (Write refuses new requests now), then exit.
  shared_->work_cv.notify_all();
  shared_->retention_cv.notify_all();
  shared_->sync_delay_cv.notify_all();
  for (std::thread& t : shared_->workers) t.join();
  last_snapshot_.reset();
  if (shared_->retention.joinable()) shared_->retention.join();
  unwritten_.clear();
  shared_->snapshot.reset();
  if (db_) {
    for (auto* h : cfs_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
    delete db_;
  }
}

Status Engine::Recover() {
  rocksdb::ReadOptions ro;
  std::string value;
  if (db_->Get(ro, cfs_[kCfDefault], kMetaNextId, &value).ok() && value.size() == 8) {
    next_id_ = static_cast<uint32_t>(ReadBigEndian64(value));
  }
  if (db_->Get(ro, cfs_[kCfDefault], kMetaLastTs, &value).ok() && value.size() == 8) {
    last_ts_ = ReadBigEndian64(value);
  }
  if (db_->Get(ro, cfs_[kCfDefault], kMetaHistoryStart, &value).ok() && value.size() == 8) {
    shared_->history_start = ReadBigEndian64(value);
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kCfChangeLog]));
    it->SeekToLast();
    if (it->Valid() && it->key().size() == 8) {
      last_ts_ = std::max(last_ts_, ReadBigEndian64(std::string_view(it->key().data(), 8)));
    }
  }
  committed_ = last_ts_;

  auto catalog = std::make_shared<Catalog>();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kCfCatalog]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    Result<bson::Document> doc =
        bson::Decode(std::string_view(it->value().data(), it->value().size()));
    auto info = std::make_shared<CollectionInfo>();
    if (!doc.ok() || !CollectionInfo::FromDocument(*doc, info.get())) {
      return Status(ErrorCode::kInternalError,
                    "corrupt catalog entry " + it->key().ToString() + " in " + options_.path);
    }
    catalog->by_ns_[info->ns()] = info;
  }
  EDDY_RETURN_IF_ERROR(detail::ToStatus(it->status()));
  shared_->catalog = catalog;
  applied_catalog_ = catalog;

  // Finish drops whose key spaces were not yet deleted when the process stopped.
  std::unique_ptr<rocksdb::Iterator> pit(db_->NewIterator(ro, cfs_[kCfDefault]));
  for (pit->Seek(kMetaPendingDrop); pit->Valid() && pit->key().starts_with(kMetaPendingDrop);
       pit->Next()) {
    std::string_view k(pit->key().data(), pit->key().size());
    uint32_t id = ReadBigEndian32(k.substr(kMetaPendingDrop.size()));
    std::string lo, hi;
    AppendBigEndian32(id, &lo);
    AppendBigEndian32(id + 1, &hi);
    rocksdb::WriteBatch wb;
    wb.DeleteRange(cfs_[kCfDocs], lo, hi);
    wb.DeleteRange(cfs_[kCfIndex], lo, hi);
    wb.Delete(cfs_[kCfDefault], pit->key());
    EDDY_RETURN_IF_ERROR(detail::ToStatus(db_->Write(rocksdb::WriteOptions(), &wb)));
  }
  EDDY_RETURN_IF_ERROR(LoadCounts());
  shared_->snapshot = std::make_shared<detail::Snapshot>(db_);
  last_snapshot_ = shared_->snapshot;
  return Status::OK();
}

Status Engine::LoadCounts() {
  rocksdb::ReadOptions ro;
  std::string value;
  rocksdb::Status vs = db_->Get(ro, cfs_[kCfDefault], kMetaCountsVersion, &value);
  if (!vs.ok() && !vs.IsNotFound()) return detail::ToStatus(vs);
  const bool complete = vs.ok();
  rocksdb::WriteBatch wb;
  for (const CollectionPtr& c : applied_catalog_->List("")) {
    CollectionCounts counts;
    if (complete) {
      rocksdb::Status s = db_->Get(ro, cfs_[kCfDefault], CountsKey(c->id), &value);
      if (s.IsNotFound()) continue;
      if (!s.ok()) return detail::ToStatus(s);
      if (!DecodeCounts(value, &counts)) {
        return Status(ErrorCode::kInternalError, "corrupt counts of collection " + c->ns());
      }
    } else {
      std::string prefix;
      AppendBigEndian32(c->id, &prefix);
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kCfDocs]));
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        counts.documents++;
        counts.data_bytes += static_cast<int64_t>(it->value().size());
        counts.key_bytes += static_cast<int64_t>(it->key().size());
      }
      EDDY_RETURN_IF_ERROR(detail::ToStatus(it->status()));
      wb.Put(cfs_[kCfDefault], CountsKey(c->id), EncodeCounts(counts));
    }
    counts_[c->id] = counts;
  }
  if (!complete) {
    wb.Put(cfs_[kCfDefault], kMetaCountsVersion, "1");
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync == SyncMode::kOn;
    EDDY_RETURN_IF_ERROR(detail::ToStatus(db_->Write(wo, &wb)));
  }
  return Status::OK();
}

std::shared_ptr<const Catalog> Engine::catalog() const {
  std::lock_guard lock(shared_->catalog_mu);
  return shared_->catalog;
}

std::unique_ptr<ReadView> Engine::NewReadView() {
  std::lock_guard lock(shared_->catalog_mu);
  return std::unique_ptr<ReadView>(new ReadView(this, shared_->catalog, shared_->snapshot));
}

Status Engine::Write(WriteFn fn, WriteOptions options) {
  // Not a std::promise: its set_value goes through pthread_once, which makes a futex
  // syscall every time, waiter or not (one syscall per write, measured with
  // `perf record -e syscalls:sys_enter_futex`); a condition variable signals only a waiter.
  // The callback notifies under the lock: once it unlocks, this frame may be gone.
  struct Completion {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Status status;
  } completion;
  std::atomic<bool> acknowledged{false};
  auto req = std::make_unique<Request>();
  req->fn = std::move(fn);
  req->done = [&completion, &acknowledged](Status s) {
    std::lock_guard lock(completion.mu);
    completion.status = std::move(s);
    completion.done = true;
    acknowledged.store(true, std::memory_order_release);
    completion.cv.notify_one();
  };
  req->wait_durable = options.wait_durable;
  const bool acked_before_sync = !options.wait_durable || options_.sync == SyncMode::kOff;
  bool lead = false;
  bool wake = false;
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->stopping) {
      return Status(ErrorCode::kInterruptedAtShutdown, "the engine is shutting down");
    }
    if (options.only_if_idle) {
      // Run now or not at all: the caller (an I/O thread) must never wait for another
      // thread. With SyncMode::kOff the request is acknowledged by the sync stage, so that
      // role must be free as well.
      const bool now = acked_before_sync && shared_->idle(0) &&
                       (options_.sync == SyncMode::kOn ||
                        (!shared_->busy[Shared::kSync] && shared_->to_sync.empty())) &&
                       stalled_families_.load(std::memory_order_relaxed) == 0;
      if (!now) {
        shared_->refused_busy.fetch_add(1, std::memory_order_relaxed);
        return Status(ErrorCode::kLockBusy, "the write pipeline is busy");
      }
      shared_->ran_on_caller.fetch_add(1, std::memory_order_relaxed);
    }
    shared_->queue.push_back(std::move(req));
    lead = acked_before_sync && shared_->idle(1);
    if (lead) shared_->busy[Shared::kSequence] = true;
    wake = !lead && !shared_->busy[Shared::kSequence];
  }
  // A request that need not wait for an fsync, finding the whole pipeline idle, is run by
  // this thread: it sequences its request and carries the group on through commit (and
  // sync, with syncing off) while those roles are free, saving two or three thread
  // hand-offs. Under load the pipeline workers run everything, as their slower wake-ups let
  // requests gather into groups (leading whenever the sequencer role was free made one group
  // per request with 64 writers and halved throughput). Otherwise the role's holder sees the
  // request when it releases the role, or a worker is woken.
  //
  // Durable requests always go to a worker, which carries them through the idle pipeline:
  // measured on this VM's ext4 (`eddy bench engine --scenario insert_one`, 1 writer), a WAL
  // fsync after a RocksDB write made on the caller's thread took ~3 ms, against ~1 ms when a
  // pipeline thread had made the write (1 writer: 250 vs 1,600 inserts/s).
  if (lead) {
    RunStages(Shared::kSequence, &acknowledged);
  } else if (wake) {
    shared_->work_cv.notify_one();
  }
  std::unique_lock lock(completion.mu);
  completion.cv.wait(lock, [&] { return completion.done; });
  return std::move(completion.status);
}

void Engine::SubmitWrite(WriteFn fn, std::function<void(Status)> done, WriteOptions options) {
  auto req = std::make_unique<Request>();
  req->fn = std::move(fn);
  req->done = std::move(done);
  req->wait_durable = options.wait_durable;
  bool wake = false;
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->stopping) {
      req->done(Status(ErrorCode::kInterruptedAtShutdown, "the engine is shutting down"));
      return;
    }
    shared_->queue.push_back(std::move(req));
    wake = !shared_->busy[Shared::kSequence];
  }
  // The caller may be an I/O thread: it never runs stages itself.
  if (wake) shared_->work_cv.notify_one();
}

void Engine::RunStage(int stage) {
  switch (stage) {
    case Shared::kSequence: SequencePass(); break;
    case Shared::kCommit: CommitPass(); break;
    default: SyncPass(); break;
  }
}

void Engine::RunStages(int stage, const std::atomic<bool>* until_done) {
  for (;;) {
    RunStage(stage);
    bool take_next = false;
    bool again = false;
    bool wake = false;
    bool exit_all = false;
    {
      std::lock_guard lock(shared_->mu);
      shared_->busy[stage] = false;
      const bool more_here = shared_->has_input(stage);
      const bool next_ready = stage < Shared::kSync && !shared_->busy[stage + 1] &&
                              shared_->has_input(stage + 1);
      if (until_done == nullptr) {
        // A worker keeps its role while input waits for it (under load each stage stays
        // on one thread, as with a thread per stage); otherwise it carries its group on
        // while the next role is free, saving the hand-off.
        again = more_here;
        take_next = !again && next_ready;
      } else {
        // A caller carries its own request on until it is acknowledged (a j:false write
        // is, after commit: it does not wait for the fsync), and leaves the rest to the
        // workers rather than serving others indefinitely.
        take_next = next_ready && !until_done->load(std::memory_order_acquire);
      }
      if (take_next) shared_->busy[stage + 1] = true;
      if (again) shared_->busy[stage] = true;
      // Input this thread leaves behind goes to a worker.
      wake = shared_->takeable() >= 0;
      exit_all = shared_->drained();
    }
    if (exit_all) {
      shared_->work_cv.notify_all();
    } else if (wake) {
      shared_->work_cv.notify_one();
    }
    if (take_next) {
      ++stage;
    } else if (!again) {
      return;
    }
  }
}

void Engine::WorkerLoop() {
  std::unique_lock lock(shared_->mu);
  for (;;) {
    const int stage = shared_->takeable();
    if (stage < 0) {
      if (shared_->drained()) return;
      shared_->work_cv.wait(lock);
      continue;
    }
    shared_->busy[stage] = true;
    // More than one role had input (say a caller left two): another worker takes the next.
    const bool more = shared_->takeable() >= 0;
    lock.unlock();
    if (more) shared_->work_cv.notify_one();
    RunStages(stage, /*until_done=*/nullptr);
    lock.lock();
  }
}

void Engine::SequencePass() {
  std::vector<std::unique_ptr<Request>> requests;
  Status failed;
  {
    std::lock_guard lock(shared_->mu);
    while (!shared_->queue.empty() && requests.size() < options_.max_group_requests) {
      requests.push_back(std::move(shared_->queue.front()));
      shared_->queue.pop_front();
    }
    failed = shared_->failed;
  }
  if (requests.empty()) return;
  if (!failed.ok()) {
    for (auto& req : requests) req->done(failed);
    return;
  }
  // Groups now in RocksDB are read there; the rest stay readable through their overlays.
  while (!unwritten_.empty() && unwritten_.front()->written.load(std::memory_order_acquire)) {
    unwritten_.pop_front();
  }
  RunGroup(requests);
}

void Engine::HandOff(std::shared_ptr<Group> group, bool wake_committer) {
  group->seq = ++handed_off_;
  unwritten_.push_back(group);
  {
    std::unique_lock lock(shared_->mu);
    shared_->ready_space_cv.wait(lock,
                                 [&] { return shared_->ready.size() < Shared::kMaxReadyGroups; });
    shared_->ready.push_back(std::move(group));
    wake_committer = wake_committer && !shared_->busy[Shared::kCommit];
  }
  if (wake_committer) shared_->work_cv.notify_one();
}

void Engine::SealGroup(Txn& txn, Group& group) {
  rocksdb::WriteBatch* wb = &group.batch;
  if (last_ts_ != txn.group_ts_before_) wb->Put(cfs_[kCfDefault], kMetaLastTs, U64Key(last_ts_));
  if (next_id_ != txn.group_next_id_before_) {
    wb->Put(cfs_[kCfDefault], kMetaNextId, U64Key(next_id_));
  }
  // Counts: the group's deltas in order, one write per collection it touched.
  if (!txn.counts_deltas_.empty()) {
    std::vector<uint32_t> touched;
    for (const Txn::CountsDelta& d : txn.counts_deltas_) {
      CollectionCounts& c = counts_[d.coll_id];
      c.documents += d.delta.documents;
      c.data_bytes += d.delta.data_bytes;
      c.key_bytes += d.delta.key_bytes;
      touched.push_back(d.coll_id);
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (uint32_t id : touched) wb->Put(cfs_[kCfDefault], CountsKey(id), EncodeCounts(counts_[id]));
  }
  for (uint32_t id : txn.dropped_ids_) {
    std::string k(kMetaPendingDrop);
    AppendBigEndian32(id, &k);
    wb->Put(cfs_[kCfDefault], k, "");
    // A dropped collection's counts go with it (the ids of its indexes have none).
    if (counts_.erase(id) > 0) wb->Delete(cfs_[kCfDefault], CountsKey(id));
  }
  if (txn.catalog_changed_ && txn.catalog_) {
    txn.catalog_->version_++;
    applied_catalog_ = txn.catalog_;
  }
  group.catalog = applied_catalog_;
  group.last_ts = last_ts_;
  group.entries = txn.entries_;
  group.dropped_ids = std::move(txn.dropped_ids_);
}

void Engine::StartGroup(Txn& txn, Group* group) {
  txn.overlay_ = &group->overlay;
  txn.base_catalog_ = applied_catalog_;
  txn.catalog_.reset();
  txn.catalog_changed_ = false;
  txn.entries_ = 0;
  txn.dropped_ids_.clear();
  txn.counts_deltas_.clear();
  txn.group_ts_before_ = last_ts_;
  txn.group_next_id_before_ = next_id_;
}

void Engine::CutGroup(Txn& txn) {
  // The writes so far become a group of their own (no requests to acknowledge), so the
  // committer writes them while this request goes on in a fresh group.
  std::shared_ptr<Group> done = std::move(current_group_);
  current_group_ = std::make_shared<Group>();
  SealGroup(txn, *done);
  HandOff(std::move(done), /*wake_committer=*/true);
  StartGroup(txn, current_group_.get());
}

void Engine::RunGroup(std::vector<std::unique_ptr<Request>>& requests) {
  current_group_ = std::make_shared<Group>();
  Txn txn(this, &current_group_->overlay, applied_catalog_);
  StartGroup(txn, current_group_.get());
  for (auto& req : requests) {
    txn.now_ = WallNow();
    try {
      req->result = req->fn(txn);
    } catch (const std::exception& e) {
      // A bug in one request must not take the server down; its partial effects stay
      // consistent because every document write is atomic with its entry.
      req->result = Status(ErrorCode::kInternalError, std::string("write failed: ") + e.what());
    }
  }
  std::shared_ptr<Group> group = std::move(current_group_);
  SealGroup(txn, *group);
  group->requests = std::move(requests);
  for (auto& req : group->requests) {
    if (req->wait_durable) {
      group->has_durable = true;
    } else {
      group->has_nondurable = true;
    }
  }
  // The end of a pass: RunStages hands the group on (or carries it itself).
  HandOff(std::move(group), /*wake_committer=*/false);
}

void Engine::CommitPass() {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard lock(shared_->mu);
    groups.assign(shared_->ready.begin(), shared_->ready.end());
    shared_->ready.clear();
  }
  if (groups.empty()) return;
  shared_->ready_space_cv.notify_all();
  WriteGroups(groups);
  bool urgent = false;
  for (const auto& g : groups) urgent = urgent || g->has_durable || !g->error.ok();
  bool wake_delayed_syncer = false;
  {
    std::lock_guard lock(shared_->mu);
    shared_->to_sync.insert(shared_->to_sync.end(), groups.begin(), groups.end());
    if (urgent) shared_->sync_urgent = true;
    wake_delayed_syncer = urgent && shared_->sync_delaying;
  }
  if (wake_delayed_syncer) shared_->sync_delay_cv.notify_one();
}

void Engine::SyncPass() {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::unique_lock lock(shared_->mu);
    // Only unjournaled writers (already acknowledged) wait for this fsync: let more of
    // them gather behind it for a moment (EngineOptions::unjournaled_sync_delay).
    if (options_.sync == SyncMode::kOn && options_.unjournaled_sync_delay.count() > 0 &&
        !shared_->to_sync.empty() && !shared_->sync_urgent &&
        watermark_waiters_.load(std::memory_order_relaxed) == 0) {
      const auto deadline = shared_->to_sync.front()->written_at + options_.unjournaled_sync_delay;
      shared_->sync_delaying = true;
      shared_->sync_delay_cv.wait_until(lock, deadline, [&] {
        return shared_->sync_urgent || shared_->stopping;
      });
      shared_->sync_delaying = false;
    }
    groups.assign(shared_->to_sync.begin(), shared_->to_sync.end());
    shared_->to_sync.clear();
    shared_->sync_urgent = false;
  }
  if (!groups.empty()) SyncGroups(groups);
}

void Engine::Publish(const Group& group) {
  std::lock_guard lock(shared_->catalog_mu);
  if (group.seq <= shared_->published_seq) return;  // a later group is already visible
  shared_->published_seq = group.seq;
  shared_->catalog = group.catalog;
  shared_->snapshot = group.snapshot;
}

void Engine::WriteGroups(std::vector<std::shared_ptr<Group>>& groups) {
  const bool sync = options_.sync == SyncMode::kOn;
  Status failed;
  {
    std::lock_guard lock(shared_->mu);
    failed = shared_->failed;
  }
  for (const std::shared_ptr<Group>& gp : groups) {
    Group& g = *gp;
    if (failed.ok() && g.batch.Count() > 0) {
      rocksdb::WriteOptions wo;
      wo.sync = false;  // the syncer's one SyncWAL covers every group written before it
      Status s = detail::ToStatus(db_->Write(wo, &g.batch));
      if (s.ok()) {
        g.wrote = true;
        // Readers of this group see exactly it and everything before it.
        last_snapshot_ = std::make_shared<detail::Snapshot>(db_);
        // Reclaim dropped key spaces (recorded as pending in the group, so a crash before
        // this is finished by Recover(), and the WAL keeps this after the group).
        for (uint32_t id : g.dropped_ids) {
          std::string lo, hi, k(kMetaPendingDrop);
          AppendBigEndian32(id, &lo);
          AppendBigEndian32(id + 1, &hi);
          AppendBigEndian32(id, &k);
          rocksdb::WriteBatch del;
          del.DeleteRange(cfs_[kCfDocs], lo, hi);
          del.DeleteRange(cfs_[kCfIndex], lo, hi);
          del.Delete(cfs_[kCfDefault], k);
          (void)db_->Write(wo, &del);
        }
      } else {
        // Later groups were applied on top of this one: refuse everything from here on.
        failed = s.WithPrefix("commit failed: ");
        std::lock_guard lock(shared_->mu);
        if (shared_->failed.ok()) shared_->failed = failed;
      }
    }
    g.error = failed;
    g.written_at = std::chrono::steady_clock::now();
    g.snapshot = last_snapshot_;
    g.written.store(true, std::memory_order_release);
    if (g.has_nondurable && sync && g.error.ok()) {
      // j:false requests are acknowledged once applied and visible, before the fsync.
      Publish(g);
      for (auto& req : g.requests) {
        if (req->wait_durable) continue;
        req->done(std::move(req->result));
        req->done = nullptr;
      }
    }
  }
}

void Engine::SyncGroups(std::vector<std::shared_ptr<Group>>& groups) {
  bool wrote = false;
  for (const auto& g : groups) wrote = wrote || g->wrote;
  if (wrote && options_.test_before_sync) options_.test_before_sync();
  Status sync_error;
  if (wrote && options_.sync == SyncMode::kOn) {
    sync_error = detail::ToStatus(db_->SyncWAL());
    if (sync_error.ok()) {
      std::lock_guard lock(shared_->stats_mu);
      shared_->stats.syncs++;
    } else {
      sync_error = sync_error.WithPrefix("commit failed (WAL sync): ");
      std::lock_guard lock(shared_->mu);
      if (shared_->failed.ok()) shared_->failed = sync_error;
    }
  }
  // groups[0, durable) committed; the rest failed.
  size_t durable = 0;
  if (sync_error.ok()) {
    while (durable < groups.size() && groups[durable]->error.ok()) ++durable;
  }
  if (durable > 0) {
    const Group& last = *groups[durable - 1];
    Publish(last);
    {
      std::lock_guard lock(shared_->stats_mu);
      for (size_t i = 0; i < durable; ++i) {
        shared_->stats.groups++;
        shared_->stats.requests += groups[i]->requests.size();
        shared_->stats.entries += groups[i]->entries;
      }
    }
    if (last.last_ts > committed_.load()) {
      Committed c;
      c.before = bson::Timestamp::FromUint64(committed_.load());
      c.after = bson::Timestamp::FromUint64(last.last_ts);
      for (size_t i = 0; i < durable; ++i) {
        if (!groups[i]->log->empty()) c.entries.push_back(groups[i]->log);
      }
      {
        std::lock_guard lock(shared_->commit_mu);
        committed_ = last.last_ts;
      }
      shared_->commit_cv.notify_all();
      std::lock_guard lock(shared_->listeners_mu);
      for (auto& [id, fn] : shared_->listeners) fn(c);
    }
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    Group& g = *groups[i];
    const Status& error = !g.error.ok() ? g.error : sync_error;
    for (auto& req : g.requests) {
      if (!req->done) continue;
      req->done(i < durable ? std::move(req->result) : error);
    }
    g.snapshot.reset();
  }
}

// ---------------------------------------------------------------------------------------
// Change log.

Result<std::vector<ChangeLogEntry>> Engine::ReadChangeLog(bson::Timestamp after,
                                                          size_t max_entries) {
  std::vector<ChangeLogEntry> out;
  EDDY_RETURN_IF_ERROR(
      ScanChangeLog(after, max_entries, [&](bson::Timestamp ts, std::string_view raw) {
        out.push_back(ChangeLogEntry{ts, std::string(raw)});
        return true;
      }).status());
  return out;
}

struct ChangeLogReader::Rep {
  std::unique_ptr<rocksdb::Iterator> it;
  std::string upper;  // the iterator's upper bound (it sees entries below it)
  rocksdb::Slice upper_slice;
  uint64_t watermark = 0;  // committed() when the iterator was made: it sees up to here
  uint64_t at = 0;         // the iterator stands at the first entry after this
  std::chrono::steady_clock::time_point made;
};

ChangeLogReader::ChangeLogReader() : rep_(std::make_unique<Rep>()) {}
ChangeLogReader::~ChangeLogReader() = default;
void ChangeLogReader::Release() { rep_->it.reset(); }

Result<size_t> Engine::ScanChangeLog(bson::Timestamp after, size_t max_entries,
                                     const ChangeLogVisitor& visit) {
  ChangeLogReader once;
  return ScanChangeLog(after, max_entries, visit, &once);
}

Result<size_t> Engine::ScanChangeLog(bson::Timestamp after, size_t max_entries,
                                     const ChangeLogVisitor& visit, ChangeLogReader* reader) {
  ChangeLogReader::Rep& r = *reader->rep_;
  uint64_t watermark = committed_.load();
  uint64_t from = after.AsUint64();
  if (from >= watermark) {
    r.it.reset();  // caught up: pin nothing while waiting
    return size_t{0};
  }
  const auto now = std::chrono::steady_clock::now();
  {
    std::shared_lock lock(shared_->history_mu);
    if (from < shared_->history_start.load()) {
      r.it.reset();
      return Status(ErrorCode::kChangeStreamHistoryLost,
                    "Resume of change stream was not possible, as the resume point may no "
                    "longer be in the oplog.");
    }
    // Go on with the iterator when it stands right after `after` and has more to show.
    const bool reuse = r.it && r.at == from && from < r.watermark &&
                       now - r.made < ChangeLogReader::kMaxAge;
    if (!reuse) {
      r.it.reset();
      r.upper = U64Key(watermark + 1);
      r.upper_slice = rocksdb::Slice(r.upper);
      rocksdb::ReadOptions ro;
      ro.iterate_upper_bound = &r.upper_slice;
      // Catch-up reads are long sequential scans: read ahead, and keep them out of the block
      // cache so a lagging watcher does not evict the documents everyone else reads.
      ro.readahead_size = 2 << 20;
      ro.fill_cache = false;
      r.it.reset(db_->NewIterator(ro, cfs_[kCfChangeLog]));
      r.watermark = watermark;
      r.made = now;
      r.it->Seek(U64Key(from + 1));
    }
  }
  rocksdb::Iterator* it = r.it.get();
  size_t n = 0;
  uint64_t last = from;
  while (it->Valid() && n < max_entries) {
    ++n;
    last = ReadBigEndian64(std::string_view(it->key().data(), 8));
    const bool more = visit(bson::Timestamp::FromUint64(last),
                            std::string_view(it->value().data(), it->value().size()));
    it->Next();  // the visited entry is read either way
    if (!more) break;
  }
  Status status = detail::ToStatus(it->status());
  r.at = last;
  // At the end of what it sees (or failed): the next scan needs a newer view anyway.
  if (!status.ok() || !it->Valid()) r.it.reset();
  EDDY_RETURN_IF_ERROR(status);
  return n;
}

bool Engine::WaitForCommit(bson::Timestamp after, std::chrono::steady_clock::time_point deadline) {
  uint64_t a = after.AsUint64();
  if (committed_.load() > a) return true;
  AddWatermarkWaiter();
  bool moved;
  {
    std::unique_lock lock(shared_->commit_mu);
    moved = shared_->commit_cv.wait_until(lock, deadline, [&] { return committed_.load() > a; });
  }
  RemoveWatermarkWaiter();
  return moved;
}

void Engine::AddWatermarkWaiter() {
  watermark_waiters_.fetch_add(1, std::memory_order_relaxed);
  // A syncer already delaying unjournaled groups ends its wait now.
  bool wake = false;
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->sync_delaying) {
      shared_->sync_urgent = true;
      wake = true;
    }
  }
  if (wake) shared_->sync_delay_cv.notify_one();
}

void Engine::RemoveWatermarkWaiter() { watermark_waiters_.fetch_sub(1, std::memory_order_relaxed); }

uint64_t Engine::AddCommitListener(std::function<void(bson::Timestamp)> listener) {
  return AddCommitListener(
      [listener = std::move(listener)](const Committed& c) { listener(c.after); });
}

uint64_t Engine::AddCommitListener(std::function<void(const Committed&)> listener) {
  std::lock_guard lock(shared_->listeners_mu);
  uint64_t id = shared_->next_listener++;
  shared_->listeners.emplace_back(id, std::move(listener));
  return id;
}

void Engine::RemoveCommitListener(uint64_t id) {
  std::lock_guard lock(shared_->listeners_mu);
  std::erase_if(shared_->listeners, [id](const auto& p) { return p.first == id; });
}

uint64_t Engine::ApproximateCollectionBytes(const CollectionInfo& coll) const {
  CollectionBytes sizes = ApproximateCollectionSizes(coll);
  uint64_t total = sizes.documents;
  for (const auto& [name, bytes] : sizes.indexes) total += bytes;
  return total;
}

Engine::CollectionBytes Engine::ApproximateCollectionSizes(const CollectionInfo& coll) const {
  // Documents are keyed by the collection's id, a secondary index's entries by the index's
  // own id; the _id index (id 0) is the documents themselves (docs/formats/storage_layout.md).
  rocksdb::SizeApproximationOptions o;
  o.include_memtables = true;
  o.include_files = true;
  auto bytes = [&](int cf, uint32_t id) -> uint64_t {
    std::string lo, hi;
    AppendBigEndian32(id, &lo);
    AppendBigEndian32(id + 1, &hi);
    rocksdb::Range range(lo, hi);
    uint64_t size = 0;
    return db_->GetApproximateSizes(o, cfs_[cf], &range, 1, &size).ok() ? size : 0;
  };
  CollectionBytes out;
  out.documents = bytes(kCfDocs, coll.id);
  for (const IndexInfo& index : coll.indexes) {
    if (!index.is_id()) out.indexes.emplace_back(index.name, bytes(kCfIndex, index.id));
  }
  return out;
}

bson::Timestamp Engine::history_start() const {
  return bson::Timestamp::FromUint64(shared_->history_start.load());
}

Status Engine::TrimChangeLog() {
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kCfChangeLog]));
  it->SeekToFirst();
  if (!it->Valid()) return detail::ToStatus(it->status());
  // Entries keep at least the newest one so the watermark stays recoverable.
  uint64_t newest = committed_.load();
  auto now = std::chrono::system_clock::now();
  const uint64_t age_cutoff_secs = static_cast<uint64_t>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() -
             options_.change_log_retention.count()));
  uint64_t age_cut = age_cutoff_secs << 32;
  // Size: drop the oldest entries until the log is back under 90% of the limit.
  // Live SST bytes plus memtable bytes: cheap, and never 0 while entries exist.
  uint64_t sst = 0, mem = 0;
  (void)db_->GetIntProperty(cfs_[kCfChangeLog], "rocksdb.live-sst-files-size", &sst);
  (void)db_->GetIntProperty(cfs_[kCfChangeLog], "rocksdb.cur-size-all-mem-tables", &mem);
  uint64_t size = sst + mem;
  uint64_t to_remove =
      size > options_.change_log_max_bytes ? size - options_.change_log_max_bytes * 9 / 10 : 0;
  // The history start moves only to the newest entry actually removed, so nothing that is
  // still stored becomes unresumable.
  uint64_t cutoff = 0, removed = 0;
  for (; it->Valid(); it->Next()) {
    uint64_t ts = ReadBigEndian64(std::string_view(it->key().data(), 8));
    if (ts >= newest) break;
    if (ts >= age_cut && removed >= to_remove) break;
    removed += it->key().size() + it->value().size();
    cutoff = ts;
  }
  if (cutoff > shared_->history_start.load()) {
    std::unique_lock lock(shared_->history_mu);
    rocksdb::WriteBatch wb;
    wb.DeleteRange(cfs_[kCfChangeLog], U64Key(0), U64Key(cutoff + 1));
    wb.Put(cfs_[kCfDefault], kMetaHistoryStart, U64Key(cutoff));
    EDDY_RETURN_IF_ERROR(detail::ToStatus(db_->Write(rocksdb::WriteOptions(), &wb)));
    shared_->history_start = cutoff;
  }
  // The range tombstone hides the entries, but their bytes stay on disk (and in the size
  // measured above, so every pass would trim more history) until compaction happens to
  // rewrite those files, which for a log's old levels may be never. Files holding only
  // trimmed entries are dropped: the log is written in time order, so all but the file
  // straddling the cutoff (and memtable-fresh L0 files) are. Files a compaction is reading
  // are skipped, so every pass tries again. Iterators reading them keep them alive; nobody may
  // read below history_start anyway.
  const uint64_t start = shared_->history_start.load();
  if (start == 0) return Status::OK();
  std::string lo = U64Key(0), hi = U64Key(start);
  rocksdb::Slice lo_slice(lo), hi_slice(hi);
  return detail::ToStatus(
      rocksdb::DeleteFilesInRange(db_, cfs_[kCfChangeLog], &lo_slice, &hi_slice, true));
}

Status Engine::Flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  return detail::ToStatus(db_->Flush(fo, cfs_));
}

Status Engine::CompactChangeLog() {
  rocksdb::CompactRangeOptions co;
  return detail::ToStatus(db_->CompactRange(co, cfs_[kCfChangeLog], nullptr, nullptr));
}

void Engine::RetentionLoop() {
  std::unique_lock lock(shared_->mu);
  while (!shared_->stopping) {
    shared_->retention_cv.wait_for(lock, options_.retention_interval);
    if (shared_->stopping) return;
    lock.unlock();
    (void)TrimChangeLog();
    lock.lock();
  }
}

EngineStats Engine::stats() const {
  std::lock_guard lock(shared_->stats_mu);
  EngineStats s = shared_->stats;
  s.ran_on_caller = shared_->ran_on_caller.load(std::memory_order_relaxed);
  s.refused_busy = shared_->refused_busy.load(std::memory_order_relaxed);
  return s;
}

}  // namespace eddy::storage
