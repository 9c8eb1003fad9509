// The MongoDB wire server: listens on TCP, reads framed messages, hands each request to a
// CommandDispatcher and writes its reply. No Asio in this header (see server.cc).
//
// Behaviour (mirroring mongod):
//   - one coroutine per connection; requests on a connection are handled strictly in order,
//     connections are independent and served concurrently by `io_threads` threads;
//   - OP_MSG requests get OP_MSG replies, OP_QUERY (the driver handshake) gets OP_REPLY, and
//     OP_COMPRESSED requests get replies compressed the same way (wire/protocol/inbound.h);
//   - moreToCome requests get no reply; Reply.close_connection closes without replying;
//   - a message that frames but is wrong inside (invalid BSON, no $db, ...) gets an error reply
//     {ok: 0, errmsg, code, codeName}; a frame that cannot be trusted (bad length, unknown or
//     legacy opcode, illegal flag bits, checksum mismatch, bad compression) closes that
//     connection only. Nothing a client sends can stop the server or affect other clients.
//   - beyond max_connections, new connections are accepted and closed at once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "wire/commands/dispatcher.h"
#include "wire/protocol/frame.h"

namespace eddy::wire {

struct ServerOptions {
  // Address to listen on: an IPv4/IPv6 literal or a host name. Default: "127.0.0.1".
  // "0.0.0.0" or "::" listen on every interface.
  std::string bind_address = "127.0.0.1";
  // TCP port. Default: 27017. 0 picks a free ephemeral port; Server::port() reports it.
  uint16_t port = 27017;
  // Threads running the sockets and coroutines. Default: 0 = hardware concurrency.
  size_t io_threads = 0;
  // How long an I/O thread keeps polling for the next request after handling one before it
  // sleeps (async::IoPool). 0 = never. Default: 0.
  uint32_t io_spin_us = 0;
  // Open connections allowed at once (mongod's maxIncomingConnections). Default: 1,000,000.
  size_t max_connections = 1'000'000;
  // Largest accepted message (maxMessageSizeBytes). Default: 48,000,000.
  int32_t max_message_bytes = kMaxMessageSizeBytes;
  // Log protocol errors, refused connections and session exceptions to stderr. Default: true.
  bool log_errors = true;
};

class Server {
 public:
  // Binds, listens and starts serving. `dispatcher` must outlive the Server (it is called until
  // Stop() returns, including ConnectionClosed for every connection). Errors: SocketException
  // (9001) when the address cannot be resolved, bound or listened on (e.g. port in use).
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                               CommandDispatcher* dispatcher);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (the ephemeral one when options.port was 0).
  uint16_t port() const;

  // Stops accepting, closes every connection (requests still inside the dispatcher are
  // abandoned: their late callbacks are ignored), and joins the I/O threads. Idempotent.
  // REQUIRES: not called from a dispatcher callback or an I/O thread.
  void Stop();

  // Connections open right now.
  size_t connection_count() const;
  // Connections accepted since Start (the last connection id handed out).
  int64_t total_connections() const;

  struct Impl;  // opaque (server.cc)

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace eddy::wire
