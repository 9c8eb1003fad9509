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

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len <= 1) return len;
  if (i + len > s.size()) return 0;
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    unsigned char b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace eddy::wire
