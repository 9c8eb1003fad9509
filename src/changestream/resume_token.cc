#include "changestream/resume_token.h"

#include <array>
#include <cstring>

#include "storage/key_encoding.h"

namespace eddy::changestream {
namespace {
constexpr char kHex[] = "0123456789ABCDEF";

int Nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}
}  // namespace

void ResumeToken::WriteData(char* out) const {
  unsigned char head[12];
  head[0] = 0x02;
  uint64_t ts = cluster_time.AsUint64();
  for (int i = 0; i < 8; ++i) head[1 + i] = static_cast<unsigned char>(ts >> (56 - 8 * i));
  head[9] = static_cast<unsigned char>(kind);
  head[10] = static_cast<unsigned char>(fragment >> 8);
  head[11] = static_cast<unsigned char>(fragment & 0xFF);
  // Two digits per byte from one table (this runs for every event).
  static const auto kPairs = [] {
    std::array<char, 512> t{};
    for (int b = 0; b < 256; ++b) {
      t[2 * b] = kHex[b >> 4];
      t[2 * b + 1] = kHex[b & 15];
    }
    return t;
  }();
  auto put = [&out](unsigned char c) {
    std::memcpy(out, &kPairs[2 * c], 2);
    out += 2;
  };
  for (unsigned char c : head) put(c);
  for (char c : document_key) put(static_cast<unsigned char>(c));
}

bson::Document ResumeToken::ToDocument() const {
  // Hex-encoded straight into the one string the token holds.
  std::string hex(DataSize(), '\0');
  WriteData(hex.data());
  bson::Document d;
  d.Append("_data", std::move(hex));
  return d;
}

Result<ResumeToken> ResumeToken::Parse(const bson::Value& token) {
  if (!token.is_document()) {
    return Status(ErrorCode::kBadValue, "resume token must be a document, found " +
                                            std::string(bson::TypeName(token.type())));
  }
  const bson::Value* data = token.as_document().Get("_data");
  if (!data || !data->is_string()) {
    return Status(ErrorCode::kBadValue, "resume token must have a string _data field");
  }
  const std::string& hex = data->as_string();
  if (hex.size() < 18 || hex.size() % 2 != 0) {
    return Status(ErrorCode::kBadValue, "malformed resume token: _data '" + hex +
                                            "' is not a token issued by this server");
  }
  std::string raw;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = Nibble(hex[i]), lo = Nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return Status(ErrorCode::kBadValue, "malformed resume token: _data has a non-hex character");
    }
    raw.push_back(static_cast<char>(hi * 16 + lo));
  }
  ResumeToken t;
  t.cluster_time = bson::Timestamp::FromUint64(storage::ReadBigEndian64(std::string_view(raw).substr(1, 8)));
  if (raw[0] == '\x01') {
    // Version 1 had no kind: a token with a key was an event's, one without a position.
    t.document_key = raw.substr(9);
    t.kind = t.document_key.empty() ? kHighWaterMark : kEvent;
    return t;
  }
  if (raw[0] != '\x02') {
    return Status(ErrorCode::kBadValue, "malformed resume token: unknown version " +
                                            std::to_string(static_cast<uint8_t>(raw[0])));
  }
  if (raw.size() < 12 || static_cast<uint8_t>(raw[9]) > kInvalidate) {
    return Status(ErrorCode::kBadValue, "malformed resume token: _data '" + hex +
                                            "' is not a token issued by this server");
  }
  t.kind = static_cast<Kind>(raw[9]);
  t.fragment = static_cast<uint16_t>((static_cast<uint8_t>(raw[10]) << 8) | static_cast<uint8_t>(raw[11]));
  t.document_key = raw.substr(12);
  return t;
}

}  // namespace eddy::changestream
