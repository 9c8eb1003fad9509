// The seam between the network (wire/server) and the command implementations
// (wire/commands): the server parses frames into Requests and hands them to a
// CommandDispatcher; the dispatcher answers each with a Reply.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bson/value.h"

namespace eddy::wire {

struct ConnectionInfo {
  int64_t id = 0;           // connectionId reported by hello, unique per server run
  std::string remote;       // "127.0.0.1:53211"
  std::string local;        // "127.0.0.1:27017"
};

struct Request {
  // The command document: the OP_MSG body with every kind-1 document sequence appended as an
  // array field of that name (e.g. "documents" for insert), or the OP_QUERY query document
  // (unwrapped from $query if present).
  bson::Document command;
  std::string db;              // $db (OP_MSG) or the "<db>.$cmd" prefix (OP_QUERY)
  bool legacy_op_query = false;  // arrived as OP_QUERY: the reply goes out as OP_REPLY
  bool more_to_come = false;     // OP_MSG moreToCome: the client reads no reply
  bool exhaust_allowed = false;
};

struct Reply {
  bson::Document body;             // {ok: 1, ...} or {ok: 0, errmsg, code, codeName}
  bool close_connection = false;   // drop the connection instead of replying (fail points)
};

// Thread-safety: Dispatch may be called concurrently from any number of connections.
class CommandDispatcher {
 public:
  virtual ~CommandDispatcher() = default;
  // Runs one command and calls done exactly once with the reply, possibly on another thread.
  // Must not block the calling thread for long: storage work and waits (getMore with
  // maxAwaitTimeMS, blockConnection fail points) run elsewhere.
  virtual void Dispatch(const ConnectionInfo& connection, Request request,
                        std::function<void(Reply)> done) = 0;
  // The connection closed; release its cursors/sessions state if any.
  virtual void ConnectionClosed(const ConnectionInfo& connection) {}
};

}  // namespace eddy::wire
