// IoPool: N io_contexts, each run by exactly one thread. The server's sockets, timers and
// coroutines live on them; blocking work (storage) must go elsewhere.
//
// One context per thread (rather than one context shared by N threads) keeps a connection's
// handlers on one thread: a completed read resumes its coroutine on the thread that ran the
// reactor, with no hand-off to a second thread and no cross-thread wake-up per request (Asio's
// shared scheduler wakes an idle thread for every queued handler). Connections are spread over
// the contexts round-robin (NextContext()).
//
// Spinning (off unless asked for): after running a handler, a thread may keep polling its
// context (non-blocking) for a while before it sleeps in the reactor. A request/reply client
// sends its next request a few tens of microseconds after its reply; a thread that slept
// meanwhile must be woken for it, and on a virtual machine waking an idle vCPU costs more than
// the request itself (2-core VM: a loopback ping-pong makes 19k round trips/s with a sleeping
// server, 44-48k with a server polling for 200 us). A spinning thread holds its core, though:
// a change-stream catch-up, whose prefetch thread wants that core, got slower.
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "async/asio.h"

namespace eddy::async {

class IoPool {
 public:
  // threads == 0 means std::thread::hardware_concurrency() (at least 1).
  // spin: how long a thread polls for more work after its last handler before it sleeps
  // (0: never polls).
  explicit IoPool(size_t threads = 0, std::chrono::microseconds spin = {});
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;
  // Stops and joins (Stop()).
  ~IoPool();

  // The first context (listeners, resolvers, pool-wide timers).
  asio::io_context& context() { return *contexts_[0]; }
  asio::io_context::executor_type executor() { return contexts_[0]->get_executor(); }
  // Context i (0 <= i < thread_count()).
  asio::io_context& context(size_t i) { return *contexts_[i]; }
  // The contexts in turn: where a new connection should live.
  asio::io_context& NextContext() {
    return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
  }
  size_t thread_count() const { return contexts_.size(); }
  std::chrono::microseconds spin() const { return spin_; }

  // Starts the threads. They keep running (even with no work queued) until Stop().
  // Calling Run() twice is a no-op. REQUIRES: not called from a pool thread.
  void Run();

  // Stops the contexts and joins the threads: handlers still queued stay queued (they are
  // destroyed with the pool). Idempotent. REQUIRES: not called from a pool thread.
  void Stop();

  // True when called from one of this pool's threads.
  bool InPool();

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<std::optional<asio::executor_work_guard<asio::io_context::executor_type>>> work_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_{0};
  std::chrono::microseconds spin_;
};

}  // namespace eddy::async
