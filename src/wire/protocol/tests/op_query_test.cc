#include "wire/protocol/op_query.h"

#include <gtest/gtest.h>

#include "bson/json.h"
#include "wire/protocol/compression.h"
#include "wire/protocol/inbound.h"
#include "wire/protocol/op_msg.h"
#include "wire/protocol/tests/test_util.h"

namespace eddy::wire {
namespace {

using namespace testing;  // NOLINT

std::string Shell(const bson::Document& d) { return bson::ToJson(d, bson::JsonMode::kShell); }

// Reads the single document of an OP_REPLY; checks the fixed fields.
bson::Document ReplyDoc(const std::string& bytes, int32_t expect_flags, int32_t response_to) {
  auto h = ParseHeader(bytes);
  EXPECT_TRUE(h.ok());
  EXPECT_EQ(h->op_code, 1);
  EXPECT_EQ(h->response_to, response_to);
  EXPECT_EQ(static_cast<size_t>(h->message_length), bytes.size());
  EXPECT_EQ(ReadInt32LE(bytes.data() + 16), expect_flags);
  EXPECT_EQ(ReadInt32LE(bytes.data() + 20), 0);  // cursorID low
  EXPECT_EQ(ReadInt32LE(bytes.data() + 24), 0);  // cursorID high
  EXPECT_EQ(ReadInt32LE(bytes.data() + 28), 0);  // startingFrom
  EXPECT_EQ(ReadInt32LE(bytes.data() + 32), 1);  // numberReturned
  auto doc = bson::Decode(std::string_view(bytes).substr(36));
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  return doc.ok() ? *doc : bson::Document{};
}

// The handshakes of reference/clients.md §1, and the unwrapping rules of upconvertRequest.
TEST(OpQueryTest, CommandTable) {
  struct Case {
    const char* name;
    int32_t flags;
    const char* ns;
    const char* query;
    const char* db;
    const char* command;
  } cases[] = {
      {"pymongo handshake", 0, "admin.$cmd",
       "{ismaster: 1, client: {driver: {name: 'PyMongo', version: '3.11.0'}}, compression: []}",
       "admin",
       "{ismaster: 1, client: {driver: {name: 'PyMongo', version: '3.11.0'}}, compression: [], "
       "$db: 'admin'}"},
      {"libmongoc handshake with SecondaryOk", 4, "admin.$cmd", "{isMaster: 1, helloOk: true}",
       "admin",
       "{isMaster: 1, helloOk: true, $readPreference: {mode: 'secondaryPreferred'}, "
       "$db: 'admin'}"},
      {"$query wrapper", 0, "admin.$cmd",
       "{$query: {hello: 1}, $readPreference: {mode: 'primaryPreferred'}}", "admin",
       "{hello: 1, $readPreference: {mode: 'primaryPreferred'}, $db: 'admin'}"},
      {"query wrapper with SecondaryOk keeps the explicit preference", 4, "admin.$cmd",
       "{query: {hello: 1}, $readPreference: {mode: 'nearest'}}", "admin",
       "{hello: 1, $readPreference: {mode: 'nearest'}, $db: 'admin'}"},
      {"$query wrapper without preference", 0, "shop.$cmd", "{$query: {count: 'c'}}", "shop",
       "{count: 'c', $db: 'shop'}"},
      {"$queryOptions", 0, "admin.$cmd",
       "{ping: 1, $queryOptions: {$readPreference: {mode: 'secondary'}}}", "admin",
       "{ping: 1, $readPreference: {mode: 'secondary'}, $db: 'admin'}"},
      {"explicit preference and SecondaryOk", 4, "a.$cmd",
       "{ping: 1, $readPreference: {mode: 'primary'}}", "a",
       "{ping: 1, $readPreference: {mode: 'primary'}, $db: 'a'}"},
      {"any command on any database", 0, "my-db.$cmd", "{find: 'c', filter: {a: 1}}", "my-db",
       "{find: 'c', filter: {a: 1}, $db: 'my-db'}"},
      {"empty command document", 0, "admin.$cmd", "{}", "admin", "{$db: 'admin'}"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto in = ParseInbound(OpQueryBytes(c.flags, c.ns, Bson(c.query), "", 31));
    ASSERT_EQ(in.action, Inbound::Action::kDispatch) << in.error.ToString();
    EXPECT_TRUE(in.request.legacy_op_query);
    EXPECT_FALSE(in.more_to_come);
    EXPECT_EQ(in.op_code, 2004);
    EXPECT_EQ(in.request.db, c.db);
    EXPECT_EQ(Shell(in.request.command), Shell(J(c.command)));
  }
}

TEST(OpQueryTest, ParsesAllFieldsAndSelector) {
  std::string rest = I32(4) + "admin.$cmd" + std::string(1, '\0') + I32(3) + I32(-1) +
                     Bson("{isMaster: 1}") + Bson("{a: 1}");
  auto q = ParseOpQuery(Message(2004, rest));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->flags, 4);
  EXPECT_EQ(q->full_collection_name, "admin.$cmd");
  EXPECT_EQ(q->number_to_skip, 3);
  EXPECT_EQ(q->number_to_return, -1);
  EXPECT_EQ(Shell(q->query), "{isMaster: 1}");
  ASSERT_TRUE(q->return_fields_selector.has_value());
  EXPECT_EQ(Shell(*q->return_fields_selector), "{a: 1}");
}

TEST(OpQueryTest, ErrorTable) {
  std::string good = Bson("{ismaster: 1}");
  std::string bad_type = good;
  bad_type[4] = 0x7f;
  struct Case {
    const char* name;
    std::string message;
    int code;
    const char* needle;
  } cases[] = {
      {"truncated before flags", Message(2004, "\x01\x02"), 17, "truncated before flags"},
      {"name without NUL", Message(2004, I32(0) + "admin.$cmd"), 17, "not NUL-terminated"},
      {"empty name", Message(2004, I32(0) + std::string(1, '\0') + I32(0) + I32(1) + good), 17,
       "empty fullCollectionName"},
      {"truncated skip/return",
       Message(2004, I32(0) + "a.$cmd" + std::string(1, '\0') + I32(0)), 17,
       "numberToSkip"},
      {"no query", OpQueryBytes(0, "a.$cmd", ""), 17, "truncated query length"},
      {"query length lies", OpQueryBytes(0, "a.$cmd", I32(500) + good.substr(4)), 17,
       "query length 500"},
      {"invalid BSON query", OpQueryBytes(0, "a.$cmd", bad_type), 22,
       "invalid BSON in OP_QUERY query"},
      {"invalid BSON selector", OpQueryBytes(0, "a.$cmd", good, bad_type), 22,
       "returnFieldsSelector"},
      {"trailing bytes", OpQueryBytes(0, "a.$cmd", good, good + "zz"), 17, "2 trailing bytes"},
      {"collection query (PyMongo exhaust find)", OpQueryBytes(64, "shop.orders", Bson("{}")),
       352, "Unsupported OP_QUERY command: find (exhaust)"},
      {"collection query", OpQueryBytes(0, "shop.orders", Bson("{a: 1}")), 352,
       "namespace 'shop.orders'"},
      {"no dot in namespace", OpQueryBytes(0, "$cmd", good), 352, "Unsupported OP_QUERY"},
      {"$cmd without db", OpQueryBytes(0, ".$cmd", good), 352, "Unsupported OP_QUERY"},
      {"$db in an OP_QUERY command", OpQueryBytes(0, "a.$cmd", Bson("{ping: 1, $db: 'x'}")),
       40621, "$db is not allowed in OP_QUERY requests"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto in = ParseInbound(c.message);
    EXPECT_EQ(in.action, Inbound::Action::kReply) << in.error.ToString();
    EXPECT_EQ(in.error.code_number(), c.code) << in.error.ToString();
    EXPECT_NE(in.error.message().find(c.needle), std::string::npos) << in.error.message();
  }
}

TEST(OpQueryTest, ErrorReplyIsQueryFailure) {
  auto in = ParseInbound(OpQueryBytes(0, "shop.orders", Bson("{}"), "", 77));
  ASSERT_EQ(in.action, Inbound::Action::kReply);
  bson::Document doc = ReplyDoc(SerializeError(in, 5), kReplyQueryFailure, 77);
  ASSERT_TRUE(doc.Get("$err") && doc.Get("$err")->is_string());
  EXPECT_EQ(doc.Get("code")->as_int32(), 352);
  EXPECT_EQ(doc.Get("ok")->as_double_exact(), 0.0);
}

TEST(OpQueryTest, ResponseIsOpReply) {
  auto in = ParseInbound(OpQueryBytes(0, "admin.$cmd", Bson("{ismaster: 1}"), "", 9));
  ASSERT_EQ(in.action, Inbound::Action::kDispatch);
  bson::Document body = J("{ismaster: true, maxWireVersion: 21, ok: 1.0}");
  bson::Document got = ReplyDoc(SerializeResponse(in, 1, body), 0, 9);
  EXPECT_EQ(got, body);
}

TEST(OpQueryTest, SerializeOpReplyBytes) {
  std::string bytes = SerializeOpReply(3, 4, J("{ok: 1}"));
  std::string doc = Bson("{ok: 1}");
  ASSERT_EQ(bytes.size(), 36 + doc.size());
  EXPECT_EQ(bytes.substr(36), doc);
  EXPECT_EQ(ReadInt32LE(bytes.data() + 4), 3);
  EXPECT_EQ(ReadInt32LE(bytes.data() + 8), 4);
}

// ---------------------------------------------------------------------------------------------
// OP_COMPRESSED

TEST(CompressionTest, Names) {
  EXPECT_TRUE(SupportsCompressor("zlib"));
  EXPECT_TRUE(SupportsCompressor("snappy"));
  EXPECT_TRUE(SupportsCompressor("zstd"));
  EXPECT_FALSE(SupportsCompressor("noop"));
  EXPECT_FALSE(SupportsCompressor("lz4"));
  EXPECT_FALSE(SupportsCompressor(""));
  EXPECT_EQ(CompressorName(2), "zlib");
  EXPECT_EQ(CompressorName(9), "compressor 9");
}

TEST(CompressionTest, EveryCompressorRoundTrips) {
  for (uint8_t id : {0, 1, 2, 3}) {
    SCOPED_TRACE(CompressorName(id));
    std::string big(5000, 'x');  // compressible
    bson::Document cmd = J("{insert: 'c', $db: 'd'}");
    std::string plain = OpMsgBytes(0, Body(bson::Encode(cmd)) +
                                          Seq("documents", {bson::Encode(bson::Document{
                                                               {"_id", 1}, {"s", big}})}),
                                   321);
    std::string wire = Compress(plain, id);
    auto h = ParseHeader(wire);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->op_code, 2012);
    EXPECT_EQ(h->request_id, 321);
    if (id != 0) {
      EXPECT_LT(wire.size(), plain.size());
    }
    auto in = ParseInbound(wire);
    ASSERT_EQ(in.action, Inbound::Action::kDispatch) << in.error.ToString();
    EXPECT_EQ(in.compressor, std::optional<uint8_t>(id));
    EXPECT_EQ(in.op_code, 2013);
    EXPECT_EQ(in.header.request_id, 321);
    EXPECT_EQ(in.request.command.Get("documents")->as_array().size(), 1u);

    // The reply is compressed with the same compressor and decompresses to the plain reply.
    bson::Document reply_body = J("{n: 1, ok: 1.0}");
    std::string reply = SerializeResponse(in, 8, reply_body);
    auto rh = ParseHeader(reply);
    ASSERT_TRUE(rh.ok());
    EXPECT_EQ(rh->op_code, 2012);
    auto rc = ParseOpCompressed(reply);
    ASSERT_TRUE(rc.ok());
    EXPECT_EQ(rc->compressor_id, id);
    auto original = Decompress(*rh, *rc);
    ASSERT_TRUE(original.ok()) << original.status().ToString();
    EXPECT_EQ(*original, SerializeOpMsg(8, 321, reply_body));
  }
}

TEST(CompressionTest, HandshakeRepliesStayUncompressed) {
  for (const char* cmd : {"{hello: 1, $db: 'admin'}", "{isMaster: 1, $db: 'admin'}",
                          "{saslStart: 1, $db: 'admin'}", "{saslContinue: 1, $db: 'admin'}"}) {
    auto in = ParseInbound(Compress(OpMsgBytes(0, Body(Bson(cmd))), 2));
    ASSERT_EQ(in.action, Inbound::Action::kDispatch) << cmd;
    Request moved = std::move(in.request);  // as the server does before replying
    (void)moved;
    EXPECT_EQ(ParseHeader(SerializeResponse(in, 1, J("{ok: 1}")))->op_code, 2013) << cmd;
  }
  // A compressed OP_QUERY is answered with a compressed OP_REPLY.
  auto in = ParseInbound(Compress(OpQueryBytes(0, "a.$cmd", Bson("{ping: 1}")), 1));
  ASSERT_EQ(in.action, Inbound::Action::kDispatch) << in.error.ToString();
  EXPECT_TRUE(in.request.legacy_op_query);
  std::string reply = SerializeResponse(in, 1, J("{ok: 1}"));
  auto rc = ParseOpCompressed(reply);
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(rc->original_op_code, 1);
}

TEST(CompressionTest, ErrorsClose) {
  std::string plain = OpMsgBytes(0, Body(Bson("{ping: 1, $db: 'a'}")));
  std::string zlib = Compress(plain, 2);
  auto with_prefix = [&](int32_t original, int32_t size, uint8_t id, const std::string& payload) {
    return Message(2012, I32(original) + I32(size) + std::string(1, static_cast<char>(id)) +
                             payload);
  };
  std::string body = plain.substr(16);
  std::string corrupt = zlib;
  corrupt[corrupt.size() - 3] ^= 0x55;
  struct Case {
    const char* name;
    std::string message;
    const char* needle;
  } cases[] = {
      {"too short", Message(2012, "\x01\x02\x03"), "too short"},
      {"unknown compressor", with_prefix(2013, static_cast<int32_t>(body.size()), 9, body),
       "unknown compressor id 9"},
      {"noop size mismatch", with_prefix(2013, static_cast<int32_t>(body.size()) + 1, 0, body),
       "uncompressedSize says"},
      {"negative uncompressedSize", with_prefix(2013, -1, 0, body), "uncompressedSize -1"},
      {"huge uncompressedSize", with_prefix(2013, 48'000'000, 0, body),
       "uncompressedSize 48000000"},
      {"nested OP_COMPRESSED", with_prefix(2012, static_cast<int32_t>(body.size()), 0, body),
       "OP_COMPRESSED itself"},
      {"corrupt zlib", corrupt, "zlib"},
      {"zlib bigger than declared",
       with_prefix(2013, 10, 2, zlib.substr(25)), "more than uncompressedSize"},
      {"garbage snappy", with_prefix(2013, 100, 1, "\xff\xff\xff\xff\xff\xff"), "snappy"},
      {"garbage zstd", with_prefix(2013, 100, 3, "not zstd at all"), "zstd error"},
      {"compressed legacy opcode", with_prefix(2002, static_cast<int32_t>(body.size()), 0, body),
       "OP_INSERT"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto in = ParseInbound(c.message);
    EXPECT_EQ(in.action, Inbound::Action::kClose);
    EXPECT_NE(in.error.message().find(c.needle), std::string::npos) << in.error.message();
  }
}

TEST(CompressionTest, InvalidBsonInsideCompressedMessageGetsAnErrorReply) {
  std::string doc = Bson("{ping: 1, $db: 'a'}");
  doc[4] = 0x7f;
  auto in = ParseInbound(Compress(OpMsgBytes(0, Body(doc), 66), 3));
  ASSERT_EQ(in.action, Inbound::Action::kReply);
  EXPECT_EQ(in.error.code(), ErrorCode::kInvalidBSON);
  std::string reply = SerializeError(in, 1);
  auto h = ParseHeader(reply);
  EXPECT_EQ(h->op_code, 2012);
  EXPECT_EQ(h->response_to, 66);
}

}  // namespace
}  // namespace eddy::wire
