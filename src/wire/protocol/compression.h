// OP_COMPRESSED (opcode 2012): a wrapped OP_MSG/OP_QUERY whose body is compressed.
//
//   header | int32 originalOpcode | int32 uncompressedSize | uint8 compressorId | payload
//
// uncompressedSize is the size of the original body (header excluded). Clients compress only
// after the hello reply lists a compressor they asked for in `compression` (the commands layer
// decides what hello offers, using SupportsCompressor). When a request arrives compressed the
// server answers with the same compressor, except for the handshake/auth commands the
// compression spec keeps uncompressed.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "wire/protocol/frame.h"

namespace eddy::wire {

// Compressor ids. Do not renumber: they are the protocol.
enum class CompressorId : uint8_t { kNoop = 0, kSnappy = 1, kZlib = 2, kZstd = 3 };

// True for the names this build can negotiate in hello: "snappy", "zlib", "zstd".
// ("noop" is never negotiated by name.)
bool SupportsCompressor(std::string_view name);
// "noop", "snappy", "zlib", "zstd" or "compressor <n>".
std::string CompressorName(uint8_t id);

struct OpCompressed {
  int32_t original_op_code = 0;
  int32_t uncompressed_size = 0;
  uint8_t compressor_id = 0;
  std::string_view payload;  // points into the message passed to ParseOpCompressed
};

// Parses the OP_COMPRESSED wrapper of `message` (header included). Errors (ProtocolError):
// truncation, negative uncompressedSize or one above max_message_bytes - 16, an original
// opcode of OP_COMPRESSED itself.
Result<OpCompressed> ParseOpCompressed(std::string_view message,
                                       int32_t max_message_bytes = kMaxMessageSizeBytes);

// Decompresses and returns the original message: a fresh 16-byte header (same length fields
// recomputed, same requestID/responseTo, the original opcode) followed by the body. Errors:
// an unknown compressor id, corrupt data, or a body whose size differs from uncompressedSize
// (ProtocolError; zlib failures are ZLibError 147).
Result<std::string> Decompress(const MsgHeader& header, const OpCompressed& compressed);

// Wraps a complete serialized `message` (header included) in OP_COMPRESSED with `compressor`.
// REQUIRES: compressor is one of CompressorId's values. Never fails: a compressor error
// falls back to noop.
std::string Compress(std::string_view message, uint8_t compressor);

}  // namespace eddy::wire
