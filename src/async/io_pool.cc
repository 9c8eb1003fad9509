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

// Concurrency hint 1: each context is run by one thread, so Asio may run handlers it queues
// from that thread without waking another (handlers posted from other threads still lock).
IoPool::IoPool(size_t threads) {
  size_t n = ResolveThreads(threads);
  for (size_t i = 0; i < n; ++i) contexts_.push_back(std::make_unique<asio::io_context>(1));
  work_.resize(n);
}

IoPool::~IoPool() { Stop(); }

void IoPool::Run() {
  if (!threads_.empty()) return;
  threads_.reserve(contexts_.size());
  for (size_t i = 0; i < contexts_.size(); ++i) {
    asio::io_context* ctx = contexts_[i].get();
    ctx->restart();
    work_[i].emplace(ctx->get_executor());
    threads_.emplace_back([ctx] {
      // A handler that throws would otherwise terminate the process; coroutine sessions catch
      // their own exceptions, so anything reaching here is a bug worth logging, not dying for.
      for (;;) {
        try {
          ctx->run();
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
  for (auto& w : work_) w.reset();
  for (auto& ctx : contexts_) ctx->stop();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool IoPool::InPool() {
  for (auto& ctx : contexts_) {
    if (ctx->get_executor().running_in_this_thread()) return true;
  }
  return false;
}

}  // namespace eddy::async
