#include "wire/protocol/op_msg.h"

#include "bson/codec.h"
#include "wire/protocol/crc32c.h"

namespace eddy::wire {

namespace {

constexpr uint32_t kAllSupportedFlags = kChecksumPresent | kMoreToCome | kExhaustAllowed;

Status Truncated(std::string what, size_t offset) {
  return Status(ErrorCode::kProtocolError,
                "invalid OP_MSG: " + what + " at byte " + std::to_string(offset));
}

// Reads one BSON document starting at `pos` of `bytes` (which ends where its section ends), and
// advances pos. `where` names the section for the error message.
Result<bson::Document> ReadDocument(std::string_view bytes, size_t* pos, size_t base_offset,
                                    const std::string& where) {
  size_t remaining = bytes.size() - *pos;
  if (remaining < 4) return Truncated("truncated document length in " + where, base_offset + *pos);
  int32_t len = ReadInt32LE(bytes.data() + *pos);
  if (len < 5 || static_cast<size_t>(len) > remaining) {
    return Truncated("document length " + std::to_string(len) + " in " + where + " exceeds the " +
                         std::to_string(remaining) + " bytes left",
                     base_offset + *pos);
  }
  auto doc = bson::Decode(bytes.substr(*pos, static_cast<size_t>(len)));
  if (!doc.ok()) {
    return Status(ErrorCode::kInvalidBSON,
                  "invalid BSON in " + where + " at byte " + std::to_string(base_offset + *pos) +
                      ": " + std::string(doc.status().message()));
  }
  *pos += static_cast<size_t>(len);
  return std::move(doc).value();
}

}  // namespace

bool IsConnectionFatal(const Status& status) {
  ErrorCode c = status.code();
  return c == kIllegalOpMsgFlag || c == kTooManyDocumentSequences || c == kChecksumMismatch;
}

std::optional<uint32_t> PeekOpMsgFlags(std::string_view message) {
  if (message.size() < kHeaderSize + 4) return std::nullopt;
  return ReadUInt32LE(message.data() + kHeaderSize);
}

Result<OpMsg> ParseOpMsg(std::string_view message) {
  if (message.size() < kHeaderSize + 4) {
    return Status(ErrorCode::kProtocolError,
                  "invalid OP_MSG: " + std::to_string(message.size()) +
                      " bytes is too short for the header and flagBits (need 20)");
  }
  OpMsg msg;
  msg.flags = ReadUInt32LE(message.data() + kHeaderSize);
  if (uint32_t unknown = msg.flags & ~kAllSupportedFlags & 0xFFFFu; unknown != 0) {
    return Status(kIllegalOpMsgFlag,
                  "Message contains illegal flags value: Flag " + std::to_string(unknown));
  }
  size_t end = message.size();
  if (msg.flags & kChecksumPresent) {
    if (message.size() < kHeaderSize + 4 + 4) {
      return Status(ErrorCode::kProtocolError,
                    "invalid OP_MSG: checksumPresent is set but the message has no room for the "
                    "4-byte checksum");
    }
    end -= 4;
    uint32_t expected = ReadUInt32LE(message.data() + end);
    uint32_t actual = Crc32c(message.substr(0, end));
    if (expected != actual) {
      return Status(kChecksumMismatch, "OP_MSG checksum does not match contents (expected " +
                                           std::to_string(expected) + ", computed " +
                                           std::to_string(actual) + ")");
    }
  }

  const size_t sections_begin = kHeaderSize + 4;
  std::string_view sections = message.substr(sections_begin, end - sections_begin);
  size_t pos = 0;
  bool have_body = false;
  while (pos < sections.size()) {
    size_t section_offset = sections_begin + pos;
    auto kind = static_cast<uint8_t>(sections[pos++]);
    if (kind == 0) {
      if (have_body) return Status(kMultipleBodySections, "Multiple body sections in message");
      have_body = true;
      auto body = ReadDocument(sections, &pos, sections_begin, "the OP_MSG body section");
      if (!body.ok()) return body.status();
      msg.body = std::move(body).value();
    } else if (kind == 1) {
      if (msg.sequences.size() >= 2) {
        return Status(kTooManyDocumentSequences, "Too many document sequences in OP_MSG");
      }
      if (sections.size() - pos < 4) {
        return Truncated("truncated document sequence size", sections_begin + pos);
      }
      int32_t size = ReadInt32LE(sections.data() + pos);
      if (size < 5 || static_cast<size_t>(size) > sections.size() - pos) {
        return Truncated("document sequence size " + std::to_string(size) +
                             " is invalid for the " + std::to_string(sections.size() - pos) +
                             " bytes left",
                         sections_begin + pos);
      }
      size_t seq_base = sections_begin + pos;
      std::string_view seq = sections.substr(pos, static_cast<size_t>(size));
      pos += static_cast<size_t>(size);
      size_t nul = seq.find('\0', 4);
      if (nul == std::string_view::npos) {
        return Truncated("document sequence identifier is not NUL-terminated", seq_base + 4);
      }
      DocumentSequence ds;
      ds.identifier = std::string(seq.substr(4, nul - 4));
      // The identifier becomes a field name of the command: it must be one.
      if (!IsValidUtf8(ds.identifier)) {
        return Status(ErrorCode::kProtocolError,
                      "invalid OP_MSG: document sequence identifier at byte " +
                          std::to_string(seq_base + 4) + " is not valid UTF-8");
      }
      for (const DocumentSequence& other : msg.sequences) {
        if (other.identifier == ds.identifier) {
          return Status(kDuplicateDocumentSequence,
                        "Duplicate document sequence: " + ds.identifier);
        }
      }
      size_t seq_pos = nul + 1;
      std::string where = "document sequence '" + ds.identifier + "'";
      while (seq_pos < seq.size()) {
        auto doc = ReadDocument(seq, &seq_pos, seq_base, where);
        if (!doc.ok()) return doc.status();
        ds.documents.push_back(std::move(doc).value());
      }
      msg.sequences.push_back(std::move(ds));
    } else {
      return Status(kUnknownSectionKind, "Unknown section kind " + std::to_string(kind) +
                                             " at byte " + std::to_string(section_offset));
    }
  }
  if (!have_body) return Status(kMissingBody, "OP_MSG messages must have a body");
  return msg;
}

Result<Request> OpMsgToRequest(OpMsg msg) {
  Request req;
  req.more_to_come = msg.more_to_come();
  req.exhaust_allowed = msg.exhaust_allowed();
  for (const DocumentSequence& seq : msg.sequences) {
    if (msg.body.Has(seq.identifier)) {
      return Status(kDuplicateBodyAndSequenceField,
                    "Duplicate field between body and document sequence " + seq.identifier);
    }
  }
  const bson::Value* db = msg.body.Get("$db");
  if (db == nullptr) return Status(kMissingDollarDb, "OP_MSG requests require a $db argument");
  if (!db->is_string()) {
    return Status(ErrorCode::kTypeMismatch,
                  "$db must be a string, not " + std::string(bson::TypeName(db->type())));
  }
  req.db = db->as_string();
  req.command = std::move(msg.body);
  for (DocumentSequence& seq : msg.sequences) {
    bson::Array docs;
    docs.reserve(seq.documents.size());
    for (bson::Document& d : seq.documents) docs.emplace_back(std::move(d));
    req.command.Append(std::move(seq.identifier), bson::Value(std::move(docs)));
  }
  return req;
}

std::string SerializeOpMsg(int32_t request_id, int32_t response_to, const bson::Document& body,
                           uint32_t flags) {
  std::string out;
  out.reserve(kHeaderSize + 5 + bson::EncodedSize(body));
  AppendHeader({0, request_id, response_to, static_cast<int32_t>(OpCode::kMsg)}, &out);
  AppendInt32LE(static_cast<int32_t>(flags & ~kChecksumPresent), &out);
  out.push_back('\0');  // section kind 0
  bson::EncodeTo(body, &out);
  PatchInt32LE(static_cast<int32_t>(out.size()), 0, &out);
  return out;
}

}  // namespace eddy::wire
