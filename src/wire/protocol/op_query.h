// Legacy OP_QUERY (opcode 2004) and its answer OP_REPLY (opcode 1). Every driver still opens a
// connection with an OP_QUERY hello/isMaster on "admin.$cmd" (reference/clients.md §1), so the
// server parses OP_QUERY commands and answers them with OP_REPLY.
//
//   OP_QUERY: header | int32 flags | cstring fullCollectionName | int32 numberToSkip
//             | int32 numberToReturn | document query | [document returnFieldsSelector]
//   OP_REPLY: header | int32 responseFlags | int64 cursorID | int32 startingFrom
//             | int32 numberReturned | documents...
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "bson/value.h"
#include "wire/commands/dispatcher.h"
#include "wire/protocol/frame.h"

namespace eddy::wire {

// OP_QUERY flags (legacy; only SecondaryOk still matters). Do not renumber.
inline constexpr int32_t kQuerySecondaryOk = 1 << 2;
inline constexpr int32_t kQueryExhaust = 1 << 6;
// OP_REPLY responseFlags.
inline constexpr int32_t kReplyQueryFailure = 1 << 1;

// mongod's UnsupportedOpQueryCommand: OP_QUERY to a collection (not "<db>.$cmd").
inline constexpr ErrorCode kUnsupportedOpQueryCommand = static_cast<ErrorCode>(352);
// mongod's "$db is not allowed in OP_QUERY requests".
inline constexpr ErrorCode kDollarDbInOpQuery = static_cast<ErrorCode>(40621);

struct OpQuery {
  int32_t flags = 0;
  std::string full_collection_name;  // "admin.$cmd"
  int32_t number_to_skip = 0;
  int32_t number_to_return = 0;
  bson::Document query;
  std::optional<bson::Document> return_fields_selector;
};

// Parses a complete OP_QUERY `message`, header included. Errors: ProtocolError (17) for
// truncation, an unterminated or empty collection name, trailing bytes; InvalidBSON (22) for a
// query or selector that bson::Decode rejects.
Result<OpQuery> ParseOpQuery(std::string_view message);

// Turns an OP_QUERY into a command Request, as mongod's upconvertRequest does:
//   - the namespace must be "<db>.$cmd" (else 352 UnsupportedOpQueryCommand, naming the
//     operation as mongod does), db is its prefix;
//   - {$query: cmd, $readPreference: rp} (or {query: ...}) unwraps to cmd plus $readPreference;
//     {..., $queryOptions: {$readPreference}} moves $queryOptions' fields to the top;
//   - with flag SecondaryOk and no $readPreference, $readPreference: {mode:
//     "secondaryPreferred"} is added;
//   - "$db" is appended (as OP_MSG carries it); a $db already present is error 40621.
// Sets legacy_op_query. Any command name is accepted here: which commands may arrive over
// OP_QUERY is the command layer's decision.
Result<Request> OpQueryToRequest(OpQuery query);

// OP_REPLY with one document: responseFlags as given (0, or kReplyQueryFailure for $err
// replies), cursorID 0, startingFrom 0, numberReturned 1.
std::string SerializeOpReply(int32_t request_id, int32_t response_to, const bson::Document& doc,
                             int32_t response_flags = 0);

}  // namespace eddy::wire
