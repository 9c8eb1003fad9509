// eddy serve: the MongoDB wire server over the embedded engine.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "query/exec/database.h"
#include "subcommands.h"
#include "wire/commands/service.h"
#include "wire/server/server.h"

namespace eddy::tools {
namespace {

struct ServeOptions {
  std::string bind = "127.0.0.1";
  int port = 27017;
  std::string data = "./data";
  std::string sync = "on";
  bool enable_test_commands = false;
  int64_t cursor_timeout_ms = 10 * 60 * 1000;  // mongod's cursorTimeoutMillis default
  int64_t change_log_retention_seconds = 24 * 3600;
  int64_t change_log_max_mb = 1024;
  int64_t change_stream_reply_kb = 60;
  int64_t unjournaled_sync_delay_us = 10000;
  int64_t io_spin_us = 0;
};

std::atomic<bool> g_stop{false};

int RunServe(const ServeOptions& o) {
  storage::EngineOptions eo;
  eo.path = o.data;
  if (o.sync != "on" && o.sync != "off") {
    std::fprintf(stderr, "eddy serve: --sync must be 'on' or 'off', got '%s'\n", o.sync.c_str());
    return 2;
  }
  eo.sync = o.sync == "on" ? storage::SyncMode::kOn : storage::SyncMode::kOff;
  eo.change_log_retention = std::chrono::seconds(o.change_log_retention_seconds);
  eo.change_log_max_bytes = static_cast<uint64_t>(o.change_log_max_mb) << 20;
  eo.unjournaled_sync_delay = std::chrono::microseconds(o.unjournaled_sync_delay_us);
  auto db = query::Database::Open(eo);
  if (!db.ok()) {
    std::fprintf(stderr, "eddy serve: %s\n", db.status().ToString().c_str());
    return 1;
  }
  wire::ServiceOptions so;
  so.enable_test_commands = o.enable_test_commands;
  so.cursor_timeout = std::chrono::milliseconds(o.cursor_timeout_ms);
  so.change_stream_reply_bytes = static_cast<size_t>(o.change_stream_reply_kb) * 1024;
  std::string host = o.bind == "0.0.0.0" || o.bind == "::" ? std::string("127.0.0.1") : o.bind;
  so.host_and_port = host + ":" + std::to_string(o.port);
  wire::CommandService service(db->get(), so);
  wire::ServerOptions wo;
  wo.bind_address = o.bind;
  wo.port = static_cast<uint16_t>(o.port);
  wo.io_spin_us = static_cast<uint32_t>(o.io_spin_us);
  auto server = wire::Server::Start(wo, &service);
  if (!server.ok()) {
    std::fprintf(stderr, "eddy serve: %s\n", server.status().ToString().c_str());
    return 1;
  }
  // With --port 0 the port is known only now; hello must report the address clients dial.
  service.SetHostAndPort(host + ":" + std::to_string((*server)->port()));
  std::printf("eddy serve: listening on %s:%u, data in %s (sync %s)\n", o.bind.c_str(),
              (*server)->port(), o.data.c_str(), o.sync.c_str());
  std::printf("connect: mongosh 'mongodb://%s:%u/?directConnection=true'\n",
              o.bind == "0.0.0.0" ? "127.0.0.1" : o.bind.c_str(), (*server)->port());
  std::fflush(stdout);
  signal(SIGINT, [](int) { g_stop = true; });
  signal(SIGTERM, [](int) { g_stop = true; });
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::printf("eddy serve: shutting down\n");
  (*server)->Stop();
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app) {
  static ServeOptions o;
  auto* cmd = app.add_subcommand("serve", "Serve the MongoDB wire protocol");
  cmd->add_option("--bind", o.bind, "address to listen on")->capture_default_str();
  cmd->add_option("--port", o.port, "TCP port (0: pick a free one)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--data", o.data, "data directory")->capture_default_str();
  cmd->add_option("--sync", o.sync, "fsync on commit: on|off")->capture_default_str();
  cmd->add_flag("--enable-test-commands", o.enable_test_commands, "enable configureFailPoint and other test commands");
  cmd->add_option("--change-log-retention-seconds", o.change_log_retention_seconds, "keep change events this long")->capture_default_str();
  cmd->add_option("--change-log-max-mb", o.change_log_max_mb, "keep at most this much change log")->capture_default_str();
  cmd->add_option("--cursor-timeout-ms", o.cursor_timeout_ms, "close idle cursors after this long (setParameter cursorTimeoutMillis changes it at run time)")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->add_option("--change-stream-reply-kb", o.change_stream_reply_kb,
                  "a change-stream reply carries at most this many KiB of events (the first event always goes; 0: up to 16 MiB). Under 64 KiB, clients reuse their read buffers")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{16 * 1024}));
  cmd->add_option("--unjournaled-sync-delay-us", o.unjournaled_sync_delay_us,
                  "the fsync of writes acknowledged before it (j:false, w:0) waits at most this long for more of them (a crash may lose that much of them); a write that waits for its fsync, or a change stream waiting for events, ends the wait")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1'000'000}));
  cmd->add_option("--io-spin-us", o.io_spin_us,
                  "an I/O thread polls for the next request this long after handling one before it "
                  "sleeps (0: never). Doubles one client's round trips on a VM, but holds a core "
                  "that other work may want")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{100'000}));
  cmd->callback([] { std::exit(RunServe(o)); });
}

}  // namespace eddy::tools
