// Resume tokens: the opaque {_data: "<hex>"} documents drivers hand back to resume a stream.
// Layout of the hex string (docs/formats/resume_token.md):
//   "01" version | 16 hex digits cluster time (seconds<<32|increment) | key string of the
//   event's documentKey._id (hex; may be empty)
// Hex of big-endian fields, so tokens of one stream sort like their events.
#pragma once
#include <string>

#include "base/status.h"
#include "bson/value.h"

namespace eddy::changestream {

struct ResumeToken {
  bson::Timestamp cluster_time;
  std::string document_key;  // key string of documentKey._id, raw bytes (may be empty)
  bson::Document ToDocument() const;  // {_data: "..."}
  // Errors: BadValue naming what is wrong ("resume token must be a document with a string
  // _data field", "malformed resume token: ...").
  static Result<ResumeToken> Parse(const bson::Value& token);
};

}  // namespace eddy::changestream
