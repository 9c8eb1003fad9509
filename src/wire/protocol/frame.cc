#include "wire/protocol/frame.h"

namespace eddy::wire {

Result<MsgHeader> ParseHeader(std::string_view bytes, int32_t max_message_bytes) {
  if (bytes.size() < kHeaderSize) {
    return Status(ErrorCode::kProtocolError,
                  "message header truncated: " + std::to_string(bytes.size()) +
                      " bytes, need " + std::to_string(kHeaderSize));
  }
  MsgHeader h;
  h.message_length = ReadInt32LE(bytes.data());
  h.request_id = ReadInt32LE(bytes.data() + 4);
  h.response_to = ReadInt32LE(bytes.data() + 8);
  h.op_code = ReadInt32LE(bytes.data() + 12);
  if (h.message_length < static_cast<int32_t>(kHeaderSize) ||
      h.message_length > max_message_bytes) {
    return Status(ErrorCode::kProtocolError,
                  "message length " + std::to_string(h.message_length) + " is invalid: min " +
                      std::to_string(kHeaderSize) + ", max " + std::to_string(max_message_bytes) +
                      " (maxMessageSizeBytes)");
  }
  return h;
}

void AppendHeader(const MsgHeader& header, std::string* out) {
  AppendInt32LE(header.message_length, out);
  AppendInt32LE(header.request_id, out);
  AppendInt32LE(header.response_to, out);
  AppendInt32LE(header.op_code, out);
}

std::string OpCodeName(int32_t op_code) {
  switch (static_cast<OpCode>(op_code)) {
    case OpCode::kReply: return "OP_REPLY";
    case OpCode::kUpdate: return "OP_UPDATE";
    case OpCode::kInsert: return "OP_INSERT";
    case OpCode::kReserved: return "OP_RESERVED";
    case OpCode::kQuery: return "OP_QUERY";
    case OpCode::kGetMore: return "OP_GET_MORE";
    case OpCode::kDelete: return "OP_DELETE";
    case OpCode::kKillCursors: return "OP_KILL_CURSORS";
    case OpCode::kCompressed: return "OP_COMPRESSED";
    case OpCode::kMsg: return "OP_MSG";
  }
  return "opcode " + std::to_string(op_code);
}

}  // namespace eddy::wire
