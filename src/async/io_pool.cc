#include "async/io_pool.h"

#include <cstdio>
#include <exception>

namespace eddy::async {

namespace {
size_t ResolveThreads(size_t threads) {
  if (threads > 0) return threads;
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}
}  // namespace

// The concurrency hint tells Asio whether it may skip locking; with more than one thread it
// must not.
IoPool::IoPool(size_t threads)
    : thread_count_(ResolveThreads(threads)), context_(static_cast<int>(thread_count_)) {}

IoPool::~IoPool() { Stop(); }

void IoPool::Run() {
  if (!threads_.empty()) return;
  context_.restart();
  work_.emplace(context_.get_executor());
  threads_.reserve(thread_count_);
  for (size_t i = 0; i < thread_count_; ++i) {
    threads_.emplace_back([this] {
      // A handler that throws would otherwise terminate the process; coroutine sessions catch
      // their own exceptions, so anything reaching here is a bug worth logging, not dying for.
      for (;;) {
        try {
          context_.run();
          return;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "eddy: exception escaped an io handler: %s\n", e.what());
        } catch (...) {
          std::fprintf(stderr, "eddy: unknown exception escaped an io handler\n");
        }
      }
    });
  }
}

void IoPool::Stop() {
  work_.reset();
  context_.stop();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace eddy::async
