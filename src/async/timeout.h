// Timeouts for awaitable operations. Asio 1.22 has no cancel_after; this races the operation
// against a steady_timer with experimental::awaitable_operators and cancels the loser.
#pragma once
#include <chrono>
#include <optional>
#include <type_traits>
#include <variant>

#include <asio/experimental/awaitable_operators.hpp>

#include "async/asio.h"

namespace eddy::async {

// Suspends the calling coroutine for `d` (returns early, without error, if cancelled).
asio::awaitable<void> Sleep(std::chrono::steady_clock::duration d);

// Runs `op` but gives up after `limit`. Returns the operation's result, or std::nullopt if the
// timer fired first (the operation is then cancelled through its cancellation slot, so it must
// be cancellable: Asio socket/timer operations are). REQUIRES: T is not void (see below).
template <class T>
asio::awaitable<std::optional<T>> WithTimeout(asio::awaitable<T> op,
                                              std::chrono::steady_clock::duration limit) {
  using namespace asio::experimental::awaitable_operators;
  std::variant<T, std::monostate> r = co_await (std::move(op) || Sleep(limit));
  if (r.index() == 0) co_return std::move(std::get<0>(r));
  co_return std::nullopt;
}

// The void flavour: true when `op` finished before `limit`, false on timeout.
asio::awaitable<bool> WithTimeout(asio::awaitable<void> op,
                                  std::chrono::steady_clock::duration limit);

}  // namespace eddy::async
