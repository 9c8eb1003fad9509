// Error messages that quote client bytes stay valid UTF-8 on the wire.
#include <gtest/gtest.h>

#include <string>

#include "bson/codec.h"
#include "wire/protocol/inbound.h"
#include "wire/protocol/op_msg.h"

namespace eddy::wire {
namespace {

TEST(PrintableMessageTest, Table) {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"", ""},
      {"plain ascii", "plain ascii"},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
      {"ping\xfb", "ping\\xfb"},                       // invalid lead byte
      {"a\x80" "b", "a\\x80b"},                        // lone continuation byte
      {"\xc3", "\\xc3"},                               // truncated 2-byte sequence at the end
      {"\xe2\x82", "\\xe2\\x82"},                      // truncated 3-byte sequence
      {"\xc0\xaf", "\\xc0\\xaf"},                      // overlong '/'
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},             // UTF-16 surrogate
      {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},    // past U+10FFFF
      {"\xff\xfe", "\\xff\\xfe"},
      {std::string("nul\0inside", 10), std::string("nul\0inside", 10)},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PrintableMessage(c.in), c.out) << c.in;
  }
}

TEST(PrintableMessageTest, ErrorRepliesDecodeAsValidBson) {
  // A field name that is not UTF-8: the decoder's message quotes it; the reply must still be
  // valid BSON (UTF-8 checked) for drivers to read it.
  std::string body("\x1e\x00\x00\x00\x10ping\xfb\x00\x01\x00\x00\x00\x02$db\x00\x06\x00\x00\x00"
                   "admin\x00\x00",
                   30);
  std::string msg(16, '\0');
  PatchInt32LE(static_cast<int32_t>(OpCode::kMsg), 12, &msg);
  msg += std::string(4, '\0') + std::string(1, '\0') + body;
  PatchInt32LE(static_cast<int32_t>(msg.size()), 0, &msg);
  Inbound in = ParseInbound(msg);
  ASSERT_EQ(in.action, Inbound::Action::kReply) << in.error.ToString();
  std::string reply = SerializeError(in, 5);
  auto parsed = ParseOpMsg(reply);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const bson::Value* errmsg = parsed->body.Get("errmsg");
  ASSERT_NE(errmsg, nullptr);
  EXPECT_NE(errmsg->as_string().find("ping\\xfb"), std::string::npos) << errmsg->as_string();
}

TEST(PrintableMessageTest, SequenceIdentifierMustBeUtf8) {
  // {insert: "c", $db: "d"} plus a kind-1 section named "d\x9ccuments".
  bson::Document body{{"insert", std::string("c")}, {"$db", std::string("d")}};
  std::string seq = std::string("d\x9c" "cuments", 9) + '\0' + bson::Encode(bson::Document{{"a", 1}});
  std::string msg(16, '\0');
  PatchInt32LE(static_cast<int32_t>(OpCode::kMsg), 12, &msg);
  msg += std::string(4, '\0') + '\0' + bson::Encode(body) + '\1';
  std::string size(4, '\0');
  PatchInt32LE(static_cast<int32_t>(4 + seq.size()), 0, &size);
  msg += size + seq;
  PatchInt32LE(static_cast<int32_t>(msg.size()), 0, &msg);
  Inbound in = ParseInbound(msg);
  ASSERT_EQ(in.action, Inbound::Action::kReply) << in.error.ToString();
  EXPECT_NE(in.error.message().find("identifier"), std::string::npos) << in.error.ToString();
  EXPECT_TRUE(IsValidUtf8(ParseOpMsg(SerializeError(in, 1))->body.Get("errmsg")->as_string()));
}

TEST(PrintableMessageTest, IsValidUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("documents"));
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));
  EXPECT_FALSE(IsValidUtf8("d\x9c"));
  EXPECT_FALSE(IsValidUtf8("\xc0\x80"));
}

}  // namespace
}  // namespace eddy::wire
