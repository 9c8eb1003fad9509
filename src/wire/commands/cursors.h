// Server-side cursors: find/aggregate/listX results and change streams kept between
// getMore calls, with mongod's idle timeout.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "bson/value.h"
#include "changestream/change_stream.h"
#include "query/exec/database.h"

namespace eddy::wire {

// One open cursor. Implementations: a find cursor, a materialized batch (aggregate,
// listCollections...), a change stream.
class ServerCursor {
 public:
  virtual ~ServerCursor() = default;
  // Appends up to batch_size documents (and at most ~16 MiB) to *out. Returns false when the
  // cursor is exhausted after this batch. May wait until `deadline` (tailable/change streams).
  virtual Result<bool> NextBatch(int64_t batch_size, std::chrono::steady_clock::time_point deadline,
                                 bson::Array* out) = 0;
  // Change streams: the resume token after the last returned event (postBatchResumeToken).
  virtual std::optional<bson::Document> post_batch_resume_token() const { return std::nullopt; }
  virtual bool is_change_stream() const { return false; }
  // Change streams: calls wake once when the next NextBatch may return something or at
  // `deadline`, without holding a thread (changestream::Hub). False when NextBatch should
  // be called again now instead (or the cursor cannot wait this way).
  virtual bool ArmWake(std::chrono::steady_clock::time_point deadline, std::function<void()> wake) {
    return false;
  }
  // The next NextBatch returns events already in memory: it neither waits nor touches
  // storage, so it may run on the I/O thread. May be called while another thread runs
  // NextBatch (a stale answer only costs a worker hop, or a short inline pull).
  virtual bool ReadyInMemory() const { return false; }
  // Change streams: a NextBatch after ArmWake's wake reads only memory (the hub's ring) and
  // never blocks, so the thread that wakes it may run it. False when it may read storage
  // (updateLookup, $lookup) or wait.
  virtual bool ResumesInMemory() const { return false; }
  // Called by the cursor manager's reaper for a cursor nobody has used for kIdleRelease (and
  // not checked out): drop what pins storage (a catching-up change stream's change-log
  // iterator pins memtables and files) until it is used again.
  virtual void ReleaseIdleResources() {}
  static constexpr std::chrono::seconds kIdleRelease{1};
};

class VectorCursor : public ServerCursor {
 public:
  explicit VectorCursor(std::vector<bson::Document> docs) : docs_(docs.begin(), docs.end()) {}
  Result<bool> NextBatch(int64_t batch_size, std::chrono::steady_clock::time_point deadline,
                         bson::Array* out) override;

 private:
  std::deque<bson::Document> docs_;
};

class FindServerCursor : public ServerCursor {
 public:
  explicit FindServerCursor(std::unique_ptr<query::FindCursor> c) : cursor_(std::move(c)) {}
  Result<bool> NextBatch(int64_t batch_size, std::chrono::steady_clock::time_point deadline,
                         bson::Array* out) override;

 private:
  std::unique_ptr<query::FindCursor> cursor_;
  std::optional<bson::Document> pending_;  // fetched but did not fit the last batch
};

// A change stream's cursor. Its events come encoded from the stream and go out as they are
// (bson::RawDocument values sharing one buffer per pull).
//
// Replies are small, reads are big. A getMore returns at most `reply_bytes` of events (the
// first event always goes), so a client can reuse its read buffer instead of allocating (and
// page-faulting) a fresh multi-megabyte one per reply: libmongoc allocates each reply anew,
// and glibc serves allocations from 128 KiB up with fresh mmap pages. Events are pulled from
// the stream in chunks of up to kPullBytes, and while the stream has a backlog the next chunk
// is pulled on a background thread while getMores hand out the current one (at most
// kMaxPrefetching cursors prefetch at a time, server-wide).
class ChangeStreamCursor : public ServerCursor {
 public:
  // reply_bytes: 0 means the 16 MiB reply limit only.
  ChangeStreamCursor(std::unique_ptr<changestream::ChangeStream> cs, size_t reply_bytes);
  ~ChangeStreamCursor() override;  // waits for a prefetch in flight
  Result<bool> NextBatch(int64_t batch_size, std::chrono::steady_clock::time_point deadline,
                         bson::Array* out) override;
  // NextBatch that also appends each returned event's encoded size to *sizes (so callers
  // need not encode-size the events again).
  Result<bool> NextBatch(int64_t batch_size, std::chrono::steady_clock::time_point deadline,
                         bson::Array* out, std::vector<size_t>* sizes);
  std::optional<bson::Document> post_batch_resume_token() const override {
    if (token_) return token_;
    return cs_->resume_token();  // no batch yet (batchSize 0), so no prefetch either
  }
  bool is_change_stream() const override { return true; }
  bool ArmWake(std::chrono::steady_clock::time_point deadline, std::function<void()> wake) override;
  bool ReadyInMemory() const override { return ready_now_.load(std::memory_order_relaxed); }
  // No pull runs in the background and the hub's ring holds every entry the stream has not
  // read (maybe none): reading on touches only memory.
  bool ReadsOnlyMemory() const {
    return !prefetch_active_.load(std::memory_order_relaxed) && cs_->RingCoversPosition();
  }
  const changestream::WatchOptions& options() const { return cs_->options(); }
  void ReleaseIdleResources() override;

  // Cursors building a batch in the background at once, server-wide.
  static constexpr int kMaxPrefetching = 2;
  // Events pulled from the stream at once (one change-log scan).
  static constexpr size_t kPullBytes = 2 * 1024 * 1024;

 private:
  struct Event {
    bson::Value event;  // a bson::RawDocument
    size_t size;
  };
  // Pulls events from the stream into *into until kPullBytes; waits until `deadline` only
  // for the first. Sets backlog_ when it stopped on the byte limit (there is likely more).
  Status Pull(std::chrono::steady_clock::time_point deadline, std::deque<Event>* into);
  void JoinPrefetch();
  bool prefetch_running() const { return prefetch_.joinable(); }
  // The resume token after the last event returned, for post_batch_resume_token().
  void UpdateToken(const bson::Value* last_returned);

  std::unique_ptr<changestream::ChangeStream> cs_;
  const size_t reply_bytes_;
  std::deque<Event> ready_;  // pulled from the stream, not returned yet
  std::atomic<bool> ready_now_{false};  // !ready_.empty(), for ReadyInMemory
  std::atomic<bool> prefetch_active_{false};  // prefetch_ is joinable
  std::atomic<bool> prefetch_done_{false};    // its thread no longer touches cs_ (nor ahead_)
  // The background pull's events. While prefetch_ runs only its thread touches this, cs_,
  // buffers_, backlog_ and last_pull_bytes_; NextBatch takes them after joining it.
  std::deque<Event> ahead_;
  bool backlog_ = false;
  Status prefetch_status_;  // the background pull's error, reported once its events are out
  std::thread prefetch_;
  size_t last_pull_bytes_ = 0;  // sizes the next pull's buffer
  // Pull buffers for reuse while catching up (a buffer is free again once only this cursor
  // holds it, i.e. the replies made from it were sent).
  static constexpr size_t kKeptBuffers = 3;
  std::vector<std::shared_ptr<std::string>> buffers_;
  std::optional<bson::Document> token_;
};

// The open cursors of one server. Idle cursors are closed after the idle timeout (mongod's
// cursorTimeoutMillis, default 10 minutes) unless opened with noCursorTimeout; a cursor inside
// a getMore is never idle. A background thread looks for idle cursors every
// min(timeout / 2, 4 s) (mongod's ClientCursorMonitor runs every 4 s); getMore also checks, so a
// timed-out cursor is never served even between two passes.
class CursorManager {
 public:
  explicit CursorManager(std::chrono::milliseconds idle_timeout);
  ~CursorManager();  // joins the reaper thread
  CursorManager(const CursorManager&) = delete;
  CursorManager& operator=(const CursorManager&) = delete;

  struct Entry {
    std::string ns;  // "db.coll"
    std::shared_ptr<ServerCursor> cursor;
    std::chrono::steady_clock::time_point last_used;
    bool in_use = false;
    bool no_timeout = false;  // noCursorTimeout: never closed for idleness
  };
  // Registers a cursor and returns its id (never 0).
  int64_t Add(std::string ns, std::shared_ptr<ServerCursor> cursor);
  // noCursorTimeout: the cursor stays until exhausted or killed. False if the id is unknown.
  bool SetNoTimeout(int64_t id);
  // Takes a cursor for a getMore. CursorNotFound (43) if unknown or timed out;
  // OperationFailed if another getMore is running on it.
  Result<std::shared_ptr<ServerCursor>> Checkout(int64_t id, std::string_view ns);
  // The cursor exists, is not in use and has its next batch in memory (ReadyInMemory).
  bool ReadyInMemory(int64_t id);
  void Return(int64_t id);
  bool Kill(int64_t id);
  void Remove(int64_t id) { Kill(id); }
  size_t size();
  // Open cursors with noCursorTimeout.
  size_t no_timeout_count();

  // cursorTimeoutMillis (setParameter): applies to every open cursor from now on.
  void set_idle_timeout(std::chrono::milliseconds timeout);
  std::chrono::milliseconds idle_timeout();
  // Closes the idle cursors now; returns how many. (The reaper thread calls this.)
  size_t ReapIdle();
  // Cursors closed for idleness since start (serverStatus metrics.cursor.timedOut).
  int64_t timed_out();

 private:
  // Moves the timed-out entries into *reaped (destroyed by the caller, outside mu_).
  void ReapLocked(std::vector<std::shared_ptr<ServerCursor>>* reaped);
  void ReaperLoop();

  std::mutex mu_;
  std::condition_variable cv_;  // wakes the reaper: stop, or a new timeout
  std::map<int64_t, Entry> cursors_;
  std::chrono::milliseconds idle_timeout_;
  int64_t timed_out_ = 0;
  bool stopping_ = false;
  std::thread reaper_;
};

}  // namespace eddy::wire
