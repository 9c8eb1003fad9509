#include "wire/protocol/compression.h"

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

namespace eddy::wire {

namespace {
constexpr ErrorCode kZLibError = static_cast<ErrorCode>(147);
constexpr size_t kCompressedPrefix = 9;  // originalOpcode + uncompressedSize + compressorId

Status Bad(const std::string& what) {
  return Status(ErrorCode::kProtocolError, "invalid OP_COMPRESSED: " + what);
}
}  // namespace

bool SupportsCompressor(std::string_view name) {
  return name == "snappy" || name == "zlib" || name == "zstd";
}

std::string CompressorName(uint8_t id) {
  switch (static_cast<CompressorId>(id)) {
    case CompressorId::kNoop: return "noop";
    case CompressorId::kSnappy: return "snappy";
    case CompressorId::kZlib: return "zlib";
    case CompressorId::kZstd: return "zstd";
  }
  return "compressor " + std::to_string(id);
}

Result<OpCompressed> ParseOpCompressed(std::string_view message, int32_t max_message_bytes) {
  if (message.size() < kHeaderSize + kCompressedPrefix) {
    return Bad("message of " + std::to_string(message.size()) + " bytes is too short (need " +
               std::to_string(kHeaderSize + kCompressedPrefix) + ")");
  }
  OpCompressed c;
  c.original_op_code = ReadInt32LE(message.data() + kHeaderSize);
  c.uncompressed_size = ReadInt32LE(message.data() + kHeaderSize + 4);
  c.compressor_id = static_cast<uint8_t>(message[kHeaderSize + 8]);
  c.payload = message.substr(kHeaderSize + kCompressedPrefix);
  if (c.original_op_code == static_cast<int32_t>(OpCode::kCompressed)) {
    return Bad("the original opcode is OP_COMPRESSED itself");
  }
  if (c.uncompressed_size < 0 ||
      c.uncompressed_size > max_message_bytes - static_cast<int32_t>(kHeaderSize)) {
    return Bad("uncompressedSize " + std::to_string(c.uncompressed_size) +
               " is invalid (max " + std::to_string(max_message_bytes - kHeaderSize) + ")");
  }
  return c;
}

Result<std::string> Decompress(const MsgHeader& header, const OpCompressed& c) {
  std::string out;
  const size_t want = static_cast<size_t>(c.uncompressed_size);
  AppendHeader({static_cast<int32_t>(kHeaderSize + want), header.request_id, header.response_to,
                c.original_op_code},
               &out);
  out.resize(kHeaderSize + want);
  char* dst = out.data() + kHeaderSize;
  const std::string name = CompressorName(c.compressor_id);
  size_t got = 0;
  switch (static_cast<CompressorId>(c.compressor_id)) {
    case CompressorId::kNoop:
      got = c.payload.size();
      if (got == want) std::copy(c.payload.begin(), c.payload.end(), dst);
      break;
    case CompressorId::kSnappy: {
      size_t len = 0;
      if (snappy_uncompressed_length(c.payload.data(), c.payload.size(), &len) != SNAPPY_OK) {
        return Bad("snappy data is corrupt");
      }
      if (len != want) {
        got = len;
        break;
      }
      if (snappy_uncompress(c.payload.data(), c.payload.size(), dst, &len) != SNAPPY_OK) {
        return Bad("snappy data is corrupt");
      }
      got = len;
      break;
    }
    case CompressorId::kZlib: {
      uLongf len = static_cast<uLongf>(want);
      int rc = uncompress(reinterpret_cast<Bytef*>(dst), &len,
                          reinterpret_cast<const Bytef*>(c.payload.data()),
                          static_cast<uLong>(c.payload.size()));
      if (rc == Z_BUF_ERROR) {
        return Bad("zlib data is truncated or decompresses to more than uncompressedSize " +
                   std::to_string(want));
      }
      if (rc != Z_OK) {
        return Status(kZLibError, "invalid OP_COMPRESSED: zlib error " + std::to_string(rc) +
                                      " (" + zError(rc) + ")");
      }
      got = len;
      break;
    }
    case CompressorId::kZstd: {
      size_t rc = ZSTD_decompress(dst, want, c.payload.data(), c.payload.size());
      if (ZSTD_isError(rc)) {
        return Bad(std::string("zstd error: ") + ZSTD_getErrorName(rc));
      }
      got = rc;
      break;
    }
    default:
      return Bad("unknown compressor id " + std::to_string(c.compressor_id));
  }
  if (got != want) {
    return Bad(name + " data has " + std::to_string(got) + " bytes, uncompressedSize says " +
               std::to_string(want));
  }
  return out;
}

std::string Compress(std::string_view message, uint8_t compressor) {
  MsgHeader h{0, ReadInt32LE(message.data() + 4), ReadInt32LE(message.data() + 8),
              static_cast<int32_t>(OpCode::kCompressed)};
  std::string_view body = message.substr(kHeaderSize);
  std::string out;
  AppendHeader(h, &out);
  AppendInt32LE(ReadInt32LE(message.data() + 12), &out);
  AppendInt32LE(static_cast<int32_t>(body.size()), &out);
  out.push_back(static_cast<char>(compressor));
  size_t prefix = out.size();
  bool ok = false;
  switch (static_cast<CompressorId>(compressor)) {
    case CompressorId::kSnappy: {
      size_t len = snappy_max_compressed_length(body.size());
      out.resize(prefix + len);
      ok = snappy_compress(body.data(), body.size(), out.data() + prefix, &len) == SNAPPY_OK;
      out.resize(prefix + len);
      break;
    }
    case CompressorId::kZlib: {
      uLongf len = compressBound(static_cast<uLong>(body.size()));
      out.resize(prefix + len);
      ok = compress2(reinterpret_cast<Bytef*>(out.data() + prefix), &len,
                     reinterpret_cast<const Bytef*>(body.data()), static_cast<uLong>(body.size()),
                     Z_DEFAULT_COMPRESSION) == Z_OK;
      out.resize(prefix + len);
      break;
    }
    case CompressorId::kZstd: {
      size_t cap = ZSTD_compressBound(body.size());
      out.resize(prefix + cap);
      size_t rc = ZSTD_compress(out.data() + prefix, cap, body.data(), body.size(), 1);
      ok = !ZSTD_isError(rc);
      out.resize(prefix + (ok ? rc : 0));
      break;
    }
    default:
      break;
  }
  if (!ok) {
    out.resize(prefix);
    out[prefix - 1] = static_cast<char>(CompressorId::kNoop);
    out.append(body);
  }
  PatchInt32LE(static_cast<int32_t>(out.size()), 0, &out);
  return out;
}

}  // namespace eddy::wire
