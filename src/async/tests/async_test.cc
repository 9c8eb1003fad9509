#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "async/asio.h"
#include "async/io_pool.h"
#include "async/timeout.h"

namespace eddy::async {
namespace {

using namespace std::chrono_literals;

// Runs `coro` to completion on the pool and returns its result to the test thread.
template <class T>
T RunOn(IoPool& pool, asio::awaitable<T> coro) {
  std::promise<T> p;
  auto f = p.get_future();
  asio::co_spawn(pool.executor(), std::move(coro), [&p](std::exception_ptr e, T v) {
    if (e) {
      p.set_exception(e);
    } else {
      p.set_value(std::move(v));
    }
  });
  return f.get();
}

TEST(IoPoolTest, RunsHandlersOnAllThreads) {
  IoPool pool(3);
  EXPECT_EQ(pool.thread_count(), 3u);
  pool.Run();
  std::mutex mu;
  std::set<std::thread::id> ids;
  std::atomic<int> done{0};
  for (int i = 0; i < 300; ++i) {
    asio::post(pool.NextContext(), [&] {
      std::this_thread::sleep_for(100us);
      std::lock_guard<std::mutex> l(mu);
      ids.insert(std::this_thread::get_id());
      ++done;
    });
  }
  while (done.load() < 300) std::this_thread::sleep_for(1ms);
  pool.Stop();
  EXPECT_GE(ids.size(), 2u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);
}

TEST(IoPoolTest, EachContextHasItsOwnThread) {
  IoPool pool(2);
  pool.Run();
  // Every handler of one context runs on that context's one thread; the two threads differ.
  std::vector<std::set<std::thread::id>> ids(2);
  std::mutex mu;
  std::atomic<int> done{0};
  for (int i = 0; i < 200; ++i) {
    size_t c = i % 2;
    asio::post(pool.context(c), [&, c] {
      EXPECT_TRUE(pool.InPool());
      std::lock_guard<std::mutex> l(mu);
      ids[c].insert(std::this_thread::get_id());
      ++done;
    });
  }
  while (done.load() < 200) std::this_thread::sleep_for(1ms);
  pool.Stop();
  ASSERT_EQ(ids[0].size(), 1u);
  ASSERT_EQ(ids[1].size(), 1u);
  EXPECT_NE(*ids[0].begin(), *ids[1].begin());
}

TEST(IoPoolTest, NextContextGoesRoundRobin) {
  IoPool pool(3);
  std::vector<asio::io_context*> seen;
  for (int i = 0; i < 6; ++i) seen.push_back(&pool.NextContext());
  EXPECT_EQ(seen[0], seen[3]);
  EXPECT_EQ(seen[1], seen[4]);
  EXPECT_NE(seen[0], seen[1]);
  EXPECT_NE(seen[1], seen[2]);
  EXPECT_NE(seen[0], seen[2]);
  EXPECT_EQ(&pool.context(), &pool.context(0));
}

TEST(IoPoolTest, DefaultThreadsIsHardwareConcurrency) {
  IoPool pool;
  EXPECT_GE(pool.thread_count(), 1u);
}

TEST(IoPoolTest, StopIsIdempotentAndRunRestarts) {
  IoPool pool(1);
  pool.Stop();  // never ran
  pool.Run();
  pool.Run();  // no-op
  EXPECT_EQ(RunOn(pool, []() -> asio::awaitable<int> { co_return 7; }()), 7);
  pool.Stop();
  pool.Stop();
  pool.Run();
  EXPECT_EQ(RunOn(pool, []() -> asio::awaitable<int> { co_return 8; }()), 8);
}

TEST(IoPoolTest, InPool) {
  IoPool pool(1);
  pool.Run();
  EXPECT_FALSE(pool.InPool());
  std::promise<bool> p;
  asio::post(pool.executor(), [&] { p.set_value(pool.InPool()); });
  EXPECT_TRUE(p.get_future().get());
}

TEST(IoPoolTest, ThrowingHandlerDoesNotKillThePool) {
  IoPool pool(1);
  pool.Run();
  asio::post(pool.executor(), [] { throw std::runtime_error("boom (expected by the test)"); });
  std::promise<int> p;
  asio::post(pool.executor(), [&] { p.set_value(5); });
  EXPECT_EQ(p.get_future().get(), 5);
}

asio::awaitable<int> SlowValue(std::chrono::milliseconds d, int v);

// A spinning pool runs what other threads post while it polls and after it went to sleep,
// runs timers, and stops promptly.
TEST(IoPoolTest, SpinningPoolRunsPostedWorkAndStops) {
  IoPool pool(2, 200us);
  pool.Run();
  for (int round = 0; round < 50; ++round) {
    // Alternately while the threads spin (right after work) and once they sleep again.
    if (round % 10 == 9) std::this_thread::sleep_for(2ms);
    std::promise<int> p;
    asio::post(pool.NextContext(), [&p, round] { p.set_value(round); });
    ASSERT_EQ(p.get_future().get(), round);
  }
  EXPECT_EQ(RunOn(pool, SlowValue(5ms, 3)), 3);  // a timer while spinning
  EXPECT_EQ(pool.spin(), 200us);
  auto start = std::chrono::steady_clock::now();
  pool.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

asio::awaitable<int> SlowValue(std::chrono::milliseconds d, int v) {
  co_await Sleep(d);
  co_return v;
}

TEST(TimeoutTest, ValueBeforeDeadline) {
  IoPool pool(1);
  pool.Run();
  auto r = RunOn(pool, WithTimeout(SlowValue(1ms, 42), 5s));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 42);
}

TEST(TimeoutTest, DeadlineFirst) {
  IoPool pool(1);
  pool.Run();
  auto start = std::chrono::steady_clock::now();
  auto r = RunOn(pool, WithTimeout(SlowValue(10s, 42), 20ms));
  EXPECT_FALSE(r.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // the slow op was cancelled
}

TEST(TimeoutTest, VoidFlavour) {
  IoPool pool(1);
  pool.Run();
  EXPECT_TRUE(RunOn(pool, WithTimeout(Sleep(1ms), 5s)));
  EXPECT_FALSE(RunOn(pool, WithTimeout(Sleep(10s), 10ms)));
}

TEST(TimeoutTest, AsTupleReturnsErrorsAsValues) {
  IoPool pool(1);
  pool.Run();
  auto coro = []() -> asio::awaitable<bool> {
    asio::steady_timer t(co_await asio::this_coro::executor, 10s);
    asio::post(co_await asio::this_coro::executor, [&t] { t.cancel(); });
    auto [ec] = co_await t.async_wait(kAsTuple);
    co_return ec == asio::error::operation_aborted;
  };
  EXPECT_TRUE(RunOn(pool, coro()));
}

}  // namespace
}  // namespace eddy::async
