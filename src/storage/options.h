// Engine options: plain structs, a comment and a Default: for every field.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace eddy::storage {

enum class SyncMode {
  kOn,   // Commit returns after the WAL is fsynced: an acknowledged write survives power loss.
  kOff,  // Commit returns after the write reaches the OS: a process crash loses nothing,
         // a machine crash may lose the last group commits.
};

struct EngineOptions {
  // Directory holding RocksDB's files. Created if missing.
  std::string path;

  // Default: kOn
  SyncMode sync = SyncMode::kOn;

  // Change-log entries older than this, or beyond max bytes (oldest first), are trimmed.
  // Resuming before the trim point fails with ChangeStreamHistoryLost (286).
  // Default: 24 hours, 1 GiB
  std::chrono::seconds change_log_retention{std::chrono::hours(24)};
  uint64_t change_log_max_bytes = uint64_t{1} << 30;

  // How often the retention task looks at the change log. Default: 10 s
  std::chrono::milliseconds retention_interval{10'000};

  // Memtable and SST file size of the change log. The log is written in time order, so its
  // files hold time slices and retention drops the oldest ones whole. Default: 64 MiB
  uint64_t change_log_file_bytes = uint64_t{64} << 20;

  // The write-ahead log is kept to at most about this size: past it, the column families
  // holding its oldest file are flushed so the file can go. Without a bound, a column family
  // written rarely (the catalog, the metadata) pins every WAL file since its last flush:
  // measured 2.8 GB of WAL after a few million writes, and a 10 s replay on restart.
  // Default: 256 MiB
  uint64_t max_wal_bytes = uint64_t{256} << 20;

  // How long the fsync of groups whose writers were all acknowledged before it (j:false,
  // w:0) may wait for more such groups. A stream of unjournaled writes then costs one fsync
  // per interval rather than one per write, and the writer's core is not shared with a
  // syncer waking for each (MongoDB journals such writes every 100 ms, PostgreSQL's
  // synchronous_commit=off every 200 ms). A write that waits for its fsync ends the wait at
  // once, and so does a change stream waiting for the watermark (Engine::AddWatermarkWaiter):
  // events appear only once durable, and a watcher should not wait for them. The delay
  // bounds what a crash may lose of acknowledged unjournaled writes. 0: sync at once.
  // Default: 10 ms
  std::chrono::microseconds unjournaled_sync_delay{10000};

  // At most this many queued write requests go into one group commit. Default: 4096
  size_t max_group_requests = 4096;

  // RocksDB block cache size. Default: 256 MiB
  uint64_t block_cache_bytes = uint64_t{256} << 20;

  // Tests only: called on the syncer thread before each WAL sync (or where the sync would
  // be, with kOff), so a test can hold groups written but not durable. Default: none
  std::function<void()> test_before_sync;
};

}  // namespace eddy::storage
