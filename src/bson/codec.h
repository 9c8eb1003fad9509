// BSON bytes <-> Document. Decoding validates everything a client can get wrong, so nothing
// malformed gets past the wire layer or into storage:
//   - lengths (document, string, binary, code-with-scope) consistent and in bounds,
//   - known element types, NUL-terminated keys, strings valid UTF-8 (keys too),
//   - nesting no deeper than max_depth, boolean bytes 0/1.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "bson/value.h"

namespace eddy::bson {

// A document stored or sent may be at most 16 MiB (BSON's maxBsonObjectSize).
inline constexpr int32_t kMaxUserSize = 16 * 1024 * 1024;
// Internal documents (change-log entries with pre- and post-images, replies) may exceed it a bit.
inline constexpr int32_t kMaxInternalSize = kMaxUserSize + 16 * 1024;
// Deepest allowed nesting of documents/arrays (the top-level document is depth 1).
inline constexpr int kMaxDepth = 180;

struct DecodeOptions {
  // Default: kMaxInternalSize (so replies/commands a bit over 16 MiB decode)
  int32_t max_size = kMaxInternalSize;
  // Default: kMaxDepth
  int max_depth = kMaxDepth;
  // Check UTF-8 in strings and keys. Default: true
  bool validate_utf8 = true;
};

// Appends the BSON encoding of `doc` to *out.
void EncodeTo(const Document& doc, std::string* out);
std::string Encode(const Document& doc);
// Size in bytes of the encoding, without encoding.
size_t EncodedSize(const Document& doc);
// Appends the encoding of a value alone (no type byte, no name) to *out; its size.
void AppendValueTo(const Value& v, std::string* out);
size_t EncodedValueSize(const Value& v);
// The Document of a RawDocument (its bytes are validated like a client's, any size).
Result<Document> DecodeRaw(const RawDocument& raw);

// Decodes one document that must occupy exactly `bytes`. Errors: InvalidBSON-style
// BadValue/InvalidLength messages naming the problem and its byte offset; Overflow for depth.
Result<Document> Decode(std::string_view bytes, const DecodeOptions& options = {});

// Reads the int32 length prefix of a BSON document at `bytes` (no validation beyond bounds);
// returns -1 when fewer than 4 bytes are available.
int32_t PeekLength(std::string_view bytes);

}  // namespace eddy::bson
