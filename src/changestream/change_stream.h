// The embedded change stream: events of committed writes in commit order, from any retained
// point, blocking for new ones. Events have MongoDB's change-event shape:
//   {_id: <resume token>, operationType, clusterTime, wallTime, ns: {db, coll},
//    documentKey, fullDocument?, updateDescription?, fullDocumentBeforeChange?, to?}
// and the filter is a query over that document (as a $match after $changeStream).
//
// With a Hub (hub.h) a stream reads recent entries from the hub's shared ring and can wait
// for relevant events without a thread (ArmWake); without one it reads the engine directly.
//
// Thread-safety: one ChangeStream is used by one thread at a time; any number may be open.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "bson/value.h"
#include "query/match/matcher.h"
#include "storage/engine.h"

namespace eddy::changestream {

class Hub;

enum class FullDocument { kDefault, kUpdateLookup, kWhenAvailable, kRequired };
enum class FullDocumentBeforeChange { kOff, kWhenAvailable, kRequired };

struct WatchOptions {
  std::string db;          // empty: every database
  std::string collection;  // empty: every collection of db
  bson::Document filter;   // over the event document; {} = everything
  // Where to start: after this resume token, or at (including) this cluster time; neither:
  // events committed after Open().
  std::optional<bson::Document> resume_after;
  // resume_after came as startAfter: an invalidate token is a valid start (the stream goes on
  // with the events after the drop/rename) instead of InvalidResumeToken (260).
  bool start_after = false;
  std::optional<bson::Timestamp> start_at_operation_time;
  FullDocument full_document = FullDocument::kDefault;
  FullDocumentBeforeChange full_document_before_change = FullDocumentBeforeChange::kOff;
  // Report create/createIndexes/dropIndexes/modify events too. Default: false
  bool show_expanded_events = false;
  // Entries read from the change log per batch (a batch also ends after ~2 MiB of entries,
  // so big documents never pile up in memory). Consecutive batches go on with one RocksDB
  // iterator (storage::ChangeLogReader): small batches cost no new seek. Default: 4096
  size_t batch_entries = 4096;
};

// What one stream wants, in the form the hub indexes and checks: its scope, options and
// compiled filter. Immutable; shared by the stream and its hub registrations.
class Interest {
 public:
  static Result<std::shared_ptr<const Interest>> Make(WatchOptions options);

  const WatchOptions& options() const { return options_; }
  const query::Matcher& matcher() const { return matcher_; }
  // The hub bucket: "db\0coll" for a collection stream, "db" for a database, "" for all.
  std::string bucket_key() const;
  // Whether `entry` (a decoded change-log entry) is in the stream's scope at all.
  bool InScope(const bson::Document& entry) const;
  // Whether `entry` makes the stream produce anything: an event passing the filter, an
  // invalidate or an error. Never false when it would (so a stream may skip entries for
  // which it is false); true without checking where the event needs a read (updateLookup).
  bool Concerns(const bson::Document& entry) const;
  // Concerns() decided from the entry's op, db and coll alone where they suffice (out of
  // scope; a write's event for a stream without a filter); nullopt: it needs the entry.
  std::optional<bool> ConcernsByName(std::string_view op, std::string_view db,
                                     std::string_view coll) const;
  // A cheap necessary condition for Concerns: false when the entry's value at the anchor
  // cannot satisfy the filter's equality (and the entry does not end the stream).
  bool MayConcern(const bson::Document& entry) const;

  // The index anchor: every event passing the filter has one of `values` at `path` of the
  // change-log entry (path "op" for operationType). Empty path: no anchor.
  const std::string& anchor_path() const { return anchor_path_; }
  // The filter is empty: every event in scope is the stream's (no event need be decoded).
  bool matches_everything() const { return options_.filter.empty(); }
  const std::vector<bson::Value>& anchor_values() const { return anchor_values_; }

 private:
  Interest(WatchOptions options, query::Matcher matcher);
  WatchOptions options_;
  query::Matcher matcher_;
  std::string anchor_path_;
  std::vector<bson::Value> anchor_values_;
};

// The values a filter's equality on `path` (dotted, in a change-log entry) could match:
// the value there and, for an array, its elements. *ambiguous when the path crosses an array
// (the caller then treats the entry as a candidate instead of re-implementing the matcher's
// array traversal).
void EntryValuesAt(const bson::Document& entry, std::string_view path,
                   std::vector<const bson::Value*>* out, bool* ambiguous);

// While one is alive on a thread, streams read there take what the hub's ring holds and stop
// (they read the engine's change log only when the ring no longer reaches back to them): for
// reads on an I/O thread or a committing thread, which must not wait for RocksDB (or for the
// retention task's lock) even when a commit lands that the tailer has not reached yet. A
// stream that finds nothing then waits on the hub, which wakes it for those entries.
class MemoryOnlyReads {
 public:
  MemoryOnlyReads();
  ~MemoryOnlyReads();
  MemoryOnlyReads(const MemoryOnlyReads&) = delete;
  MemoryOnlyReads& operator=(const MemoryOnlyReads&) = delete;
  static bool active();

 private:
  bool before_;
};

class ChangeStream {
 public:
  // Errors: BadValue for malformed tokens or filters; ChangeStreamHistoryLost (286) when the
  // start point is older than the retained history; ChangeStreamFatalError (280) when a
  // resume token names no event in the retained history; InvalidResumeToken (260) for
  // resumeAfter from an invalidate.
  static Result<std::unique_ptr<ChangeStream>> Open(storage::Engine* engine, WatchOptions options,
                                                    Hub* hub = nullptr);
  ~ChangeStream();

  // The next event; waits until `deadline` for one. nullopt when none arrived in time.
  Result<std::optional<bson::Document>> Next(std::chrono::steady_clock::time_point deadline);
  // The next event if one is committed already, without waiting.
  Result<std::optional<bson::Document>> TryNext();
  // The same as BSON bytes appended to *out (the stream builds events as bytes; the wire
  // cursor sends them as they are). False when no event arrived in time (nothing appended).
  Result<bool> NextEncoded(std::chrono::steady_clock::time_point deadline, std::string* out);
  Result<bool> TryNextEncoded(std::string* out);
  // Many events at once (the wire cursor's batch): appends up to `max_events` (0: no limit)
  // events to *out, each one's offset in *out to *offsets, and stops once *out grew by more
  // than `max_bytes`. Waits until `deadline` only while nothing was appended. Returns how
  // many events it appended.
  Result<size_t> NextEncodedBatch(std::chrono::steady_clock::time_point deadline,
                                  size_t max_events, size_t max_bytes, std::string* out,
                                  std::vector<size_t>* offsets);
  // Resumes after everything seen so far (the last event, or the last scanned position).
  bson::Document resume_token() const;
  // True once the stream returned its invalidate: it has no more events.
  bool invalidated() const { return invalidated_ && ready_empty(); }

  // Asks the hub to call `wake` once, when an entry after everything read so far concerns
  // this stream or at `deadline`. False when it must not wait (there may be events to read
  // now, or there is no hub): read again instead. wake runs on the hub's thread.
  bool ArmWake(std::chrono::steady_clock::time_point deadline, std::function<void()> wake);
  // Withdraws an armed wake (before the stream is read again).
  void CancelWake();
  // The hub's ring holds every entry after what the stream has read (maybe none), so
  // reading on touches only memory: it copies out new entries, or finds none and may wait
  // on the hub. May be called from any thread, also while another reads the stream (the
  // answer may be stale).
  bool RingCoversPosition() const;

  const WatchOptions& options() const { return interest_->options(); }
  // Drops the change-log iterator a catch-up keeps between reads (it pins memtables and
  // files); the next read makes a new one. For a stream left unread for a while.
  void ReleaseStorage() { log_reader_.Release(); }

 private:
  struct Skip;
  ChangeStream(storage::Engine* engine, std::shared_ptr<const Interest> interest, Hub* hub);
  Status Fill();
  // Turns one entry (its bytes `raw`, and the decoded entry when a hub ring entry has it)
  // into the stream's events, appended to the ready queue as bytes.
  Status Consume(bson::Timestamp ts, std::string_view raw, const bson::Document* decoded);
  // Queues the event just appended to ready_bytes_ at `start`.
  void Ready(size_t start) { ready_.push_back(Span{start, ready_bytes_.size() - start}); }
  bool ready_empty() const { return ready_head_ == ready_.size(); }

  storage::Engine* engine_;
  std::shared_ptr<const Interest> interest_;
  Hub* hub_;
  bson::Timestamp position_;  // every entry <= position_ has been consumed
  // position_ as of the last NextEncodedBatch, for RingCoversPosition on other threads.
  std::atomic<uint64_t> position_seen_{0};
  // Events made but not returned yet: encoded back to back in ready_bytes_, ready_[ready_head_
  // ...] in order (both are reset once all are returned, keeping their capacity).
  struct Span {
    size_t offset;
    size_t size;
  };
  std::string ready_bytes_;
  std::vector<Span> ready_;
  size_t ready_head_ = 0;
  // _data of the last returned event's token: assigned in place, so returning an event
  // reuses the buffer instead of copying a token document.
  mutable std::string last_token_data_;
  // The last returned event when last_token_data_ was not taken from it yet (it is, lazily,
  // before ready_bytes_ is reused or a token is asked for: no per-event token copy).
  mutable std::optional<Span> unsettled_last_;
  void SettleLastToken() const;
  bool invalidated_ = false;
  // Resuming from a drop/rename token with resumeAfter re-delivers the invalidate.
  std::optional<bson::Document> pending_invalidate_;
  uint64_t wake_id_ = 0;
  std::shared_ptr<Skip> skip_;
  // Catching up, consecutive Fills read on with one change-log iterator.
  storage::ChangeLogReader log_reader_;
};

// Builds the MongoDB change event for one change-log entry (no filtering). `engine` serves
// fullDocument: updateLookup (may be null: fullDocument is then null). nullopt for entries
// that are not events under the options (other namespaces, "create" without
// show_expanded_events, ...).
Result<std::optional<bson::Document>> BuildEvent(const bson::Document& entry,
                                                 const WatchOptions& options,
                                                 storage::Engine* engine);
// The same from an entry nobody else holds: its documents move into the event instead of
// being copied (the entry keeps "op", "db", "coll", "ts", "wall" and "to").
Result<std::optional<bson::Document>> BuildEvent(bson::Document&& entry,
                                                 const WatchOptions& options,
                                                 storage::Engine* engine);
// The event as BSON bytes appended to *out, from the change-log entry's bytes: insert,
// update, replace and delete events are assembled from the entry's elements (its documents
// copied as bytes, never decoded), other entries go through BuildEvent. Gives exactly the
// bytes of BuildEvent's document. False (nothing appended) when the entry is not an event
// under the options; errors as BuildEvent's, or InvalidBSON for a malformed entry.
Result<bool> BuildEncodedEvent(std::string_view raw_entry, const WatchOptions& options,
                               storage::Engine* engine, std::string* out);

}  // namespace eddy::changestream
