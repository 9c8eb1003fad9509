// The embedded change stream: events of committed writes in commit order, from any retained
// point, blocking for new ones. Events have MongoDB's change-event shape:
//   {_id: <resume token>, operationType, clusterTime, wallTime, ns: {db, coll},
//    documentKey, fullDocument?, updateDescription?, fullDocumentBeforeChange?, to?}
// and the filter is a query over that document (as a $match after $changeStream).
//
// Thread-safety: one ChangeStream is used by one thread at a time; any number may be open.
#pragma once
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "bson/value.h"
#include "query/match/matcher.h"
#include "storage/engine.h"

namespace eddy::changestream {

enum class FullDocument { kDefault, kUpdateLookup, kWhenAvailable, kRequired };
enum class FullDocumentBeforeChange { kOff, kWhenAvailable, kRequired };

struct WatchOptions {
  std::string db;          // empty: every database
  std::string collection;  // empty: every collection of db
  bson::Document filter;   // over the event document; {} = everything
  // Where to start: after this resume token, or at (including) this cluster time; neither:
  // events committed after Open().
  std::optional<bson::Document> resume_after;
  std::optional<bson::Timestamp> start_at_operation_time;
  FullDocument full_document = FullDocument::kDefault;
  FullDocumentBeforeChange full_document_before_change = FullDocumentBeforeChange::kOff;
  // Report create/createIndexes/dropIndexes/modify events too. Default: false
  bool show_expanded_events = false;
  // Entries read from the change log per batch. Default: 1024
  size_t batch_entries = 1024;
};

class ChangeStream {
 public:
  // Errors: BadValue for malformed tokens or filters; ChangeStreamHistoryLost (286) when the
  // start point is older than the retained history.
  static Result<std::unique_ptr<ChangeStream>> Open(storage::Engine* engine, WatchOptions options);

  // The next event; waits until `deadline` for one. nullopt when none arrived in time.
  Result<std::optional<bson::Document>> Next(std::chrono::steady_clock::time_point deadline);
  // The next event if one is committed already, without waiting.
  Result<std::optional<bson::Document>> TryNext();
  // Resumes after everything seen so far (the last event, or the last scanned position).
  bson::Document resume_token() const;

 private:
  ChangeStream(storage::Engine* engine, WatchOptions options, query::Matcher matcher);
  Status Fill();
  Result<std::optional<bson::Document>> Assemble(const storage::ChangeLogEntry& entry);

  storage::Engine* engine_;
  WatchOptions options_;
  query::Matcher matcher_;
  bson::Timestamp position_;  // every entry <= position_ has been consumed
  std::deque<bson::Document> ready_;
  bson::Document last_token_;
};

// Builds the MongoDB change event for one change-log entry (no filtering). `lookup` fetches
// the current document for fullDocument: updateLookup (may be null). nullopt for entries that
// are not events under the options (e.g. "create" without show_expanded_events).
Result<std::optional<bson::Document>> BuildEvent(const bson::Document& entry,
                                                 const WatchOptions& options,
                                                 storage::Engine* engine);

}  // namespace eddy::changestream
