// Resume tokens: the opaque {_data: "<hex>"} documents drivers hand back to resume a stream.
// Layout (docs/formats/resume_token.md), uppercase hex of:
//   0x02 version | u64 BE cluster time (seconds<<32|increment) | u8 kind | u16 BE fragment |
//   key string of the event's documentKey._id (may be empty)
// Big-endian fields and kHighWaterMark < kEvent < kInvalidate, so tokens sort like the
// positions they name. Version 0x01 tokens (ts + key only) are still accepted.
#pragma once
#include <cstdint>
#include <string>

#include "base/status.h"
#include "bson/value.h"

namespace eddy::changestream {

struct ResumeToken {
  enum Kind : uint8_t {
    kHighWaterMark = 0,  // a position, not an event (postBatchResumeToken of an empty batch)
    kEvent = 1,          // the event of the change-log entry at cluster_time
    kInvalidate = 2,     // the invalidate that follows the drop/rename at cluster_time
  };
  bson::Timestamp cluster_time;
  Kind kind = kEvent;
  // $changeStreamSplitLargeEvent: 1-based fragment number of a split event, 0 = not split.
  uint16_t fragment = 0;
  std::string document_key;  // key string of documentKey._id, raw bytes (may be empty)

  bson::Document ToDocument() const;  // {_data: "..."}
  // The _data string: DataSize() hex digits, written by WriteData (no allocation).
  size_t DataSize() const { return (12 + document_key.size()) * 2; }
  void WriteData(char* out) const;
  // Errors: BadValue naming what is wrong ("resume token must be a document with a string
  // _data field", "malformed resume token: ...").
  static Result<ResumeToken> Parse(const bson::Value& token);

  static ResumeToken HighWaterMark(bson::Timestamp ts) {
    ResumeToken t;
    t.cluster_time = ts;
    t.kind = kHighWaterMark;
    return t;
  }
};

}  // namespace eddy::changestream
