#include "wire/protocol/op_msg.h"

#include <gtest/gtest.h>

#include "bson/json.h"
#include "wire/protocol/crc32c.h"
#include "wire/protocol/frame.h"
#include "wire/protocol/inbound.h"
#include "wire/protocol/tests/test_util.h"

namespace eddy::wire {
namespace {

using namespace testing;  // NOLINT

std::string Shell(const bson::Document& d) { return bson::ToJson(d, bson::JsonMode::kShell); }

// ---------------------------------------------------------------------------------------------
// Header

TEST(FrameTest, ParseHeaderFields) {
  std::string bytes;
  AppendHeader({100, 42, 7, 2013}, &bytes);
  auto h = ParseHeader(bytes);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->message_length, 100);
  EXPECT_EQ(h->request_id, 42);
  EXPECT_EQ(h->response_to, 7);
  EXPECT_EQ(h->op_code, 2013);
}

TEST(FrameTest, ParseHeaderLengthBounds) {
  struct Case {
    int32_t length;
    bool ok;
  } cases[] = {{16, true},        {17, true},         {48'000'000, true}, {15, false},
               {0, false},        {-1, false},        {48'000'001, false}, {INT32_MAX, false},
               {INT32_MIN, false}};
  for (const Case& c : cases) {
    std::string bytes;
    AppendHeader({c.length, 1, 0, 2013}, &bytes);
    auto h = ParseHeader(bytes);
    EXPECT_EQ(h.ok(), c.ok) << c.length;
    if (!h.ok()) {
      EXPECT_EQ(h.status().code(), ErrorCode::kProtocolError);
      EXPECT_NE(h.status().message().find(std::to_string(c.length)), std::string::npos)
          << h.status().message();
      EXPECT_NE(h.status().message().find("maxMessageSizeBytes"), std::string::npos);
    }
  }
}

TEST(FrameTest, ParseHeaderCustomMaxAndTruncation) {
  std::string bytes;
  AppendHeader({1000, 1, 0, 2013}, &bytes);
  EXPECT_FALSE(ParseHeader(bytes, 999).ok());
  EXPECT_TRUE(ParseHeader(bytes, 1000).ok());
  for (size_t n = 0; n < kHeaderSize; ++n) {
    auto h = ParseHeader(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(h.ok());
    EXPECT_NE(h.status().message().find("truncated"), std::string::npos);
  }
}

TEST(FrameTest, OpCodeNames) {
  EXPECT_EQ(OpCodeName(2013), "OP_MSG");
  EXPECT_EQ(OpCodeName(2004), "OP_QUERY");
  EXPECT_EQ(OpCodeName(2012), "OP_COMPRESSED");
  EXPECT_EQ(OpCodeName(1), "OP_REPLY");
  EXPECT_EQ(OpCodeName(2010), "opcode 2010");
}

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
}

// ---------------------------------------------------------------------------------------------
// OP_MSG parsing: successes

TEST(OpMsgTest, BodyOnly) {
  auto in = ParseInbound(OpMsgBytes(0, Body(Bson("{ping: 1, $db: 'test'}")), 99));
  ASSERT_EQ(in.action, Inbound::Action::kDispatch) << in.error.ToString();
  EXPECT_EQ(in.header.request_id, 99);
  EXPECT_EQ(in.request.db, "test");
  EXPECT_EQ(Shell(in.request.command), Shell(J("{ping: 1, $db: 'test'}")));
  EXPECT_FALSE(in.request.legacy_op_query);
  EXPECT_FALSE(in.request.more_to_come);
  EXPECT_FALSE(in.request.exhaust_allowed);
  EXPECT_FALSE(in.compressor.has_value());
}

TEST(OpMsgTest, SequencesAreAppendedAsArrays) {
  std::string sections = Body(Bson("{insert: 'c', ordered: true, $db: 'shop'}")) +
                         Seq("documents", {Bson("{_id: 1}"), Bson("{_id: 2, a: [1, 2]}"),
                                           Bson("{_id: 3, n: null}")});
  auto in = ParseInbound(OpMsgBytes(0, sections));
  ASSERT_EQ(in.action, Inbound::Action::kDispatch) << in.error.ToString();
  EXPECT_EQ(in.request.db, "shop");
  EXPECT_EQ(Shell(in.request.command),
            Shell(J("{insert: 'c', ordered: true, $db: 'shop', documents: [{_id: 1}, "
                    "{_id: 2, a: [1, 2]}, {_id: 3, n: null}]}")));
}

TEST(OpMsgTest, SequenceBeforeBodyAndTwoSequences) {
  std::string sections = Seq("updates", {Bson("{q: {}, u: {$set: {a: 1}}}")}) +
                         Body(Bson("{update: 'c', $db: 'x'}")) + Seq("other", {});
  auto msg = ParseOpMsg(OpMsgBytes(0, sections));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  ASSERT_EQ(msg->sequences.size(), 2u);
  EXPECT_EQ(msg->sequences[0].identifier, "updates");
  EXPECT_EQ(msg->sequences[1].identifier, "other");
  EXPECT_TRUE(msg->sequences[1].documents.empty());
  auto req = OpMsgToRequest(std::move(msg).value());
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(Shell(req->command),
            Shell(J("{update: 'c', $db: 'x', updates: [{q: {}, u: {$set: {a: 1}}}], other: []}")));
}

TEST(OpMsgTest, FlagBits) {
  struct Case {
    uint32_t flags;
    bool more_to_come, exhaust_allowed;
  } cases[] = {{0, false, false},
               {kMoreToCome, true, false},
               {kExhaustAllowed, false, true},
               {kMoreToCome | kExhaustAllowed, true, true},
               {1u << 17, false, false},  // unknown optional bits are ignored
               {0xFFFF0000u, false, true}};
  for (const Case& c : cases) {
    auto in = ParseInbound(OpMsgBytes(c.flags, Body(Bson("{insert: 'c', $db: 'd'}"))));
    ASSERT_EQ(in.action, Inbound::Action::kDispatch) << c.flags << " " << in.error.ToString();
    EXPECT_EQ(in.more_to_come, c.more_to_come);
    EXPECT_EQ(in.request.more_to_come, c.more_to_come);
    EXPECT_EQ(in.request.exhaust_allowed, c.exhaust_allowed);
  }
}

TEST(OpMsgTest, ChecksumVerified) {
  std::string sections = Body(Bson("{ping: 1, $db: 'admin'}"));
  auto good = ParseInbound(OpMsgWithCrc(0, sections));
  ASSERT_EQ(good.action, Inbound::Action::kDispatch) << good.error.ToString();
  EXPECT_EQ(good.request.db, "admin");

  auto bad = ParseInbound(OpMsgWithCrc(0, sections, /*corrupt=*/true));
  EXPECT_EQ(bad.action, Inbound::Action::kClose);
  EXPECT_EQ(bad.error.code_number(), 288);
  EXPECT_NE(bad.error.message().find("checksum"), std::string::npos);

  // A corrupted byte anywhere (header included) is caught.
  std::string m = OpMsgWithCrc(0, sections);
  m[5] ^= 0x20;  // requestID
  EXPECT_EQ(ParseOpMsg(m).status().code_number(), 288);
}

TEST(OpMsgTest, SerializeRoundTrip) {
  bson::Document body = J("{ok: 1.0, n: NumberLong(5), s: 'x', $db: 'a'}");
  std::string bytes = SerializeOpMsg(11, 99, body);
  auto h = ParseHeader(bytes);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(static_cast<size_t>(h->message_length), bytes.size());
  EXPECT_EQ(h->request_id, 11);
  EXPECT_EQ(h->response_to, 99);
  EXPECT_EQ(h->op_code, 2013);
  EXPECT_EQ(ReadInt32LE(bytes.data() + 16), 0);
  EXPECT_EQ(bytes[20], '\0');
  auto msg = ParseOpMsg(bytes);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->body, body);
  // moreToCome survives; checksumPresent is never emitted.
  auto streamed = ParseOpMsg(SerializeOpMsg(1, 2, body, kMoreToCome | kChecksumPresent));
  ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
  EXPECT_EQ(streamed->flags, kMoreToCome);
}

// ---------------------------------------------------------------------------------------------
// OP_MSG parsing: every error, with its code and the action the server takes

struct ErrorCase {
  const char* name;
  std::string message;
  int code;
  Inbound::Action action;
  const char* needle;  // a phrase the message must contain
};

std::vector<ErrorCase> OpMsgErrorCases() {
  const std::string ping = Bson("{ping: 1, $db: 'test'}");
  std::string bad_type = ping;
  bad_type[4] = 0x7f;  // the type byte of the first element: not a BSON type
  std::string lying_doc = ping;
  lying_doc[0] += 10;  // the document claims more bytes than the section has
  std::vector<ErrorCase> cases = {
      {"illegal required flag bit 2", OpMsgBytes(1u << 2, Body(ping)), 223,
       Inbound::Action::kClose, "illegal flags value: Flag 4"},
      {"illegal required flag bit 15", OpMsgBytes(1u << 15, Body(ping)), 223,
       Inbound::Action::kClose, "Flag 32768"},
      {"no body", OpMsgBytes(0, Seq("documents", {Bson("{a: 1}")})), 40587,
       Inbound::Action::kReply, "must have a body"},
      {"no sections at all", OpMsgBytes(0, ""), 40587, Inbound::Action::kReply,
       "must have a body"},
      {"two bodies", OpMsgBytes(0, Body(ping) + Body(ping)), 40430, Inbound::Action::kReply,
       "Multiple body sections"},
      {"section kind 2", OpMsgBytes(0, Body(ping) + std::string(1, '\2') + ping), 40432,
       Inbound::Action::kReply, "Unknown section kind 2"},
      {"section kind 255", OpMsgBytes(0, std::string(1, '\xff') + ping), 40432,
       Inbound::Action::kReply, "Unknown section kind 255"},
      {"duplicate sequence",
       OpMsgBytes(0, Body(ping) + Seq("documents", {}) + Seq("documents", {})), 40431,
       Inbound::Action::kReply, "Duplicate document sequence: documents"},
      {"three sequences",
       OpMsgBytes(0, Body(ping) + Seq("a", {}) + Seq("b", {}) + Seq("c", {})), 233,
       Inbound::Action::kClose, "Too many document sequences"},
      {"sequence name also in body",
       OpMsgBytes(0, Body(Bson("{insert: 'c', documents: [], $db: 'd'}")) +
                         Seq("documents", {Bson("{a: 1}")})),
       40433, Inbound::Action::kReply, "Duplicate field between body and document sequence"},
      {"no $db", OpMsgBytes(0, Body(Bson("{ping: 1}"))), 40571, Inbound::Action::kReply,
       "require a $db argument"},
      {"$db not a string", OpMsgBytes(0, Body(Bson("{ping: 1, $db: 1}"))), 14,
       Inbound::Action::kReply, "$db must be a string, not int"},
      {"body truncated mid-document",
       OpMsgBytes(0, Body(ping.substr(0, ping.size() - 3))), 17, Inbound::Action::kReply,
       "exceeds"},
      {"body length field truncated", OpMsgBytes(0, std::string(1, '\0') + "\x10\x00"), 17,
       Inbound::Action::kReply, "truncated document length"},
      {"body length lies", OpMsgBytes(0, Body(lying_doc)), 17, Inbound::Action::kReply,
       "exceeds"},
      {"body length below 5", OpMsgBytes(0, Body(I32(4))), 17, Inbound::Action::kReply,
       "document length 4"},
      {"negative body length", OpMsgBytes(0, Body(I32(-20) + std::string(20, 'x'))), 17,
       Inbound::Action::kReply, "document length -20"},
      {"invalid BSON element type", OpMsgBytes(0, Body(bad_type)), 22, Inbound::Action::kReply,
       "invalid BSON in the OP_MSG body section"},
      {"invalid BSON in a sequence",
       OpMsgBytes(0, Body(ping) + Seq("documents", {Bson("{a: 1}"), bad_type})), 22,
       Inbound::Action::kReply, "document sequence 'documents'"},
      {"sequence size lies",
       OpMsgBytes(0, Body(ping) + std::string(1, '\1') + I32(1000) + "documents" +
                         std::string(1, '\0')),
       17, Inbound::Action::kReply, "document sequence size 1000"},
      {"sequence size below 5", OpMsgBytes(0, Body(ping) + std::string(1, '\1') + I32(3)), 17,
       Inbound::Action::kReply, "document sequence size 3"},
      {"sequence size truncated", OpMsgBytes(0, Body(ping) + std::string(1, '\1') + "\x05"), 17,
       Inbound::Action::kReply, "truncated document sequence size"},
      {"sequence identifier without NUL",
       OpMsgBytes(0, Body(ping) + std::string(1, '\1') + I32(8) + "docs"), 17,
       Inbound::Action::kReply, "not NUL-terminated"},
      {"sequence document overruns the sequence",
       OpMsgBytes(0, Body(ping) + std::string(1, '\1') + I32(4 + 2 + 5) + "d" +
                         std::string(1, '\0') + Bson("{a: 1}")),
       17, Inbound::Action::kReply, "document sequence 'd'"},
      {"checksum flag without room", Message(2013, I32(1) + "\x01\x02"), 17,
       Inbound::Action::kReply, "no room for the 4-byte checksum"},
      {"too short for flagBits", Message(2013, "\x00\x00"), 17, Inbound::Action::kClose,
       "too short for flagBits"},
  };
  return cases;
}

TEST(OpMsgTest, ErrorTable) {
  for (const ErrorCase& c : OpMsgErrorCases()) {
    SCOPED_TRACE(c.name);
    auto in = ParseInbound(c.message);
    EXPECT_EQ(in.action, c.action) << in.error.ToString();
    EXPECT_EQ(in.error.code_number(), c.code) << in.error.ToString();
    EXPECT_NE(in.error.message().find(c.needle), std::string::npos) << in.error.message();
    EXPECT_EQ(in.header.request_id, 7);
  }
}

TEST(OpMsgTest, ErrorReplyAnswersTheRequest) {
  auto in = ParseInbound(OpMsgBytes(0, Body(Bson("{ping: 1}")), 1234));
  ASSERT_EQ(in.action, Inbound::Action::kReply);
  std::string reply = SerializeError(in, 55);
  auto h = ParseHeader(reply);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->op_code, 2013);
  EXPECT_EQ(h->response_to, 1234);
  EXPECT_EQ(h->request_id, 55);
  auto msg = ParseOpMsg(reply);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(Shell(msg->body),
            Shell(J("{ok: 0.0, errmsg: 'OP_MSG requests require a $db argument', code: 40571, "
                    "codeName: 'Location40571'}")));
}

TEST(OpMsgTest, ErrorsKeepMoreToCome) {
  auto in = ParseInbound(OpMsgBytes(kMoreToCome, Body(Bson("{ping: 1}"))));
  EXPECT_EQ(in.action, Inbound::Action::kReply);
  EXPECT_TRUE(in.more_to_come);  // the server must not answer it
}

TEST(OpMsgTest, PeekFlags) {
  EXPECT_FALSE(PeekOpMsgFlags("short").has_value());
  EXPECT_EQ(PeekOpMsgFlags(OpMsgBytes(kMoreToCome, "")).value(), kMoreToCome);
}

TEST(InboundTest, FrameLevelProblemsClose) {
  std::string ping = OpMsgBytes(0, Body(Bson("{ping: 1, $db: 'a'}")));
  struct Case {
    const char* name;
    std::string message;
    const char* needle;
  } cases[] = {
      {"length mismatch", ping.substr(0, ping.size() - 1), "does not match"},
      {"header truncated", ping.substr(0, 10), "truncated"},
      {"unknown opcode 2010", Message(2010, "abc"), "unsupported opcode 2010"},
      {"unknown opcode 0", Message(0, ""), "unsupported opcode 0"},
      {"OP_REPLY from a client", Message(1, std::string(20, '\0')), "server-to-client"},
      {"legacy OP_INSERT", Message(2002, std::string(20, '\0')), "OP_INSERT (2002)"},
      {"legacy OP_GET_MORE", Message(2005, std::string(20, '\0')), "OP_GET_MORE"},
      {"legacy OP_KILL_CURSORS", Message(2007, ""), "OP_KILL_CURSORS"},
      {"legacy OP_UPDATE", Message(2001, ""), "OP_UPDATE"},
      {"legacy OP_DELETE", Message(2006, ""), "OP_DELETE"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto in = ParseInbound(c.message);
    EXPECT_EQ(in.action, Inbound::Action::kClose);
    EXPECT_NE(in.error.message().find(c.needle), std::string::npos) << in.error.message();
  }
}

// Every prefix and many single-byte mutations of valid messages: never a crash, always a
// decision (the fuzz target does this at scale).
TEST(InboundTest, TruncationsAndMutationsNeverCrash) {
  std::vector<std::string> seeds = {
      OpMsgBytes(0, Body(Bson("{insert: 'c', $db: 'd'}")) +
                        Seq("documents", {Bson("{_id: 1, a: {b: [1, 'x', null]}}")})),
      OpMsgWithCrc(kExhaustAllowed, Body(Bson("{hello: 1, $db: 'admin'}"))),
      OpQueryBytes(0, "admin.$cmd", Bson("{ismaster: 1, client: {driver: {name: 'x'}}}")),
  };
  int dispatched = 0;
  for (const std::string& seed : seeds) {
    for (size_t n = 0; n <= seed.size(); ++n) {
      std::string m = seed.substr(0, n);
      if (m.size() >= 4) PatchInt32LE(static_cast<int32_t>(m.size()), 0, &m);
      auto in = ParseInbound(m);
      if (in.action == Inbound::Action::kDispatch) ++dispatched;
    }
    uint32_t rng = 12345;
    for (int i = 0; i < 3000; ++i) {
      std::string m = seed;
      rng = rng * 1103515245u + 12345u;
      size_t pos = 16 + (rng >> 8) % (m.size() - 16);
      rng = rng * 1103515245u + 12345u;
      m[pos] = static_cast<char>(rng >> 16);
      auto in = ParseInbound(m);
      if (in.action != Inbound::Action::kDispatch) {
        EXPECT_FALSE(in.error.ok());
      }
    }
  }
  EXPECT_GE(dispatched, 3);
}

}  // namespace
}  // namespace eddy::wire
