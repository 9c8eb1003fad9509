#include "wire/protocol/op_query.h"

#include "bson/codec.h"

namespace eddy::wire {

namespace {

Status Bad(const std::string& what) {
  return Status(ErrorCode::kProtocolError, "invalid OP_QUERY: " + what);
}

Result<bson::Document> ReadDocument(std::string_view message, size_t* pos, const char* what) {
  size_t remaining = message.size() - *pos;
  if (remaining < 4) return Bad(std::string("truncated ") + what + " length at byte " +
                                std::to_string(*pos));
  int32_t len = ReadInt32LE(message.data() + *pos);
  if (len < 5 || static_cast<size_t>(len) > remaining) {
    return Bad(std::string(what) + " length " + std::to_string(len) + " exceeds the " +
               std::to_string(remaining) + " bytes left at byte " + std::to_string(*pos));
  }
  auto doc = bson::Decode(message.substr(*pos, static_cast<size_t>(len)));
  if (!doc.ok()) {
    return Status(ErrorCode::kInvalidBSON, std::string("invalid BSON in OP_QUERY ") + what +
                                               " at byte " + std::to_string(*pos) + ": " +
                                               std::string(doc.status().message()));
  }
  *pos += static_cast<size_t>(len);
  return std::move(doc).value();
}

}  // namespace

Result<OpQuery> ParseOpQuery(std::string_view message) {
  OpQuery q;
  size_t pos = kHeaderSize;
  if (message.size() < pos + 4) return Bad("truncated before flags");
  q.flags = ReadInt32LE(message.data() + pos);
  pos += 4;
  size_t nul = message.find('\0', pos);
  if (nul == std::string_view::npos) return Bad("fullCollectionName is not NUL-terminated");
  q.full_collection_name = std::string(message.substr(pos, nul - pos));
  if (q.full_collection_name.empty()) return Bad("empty fullCollectionName");
  pos = nul + 1;
  if (message.size() < pos + 8) return Bad("truncated before numberToSkip/numberToReturn");
  q.number_to_skip = ReadInt32LE(message.data() + pos);
  q.number_to_return = ReadInt32LE(message.data() + pos + 4);
  pos += 8;
  auto query = ReadDocument(message, &pos, "query");
  if (!query.ok()) return query.status();
  q.query = std::move(query).value();
  if (pos < message.size()) {
    auto selector = ReadDocument(message, &pos, "returnFieldsSelector");
    if (!selector.ok()) return selector.status();
    q.return_fields_selector = std::move(selector).value();
  }
  if (pos != message.size()) {
    return Bad(std::to_string(message.size() - pos) + " trailing bytes after the documents");
  }
  return q;
}

Result<Request> OpQueryToRequest(OpQuery query) {
  const std::string& ns = query.full_collection_name;
  size_t dot = ns.find('.');
  constexpr std::string_view kCmd = ".$cmd";
  bool is_command = dot != std::string::npos && dot > 0 &&
                    std::string_view(ns).substr(dot) == kCmd;
  if (!is_command) {
    // mongod 5.1+ removed OP_QUERY find; it reports the operation the driver meant.
    std::string op = (query.flags & kQueryExhaust) ? "find (exhaust)" : "find";
    return Status(kUnsupportedOpQueryCommand,
                  "Unsupported OP_QUERY command: " + op + " on namespace '" + ns +
                      "'. The client driver may require an upgrade. For more details see "
                      "https://dochub.mongodb.org/core/legacy-opcode-removal");
  }
  Request req;
  req.legacy_op_query = true;
  req.db = ns.substr(0, dot);

  bson::Document cmd = std::move(query.query);
  bson::Document read_pref_container;
  if (!cmd.empty()) {
    const bson::Field& first = cmd.at(0);
    if ((first.name == "$query" || first.name == "query") && first.value.is_document()) {
      if (const bson::Value* rp = cmd.Get("$readPreference")) {
        read_pref_container.Append("$readPreference", *rp);
      }
      bson::Document inner = first.value.as_document();
      cmd = std::move(inner);
    } else if (const bson::Value* qo = cmd.Get("$queryOptions"); qo && qo->is_document()) {
      read_pref_container = qo->as_document();
      cmd.Remove("$queryOptions");
    }
  }
  if (cmd.Has("$db")) return Status(kDollarDbInOpQuery, "$db is not allowed in OP_QUERY requests");
  if (!read_pref_container.empty()) {
    for (bson::Field& f : read_pref_container.mutable_fields()) {
      cmd.Set(f.name, std::move(f.value));
    }
  } else if (!cmd.Has("$readPreference") && (query.flags & kQuerySecondaryOk)) {
    cmd.Append("$readPreference", bson::Document{{"mode", "secondaryPreferred"}});
  }
  cmd.Append("$db", req.db);
  req.command = std::move(cmd);
  return req;
}

std::string SerializeOpReply(int32_t request_id, int32_t response_to, const bson::Document& doc,
                             int32_t response_flags) {
  std::string out;
  out.reserve(kHeaderSize + 20 + bson::EncodedSize(doc));
  AppendHeader({0, request_id, response_to, static_cast<int32_t>(OpCode::kReply)}, &out);
  AppendInt32LE(response_flags, &out);
  AppendInt64LE(0, &out);  // cursorID
  AppendInt32LE(0, &out);  // startingFrom
  AppendInt32LE(1, &out);  // numberReturned
  bson::EncodeTo(doc, &out);
  PatchInt32LE(static_cast<int32_t>(out.size()), 0, &out);
  return out;
}

}  // namespace eddy::wire
