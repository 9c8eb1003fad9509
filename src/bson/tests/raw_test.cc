#include "bson/raw.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <memory>
#include <random>

#include "bson/codec.h"
#include "bson/compare.h"
#include "bson/json.h"

namespace eddy::bson {
namespace {

Document EveryType() {
  ObjectId oid;
  ObjectId::FromHex("507f1f77bcf86cd799439011", &oid);
  Document scope{{"x", int32_t{1}}};
  return Document{
      {"double", 1.5},
      {"string", Value("héllo")},
      {"embedded_nul", Value(std::string("a\0b", 3))},
      {"empty", Value("")},
      {"doc", Document{{"a", int32_t{1}}, {"b", Document{}}}},
      {"array", Array{int32_t{1}, Value("two"), Array{}, Document{{"x", Value()}}}},
      {"bin", Binary{0, std::string("\x00\x01\xff", 3)}},
      {"bin_old", Binary{2, "abc"}},
      {"undefined", Undefined{}},
      {"oid", oid},
      {"t", true},
      {"date", DateTime{1704067200123}},
      {"null", Value()},
      {"regex", Regex{"^a.*b$", "imx"}},
      {"dbpointer", DBPointer{"db.coll", oid}},
      {"code", Code{"function() { return 1; }"}},
      {"symbol", Symbol{"sym"}},
      {"cws", std::make_shared<const CodeWithScope>(CodeWithScope{"f(x)", scope})},
      {"int32", int32_t{-42}},
      {"ts", Timestamp{1700000000, 7}},
      {"int64", int64_t{1} << 40},
      {"dec", Decimal128::FromString("-1.25E+3")},
      {"min", MinKey{}},
      {"max", MaxKey{}},
  };
}

// Each element of a document, read in place, is the encoding of that field alone.
TEST(RawIteratorTest, ElementsOfEveryTypeMatchTheirFields) {
  Document doc = EveryType();
  std::string bytes = Encode(doc);
  RawIterator it(bytes);
  RawElement e;
  size_t i = 0;
  while (it.Next(&e)) {
    ASSERT_LT(i, doc.size());
    const Field& f = doc.at(i);
    SCOPED_TRACE(f.name);
    EXPECT_EQ(e.name, f.name);
    EXPECT_EQ(e.type, f.value.type());
    std::string value;
    AppendValueTo(f.value, &value);
    EXPECT_EQ(e.value, value);
    EXPECT_EQ(EncodedValueSize(f.value), value.size());
    ++i;
  }
  EXPECT_TRUE(it.status().ok()) << it.status().ToString();
  EXPECT_EQ(i, doc.size());
}

TEST(RawIteratorTest, EmptyDocumentAndTypedReads) {
  std::string empty = Encode(Document{});
  RawIterator it(empty);
  RawElement e;
  EXPECT_FALSE(it.Next(&e));
  EXPECT_TRUE(it.status().ok());

  std::string bytes = Encode(Document{{"s", "abc"}, {"ts", Timestamp{5, 6}}, {"d", DateTime{-7}}});
  RawElement s, ts, d;
  ASSERT_TRUE(FindRawElement(bytes, "s", &s));
  EXPECT_EQ(s.string_value(), "abc");
  ASSERT_TRUE(FindRawElement(bytes, "ts", &ts));
  EXPECT_EQ(ts.timestamp_value(), (Timestamp{5, 6}));
  ASSERT_TRUE(FindRawElement(bytes, "d", &d));
  EXPECT_EQ(d.int64_bits(), -7);
  Status st;
  EXPECT_FALSE(FindRawElement(bytes, "missing", &d, &st));
  EXPECT_TRUE(st.ok());
}

// A dotted path goes through embedded documents only; a missing step, a scalar or an array on
// the way, and malformed bytes all answer false.
TEST(RawIteratorTest, FindRawPathThroughEmbeddedDocuments) {
  std::string bytes = Encode(Document{{"op", "insert"},
                                      {"doc", Document{{"region", "r07"}, {"n", Document{{"x", int32_t{5}}}}}},
                                      {"arr", Array{Value(Document{{"y", int32_t{1}}})}}});
  RawElement e;
  ASSERT_TRUE(FindRawPath(bytes, "doc.region", &e));
  EXPECT_EQ(e.string_value(), "r07");
  ASSERT_TRUE(FindRawPath(bytes, "doc.n.x", &e));
  EXPECT_EQ(e.type, Type::kInt32);
  ASSERT_TRUE(FindRawPath(bytes, "op", &e));
  EXPECT_FALSE(FindRawPath(bytes, "doc.missing", &e));
  EXPECT_FALSE(FindRawPath(bytes, "doc.region.deeper", &e));
  EXPECT_FALSE(FindRawPath(bytes, "arr.0.y", &e));
  EXPECT_FALSE(FindRawPath(bytes.substr(0, bytes.size() - 9), "doc.n.x", &e));
}

// Malformed bytes: a clear InvalidBSON naming the problem, never a read past the buffer.
TEST(RawIteratorTest, MalformedBytesAreErrors) {
  const std::string good = Encode(Document{{"a", "xyz"}, {"b", Document{{"c", int32_t{1}}}}});
  struct Case {
    const char* name;
    std::string bytes;
    const char* message;
  };
  auto with = [&](size_t at, char c) {
    std::string b = good;
    b[at] = c;
    return b;
  };
  std::vector<Case> cases = {
      {"too short", std::string("\x04\x00\x00", 3), "document length"},
      {"length mismatch", with(0, static_cast<char>(good.size() + 1)), "document length"},
      {"no terminating NUL", with(good.size() - 1, 'x'), "document length"},
      {"string length past the end", with(7, 100), "element 'a' of type 2 does not fit"},
      {"string length zero", with(7, 0), "element 'a' of type 2 does not fit"},
      {"EOO type inside", with(4, 0), "element type 0 before the end"},
      {"unknown type", with(4, 0x20), "does not fit"},
      {"nested length past the end", with(18, 100), "element 'b' of type 3 does not fit"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RawIterator it(c.bytes);
    RawElement e;
    while (it.Next(&e)) {
    }
    ASSERT_FALSE(it.status().ok());
    EXPECT_EQ(it.status().code(), ErrorCode::kInvalidBSON);
    EXPECT_NE(it.status().message().find(c.message), std::string::npos) << it.status().message();
  }
}

// Every truncation and single-byte mutation of a document: the iterator stops cleanly (the
// test runs under the sanitizers in CI builds; here it must simply not crash or loop).
TEST(RawIteratorTest, TruncationsAndMutationsNeverCrash) {
  const std::string good = Encode(EveryType());
  std::mt19937 rng(7);
  for (size_t n = 0; n <= good.size(); ++n) {
    std::string b = good.substr(0, n);
    if (b.size() >= 4) {
      auto len = static_cast<int32_t>(b.size());
      std::memcpy(b.data(), &len, 4);
    }
    RawIterator it(b);
    RawElement e;
    size_t count = 0;
    while (it.Next(&e)) ASSERT_LE(++count, good.size());
  }
  for (int round = 0; round < 2000; ++round) {
    std::string b = good;
    b[4 + rng() % (b.size() - 5)] = static_cast<char>(rng());
    RawIterator it(b);
    RawElement e;
    size_t count = 0;
    while (it.Next(&e)) {
      ASSERT_LE(++count, good.size());
      ASSERT_GE(e.value.data(), b.data());
      ASSERT_LE(e.value.data() + e.value.size(), b.data() + b.size());
    }
  }
}

// The builder writes exactly what the codec writes for the equivalent Document.
TEST(RawBuilderTest, BuildsWhatTheCodecEncodes) {
  Document every = EveryType();
  std::string every_bytes = Encode(every);

  std::string out = "prefix";  // the builder appends
  RawBuilder b(&out);
  b.AppendString("s", "héllo");
  b.AppendString("empty", "");
  b.AppendTimestamp("ts", Timestamp{1700000000, 3});
  b.AppendNull("n");
  size_t d = b.OpenDocument("d");
  b.AppendString("x", "y");
  size_t arr = b.OpenArray("arr");
  b.AppendValue("0", int32_t{1});
  b.AppendValue("1", Value(Document{{"k", int64_t{2}}}));
  b.CloseArray(arr);
  b.CloseDocument(d);
  b.CloseDocument(b.OpenDocument("emptydoc"));
  b.AppendEncoded("every", Type::kDocument, every_bytes);
  RawElement str;
  ASSERT_TRUE(FindRawElement(every_bytes, "string", &str));
  b.AppendElement(str);
  b.AppendElement("renamed", str);
  for (const Field& f : every) b.AppendValue("v_" + f.name, f.value);
  size_t size = b.Finish();

  Document expected{{"s", "héllo"},
                    {"empty", ""},
                    {"ts", Timestamp{1700000000, 3}},
                    {"n", Value()},
                    {"d", Document{{"x", "y"}, {"arr", Array{int32_t{1}, Document{{"k", int64_t{2}}}}}}},
                    {"emptydoc", Document{}},
                    {"every", every},
                    {"string", "héllo"},
                    {"renamed", "héllo"}};
  for (const Field& f : every) expected.Append("v_" + f.name, f.value);
  ASSERT_EQ(out.substr(0, 6), "prefix");
  EXPECT_EQ(size, out.size() - 6);
  EXPECT_EQ(out.substr(6), Encode(expected));
  auto decoded = Decode(out.substr(6));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
}

TEST(RawBuilderTest, UninitializedStringIsFilledByTheCaller) {
  std::string out;
  RawBuilder b(&out);
  char* p = b.AppendStringUninitialized("_data", 4);
  std::memcpy(p, "ABCD", 4);
  b.Finish();
  EXPECT_EQ(out, Encode(Document{{"_data", "ABCD"}}));
}

// A RawDocument is a document to everything that looks at values: encoded verbatim,
// compared, hashed and printed as the document it encodes.
TEST(RawDocumentTest, BehavesAsTheDocumentItEncodes) {
  Document inner{{"_id", int32_t{7}}, {"a", Array{Value("x"), 1.5}}, {"t", Timestamp{1, 2}}};
  auto buffer = std::make_shared<std::string>("junk");
  size_t offset = buffer->size();
  EncodeTo(inner, buffer.get());
  size_t size = buffer->size() - offset;
  buffer->append("more junk");
  Value raw(RawDocument{buffer, offset, size});
  EXPECT_EQ(raw.type(), Type::kDocument);
  EXPECT_TRUE(raw.is_raw_document());
  EXPECT_FALSE(raw.is_document());
  EXPECT_EQ(raw.as_raw_document().bytes(), Encode(inner));

  Document with_raw{{"batch", Array{raw, Value(inner)}}, {"n", int32_t{2}}};
  Document plain{{"batch", Array{Value(inner), Value(inner)}}, {"n", int32_t{2}}};
  EXPECT_EQ(Encode(with_raw), Encode(plain));
  EXPECT_EQ(EncodedSize(with_raw), EncodedSize(plain));
  EXPECT_EQ(Compare(raw, Value(inner)), 0);
  EXPECT_EQ(Compare(Value(inner), raw), 0);
  EXPECT_LT(Compare(raw, Value(Document{{"_id", int32_t{8}}})), 0);
  EXPECT_GT(Compare(Value(Document{{"_id", int32_t{8}}}), raw), 0);
  EXPECT_LT(Compare(raw, Value(Array{})), 0);  // documents sort before arrays
  EXPECT_EQ(Hash(raw), Hash(Value(inner)));
  EXPECT_EQ(ToJson(with_raw, JsonMode::kCanonical), ToJson(plain, JsonMode::kCanonical));
  EXPECT_EQ(ToJson(with_raw, JsonMode::kShell), ToJson(plain, JsonMode::kShell));
  auto decoded = DecodeRaw(raw.as_raw_document());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, inner);
  Value copy = raw;
  EXPECT_TRUE(copy == raw);
  EXPECT_FALSE(copy == Value(inner));  // exact equality: a different representation
}

}  // namespace
}  // namespace eddy::bson
