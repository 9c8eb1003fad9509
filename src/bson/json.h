// Extended JSON (MongoDB Extended JSON v2) in and out, plus the shell syntax people type.
//
// ParseJson accepts, so tests and the CLI can be written as people write MongoDB documents:
//   - strict JSON and canonical/relaxed Extended JSON ({"$oid": ...}, {"$date": ...},
//     {"$numberLong": ...}, {"$numberInt"}, {"$numberDouble"}, {"$numberDecimal"},
//     {"$binary": {"base64", "subType"}}, {"$timestamp": {"t", "i"}},
//     {"$regularExpression": {"pattern", "options"}}, {"$minKey": 1}, {"$maxKey": 1},
//     {"$undefined": true}, {"$symbol"}, {"$code"}, {"$code", "$scope"}, {"$dbPointer"});
//     legacy {"$date": <int>} and {"$binary": "...", "$type": "hh"} too;
//   - shell syntax: unquoted keys ({a: 1, $set: {...}}), single-quoted strings,
//     ObjectId("..."), ISODate("..."), new Date(ms|"iso"), NumberLong(..), NumberInt(..),
//     NumberDecimal(".."), Timestamp(t, i), MinKey, MaxKey, /pattern/flags, trailing commas,
//     // and /* */ comments.
// Numbers: an integer literal that fits int32 is int32, else int64 if it fits, else double;
// anything with '.', 'e' or 'E' is double (as mongosh and relaxed Extended JSON do).
#pragma once
#include <string>
#include <string_view>

#include "base/status.h"
#include "bson/value.h"

namespace eddy::bson {

// Errors are FailedToParse naming line:column and what was expected.
Result<Document> ParseJson(std::string_view text);
Result<Value> ParseJsonValue(std::string_view text);
// Parses a sequence of JSON documents (whitespace/newline separated, as in JSON lines).
Result<std::vector<Document>> ParseJsonSequence(std::string_view text);

enum class JsonMode {
  kRelaxed,    // Extended JSON v2 relaxed: numbers as plain JSON where lossless, dates ISO-8601
  kCanonical,  // Extended JSON v2 canonical: every number and date typed
  kShell,      // compact, unquoted keys: {_id: 1, a: "x", d: ISODate("...")}; for tests/logs
};

std::string ToJson(const Document& doc, JsonMode mode = JsonMode::kRelaxed);
std::string ToJson(const Value& value, JsonMode mode = JsonMode::kRelaxed);

}  // namespace eddy::bson
