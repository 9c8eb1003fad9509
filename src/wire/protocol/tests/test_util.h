// Builders for wire messages in tests: every byte spelled out, so malformed variants are easy.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bson/codec.h"
#include "bson/json.h"
#include "bson/value.h"
#include "wire/protocol/crc32c.h"
#include "wire/protocol/frame.h"

namespace eddy::wire::testing {

inline bson::Document J(std::string_view json) {
  auto d = bson::ParseJson(json);
  if (!d.ok()) throw std::runtime_error("bad test JSON: " + std::string(json));
  return *d;
}

inline std::string Bson(std::string_view json) { return bson::Encode(J(json)); }

inline std::string I32(int32_t v) {
  std::string s;
  AppendInt32LE(v, &s);
  return s;
}

inline std::string Body(const std::string& bson_bytes) { return std::string(1, '\0') + bson_bytes; }

inline std::string Seq(std::string_view id, const std::vector<std::string>& docs) {
  std::string payload(id);
  payload.push_back('\0');
  for (const auto& d : docs) payload += d;
  return std::string(1, '\1') + I32(static_cast<int32_t>(payload.size() + 4)) + payload;
}

// A message with a correct length field: header + rest.
inline std::string Message(int32_t op_code, const std::string& rest, int32_t request_id = 7,
                           int32_t response_to = 0) {
  std::string out;
  AppendHeader({static_cast<int32_t>(kHeaderSize + rest.size()), request_id, response_to, op_code},
               &out);
  return out + rest;
}

inline std::string OpMsgBytes(uint32_t flags, const std::string& sections, int32_t request_id = 7) {
  return Message(static_cast<int32_t>(OpCode::kMsg), I32(static_cast<int32_t>(flags)) + sections,
                 request_id);
}

// OP_MSG with checksumPresent and a correct (or deliberately wrong) CRC-32C trailer.
inline std::string OpMsgWithCrc(uint32_t flags, const std::string& sections, bool corrupt = false) {
  std::string m = OpMsgBytes(flags | 1u, sections + "XXXX");
  m.resize(m.size() - 4);
  uint32_t crc = Crc32c(m) ^ (corrupt ? 1u : 0u);
  m += I32(static_cast<int32_t>(crc));
  return m;
}

inline std::string OpQueryBytes(int32_t flags, std::string_view ns, const std::string& query,
                                const std::string& extra = "", int32_t request_id = 7) {
  std::string rest = I32(flags) + std::string(ns) + std::string(1, '\0') + I32(0) + I32(-1) +
                     query + extra;
  return Message(static_cast<int32_t>(OpCode::kQuery), rest, request_id);
}

}  // namespace eddy::wire::testing
