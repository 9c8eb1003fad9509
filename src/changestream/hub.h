// Hub: the shared tailer behind every change stream of one engine (DESIGN.md "Fan-out is
// shared").
//
// One thread reads each committed change-log entry once and keeps the newest entries in a ring
// that streams read without touching RocksDB (an entry is decoded at most once, when a filter
// first needs it). Streams that have caught up
// and wait for more (a getMore with maxAwaitTimeMS) register a Waiter instead of blocking a
// thread; the tailer checks each new entry only against the waiters it may concern, found
// through an index on namespace, operationType and one equality predicate of the stream's
// $match (e.g. fullDocument.customerId), then evaluates the full filter on those. So the cost
// of an event grows with the streams it matches, not with the streams that are open, and an
// idle stream costs its registration only.
//
// A waiter is woken (its callback runs once) when an entry after its position concerns it,
// when its deadline passes, or at Cancel/shutdown never. The callback receives the position
// through which the hub has checked every entry for it: a stream woken by its deadline may
// skip to that position without reading the entries again.
//
// Thread-safety: all methods may be called concurrently. Wake callbacks run on the tailer
// thread without the hub's lock held; they must be fast (e.g. queue a job) and may call
// Await/Cancel.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "bson/raw.h"
#include "bson/value.h"
#include "storage/engine.h"

namespace eddy::changestream {

class Interest;

// A change-log entry holds a document, its pre-image and its update description: it may be
// bigger than the 16 MiB a document may be (mongod's oplog entries are limited alike).
inline constexpr int32_t kMaxEntryBytes = 64 * 1024 * 1024;
// Decodes a change-log entry's bytes.
Result<bson::Document> DecodeEntry(std::string_view raw);

// One change-log entry in the ring, shared by every stream that reads it.
class TailEntry {
 public:
  // Fails when `raw` lacks a string op or db (then it is not servable from the ring).
  static Result<std::shared_ptr<TailEntry>> Make(bson::Timestamp ts, std::string raw);

  bson::Timestamp ts;
  std::string raw;   // the entry's bytes (docs/formats/change_log.md)
  size_t bytes = 0;  // raw.size()
  // Read from the bytes, without decoding them: the entry's op, db and coll ("" if none).
  std::string_view op, db, coll;

  // The decoded entry, made on first use and then shared; nullptr when the bytes do not
  // decode. Filters and the hub's value index need it; streams without a filter build
  // their events from the bytes and never do (decoding every entry up front cost the tailer
  // over a quarter of the server's CPU at 30k events/s to one unfiltered watcher).
  const bson::Document* decoded() const;

  // The value at a dotted `path` through embedded documents of the entry's bytes; false when
  // a step is missing or not a document. Memoized for the first path asked: the streams of a
  // fan-out filter on one path, and each woken stream reads on through the entries after its
  // own (finding the value anew, for 100 streams, was a fifth of the server's CPU).
  bool RawValueAt(const std::string& path, bson::RawElement* value) const;

 private:
  TailEntry() = default;
  struct PathMemo {
    std::string path;
    bool found = false;
    bson::RawElement value;
  };
  mutable std::atomic<const PathMemo*> memo_{nullptr};  // set once, under mu_
  mutable std::unique_ptr<const PathMemo> memo_owned_;
  mutable std::mutex mu_;
  mutable std::atomic<int> state_{0};  // 0: not decoded yet, 1: doc_ holds it, 2: undecodable
  mutable bson::Document doc_;
};
using TailEntryPtr = std::shared_ptr<const TailEntry>;

struct HubOptions {
  // The ring keeps at most this many of the newest entries and bytes (of encoded entries;
  // those a filter read are held decoded too). Streams further behind read the engine's change
  // log. Default: 65536 entries, 64 MiB
  size_t ring_entries = 65536;
  size_t ring_bytes = size_t{64} << 20;
  // Entries read from the engine per step. Default: 1024
  size_t scan_batch = 1024;
};

struct HubStats {
  uint64_t entries = 0;     // entries tailed
  uint64_t waiting = 0;     // waiters registered now
  uint64_t candidates = 0;  // (entry, waiter) pairs the index selected
  uint64_t checks = 0;      // full filter evaluations
  uint64_t woken = 0;       // waiters woken by an entry
  uint64_t timed_out = 0;   // waiters woken by their deadline
};

class Hub {
 public:
  // Starts the tailer at the engine's current watermark.
  explicit Hub(storage::Engine* engine, HubOptions options = {});
  ~Hub();
  // Stops the tailer: no wake runs after Stop returns, Await returns 0, Cancel still works.
  // Idempotent; the destructor calls it.
  void Stop();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  storage::Engine* engine() const { return engine_; }
  // The newest entry the tailer has processed; Read returns entries up to it.
  bson::Timestamp tail() const;

  // Appends the entries with after < ts <= tail() to *out, oldest first, at most max.
  // Returns false (appending nothing) when the ring no longer holds every entry after
  // `after`: the caller reads the engine's change log instead.
  bool Read(bson::Timestamp after, size_t max, std::vector<TailEntryPtr>* out) const;
  // The ring holds every entry after `after` (maybe none) and the tailer has caught up
  // with the engine: reading on from `after` touches only memory.
  bool Covers(bson::Timestamp after) const;

  // wake(checked_through): see the header comment. checked_through >= after.
  using WakeFn = std::function<void(bson::Timestamp checked_through)>;
  // Wake callbacks collected under the lock, to run after it is released.
  using Wakes = std::vector<std::pair<WakeFn, bson::Timestamp>>;
  // Registers a waiter for entries after `after` that concern `interest`, until `deadline`.
  // Returns its id, or 0 when it must not wait: an entry in the ring after `after` concerns
  // it already, or the ring does not reach back to `after` (the caller reads on instead; wake
  // is not called).
  uint64_t Await(std::shared_ptr<const Interest> interest, bson::Timestamp after,
                 std::chrono::steady_clock::time_point deadline, WakeFn wake);
  // Unregisters a waiter. True when it was still waiting: its wake will not be called.
  bool Cancel(uint64_t id);

  HubStats stats() const;

  // True inside a wake callback that runs on the committing thread, before the commit's
  // writers are acknowledged (at most a few per commit): a re-run that only reads memory may
  // run right there, so the watcher hears of the commit first. Elsewhere (the tailer
  // thread, which may wake thousands) wake callbacks should only queue work.
  static bool WakingInline();

 private:
  struct Waiter;
  struct Bucket;
  void Loop();
  // Tails the next committed entries (handed over in incoming_, or read back from the engine)
  // into the ring and collects the waiters they wake. REQUIRES: lock held and tailing_ set
  // by the caller; the lock is released while entries are read and decoded. Returns whether
  // the tail moved.
  bool TailStep(std::unique_lock<std::mutex>& lock, Wakes* woken);
  void Process(const TailEntryPtr& e, Wakes* woken);
  void CollectCandidates(const TailEntry& e, Bucket& b, std::vector<Waiter*>* out);
  void AddToIndex(Waiter* w);
  void RemoveFromIndex(Waiter* w);
  // Removes a waiter from the index, the deadlines and the table (destroying it).
  void Unregister(Waiter* w);
  bool RingCovers(bson::Timestamp after) const;
  // Interest::Concerns for a ring entry, decoding it only when its names do not decide.
  static bool Concerns(const Interest& interest, const TailEntry& e);

  storage::Engine* engine_;
  HubOptions options_;
  uint64_t listener_id_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool committed_changed_ = false;
  // Commits handed over by the engine's listener, oldest first: the tailer takes their
  // entries instead of reading them back from RocksDB when they start right at tail_.
  std::deque<storage::Engine::Committed> incoming_;
  bool tailing_ = false;  // a thread is in TailStep (the tailer, or a commit listener)
  // Waiters a commit listener woke but left to the tailer thread to run.
  Wakes handed_wakes_;
  bson::Timestamp tail_;
  // Waiters whose streams have a filter: while there are any, the tailer decodes new entries
  // before it takes the lock to check them (and not under it).
  size_t filtered_waiters_ = 0;
  bson::Timestamp ring_floor_;  // every entry after it up to tail_ is in the ring
  std::deque<TailEntryPtr> ring_;
  size_t ring_bytes_ = 0;
  uint64_t next_id_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Waiter>> waiters_;
  // Namespace key ("db\0coll", "db", "" for the whole deployment) -> bucket.
  std::unordered_map<std::string, std::unique_ptr<Bucket>> buckets_;
  std::multimap<std::chrono::steady_clock::time_point, uint64_t> deadlines_;
  // When the tailer thread, asleep, wakes by itself; min() while it is awake (it looks at
  // the deadlines before it sleeps again).
  std::chrono::steady_clock::time_point sleep_until_ = std::chrono::steady_clock::time_point::min();
  HubStats stats_;
  std::thread thread_;
};

}  // namespace eddy::changestream
