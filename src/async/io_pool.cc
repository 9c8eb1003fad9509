#include "async/io_pool.h"

#include <sched.h>

#include <cstdio>
#include <exception>

#include "base/spin_governor.h"

namespace eddy::async {

namespace {
size_t ResolveThreads(size_t threads) {
  if (threads > 0) return threads;
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

// Runs `ctx` until it is stopped, polling it for up to `spin` after the last handler ran
// before blocking in the reactor (see the header).
//
// Spinning pays only when work keeps arriving within the budget, as from a client in a
// request/reply loop: each request that arrives while the thread spins is a wake-up saved.
// Every spin ends with a budget's worth of polling that finds nothing, so a spin that catches
// one arrival or none costs more than it saves: a watcher's getMore that comes back after
// each event, a writer waiting for its fsync. Those spins also take the core from the
// threads doing the work: on the 2-core VM, spinning after every handler doubled the
// change-stream latency scenario's p99 and added half a core of CPU. So a thread stops
// spinning after two spins in a row caught fewer than kMinCaught arrivals, and tries again
// on every 16th wake-up after that (SpinGovernor).
//
// The spin polls and yields under the normal scheduling policy. Spinning under SCHED_IDLE
// (so that the scheduler would count the core as idle) was tried and dropped: a thread under
// SCHED_IDLE on a core that other processes keep busy gets a fraction of a percent of it, so
// it neither handled what it caught nor noticed new requests (two CPU hogs on the 2-core VM:
// ping 97/s, p99 337 ms; under the normal policy 22k/s, p99 83 us).
void RunSpinning(asio::io_context& ctx, std::chrono::microseconds spin) {
  using Clock = std::chrono::steady_clock;
  constexpr int kMinCaught = 2;
  SpinGovernor governor;
  while (!ctx.stopped()) {
    if (ctx.run_one() == 0) return;  // blocks: nothing ran recently
    if (!governor.ShouldSpin()) continue;
    Clock::time_point last = Clock::now();
    int caught = 0;     // work found after the thread had polled and found none
    bool idle = false;  // the last poll found nothing
    while (!ctx.stopped()) {
      if (ctx.poll() > 0) {
        if (idle) ++caught;
        idle = false;
        last = Clock::now();
        continue;
      }
      idle = true;
      if (Clock::now() - last >= spin) break;
      sched_yield();  // let any runnable thread of this core go first
    }
    governor.Record(caught >= kMinCaught);
  }
}

}  // namespace

// Concurrency hint 1: each context is run by one thread, so Asio may run handlers it queues
// from that thread without waking another (handlers posted from other threads still lock).
IoPool::IoPool(size_t threads, std::chrono::microseconds spin)
    : spin_(spin) {
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
    threads_.emplace_back([ctx, spin = spin_] {
      // A handler that throws would otherwise terminate the process; coroutine sessions catch
      // their own exceptions, so anything reaching here is a bug worth logging, not dying for.
      for (;;) {
        try {
          if (spin.count() > 0) {
            RunSpinning(*ctx, spin);
          } else {
            ctx->run();
          }
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
