// IoPool: one asio::io_context run by N threads. The server's sockets, timers and coroutines
// live on it; blocking work (storage) must go elsewhere.
#pragma once
#include <cstddef>
#include <optional>
#include <thread>
#include <vector>

#include "async/asio.h"

namespace eddy::async {

class IoPool {
 public:
  // threads == 0 means std::thread::hardware_concurrency() (at least 1).
  explicit IoPool(size_t threads = 0);
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;
  // Stops and joins (Stop()).
  ~IoPool();

  asio::io_context& context() { return context_; }
  asio::io_context::executor_type executor() { return context_.get_executor(); }
  size_t thread_count() const { return thread_count_; }

  // Starts the threads. They keep running (even with no work queued) until Stop().
  // Calling Run() twice is a no-op. REQUIRES: not called from a pool thread.
  void Run();

  // Stops the io_context and joins the threads: handlers still queued stay queued (they are
  // destroyed with the pool). Idempotent. REQUIRES: not called from a pool thread.
  void Stop();

  // True when called from one of this pool's threads.
  bool InPool() { return context_.get_executor().running_in_this_thread(); }

 private:
  size_t thread_count_;
  asio::io_context context_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

}  // namespace eddy::async
