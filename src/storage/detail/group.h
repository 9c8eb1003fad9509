// Internal: the write requests and group commits shared by engine.cc and txn.cc.
#pragma once
#include <rocksdb/write_batch.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "storage/detail/overlay.h"
#include "storage/engine.h"

namespace eddy::storage {

struct Engine::Request {
  WriteFn fn;
  std::function<void(Status)> done;
  Status result;
  bool wait_durable = true;
};

// One group commit, from the sequencer (which applies it) to the committer (which writes,
// syncs, publishes and acknowledges it).
struct Engine::Group {
  rocksdb::WriteBatch batch;
  detail::Overlay overlay{&batch};
  std::vector<std::unique_ptr<Request>> requests;
  std::shared_ptr<const Catalog> catalog;  // after this group
  uint64_t last_ts = 0;                    // the watermark after this group
  uint64_t entries = 0;
  // The change-log entries of the batch, in order (handed to commit listeners).
  std::shared_ptr<std::vector<ChangeLogEntry>> log = std::make_shared<std::vector<ChangeLogEntry>>();
  std::vector<uint32_t> dropped_ids;
  bool has_nondurable = false;
  bool has_durable = false;  // a request waits for the fsync (it may not be delayed)
  uint64_t seq = 0;  // position in the sequence of groups (visibility only moves forward)
  // Committer: the batch is in RocksDB; the snapshot readers get once this group is
  // published; the error (a failed write, or an earlier one) that fails its requests.
  bool wrote = false;
  std::chrono::steady_clock::time_point written_at;
  std::shared_ptr<const detail::Snapshot> snapshot;
  Status error;
  // Set by the committer once the batch is in RocksDB (the sequencer then reads it there).
  std::atomic<bool> written{false};
};

}  // namespace eddy::storage
