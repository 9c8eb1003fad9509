#include "async/timeout.h"

namespace eddy::async {

asio::awaitable<void> Sleep(std::chrono::steady_clock::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  // Cancellation (the other side of a || won) is a normal way to end a sleep, not an error.
  (void)co_await timer.async_wait(kAsTuple);
}

asio::awaitable<bool> WithTimeout(asio::awaitable<void> op,
                                  std::chrono::steady_clock::duration limit) {
  using namespace asio::experimental::awaitable_operators;
  std::variant<std::monostate, std::monostate> r = co_await (std::move(op) || Sleep(limit));
  co_return r.index() == 0;
}

}  // namespace eddy::async
