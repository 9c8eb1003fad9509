#include "wire/protocol/inbound.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "wire/protocol/compression.h"
#include "wire/protocol/op_msg.h"
#include "wire/protocol/op_query.h"

namespace eddy::wire {

namespace {

Inbound Close(Inbound in, Status s) {
  in.action = Inbound::Action::kClose;
  in.error = std::move(s);
  return in;
}

Inbound ReplyError(Inbound in, Status s) {
  in.action = Inbound::Action::kReply;
  in.error = std::move(s);
  return in;
}

Inbound Dispatch(Inbound in, Request req) {
  in.action = Inbound::Action::kDispatch;
  in.more_to_come = req.more_to_come;
  if (!req.command.empty()) in.command_name = req.command.at(0).name;
  in.request = std::move(req);
  return in;
}

Inbound ParseUncompressed(Inbound in, std::string_view message) {
  switch (static_cast<OpCode>(in.op_code)) {
    case OpCode::kMsg: {
      std::optional<uint32_t> flags = PeekOpMsgFlags(message);
      if (!flags) {
        return Close(std::move(in), Status(ErrorCode::kProtocolError,
                                           "invalid OP_MSG: " + std::to_string(message.size()) +
                                               " bytes is too short for flagBits"));
      }
      in.more_to_come = *flags & kMoreToCome;
      auto msg = ParseOpMsg(message);
      if (!msg.ok()) {
        if (IsConnectionFatal(msg.status())) return Close(std::move(in), msg.status());
        return ReplyError(std::move(in), msg.status());
      }
      auto req = OpMsgToRequest(std::move(msg).value());
      if (!req.ok()) return ReplyError(std::move(in), req.status());
      return Dispatch(std::move(in), std::move(req).value());
    }
    case OpCode::kQuery: {
      auto q = ParseOpQuery(message);
      if (!q.ok()) return ReplyError(std::move(in), q.status());
      auto req = OpQueryToRequest(std::move(q).value());
      if (!req.ok()) return ReplyError(std::move(in), req.status());
      return Dispatch(std::move(in), std::move(req).value());
    }
    case OpCode::kCompressed:
      return Close(std::move(in), Status(ErrorCode::kProtocolError,
                                         "invalid OP_COMPRESSED: nested OP_COMPRESSED"));
    case OpCode::kUpdate:
    case OpCode::kInsert:
    case OpCode::kGetMore:
    case OpCode::kDelete:
    case OpCode::kKillCursors:
      return Close(std::move(in),
                   Status(ErrorCode::kProtocolError,
                          "unsupported legacy opcode " + OpCodeName(in.op_code) + " (" +
                              std::to_string(in.op_code) +
                              "): removed in MongoDB 6.0; the client driver may require an "
                              "upgrade to one that uses OP_MSG"));
    default:
      return Close(std::move(in),
                   Status(ErrorCode::kProtocolError,
                          "unsupported opcode " + std::to_string(in.op_code) +
                              (in.op_code == static_cast<int32_t>(OpCode::kReply)
                                   ? " (OP_REPLY is a server-to-client message)"
                                   : "")));
  }
}

// The compression spec: replies to these are never compressed (and clients never compress
// them), so a client that has not finished negotiating can still read them.
bool IsUncompressible(const Inbound& in) {
  std::string name = in.command_name;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr std::array<std::string_view, 11> kNames = {
      "hello",       "ismaster",  "saslstart",  "saslcontinue",    "getnonce",  "authenticate",
      "createuser",  "updateuser", "copydbsaslstart", "copydbgetnonce", "copydb"};
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

std::string MaybeCompress(const Inbound& in, std::string message) {
  if (!in.compressor || IsUncompressible(in)) return message;
  return Compress(message, *in.compressor);
}

}  // namespace

Inbound ParseInbound(std::string_view message, int32_t max_message_bytes) {
  Inbound in;
  auto header = ParseHeader(message, max_message_bytes);
  if (!header.ok()) return Close(std::move(in), header.status());
  in.header = *header;
  in.op_code = header->op_code;
  if (static_cast<size_t>(header->message_length) != message.size()) {
    return Close(std::move(in),
                 Status(ErrorCode::kProtocolError,
                        "message length " + std::to_string(header->message_length) +
                            " does not match the " + std::to_string(message.size()) +
                            " bytes given"));
  }
  if (header->op_code != static_cast<int32_t>(OpCode::kCompressed)) {
    return ParseUncompressed(std::move(in), message);
  }
  auto compressed = ParseOpCompressed(message, max_message_bytes);
  if (!compressed.ok()) return Close(std::move(in), compressed.status());
  in.compressor = compressed->compressor_id;
  in.op_code = compressed->original_op_code;
  auto original = Decompress(*header, *compressed);
  if (!original.ok()) return Close(std::move(in), original.status());
  return ParseUncompressed(std::move(in), *original);
}

std::string PrintableMessage(std::string_view message) {
  // Decoder errors quote the offending bytes (a field name that is not UTF-8, say). Drivers
  // decode errmsg as UTF-8 and fail on anything else, so invalid bytes become "\\xNN" text.
  std::string out;
  out.reserve(message.size());
  for (size_t i = 0; i < message.size();) {
    size_t len = Utf8SequenceLength(message, i);
    if (len > 0) {
      out.append(message.substr(i, len));
      i += len;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      unsigned char c = static_cast<unsigned char>(message[i]);
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      i += 1;
    }
  }
  return out;
}

bson::Document ErrorReplyBody(const Status& status) {
  return bson::Document{{"ok", 0.0},
                        {"errmsg", PrintableMessage(status.message())},
                        {"code", status.code_number()},
                        {"codeName", status.code_name()}};
}

std::string SerializeResponse(const Inbound& in, int32_t request_id, const bson::Document& body) {
  if (in.op_code == static_cast<int32_t>(OpCode::kQuery)) {
    return MaybeCompress(in, SerializeOpReply(request_id, in.header.request_id, body));
  }
  return MaybeCompress(in, SerializeOpMsg(request_id, in.header.request_id, body));
}

std::string SerializeError(const Inbound& in, int32_t request_id) {
  if (in.op_code == static_cast<int32_t>(OpCode::kQuery)) {
    bson::Document doc{{"$err", PrintableMessage(in.error.message())},
                       {"code", in.error.code_number()},
                       {"codeName", in.error.code_name()},
                       {"ok", 0.0}};
    return MaybeCompress(
        in, SerializeOpReply(request_id, in.header.request_id, doc, kReplyQueryFailure));
  }
  return MaybeCompress(in, SerializeOpMsg(request_id, in.header.request_id,
                                          ErrorReplyBody(in.error)));
}

}  // namespace eddy::wire
