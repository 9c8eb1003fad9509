// Server-side cursors: find/aggregate/listX results and change streams kept between
// getMore calls, with mongod's idle timeout.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

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

class ChangeStreamCursor : public ServerCursor {
 public:
  explicit ChangeStreamCursor(std::unique_ptr<changestream::ChangeStream> cs) : cs_(std::move(cs)) {}
  Result<bool> NextBatch(int64_t batch_size, std::chrono::steady_clock::time_point deadline,
                         bson::Array* out) override;
  std::optional<bson::Document> post_batch_resume_token() const override { return cs_->resume_token(); }
  bool is_change_stream() const override { return true; }

 private:
  std::unique_ptr<changestream::ChangeStream> cs_;
  bool invalidated_ = false;
};

class CursorManager {
 public:
  explicit CursorManager(std::chrono::milliseconds idle_timeout) : idle_timeout_(idle_timeout) {}
  struct Entry {
    std::string ns;  // "db.coll"
    std::shared_ptr<ServerCursor> cursor;
    std::chrono::steady_clock::time_point last_used;
    bool in_use = false;
  };
  // Registers a cursor and returns its id (never 0).
  int64_t Add(std::string ns, std::shared_ptr<ServerCursor> cursor);
  // Takes a cursor for a getMore. CursorNotFound (43) if unknown or timed out;
  // OperationFailed if another getMore is running on it.
  Result<std::shared_ptr<ServerCursor>> Checkout(int64_t id, std::string_view ns);
  void Return(int64_t id);
  bool Kill(int64_t id);
  void Remove(int64_t id) { Kill(id); }
  size_t size();

 private:
  void ReapLocked();
  std::mutex mu_;
  std::map<int64_t, Entry> cursors_;
  std::chrono::milliseconds idle_timeout_;
  int64_t next_ = 0;
};

}  // namespace eddy::wire
