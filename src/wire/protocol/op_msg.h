// OP_MSG (opcode 2013), the message every modern driver uses for commands.
//
//   header | uint32 flagBits | sections... | [uint32 CRC-32C if checksumPresent]
//   section kind 0: one BSON document (the command body), exactly once
//   section kind 1: int32 size (itself included) | cstring identifier | BSON documents...
//
// Mirrors mongod's OpMsg::parse: the same checks, messages and error codes, so a client sees
// the same failures it would see from mongod.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "bson/value.h"
#include "wire/commands/dispatcher.h"
#include "wire/protocol/frame.h"

namespace eddy::wire {

// flagBits. Bits 0-15 are "required": a receiver must reject bits it does not know. Bits 16-31
// are optional and ignored when unknown. Do not renumber.
inline constexpr uint32_t kChecksumPresent = 1u << 0;
inline constexpr uint32_t kMoreToCome = 1u << 1;
inline constexpr uint32_t kExhaustAllowed = 1u << 16;

// MongoDB codes used by the OP_MSG parser (mongod's numbers; the ones marked fatal are
// "ConnectionFatalMessageParseError": the server closes the connection instead of replying).
inline constexpr ErrorCode kIllegalOpMsgFlag = static_cast<ErrorCode>(223);         // fatal
inline constexpr ErrorCode kTooManyDocumentSequences = static_cast<ErrorCode>(233); // fatal
inline constexpr ErrorCode kChecksumMismatch = static_cast<ErrorCode>(288);         // fatal
inline constexpr ErrorCode kMultipleBodySections = static_cast<ErrorCode>(40430);
inline constexpr ErrorCode kDuplicateDocumentSequence = static_cast<ErrorCode>(40431);
inline constexpr ErrorCode kUnknownSectionKind = static_cast<ErrorCode>(40432);
inline constexpr ErrorCode kDuplicateBodyAndSequenceField = static_cast<ErrorCode>(40433);
inline constexpr ErrorCode kMissingDollarDb = static_cast<ErrorCode>(40571);
inline constexpr ErrorCode kMissingBody = static_cast<ErrorCode>(40587);

// True for errors after which the connection must be closed rather than answered (mongod's
// ConnectionFatalMessageParseError category).
bool IsConnectionFatal(const Status& status);

struct DocumentSequence {
  std::string identifier;  // e.g. "documents", "updates", "deletes"
  std::vector<bson::Document> documents;
};

struct OpMsg {
  uint32_t flags = 0;
  bson::Document body;
  std::vector<DocumentSequence> sequences;  // in wire order; at most 2 (as mongod)

  bool more_to_come() const { return flags & kMoreToCome; }
  bool exhaust_allowed() const { return flags & kExhaustAllowed; }
};

// The flagBits of an OP_MSG `message` (header included), or nullopt if it is too short.
// Lets the caller honour moreToCome even when the rest fails to parse.
std::optional<uint32_t> PeekOpMsgFlags(std::string_view message);

// Parses a complete OP_MSG `message`, header included (the checksum covers the header).
// The header's opcode and length are not re-checked: pass what ParseHeader accepted. Errors:
//   ProtocolError (17): too short for flagBits, truncated or lying section/sequence lengths,
//                       checksum flag without room for it;
//   IllegalOpMsgFlag (223): an unknown required flag bit;
//   InvalidBSON (22): a document that bson::Decode rejects (its message included);
//   40430 two body sections; 40431 duplicate sequence identifier; 40432 unknown section kind;
//   40587 no body; 233 more than 2 document sequences; 288 checksum mismatch.
Result<OpMsg> ParseOpMsg(std::string_view message);

// Turns a parsed OP_MSG into the dispatcher's Request: each document sequence is appended to
// the body as an array field named by its identifier; db comes from the body's "$db" (which
// stays in the command). Errors: 40433 a sequence identifier that is also a body field;
// 40571 no $db; TypeMismatch (14) $db not a string.
Result<Request> OpMsgToRequest(OpMsg msg);

// Serializes an OP_MSG with one kind-0 section. `flags` may carry kMoreToCome (exhaust
// streaming); the server never sets kChecksumPresent.
std::string SerializeOpMsg(int32_t request_id, int32_t response_to, const bson::Document& body,
                           uint32_t flags = 0);

}  // namespace eddy::wire
