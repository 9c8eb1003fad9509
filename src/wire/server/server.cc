// The I/O shell around wire/protocol: an accept loop and one coroutine per connection. All
// protocol decisions are made by ParseInbound (sans-io); this file only moves bytes, calls the
// dispatcher and keeps connection lifetimes safe.
#include "wire/server/server.h"

#include <sys/socket.h>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "async/asio.h"
#include "async/io_pool.h"
#include "async/timeout.h"
#include "wire/protocol/inbound.h"

namespace eddy::wire {

namespace {

using asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;

constexpr ErrorCode kSocketException = static_cast<ErrorCode>(9001);
// A buffer grown for one large message is released afterwards rather than kept per connection.
constexpr size_t kKeepBufferBytes = 1 << 20;

std::string EndpointString(const tcp::endpoint& ep) {
  const asio::ip::address a = ep.address();
  std::string host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return host + ":" + std::to_string(ep.port());
}

// The socket's file descriptor as seen by threads other than the session's: the dispatcher's
// callback writes the reply straight to the socket from the worker that produced it (saving the
// wake-up of the I/O thread before the client gets its answer). Closing takes the same mutex, so
// a late writer can never write to a descriptor number that was closed and reused.
struct SocketGuard {
  std::mutex mu;
  int fd = -1;
  bool closed = false;

  // Writes as much of `bytes` as the socket takes now without blocking; returns how much.
  size_t TrySend(std::string_view bytes) {
    std::lock_guard<std::mutex> l(mu);
    if (closed || fd < 0) return 0;
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;  // EAGAIN (buffer full: the session writes the rest) or an error (it will see it)
      }
    }
    return sent;
  }
};

// One Dispatch in flight. The dispatcher's callback may run on any thread, at any time (even
// after the server stopped), so it only ever touches this shared object. The first Complete
// wins: it either resumes the waiting session (`resume` only posts to the session's strand) or,
// if the session is not waiting yet, leaves the reply in `early` for Arm. Later Completes (a
// buggy second callback, or the real callback after Stop cancelled the call) do nothing.
struct PendingCall {
  std::mutex mu;
  bool completed = false;
  std::function<void(Reply)> resume;
  std::optional<Reply> early;
  // Set by the winning callback when it serialized the reply itself: the session writes only
  // `unsent` (what the socket did not take at once), possibly nothing.
  bool serialized = false;
  std::string unsent;

  // `before_resume`, if given, runs first, under the lock, only if this call wins.
  bool Complete(Reply reply, const std::function<void(PendingCall&, Reply&)>& before_resume = {}) {
    std::lock_guard<std::mutex> l(mu);
    if (completed) return false;
    completed = true;
    if (before_resume) before_resume(*this, reply);
    if (resume) {
      std::function<void(Reply)> r = std::move(resume);
      resume = nullptr;
      r(std::move(reply));  // only posts; holding mu keeps Stop from racing the post
    } else {
      early = std::move(reply);
    }
    return true;
  }

  // Installs the session's resume function; runs it at once if the call already completed.
  // Returns whether the call is still open (so the dispatcher should be called).
  bool Arm(std::function<void(Reply)> r) {
    std::lock_guard<std::mutex> l(mu);
    if (early) {
      r(std::move(*early));
      early.reset();
      return false;
    }
    resume = std::move(r);
    return !completed;
  }
};

// When a session waiting for a command resumes. A reply that must still be written (or a
// close) resumes it at once. A reply that the producing thread wrote to the socket whole
// does not: the session then resumes when the socket becomes readable (the client's next
// request, or its close), found by a peeking receive armed once the command is dispatched. Resuming it
// at the reply instead meant waking its I/O thread only for it to wait for that request:
// one thread wake-up more per command answered by another thread (a durable write, a
// change-stream event), which the I/O threads' wake-ups were contending with the clients'
// own threads for the cores at the very moment both clients were being answered.
//
// Ownership: the session's coroutine frame does not hold its SessionWait while it waits (the
// wait holds the resume handler, which holds the frame); the callbacks do, and the resume
// hands it back. So a frame whose peek is destroyed unfired (the io_context destroyed after
// Stop gave up on it) is destroyed too, and its Session with it.
struct SessionWait;
struct Woken {
  Reply reply;
  std::shared_ptr<SessionWait> wait;
};
struct SessionWait : std::enable_shared_from_this<SessionWait> {
  std::mutex mu;
  std::function<void(Woken)> resume;  // posts to the session; called at most once
  bool fired = false;
  bool call_done = false;
  bool sent_whole = false;
  bool readable = false;
  asio::error_code peek_error;
  Reply reply;

  // The command finished (under its PendingCall's lock; `sent_whole` as above).
  void CallDone(Reply r, bool whole) {
    std::lock_guard<std::mutex> l(mu);
    call_done = true;
    sent_whole = whole;
    reply = std::move(r);
    MaybeFire();
  }
  // The peek completed (data, end of stream, error or cancellation), or no peek was made.
  void Readable(asio::error_code ec) {
    std::lock_guard<std::mutex> l(mu);
    readable = true;
    peek_error = ec;
    MaybeFire();
  }
  // The command finished (its reply written or not).
  bool call_finished() {
    std::lock_guard<std::mutex> l(mu);
    return call_done;
  }
  // The session was resumed with the reply already written (and readable input).
  bool quiet_done() {
    std::lock_guard<std::mutex> l(mu);
    return call_done && sent_whole;
  }
  // The peek found the end of the stream (or an error) rather than a request. The session
  // must end now: the reactor saw that readiness once, and a read started after it would
  // wait for another that never comes.
  bool peer_gone() {
    std::lock_guard<std::mutex> l(mu);
    return readable && peek_error && peek_error != asio::error::operation_aborted;
  }

 private:
  void MaybeFire() {
    if (fired || !call_done || (sent_whole && !readable)) return;
    fired = true;
    std::function<void(Woken)> r = std::move(resume);
    resume = nullptr;
    r(Woken{std::move(reply), shared_from_this()});
  }
};

}  // namespace

class Session;

struct Server::Impl {
  // Declaration order matters: `pool` is destroyed before the state below it is, and destroying
  // the io_context may destroy unfinished session coroutines, whose Session destructors use
  // `mu`, `sessions` and `dispatcher`.
  ServerOptions options;
  CommandDispatcher* dispatcher = nullptr;

  // Live sessions (for Stop) and in-flight dispatcher calls (to cancel them at Stop).
  mutable std::mutex mu;
  std::condition_variable all_closed;
  std::unordered_map<int64_t, std::weak_ptr<Session>> sessions;
  std::unordered_set<std::shared_ptr<PendingCall>> pending;

  std::atomic<int64_t> next_connection_id{1};
  std::atomic<int32_t> next_request_id{1};
  std::atomic<bool> stopping{false};
  bool stopped = false;
  std::mutex stop_mu;

  async::IoPool pool;
  Strand acceptor_strand;
  tcp::acceptor acceptor;
  uint16_t port = 0;

  explicit Impl(const ServerOptions& o, CommandDispatcher* d)
      : options(o),
        dispatcher(d),
        pool(o.io_threads, std::chrono::microseconds(o.io_spin_us)),
        acceptor_strand(asio::make_strand(pool.context())),
        acceptor(acceptor_strand) {}

  void Log(const char* fmt, ...) const __attribute__((format(printf, 2, 3))) {
    if (!options.log_errors) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    std::fprintf(stderr, "eddy wire: %s\n", buf);
  }

  int32_t NextRequestId() {
    int32_t id = next_request_id.fetch_add(1, std::memory_order_relaxed);
    return id == 0 ? next_request_id.fetch_add(1, std::memory_order_relaxed) : id;
  }

  asio::awaitable<void> AcceptLoop();
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server::Impl* server, Strand strand, tcp::socket socket, ConnectionInfo info)
      : server_(server),
        strand_(std::move(strand)),
        socket_(std::move(socket)),
        info_(std::move(info)),
        guard_(std::make_shared<SocketGuard>()) {
    guard_->fd = socket_.native_handle();
  }

  const ConnectionInfo& info() const { return info_; }
  const Strand& strand() const { return strand_; }

  // Closes the socket on the session's strand: pending reads/writes end with an error and the
  // coroutine returns.
  void CloseSoon() {
    asio::post(strand_, [self = shared_from_this()] {
      std::lock_guard<std::mutex> l(self->guard_->mu);
      self->guard_->closed = true;
      asio::error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
      self->socket_.close(ignored);
    });
  }

  static asio::awaitable<void> Run(std::shared_ptr<Session> self) { co_await self->Loop(); }

  // Runs after the coroutine ends, however it ends (also when Stop destroys it unfinished).
  ~Session() {
    {
      std::lock_guard<std::mutex> l(guard_->mu);
      guard_->closed = true;
      asio::error_code ignored;
      socket_.close(ignored);
    }
    try {
      server_->dispatcher->ConnectionClosed(info_);
    } catch (...) {
      server_->Log("connection %lld: ConnectionClosed threw", static_cast<long long>(info_.id));
    }
    std::lock_guard<std::mutex> l(server_->mu);
    server_->sessions.erase(info_.id);
    if (server_->sessions.empty()) server_->all_closed.notify_all();
  }

 private:
  asio::awaitable<void> Loop();
  // Runs the request; *direct is set when the reply went out (or is in `unsent`) already.
  // `quiet`: the client sends nothing before this reply (nothing is buffered, no moreToCome).
  // Then a reply that another thread wrote out whole does not resume the session; it is
  // resumed when the next request arrives (see SessionWait).
  // *peer_gone: the client closed the connection (quiet only): end after the reply.
  asio::awaitable<Reply> CallDispatcher(Request request, const Inbound& meta, bool quiet,
                                        bool* direct, std::string* unsent, bool* peer_gone);
  asio::awaitable<bool> Write(std::string bytes);

  Server::Impl* server_;
  Strand strand_;       // every operation on socket_ runs here
  tcp::socket socket_;  // bound to strand_
  ConnectionInfo info_;
  std::shared_ptr<SocketGuard> guard_;
};

asio::awaitable<bool> Session::Write(std::string bytes) {
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes), async::kAsTuple);
  co_return !ec;
}

asio::awaitable<Reply> Session::CallDispatcher(Request request, const Inbound& meta, bool quiet,
                                               bool* direct, std::string* unsent,
                                               bool* peer_gone) {
  auto call = std::make_shared<PendingCall>();
  {
    std::lock_guard<std::mutex> l(server_->mu);
    if (server_->stopping) co_return Reply{bson::Document{}, /*close_connection=*/true};
    server_->pending.insert(call);
  }
  // Named objects, not temporaries inside the co_await expression: g++ 12 mishandles the
  // lifetime of temporaries (a lambda holding shared_ptrs) in co_await full-expressions.
  auto initiation = [this, call, quiet, &request, &meta](auto handler) {
    // The awaitable handler is move-only; std::function needs a copyable callable.
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    auto wait = std::make_shared<SessionWait>();  // not kept by the frame (see SessionWait)
    wait->resume = [shared](Woken w) {
      auto ex = asio::get_associated_executor(*shared);
      asio::post(ex, [shared, w = std::move(w)]() mutable { (*shared)(std::move(w)); });
    };
    // Runs under call->mu, after send_now: `call->serialized` and `unsent` are settled.
    bool open = call->Arm([wait, raw = call.get()](Reply r) {
      const bool sent_whole = raw->serialized && raw->unsent.empty() && !r.close_connection;
      wait->CallDone(std::move(r), sent_whole);
    });
    if (!open) return;  // Stop cancelled the call before it started
    // The reply is serialized and written by whichever thread produces it. Only the winning
    // callback does so (a call Stop cancelled never touches the socket or the server).
    auto send_now = [guard = guard_, server = server_, meta = std::make_shared<Inbound>(meta)](
                        PendingCall& c, Reply& r) {
      if (r.close_connection || meta->more_to_come) return;
      std::string out = SerializeResponse(*meta, server->NextRequestId(), r.body);
      size_t n = guard->TrySend(out);
      c.serialized = true;
      if (n < out.size()) c.unsent = out.substr(n);
    };
    try {
      server_->dispatcher->Dispatch(
          info_, std::move(request),
          [call, send_now = std::move(send_now)](Reply r) { call->Complete(std::move(r), send_now); });
    } catch (const std::exception& e) {
      call->Complete(Reply{ErrorReplyBody(Status(ErrorCode::kInternalError,
                                                 std::string("command threw: ") + e.what())),
                           false});
    } catch (...) {
      call->Complete(Reply{
          ErrorReplyBody(Status(ErrorCode::kInternalError, "command threw an exception")),
          false});
    }
    // Armed after the dispatch: a command answered right here, on this thread (a read, a
    // getMore whose events are in memory), resumes the session at once and reads on, with no
    // peek to make and complete (two receives and a reactor poll less per such request).
    // For a call still running, a peek armed now is as good as one armed before it: it
    // completes at once if the next request is already there.
    if (quiet && !wait->call_finished()) {
      // Peeks (takes nothing): completes when the next request, or the end, is readable.
      auto byte = std::make_shared<char>();
      socket_.async_receive(asio::buffer(byte.get(), 1), tcp::socket::message_peek,
                            [wait, byte](asio::error_code ec, size_t) { wait->Readable(ec); });
    } else {
      wait->Readable({});  // resume as soon as the call is done
    }
  };
  asio::awaitable<Woken> op = asio::async_initiate<const asio::use_awaitable_t<>&, void(Woken)>(
      std::move(initiation), asio::use_awaitable);
  Woken woken = co_await std::move(op);
  Reply reply = std::move(woken.reply);
  if (quiet && !woken.wait->quiet_done()) {
    // Resumed for a reply to write (or to close): the peek is not needed any more. It may
    // have completed already, its handler queued behind this resume (and if it found the
    // end of the stream, that readiness is used up): let its handler run before asking.
    asio::error_code ignored;
    socket_.cancel(ignored);
    co_await asio::post(strand_, asio::use_awaitable);
  }
  *peer_gone = quiet && woken.wait->peer_gone();
  {
    std::lock_guard<std::mutex> l(server_->mu);
    server_->pending.erase(call);
  }
  {
    std::lock_guard<std::mutex> l(call->mu);
    *direct = call->serialized;
    *unsent = std::move(call->unsent);
  }
  co_return reply;
}

asio::awaitable<void> Session::Loop() {
  const int32_t max_bytes = server_->options.max_message_bytes;
  // Bytes received and not consumed yet are buf[0, have). Reads take whatever the socket has (up
  // to kReadChunk beyond what is buffered), so a small request arrives in one recv instead of
  // two (header, then body), and pipelined requests are read together.
  constexpr size_t kReadChunk = 64 * 1024;
  // An idle connection (nothing buffered) parks its read with a small buffer and keeps at
  // most kIdleKeepBytes: 10,000 connections each holding a parked change-stream getMore
  // cost 70 KB apiece with 64 KB idle buffers.
  constexpr size_t kIdleReadBytes = 4 * 1024;
  constexpr size_t kIdleKeepBytes = 16 * 1024;
  std::string buf;
  size_t have = 0;
  auto fill_to = [&](size_t need) -> asio::awaitable<bool> {
    while (have < need) {
      size_t room = std::max(need, have + (have == 0 ? kIdleReadBytes : kReadChunk));
      if (buf.size() < room) buf.resize(room);
      auto [ec, n] = co_await socket_.async_read_some(
          asio::buffer(buf.data() + have, buf.size() - have), async::kAsTuple);
      if (ec) co_return false;  // peer closed, or Stop closed the socket: a normal end
      have += n;
    }
    co_return true;
  };
  try {
    for (;;) {
      if (!co_await fill_to(kHeaderSize)) co_return;
      Result<MsgHeader> header = ParseHeader(std::string_view(buf.data(), kHeaderSize), max_bytes);
      if (!header.ok()) {
        server_->Log("connection %lld (%s): closing: %s", static_cast<long long>(info_.id),
                     info_.remote.c_str(), header.status().ToString().c_str());
        co_return;  // an untrustworthy length: the stream cannot be re-synchronised
      }
      const size_t length = static_cast<size_t>(header->message_length);
      if (!co_await fill_to(length)) co_return;
      Inbound in = ParseInbound(std::string_view(buf.data(), length), max_bytes);
      // Consume the message; keep what follows it (the next request, if pipelined).
      std::memmove(buf.data(), buf.data() + length, have - length);
      have -= length;
      if (have == 0 && buf.capacity() > kIdleKeepBytes) {
        std::string().swap(buf);
      } else if (buf.capacity() > kKeepBufferBytes && have <= kReadChunk) {
        std::string smaller(buf.data(), have);
        buf.swap(smaller);
      }

      switch (in.action) {
        case Inbound::Action::kClose:
          server_->Log("connection %lld (%s): closing: %s", static_cast<long long>(info_.id),
                       info_.remote.c_str(), in.error.ToString().c_str());
          co_return;
        case Inbound::Action::kReply: {
          if (in.more_to_come) break;
          std::string out = SerializeError(in, server_->NextRequestId());
          if (!co_await Write(std::move(out))) co_return;
          break;
        }
        case Inbound::Action::kDispatch: {
          bool direct = false;
          std::string unsent;
          // Nothing buffered and a reply expected: the client waits for it before it sends more.
          const bool quiet = have == 0 && !in.more_to_come;
          bool peer_gone = false;
          Reply reply = co_await CallDispatcher(std::move(in.request), in, quiet, &direct, &unsent,
                                                &peer_gone);
          if (reply.close_connection) co_return;
          if (in.more_to_come) break;
          if (direct) {
            if (!unsent.empty() && !co_await Write(std::move(unsent))) co_return;
          } else {
            std::string out = SerializeResponse(in, server_->NextRequestId(), reply.body);
            if (!co_await Write(std::move(out))) co_return;
          }
          if (peer_gone) co_return;
          break;
        }
      }
    }
  } catch (const std::exception& e) {
    server_->Log("connection %lld (%s): session ended by exception: %s",
                 static_cast<long long>(info_.id), info_.remote.c_str(), e.what());
  }
}

asio::awaitable<void> Server::Impl::AcceptLoop() {
  for (;;) {
    // The connection lives on one context (one thread) for its whole life: its reads, the
    // command's reply and the next read never cross threads on the I/O side.
    Strand strand = asio::make_strand(pool.NextContext());
    tcp::socket socket(strand);
    auto [ec] = co_await acceptor.async_accept(socket, async::kAsTuple);
    if (stopping) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
      Log("accept failed: %s", ec.message().c_str());
      // Out of file descriptors and similar: back off instead of spinning.
      co_await async::Sleep(std::chrono::milliseconds(50));
      continue;
    }
    asio::error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);  // replies are small; do not wait for ACKs
    ConnectionInfo info;
    info.id = next_connection_id.fetch_add(1);
    asio::error_code ep_ec;
    tcp::endpoint remote = socket.remote_endpoint(ep_ec);
    if (!ep_ec) info.remote = EndpointString(remote);
    tcp::endpoint local = socket.local_endpoint(ep_ec);
    if (!ep_ec) info.local = EndpointString(local);

    std::shared_ptr<Session> session;
    {
      std::lock_guard<std::mutex> l(mu);
      if (stopping) co_return;  // Stop has taken its snapshot of the sessions
      if (sessions.size() >= options.max_connections) {
        Log("connection refused because too many open connections: %zu (from %s)",
            sessions.size(), info.remote.c_str());
      } else {
        session = std::make_shared<Session>(this, strand, std::move(socket), info);
        sessions.emplace(info.id, session);
      }
    }
    if (!session) {
      asio::error_code ignored;
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(strand, Session::Run(std::move(session)),
                   [this, id = info.id](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       Log("connection %lld: exception escaped the session: %s",
                           static_cast<long long>(id), ex.what());
                     } catch (...) {
                       Log("connection %lld: unknown exception escaped the session",
                           static_cast<long long>(id));
                     }
                   });
  }
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                              CommandDispatcher* dispatcher) {
  auto impl = std::make_unique<Impl>(options, dispatcher);
  const std::string where = options.bind_address + ":" + std::to_string(options.port);
  asio::error_code ec;
  tcp::endpoint endpoint;
  asio::ip::address addr = asio::ip::make_address(options.bind_address, ec);
  if (!ec) {
    endpoint = tcp::endpoint(addr, options.port);
  } else {
    tcp::resolver resolver(impl->pool.context());
    auto results = resolver.resolve(options.bind_address, std::to_string(options.port),
                                    tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return Status(kSocketException, "cannot resolve bind address '" + options.bind_address +
                                          "': " + (ec ? ec.message() : "no addresses"));
    }
    endpoint = results.begin()->endpoint();
  }
  tcp::acceptor& acc = impl->acceptor;
  auto fail = [&](const char* step) {
    return Status(kSocketException,
                  "cannot listen on " + where + ": " + step + " failed: " + ec.message());
  };
  acc.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return fail("setsockopt");
  acc.bind(endpoint, ec);
  if (ec) return fail("bind");
  acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  impl->port = acc.local_endpoint(ec).port();
  if (ec) return fail("getsockname");

  Impl* raw = impl.get();
  asio::co_spawn(raw->acceptor_strand, raw->AcceptLoop(), [raw](std::exception_ptr e) {
    if (e) raw->Log("accept loop ended by an exception");
  });
  raw->pool.Run();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const { return impl_->port; }

size_t Server::connection_count() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->sessions.size();
}

int64_t Server::total_connections() const { return impl_->next_connection_id.load() - 1; }

void Server::Stop() {
  if (!impl_) return;
  Impl& s = *impl_;
  std::lock_guard<std::mutex> stop_lock(s.stop_mu);
  if (s.stopped) return;

  std::vector<std::shared_ptr<Session>> live;
  std::unordered_set<std::shared_ptr<PendingCall>> calls;
  {
    std::lock_guard<std::mutex> l(s.mu);
    s.stopping = true;  // under mu: no session registers or call starts after the snapshot
    for (auto& [id, weak] : s.sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
    calls.swap(s.pending);
  }
  asio::post(s.acceptor_strand, [&s] {
    asio::error_code ignored;
    s.acceptor.close(ignored);
  });
  for (auto& session : live) session->CloseSoon();
  live.clear();  // the coroutines own their sessions
  // Sessions waiting on the dispatcher resume now with "close"; the real callbacks, whenever
  // they come, find nothing to resume.
  for (const auto& call : calls) call->Complete(Reply{bson::Document{}, true});
  calls.clear();

  {
    std::unique_lock<std::mutex> l(s.mu);
    s.all_closed.wait_for(l, std::chrono::seconds(5), [&s] { return s.sessions.empty(); });
    if (!s.sessions.empty()) {
      s.Log("stop: %zu connections did not close in 5 s; abandoning them", s.sessions.size());
    }
  }
  s.pool.Stop();
  s.stopped = true;
}

}  // namespace eddy::wire
