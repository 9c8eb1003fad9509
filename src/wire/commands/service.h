// CommandService: eddy's MongoDB command surface over the embedded Database. It implements
// the dispatcher the wire server calls, runs commands on a worker pool (storage work blocks),
// and shapes replies as mongod does ({ok, code, codeName, errmsg}, $clusterTime,
// operationTime, cursors).
//
// Thread-safety: Dispatch and Run may be called concurrently.
#pragma once
#include <memory>
#include <string>

#include "query/exec/database.h"
#include "wire/commands/dispatcher.h"

namespace eddy::wire {

struct ServiceOptions {
  // "host:port" reported as hosts/primary/me in hello (the address clients dial).
  std::string host_and_port = "127.0.0.1:27017";
  // Replica-set name drivers see; with it, drivers enable sessions and watch().
  std::string set_name = "rs0";
  // Worker threads that run commands. Default: 32
  int worker_threads = 32;
  // configureFailPoint and other test commands. Default: off
  bool enable_test_commands = false;
  // Idle cursors are closed after this long. Default: 10 minutes (mongod's default)
  std::chrono::milliseconds cursor_timeout{10 * 60 * 1000};
  // A change stream's reply carries at most this many bytes of events (the first event
  // always goes; 0: up to 16 MiB). Replies that stay under 64 KiB let clients reuse their
  // read buffers: libmongoc allocates a power of two per reply, and glibc maps every
  // allocation from 128 KiB up afresh, so bigger replies cost the client a page fault per
  // 4 KiB (measured: 3.3 -> 0.44 us of client CPU per event, bench/changestream_catchup.py).
  // Default: 60 KiB
  size_t change_stream_reply_bytes = 60 * 1024;
};

class CommandService : public CommandDispatcher {
 public:
  CommandService(query::Database* db, ServiceOptions options);
  ~CommandService() override;

  void Dispatch(const ConnectionInfo& connection, Request request,
                std::function<void(Reply)> done) override;
  void ConnectionClosed(const ConnectionInfo& connection) override;

  // The "host:port" hello reports (set once the listener knows its port, before clients
  // can have connected).
  void SetHostAndPort(std::string host_and_port);

  // Runs one command synchronously on the calling thread (tests, embedded client).
  Reply Run(const ConnectionInfo& connection, const Request& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eddy::wire
