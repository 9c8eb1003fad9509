// MongoDB wire framing: the 16-byte message header and the opcodes. Pure functions over bytes;
// no sockets, no Asio (the I/O lives in wire/server).
//
// Every message is: int32 messageLength (header included), int32 requestID, int32 responseTo,
// int32 opCode, all little-endian, followed by messageLength - 16 bytes of opcode body.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace eddy::wire {

inline constexpr size_t kHeaderSize = 16;
// mongod's maxMessageSizeBytes: the largest message either side may send (hello reports it).
inline constexpr int32_t kMaxMessageSizeBytes = 48'000'000;

// Wire opcodes. Do not renumber: these are the protocol.
enum class OpCode : int32_t {
  kReply = 1,           // legacy reply; the server sends it only to answer OP_QUERY
  kUpdate = 2001,       // removed legacy opcodes (mongod 6.0+ refuses them)
  kInsert = 2002,
  kReserved = 2003,
  kQuery = 2004,        // legacy; only the connection handshake uses it now
  kGetMore = 2005,
  kDelete = 2006,
  kKillCursors = 2007,
  kCompressed = 2012,
  kMsg = 2013,
};

struct MsgHeader {
  int32_t message_length = 0;  // whole message, header included
  int32_t request_id = 0;
  int32_t response_to = 0;
  int32_t op_code = 0;
};

// Parses the first kHeaderSize bytes of `bytes` (it may be longer; it must hold at least 16).
// Fails with ProtocolError when fewer than 16 bytes are given or message_length is < 16 or
// > max_message_bytes (as mongod's "message msgLen N is invalid. Min 16 Max: 48000000").
// The opcode is not checked here (see ParseInbound in inbound.h).
Result<MsgHeader> ParseHeader(std::string_view bytes,
                              int32_t max_message_bytes = kMaxMessageSizeBytes);

// Appends a 16-byte header.
void AppendHeader(const MsgHeader& header, std::string* out);

// "OP_MSG", "OP_QUERY", ... or "opcode 1234" for unknown numbers (for error messages and logs).
std::string OpCodeName(int32_t op_code);

// Little-endian helpers shared by the protocol files. REQUIRES: enough bytes at p.
inline int32_t ReadInt32LE(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<int32_t>(static_cast<uint32_t>(u[0]) | static_cast<uint32_t>(u[1]) << 8 |
                              static_cast<uint32_t>(u[2]) << 16 | static_cast<uint32_t>(u[3]) << 24);
}
inline uint32_t ReadUInt32LE(const char* p) { return static_cast<uint32_t>(ReadInt32LE(p)); }
inline void AppendInt32LE(int32_t v, std::string* out) {
  auto u = static_cast<uint32_t>(v);
  char b[4] = {static_cast<char>(u & 0xff), static_cast<char>((u >> 8) & 0xff),
               static_cast<char>((u >> 16) & 0xff), static_cast<char>((u >> 24) & 0xff)};
  out->append(b, 4);
}
inline void AppendInt64LE(int64_t v, std::string* out) {
  auto u = static_cast<uint64_t>(v);
  AppendInt32LE(static_cast<int32_t>(u & 0xffffffffu), out);
  AppendInt32LE(static_cast<int32_t>(u >> 32), out);
}
// Overwrites 4 bytes at `pos` (used to patch messageLength once the body is written).
// The length of the valid UTF-8 sequence starting at s[i] (1-4), or 0 when none starts there
// (bad lead byte, truncated, overlong, surrogate, past U+10FFFF).
size_t Utf8SequenceLength(std::string_view s, size_t i);
// Whether all of `s` is valid UTF-8.
bool IsValidUtf8(std::string_view s);

inline void PatchInt32LE(int32_t v, size_t pos, std::string* out) {
  std::string tmp;
  AppendInt32LE(v, &tmp);
  out->replace(pos, 4, tmp);
}

}  // namespace eddy::wire
