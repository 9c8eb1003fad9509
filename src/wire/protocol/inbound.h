// One complete inbound message -> what the server does with it. This is the whole protocol
// decision table, kept sans-io so it can be tested and fuzzed from byte arrays; wire/server only
// moves bytes and calls the dispatcher.
//
//   OP_MSG          -> dispatch (Request with sequences merged, $db extracted)
//   OP_QUERY <db>.$cmd -> dispatch with legacy_op_query (the answer goes out as OP_REPLY)
//   OP_COMPRESSED   -> decompressed, then as above; the answer is compressed the same way
//   a frame that parses but is wrong inside (invalid BSON, duplicate sections, no $db, OP_QUERY
//     on a collection) -> an error reply {ok: 0, errmsg, code, codeName} to its requestID
//     (no reply when the request said moreToCome), as mongod answers these
//   connection-fatal errors (unknown required flag bits, checksum mismatch, more than two
//     sequences), undecodable compression, OP_MSG too short for flagBits, legacy or unknown
//     opcodes -> close the connection, as mongod does
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "bson/value.h"
#include "wire/commands/dispatcher.h"
#include "wire/protocol/frame.h"

namespace eddy::wire {

struct Inbound {
  enum class Action {
    kDispatch,  // hand `request` to the dispatcher and answer with its reply
    kReply,     // answer with an error reply built from `error` (SerializeError)
    kClose,     // log `error` and close the connection
  };
  Action action = Action::kClose;
  MsgHeader header;                   // as received; replies answer header.request_id
  int32_t op_code = 0;                // the effective opcode (the original one if compressed)
  std::optional<uint8_t> compressor;  // set when the message arrived as OP_COMPRESSED
  bool more_to_come = false;          // the client reads no reply (OP_MSG moreToCome)
  Request request;                    // kDispatch
  std::string command_name;           // kDispatch: the command's first key (kept for the reply
                                      // after `request` has been moved to the dispatcher)
  Status error;                       // kReply / kClose: what was wrong, for the reply or log
};

// Classifies one complete message (header included; its length is message.size()).
// Never fails and never throws on any input: problems become kReply or kClose with a Status
// naming them. `max_message_bytes` bounds header lengths and decompressed sizes.
Inbound ParseInbound(std::string_view message, int32_t max_message_bytes = kMaxMessageSizeBytes);

// `message` as valid UTF-8: each byte that is not part of a valid UTF-8 sequence becomes the
// four characters "\xNN" (error messages may quote invalid input; drivers reject invalid UTF-8).
std::string PrintableMessage(std::string_view message);

// {ok: 0.0, errmsg, code, codeName}: mongod's command error shape (errmsg made printable).
bson::Document ErrorReplyBody(const Status& status);

// The bytes answering `in` with `body`: OP_REPLY (numberReturned 1) when the request was
// OP_QUERY, OP_MSG otherwise; compressed with the request's compressor unless the command is
// one the compression spec keeps uncompressed (hello, isMaster, sasl*, ...).
std::string SerializeResponse(const Inbound& in, int32_t request_id, const bson::Document& body);

// The error reply for a kReply Inbound: OP_MSG {ok: 0, ...}, or for OP_QUERY an OP_REPLY with
// responseFlags QueryFailure and {$err, code, codeName, ok: 0}.
std::string SerializeError(const Inbound& in, int32_t request_id);

}  // namespace eddy::wire
