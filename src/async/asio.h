// eddy's one door to Asio (standalone Asio 1.22, Debian's libasio-dev). Include this instead of
// <asio/...> headers directly: it fixes the version quirks in one place.
//   - as_tuple lives under asio::experimental in 1.22 (it moved to asio:: in 1.24);
//   - ASIO_SEPARATE_COMPILATION is set by the eddy_async target, so Asio's implementation is
//     compiled once (asio_impl.cc) and every user links eddy::async;
//   - there is no cancel_after: use async/timeout.h.
// Only src/async and the .cc files of src/wire/server (and their tests) may include Asio.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

namespace eddy::async {

// The default completion token: `auto [ec, n] = co_await op(..., kAsTuple);` returns errors as
// values instead of throwing system_error, so the I/O shell handles errors without exceptions.
inline constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace eddy::async
